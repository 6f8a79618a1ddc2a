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


def test_grid_access_value_equals_finite_difference() -> None:
    """Constraint 3's dual: one more MW of grid connection in 2026 saves a connection.

    One site, one year, ρ = 0.05, no on-site power: 2,000 H100e need 2 MW (π = 1,000 H100e
    per MW, PUE 1), all from new grid at 100,000 USD/MW with a 1-year life. PV per MW =
    K·CRF(1)·δ = 1e5·1.05/1.05 = 1e5 USD; undiscounted (÷ δ) the value is 1.05e5 USD per
    MW-year. Queued MW raise only constraint 3's right-hand side, so they measure it alone.
    """
    def case(queued: float) -> planner.Result:
        return solve_inputs(tiny(
            years=[2026], demand_h100e=[2000], discount_rate=0.05, facility_life_years=1,
            regions={"R": {"interconnect_capex_usd_per_mw": 1e5}},
            sites={"s": {"queued_mw": queued, "queue_year": 2026}},
        ))
    r = case(0.0)
    ds = r.to_xarray()
    value = float(ds["grid_access_value_usd_per_mw_year"].sel(site="s", year=2026))
    assert value == pytest.approx(1.05e5, rel=1e-9)
    assert float(ds["region_grid_access_value_usd_per_mw_year"].sel(region="R", year=2026)) \
        == pytest.approx(value)
    fd = (r.objective_usd - case(0.1).objective_usd) / 0.1 / (1 / 1.05)
    assert fd == pytest.approx(value, rel=1e-9)


def test_site_ceiling_value_is_the_cost_difference() -> None:
    """Constraint 1b's dual: A (1 M USD/MW) is full at 1 MW, B (3 M USD/MW) builds the rest;
    one more MW of A's ceiling saves 3 M − 1 M = 2 M USD (ρ = 0, 1-year life)."""
    def case(max_a: float) -> planner.Result:
        return solve_inputs(tiny(
            years=[2026], demand_h100e=[2000], facility_life_years=1,
            sites={"A": {"build_capex_usd_per_mw": 1e6, "max_mw": max_a},
                   "B": {"build_capex_usd_per_mw": 3e6}},
        ))
    r = case(1.0)
    ds = r.to_xarray()
    assert float(ds["site_ceiling_value_usd_per_mw_year"].sel(site="A", year=2026)) \
        == pytest.approx(2e6, rel=1e-9)
    assert float(ds["site_ceiling_value_usd_per_mw_year"].sel(site="B", year=2026)) == 0.0
    assert (r.objective_usd - case(1.1).objective_usd) / 0.1 == pytest.approx(2e6, rel=1e-9)
