"""The compact result of one solved scenario: per-year and per-region totals, a few
kB instead of the full Dataset."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from planner.outputs.headline import PENALTY_COMPONENTS
from planner.outputs.results import Result

#: Bumped when the compact per-scenario result changes (old parts are then not reused).
PART_FORMAT = "dcplan-sweep-1"


def year_values(values: Any, units: str, long: str) -> xr.DataArray:
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
    data["cost_usd_per_year"] = year_values(cost.sum("component").values, "USD",
                                    "present value of the year's costs (all components)")
    penalty = cost.sel(component=[c for c in cost.component.values
                                  if c in PENALTY_COMPONENTS]).sum("component").values
    data["plan_cost_usd_per_year"] = year_values(
        cost.sum("component").values - penalty, "USD",
        "present value of what the plan spends in the year (all components but unserved)")
    data["unserved_value_usd_per_year"] = year_values(
        penalty, "USD", "present value of the compute left unserved in the year (a penalty)")
    for name in ("facility_mw", "grid_capacity_mw", "onsite_capacity_mw", "load_mw",
                 "build_mw"):
        src = full[name]
        data[name] = year_values(src.sum("site").values, "MW",
                                 f"{src.attrs['long_name']}, all sites")
    for name in ("demand_h100e", "served_h100e", "unserved_h100e", "energy_twh",
                 "compute_price_usd_per_h100e_year"):
        data[name] = full[name]
    gap_units = {"frontier_h100e_per_mw": "H100e/MW", "fleet_h100e_per_mw": "H100e/MW",
                 "demand_growth": "1", "efficiency_growth": "1", "net_power_growth": "1",
                 "fleet_pue": "1", "power_needed_mw": "MW", "power_energized_mw": "MW",
                 "gap_mw": "MW", "gap_pct": "%", "power_needed_at_frontier_mw": "MW",
                 "efficiency_only_gap_mw": "MW", "realized_power_growth": "1",
                 "net_power_growth_fleet": "1"}
    for name, units in gap_units.items():
        data[name] = year_values(gap.loc[years, name].to_numpy(dtype=float), units,
                         f"gap report column {name} (planner.outputs.gap)")
    lp = result.lp
    scalars = {
        "objective_usd": (result.objective_usd, "USD", "present value of all costs"),
        "plan_cost_usd": (float(data["plan_cost_usd_per_year"].sum()), "USD",
                          "present value of what the plan spends (objective − unserved)"),
        "unserved_value_usd": (float(data["unserved_value_usd_per_year"].sum()), "USD",
                               "present value of the compute left unserved (a penalty)"),
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
