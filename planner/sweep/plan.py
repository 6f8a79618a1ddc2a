"""The plan of a sweep: one parameter set per scenario, each keyed by a hash."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
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


#: Default for the most scenarios one sweep may plan (grid points × samples); a sweep's
#: ``--max-scenarios`` raises it. Each scenario is a solve of seconds to minutes, and the
#: plan and the assembled Dataset are held in memory.
MAX_SCENARIOS = 100_000


def plan_size(grid: GridFile, grid_path: Path, samples: int | None = None,
              max_scenarios: int = MAX_SCENARIOS) -> int:
    """How many scenarios the grid file and ``samples`` stand for, counted without
    listing them (at most this many are solved: repeated values are solved once).

    Raises
    ------
    InputError
        When the count passes ``max_scenarios``, with the count, its factors and how to
        raise the limit; or for a malformed ``{start, stop, num}``.
    """
    if max_scenarios < 1:
        raise InputError(f"--max-scenarios must be at least 1, got {max_scenarios}")
    if samples is not None and samples < 1:
        raise InputError(f"--samples must be at least 1, got {samples}")
    factors: list[tuple[str, int]] = []
    for key, raw in grid.grid.items():
        if isinstance(raw, dict):
            try:
                n = Linspace.model_validate(raw).num
            except ValidationError as exc:
                e = exc.errors()[0]
                raise InputError(f"expected a list of values or {{start, stop, num}}: "
                                 f"{'.'.join(map(str, e['loc']))}: {e['msg']}", file=grid_path,
                                 key=f"grid.{key}",
                                 line=_yaml_line(grid_path, ("grid", key))) from None
        else:
            n = len(raw) if isinstance(raw, list) else 1
        factors.append((f"grid.{key}", max(n, 1)))
    if samples:
        factors.append(("--samples", samples))
    total = math.prod(n for _, n in factors)
    if total > max_scenarios:
        shown = " × ".join(f"{n:,} ({what})" for what, n in factors if n > 1)
        raise InputError(f"the sweep stands for {total:,} scenarios ({shown}), more than the "
                         f"limit of {max_scenarios:,}: give fewer values or samples, or raise "
                         "the limit with --max-scenarios N", file=grid_path)
    return total


def _scenario_id(fingerprint: str, params: dict[str, Any], sample: int) -> str:
    blob = json.dumps({"base": fingerprint, "params": params, "sample": sample},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def make_plan(grid: GridFile, grid_path: Path, base: Scenario, *, samples: int | None = None,
              seed: int = 0, fingerprint: str = "", max_scenarios: int = MAX_SCENARIOS
              ) -> SweepPlan:
    """Check every key against ``base`` and list the scenarios.

    The grid's cartesian product (structural parameters — those that change the LP's
    shape — vary slowest, so a worker's consecutive tasks mostly hot-start); with
    ``samples`` each grid point gets the same ``samples`` Monte Carlo draws. Sample i
    is drawn from ``numpy.random.default_rng([seed, i])``, so it does not depend on how
    many samples are asked for (a larger ``--samples`` extends a finished sweep).

    Raises
    ------
    InputError
        Unknown keys, bad values or distributions, with the grid file's line; more than
        ``max_scenarios`` scenarios (:func:`plan_size`), before any is listed.
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
    plan_size(grid, grid_path, samples, max_scenarios)

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
