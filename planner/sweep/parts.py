"""Writing one scenario's part (its result or its failure record) atomically."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from grids.tables import InputError
from planner.optimize.interrupts import deferred
from planner.outputs.files import json_ready


def write_part(parts: Path, outcome: dict[str, Any], params: dict[str, Any]) -> None:
    """One file per finished scenario, written atomically (temporary file + rename)."""
    with deferred(at_end=False):  # never interrupted inside netCDF's locks
        _write_part_now(parts, outcome, params)


def _write_part_now(parts: Path, outcome: dict[str, Any], params: dict[str, Any]) -> None:
    sid = outcome["id"]
    if outcome["ok"]:
        target = parts / f"{sid}.nc"
        tmp = parts / f".{sid}.{uuid.uuid4().hex[:6]}.tmp"
        try:
            outcome["dataset"].to_netcdf(tmp, engine="netcdf4")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        (parts / f"{sid}.failed.json").unlink(missing_ok=True)
    else:
        record = {"scenario": sid, "error_type": outcome["error_type"],
                  "error": outcome["error"], "parameters": params}
        atomic_text(parts / f"{sid}.failed.json",
                     json.dumps(json_ready(record), indent=2, default=str) + "\n")


def atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_failure(path: Path) -> dict[str, Any]:
    """A failure record (``parts/<id>.failed.json``) as written by :func:`write_part`.

    Raises
    ------
    InputError
        Naming the file when it is not such a record (truncated, edited, not JSON), and
        how to solve that scenario again.
    """
    fix = "delete it, or give --retry-failed, to solve that scenario again"
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = getattr(exc, "msg", None) or getattr(exc, "strerror", None) or type(exc).__name__
        raise InputError(f"not a failure record dcplan wrote ({why}); {fix}",
                         file=path) from None
    if not isinstance(record, dict) or not all(
            isinstance(record.get(k), str) for k in ("error_type", "error")):
        raise InputError("not a failure record dcplan wrote (expected a JSON object with "
                         f"error_type and error texts); {fix}", file=path)
    return record
