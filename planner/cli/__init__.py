"""Stage 4 — the ``dcplan`` command line: one module per command group.

``app`` holds what every command shares (the Typer app, consoles, the error guard and
stage printer); ``commands`` defines run/validate/init/… and registers the others.
"""
