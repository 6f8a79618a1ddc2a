"""Ctrl-C (and SIGTERM) that stops at a safe point, never in the middle of a file write or a lock.

Python raises ``KeyboardInterrupt`` between any two bytecodes. Inside library code
that pairs lock acquisitions (xarray's netCDF locks, HiGHS's solver-thread locks) an
interrupt at the wrong moment leaves a lock held, and the next ``close()`` — often the
one in a ``finally`` on the way out — waits on it forever. A sweep interrupted while it
wrote a part hung exactly like that.

Inside :func:`deferred`, SIGINT only records that it was pressed, and SIGTERM — what
``timeout``, ``kill``, systemd and Slurm send — is handled the same way, so a
terminated run also leaves nothing half-written and no temporary folder behind. Code checks at
points where stopping is safe (:func:`check`: between scenarios, between stages, in
the loop that waits for HiGHS, which cancels the solve first) and leaving the block is
one such point too. A second Ctrl-C while the first is pending stops the process at
once, the way an impatient user expects; outputs are written to temporary names and
renamed, so even that leaves nothing half-written behind.

Only the main thread can own signal handlers: elsewhere (a Dask worker's thread)
:func:`deferred` does nothing and :func:`check` never raises.

Examples
--------
>>> with deferred():
...     check()          # nothing pressed: returns
>>> requested()
False
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_state: dict[str, Any] = {"depth": 0, "presses": 0, "pending": False, "signum": 0}

#: The signals :func:`deferred` turns into a stop at the next safe point.
SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _on_signal(signum: int, _frame: Any) -> None:
    _state["presses"] += 1
    _state["signum"] = signum
    if _state["presses"] > 1:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    _state["pending"] = True
    again = "Ctrl-C" if signum == signal.SIGINT else "send it"
    what = "interrupt" if signum == signal.SIGINT else "terminate"
    try:
        sys.stderr.write(f"\n{what}: stopping at the next safe point "
                         f"({again} again to stop at once)\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def exit_code() -> int:
    """The shell's exit code for the last stop: 128 + the signal (130 Ctrl-C, 143 SIGTERM).

    Examples
    --------
    >>> exit_code()
    130
    """
    return 128 + int(_state["signum"] or signal.SIGINT)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def requested() -> bool:
    """Whether Ctrl-C was pressed and not yet acted on."""
    return bool(_state["pending"])


def check() -> None:
    """Raise ``KeyboardInterrupt`` here if Ctrl-C was pressed; call it where stopping is safe."""
    if _state["pending"]:
        _state["pending"] = False
        raise KeyboardInterrupt


@contextmanager
def deferred(at_end: bool = True) -> Iterator[None]:
    """Within the block, Ctrl-C takes effect only at :func:`check` and at the block's end.

    SIGTERM is handled like Ctrl-C. Blocks nest; the outermost one installs and
    restores the SIGINT and SIGTERM handlers.
    ``at_end=False``: leaving the block is not a stopping point (a press in the
    block's last moments, after its work is done, is then dropped by the outermost
    block and left to the next :func:`check` by an inner one).
    """
    if not _main_thread():
        yield
        return
    outermost = _state["depth"] == 0
    previous: dict[int, Any] = {}
    if outermost:
        try:
            for signum in SIGNALS:
                previous[signum] = signal.signal(signum, _on_signal)
        except ValueError:  # not the main interpreter's main thread
            yield
            return
        _state["presses"], _state["pending"], _state["signum"] = 0, False, 0
    _state["depth"] += 1
    try:
        yield
    finally:
        _state["depth"] -= 1
        pressed = _state["pending"]
        if outermost:
            for signum, before in previous.items():
                if before is None:
                    before = (signal.default_int_handler if signum == signal.SIGINT
                              else signal.SIG_DFL)
                signal.signal(signum, before)
            _state["presses"], _state["pending"] = 0, False
    if pressed and at_end:
        _state["pending"] = False
        raise KeyboardInterrupt


@contextmanager
def ignored_by_new_processes() -> Iterator[None]:
    """Processes started in the block ignore Ctrl-C; this one still acts on it.

    A terminal sends Ctrl-C to the whole process group: Dask's worker processes
    would each die with a ``KeyboardInterrupt`` traceback while this process shuts
    them down in order. An ignored SIGINT is inherited by a child process (a Python
    handler is not), so for the block SIGINT is ignored here too and a press in
    those seconds is lost — the price of quiet workers (oq-engine made the same
    trade for its pool).
    """
    if not _main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT,
                      previous if previous is not None else signal.default_int_handler)
