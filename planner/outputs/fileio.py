"""Small file helpers shared by every writer: replace a file atomically, hash a file."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from grids.tables import InputError


@contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the same folder that replaces ``path`` on success.

    A failure to create or rename is an :class:`InputError` naming ``path`` (never
    the temporary name).
    """
    path = Path(path)
    if path.is_dir():
        raise InputError("is a folder (expected a file name to write)", file=path)
    tmp = path.with_name(f".{path.stem[:100]}.tmp-{uuid.uuid4().hex[:8]}{path.suffix[:20]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise InputError(f"cannot write the file: {exc.strerror or exc}", file=path) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
