"""Folder renames that cannot leave a gap: swap two folders, or rename without replacing.

Linux has ``renameat2(2)`` with ``RENAME_EXCHANGE`` (swap two paths in one step) and
``RENAME_NOREPLACE`` (fail rather than replace); glibc 2.28+ exports it and Python
reaches it through :mod:`ctypes`. Where it is missing (another OS, an old C library,
a file system that refuses the flag) :func:`exchange` returns ``False`` and the caller
falls back to two plain renames it can recover from (:mod:`planner.outputs.outdir`).

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> (d / "a").mkdir(); (d / "b").mkdir(); _ = (d / "a" / "x").write_text("")
>>> exchange(d / "a", d / "b") in (True, False)
True
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
from pathlib import Path

AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
#: errno values meaning "this system or file system cannot do it": fall back.
UNSUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


@functools.cache
def _renameat2() -> object | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                   ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def _call(src: Path, dst: Path, flags: int) -> bool:
    """``renameat2(src, dst, flags)``: True when done, False when unsupported here."""
    fn = _renameat2()
    if fn is None:
        return False
    if fn(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) == 0:  # type: ignore[operator]
        return True
    err = ctypes.get_errno()
    if err in UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(dst))


def exchange(a: str | Path, b: str | Path) -> bool:
    """Swap the two existing paths ``a`` and ``b`` in one step.

    Returns
    -------
    ``True`` when swapped; ``False`` when this system cannot (nothing was changed).

    Raises
    ------
    OSError
        A real failure (a path missing, permission denied).
    """
    return _call(Path(a), Path(b), RENAME_EXCHANGE)


def rename_new(src: str | Path, dst: str | Path) -> None:
    """Rename ``src`` to ``dst``, which must not exist (``FileExistsError`` if it does).

    With ``RENAME_NOREPLACE`` the check and the rename are one step; elsewhere a
    check, then :func:`os.rename` (which may replace only an empty folder).
    """
    if _call(Path(src), Path(dst), RENAME_NOREPLACE):
        return
    if os.path.lexists(dst):
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst))
    os.rename(src, dst)
