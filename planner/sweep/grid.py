"""The grid file of ``dcplan sweep``: its schema, and reading it with the line of
each error (docs/sweep.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from grids.tables import InputError
from grids.yamlfile import StrictModel, read_yaml_mapping
from grids.yamlfile import yaml_line as _yaml_line
from planner.sweep.distributions import Distribution


class StressOptions(StrictModel):
    portfolio: str | None = Field(
        default=None, description="portfolio YAML for stress.shocks, relative to the grid file "
        "(default: the bundled ai-chains-2026)")


class GridFile(StrictModel):
    """The grid file schema (docs/sweep.md)."""

    description: str | None = Field(default=None, description="free text")
    grid: dict[str, Any] = Field(
        default_factory=dict, description="parameter → list of values (cartesian product), "
        "a single value, or {start, stop, num}")
    distributions: dict[str, Distribution] = Field(
        default_factory=dict, description="parameter → distribution (Monte Carlo, --samples)")
    stress: StressOptions = Field(default_factory=StressOptions)


def read_grid_file(path: str | Path) -> GridFile:
    """Parse and validate the YAML structure (keys are checked by :func:`make_plan`)."""
    path = Path(path)
    raw = read_yaml_mapping(path, "a sweep grid YAML", "grid: and/or distributions:")
    try:
        return GridFile.model_validate(raw)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
        err = errors[0]
        dist_names = {"uniform", "normal", "lognormal", "triangular", "integers", "choice"}
        loc = [str(p) for p in err["loc"] if str(p) not in dist_names]
        kind = err.get("type", "")
        if kind == "extra_forbidden":
            msg = "unknown key (see docs/sweep.md for the grid file format)"
        elif kind == "missing":
            msg = "required key is missing"
        elif kind == "union_tag_not_found":
            msg = "a distribution needs dist: uniform, normal, lognormal, triangular, " \
                  "integers or choice"
        elif kind == "union_tag_invalid":
            msg = f"unknown distribution {err.get('input', {}).get('dist')!r}: expected " \
                  "uniform, normal, lognormal, triangular, integers or choice"
        else:
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            got = err.get("input")
            if got is not None and not isinstance(got, (dict, list)):
                msg += f", got {got!r}"
        raise InputError(msg, file=path, key=".".join(loc) or "(top level)",
                         line=_yaml_line(path, loc)) from None
