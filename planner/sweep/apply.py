"""Applying a sweep's parameter set to a scenario (nothing is read from disk)."""

from __future__ import annotations

import dataclasses
import numbers
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from grids.regions import REGIONS
from grids.tables import Column, InputError
from models.chips import with_frontier
from models.demand import growth_path, load_demand_path, preset_path
from planner.inputs.scenario import Scenario, ScenarioFile
from planner.sweep.parameters import describe_parameter, table_columns


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
            col = table_columns(info.table)[info.column]
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
    market = base.market
    if not same_years:  # the market layers' year-keyed rows (campuses, supply, headroom)
        from planner.inputs.market import load_market

        folder = base.path.parent if base.path is not None else Path(".")
        market = load_market(
            spec, base.path or folder / "scenario.yaml", base.sites, base.regions, chips, years,
            own_sites=spec.sites is not None,
            site_facts_path=(folder / spec.site_facts).resolve() if spec.site_facts else None)
    return dataclasses.replace(base, spec=spec, chips=chips, demand_h100e=demand, market=market)
