r"""Scenario sweeps and Monte Carlo on Dask: ``dcplan sweep``.

The flow::

    scenario + grid file ─→ plan: one parameter set per scenario, each keyed by a hash
                             (base scenario, its tables and the parameters)
                          ─→ Dask (LocalCluster or --scheduler): per worker process one
                             PersistentSolver; each task applies its parameters, solves
                             (in place + hot start when only numbers changed), optionally
                             runs planner.stress, and returns a compact Dataset
                          ─→ DIR/parts/<id>.nc (or <id>.failed.json) as results arrive
                          ─→ DIR/sweep.nc: every part stacked on a ``scenario`` dimension,
                             parameters as coordinates; plan.csv, failures.csv,
                             summary.json, fan.png, tornado.png

A rerun with the same scenario, grid and options finds its parts and computes only what
is missing (resume). The grid file format, every parameter and the outputs are documented
in ``docs/sweep.md``.

Parameters (keys of the grid file) are

* dotted paths into the scenario file: ``discount_rate``, ``years.end``,
  ``demand.growth``, ``demand.preset``, ``efficiency.frontier_growth``,
  ``onsite.capex_usd_per_mw``, … (every key except ``name``, ``description``, the table
  paths and ``demand.path``);
* table cells: ``regions.<REGION>.<column>`` and ``sites.<SITE>.<column>`` (``*`` = every
  region or site), any numeric or boolean column of those tables;
* derived: ``lead_time_multiplier``, ``energy_price_multiplier``,
  ``capacity_price_multiplier``, ``price_escalation_shift_per_year`` (all regions, or one
  with ``regions.<REGION>.<name>``), ``demand_multiplier`` and ``stress.shocks``.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import hashlib
import itertools
import json
import logging
import math
import numbers
import os
import shutil
import threading
import time
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import BaseModel, Field, ValidationError, model_validator

from grids.regions import REGIONS
from grids.tables import Column, InputError
from grids.yamlfile import StrictModel, read_yaml_mapping
from grids.yamlfile import yaml_line as _yaml_line
from models.capacity import resolve_prices
from models.chips import with_frontier
from models.demand import growth_path, load_demand_path, preset_path
from planner.interrupts import check, deferred
from planner.output import _clean, atomic_folder, file_sha256, input_hashes
from planner.persistent import PersistentSolver
from planner.results import Result, package_versions
from planner.scenario import Scenario, ScenarioFile, load_scenario
from sites.portfolio import Portfolio, parse_shock
from sites.sites import SITES

#: Bumped when the compact per-scenario result changes (old parts are then not reused).
PART_FORMAT = "dcplan-sweep-1"
PERCENTILES = (5, 25, 50, 75, 95)

# ==========================================================================
# The grid file
# ==========================================================================


class Uniform(StrictModel):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be > low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


class Normal(StrictModel):
    """Normal(mean, sd), clipped to [low, high] when given."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    def draw(self, rng: np.random.Generator) -> float:
        return _clip(float(rng.normal(self.mean, self.sd)), self.low, self.high)


class LogNormal(StrictModel):
    """median · exp(sigma · z), z standard normal; clipped to [low, high] when given."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    def draw(self, rng: np.random.Generator) -> float:
        return _clip(float(self.median * math.exp(self.sigma * rng.normal())), self.low,
                     self.high)


class Triangular(StrictModel):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))


class Integers(StrictModel):
    """Whole numbers low … high, both included, equally likely."""

    dist: Literal["integers"]
    low: int
    high: int

    @model_validator(mode="after")
    def _order(self) -> Integers:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))


class Choice(StrictModel):
    """One of ``values`` (any YAML value, e.g. a preset name or a list of shocks)."""

    dist: Literal["choice"]
    values: list[Any] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        w = self.weights
        if w is not None and (len(w) != len(self.values) or min(w) < 0 or sum(w) <= 0):
            raise ValueError("weights: one weight >= 0 per value, not all 0")
        return self

    def draw(self, rng: np.random.Generator) -> Any:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return self.values[int(rng.choice(len(self.values), p=p))]


Distribution = Annotated[Uniform | Normal | LogNormal | Triangular | Integers | Choice,
                         Field(discriminator="dist")]
NUMERIC_DISTS = (Uniform, Normal, LogNormal, Triangular, Integers)


def _clip(v: float, low: float | None, high: float | None) -> float:
    if low is not None:
        v = max(v, low)
    if high is not None:
        v = min(v, high)
    return v


class Linspace(StrictModel):
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included)."""

    start: float
    stop: float
    num: int = Field(ge=2, le=10_000)

    def values(self) -> list[float]:
        return [float(v) for v in np.linspace(self.start, self.stop, self.num)]


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


# ==========================================================================
# Parameters: what a key means, its unit, its kind
# ==========================================================================

#: Scenario-file keys that cannot be swept (names, free text, table paths).
NOT_SWEPT = {"name", "description", "regions", "geometry", "prices", "sites", "chips",
             "fleet", "demand.path"}
#: Derived parameters that apply to every region, or to one as regions.<R>.<name>.
REGION_DERIVED: dict[str, tuple[str, str]] = {
    "lead_time_multiplier": (
        "1", "× interconnect_lead_years, rounded half up to whole years (0–50)"),
    "energy_price_multiplier": (
        "1", "× energy prices: the regions table, site overrides (PPAs) and the prices table"),
    "capacity_price_multiplier": (
        "1", "× capacity prices: the regions table and the prices table"),
    "price_escalation_shift_per_year": (
        "1/year", "added to price_escalation_per_year"),
}
#: Derived parameters of the whole scenario.
DERIVED: dict[str, tuple[str, str]] = {
    **REGION_DERIVED,
    "demand_multiplier": ("1", "× compute demand in every year (after the demand path)"),
    "stress.shocks": ("-", "shocks KIND:MAGNITUDE@YEAR for planner.stress on the solved "
                           "scenario; [] = no stress run"),
}
#: Parameters whose change alters the LP's shape: the plan varies them slowest.
STRUCTURAL = ("years.", "onsite.lead_years", "onsite.life_years", "demand.elasticity",
              "demand.blocks", "lead_time_multiplier", "interconnect_lead_years",
              "new_load_limit_mw_per_year", "onsite_allowed")

_UNIT_SUFFIXES = (
    ("_usd_per_h100e_year", "USD/(H100e·year)"), ("_usd_per_mw_year", "USD/(MW·year)"),
    ("_usd_per_mwh", "USD/MWh"), ("_usd_per_mw", "USD/MW"), ("_usd_per_t", "USD/t"),
    ("_usd_per_year", "USD/year"), ("_t_per_mwh", "t/MWh"), ("_t_per_year", "t/year"),
    ("_m3_per_mwh", "m3/MWh"), ("_m3_per_year", "m3/year"), ("_per_year", "1/year"),
    ("_years", "years"), ("_h100e", "H100e"), ("_mw", "MW"),
)
_SPEC_UNITS = {"years.start": "year", "years.end": "year", "discount_rate": "1/year",
               "demand.preset": "-", "efficiency.frontier_growth": "1 (multiplier per year)"}


@dataclass(frozen=True)
class ParamInfo:
    """What a grid key means.

    ``kind`` is ``"spec"``, ``"table"`` (``table``, ``target``, ``column`` set) or
    ``"derived"`` (``name`` and, per region, ``target``); ``value`` is ``"number"``,
    ``"bool"``, ``"str"`` or ``"list"``.
    """

    key: str
    kind: str
    value: str
    units: str
    table: str = ""
    target: str = ""
    column: str = ""
    name: str = ""

    @property
    def structural(self) -> bool:
        return any(s in self.key for s in STRUCTURAL)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model of a ``Model`` or ``Model | None`` field, else ``None``."""
    for a in (annotation, *typing.get_args(annotation)):
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
    return None


def _value_kind(annotation: Any) -> str:
    """number / bool / str / list / other (mappings) for a pydantic field annotation."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is \
        typing.Union
    base = args[0] if union and args else annotation
    origin = typing.get_origin(base)
    if origin is list:
        return "list"
    if origin is dict:
        return "other"
    return {bool: "bool", str: "str"}.get(base, "number")


@functools.cache
def spec_parameters() -> dict[str, ParamInfo]:
    """Every sweepable scenario-file key (dotted) with its unit and value kind."""
    out: dict[str, ParamInfo] = {}

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, f in model.model_fields.items():
            key = prefix + name
            ann = f.annotation
            sub = _model_of(ann)
            if sub is not None:
                walk(sub, key + ".")
                continue
            if key in NOT_SWEPT:
                continue
            units = _SPEC_UNITS.get(key) or next(
                (u for s, u in _UNIT_SUFFIXES if name.endswith(s)), "1")
            kind = _value_kind(ann)
            if kind in ("str", "other") or (kind == "list" and key != "demand.growth"):
                units = "-"
            out[key] = ParamInfo(key, "spec", kind, units)

    walk(ScenarioFile, "")
    return out


def _table_columns(table: str) -> dict[str, Column]:
    schema = REGIONS if table == "regions" else SITES
    return {c.name: c for c in schema.columns if c.kind in ("float", "int", "bool")
            and c.name not in ("lon", "lat")}


def describe_parameter(key: str, base: Scenario) -> ParamInfo:
    """Resolve a grid key against ``base``; :class:`ValueError` with a hint if unknown."""
    spec = spec_parameters()
    if key in spec:
        return spec[key]
    if key in DERIVED:
        units, _ = DERIVED[key]
        return ParamInfo(key, "derived", "list" if key == "stress.shocks" else "number", units,
                         name=key)
    parts = key.split(".")
    if parts[0] in ("regions", "sites") and len(parts) >= 3:
        table, target, column = parts[0], ".".join(parts[1:-1]), parts[-1]
        ids = list(base.regions.index if table == "regions" else base.sites.index)
        if target != "*" and target not in ids:
            close = difflib.get_close_matches(target, [str(i) for i in ids], n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown {table[:-1]} '{target}'{hint}; use one of the "
                             f"scenario's {table} or '*' for all")
        if table == "regions" and column in REGION_DERIVED:
            return ParamInfo(key, "derived", "number", REGION_DERIVED[column][0],
                             target=target, name=column)
        cols = _table_columns(table)
        if column not in cols:
            names = sorted(cols) + (sorted(REGION_DERIVED) if table == "regions" else [])
            close = difflib.get_close_matches(column, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ValueError(f"unknown {table} column '{column}'{hint}; sweepable: "
                             + ", ".join(names))
        c = cols[column]
        return ParamInfo(key, "table", "bool" if c.kind == "bool" else "number", c.unit,
                         table=table, target=target, column=column)
    known = [*spec, *DERIVED, "regions.<REGION>.<column>", "sites.<SITE>.<column>"]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise ValueError(f"unknown parameter{hint}; see docs/sweep.md for every parameter")


# ==========================================================================
# Reading the grid file
# ==========================================================================


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


# ==========================================================================
# The plan: one parameter set per scenario
# ==========================================================================


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


# ==========================================================================
# Applying parameters to a scenario
# ==========================================================================


def apply_params(base: Scenario, params: dict[str, Any]) -> Scenario:
    """A copy of ``base`` with the sweep parameters applied (nothing is read from disk).

    Order: scenario-file keys (validated together, like a scenario file), table cells,
    then derived multipliers and shifts. Setting ``demand.preset`` clears the base's
    ``base_h100e``/``growth``/``path``; setting ``demand.base_h100e`` or ``demand.growth``
    clears its ``preset``/``path``.

    Raises
    ------
    InputError
        A value the scenario schema or a table's column rejects (the scenario fails; the
        rest of a sweep goes on).
    """
    infos = {k: describe_parameter(k, base) for k in params}
    sc = _apply_spec(base, {k: v for k, v in params.items() if infos[k].kind == "spec"})
    regions, sites, prices = sc.regions, sc.sites, sc.prices
    for key, value in params.items():
        info = infos[key]
        if info.kind == "table":
            col = _table_columns(info.table)[info.column]
            value = _check_cell(key, col, value)
            if info.table == "regions":
                regions = regions.copy()
                rows = regions.index if info.target == "*" else [info.target]
                regions.loc[rows, info.column] = value
            else:
                sites = sites.copy()
                rows = sites.index if info.target == "*" else [info.target]
                sites.loc[rows, info.column] = value
    demand = sc.demand_h100e
    for key, value in params.items():
        info = infos[key]
        if info.kind != "derived" or key == "stress.shocks":
            continue
        v = _number(key, value)
        if info.name == "demand_multiplier":
            if v < 0:
                raise InputError(f"{key} must be >= 0, got {v!r}")
            demand = demand * v
            continue
        in_r = (regions.index if not info.target or info.target == "*" else [info.target])
        regions = regions.copy()
        if info.name == "lead_time_multiplier":
            if v < 0:
                raise InputError(f"{key} must be >= 0, got {v!r}")
            lead = regions.loc[in_r, "interconnect_lead_years"].to_numpy(dtype=float) * v
            regions.loc[in_r, "interconnect_lead_years"] = np.clip(
                np.floor(lead + 0.5), 0, 50).astype(int)
        elif info.name == "price_escalation_shift_per_year":
            esc = regions.loc[in_r, "price_escalation_per_year"] + v
            _check_cell(key, REGIONS.column("price_escalation_per_year"), esc.min())
            _check_cell(key, REGIONS.column("price_escalation_per_year"), esc.max())
            regions.loc[in_r, "price_escalation_per_year"] = esc
        else:
            if v < 0:
                raise InputError(f"{key} must be >= 0, got {v!r}")
            energy = info.name == "energy_price_multiplier"
            col = "energy_price_usd_per_mwh" if energy else "capacity_price_usd_per_mw_year"
            regions.loc[in_r, col] = regions.loc[in_r, col] * v
            if energy:
                sites = sites.copy()
                mask = sites["region"].isin(list(in_r))
                sites.loc[mask, col] = sites.loc[mask, col] * v
            if prices is not None and len(prices):
                prices = prices.copy()
                mask = prices["region"].isin(list(in_r))
                prices.loc[mask, col] = prices.loc[mask, col] * v
    return dataclasses.replace(sc, regions=regions, sites=sites, prices=prices,
                               demand_h100e=demand)


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{key}: expected a number, got {value!r}")
    return float(value)


def _check_cell(key: str, col: Column, value: Any) -> Any:
    """A table value checked like the table loader checks it."""
    if col.kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"{key}: expected true or false, got {value!r}")
        return value
    if value is None and not col.required:
        return np.nan
    v = _number(key, value)
    if col.kind == "int":
        if v != int(v):
            raise InputError(f"{key}: expected a whole number, got {value!r}")
        v = int(v)
    if col.minimum is not None and v < col.minimum:
        raise InputError(f"{key}: expected >= {col.minimum:g}, got {value!r}")
    if col.maximum is not None and v > col.maximum:
        raise InputError(f"{key}: expected <= {col.maximum:g}, got {value!r}")
    return v


def _apply_spec(base: Scenario, items: dict[str, Any]) -> Scenario:
    """Scenario-file keys: validate the changed spec, re-derive years, chips and demand."""
    if not items:
        return base
    raw = base.spec.model_dump()
    for key, value in items.items():
        *head, last = key.split(".")
        node = raw
        for part in head:
            if node.get(part) is None:  # an optional section the base leaves out
                node[part] = {}
            node = node[part]
        node[last] = value
        if key == "demand.preset" and value is not None:
            raw["demand"].update(base_h100e=None, growth=None, path=None)
        if key in ("demand.base_h100e", "demand.growth"):
            raw["demand"].update(preset=None, path=None)
    try:
        spec = ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        got = err.get("input")
        if got is not None and not isinstance(got, (dict, list)):
            msg += f", got {got!r}"
        raise InputError(f"{loc or 'scenario'}: {msg}") from None
    years = list(range(spec.years.start, spec.years.end + 1))
    same_years = years == base.years
    chips = base.chips
    if not same_years or spec.efficiency != base.spec.efficiency:
        announced = base.chips[~base.chips["synthetic"].astype(bool)]
        on_sale = (announced["last_year"] >= years[0]) & (announced["first_year"] <= years[-1])
        if spec.efficiency.frontier_growth is None and not on_sale.any():
            raise InputError(f"no chip can be bought in {years[0]}–{years[-1]} and "
                             "efficiency.frontier_growth is null")
        chips = with_frontier(announced, spec.efficiency.frontier_growth, years[-1])
    d = spec.demand
    if same_years and d == base.spec.demand:
        demand = base.demand_h100e  # nothing to re-derive (no file read on a worker)
    elif d.path is not None:
        folder = base.path.parent if base.path is not None else Path(".")
        demand = load_demand_path((folder / d.path).resolve(), years)
    elif d.preset is not None:
        demand = preset_path(d.preset, years)
    else:
        demand = growth_path(float(d.base_h100e), d.growth, years)
    return dataclasses.replace(base, spec=spec, chips=chips, demand_h100e=demand)


# ==========================================================================
# One scenario (runs on a Dask worker)
# ==========================================================================


@dataclass
class SweepBase:
    """What every task needs, sent once to each worker."""

    scenario: Scenario
    portfolio: Portfolio | None
    fingerprint: str


_LOCAL = threading.local()


def worker_solver() -> PersistentSolver:
    """This thread's :class:`PersistentSolver`: one per Dask worker process (one per thread
    when a worker runs several threads, so tasks never share a HiGHS model).

    Inside a Dask worker HiGHS runs on one thread (a worker per core).
    """
    solver = getattr(_LOCAL, "solver", None)
    if solver is None:
        threads = None
        try:
            from distributed import get_worker

            get_worker()
            threads = 1
        except (ImportError, ValueError):
            pass
        solver = _LOCAL.solver = PersistentSolver(threads=threads)
    return solver


def run_scenario(base: SweepBase, sid: str, params: dict[str, Any],
                 solver: PersistentSolver | None = None) -> dict[str, Any]:
    """Apply, solve, compact; never raises (a failure is returned with its reason).

    Returns
    -------
    dict with ``id``, ``ok``, ``seconds`` and either ``dataset`` (the compact result, see
    :func:`compact`) or ``error`` and ``error_type``.
    """
    t0 = time.perf_counter()
    solver = solver or worker_solver()
    try:
        sc = apply_params(base.scenario, {k: v for k, v in params.items()
                                          if k != "stress.shocks"})
        result = solver.solve(sc)
        ds = compact(result)
        shocks = params.get("stress.shocks") or []
        if shocks:
            ds = ds.merge(_stress_metrics(sc, result, base.portfolio, shocks, solver))
        ds.attrs.update({"scenario_id": sid, "parameters": json.dumps(params, default=str),
                         "part_format": PART_FORMAT})
        return {"id": sid, "ok": True, "dataset": ds, "seconds": time.perf_counter() - t0}
    except Exception as exc:  # reported per scenario; the sweep goes on
        return {"id": sid, "ok": False, "error": _one_line(exc),
                "error_type": type(exc).__name__, "seconds": time.perf_counter() - t0}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:500]


def _yv(values: Any, units: str, long: str) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=float), dims=("year",),
                        attrs={"units": units, "long_name": long})


def compact(result: Result) -> xr.Dataset:
    """Per-year and per-region totals of a solved scenario (a few kB, not the Dataset).

    Variables: cost by component and year (PV), capacity, load, build by region and year,
    demand/served/unserved, energy, compute price, the gap columns, objective and solve
    statistics; every variable has ``units``.
    """
    full = result.to_xarray()
    gap = result.gap().set_index("year")
    years = full.year.values
    region = full["site_region"]
    by_region = {
        "region_facility_mw": (full["facility_mw"], "facility capacity in service"),
        "region_grid_capacity_mw": (full["grid_capacity_mw"], "grid connections energized"),
        "region_onsite_capacity_mw": (full["onsite_capacity_mw"],
                                      "on-site generation in service"),
    }
    data: dict[str, xr.DataArray] = {}
    for name, (da, long) in by_region.items():
        data[name] = da.groupby(region).sum().rename(site_region="region").reindex(
            region=full.region.values).fillna(0.0).transpose("region", "year")
        data[name].attrs = {"units": "MW", "long_name": long}
    for name in ("region_load_mw", "region_build_mw", "region_grid_mw", "region_onsite_mw",
                 "region_energy_twh"):
        data[name] = full[name]
    cost = full["cost_usd"]
    data["cost_usd"] = cost
    data["cost_usd_per_year"] = _yv(cost.sum("component").values, "USD",
                                    "present value of the year's costs (all components)")
    for name in ("facility_mw", "grid_capacity_mw", "onsite_capacity_mw", "load_mw",
                 "build_mw"):
        src = full[name]
        data[name] = _yv(src.sum("site").values, "MW", f"{src.attrs['long_name']}, all sites")
    for name in ("demand_h100e", "served_h100e", "unserved_h100e", "energy_twh",
                 "compute_price_usd_per_h100e_year"):
        data[name] = full[name]
    gap_units = {"frontier_h100e_per_mw": "H100e/MW", "fleet_h100e_per_mw": "H100e/MW",
                 "demand_growth": "1", "efficiency_growth": "1", "net_power_growth": "1",
                 "fleet_pue": "1", "power_needed_mw": "MW", "power_energized_mw": "MW",
                 "gap_mw": "MW", "gap_pct": "%"}
    for name, units in gap_units.items():
        data[name] = _yv(gap.loc[years, name].to_numpy(dtype=float), units,
                         f"gap report column {name} (planner.gap)")
    lp = result.lp
    scalars = {
        "objective_usd": (result.objective_usd, "USD", "present value of all costs"),
        "build_seconds": (result.build_seconds, "s", "LP build time"),
        "handoff_seconds": (lp.handoff_seconds, "s", "diff and update, or pass to HiGHS"),
        "solve_seconds": (lp.solve_seconds, "s", "HiGHS run time"),
        "simplex_iterations": (lp.info.get("simplex_iterations", 0), "1",
                               "simplex iterations"),
        "hot_start": (1.0 if lp.info.get("persistent_mode") == "update" else 0.0, "1",
                      "1 = model updated in place and hot-started, 0 = built and solved cold"),
    }
    for name, (v, units, long) in scalars.items():
        data[name] = xr.DataArray(float(v), attrs={"units": units, "long_name": long})
    ds = xr.Dataset(data)
    ds = ds.drop_vars([c for c in ds.coords if c not in ("year", "region", "component")])
    return ds


def _stress_metrics(sc: Scenario, result: Result, portfolio: Portfolio | None,
                    shock_texts: list[str], solver: PersistentSolver) -> xr.Dataset:
    """planner.stress on the solved scenario: defaults, DSCR and revenue at risk."""
    from planner.stress import ShockPlan, simulate
    from sites.portfolio import check_shock_targets, load_portfolio

    pf = portfolio or load_portfolio(None, sc.regions, sc.geometry)
    shocks = [parse_shock(s) for s in shock_texts]
    check_shock_targets(shocks, pf.operators, pf.customers, pf.spec.years)
    if any(y not in sc.years for y in pf.years):
        raise InputError(f"portfolio years {pf.years[0]}–{pf.years[-1]} are not all inside "
                         f"the scenario years {sc.years[0]}–{sc.years[-1]}")
    all_shocks = list(pf.spec.shocks) + shocks
    mult = ShockPlan(all_shocks).demand_multiplier(sc.years)
    solved = result
    if mult is not None and not np.allclose(mult.to_numpy(), 1.0):
        solved = solver.solve(dataclasses.replace(sc, demand_h100e=sc.demand_h100e * mult))
    market = _market(sc, pf, solved)
    sr = simulate(pf, all_shocks, market)
    m = sr.metrics
    years = sc.years
    in_default = m["in_default"].sum("operator").reindex(year=years)
    at_risk = m["revenue_at_risk_usd_per_year"].sum("operator").reindex(year=years)
    dscr = m["dscr"]
    ops = m.operator.values
    return xr.Dataset({
        "stress_operators_in_default": _yv(in_default.values, "1",
                                           "operators in default (planner.stress)"),
        "stress_revenue_at_risk_usd_per_year": _yv(at_risk.values, "USD/year",
                                                   "revenue at risk, all operators"),
        "stress_default_year": xr.DataArray(
            m["default_year"].values.astype(float), dims=("operator",),
            coords={"operator": ops}, attrs={"units": "year", "long_name":
                                             "default year (NaN = no default)"}),
        "stress_min_dscr": xr.DataArray(
            dscr.min("year", skipna=True).values.astype(float), dims=("operator",),
            coords={"operator": ops}, attrs={"units": "1", "long_name": "lowest DSCR"}),
    }, coords={"year": years})


def _market(sc: Scenario, pf: Portfolio, result: Result) -> Any:
    """:func:`planner.stress.market_from_scenario` from an already solved result."""
    from planner.stress import Market, regional_capacity_value

    ds = result.to_xarray()
    spec = sc.spec
    value = regional_capacity_value(ds, spec.discount_rate, spec.facility_life_years)
    price = ds["compute_price_usd_per_h100e_year"].to_series()
    price.index = [int(y) for y in price.index]
    years = sc.years
    sites = pf.sites
    pseudo = pd.DataFrame({"region": list(sc.regions.index), "energy_price_usd_per_mwh": np.nan},
                          index=[f"__region__{r}" for r in sc.regions.index])
    table = pd.concat([sites[["region", "energy_price_usd_per_mwh"]].astype(
        {"energy_price_usd_per_mwh": float}), pseudo]) if len(sites) else pseudo
    energy, _cap = resolve_prices(sc.regions, table, years, sc.prices)
    national = energy.loc[pseudo.index].mean()
    national.index = [int(y) for y in national.index]
    site_energy = energy.loc[list(sites.index)] if len(sites) else energy.iloc[:0]
    return Market(scenario=sc.name, utilization=float(spec.utilization),
                  capacity_value_usd_per_mw_year=value, compute_price_usd_per_h100e_year=price,
                  energy_price_usd_per_mwh=site_energy,
                  national_energy_price_usd_per_mwh=national)


# ==========================================================================
# Running a sweep (client side)
# ==========================================================================


@dataclass
class PreparedSweep:
    """A validated sweep: base scenario, plan and output folder."""

    base: SweepBase
    plan: SweepPlan
    grid_path: Path
    out_dir: Path
    fmt: str = "netcdf"

    @property
    def parts(self) -> Path:
        return self.out_dir / "parts"

    def finished(self, retry_failed: bool = False) -> set[str]:
        """Ids with a result part (or a failure record, unless ``retry_failed``)."""
        done = set()
        for sid in self.plan.ids:
            if (self.parts / f"{sid}.nc").is_file() or (
                    not retry_failed and (self.parts / f"{sid}.failed.json").is_file()):
                done.add(sid)
        return done


@dataclass
class SweepOutcome:
    """What a sweep did and wrote."""

    dataset: xr.Dataset
    failures: pd.DataFrame  # scenario, error_type, error, parameters
    out_dir: Path
    files: list[Path]
    total: int
    computed: int
    skipped: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def prepare_sweep(scenario: str | Path | None, grid: str | Path, out_dir: str | Path | None = None,
                  *, samples: int | None = None, seed: int = 0, fmt: str = "netcdf"
                  ) -> PreparedSweep:
    """Load and check everything before any solve (bad input raises :class:`InputError`)."""
    if fmt not in ("netcdf", "zarr"):
        raise InputError(f"--format must be netcdf or zarr, got '{fmt}'")
    if fmt == "zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise InputError("--format zarr needs the zarr package (pip install zarr); "
                             "or write netCDF") from None
    grid_path = Path(grid)
    gf = read_grid_file(grid_path)
    base = load_scenario(scenario)
    stress_keys = "stress.shocks" in gf.grid or "stress.shocks" in gf.distributions
    portfolio = None
    hashes = input_hashes(base)
    if stress_keys:
        from sites.portfolio import load_portfolio

        pf_path = (grid_path.parent / gf.stress.portfolio) if gf.stress.portfolio else None
        if pf_path is not None and not pf_path.is_file():
            raise InputError(f"file not found: {gf.stress.portfolio}", file=grid_path,
                             key="stress.portfolio",
                             line=_yaml_line(grid_path, ("stress", "portfolio")))
        portfolio = load_portfolio(pf_path, base.regions, base.geometry)
        hashes.update({f"portfolio_{k}": file_sha256(p) for k, p in
                       portfolio.table_paths.items() if p and Path(p).is_file()})
        hashes["portfolio"] = file_sha256(portfolio.path)
    fingerprint = hashlib.sha256(json.dumps(
        {"format": PART_FORMAT, "spec": base.spec.model_dump_json(), "inputs": hashes},
        sort_keys=True).encode()).hexdigest()
    plan = make_plan(gf, grid_path, base, samples=samples, seed=seed, fingerprint=fingerprint)
    if portfolio is not None:
        from sites.portfolio import check_shock_targets

        texts = {s for p in plan.params for s in (p.get("stress.shocks") or [])}
        try:
            check_shock_targets([parse_shock(s) for s in sorted(texts)], portfolio.operators,
                                portfolio.customers, portfolio.spec.years)
        except InputError as exc:
            raise InputError(f"stress.shocks: {exc.message}", file=grid_path,
                             key="stress.shocks") from None
    target = Path(out_dir) if out_dir is not None else \
        Path("runs") / f"sweep-{base.name}-{grid_path.stem}"
    return PreparedSweep(base=SweepBase(base, portfolio, fingerprint), plan=plan,
                         grid_path=grid_path, out_dir=target, fmt=fmt)


Progress = Callable[[dict[str, Any]], None]


def execute(prep: PreparedSweep, *, workers: int | None = None, scheduler: str | None = None,
            client: Any = None, retry_failed: bool = False,
            progress: Progress | None = None) -> dict[str, int]:
    """Solve every scenario without a part yet; write each part as its result arrives.

    Parameters
    ----------
    workers : LocalCluster worker processes (default: the machine's cores, at most one per
        pending scenario); ``0`` = solve in this process, no Dask.
    scheduler : address of a running Dask scheduler (``tcp://host:8786``) instead.
    client : an existing ``distributed.Client`` (neither cluster is started nor closed).
    retry_failed : solve scenarios again whose earlier attempt failed.
    progress : called with ``{"total", "done", "failed", "skipped"}`` after each scenario.

    Returns
    -------
    ``{"total", "skipped", "computed", "failed", "hot_starts"}``.
    """
    plan = prep.plan
    done = prep.finished(retry_failed)
    todo = [(sid, p) for sid, p in zip(plan.ids, plan.params) if sid not in done]
    state = {"total": len(plan), "done": len(done), "failed": 0, "skipped": len(done),
             "hot_starts": 0}
    tell = progress or (lambda _s: None)
    tell(dict(state))
    params_of = dict(zip(plan.ids, plan.params))

    def record(outcome: dict[str, Any]) -> None:
        prep.parts.mkdir(parents=True, exist_ok=True)
        _write_part(prep.parts, outcome, params_of[outcome["id"]])
        state["done"] += 1
        if not outcome["ok"]:
            state["failed"] += 1
        elif float(outcome["dataset"]["hot_start"]) > 0:
            state["hot_starts"] += 1
        tell(dict(state))

    with deferred():  # Ctrl-C stops between scenarios (or cancels a solve), never mid-write
        if todo and workers == 0 and client is None and scheduler is None:
            solver = PersistentSolver()
            for sid, p in todo:
                record(run_scenario(prep.base, sid, p, solver))
                check()
        elif todo:
            _on_dask(prep, todo, workers, scheduler, client, record)
    return {"total": len(plan), "skipped": len(done), "computed": len(todo),
            "failed": state["failed"], "hot_starts": state["hot_starts"]}


def _on_dask(prep: PreparedSweep, todo: list[tuple[str, dict[str, Any]]], workers: int | None,
             scheduler: str | None, client: Any, record: Callable[[dict[str, Any]], None]
             ) -> None:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    own = client is None
    if own:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            n = max(1, min(workers or _cores(), len(todo)))
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
    futures = []
    try:
        base_f = client.scatter(prep.base, broadcast=True)
        token = uuid.uuid4().hex[:8]
        key_to_id = {}
        for sid, p in todo:
            key = f"dcplan-sweep-{sid}-{token}"
            key_to_id[key] = sid
            futures.append(client.submit(run_scenario, base_f, sid, p, key=key, pure=False,
                                         retries=0))
        pending = as_completed(futures)
        while not pending.is_empty():
            check()
            if not pending.has_ready():
                time.sleep(0.1)  # polled, so that Ctrl-C is seen while the workers solve
                continue
            for fut in pending.next_batch(block=False):
                sid = key_to_id[fut.key]
                try:
                    outcome = fut.result()
                except Exception as exc:  # the worker died, the task was cancelled, …
                    outcome = {"id": sid, "ok": False, "error": _one_line(exc) or repr(exc),
                               "error_type": type(exc).__name__, "seconds": float("nan")}
                record(outcome)
                fut.release()
    except BaseException:
        if futures:
            client.cancel(futures)
        raise
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _cores() -> int:
    """Cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _write_part(parts: Path, outcome: dict[str, Any], params: dict[str, Any]) -> None:
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
        _atomic_text(parts / f"{sid}.failed.json",
                     json.dumps(_clean(record), indent=2, default=str) + "\n")


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ==========================================================================
# Assembling the parts into one Dataset
# ==========================================================================


def _coord_values(values: list[Any]) -> np.ndarray:
    """Numbers (NaN for null) when every value is a number, else text (JSON for lists)."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
           for v in values):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int8)
    return np.array([v if isinstance(v, str) else json.dumps(v) for v in values], dtype=object)


def assemble(prep: PreparedSweep) -> tuple[xr.Dataset, pd.DataFrame]:
    """Stack the parts on a ``scenario`` dimension; parameters become coordinates.

    Failed scenarios keep their row (NaN data) with ``status = "failed"`` and ``error``.
    """
    plan = prep.plan
    parts: list[xr.Dataset] = []
    ok_ids: list[str] = []
    failures = []
    status, errors = [], []
    for sid, params in zip(plan.ids, plan.params):
        nc = prep.parts / f"{sid}.nc"
        failed = prep.parts / f"{sid}.failed.json"
        if nc.is_file():
            with xr.open_dataset(nc, engine="netcdf4") as part:
                parts.append(part.load())
            ok_ids.append(sid)
            status.append("ok")
            errors.append("")
        elif failed.is_file():
            rec = json.loads(failed.read_text(encoding="utf-8"))
            failures.append({"scenario": sid, "error_type": rec.get("error_type", ""),
                             "error": rec.get("error", ""),
                             "parameters": json.dumps(params, default=str)})
            status.append("failed")
            errors.append(f"{rec.get('error_type', '')}: {rec.get('error', '')}")
        else:
            status.append("missing")
            errors.append("not solved (interrupted?)")
    if parts:
        ds = xr.concat(parts, dim="scenario", join="outer", data_vars="all",
                       coords="minimal", compat="override", combine_attrs="drop")
        ds = ds.assign_coords(scenario=("scenario", np.array(ok_ids, dtype=object)))
        ds = ds.reindex(scenario=np.array(plan.ids, dtype=object))
        for name, first in ((n, next(p[n] for p in parts if n in p)) for n in ds.data_vars):
            ds[name].attrs = dict(first.attrs)
    else:
        ds = xr.Dataset(coords={"scenario": ("scenario", np.array(plan.ids, dtype=object))})
    coords: dict[str, Any] = {
        "scenario_index": ("scenario", np.arange(len(plan)), {"units": "1"}),
        "sample": ("scenario", np.array(plan.samples, dtype=np.int64),
                   {"units": "1", "long_name": "Monte Carlo sample index (-1 = grid point)"}),
        "status": ("scenario", np.array(status, dtype=object),
                   {"long_name": "ok, failed, or missing (not solved yet)"}),
        "error": ("scenario", np.array(errors, dtype=object),
                  {"long_name": "why the scenario failed (empty when ok)"}),
    }
    for info in plan.parameters:
        values = [p.get(info.key) for p in plan.params]
        coords[info.key] = ("scenario", _coord_values(values),
                            {"units": info.units, "long_name": _param_long_name(info)})
    ds = ds.assign_coords(coords)
    if "year" in ds.coords:
        ds["year"].attrs["units"] = "year"
    ds.attrs = {
        "title": f"dcplan sweep: {prep.base.scenario.name} × {prep.grid_path.name}",
        "scenario": prep.base.scenario.name,
        "scenario_path": str(prep.base.scenario.path),
        "grid_file": prep.grid_path.name,
        "parameters": json.dumps([i.key for i in plan.parameters]),
        "samples": int(max(plan.samples) + 1) if plan.samples and max(plan.samples) >= 0 else 0,
        "seed": -1 if plan.seed is None else int(plan.seed),
        "fingerprint": plan.fingerprint,
        "part_format": PART_FORMAT,
        **{f"version_{k}": v for k, v in package_versions().items()},
    }
    fail_df = pd.DataFrame(failures, columns=["scenario", "error_type", "error", "parameters"])
    return ds, fail_df


def _param_long_name(info: ParamInfo) -> str:
    if info.kind == "derived":
        return f"sweep parameter ({DERIVED.get(info.name, ('', ''))[1]})"
    return f"sweep parameter ({info.kind})"


def plan_table(ds: xr.Dataset, plan: SweepPlan) -> pd.DataFrame:
    """One row per scenario: id, parameters, status, objective (``plan.csv``)."""
    df = pd.DataFrame({"scenario": plan.ids, "sample": plan.samples})
    for info in plan.parameters:
        df[info.key] = [json.dumps(p[info.key]) if isinstance(p.get(info.key), list)
                        else p.get(info.key) for p in plan.params]
    df["status"] = ds["status"].values
    df["objective_usd"] = ds["objective_usd"].values if "objective_usd" in ds else np.nan
    df["error"] = ds["error"].values
    return df


def write_outputs(prep: PreparedSweep, counts: dict[str, int] | None = None,
                  seconds: float = 0.0) -> SweepOutcome:
    """Assemble and write the Dataset, plan.csv, failures.csv, summary.json and charts.

    Each file is written to a temporary name and renamed into place (a Zarr store through
    :func:`planner.output.atomic_folder`).
    """
    out = prep.out_dir
    out.mkdir(parents=True, exist_ok=True)
    ds, failures = assemble(prep)
    files: list[Path] = []
    if prep.fmt == "zarr":
        target = out / "sweep.zarr"
        with atomic_folder(target) as tmp:
            shutil.rmtree(tmp)
            ds.to_zarr(tmp, mode="w")
    else:
        target = out / "sweep.nc"
        tmp = out / f".sweep.nc.{uuid.uuid4().hex[:6]}.tmp"
        try:
            ds.to_netcdf(tmp, engine="netcdf4")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    files.append(target)
    _atomic_text(out / "plan.csv", plan_table(ds, prep.plan).to_csv(index=False))
    _atomic_text(out / "failures.csv", failures.to_csv(index=False))
    files += [out / "plan.csv", out / "failures.csv"]
    ok = ds.isel(scenario=np.flatnonzero(ds["status"].values == "ok")) \
        if "objective_usd" in ds else None
    if ok is not None and ok.sizes["scenario"]:
        for name, draw in (("fan.png", plot_fans), ("tornado.png", plot_tornado)):
            tmp = out / f".{name}.{uuid.uuid4().hex[:6]}.png"
            try:
                if draw(ok, tmp, prep.plan):
                    os.replace(tmp, out / name)
                    files.append(out / name)
            finally:
                tmp.unlink(missing_ok=True)
    counts = dict(counts or {})
    obj = ok["objective_usd"].values if ok is not None and ok.sizes["scenario"] else np.array([])
    summary = {
        "scenario": prep.base.scenario.name,
        "grid_file": str(prep.grid_path),
        "scenarios": len(prep.plan),
        "ok": int((ds["status"] == "ok").sum()),
        "failed": int((ds["status"] == "failed").sum()),
        "missing": int((ds["status"] == "missing").sum()),
        "this_run": counts,
        "seconds": round(seconds, 3),
        "parameters": {i.key: {"units": i.units, "kind": i.kind} for i in prep.plan.parameters},
        "objective_usd_percentiles": {str(p): float(np.percentile(obj, p)) for p in PERCENTILES}
        if len(obj) else {},
    }
    _atomic_text(out / "summary.json", json.dumps(_clean(summary), indent=2) + "\n")
    files.append(out / "summary.json")
    return SweepOutcome(dataset=ds, failures=failures, out_dir=out, files=files,
                        total=len(prep.plan), computed=counts.get("computed", 0),
                        skipped=counts.get("skipped", 0), seconds=seconds, counts=counts)


def run_sweep(scenario: str | Path | None, grid: str | Path, out_dir: str | Path | None = None,
              *, samples: int | None = None, seed: int = 0, workers: int | None = None,
              scheduler: str | None = None, client: Any = None, retry_failed: bool = False,
              fmt: str = "netcdf", progress: Progress | None = None) -> SweepOutcome:
    """The Python twin of ``dcplan sweep`` (see :func:`execute` for the options).

    Examples
    --------
    >>> from planner.sweep import run_sweep
    >>> out = run_sweep(None, "grid.yaml", "runs/sweep", workers=2)  # doctest: +SKIP
    >>> out.dataset["objective_usd"].to_series()                        # doctest: +SKIP
    """
    t0 = time.perf_counter()
    prep = prepare_sweep(scenario, grid, out_dir, samples=samples, seed=seed, fmt=fmt)
    counts = execute(prep, workers=workers, scheduler=scheduler, client=client,
                     retry_failed=retry_failed, progress=progress)
    return write_outputs(prep, counts, time.perf_counter() - t0)


# ==========================================================================
# Charts
# ==========================================================================


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fans(ds: xr.Dataset, path: str | Path, plan: SweepPlan | None = None) -> bool:
    """Percentile fans over scenarios, by year: capacity, gap and cost (three panels)."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    years = ds.year.values
    panels = (("facility_mw", 1e-3, "facility capacity in service (GW)"),
              ("gap_mw", 1e-3, "gap: power needed − energized (GW)"),
              ("cost_usd_per_year", 1e-9, "cost in the year, present value (billion USD)"))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), dpi=110)
    n = ds.sizes["scenario"]
    for ax, (name, scale, title) in zip(axes, panels):
        v = ds[name].transpose("scenario", "year").values * scale
        with np.errstate(all="ignore"), _quiet():
            q = {p: np.nanpercentile(v, p, axis=0) for p in PERCENTILES}
        ax.fill_between(years, q[5], q[95], alpha=0.2, color="C0", label="5–95 %")
        ax.fill_between(years, q[25], q[75], alpha=0.35, color="C0", label="25–75 %")
        ax.plot(years, q[50], "o-", color="C0", ms=3, label="median")
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("year")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{ds.attrs.get('scenario', '')}: {n} scenarios", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return True


class _quiet:
    """Silence numpy's all-NaN warnings inside a block."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._w.__exit__(*exc)


def tornado_table(ds: xr.Dataset, plan: SweepPlan) -> pd.DataFrame:
    """Per parameter, the mean objective at its cheapest and dearest level.

    Levels are the parameter's distinct values (grid points, choices) or, with more than
    five distinct numbers (Monte Carlo), its quintiles. Mean over all other parameters;
    ``swing_usd`` = dearest − cheapest level mean. Sorted by swing, largest first.
    """
    obj = ds["objective_usd"].values
    rows = []
    for info in plan.parameters:
        vals = ds[info.key].values
        keep = np.isfinite(obj)
        if vals.dtype.kind == "f":
            keep &= np.isfinite(vals)
        v, o = vals[keep], obj[keep]
        distinct = pd.unique(v)
        if len(distinct) < 2:
            continue
        if vals.dtype.kind == "f" and len(distinct) > 5:
            bins = pd.qcut(pd.Series(v).rank(method="first"), 5, labels=False)
            groups = pd.Series(o).groupby(bins.to_numpy())
            labels = {b: f"{v[bins == b].min():.4g}–{v[bins == b].max():.4g}"
                      for b in groups.groups}
        else:
            groups = pd.Series(o).groupby(pd.Series(v).to_numpy())
            labels = {k: f"{k:.4g}" if isinstance(k, (int, float, np.number)) else str(k)
                      for k in groups.groups}
        means = groups.mean()
        lo, hi = means.idxmin(), means.idxmax()
        rows.append({"parameter": info.key, "low_level": labels[lo], "high_level": labels[hi],
                     "low_usd": float(means[lo]), "high_usd": float(means[hi]),
                     "swing_usd": float(means[hi] - means[lo])})
    df = pd.DataFrame(rows, columns=["parameter", "low_level", "high_level", "low_usd",
                                     "high_usd", "swing_usd"])
    return df.sort_values("swing_usd", ascending=False).reset_index(drop=True)


def plot_tornado(ds: xr.Dataset, path: str | Path, plan: SweepPlan | None = None) -> bool:
    """Bars from the cheapest to the dearest level mean of each parameter (see
    :func:`tornado_table`), relative to the mean objective; False when nothing varies."""
    if plan is None:
        return False
    table = tornado_table(ds, plan)
    if table.empty:
        return False
    plt = _plt()
    mean = float(np.nanmean(ds["objective_usd"].values))
    t = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.5 * len(t)), dpi=110)
    y = np.arange(len(t))
    lo = (t["low_usd"].to_numpy() - mean) / 1e9
    hi = (t["high_usd"].to_numpy() - mean) / 1e9
    ax.barh(y, hi - lo, left=lo, color="C3", alpha=0.7)
    for yi, a, b, la, lb in zip(y, lo, hi, t["low_level"], t["high_level"]):
        ax.text(a, yi, f"{la} ", ha="right", va="center", fontsize=8)
        ax.text(b, yi, f" {lb}", ha="left", va="center", fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    reach = max(float(np.max(np.abs(np.r_[lo, hi]))), 1e-9)
    ax.set_xlim(-1.6 * reach, 1.6 * reach)
    ax.set_yticks(y, t["parameter"].tolist(), fontsize=9)
    ax.set_xlabel(f"mean present value cost − overall mean ({mean / 1e9:,.0f} B USD), "
                  "billion USD")
    ax.set_title("Which parameter moves the cost most")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return True


__all__ = ["GridFile", "PreparedSweep", "SweepOutcome", "SweepPlan",
           "apply_params", "assemble", "compact", "describe_parameter", "execute",
           "make_plan", "prepare_sweep", "read_grid_file", "run_scenario", "run_sweep",
           "spec_parameters", "tornado_table", "write_outputs"]
