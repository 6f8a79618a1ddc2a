"""What every ``dcplan`` command shares: the Typer app, the consoles, the error guard
and the stage printer.

Bad input ends with one line on stderr (``error: FILE row R, column C: …``)
and exit code 2; no traceback, no output folder.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Annotated, Any

import click
import typer
from rich.console import Console

from grids.tables import InputError
from planner.optimize.interrupts import check, deferred, exit_code


def plain_flags(command: Any, ctx: Any) -> Any:
    """Show on/off flags (and ``--help``) without a value type in ``--help``.

    Typer renders every ``bool`` option with a ``<bool>`` type column, as if it took a
    value; a flag takes none. An empty metavar leaves that column blank.
    """
    params = list(command.params)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        params.append(help_option)
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    return command


class DcplanGroup(typer.core.TyperGroup):
    """The ``dcplan`` group: flags rendered as flags in every command's help."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        return None if command is None else plain_flags(command, ctx)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        plain_flags(self, ctx)
        super().format_help(ctx, formatter)


app = typer.Typer(
    name="dcplan",
    cls=DcplanGroup,
    help="Datacenter power and capacity planning: what to build, where, when, at what cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from planner.outputs.results import package_versions

        console.print(f"dcplan {package_versions()['dcplan']}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="print the version and exit")] = False,
) -> None:
    """Datacenter power and capacity planning: what to build, where, when, at what cost."""


# Wide tables stay readable when the output is piped or logged (rich assumes 80 columns).
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def guard() -> Any:
    """Turn expected failures into one-line messages and exit codes.

    Ctrl-C is deferred to safe points (:mod:`planner.optimize.interrupts`); one pressed after
    the command's work is done is ignored.
    """
    from planner.optimize.highs import ConflictError, SolveError

    try:
        with deferred(at_end=False):
            yield
    except InputError as exc:
        fail(str(exc), 2)
    except ConflictError as exc:  # the scenario's own constraints contradict each other
        fail(str(exc), 2)
    except SolveError as exc:
        fail(str(exc), 1)
    except KeyboardInterrupt:
        fail("interrupted; no output was written", exit_code())
    except (OSError, FileExistsError) as exc:
        fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 2)
    except (typer.Exit, typer.Abort, click.exceptions.Exit, click.exceptions.ClickException,
            click.exceptions.Abort):
        raise  # an exit code chosen by the command, or Click's own usage errors
    except Exception as exc:  # a bug: never a traceback that passes for "no optimal plan"
        fail(internal_error(exc), INTERNAL_ERROR)


#: Exit code of an unexpected exception (a bug in dcplan), distinct from bad input (2),
#: no optimal plan or failed scenarios (1) and Ctrl-C (130).
INTERNAL_ERROR = 3


def internal_error(exc: BaseException) -> str:
    """The one line an unexpected exception is reported as."""
    text = " ".join(str(exc).split())[:300]
    return f"internal error: {type(exc).__name__}{': ' + text if text else ''} (please report)"


@contextmanager
def stages(labels: dict[str, str]) -> Any:
    """A rich status line per stage, with elapsed seconds when done."""
    state: dict[str, Any] = {"label": None, "t": 0.0}
    status = console.status("", spinner="dots")
    status.start()

    def step(key: str) -> None:
        now = time.perf_counter()
        if state["label"] is not None:
            console.print(f"  [green]✓[/] {state['label']} ({now - state['t']:.1f} s)")
        check()
        state["label"], state["t"] = labels.get(key, key), now
        status.update(f"{state['label']} …")

    try:
        yield step
        if state["label"] is not None:
            console.print(f"  [green]✓[/] {state['label']} "
                          f"({time.perf_counter() - state['t']:.1f} s)")
    finally:
        status.stop()
