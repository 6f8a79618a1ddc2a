"""Small cases whose optimum is derived by hand in each docstring.

Each case's instance is built by a module-level function, so the same instances
also run as scenario folders through ``dcplan run`` (``tests/test_own_regions.py``,
:data:`HAND_SOLVED`).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from models.capacity import CapacityInputs
from tests.factory import solve_inputs, tiny

H = 8760.0


def one_site_one_chip() -> CapacityInputs:
    """See :func:`test_one_site_one_chip`: objective 27,314,000 USD."""
    return tiny(
        years=[2026], demand_h100e=[2000],
        regions={"R": {"energy_price_usd_per_mwh": 50.0}},
        sites={"s": {"pue": 1.5, "build_capex_usd_per_mw": 2e6}},
        chips={"g": {"capex_usd_per_unit": 10_000.0, "life_years": 1}},
        facility_life_years=1,
    )


def _lead_time_case(lead_rb: int) -> CapacityInputs:
    return tiny(
        years=[2026, 2027], demand_h100e=[1000, 1000],
        sites={"A": {"region": "RA"}, "B": {"region": "RB"}},
        chips={"g": {"life_years": 1}},
        regions={"RA": {"energy_price_usd_per_mwh": 100.0},
                 "RB": {"energy_price_usd_per_mwh": 10.0, "interconnect_lead_years": lead_rb}},
    )


def lead_time_forces_early_dearer_site() -> CapacityInputs:
    """See :func:`test_lead_time_forces_early_dearer_site`: 963,600 USD."""
    return _lead_time_case(1)


def no_lead_time_cheap_site_serves_both_years() -> CapacityInputs:
    """:func:`lead_time_forces_early_dearer_site` without the lead time: 175,200 USD."""
    return _lead_time_case(0)


def onsite_bridges_grid_delay() -> CapacityInputs:
    """See :func:`test_onsite_bridges_grid_delay`: 1,351,200 USD."""
    return tiny(
        years=[2026, 2027, 2028], demand_h100e=[1000, 1000, 1000],
        regions={"R": {"energy_price_usd_per_mwh": 20.0, "interconnect_lead_years": 2}},
        sites={"s": {"onsite_allowed": True}},
        onsite_capex_usd_per_mw=5e6, onsite_fuel_usd_per_mwh=50.0,
    )


def headroom_limit_binds() -> CapacityInputs:
    """See :func:`test_headroom_limit_binds_and_its_dual_is_the_cost_difference`: 350,400."""
    return tiny(
        years=[2026], demand_h100e=[2000],
        regions={"R1": {"energy_price_usd_per_mwh": 10.0, "new_load_limit_mw_per_year": 1.0},
                 "R2": {"energy_price_usd_per_mwh": 30.0}},
        sites={"A": {"region": "R1"}, "B": {"region": "R2"}},
    )


def unserved_demand_priced_at_its_value() -> CapacityInputs:
    """See :func:`test_unserved_demand_priced_at_its_value`: 11 M USD."""
    return tiny(
        years=[2026], demand_h100e=[3000],
        sites={"s": {"max_mw": 1.0, "existing_mw": 1.0}},
        chips={"g": {"capex_usd_per_unit": 1000.0, "life_years": 1}},
        value_of_unserved_usd_per_h100e_year=5000.0,
    )


def _annuity_case(life_years: int) -> CapacityInputs:
    return tiny(years=[2026, 2027], demand_h100e=[1000, 1000], discount_rate=0.1,
                chips={"g": {"capex_usd_per_unit": 1000.0, "life_years": life_years}})


def annuities_over_a_whole_life() -> CapacityInputs:
    """See :func:`test_annuities_over_a_whole_life_equal_the_capex`: 1 M USD."""
    return _annuity_case(2)


def annuities_beyond_the_horizon() -> CapacityInputs:
    """See :func:`test_annuities_over_a_whole_life_equal_the_capex`: 547,511 USD."""
    return _annuity_case(4)


def queued_grid_capacity_arrives_in_its_year() -> CapacityInputs:
    """See :func:`test_queued_grid_capacity_arrives_in_its_year`: 100,000 USD."""
    return tiny(
        years=[2026, 2027], demand_h100e=[1000, 1000],
        regions={"R": {"interconnect_lead_years": 5}},
        sites={"s": {"queued_mw": 1.0, "queue_year": 2027}},
        value_of_unserved_usd_per_h100e_year=100.0,
    )


#: Every hand-solved instance and its optimum, USD (derivations in the tests below).
HAND_SOLVED: dict[str, tuple[Callable[[], CapacityInputs], float]] = {
    "one_site_one_chip": (one_site_one_chip, 27_314_000.0),
    "lead_time_forces_early_dearer_site": (lead_time_forces_early_dearer_site, 963_600.0),
    "no_lead_time": (no_lead_time_cheap_site_serves_both_years, 175_200.0),
    "onsite_bridges_grid_delay": (onsite_bridges_grid_delay, 1_351_200.0),
    "headroom_limit_binds": (headroom_limit_binds, 350_400.0),
    "unserved_demand": (unserved_demand_priced_at_its_value, 11e6),
    "annuities_whole_life": (annuities_over_a_whole_life, 1e6),
    "annuities_beyond_horizon": (annuities_beyond_the_horizon,
                                 1e6 * (0.1 * 1.1**4 / (1.1**4 - 1)) * (1 / 1.1 + 1 / 1.21)),
    "queued_grid_capacity": (queued_grid_capacity_arrives_in_its_year, 100_000.0),
}


def test_one_site_one_chip() -> None:
    """One site, one chip, one year, no discounting, utilization 1.

    Chip: 1 kW and 1 H100e per unit → π = 1000 H100e/MW; 10,000 USD per unit
    → κ = 10 M USD per IT-MW; life 1. Demand 2000 H100e → 2 IT-MW. PUE 1.5 →
    3 MW at the meter: facility 3 × 2 M = 6 M; chips 2 × 10 M = 20 M; energy
    3 MW × 8760 h × 50 USD/MWh = 1.314 M. Objective 27.314 M USD.
    Compute price = κ/π + PUE·(build capex + 8760·price)/π
    = 10,000 + 1.5·(2,000,000 + 438,000)/1000 = 13,657 USD/H100e-year.
    Facility dual = the build capex, 2 M USD/MW.
    """
    r = solve_inputs(one_site_one_chip())
    assert r.objective_usd == pytest.approx(27_314_000.0, rel=1e-9)
    ds = r.to_xarray()
    assert float(ds["build_mw"].sum()) == pytest.approx(3.0)
    assert float(ds["it_mw"].sum()) == pytest.approx(2.0)
    assert float(ds["compute_price_usd_per_h100e_year"][0]) == pytest.approx(13_657.0)
    assert float(ds["facility_value_usd_per_mw_year"][0, 0]) == pytest.approx(2e6)
    costs = r.cost_breakdown().sum(axis=1)
    assert costs["facility"] == pytest.approx(6e6)
    assert costs["chips"] == pytest.approx(20e6)
    assert costs["energy"] == pytest.approx(1_314_000.0)


def test_lead_time_forces_early_dearer_site() -> None:
    """Site A (region RA, lead 0) pays 100 USD/MWh; site B (region RB, lead 1)
    pays 10 USD/MWh. Neither has a grid connection yet. Demand 1000 H100e in
    2026 and 2027 (1 IT-MW, PUE 1, chips free, life 1).

    2026: only A can connect → 1 MW × 8760 × 100 = 876,000.
    2027: B is open → 1 MW × 8760 × 10 = 87,600. Objective 963,600 USD.
    Without the lead time B serves both years: 175,200 USD.
    """
    r = solve_inputs(lead_time_forces_early_dearer_site())
    assert r.objective_usd == pytest.approx(963_600.0)
    load = r.to_xarray()["load_mw"]
    assert float(load.sel(site="A", year=2026)) == pytest.approx(1.0)
    assert float(load.sel(site="B", year=2027)) == pytest.approx(1.0)
    r0 = solve_inputs(no_lead_time_cheap_site_serves_both_years())
    assert r0.objective_usd == pytest.approx(175_200.0)


def test_onsite_bridges_grid_delay() -> None:
    """One site, grid lead 2 years, on-site lead 0. 2026–2028, demand 1 IT-MW
    each year (PUE 1, free chips with a 50-year life), no discounting.

    On-site: 5 M USD/MW, life 50 → annuity 5 M/50 = 100,000 per year for the
    3 horizon years = 300,000; fuel 50 USD/MWh → 438,000 per year.
    Grid (from 2028): 20 USD/MWh → 175,200.
    2026–27 on site, 2028 on the grid (the sunk on-site plant idles):
    300,000 + 2 × 438,000 + 175,200 = 1,351,200 USD.
    """
    r = solve_inputs(onsite_bridges_grid_delay())
    assert r.objective_usd == pytest.approx(1_351_200.0)
    ds = r.to_xarray()
    assert ds["onsite_load_mw"].sel(site="s").values.tolist() == pytest.approx([1, 1, 0])
    assert ds["grid_load_mw"].sel(site="s").values.tolist() == pytest.approx([0, 0, 1])
    assert float(ds["grid_mw"].sum()) == pytest.approx(1.0)


def test_headroom_limit_binds_and_its_dual_is_the_cost_difference() -> None:
    """Region R1 admits 1 MW of new load a year; its site A pays 10 USD/MWh.
    Site B in R2 (no limit) pays 30 USD/MWh. Demand 2 IT-MW in one year.

    A takes 1 MW (the limit), B the other: 87,600 + 262,800 = 350,400 USD.
    One more MW of headroom moves 1 MW from B to A and saves
    (30 − 10) × 8760 = 175,200 USD: the headroom dual.
    """
    r = solve_inputs(headroom_limit_binds())
    assert r.objective_usd == pytest.approx(350_400.0)
    hv = r.to_xarray()["headroom_value_usd_per_mw"]
    assert float(hv.sel(region="R1", year=2026)) == pytest.approx(175_200.0)
    assert bool(hv.sel(region="R2").isnull().all())


def test_unserved_demand_priced_at_its_value() -> None:
    """A site with 1 MW already built and connected and no room to grow;
    demand 3000 H100e (3 IT-MW). Chips: 1000 USD/unit → κ = 1 M USD/MW, life 1.
    Serving 1 MW costs 1 M; the other 2000 H100e go unserved at 5,000 USD
    each = 10 M. Objective 11 M USD; the marginal cost of compute equals the
    value of unserved demand, 5,000 USD/H100e-year.
    """
    r = solve_inputs(unserved_demand_priced_at_its_value())
    assert r.objective_usd == pytest.approx(11e6)
    ds = r.to_xarray()
    assert float(ds["unserved_h100e"][0]) == pytest.approx(2000.0)
    assert float(ds["compute_price_usd_per_h100e_year"][0]) == pytest.approx(5000.0)


def test_annuities_over_a_whole_life_equal_the_capex() -> None:
    """ρ = 10 %, a chip bought in 2026 with a 2-year life and a 2-year horizon:
    1 IT-MW at κ = 1 M USD/MW. PV = K·CRF(2)·(δ_2026 + δ_2027) = K exactly
    (capital discounted to the start of its year). With a 4-year life only two
    of four annuities fall in the horizon: K·CRF(4)·(1/1.1 + 1/1.21)
    = 1 M × 0.315471 × 1.735537 = 547,511 USD.
    """
    r2 = solve_inputs(annuities_over_a_whole_life())
    assert r2.objective_usd == pytest.approx(1e6, rel=1e-9)
    r4 = solve_inputs(annuities_beyond_the_horizon())
    expected = 1e6 * (0.1 * 1.1**4 / (1.1**4 - 1)) * (1 / 1.1 + 1 / 1.21)
    assert r4.objective_usd == pytest.approx(expected, rel=1e-9)
    assert r4.objective_usd == pytest.approx(547_511.0, abs=1.0)


def test_queued_grid_capacity_arrives_in_its_year() -> None:
    """Site with no grid today but 1 MW queued for 2027; the grid lead time
    (5 years) rules out new connections and on-site is not allowed. Demand
    1 IT-MW in 2026 and 2027, unserved at 100 USD/H100e, chips and energy free:
    2026 is unserved (1000 × 100 = 100,000), 2027 is served. Objective 100,000.
    """
    r = solve_inputs(queued_grid_capacity_arrives_in_its_year())
    assert r.objective_usd == pytest.approx(100_000.0)
    assert r.to_xarray()["unserved_h100e"].values.tolist() == pytest.approx([1000, 0])
