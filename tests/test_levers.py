"""The planner's levers (docs/levers.md): hand-solved cases, conflicts, scenario keys.

Each test derives its optimum in the docstring, like tests/test_hand_solved.py.
Unless said otherwise: no discounting, utilization 1 (8760 h), PUE 1, π = 1000
H100e per IT-MW (1 kW and 1 H100e per unit), free chips, facilities and grid.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyomo.environ as pyo
import pytest
import xarray as xr

import planner
from grids.tables import InputError
from models.capacity import USD_SCALE, CapacityInputs, discount_factors
from models.levers import (
    ONSITE_GAS_T_PER_MWH,
    WATER_SCALE,
    ForcedBuild,
    Levers,
    RegionalRequirement,
)
from models.model import build_model
from planner.cli.commands import main
from planner.inputs.scenario import default_scenario_path
from planner.optimize.highs import ConflictError, solve_lp
from tests.factory import replace_text, solve_inputs, tiny
from tests.scenario_folders import without_market_layers

H = 8760.0


# --------------------------------------------------------------------------
# 1. Lumpy builds (MILP)
# --------------------------------------------------------------------------
def test_lumpy_build_lp_builds_30_milp_builds_50() -> None:
    """One site, one year, demand 30,000 H100e = 30 IT-MW = 30 MW at the meter.
    Facility 1 M USD/MW, chips 2 M USD per IT-MW (2,000 USD per 1-kW unit),
    both with a 1-year life (annuity = the whole capex).

    LP: build 30 MW → 30 M + chips 60 M = 90 M USD; compute price
    (2 M + 1 M)/1000 = 3,000 USD/H100e-year.
    MILP with 50-MW blocks: build 50 MW → 50 M + 60 M = 110 M USD. The LP
    relaxation is the LP, 90 M: lumpiness costs 20 M. Duals come from the LP
    with NBuild fixed at 1: the facility has 20 MW spare, so one more H100e
    costs only its chips, 2,000 USD/H100e-year.
    """
    kw = dict(years=[2026], demand_h100e=[30_000], sites={"s": {"build_capex_usd_per_mw": 1e6}},
              chips={"g": {"capex_usd_per_unit": 2000.0, "life_years": 1}},
              facility_life_years=1)
    lp = solve_inputs(tiny(**kw))
    assert lp.objective_usd == pytest.approx(90e6)
    assert float(lp.to_xarray()["build_mw"].sum()) == pytest.approx(30.0)
    assert float(lp.to_xarray()["compute_price_usd_per_h100e_year"][0]) == pytest.approx(3000.0)

    d = tiny(**kw)
    d.levers = Levers(build_block_mw={"s": 50.0})
    r = solve_inputs(d)
    ds = r.to_xarray()
    assert r.objective_usd == pytest.approx(110e6)
    assert float(ds["build_mw"].sum()) == pytest.approx(50.0)
    assert r.lp.values["NBuild"][("s", 2026)] == pytest.approx(1.0)
    assert float(ds["compute_price_usd_per_h100e_year"][0]) == pytest.approx(2000.0)
    mip = r.summary()["mip"]
    assert mip["lp_relaxation_usd"] == pytest.approx(90e6)
    assert mip["mip_objective_usd"] == pytest.approx(110e6)
    assert mip["lumpiness_cost_usd"] == pytest.approx(20e6)
    assert 0.0 <= mip["mip_gap"] <= 1e-4
    assert r.cost_breakdown().to_numpy().sum() == pytest.approx(r.objective_usd)


def test_lumpy_grid_connection_in_blocks() -> None:
    """A site with no grid connection; a connection costs 100,000 USD/MW (life 1).
    Demand 30 IT-MW: the LP connects 30 MW (3 M USD); with 40-MW grid blocks it
    connects 40 MW (4 M USD)."""
    kw = dict(years=[2026], demand_h100e=[30_000], facility_life_years=1,
              regions={"R": {"interconnect_capex_usd_per_mw": 1e5}})
    assert solve_inputs(tiny(**kw)).objective_usd == pytest.approx(3e6)
    d = tiny(**kw)
    d.levers = Levers(grid_block_mw={"s": 40.0})
    r = solve_inputs(d)
    assert r.objective_usd == pytest.approx(4e6)
    assert float(r.to_xarray()["grid_mw"].sum()) == pytest.approx(40.0)


# --------------------------------------------------------------------------
# 2. Existing fleet
# --------------------------------------------------------------------------
def test_existing_fleet_serves_until_it_retires() -> None:
    """Site s has 10 MW built and connected; energy 10 USD/MWh. Fleet: 10 IT-MW
    of chip 'old' (π = 500, on sale 2020–2024 only, life 3) installed in 2024,
    so in service 2024–2026. New chip: π = 1000, 1 M USD per IT-MW, life 1.
    Demand 4,000 H100e in 2026 and 2027.

    2026: the fleet serves all 4,000 H100e on 8 of its 10 MW (2 MW idle) at no
    capex; energy 8 × 8760 × 10 = 700,800 (4 MW new would cost 4.35 M).
    2027: 'old' has retired; 4 MW new: 4,000,000 + 350,400.
    Objective 5,051,200 USD (without the fleet 2 × 4,350,400 = 8,700,800).
    Marginal H100e: 2026 one more old chip runs, 1/500 MW × 87,600 = 175.2;
    2027 1/1000 MW of new chips + energy = 1,000 + 87.6 = 1,087.6 USD/H100e-year.
    """
    import pandas as pd

    kw = dict(years=[2026, 2027], demand_h100e=[4000, 4000],
              regions={"R": {"energy_price_usd_per_mwh": 10.0}},
              sites={"s": {"existing_mw": 10.0}},
              chips={"old": {"first_year": 2020, "last_year": 2024, "h100e_per_unit": 0.5,
                             "life_years": 3},
                     "new": {"capex_usd_per_unit": 1000.0, "life_years": 1}})
    assert solve_inputs(tiny(**kw)).objective_usd == pytest.approx(8_700_800.0)
    d = tiny(**kw)
    d.levers = Levers(fleet=pd.DataFrame({"site": ["s"], "chip": ["old"],
                                          "year_installed": [2024], "it_mw": [10.0]}))
    r = solve_inputs(d)
    assert r.objective_usd == pytest.approx(5_051_200.0)
    ds = r.to_xarray()
    assert ds["existing_fleet_it_mw"].sel(site="s", chip="old").values.tolist() == [10.0, 0.0]
    assert ds["fleet_it_mw"].sel(site="s", chip="old").values.tolist() == pytest.approx([8, 0])
    assert ds["idle_it_mw"].sel(site="s", chip="old").values.tolist() == pytest.approx([2, 0])
    assert ds["it_mw"].sel(site="s", chip="new").values.tolist() == pytest.approx([0, 4])
    assert ds["compute_price_usd_per_h100e_year"].values.tolist() == pytest.approx(
        [175.2, 1087.6])
    assert r.cost_breakdown().sum(axis=1)["chips"] == pytest.approx(4e6)


# --------------------------------------------------------------------------
# 3. Capital budgets and carbon
# --------------------------------------------------------------------------
def test_capital_budget_and_its_shadow_price() -> None:
    """2026–2027, demand 1,000 H100e (1 IT-MW) a year; chips 1 M USD per IT-MW,
    life 2 (annuity 0.5 M a year); unserved 1,500 USD/H100e-year. Budget 2026:
    400,000 USD of overnight capex.

    A MW bought in 2026 costs 1 M and saves 1.5 M (2026 unserved) + 0.5 M
    (the 2027 purchase): buy the most, 0.4 MW. 2026: 600 H100e unserved
    = 900,000. 2027: buy 0.6 MW (one annuity in the horizon: 300,000).
    Objective 400,000 + 900,000 + 300,000 = 1,600,000 USD.
    Shadow price of the 2026 budget: one more USD buys 1e-6 MW, net saving
    (2.0 M − 1.0 M) × 1e-6 = 1.0 USD per USD. Capex spent: 400,000 and 600,000.
    """
    d = tiny(years=[2026, 2027], demand_h100e=[1000, 1000],
             chips={"g": {"capex_usd_per_unit": 1000.0, "life_years": 2}},
             value_of_unserved_usd_per_h100e_year=1500.0)
    d.levers = Levers(budget_total_usd={2026: 400_000.0})
    r = solve_inputs(d)
    assert r.objective_usd == pytest.approx(1_600_000.0)
    ds = r.to_xarray()
    assert ds["capex_usd"].values.tolist() == pytest.approx([400_000, 600_000])
    sp = ds["capital_shadow_price_usd_per_usd"]
    assert float(sp.sel(year=2026)) == pytest.approx(1.0)
    assert np.isnan(float(sp.sel(year=2027)))
    assert ds["capex_usd"].attrs["units"] == "USD"


@pytest.mark.parametrize("scope", ["region", "operator"])
def test_region_and_operator_budgets(scope: str) -> None:
    """Site A (region RA, operator X, 10 USD/MWh) and B (RB, operator Y,
    20 USD/MWh); chips 1 M USD per IT-MW, life 1; demand 1 IT-MW. A budget of
    250,000 USD for RA (or for X) buys 0.25 MW at A; B takes 0.75 MW.
    Objective 1,000,000 + 0.25 × 87,600 + 0.75 × 175,200 = 1,153,300 USD.
    One more USD moves 1e-6 MW from B to A: (20 − 10) × 8760 × 1e-6
    = 0.0876 USD per USD.
    """
    d = tiny(years=[2026], demand_h100e=[1000],
             regions={"RA": {"energy_price_usd_per_mwh": 10.0},
                      "RB": {"energy_price_usd_per_mwh": 20.0}},
             sites={"A": {"region": "RA", "operator": "X"},
                    "B": {"region": "RB", "operator": "Y"}},
             chips={"g": {"capex_usd_per_unit": 1000.0, "life_years": 1}})
    if scope == "region":
        d.levers = Levers(budget_region_usd={("RA", 2026): 250_000.0})
        name, key = "region_capital_shadow_price_usd_per_usd", {"region": "RA"}
    else:
        d.levers = Levers(budget_operator_usd={("X", 2026): 250_000.0})
        name, key = "operator_capital_shadow_price_usd_per_usd", {"operator": "X"}
    r = solve_inputs(d)
    assert r.objective_usd == pytest.approx(1_153_300.0)
    ds = r.to_xarray()
    assert float(ds[name].sel(year=2026, **key)) == pytest.approx(0.0876)
    assert float(ds["load_mw"].sel(site="A", year=2026)) == pytest.approx(0.25)


def _two_regions(**levers: object):
    """Site A in RA (10 USD/MWh, 0.5 t CO2/MWh), B in RB (20 USD/MWh, 0 t); 1 IT-MW."""
    d = tiny(years=[2026], demand_h100e=[1000],
             regions={"RA": {"energy_price_usd_per_mwh": 10.0, "carbon_t_per_mwh": 0.5},
                      "RB": {"energy_price_usd_per_mwh": 20.0}},
             sites={"A": {"region": "RA"}, "B": {"region": "RB"}})
    d.levers = Levers(**levers)
    return d


def test_carbon_price_is_a_cost_component() -> None:
    """Carbon price 15 USD/t: A costs 10 + 0.5 × 15 = 17.5 USD/MWh < 20 at B, so A
    serves: energy 87,600 + carbon 8760 × 0.5 × 15 = 65,700 → 153,300 USD,
    4,380 t CO2 in RA. At 30 USD/t A costs 25 > 20: B serves, 175,200 USD, 0 t.
    """
    r = solve_inputs(_two_regions(carbon=True, carbon_price_usd_per_t={2026: 15.0}))
    assert r.objective_usd == pytest.approx(153_300.0)
    costs = r.cost_breakdown().sum(axis=1)
    assert costs["carbon"] == pytest.approx(65_700.0)
    assert costs.sum() == pytest.approx(r.objective_usd)
    ds = r.to_xarray()
    assert float(ds["region_emissions_t"].sel(region="RA", year=2026)) == pytest.approx(4380.0)
    assert "carbon" in ds["component"].values.tolist()
    r30 = solve_inputs(_two_regions(carbon=True, carbon_price_usd_per_t={2026: 30.0}))
    assert r30.objective_usd == pytest.approx(175_200.0)
    assert float(r30.to_xarray()["emissions_t"].sum()) == pytest.approx(0.0)


def test_carbon_cap_and_its_shadow_price() -> None:
    """Cap 2,190 t: A may serve 2190 / (8760 × 0.5) = 0.5 MW, B the rest:
    0.5 × 87,600 + 0.5 × 175,200 = 131,400 USD. One more tonne moves
    1/4380 MW from B to A: (20 − 10) × 8760 / 4380 = 20 USD/t (the carbon price
    the cap implies)."""
    r = solve_inputs(_two_regions(carbon=True, carbon_cap_t={2026: 2190.0}))
    assert r.objective_usd == pytest.approx(131_400.0)
    ds = r.to_xarray()
    assert float(ds["carbon_shadow_price_usd_per_t"][0]) == pytest.approx(20.0)
    assert float(ds["emissions_t"][0]) == pytest.approx(2190.0)
    assert ds["carbon_shadow_price_usd_per_t"].attrs["units"] == "USD/t"


def test_onsite_emission_factor() -> None:
    """1 MW served on site (no grid: lead 5 years; on-site plant free, fuel
    1 USD/MWh): 8760 MWh × 0.5013 t/MWh (53.06 kg/MMBtu × 9.447 MMBtu/MWh)
    = 4,391.4 t CO2."""
    d = tiny(years=[2026], demand_h100e=[1000],
             regions={"R": {"interconnect_lead_years": 5, "carbon_t_per_mwh": 0.4}},
             sites={"s": {"onsite_allowed": True}}, onsite_fuel_usd_per_mwh=1.0)
    d.levers = Levers(carbon=True)
    r = solve_inputs(d)
    assert ONSITE_GAS_T_PER_MWH == pytest.approx(0.5013)
    assert float(r.to_xarray()["emissions_t"][0]) == pytest.approx(H * 0.5013)


# --------------------------------------------------------------------------
# 4. Water and moratoria
# --------------------------------------------------------------------------
def _water_sites(**levers: object):
    """A (evaporative, 1.8 m³/IT-MWh, 10 USD/MWh) and B (air, 0.125, 20 USD/MWh)
    in one region; demand 1 IT-MW."""
    d = tiny(years=[2026], demand_h100e=[1000],
             sites={"A": {"energy_price_usd_per_mwh": 10.0},
                    "B": {"energy_price_usd_per_mwh": 20.0}})
    d.levers = Levers(water=True, water_m3_per_mwh={"A": 1.8, "B": 0.125}, **levers)
    return d


def test_site_water_limit_and_its_value() -> None:
    """A may use 3,942 m³ = 1.8 × 8760 × 0.25: A serves 0.25 MW, B 0.75 MW:
    21,900 + 131,400 = 153,300 USD. One more m³ moves 1/(1.8 × 8760) MW from
    B to A: 10 × 8760 / (1.8 × 8760) = 5.5556 USD/m³."""
    r = solve_inputs(_water_sites(water_limit_site_m3={"A": 3942.0}))
    assert r.objective_usd == pytest.approx(153_300.0)
    ds = r.to_xarray()
    assert float(ds["water_m3"].sel(site="A", year=2026)) == pytest.approx(3942.0)
    assert float(ds["water_value_usd_per_m3"].sel(site="A", year=2026)) == pytest.approx(10 / 1.8)
    assert np.isnan(float(ds["water_value_usd_per_m3"].sel(site="B", year=2026)))


def test_regional_water_limit_and_its_value() -> None:
    """Region limit 8,431.5 m³ = 8760 × (1.8 × 0.5 + 0.125 × 0.5): A and B serve
    0.5 MW each: 43,800 + 87,600 = 131,400 USD. One more m³ moves
    1/(8760 × (1.8 − 0.125)) MW to A: 10/1.675 = 5.9701 USD/m³."""
    r = solve_inputs(_water_sites(water_limit_region_m3={"R": 8431.5}))
    assert r.objective_usd == pytest.approx(131_400.0)
    v = r.to_xarray()["region_water_value_usd_per_m3"].sel(region="R", year=2026)
    assert float(v) == pytest.approx(10 / 1.675)


def test_moratorium_removes_grid_connections_from_its_year() -> None:
    """Grid connections cost 1 M USD/MW over a 50-year life (20,000 a year),
    energy 10 USD/MWh; demand 0 in 2026, 1 IT-MW in 2027; no on-site.
    Without a moratorium: connect in 2027: 20,000 + 87,600 = 107,600 USD.
    A moratorium from 2027 leaves no Grid[s,2027]: the plan connects ahead of
    it in 2026 and pays two annuities: 40,000 + 87,600 = 127,600 USD."""
    kw = dict(years=[2026, 2027], demand_h100e=[0, 1000],
              regions={"R": {"energy_price_usd_per_mwh": 10.0,
                             "interconnect_capex_usd_per_mw": 1e6}})
    assert solve_inputs(tiny(**kw)).objective_usd == pytest.approx(107_600.0)
    d = tiny(**kw)
    d.levers = Levers(moratoria={"R": 2027})
    r = solve_inputs(d)
    assert ("s", 2027) not in r.ix.grid_sy
    assert r.objective_usd == pytest.approx(127_600.0)
    assert r.to_xarray()["grid_mw"].sel(site="s").values.tolist() == pytest.approx([1, 0])


# --------------------------------------------------------------------------
# 5. Regional demand, forced builds, conflicts
# --------------------------------------------------------------------------
def test_regional_demand_share_and_its_value() -> None:
    """30 % of demand (1,000 H100e) served in RB: A 0.7 MW, B 0.3 MW:
    61,320 + 52,560 = 113,880 USD. One more H100e required in RB moves
    1/1000 MW from A to B: 10 × 8760 / 1000 = 87.6 USD/H100e-year."""
    r = solve_inputs(_two_regions(regional_demand=[
        RegionalRequirement("sovereign", ("RB",), 0.3, (2026,))]))
    assert r.objective_usd == pytest.approx(113_880.0)
    ds = r.to_xarray()
    v = ds["regional_demand_value_usd_per_h100e_year"].sel(requirement="sovereign", year=2026)
    assert float(v) == pytest.approx(87.6)
    served = ds["regional_served_h100e"].sel(requirement="sovereign", year=2026)
    assert float(served) == pytest.approx(300.0)


def test_forced_builds_lower_bound_and_exact() -> None:
    """Site a builds at 1 M USD/MW, b at 2 M (life 1); demand 50 IT-MW.
    Free choice: 50 MW at a = 50 M USD.
    At least 100 MW at a: 100 M; one more forced MW costs 1 M USD/MW (dual).
    At least 30 MW at a: not binding, 50 M, dual 0.
    Exactly 30 MW at a: b builds 20 MW: 30 M + 40 M = 70 M; forcing one more
    MW at a would save 2 M − 1 M: dual −1 M USD/MW."""
    def run(f: ForcedBuild):
        d = tiny(years=[2026], demand_h100e=[50_000], facility_life_years=1,
                 sites={"a": {"build_capex_usd_per_mw": 1e6},
                        "b": {"build_capex_usd_per_mw": 2e6}})
        d.levers = Levers(forced_builds=[f])
        r = solve_inputs(d)
        return r.objective_usd, float(r.to_xarray()["forced_build_cost_usd_per_mw"][0])

    assert run(ForcedBuild("a", 2026, 100.0)) == pytest.approx((100e6, 1e6))
    assert run(ForcedBuild("a", 2026, 30.0)) == pytest.approx((50e6, 0.0))
    assert run(ForcedBuild("a", 2026, 30.0, exact=True)) == pytest.approx((70e6, -1e6))


def _conflict(**levers: object) -> ConflictError:
    d = tiny(years=[2026], demand_h100e=[1000], facility_life_years=1,
             regions={"RA": {"carbon_t_per_mwh": 0.5}, "RB": {}},
             sites={"a": {"region": "RA", "build_capex_usd_per_mw": 1e6, "max_mw": 80.0},
                    "b": {"region": "RB"}})
    d.levers = Levers(**levers)
    with pytest.raises(ConflictError) as info:
        solve_inputs(d)
    msg = str(info.value)
    assert "\n" not in msg
    return info.value


def test_conflicts_are_named_in_plain_words() -> None:
    """Three contradictions, each reported by HiGHS's IIS as the two user
    constraints involved."""
    e = _conflict(forced_builds=[ForcedBuild("a", 2026, 100.0)])
    assert e.method == "iis"
    assert "forced build 1 (site a in 2026: at least 100 MW)" in e.conflicts
    assert "ceiling of site a (max_mw 80 MW)" in e.conflicts

    e = _conflict(forced_builds=[ForcedBuild("a", 2026, 70.0)],
                  budget_total_usd={2026: 50e6})
    assert set(e.conflicts) == {"forced build 1 (site a in 2026: at least 70 MW)",
                                "capital budget for 2026 (50,000,000 USD)"}

    e = _conflict(carbon=True, carbon_cap_t={2026: 100.0}, regional_demand=[
        RegionalRequirement("east", ("RA",), 1.0, (2026,))])
    assert any(c.startswith("carbon cap for 2026 (100 t CO2)") for c in e.conflicts)
    assert any(c.startswith("regional demand 'east' in 2026") for c in e.conflicts)
    assert "contradict each other" in str(e)


def test_integer_only_conflict_falls_back_to_a_relaxation() -> None:
    """Exactly 70 MW at a, built in 50-MW blocks: the LP relaxation is feasible,
    so there is no IIS; the penalised relaxation names the forced build and the
    block rule."""
    e = _conflict(forced_builds=[ForcedBuild("a", 2026, 70.0, exact=True)],
                  build_block_mw={"a": 50.0})
    assert e.method == "relaxation"
    assert "forced build 1 (site a in 2026: exactly 70 MW)" in e.conflicts
    assert "facility builds at a in whole blocks of 50 MW" in e.context


def _short_default(folder: Path, extra: str = "", years: str = "end: 2030") -> Path:
    """The bundled default scenario (bundled tables) without its market-data layers (the
    plain LP the levers are tested on), cut to 2026–2030, plus ``extra``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.yaml"
    path.write_text(without_market_layers(default_scenario_path().read_text(encoding="utf-8"))
                    + extra, encoding="utf-8")
    replace_text(path, "end: 2040", years)
    return path


def test_cli_conflict_exits_2_with_one_line(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """`dcplan run` on contradictory levers (a forced build of 20,000 MW at a site whose
    ceiling is 15,000 MW): ConflictError → exit code 2, one line on stderr, no output."""
    path = _short_default(tmp_path / "sc", "forced_builds: [{site: ashburn_va, year: 2027, "
                          "build_mw: 20000}]\n", years="end: 2027")
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["run", str(path), "-o", str(out)]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: no plan satisfies all the scenario's constraints")
    assert "forced build 1 (site ashburn_va in 2027: at least 20,000 MW)" in lines[0]
    assert "ceiling of site ashburn_va (max_mw 15,000 MW)" in lines[0]
    assert not out.exists()


# --------------------------------------------------------------------------
# Scenario keys, end to end
# --------------------------------------------------------------------------
LEVERS_YAML = """
build_block_mw: 100
mip_rel_gap: 0.001
fleet: fleet.csv
budget: {total_usd_per_year: {2027: 4.0e+11}, by_operator_usd_per_year: {Meta: 1.0e+11}}
carbon: {price_usd_per_t: 20, cap_t_per_year: {2030: 9.0e+7}}
water: {region_limits_m3_per_year: {ERCOT: 3.0e+8}, site_limits_m3_per_year: {abilene_tx: 2.0e+6}}
moratoria: [{region: PJM, from_year: 2030}]
regional_demand: [{name: east, regions: [PJM, NYISO, ISO-NE], share: 0.1, from_year: 2028}]
forced_builds: [{site: abilene_tx, year: 2028, build_mw: 300}]
"""


@pytest.fixture(scope="module")
def lever_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("levers") / "sc"
    assert main(["init", str(d)]) == 0
    text = without_market_layers((d / "scenario.yaml").read_text(encoding="utf-8"))
    (d / "scenario.yaml").write_text(text + LEVERS_YAML, encoding="utf-8")
    (d / "fleet.csv").write_text("site,chip,year_installed,it_mw\n"
                                 "ashburn_va,h100,2024,500\nabilene_tx,gb200,2025,200\n",
                                 encoding="utf-8")
    return d / "scenario.yaml"


def test_every_lever_end_to_end(lever_scenario: Path, tmp_path: Path) -> None:
    """us-base with every lever set solves (MILP), writes results.nc with the
    levers' variables (units on each) and summary.json with the MIP gap."""
    sc = planner.load_scenario(lever_scenario)
    assert set(sc.active_levers()) == {"build_block_mw", "fleet", "budget", "carbon", "water",
                                       "moratoria", "regional_demand", "forced_builds"}
    out = tmp_path / "run"
    assert main(["run", str(lever_scenario), "-o", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mip"]["mip_gap"] <= 1e-3
    assert summary["mip"]["lp_relaxation_usd"] <= summary["objective_usd"] * (1 + 1e-9)
    with xr.open_dataset(out / "results.nc") as ds:
        for name in ("existing_fleet_it_mw", "capex_usd", "capital_shadow_price_usd_per_usd",
                     "operator_capital_shadow_price_usd_per_usd", "emissions_t",
                     "region_emissions_t", "carbon_shadow_price_usd_per_t", "water_m3",
                     "region_water_value_usd_per_m3", "regional_demand_value_usd_per_h100e_year",
                     "forced_build_cost_usd_per_mw", "moratorium_from_year"):
            assert "units" in ds[name].attrs, name
        assert float(ds["build_mw"].sel(site="abilene_tx", year=2028)) >= 300 - 1e-6
        assert float(ds["grid_mw"].sel(year=slice(2030, None))
                     .where(ds["site_region"] == "PJM").sum()) == 0.0
        assert float(ds["capex_usd"].sel(year=2027)) <= 4.0e11 * (1 + 1e-6)
        assert float(ds["emissions_t"].sel(year=2030)) <= 9.0e7 * (1 + 1e-6)
        blocks = ds["build_mw"].values / 100.0
        assert np.allclose(blocks, np.round(blocks), atol=1e-6)
        costs = ds["cost_usd"].sum()
        assert float(costs) == pytest.approx(summary["objective_usd"], rel=1e-9)


@pytest.mark.parametrize(("text", "key", "says"), [
    ("moratoria: [{region: ATLANTIS, from_year: 2030}]\n", "moratoria.0.region",
     "unknown region 'ATLANTIS'"),
    ("forced_builds: [{site: nowhere, year: 2028, build_mw: 5}]\n", "forced_builds.0.site",
     "unknown site 'nowhere'"),
    ("carbon: {cap_t_per_year: {2099: 5}}\n", "carbon.cap_t_per_year", "outside the model"),
    ("budget: {by_operator_usd_per_year: {Nobody: 5}}\n",
     "budget.by_operator_usd_per_year.Nobody", "unknown operator 'Nobody'"),
    ("regional_demand: [{name: x, regions: [PJM], share: 1.5}]\n", "regional_demand.0.share",
     "less than or equal to 1"),
    ("water: {default_cooling: swamp}\n", "water.default_cooling", "unknown cooling type"),
    ("build_blok_mw: 5\n", "build_blok_mw", "did you mean 'build_block_mw'"),
])
def test_bad_lever_keys_name_the_key_and_line(tmp_path: Path, text: str, key: str,
                                              says: str) -> None:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    path = d / "scenario.yaml"
    n = len(path.read_text().splitlines())
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)
    with pytest.raises(InputError) as info:
        planner.load_scenario(path)
    msg = str(info.value)
    assert f"key {key}" in msg and says in msg
    assert f"line {n + 1}" in msg


def test_bad_fleet_rows(tmp_path: Path) -> None:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    assert "fleet: fleet.csv" in (d / "scenario.yaml").read_text(encoding="utf-8")
    (d / "fleet.csv").write_text("site,chip,year_installed,it_mw\nashburn_va,h900,2024,5\n")
    with pytest.raises(InputError, match=r"fleet.csv row 1 \(line 2\), column chip: unknown "
                                         r"chip 'h900'"):
        planner.load_scenario(d / "scenario.yaml")
    (d / "fleet.csv").write_text("site,chip,year_installed,it_mw\nashburn_va,h100,2025,1e5\n")
    with pytest.raises(InputError, match=r"needs 120,000\.0 MW at the meter in 2026"):
        planner.load_scenario(d / "scenario.yaml")
    assert main(["run", str(d / "scenario.yaml"), "-o", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------
# 6. Lever duals under discounting: finite differences at ρ = 0.1
# --------------------------------------------------------------------------
# Every case: years 2026–2028, ρ = 0.1, the lever in 2027 only, where
# δ_2027 = 1.1^-2 = 0.8264. The reported dual is undiscounted (÷ δ_y), so
# sign · (PV(rhs + ε) − PV(rhs)) / (ε · δ_2027) must equal it for ε and −ε
# (same basis on both sides: the solution is non-degenerate). sign = −1 for a
# limit (a binding limit's value is positive: more limit, lower cost) and +1 for
# a requirement (its cost). Capex counts from the start of its year (PV of an
# overnight USD in y is δ_y·(1+ρ)), energy and unserved at the end (δ_y).
RHO = 0.1
DISC_YEARS = [2026, 2027, 2028]
DELTA = discount_factors(DISC_YEARS, RHO)
TWO_REGIONS: dict[str, Any] = dict(
    regions={"RA": {"energy_price_usd_per_mwh": 10.0}, "RB": {"energy_price_usd_per_mwh": 20.0}},
    sites={"A": {"region": "RA"}, "B": {"region": "RB"}})


def _discounted(levers: Levers, demand_h100e: list[float] | None = None,
                **kw: Any) -> CapacityInputs:
    d = tiny(years=DISC_YEARS, demand_h100e=demand_h100e or [1000.0] * 3,
             discount_rate=RHO, **kw)
    d.levers = levers
    return d


def _assert_finite_difference(reported: float, objective_usd: float,
                              perturbed_usd: Callable[[float], float], eps: float,
                              sign: float) -> None:
    """sign·ΔPV/(±ε·δ_2027) equals the reported undiscounted dual, which is non-zero."""
    assert reported != 0.0
    fd = [sign * (perturbed_usd(e) - objective_usd) / (e * DELTA[2027]) for e in (eps, -eps)]
    assert fd == pytest.approx([reported, reported], rel=1e-6)


def test_capital_budget_dual_is_undiscounted() -> None:
    """Demand 1 IT-MW a year; chips 1 M USD per IT-MW, life 1 (PV per MW bought in y:
    CRF 1.1 × δ_y × 1 M); unserved 1,500 USD/H100e-year (1.5 M per MW-year, PV × δ_y).
    Budget 2027: 400,000 USD → 0.4 MW bought in 2027. One more USD buys 1e-6 MW:
    (1.5 − 1.1)·δ_2027 of PV, i.e. 0.4 USD per USD in 2027 USD."""
    def make(eps: float) -> CapacityInputs:
        return _discounted(Levers(budget_total_usd={2027: 400_000.0 + eps}),
                           chips={"g": {"capex_usd_per_unit": 1000.0, "life_years": 1}},
                           value_of_unserved_usd_per_h100e_year=1500.0)

    r = solve_inputs(make(0.0))
    ds = r.to_xarray()
    assert ds["capex_usd"].values.tolist() == pytest.approx([1e6, 4e5, 1e6])
    reported = float(ds["capital_shadow_price_usd_per_usd"].sel(year=2027))
    assert reported == pytest.approx(0.4)
    _assert_finite_difference(reported, r.objective_usd,
                              lambda e: solve_inputs(make(e)).objective_usd, 1000.0, -1.0)


def test_carbon_cap_dual_is_undiscounted() -> None:
    """Site A (RA: 10 USD/MWh, 0.5 t CO2/MWh), B (RB: 20 USD/MWh, 0 t); cap 2,190 t in
    2027: A serves 0.5 MW that year. One more t moves 1/4380 MW from B to A:
    10 × 8760 / 4380 = 20 USD/t in 2027 USD."""
    def make(eps: float) -> CapacityInputs:
        kw = {**TWO_REGIONS, "regions": {"RA": {"energy_price_usd_per_mwh": 10.0,
                                                "carbon_t_per_mwh": 0.5},
                                         "RB": {"energy_price_usd_per_mwh": 20.0}}}
        return _discounted(Levers(carbon=True, carbon_cap_t={2027: 2190.0 + eps}), **kw)

    r = solve_inputs(make(0.0))
    ds = r.to_xarray()
    assert ds["emissions_t"].values.tolist() == pytest.approx([H * 0.5, 2190.0, H * 0.5])
    reported = float(ds["carbon_shadow_price_usd_per_t"].sel(year=2027))
    assert reported == pytest.approx(20.0)
    _assert_finite_difference(reported, r.objective_usd,
                              lambda e: solve_inputs(make(e)).objective_usd, 10.0, -1.0)


def test_forced_build_dual_is_undiscounted() -> None:
    """Facility 1 M USD/MW at a, life 1 (PV per MW built in y: 1.1 × δ_y × 1 M);
    demand 50, 120, 120 IT-MW. Forced: at least 100 MW at a in 2027, 30 more than
    needed. One more forced MW costs 1.1·δ_2027 M of PV and saves nothing:
    1.1 M USD/MW in 2027 USD (end of year: the overnight 1 M plus a year of interest)."""
    def make(eps: float) -> CapacityInputs:
        return _discounted(Levers(forced_builds=[ForcedBuild("a", 2027, 100.0 + eps)]),
                           demand_h100e=[50_000.0, 120_000.0, 120_000.0],
                           facility_life_years=1, sites={"a": {"build_capex_usd_per_mw": 1e6}})

    r = solve_inputs(make(0.0))
    ds = r.to_xarray()
    assert ds["build_mw"].sel(site="a").values.tolist() == pytest.approx([50.0, 100.0, 0.0])
    reported = float(ds["forced_build_cost_usd_per_mw"].sel(forced_build=1))
    assert reported == pytest.approx(1.1e6)
    _assert_finite_difference(reported, r.objective_usd,
                              lambda e: solve_inputs(make(e)).objective_usd, 0.5, 1.0)


def test_regional_demand_dual_is_undiscounted() -> None:
    """30 % of demand (1,000 H100e) served in RB in 2027 only: B serves 0.3 MW that
    year. One more H100e required moves 1/1000 MW from A to B: 10 × 8760 / 1000
    = 87.6 USD/H100e-year in 2027 USD. ε H100e = a share of ε/1000."""
    def make(eps: float) -> CapacityInputs:
        req = RegionalRequirement("sovereign", ("RB",), 0.3 + eps / 1000.0, (2027,))
        return _discounted(Levers(regional_demand=[req]), **TWO_REGIONS)

    r = solve_inputs(make(0.0))
    ds = r.to_xarray()
    served = ds["regional_served_h100e"].sel(requirement="sovereign")
    assert served.values.tolist() == pytest.approx([0.0, 300.0, 0.0], abs=1e-6)
    reported = float(ds["regional_demand_value_usd_per_h100e_year"]
                     .sel(requirement="sovereign", year=2027))
    assert reported == pytest.approx(87.6)
    _assert_finite_difference(reported, r.objective_usd,
                              lambda e: solve_inputs(make(e)).objective_usd, 1.0, 1.0)


def test_site_water_limit_dual_is_undiscounted() -> None:
    """A (1.8 m³/IT-MWh, 10 USD/MWh) may use 3,942 m³ a year (0.25 MW), B (0.125,
    20 USD/MWh) serves the rest. The limit is one number for every year, so only the
    2027 row Water_Site[A, 2027] is moved (its right-hand side is in thousand m³).
    One more m³ moves 1/(1.8 × 8760) MW from B to A: 10/1.8 = 5.5556 USD/m³."""
    def make() -> CapacityInputs:
        return _discounted(Levers(water=True, water_m3_per_mwh={"A": 1.8, "B": 0.125},
                                  water_limit_site_m3={"A": 3942.0}),
                           sites={"A": {"energy_price_usd_per_mwh": 10.0},
                                  "B": {"energy_price_usd_per_mwh": 20.0}})

    def shifted(eps: float) -> float:
        m = build_model(make())
        row = m.Water_Site["A", 2027]
        row.set_value((None, row.body, pyo.value(row.upper) + eps / WATER_SCALE))
        return solve_lp(m).objective * USD_SCALE

    r = solve_inputs(make())
    ds = r.to_xarray()
    assert ds["water_m3"].sel(site="A").values.tolist() == pytest.approx([3942.0] * 3)
    reported = float(ds["water_value_usd_per_m3"].sel(site="A", year=2027))
    assert reported == pytest.approx(10 / 1.8)
    _assert_finite_difference(reported, r.objective_usd, shifted, 1.0, -1.0)


# --------------------------------------------------------------------------
# 7. Absent = unchanged
# --------------------------------------------------------------------------
NEUTRAL_YAML = """
build_block_mw: null
grid_block_mw: null
mip_rel_gap: 0.001
fleet: fleet.csv
budget: {total_usd_per_year: {}, by_region_usd_per_year: {}, by_operator_usd_per_year: {}}
water: {site_limits_m3_per_year: {}, region_limits_m3_per_year: {}}
moratoria: []
regional_demand: []
forced_builds: []
"""


def test_neutral_lever_sections_leave_the_model_unchanged(tmp_path: Path) -> None:
    """The bundled default (cut to 2026–2030 for speed) with every lever section present
    but empty or neutral — null blocks, a fleet of 0 MW, budgets and water limits
    without entries, empty lists — solves the same LP as with no lever keys: same
    objective, columns, rows and nonzeros. Of these only ``water`` stays active (it
    reports water use but adds no row). ``carbon: {}`` (no price, no cap) reports
    emissions: one ``Emissions`` column and one ``Carbon_Accounting`` row a year more,
    the same optimum."""
    plain_path = _short_default(tmp_path / "plain")
    neutral_path = _short_default(tmp_path / "neutral", NEUTRAL_YAML)
    (tmp_path / "neutral" / "fleet.csv").write_text(
        "site,chip,year_installed,it_mw\nashburn_va,h100,2024,0\n", encoding="utf-8")
    carbon_path = _short_default(tmp_path / "carbon", "carbon: {}\n")

    plain_sc = planner.load_scenario(plain_path)
    assert plain_sc.levers() is None
    plain = planner.solve(plain_sc, )
    n_years = len(plain_sc.years)
    assert n_years == 5

    neutral_sc = planner.load_scenario(neutral_path)
    assert neutral_sc.active_levers() == ["water"]
    neutral = planner.solve(neutral_sc, )
    assert neutral.objective_usd == pytest.approx(plain.objective_usd, rel=1e-9)
    assert (neutral.lp.num_cols, neutral.lp.num_rows, neutral.lp.num_nonzeros) == (
        plain.lp.num_cols, plain.lp.num_rows, plain.lp.num_nonzeros)
    assert np.isnan(neutral.to_xarray()["water_value_usd_per_m3"].values).all()

    carbon_sc = planner.load_scenario(carbon_path)
    assert carbon_sc.active_levers() == ["carbon"]
    carbon = planner.solve(carbon_sc, )
    assert carbon.objective_usd == pytest.approx(plain.objective_usd, rel=1e-9)
    assert carbon.lp.num_cols == plain.lp.num_cols + n_years
    assert carbon.lp.num_rows == plain.lp.num_rows + n_years
    assert "carbon" not in carbon.cost_breakdown().index
