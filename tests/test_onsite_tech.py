"""Issue 15 item 4: on-site power per technology (layer ``onsite_technologies``).

Every tiny case has ρ = 0 (δ = 1, CRF(50) = 1/50), u = 1, PUE 1, a free chip of
π = 1,000 H100e per IT-MW and no grid (the region's interconnection lead is past the
horizon), so 1,000 H100e is 1 MW of on-site load and a year of it is 8,760 MWh.
A technology with capex 50 USD/kW and life 50 costs 50,000/50 = 1,000 USD per MW-year;
fuel 10 USD/MWh costs 87,600 USD per MW-year of load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import planner
from models.capacity import HOURS_PER_YEAR
from models.levers.data import Levers, OnsiteTech
from models.levers.onsite_tech import build_rows
from models.model import build_model
from models.onsite import load_onsite
from planner.cli.commands import main
from tests.factory import solve_inputs, tiny
from tests.scenario_folders import write_scenario_folder

H = HOURS_PER_YEAR
V = 1e7  # value of unserved compute, USD per H100e-year (1e10 per MW-year: never chosen)

TECH_DEFAULTS: dict[str, Any] = {
    "kind": "gas", "unit_mw": 100.0, "capex_usd_per_kw": 50.0, "fixed_om_usd_per_kw_year": 0.0,
    "variable_om_usd_per_mwh": 0.0, "heat_rate_btu_per_kwh": 0.0, "co2_t_per_mwh": 0.0,
    "lead_years": 0, "first_year": 2000, "life_years": 50, "dispatchable": True,
    "supply_limit_mw_per_year": np.nan, "total_limit_mw": np.nan,
}


def _onsite(techs: dict[str, dict[str, Any]], fuel: dict[str, float], years: list[int],
            reserve: float = 0.0, cf: float = 0.25) -> OnsiteTech:
    """Technologies from overrides of :data:`TECH_DEFAULTS`; fuel + VOM flat, USD/MWh."""
    table = pd.DataFrame([{"technology": t, **TECH_DEFAULTS, **v} for t, v in techs.items()])
    table = table.set_index("technology", drop=False)
    return OnsiteTech(table=table,
                      fuel_usd_per_mwh={(t, y): fuel.get(t, 0.0) for t in techs for y in years},
                      reserve_fraction=reserve, solar_capacity_factor=cf)


def _case(years: list[int], load_mw: list[float], techs: dict[str, dict[str, Any]],
          fuel: dict[str, float], reserve: float = 0.0, cf: float = 0.25,
          levers: dict[str, Any] | None = None, **generic: Any):
    """One on-site site with no grid, ``load_mw`` MW of load a year; solved."""
    d = tiny(years=years, demand_h100e=[1000.0 * x for x in load_mw],
             regions={"R": {"interconnect_lead_years": 50}},
             sites={"s": {"onsite_allowed": True}},
             value_of_unserved_usd_per_h100e_year=V, **generic)
    d.levers = Levers(onsite_tech=_onsite(techs, fuel, years, reserve, cf), **(levers or {}))
    return solve_inputs(d)


def _merit(limit_a: float, **kw: Any):
    """A (fuel 10, fixed O&M 1 USD/kW-yr, at most ``limit_a`` MW a year) and B (fuel 20, no
    limit), 2 MW of load in 2026."""
    return _case([2026], [2.0], {"a": {"fixed_om_usd_per_kw_year": 1.0,
                                       "supply_limit_mw_per_year": limit_a}, "b": {}},
                 {"a": 10.0, "b": 20.0}, **kw)


def test_cheapest_until_its_supply_binds_then_the_next() -> None:
    """A costs 1,000 (capex) + 1,000 (fixed O&M) + 87,600 (fuel) = 89,600 USD per
    MW-year, B 1,000 + 175,200 = 176,200. A is built up to its national limit of 1.5 MW,
    B the remaining 0.5 MW: 1.5·89,600 + 0.5·176,200 = 222,500 USD. The generic onsite:
    option (fuel 1,000 USD/MWh, capex 1e9 USD/MW) is replaced, not added."""
    r = _merit(1.5, onsite_fuel_usd_per_mwh=1000.0, onsite_capex_usd_per_mw=1e9)
    ds = r.to_xarray()
    assert r.objective_usd == pytest.approx(222_500.0)
    built = ds["onsite_tech_mw"].sel(site="s", year=2026)
    assert built.sel(technology="a") == pytest.approx(1.5)
    assert built.sel(technology="b") == pytest.approx(0.5)
    assert float(ds["onsite_mw"].sel(site="s", year=2026)) == pytest.approx(2.0)
    assert float(ds["onsite_capacity_mw"].sel(site="s", year=2026)) == pytest.approx(2.0)
    cost = ds["cost_usd"].sum("year")
    assert float(cost.sel(component="onsite")) == pytest.approx(2_000.0)
    assert float(cost.sel(component="onsite_om")) == pytest.approx(1_500.0)
    assert float(cost.sel(component="fuel")) == pytest.approx(1.5 * 87_600 + 0.5 * 175_200)
    for name in ("onsite_tech_mw", "onsite_gen_mw", "onsite_supply_value_usd_per_mw"):
        assert ds[name].attrs["units"] in ("MW", "USD/MW")


def test_supply_dual_equals_finite_difference() -> None:
    """One more MW of A's supply replaces B: 176,200 − 89,600 = 86,600 USD/MW, and the
    objective falls by exactly that per MW (limit 1.5 → 1.6)."""
    r = _merit(1.5)
    value = float(r.to_xarray()["onsite_supply_value_usd_per_mw"].sel(technology="a",
                                                                       year=2026))
    fd = (r.objective_usd - _merit(1.6).objective_usd) / 0.1
    assert value == pytest.approx(86_600.0)
    assert fd == pytest.approx(value, rel=1e-9)


def test_supply_limit_that_does_not_bind_has_no_value() -> None:
    """With A's limit above the load, A serves all 2 MW and its supply is worth 0."""
    r = _merit(5.0)
    ds = r.to_xarray()
    assert r.objective_usd == pytest.approx(2 * 89_600.0)
    assert float(ds["onsite_supply_value_usd_per_mw"].sel(technology="a", year=2026)) == 0.0
    assert np.isnan(float(ds["onsite_supply_value_usd_per_mw"].sel(technology="b",
                                                                   year=2026)))


def test_reserve_raises_capacity_by_exactly_the_reserve() -> None:
    """Reserve 0.25 on 2 MW of load: 2.5 MW of A (capex + fixed O&M 2,000 USD per MW-year),
    generating 2 MW (fuel 175,200): 5,000 + 175,200 = 180,200; without it 179,200."""
    techs = {"a": {"fixed_om_usd_per_kw_year": 1.0}}
    r = _case([2026], [2.0], techs, {"a": 10.0}, reserve=0.25)
    r0 = _case([2026], [2.0], techs, {"a": 10.0})
    cap = r.to_xarray()["onsite_tech_capacity_mw"].sel(site="s", technology="a", year=2026)
    cap0 = r0.to_xarray()["onsite_tech_capacity_mw"].sel(site="s", technology="a", year=2026)
    assert float(cap) == pytest.approx(2.5)
    assert float(cap0) == pytest.approx(2.0)
    assert r.objective_usd == pytest.approx(180_200.0)
    assert r.objective_usd - r0.objective_usd == pytest.approx(0.5 * 2_000.0)


def test_solar_storage_saves_fuel_but_is_never_firm() -> None:
    """Solar + storage (capex 100 USD/kW: 2,000 USD per MW-year, capacity factor 0.25)
    delivers 2,190 MWh a MW-year and saves 21,900 USD of A's fuel, so it serves all the
    energy: 2 MW of load need 2/0.25 = 8 MW (16,000). Firm capacity is still
    (1 + 0.25)·2 = 2.5 MW of A (5,000), burning nothing: 21,000 USD."""
    techs = {"a": {"fixed_om_usd_per_kw_year": 1.0},
             "pv": {"kind": "solar_storage", "dispatchable": False, "capex_usd_per_kw": 100.0}}
    r = _case([2026], [2.0], techs, {"a": 10.0}, reserve=0.25, cf=0.25)
    ds = r.to_xarray()
    cap = ds["onsite_tech_capacity_mw"].sel(site="s", year=2026)
    gen = ds["onsite_gen_mw"].sel(site="s", year=2026)
    assert float(cap.sel(technology="pv")) == pytest.approx(8.0)
    assert float(cap.sel(technology="a")) == pytest.approx(2.5)
    assert float(gen.sel(technology="a")) == pytest.approx(0.0, abs=1e-9)
    assert r.objective_usd == pytest.approx(21_000.0)


def test_lead_time_and_first_year_are_respected() -> None:
    """A (fuel 20) has a lead of 1 year, B (fuel 10) runs from 2028. 2026: nothing can run,
    1 MW unserved (1,000 H100e × V); 2027: A, 1,000 + 175,200; 2028: B (1,000 + 87,600)
    beats running A (175,200) while A's annuity (1,000) is still paid:
    1e10 + 176,200 + 89,600."""
    techs = {"a": {"lead_years": 1}, "b": {"first_year": 2028}}
    r = _case([2026, 2027, 2028], [1.0, 1.0, 1.0], techs, {"a": 20.0, "b": 10.0})
    ds = r.to_xarray()
    built = ds["onsite_tech_mw"].sel(site="s")
    assert built.sel(technology="a").values.tolist() == pytest.approx([0.0, 1.0, 0.0])
    assert built.sel(technology="b").values.tolist() == pytest.approx([0.0, 0.0, 1.0])
    assert ds["unserved_h100e"].values.tolist() == pytest.approx([1000.0, 0.0, 0.0])
    assert r.objective_usd == pytest.approx(1000 * V + 176_200 + 89_600)


def test_build_rows_follow_lead_first_year_and_the_site() -> None:
    """OnsiteTech[s,t,y] exists only for y ≥ max(first_year_t, y0 + lead_t) at a site
    that allows on-site power."""
    d = tiny(years=[2026, 2027, 2028], demand_h100e=[0, 0, 0],
             sites={"s": {"onsite_allowed": True}, "n": {}})
    d.levers = Levers(onsite_tech=_onsite({"a": {"lead_years": 1}, "b": {"first_year": 2028}},
                                          {}, d.years))
    assert build_rows(d) == [("s", "a", 2027), ("s", "a", 2028), ("s", "b", 2028)]
    m = build_model(d)
    assert not hasattr(m, "Onsite_Capacity") and len(m.Onsite) == 0


def _restart(total: float):
    """A one-off restart R (no fuel, capex 50: 1,000 USD per MW-year over both years, at
    most ``total`` MW ever) and A (fuel 10: 88,600 per MW-year); 1 MW of load in
    2026–2027."""
    return _case([2026, 2027], [1.0, 1.0], {"r": {"total_limit_mw": total}, "a": {}},
                 {"a": 10.0})


def test_one_off_total_limit_and_its_dual() -> None:
    """R is built once, 0.5 MW in 2026, and serves both years; A the other 0.5 MW each
    year: 0.5·2·1,000 + 0.5·2·88,600 = 89,600. One more MW of R saves A's 2·88,600 for
    R's 2·1,000: 175,200 USD/MW, equal to the finite difference (0.5 → 0.6)."""
    r = _restart(0.5)
    ds = r.to_xarray()
    assert float(ds["onsite_tech_mw"].sel(site="s", technology="r").sum()) == pytest.approx(0.5)
    assert r.objective_usd == pytest.approx(89_600.0)
    value = float(ds["onsite_total_value_usd_per_mw"].sel(technology="r"))
    fd = (r.objective_usd - _restart(0.6).objective_usd) / 0.1
    assert value == pytest.approx(175_200.0)
    assert fd == pytest.approx(value, rel=1e-9)


def test_carbon_counts_each_technology_and_budget_its_capex() -> None:
    """With the carbon layer, 2 MW of A (0.5 t/MWh) emit 2·8,760·0.5 = 8,760 t (the
    generic onsite.emission_t_per_mwh is not used); with a budget, A's capex
    (50,000 USD/MW × 2 MW) is in capex_usd."""
    r = _case([2026], [2.0], {"a": {"co2_t_per_mwh": 0.5}}, {"a": 10.0},
              levers={"carbon": True, "onsite_emission_t_per_mwh": 3.0,
                      "budget_total_usd": {2026: 1e9}})
    ds = r.to_xarray()
    assert float(ds["emissions_t"].sel(year=2026)) == pytest.approx(2 * H * 0.5)
    assert float(ds["capex_usd"].sel(year=2026)) == pytest.approx(100_000.0)


def test_layer_off_leaves_the_generic_option() -> None:
    """Without the layer the generic option serves the load: 2 MW at capex 50,000 USD/MW
    over 50 years and fuel 10: 2·(1,000 + 87,600) = 177,200 USD."""
    d = tiny(years=[2026], demand_h100e=[2000.0], regions={"R": {"interconnect_lead_years": 50}},
             sites={"s": {"onsite_allowed": True}}, onsite_capex_usd_per_mw=50_000.0,
             onsite_fuel_usd_per_mwh=10.0, value_of_unserved_usd_per_h100e_year=V)
    r = solve_inputs(d)
    assert r.objective_usd == pytest.approx(177_200.0)
    assert "onsite_tech_mw" not in r.to_xarray()


# ---- through the front door -------------------------------------------------------------
def _folder(tmp_path: Path, options: str) -> Path:
    """A scenario folder of the merit case (2 MW, 2026) with the layer's own tables."""
    d = tiny(years=[2026], demand_h100e=[2000.0], regions={"R": {"interconnect_lead_years": 50}},
             sites={"s": {"onsite_allowed": True}}, value_of_unserved_usd_per_h100e_year=V,
             onsite_fuel_usd_per_mwh=1000.0)
    folder = write_scenario_folder(d, tmp_path / "case")
    bundled = load_onsite()
    cols = [c for c in pd.read_csv(bundled.attrs["path"]).columns]
    rows = []
    for t, extra in (("a", {"fixed_om_usd_per_kw_year": 1.0, "supply_limit_mw_per_year": 1.5,
                            "variable_om_usd_per_mwh": 10.0}),
                     ("b", {"variable_om_usd_per_mwh": 20.0}),
                     ("bat", {"kind": "storage", "dispatchable": False})):
        row = {**TECH_DEFAULTS, "technology": t, "source": "test", **extra}
        rows.append(row)
    pd.DataFrame(rows)[cols].to_csv(folder / "tech.csv", index=False)
    (folder / "gas.csv").write_text("year,henry_hub_usd_per_mmbtu,source\n2026,4.0,test\n",
                                    encoding="utf-8")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write(f"onsite_technologies: {{path: tech.csv, gas_price: gas.csv{options}}}\n")
    return folder


def test_merit_case_through_the_front_door(tmp_path: Path) -> None:
    """dcplan run on the merit case written as files (fuel as VOM, heat rate 0) with the
    default reserve 0.2: firm capacity 1.2·2 = 2.4 MW, A at its 1.5 MW limit, B 0.9 MW
    (generating 0.5): 222,500 + 0.4·1,000 = 222,900 USD; A's supply still worth
    86,600 USD/MW (a MW of A replaces a MW of B's capacity and generation); one schedule
    row per technology built; the battery row is never built."""
    folder = _folder(tmp_path, "")
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 0
    ds = xr.open_dataset(out / "results.nc")
    assert float(ds.attrs["objective_usd"]) == pytest.approx(222_900.0)
    assert list(ds.technology.values) == ["a", "b"]
    assert float(ds["onsite_tech_mw"].sel(site="s", technology="a", year=2026)) \
        == pytest.approx(1.5)
    assert float(ds["onsite_supply_value_usd_per_mw"].sel(technology="a", year=2026)) \
        == pytest.approx(86_600.0)
    assert ds["onsite_tech_mw"].attrs["units"] == "MW"
    ds.close()
    schedule = pd.read_csv(out / "build_schedule.csv")
    onsite = schedule[schedule["kind"] == "onsite"].set_index("item")["mw"]
    assert onsite.to_dict() == pytest.approx({"a": 1.5, "b": 0.9})
    assumptions = json.loads((out / "summary.json").read_text(encoding="utf-8"))["assumptions"]
    assert assumptions["onsite"]["used"] is False
    assert assumptions["onsite_technologies"]["reserve_fraction"] == 0.2


@pytest.mark.parametrize("options, words", [
    (", technologies: [a, nope]", "unknown technology 'nope'"),
    (", technologies: [bat]", "'bat' is storage, not an energy source"),
    (", reserve_fraction: -0.1", "greater than or equal to 0"),
])
def test_bad_onsite_technologies_are_one_line_exit_2(tmp_path: Path, capsys, options: str,
                                                     words: str) -> None:
    """A bad key: one line naming the scenario file and the key; exit 2; nothing written."""
    folder = _folder(tmp_path, options)
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "scenario.yaml" in err and "onsite_technologies" in err
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()


def test_bad_technology_table_names_its_row(tmp_path: Path, capsys) -> None:
    """A technology table with a negative capex: one line naming tech.csv, row and
    column; exit 2."""
    folder = _folder(tmp_path, "")
    text = (folder / "tech.csv").read_text(encoding="utf-8").splitlines()
    text[2] = text[2].replace(",50.0,", ",-5,", 1)
    (folder / "tech.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    assert main(["validate", str(folder / "scenario.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert "tech.csv" in err and "capex_usd_per_kw" in err and len(err.splitlines()) == 1


def test_hedge_commits_per_technology_like_the_generic_option(tmp_path: Path) -> None:
    """The hedge module's hand-solved case with its generic on-site option restated as one
    technology ``eng`` (same capex, life, lead 2 years, fuel 0.01 USD/MWh, no reserve): the
    same optimum (grid 40 MW committed before the reveal, SP = 85,000 USD + energy), and the
    on-site builds are commitments keyed by technology, energized its lead after."""
    from planner.hedge import hedge
    from tests.test_hedge import RUNNING, grid_mw, write_grid_or_onsite

    path = write_grid_or_onsite(tmp_path / "sc")
    (path.parent / "tech.csv").write_text(
        "technology,kind,unit_mw,capex_usd_per_kw,fixed_om_usd_per_kw_year,"
        "variable_om_usd_per_mwh,heat_rate_btu_per_kwh,co2_t_per_mwh,lead_years,first_year,"
        "life_years,dispatchable,supply_limit_mw_per_year,total_limit_mw,source\n"
        "eng,gas,10,37.5,0,0.01,0,0,2,2026,50,true,,,test\n", encoding="utf-8")
    with open(path, "a", encoding="utf-8") as f:
        f.write("onsite_technologies: {path: tech.csv, reserve_fraction: 0}\n")
    r = hedge(planner.load_scenario(path), regret=False)
    assert r.expected_cost_usd == pytest.approx(85_000 + RUNNING * 70, rel=1e-6)
    assert grid_mw(r, 2030) == pytest.approx(40, abs=1e-6)
    high = r.recourse["high"]
    key = ("onsite", "s", "eng", 2028)  # committed 2028 (recourse), in service 2030
    assert high.values[key] == pytest.approx(60, abs=1e-6)
    assert high.energize[key] == 2030
    assert r.recourse["low"].values[key] == pytest.approx(0, abs=1e-6)
    assert not {k for k in high.values if k[0] == "onsite" and k[2] != "eng"}


def test_a_sweep_changes_the_layer_options_and_years(tmp_path: Path) -> None:
    """A sweep re-derives the layer from the loaded tables: reserve 0 gives the in-memory
    merit case's 222,500 USD; a longer horizon has a fuel price for every year."""
    from planner.sweep.apply import apply_params

    folder = _folder(tmp_path, "")
    with open(folder / "demand.csv", "a", encoding="utf-8") as f:
        f.write("2027,2000.0\n")
    base = planner.load_scenario(folder / "scenario.yaml")
    assert planner.solve(base).objective_usd == pytest.approx(222_900.0)
    no_reserve = apply_params(base, {"onsite_technologies.reserve_fraction": 0.0})
    assert planner.solve(no_reserve).objective_usd == pytest.approx(222_500.0)
    longer = apply_params(base, {"years.end": 2027})
    tech = longer.levers().onsite_tech
    assert tech.fuel_usd_per_mwh["a", 2027] == pytest.approx(10.0)  # the 2026 price held


def test_spare_grid_connection_backs_up_the_reserve() -> None:
    """The reserve case with an existing (free, unused: grid energy at 1e6 USD/MWh) grid
    connection: 0.5 MW of spare connection covers the 0.25·2 = 0.5 MW reserve, so A is
    2 MW (179,200 USD, as without a reserve); with 0.2 MW it is 2.3 MW (179,800)."""
    techs = {"a": {"fixed_om_usd_per_kw_year": 1.0}}
    for existing, cap, cost in ((0.5, 2.0, 179_200.0), (0.2, 2.3, 179_800.0)):
        d = tiny(years=[2026], demand_h100e=[2000.0],
                 regions={"R": {"interconnect_lead_years": 50,
                                "energy_price_usd_per_mwh": 1e6}},
                 sites={"s": {"onsite_allowed": True, "existing_mw": existing}},
                 value_of_unserved_usd_per_h100e_year=V)
        d.levers = Levers(onsite_tech=_onsite(techs, {"a": 10.0}, [2026], reserve=0.25))
        r = solve_inputs(d)
        ds = r.to_xarray()
        assert float(ds["grid_load_mw"].sel(site="s", year=2026)) == pytest.approx(0.0)
        assert float(ds["onsite_tech_capacity_mw"].sel(site="s", technology="a", year=2026)) \
            == pytest.approx(cap)
        assert r.objective_usd == pytest.approx(cost)
