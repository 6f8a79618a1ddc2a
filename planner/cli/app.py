"""What every ``dcplan`` command shares: the Typer app, the consoles, the error guard
and the stage printer.

Bad input ends with one line on stderr (``error: FILE row R, column C: …``)
and exit code 2; no traceback, no output folder.
"""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Any

import click
import typer
from rich.console import Console

from grids.tables import InputError
from planner.optimize.interrupts import check, deferred, exit_code

app = typer.Typer(
    name="dcplan",
    help="Datacenter power and capacity planning: what to build, where, when, at what cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
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
