"""``python -m planner`` and the ``dcplan`` console script."""

import signal
import sys


def entry() -> None:
    """Run the command line; Ctrl-C while the libraries load exits quietly with 130."""
    try:
        from planner.cli.commands import main
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted\n")
        sys.exit(130)
    code = main()
    # The work is done and written: a Ctrl-C while the interpreter shuts down would only
    # turn the exit code into "killed by SIGINT".
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    entry()
