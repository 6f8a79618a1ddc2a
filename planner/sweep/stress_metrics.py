"""planner.stress on a solved sweep scenario: defaults, DSCR and revenue at risk."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import xarray as xr

from grids.tables import InputError
from planner.inputs.scenario import Scenario
from planner.optimize.persistent import PersistentSolver
from planner.outputs.results import Result
from planner.sweep.compact_result import year_values
from sites.portfolio import Portfolio, parse_shock


def scenario_stress_metrics(sc: Scenario, result: Result, portfolio: Portfolio | None,
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
        "stress_operators_in_default": year_values(in_default.values, "1",
                                           "operators in default (planner.stress)"),
        "stress_revenue_at_risk_usd_per_year": year_values(at_risk.values, "USD/year",
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
    from planner.stress import market_from_values, result_values

    return market_from_values(sc, pf, *result_values(sc, result))
