"""Properties on random small instances (hypothesis)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factory import solve_inputs, tiny
from tests.invariants import assert_constraints_hold

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn) -> dict:
    n_years = draw(st.integers(1, 4))
    years = list(range(2026, 2026 + n_years))
    n_regions = draw(st.integers(1, 2))
    regions = {}
    for i in range(n_regions):
        regions[f"R{i}"] = {
            "interconnect_lead_years": draw(st.integers(0, 3)),
            "energy_price_usd_per_mwh": draw(st.floats(10, 200)),
            "price_escalation_per_year": draw(st.floats(-0.02, 0.05)),
            "capacity_price_usd_per_mw_year": draw(st.floats(0, 150_000)),
            "interconnect_capex_usd_per_mw": draw(st.floats(0, 500_000)),
            "new_load_limit_mw_per_year": draw(st.one_of(st.just(np.nan), st.floats(0.5, 20))),
        }
    sites = {}
    for i in range(draw(st.integers(1, 3))):
        max_mw = draw(st.floats(1, 50))
        existing = draw(st.floats(0, 1)) * max_mw
        queued = draw(st.floats(0, 10))
        sites[f"s{i}"] = {
            "region": f"R{draw(st.integers(0, n_regions - 1))}",
            "max_mw": max_mw,
            "existing_mw": existing,
            "queued_mw": queued,
            "queue_year": draw(st.integers(2026, 2030)) if queued > 0 else np.nan,
            "build_capex_usd_per_mw": draw(st.floats(5e6, 15e6)),
            "pue": draw(st.floats(1.05, 1.6)),
            "onsite_allowed": draw(st.booleans()),
            "energy_price_usd_per_mwh": draw(st.one_of(st.just(np.nan), st.floats(10, 100))),
        }
    chips = {}
    for i in range(draw(st.integers(1, 3))):
        first = draw(st.integers(2024, 2028))
        chips[f"g{i}"] = {
            "first_year": first,
            "last_year": first + draw(st.integers(0, 4)),
            "it_kw_per_unit": draw(st.floats(0.5, 3.0)),
            "h100e_per_unit": draw(st.floats(0.3, 10.0)),
            "capex_usd_per_unit": draw(st.floats(5_000, 150_000)),
            "life_years": draw(st.integers(1, 6)),
        }
    demand = [draw(st.floats(0, 40_000)) for _ in years]
    return dict(
        years=years, demand_h100e=demand, regions=regions, sites=sites, chips=chips,
        discount_rate=draw(st.floats(0, 0.12)),
        utilization=draw(st.floats(0.3, 1.0)),
        facility_life_years=draw(st.integers(5, 25)),
        onsite_lead_years=draw(st.integers(0, 3)),
        onsite_capex_usd_per_mw=draw(st.floats(5e5, 4e6)),
        onsite_life_years=draw(st.integers(5, 25)),
        onsite_fuel_usd_per_mwh=draw(st.floats(20, 120)),
        value_of_unserved_usd_per_h100e_year=draw(st.floats(1_000, 100_000)),
        allow_idle=draw(st.booleans()),
    )


def _obj(kw: dict) -> float:
    return solve_inputs(tiny(**kw)).objective_usd


def _leq(a: float, b: float) -> bool:
    return a <= b + 1e-6 * max(1.0, abs(a), abs(b))


@SETTINGS
@given(instances(), st.floats(0.01, 2.0))
def test_more_demand_never_costs_less(kw: dict, extra: float) -> None:
    more = copy.deepcopy(kw)
    more["demand_h100e"] = [d * (1 + extra) + 1.0 for d in kw["demand_h100e"]]
    assert _leq(_obj(kw), _obj(more))


@SETTINGS
@given(instances(), st.integers(1, 3))
def test_longer_lead_time_never_costs_less(kw: dict, extra: int) -> None:
    slower = copy.deepcopy(kw)
    for r in slower["regions"].values():
        r["interconnect_lead_years"] += extra
    assert _leq(_obj(kw), _obj(slower))


@SETTINGS
@given(instances(), st.floats(1.01, 3.0))
def test_more_efficient_chip_never_costs_more(kw: dict, factor: float) -> None:
    better = copy.deepcopy(kw)
    g = next(iter(better["chips"]))
    better["chips"][g]["h100e_per_unit"] *= factor
    assert _leq(_obj(better), _obj(kw))


@SETTINGS
@given(instances())
def test_cost_breakdown_sums_to_objective_and_constraints_hold(kw: dict) -> None:
    r = solve_inputs(tiny(**kw))
    assert r.status == "Optimal"
    total = float(r.cost_breakdown().to_numpy().sum())
    assert total == pytest.approx(r.objective_usd, rel=1e-6, abs=1e-3)
    assert float(r.to_xarray()["cost_usd"].sum()) == pytest.approx(total)
    assert_constraints_hold(r)
