"""A ``highspy.Highs`` that prints nothing unless asked to.

highspy 1.16 writes its banner (``Running HiGHS 1.16.0 … Copyright …``) to the
process's standard output while the object is constructed — before any option,
``output_flag`` included, can be set (HiGHS issues #1702, #2749). In a CLI whose
output is a table, or a JSON on stdout, that line is noise. :func:`quiet_highs`
constructs the object with file descriptor 1 pointed at ``/dev/null`` (the
banner is written by C++, below Python's ``sys.stdout``), flushes the C stdio
buffers before the descriptor is restored (so a buffered banner cannot leak out
later through a pipe), then sets ``output_flag``.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

import highspy

_LOCK = threading.Lock()
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None)  # the C library already loaded (POSIX)
except OSError:  # pragma: no cover - e.g. Windows: no flush of C buffers needed there
    _LIBC = None


def quiet_highs(output: bool = False) -> highspy.Highs:
    """A new ``highspy.Highs`` with ``output_flag`` = ``output`` and no banner.

    Examples
    --------
    >>> isinstance(quiet_highs(), highspy.Highs)  # and nothing was printed
    True
    """
    if output:
        h = highspy.Highs()
        h.setOptionValue("output_flag", True)
        return h
    with _LOCK:
        sys.stdout.flush()
        try:
            saved = os.dup(1)
        except OSError:  # no standard output at all: nothing to protect
            h = highspy.Highs()
        else:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 1)
                h = highspy.Highs()
                if _LIBC is not None:
                    _LIBC.fflush(None)
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(devnull)
    h.setOptionValue("output_flag", False)
    return h
