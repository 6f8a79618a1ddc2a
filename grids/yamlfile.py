"""Where a key sits in a YAML file, for error messages that name its line."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


def yaml_line(path: Path, loc: Sequence[str | int]) -> int | None:
    """1-based line of the YAML node at ``loc`` (mapping keys and list indices).

    Returns the line of the deepest part of ``loc`` that exists, or ``None``
    when the file cannot be parsed.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "s.yaml"
    >>> _ = p.write_text("a: 1\\nb:\\n  c: [1, 2]\\n")
    >>> yaml_line(p, ("b", "c")), yaml_line(p, ("b", "missing"))
    (3, 2)
    """
    try:
        node = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except Exception:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if str(k.value) == str(part):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif (isinstance(node, yaml.SequenceNode) and str(part).isdigit()
              and int(part) < len(node.value)):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def read_yaml_mapping(path: Path, what: str, top: str) -> dict:
    """Safe-load a YAML file whose top level must be a mapping.

    ``what`` names the file in errors ("a scenario YAML"), ``top`` what the
    mapping holds ("scenario keys"). Every failure is an ``InputError`` with
    the file and, for syntax errors, the line.
    """
    from grids.tables import InputError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"file not found (expected {what})", file=path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise InputError(f"invalid YAML: {problem}", file=path,
                         line=(mark.line + 1) if mark else None) from None
    if not isinstance(raw, dict):
        raise InputError(f"expected a mapping of {top} at the top level", file=path)
    return raw


class StrictModel(BaseModel):
    """Base of every YAML schema: unknown keys are errors; values are frozen; every number
    is finite (``.nan`` and ``.inf`` are errors naming the key, not NaN in the LP)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class YearSpan(StrictModel):
    """``{start, end}``: the first and last year simulated, end ≥ start."""

    start: int = Field(ge=1900, le=2300, description="first year (y0)")
    end: int = Field(ge=1900, le=2300, description="last year (yN)")

    @model_validator(mode="after")
    def _order(self) -> YearSpan:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) must be >= start ({self.start})")
        return self
