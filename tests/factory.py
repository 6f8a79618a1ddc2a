"""Tiny hand-checkable model instances, built without files; helpers that edit input files."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.capacity import CapacityInputs, resolve_prices
from models.chips import with_derived
from planner.optimize.highs import solve_lp
from planner.outputs.results import Result

REGION_DEFAULTS: dict[str, Any] = {
    "name": "R",
    "interconnect_lead_years": 0,
    "energy_price_usd_per_mwh": 0.0,
    "price_escalation_per_year": 0.0,
    "capacity_price_usd_per_mw_year": 0.0,
    "interconnect_capex_usd_per_mw": 0.0,
    "new_load_limit_mw_per_year": np.nan,
    "carbon_t_per_mwh": 0.0,
}

SITE_DEFAULTS: dict[str, Any] = {
    "region": "R",
    "lon": 0.0,
    "lat": 0.0,
    "max_mw": 1e6,
    "existing_mw": 0.0,
    "queued_mw": 0.0,
    "queue_year": np.nan,
    "build_capex_usd_per_mw": 0.0,
    "pue": 1.0,
    "energy_price_usd_per_mwh": np.nan,
    "onsite_allowed": False,
    "operator": None,
}

CHIP_DEFAULTS: dict[str, Any] = {
    "vendor": "v",
    "first_year": 2000,
    "last_year": 2100,
    "it_kw_per_unit": 1.0,
    "h100e_per_unit": 1.0,
    "capex_usd_per_unit": 0.0,
    "life_years": 50,
}


def _frame(rows: dict[str, dict[str, Any]], defaults: dict[str, Any], key: str) -> pd.DataFrame:
    records = [{key: k, **defaults, **v} for k, v in rows.items()]
    return pd.DataFrame(records).set_index(key, drop=False)


def tiny(
    *,
    years: list[int],
    demand_h100e: list[float],
    regions: dict[str, dict[str, Any]] | None = None,
    sites: dict[str, dict[str, Any]] | None = None,
    chips: dict[str, dict[str, Any]] | None = None,
    discount_rate: float = 0.0,
    utilization: float = 1.0,
    facility_life_years: int = 50,
    onsite_lead_years: int = 0,
    onsite_capex_usd_per_mw: float = 0.0,
    onsite_life_years: int = 50,
    onsite_fuel_usd_per_mwh: float = 0.0,
    value_of_unserved_usd_per_h100e_year: float = 1e9,
    allow_idle: bool = True,
    demand_blocks: pd.DataFrame | None = None,
) -> CapacityInputs:
    """A model instance from dicts of overrides (defaults: free, lossless, no delay)."""
    regions_df = _frame(regions or {"R": {}}, REGION_DEFAULTS, "region")
    sites_df = _frame(sites or {"s": {}}, SITE_DEFAULTS, "site")
    chips_df = with_derived(_frame(chips or {"g": {}}, CHIP_DEFAULTS, "chip"))
    energy, capacity = resolve_prices(regions_df, sites_df, years)
    return CapacityInputs(
        years=years,
        discount_rate=discount_rate,
        utilization=utilization,
        facility_life_years=facility_life_years,
        regions=regions_df,
        sites=sites_df,
        chips=chips_df,
        demand_h100e=pd.Series(demand_h100e, index=years, dtype=float),
        energy_price_usd_per_mwh=energy,
        capacity_price_usd_per_mw_year=capacity,
        onsite_lead_years=onsite_lead_years,
        onsite_capex_usd_per_mw=onsite_capex_usd_per_mw,
        onsite_life_years=onsite_life_years,
        onsite_fuel_usd_per_mwh=onsite_fuel_usd_per_mwh,
        value_of_unserved_usd_per_h100e_year=value_of_unserved_usd_per_h100e_year,
        allow_idle=allow_idle,
        demand_blocks=demand_blocks,
    )


def solve_inputs(inputs: CapacityInputs) -> Result:
    """Build and solve an instance; return the :class:`Result`."""
    from models.model import build_model

    m = build_model(inputs)
    lp = solve_lp(m)
    return Result(scenario_name="test", inputs=inputs, ix=m.ix, lp=lp, build_seconds=0.0)


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set ``column`` of data row ``row`` (1-based) in a CSV, keeping the rest."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[row][rows[0].index(column)] = value
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def replace_text(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a text file (which must contain it)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
