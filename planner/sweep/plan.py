"""The plan of a sweep: one parameter set per scenario, each keyed by a hash."""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from grids.tables import InputError
from grids.yamlfile import yaml_line as _yaml_line
from planner.inputs.scenario import Scenario
from planner.sweep.distributions import NUMERIC_DISTS, Linspace
from planner.sweep.grid import GridFile
from planner.sweep.parameters import ParamInfo, describe_parameter
from sites.portfolio import parse_shock


@dataclass
class SweepPlan:
    """Every scenario of a sweep, in order, with its id (a hash) and parameters."""

    parameters: list[ParamInfo]
    ids: list[str]
    params: list[dict[str, Any]]
    samples: list[int]  # sample index per scenario (-1 = a pure grid point)
    seed: int | None
    fingerprint: str

    def __len__(self) -> int:
        return len(self.ids)


def _grid_values(key: str, raw: Any, info: ParamInfo, where: dict[str, Any]) -> list[Any]:
    """The values a grid entry stands for (list / single value / {start, stop, num})."""
    if isinstance(raw, dict):
        try:
            values: list[Any] = Linspace.model_validate(raw).values()
        except ValidationError as exc:
            e = exc.errors()[0]
            raise InputError(f"expected a list of values or {{start, stop, num}}: "
                             f"{'.'.join(map(str, e['loc']))}: {e['msg']}", **where) from None
    elif isinstance(raw, list):
        values = list(raw)
        if info.value == "list" and values and not any(isinstance(v, list) for v in values) \
                and key != "stress.shocks":
            raise InputError(f"{key} takes a list per scenario: write a list of lists, e.g. "
                             "[[2.2, 1.5], [3.0, 2.0]]", **where)
    else:
        values = [raw]
    if not values:
        raise InputError("expected at least one value", **where)
    return [_normal_value(key, v, info, where) for v in values]


def _normal_value(key: str, v: Any, info: ParamInfo, where: dict[str, Any]) -> Any:
    """Shocks as a list of their canonical text (checked now); numbers YAML read as text
    (``2.0e6``: YAML 1.1 wants ``2.0e+6``) as numbers; other values as written."""
    if info.value == "number" and isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v  # the scenario fails with the schema's message
    if key != "stress.shocks":
        return v
    items = [] if v is None else ([v] if isinstance(v, str) else v)
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise InputError("stress.shocks: expected a shock text like 'default:microsoft@2028' "
                         f"or a list of them per scenario, got {v!r}", **where)
    out = []
    for s in items:
        try:
            out.append(parse_shock(s).text())
        except InputError as exc:
            raise InputError(f"stress.shocks: {exc.message}", **where) from None
    return out


def _scenario_id(fingerprint: str, params: dict[str, Any], sample: int) -> str:
    blob = json.dumps({"base": fingerprint, "params": params, "sample": sample},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def make_plan(grid: GridFile, grid_path: Path, base: Scenario, *, samples: int | None = None,
              seed: int = 0, fingerprint: str = "") -> SweepPlan:
    """Check every key against ``base`` and list the scenarios.

    The grid's cartesian product (structural parameters — those that change the LP's
    shape — vary slowest, so a worker's consecutive tasks mostly hot-start); with
    ``samples`` each grid point gets the same ``samples`` Monte Carlo draws. Sample i
    is drawn from ``numpy.random.default_rng([seed, i])``, so it does not depend on how
    many samples are asked for (a larger ``--samples`` extends a finished sweep).

    Raises
    ------
    InputError
        Unknown keys, bad values or distributions, with the grid file's line.
    """
    infos: dict[str, ParamInfo] = {}
    for section, entries in (("grid", grid.grid), ("distributions", grid.distributions)):
        for key in entries:
            where = {"file": grid_path, "key": f"{section}.{key}",
                     "line": _yaml_line(grid_path, (section, key))}
            if key in infos:
                raise InputError("a parameter is either in grid: or in distributions:, "
                                 "not both", **where)
            try:
                infos[key] = describe_parameter(key, base)
            except ValueError as exc:
                raise InputError(str(exc), **where) from None
            if section == "distributions":
                d = entries[key]
                if infos[key].value != "number" and isinstance(d, NUMERIC_DISTS):
                    raise InputError(f"{key} takes {infos[key].value} values: use "
                                     "dist: choice", **where)
    if not infos:
        raise InputError("the grid file names no parameter: give grid: and/or "
                         "distributions:", file=grid_path)
    if grid.distributions and not samples:
        raise InputError("the grid file states distributions: give --samples N",
                         file=grid_path, key="distributions",
                         line=_yaml_line(grid_path, ("distributions",)))
    if samples and not grid.distributions:
        raise InputError("--samples needs distributions: in the grid file", file=grid_path)
    if samples is not None and samples < 1:
        raise InputError(f"--samples must be at least 1, got {samples}")

    grid_keys = sorted(grid.grid, key=lambda k: not infos[k].structural)
    axes = []
    for key in grid_keys:
        where = {"file": grid_path, "key": f"grid.{key}",
                 "line": _yaml_line(grid_path, ("grid", key))}
        axes.append(_grid_values(key, grid.grid[key], infos[key], where))
    dist_keys = list(grid.distributions)
    dist_where = {key: {"file": grid_path, "key": f"distributions.{key}",
                        "line": _yaml_line(grid_path, ("distributions", key))}
                  for key in dist_keys}
    draws: list[dict[str, Any]] = []
    for i in range(samples or 0):
        rng = np.random.default_rng([seed, i])
        draws.append({key: _normal_value(key, grid.distributions[key].draw(rng), infos[key],
                                         dist_where[key]) for key in dist_keys})
    ids: list[str] = []
    params: list[dict[str, Any]] = []
    sample_ix: list[int] = []
    seen: set[str] = set()
    for point in itertools.product(*axes):
        fixed = dict(zip(grid_keys, point))
        for i, draw in (enumerate(draws) if draws else [(-1, {})]):
            p = {**fixed, **draw}
            sid = _scenario_id(fingerprint, p, i)
            if sid in seen:  # the same values twice in a list: solve once
                continue
            seen.add(sid)
            ids.append(sid)
            params.append(p)
            sample_ix.append(i)
    order = grid_keys + dist_keys
    return SweepPlan(parameters=[infos[k] for k in order], ids=ids, params=params,
                     samples=sample_ix, seed=seed if samples else None, fingerprint=fingerprint)
