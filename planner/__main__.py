"""``python -m planner`` runs the ``dcplan`` command line."""

from planner.cli import entry

if __name__ == "__main__":
    entry()
