"""Sweep parameters: what a grid key means, its unit and its kind of value."""

from __future__ import annotations

import difflib
import functools
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from grids.regions import REGIONS
from grids.tables import Column
from planner.inputs.scenario import Scenario, ScenarioFile
from sites.sites import SITES

#: Scenario-file keys that cannot be swept (names, free text, table paths).
NOT_SWEPT = {"name", "description", "regions", "geometry", "prices", "sites", "chips",
             "fleet", "demand.path", "hourly_load", "uncertainty"}
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
            if key in NOT_SWEPT:
                continue
            ann = f.annotation
            sub = _model_of(ann)
            if sub is not None:
                walk(sub, key + ".")
                continue
            units = _SPEC_UNITS.get(key) or next(
                (u for s, u in _UNIT_SUFFIXES if name.endswith(s)), "1")
            kind = _value_kind(ann)
            if kind in ("str", "other") or (kind == "list" and key != "demand.growth"):
                units = "-"
            out[key] = ParamInfo(key, "spec", kind, units)

    walk(ScenarioFile, "")
    return out


def table_columns(table: str) -> dict[str, Column]:
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
        cols = table_columns(table)
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
