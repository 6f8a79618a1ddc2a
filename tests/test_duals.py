"""Duals reported as prices agree with finite differences of the objective."""

from __future__ import annotations

import copy

import pytest

import planner
from models.capacity import discount_factors
from tests.factory import solve_inputs, tiny


@pytest.fixture(scope="module")
def base() -> tuple[planner.Scenario, planner.Result]:
    sc = planner.load_scenario()
    return sc, planner.solve(sc)


@pytest.mark.parametrize("year", [2026, 2029, 2034])
def test_compute_price_equals_finite_difference(base, year: int) -> None:
    """d(objective)/d(demand in y) / δ_y = compute price (USD per H100e-year)."""
    sc, r = base
    price = float(r.to_xarray()["compute_price_usd_per_h100e_year"].sel(year=year))
    bumped = copy.copy(sc)
    eps = 1e-4 * float(sc.demand_h100e[year])
    bumped.demand_h100e = sc.demand_h100e.copy()
    bumped.demand_h100e[year] += eps
    r2 = planner.solve(bumped)
    delta = discount_factors(sc.years, sc.spec.discount_rate)[year]
    fd = (r2.objective_usd - r.objective_usd) / eps / delta
    assert fd == pytest.approx(price, rel=2e-3)
    assert price > 0


def test_headroom_value_equals_finite_difference() -> None:
    """One more MW of headroom in R1 saves exactly the reported value."""
    def case(limit: float) -> planner.Result:
        return solve_inputs(tiny(
            years=[2026, 2027], demand_h100e=[2000, 3000], discount_rate=0.05,
            regions={"R1": {"energy_price_usd_per_mwh": 10.0,
                            "new_load_limit_mw_per_year": limit},
                     "R2": {"energy_price_usd_per_mwh": 30.0,
                            "interconnect_capex_usd_per_mw": 1e5}},
            sites={"A": {"region": "R1"}, "B": {"region": "R2"}},
            chips={"g": {"life_years": 1}},
        ))
    r = case(1.0)
    value = r.to_xarray()["headroom_value_usd_per_mw"].sel(region="R1")
    r_more = case(1.01)
    delta = discount_factors([2026, 2027], 0.05)
    # +0.01 MW of headroom applies in both years
    fd = (r.objective_usd - r_more.objective_usd) / 0.01
    assert fd == pytest.approx(float((value * delta.to_numpy()).sum()), rel=1e-6)
    assert float(value.sel(year=2026)) > 0


def test_facility_value_equals_finite_difference() -> None:
    """An extra MW of existing facility (grid free) saves the build capex."""
    def case(existing: float) -> planner.Result:
        return solve_inputs(tiny(
            years=[2026], demand_h100e=[2000],
            sites={"s": {"pue": 1.2, "build_capex_usd_per_mw": 3e6, "existing_mw": existing}},
            facility_life_years=1,
        ))
    r = case(1.0)
    value = float(r.to_xarray()["facility_value_usd_per_mw_year"].sel(site="s", year=2026))
    fd = (r.objective_usd - case(1.1).objective_usd) / 0.1
    assert value == pytest.approx(3e6)
    assert fd == pytest.approx(value)
