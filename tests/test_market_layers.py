"""Issue 15's market-data layers: hand-solved cases, duals by finite difference, and the
bundled us-credible example through the front door.

Every tiny case has ρ = 0 (δ = 1), PUE 1 and a chip of π = 1,000 H100e per IT-MW
(1 kW, 1 H100e per unit), so 1 MW serves 1,000 H100e and the arithmetic is by hand.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import planner
from models.levers.data import ForcedBuild, Levers
from models.parameters import (
    default_parameters_path,
    load_parameters,
    newest_chip_levelized_usd_per_h100e_year,
)
from planner.cli.commands import main
from planner.inputs.scenario import load_scenario
from tests.factory import edit_csv, replace_text, solve_inputs, tiny
from tests.scenario_folders import write_scenario_folder

V = 1e4  # value of unserved compute in the tiny cases, USD per H100e-year
CREDIBLE = Path(planner.__file__).parent / "data" / "us-credible.yaml"


def _lead_case(uc_mw: float, lead: int = 2):
    """One site, 2026–2028, 1,000 H100e a year; halls cost 1e6 USD/MW over 50 years."""
    d = tiny(years=[2026, 2027, 2028], demand_h100e=[1000, 1000, 1000],
             sites={"s": {"build_capex_usd_per_mw": 1e6}},
             value_of_unserved_usd_per_h100e_year=V)
    d.facility_lead_years = lead
    d.levers = Levers(under_construction={"s": (uc_mw, 2027)} if uc_mw else {})
    return solve_inputs(d)


def test_construction_lead_hand_solved() -> None:
    """Lead 2: no hall before 2028 except the 0.5 MW under construction in 2027, so
    2026 is all unserved (1,000 H100e), 2027 half (500), 2028 none.

    Cost = unserved (1,000 + 500)·V + facility annuities 1e6/50 per MW-year: 0.5 MW in
    2027 and 2028, 0.5 MW more in 2028 → (0.5 + 1.0)·2e4 = 3e4."""
    r = _lead_case(0.5)
    ds = r.to_xarray()
    assert ds["build_mw"].sel(site="s").values.tolist() == pytest.approx([0.0, 0.5, 0.5])
    assert ds["unserved_h100e"].values.tolist() == pytest.approx([1000.0, 500.0, 0.0])
    assert r.objective_usd == pytest.approx(1500 * V + 3e4)


def test_construction_lead_without_it_builds_at_once() -> None:
    """The same case without a lead serves every year (the layer is what binds)."""
    r = _lead_case(0.0, lead=0)
    assert float(r.to_xarray()["unserved_h100e"].sum()) == pytest.approx(0.0)


def test_build_lead_dual_equals_finite_difference() -> None:
    """One more MW under construction in 2027 serves 1,000 H100e more that year (saves
    1,000·V) for one more year of hall annuity (1e6/50): 1e7 − 2e4 = 9.98e6 USD/MW."""
    r = _lead_case(0.5)
    value = float(r.to_xarray()["lead_time_value_usd_per_mw"].sel(site="s", year=2027))
    fd = (r.objective_usd - _lead_case(0.51).objective_usd) / 0.01
    assert value == pytest.approx(1e7 - 2e4)
    assert fd == pytest.approx(value, rel=1e-6)


def _supply_case(limit_a: float, limit_all: float | None = None):
    """Vendor A's chip costs 100 USD per H100e, vendor B's 300 (life 50, ρ 0: 2 and 6 USD
    per H100e-year); demand 1,000 H100e in one year."""
    d = tiny(years=[2026], demand_h100e=[1000],
             chips={"a": {"vendor": "A", "capex_usd_per_unit": 100.0},
                    "b": {"vendor": "B", "capex_usd_per_unit": 300.0}},
             value_of_unserved_usd_per_h100e_year=V)
    supply = {("A", 2026): limit_a}
    if limit_all is not None:
        supply["all", 2026] = limit_all
    d.levers = Levers(accelerator_supply_h100e=supply)
    return solve_inputs(d)


def test_accelerator_supply_hand_solved() -> None:
    """600 H100e of A, the rest from B: 600·2 + 400·6 = 3,600 USD."""
    r = _supply_case(600.0)
    ds = r.to_xarray()
    assert r.objective_usd == pytest.approx(3600.0)
    assert float(ds["gpu_bought_h100e"].sel(vendor="A", year=2026)) == pytest.approx(600.0)
    assert float(ds["gpu_supply_value_usd_per_h100e"].sel(vendor="A", year=2026)) \
        == pytest.approx(4.0)


def test_accelerator_supply_all_vendors_leaves_demand_unserved() -> None:
    """All vendors at most 800 H100e: 200 unserved at V, 600 of A and 200 of B."""
    r = _supply_case(600.0, limit_all=800.0)
    assert r.objective_usd == pytest.approx(600 * 2 + 200 * 6 + 200 * V)
    ds = r.to_xarray()
    assert float(ds["gpu_supply_value_usd_per_h100e"].sel(vendor="all", year=2026)) \
        == pytest.approx(V - 6.0)


def test_gpu_supply_value_equals_finite_difference() -> None:
    """The reported value of one more H100e of A equals the objective's difference."""
    r = _supply_case(600.0)
    value = float(r.to_xarray()["gpu_supply_value_usd_per_h100e"].sel(vendor="A", year=2026))
    fd = (r.objective_usd - _supply_case(601.0).objective_usd) / 1.0
    assert fd == pytest.approx(value, rel=1e-9)


def _headroom_case(table: dict[int, float], scalar: float = np.nan,
                   national: dict[int, float] | None = None):
    """Two regions with a free site each; 2,000 H100e (2 MW) a year, all from new grid
    (1e4 USD per MW in R1, so no MW more than needed)."""
    d = tiny(years=[2026, 2027], demand_h100e=[2000, 2000],
             regions={"R1": {"new_load_limit_mw_per_year": scalar,
                             "interconnect_capex_usd_per_mw": 1e4}, "R2": {}},
             sites={"a": {"region": "R1"}, "b": {"region": "R2"}},
             value_of_unserved_usd_per_h100e_year=V)
    d.new_load_limit_mw = pd.DataFrame({y: [v, 0.0] for y, v in table.items()},
                                       index=["R1", "R2"])
    if national is not None:
        d.levers = Levers(national_headroom_mw=national)
    return solve_inputs(d)


def test_firm_headroom_per_year_hand_solved() -> None:
    """R2 may connect nothing; R1 1 MW in 2026 and 3 in 2027: 1,000 H100e unserved in
    2026, none in 2027 (1 + 1 MW)."""
    r = _headroom_case({2026: 1.0, 2027: 3.0})
    ds = r.to_xarray()
    assert ds["unserved_h100e"].values.tolist() == pytest.approx([1000.0, 0.0])
    assert ds["grid_mw"].sel(site="a").values.tolist() == pytest.approx([1.0, 1.0])
    # one more MW in 2026 serves 1,000 H100e that year, and is paid one year earlier than
    # the 2027 MW it replaces: 1e4 USD / 50 years = 200 USD
    assert float(ds["headroom_value_usd_per_mw"].sel(region="R1", year=2026)) \
        == pytest.approx(1000 * V - 200)


def test_firm_headroom_takes_the_smaller_of_the_two_limits() -> None:
    """The region's own limit of 0.5 MW/yr is below the table's 1 and 3: it binds."""
    r = _headroom_case({2026: 1.0, 2027: 3.0}, scalar=0.5)
    assert r.to_xarray()["grid_mw"].sel(site="a").values.tolist() == pytest.approx([0.5, 0.5])


def test_national_headroom_hand_solved_and_dual() -> None:
    """Regional limits 10 MW, national 1.5 MW in 2026: 500 H100e unserved in 2026. One
    more national MW serves 1,000 H100e in 2026 and is paid a year before the 2027 MW it
    replaces (1e4 / 50 = 200 USD): 1,000·V − 200 per MW, by finite difference too."""
    table = {2026: 10.0, 2027: 10.0}
    r = _headroom_case(table, national={2026: 1.5})
    ds = r.to_xarray()
    assert ds["unserved_h100e"].values.tolist() == pytest.approx([500.0, 0.0])
    value = float(ds["national_headroom_value_usd_per_mw"].sel(year=2026))
    assert value == pytest.approx(1000 * V - 200)
    fd = (r.objective_usd - _headroom_case(table, national={2026: 1.51}).objective_usd) / 0.01
    assert fd == pytest.approx(value, rel=1e-6)
    assert math.isnan(float(ds["national_headroom_value_usd_per_mw"].sel(year=2027)))


def test_sales_tax_moves_chips_to_the_exempt_site() -> None:
    """Chips cost 100 USD per H100e (life 1, ρ 0): at a taxed site 10 % more. With both
    sites the exempt one gets every chip (100,000 USD); with only the taxed one the plan
    pays 110,000 USD."""
    def case(sites: dict) -> planner.Result:
        d = tiny(years=[2026], demand_h100e=[1000], sites=sites,
                 chips={"g": {"capex_usd_per_unit": 100.0, "life_years": 1}})
        d.server_tax_rate = {"taxed": 0.1, "free": 0.0}
        return solve_inputs(d)
    both = case({"taxed": {}, "free": {}})
    assert both.objective_usd == pytest.approx(100_000.0)
    assert float(both.to_xarray()["it_mw"].sel(site="free").sum()) == pytest.approx(1.0)
    assert case({"taxed": {}}).objective_usd == pytest.approx(110_000.0)


def test_idle_halls_pay_fixed_om() -> None:
    """2 MW of halls standing and no demand: the plan pays 2 MW × 211,580 USD a year for
    two years, the cost component facility_om."""
    d = tiny(years=[2026, 2027], demand_h100e=[0, 0], sites={"s": {"existing_mw": 2.0}})
    d.levers = Levers(facility_om_usd_per_mw_year=211_580.0)
    r = solve_inputs(d)
    assert r.objective_usd == pytest.approx(2 * 2 * 211_580.0)
    assert r.cost_breakdown().loc["facility_om"].sum() == pytest.approx(2 * 2 * 211_580.0)


def test_indexed_unserved_value_uses_the_newest_chip() -> None:
    """us-credible with ``market: {}``: 2026's value of unserved compute = the multiple ×
    the lifetime rent of the cheapest chip first sold in 2025 — its flat levelized cost
    (by hand from chips.csv and the sites' mean capex, PUE and 2026 energy price) × the
    rent tilt for rents falling 1.35× a year over its 5 years — which is the observed
    H100 rent of 20,586 USD/H100e-yr the multiple is derived from."""
    sc = load_scenario(CREDIBLE)
    k = float(load_parameters().loc["unserved_value_multiple", "value"])
    assert k == 1.957
    sc.market.unserved_value_multiple = k
    d = sc.capacity_inputs()
    chips = sc.chips
    newest = chips[(chips["first_year"] == 2025) & (chips["last_year"] >= 2026)]
    crf = lambda r, n: r / (1 - (1 + r) ** -n)  # noqa: E731
    capex, pue = sc.sites["build_capex_usd_per_mw"].mean(), sc.sites["pue"].mean()
    price = d.energy_price_usd_per_mwh[2026].mean()
    pi = newest["pi_h100e_per_mw"]
    flat = (newest["kappa_usd_per_mw"] / pi * crf(0.08, 5) + capex * pue / pi * crf(0.08, 20)
            + pue / pi * 0.8 * 8760 * price).min()
    tilt = sum(1.08 ** -t for t in range(1, 6)) / sum(
        1.35 ** (1 - t) * 1.08 ** -t for t in range(1, 6))
    blocks = d.blocks().set_index("year")["value_usd_per_h100e_year"]
    assert blocks[2026] == pytest.approx(k * flat * tilt)
    assert blocks[2026] == pytest.approx(20_586, rel=1e-3)  # today's observed rent
    assert blocks[2040] < blocks[2026] / 10  # it falls with the frontier
    lev = newest_chip_levelized_usd_per_h100e_year(
        chips, [2026], 0.08, 20, capex, pue, pd.Series([price], index=[2026]), 0.8)
    assert float(lev[2026]) == pytest.approx(flat)


def test_indexed_unserved_value_hand_solved_per_year(tmp_path: Path) -> None:
    """A scenario folder, ρ = 0, free halls and power, frontier growth 2 a year, multiple 2.

    Chip g1 (2026 only): 1,000 USD per H100e, life 2 → flat cost 500 USD/H100e-yr; g2
    (2027 only): 2 H100e per unit at the same price → 250. Rent tilt at ρ = 0, G = 2,
    ℓ = 2: 2 / (1 + 1/2) = 4/3. Value of unserved = 2 × 4/3 × (500, 250) =
    (1,333.33, 666.67) USD/H100e-yr.

    Demand 1,000 H100e in 2026, none in 2027, and a 0.5 MW site (500 H100e of g1):
    500 g1 bought (5e5 USD over two years, less than the 500 × 1,333.33 they save),
    500 H100e unserved at 1,333.33 → objective 5e5 + 666,666.67, and the marginal cost
    of compute in 2026 is the indexed value."""
    d = tiny(years=[2026, 2027], demand_h100e=[1000, 0], sites={"s": {"max_mw": 0.5}},
             chips={"g1": {"first_year": 2026, "last_year": 2026, "capex_usd_per_unit": 1000.0,
                           "life_years": 2},
                    "g2": {"first_year": 2027, "last_year": 2027, "h100e_per_unit": 2.0,
                           "capex_usd_per_unit": 1000.0, "life_years": 2}})
    folder = write_scenario_folder(d, tmp_path / "case")
    params = tmp_path / "case" / "params.csv"
    shutil.copyfile(default_parameters_path(), params)
    edit_csv(params, 1, "value", "2")
    replace_text(folder / "scenario.yaml", "frontier_growth: null", "frontier_growth: 2.0")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("market: {path: params.csv, facility_om: false}\n")
    values = load_scenario(folder / "scenario.yaml").capacity_inputs().blocks().set_index(
        "year")["value_usd_per_h100e_year"]
    assert values.to_dict() == pytest.approx({2026: 4000 / 3, 2027: 2000 / 3})
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 0
    ds = xr.open_dataset(out / "results.nc")
    assert float(ds["unserved_h100e"].sel(year=2026)) == pytest.approx(500.0)
    assert float(ds["compute_price_usd_per_h100e_year"].sel(year=2026)) \
        == pytest.approx(4000 / 3)
    ds.close()
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective_usd"] == pytest.approx(5e5 + 500 * 4000 / 3)


def test_indexed_unserved_value_leaves_no_year_fully_unserved(tmp_path: Path) -> None:
    """us-credible with the indexed value on (``market: true``) through dcplan run: the
    value pays for the newest chip in every year, so no year is left fully unserved
    (the flat-annuity index of before left all of 2032–37 unserved) and no more than
    a tenth of any year's demand is."""
    text = CREDIBLE.read_text(encoding="utf-8")
    assert "market: {index_unserved: false}" in text
    scen = tmp_path / "credible-indexed.yaml"
    scen.write_text(text.replace("market: {index_unserved: false}", "market: true"),
                    encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(scen), "-o", str(out)]) == 0
    gap = pd.read_csv(out / "gap.csv").set_index("year")
    assert (gap["served_h100e"] > 0.9 * gap["demand_h100e"]).all(), gap["served_h100e"]


def test_committed_campus_through_the_front_door(tmp_path: Path) -> None:
    """A scenario folder with its own sites and a campus of 300 MW at s in 2027, with no
    demand: dcplan run builds exactly the campus (Forced_Build), and the construction
    lead (1 year, site facts of its own) lets it complete in 2027."""
    d = tiny(years=[2026, 2027], demand_h100e=[0, 0],
             sites={"s": {"build_capex_usd_per_mw": 1e6}})
    folder = write_scenario_folder(d, tmp_path / "case")
    (folder / "campuses.csv").write_text(
        "campus,site,operator,customer,online_year,committed_mw,status\n"
        "c1,s,op,,2027,200,contracted\nc2,s,op,,2027,100,under_construction\n"
        "c3,s,op,,2026,50,announced\n", encoding="utf-8")
    (folder / "facts.csv").write_text(
        "site,state,construction_lead_years,under_construction_mw,under_construction_year\n"
        "s,TX,1,0,\n", encoding="utf-8")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("site_facts: facts.csv\nconstruction: {lead_years: 3}\n"
                "committed_campuses: {path: campuses.csv}\n")
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 0
    ds = xr.open_dataset(out / "results.nc")
    assert ds["build_mw"].sel(site="s").values.tolist() == pytest.approx([0.0, 300.0])
    assert float(ds["forced_build_cost_usd_per_mw"].sel(forced_build=1)) \
        == pytest.approx(1e6 / 50)
    ds.close()


def test_bad_campus_status_is_one_line_exit_2(tmp_path: Path, capsys) -> None:
    """An unknown status names the scenario file, line and key; exit 2; nothing written."""
    d = tiny(years=[2026], demand_h100e=[0])
    folder = write_scenario_folder(d, tmp_path / "case")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("committed_campuses: {statuses: [signed]}\n")
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "scenario.yaml" in err and "committed_campuses.statuses.0" in err
    assert "unknown status 'signed'" in err and "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert not out.exists()


def test_bundled_tables_with_own_sites_need_their_own(tmp_path: Path, capsys) -> None:
    """sales_tax with a sites table of your own and no site_facts: a one-line error."""
    d = tiny(years=[2026], demand_h100e=[0])
    folder = write_scenario_folder(d, tmp_path / "case")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("sales_tax: true\n")
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "site_facts" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def credible() -> tuple[planner.Scenario, planner.Result]:
    sc = load_scenario(CREDIBLE)
    return sc, planner.solve(sc)


def test_us_credible_respects_every_layer(credible) -> None:
    """The bundled example: the installed base serves most of 2026; no hall before the
    lead except those under construction; purchases within supply; committed campuses
    built; grid within the national headroom."""
    sc, r = credible
    ds = r.to_xarray()
    assert r.status == "Optimal"
    fleet_2026 = float((ds["existing_fleet_it_mw"].sel(year=2026).sum("site")
                        * ds["pi_h100e_per_mw"]).sum())
    assert fleet_2026 > 0.9 * float(sc.demand_h100e[2026])
    lv = sc.levers()
    for (s, y), cap in _lead_caps(sc).items():
        assert float(ds["build_mw"].sel(site=s, year=y)) <= cap + 1e-6
    bought, supply = ds["gpu_bought_h100e"], ds["gpu_supply_h100e"]
    assert bool(((bought <= supply * (1 + 1e-9) + 1e-3) | bought.isnull()).all())
    for f in lv.forced_builds:
        assert float(ds["build_mw"].sel(site=f.site, year=f.year)) >= f.build_mw - 1e-6
    national = ds["national_headroom_mw"]
    assert bool((ds["grid_mw"].sum("site") <= national + 1e-6).all())
    assert float(ds["gpu_supply_value_usd_per_h100e"].max()) > 0  # supply binds somewhere


def _lead_caps(sc: planner.Scenario) -> dict[tuple[str, int], float]:
    from models.levers.construction import lead_rows

    return lead_rows(sc.capacity_inputs())


def test_campuses_become_forced_builds_summed_per_site_and_year() -> None:
    """The bundled campuses: under construction and contracted only, one forced build
    per (site, year) with the MW summed."""
    sc = load_scenario(CREDIBLE)
    camp = sc.market.campuses
    assert all(isinstance(f, ForcedBuild) for f in camp)
    assert len({(f.site, f.year) for f in camp}) == len(camp)
    from sites.campuses import load_campuses
    table = load_campuses(None, sc.sites)
    kept = table[table["status"].isin(["under_construction", "contracted"])]
    assert sum(f.build_mw for f in camp) == pytest.approx(float(kept["committed_mw"].sum()))


def test_clustered_sites_with_site_layers_fail_with_one_message() -> None:
    """Per-site layers name the bundled sites: after clustering, an error names the key."""
    from dataclasses import replace

    from grids.tables import InputError
    from planner.inputs.cluster import cluster_sites

    sc = replace(cluster_sites(load_scenario(CREDIBLE), 2), fleet=None)
    with pytest.raises(InputError, match="were the sites clustered"):
        sc.levers()


def test_supply_and_headroom_tables_through_the_front_door(tmp_path: Path) -> None:
    """The supply case as a scenario folder with tables of its own (A: 1,200 × 0.5 = 600
    H100e). A national headroom of 0.3 MW (the site has no grid yet) serves 300 H100e, all
    of A (the cheaper, under its limit), and leaves 700 unserved; one more national MW
    serves 1,000 H100e more of A: 1,000·V − 1,000·2 USD."""
    d = tiny(years=[2026], demand_h100e=[1000],
             chips={"a": {"vendor": "A", "capex_usd_per_unit": 100.0},
                    "b": {"vendor": "B", "capex_usd_per_unit": 300.0}},
             value_of_unserved_usd_per_h100e_year=V)
    folder = write_scenario_folder(d, tmp_path / "case")
    (folder / "supply.csv").write_text(
        "vendor,year,max_h100e,us_share,basis\nA,2026,1200,0.5,assumption\n", encoding="utf-8")
    (folder / "headroom.csv").write_text(
        "region,year,firm_load_limit_mw,basis\nR,2026,5,assumption\nUS,2026,0.3,assumption\n",
        encoding="utf-8")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("accelerator_supply: {path: supply.csv}\nfirm_headroom: {path: headroom.csv}\n")
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 0
    ds = xr.open_dataset(out / "results.nc")
    assert float(ds["unserved_h100e"].sel(year=2026)) == pytest.approx(700.0)
    assert float(ds["gpu_bought_h100e"].sel(vendor="A", year=2026)) == pytest.approx(300.0)
    assert float(ds["gpu_supply_h100e"].sel(vendor="A", year=2026)) == pytest.approx(600.0)
    assert float(ds["national_headroom_value_usd_per_mw"].sel(year=2026)) \
        == pytest.approx(1000 * V - 2000)
    ds.close()


@pytest.mark.parametrize("line, words", [
    ("accelerator_supply: 5", "expected true, false or a mapping"),
    ("construction: {lead_years: -1}", "greater than or equal to 0"),
    ("firm_headroom: {path: nope.csv}", "file not found: nope.csv"),
])
def test_bad_layer_keys_are_one_line_exit_2(tmp_path: Path, capsys, line: str,
                                            words: str) -> None:
    """A bad market-layer key: one line naming the file and key; exit 2."""
    folder = write_scenario_folder(tiny(years=[2026], demand_h100e=[0]), tmp_path / "case")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write(line + "\n")
    assert main(["validate", str(folder / "scenario.yaml")]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "scenario.yaml" in err and len(err.splitlines()) == 1


def test_construction_without_site_facts_through_the_front_door(tmp_path: Path) -> None:
    """`construction: {lead_years: 1, site_facts: false}` on the lead case: no hall in
    2026 (1,000 H100e unserved), and the lead's dual is reported: 1,000·V − 1e6/50."""
    d = tiny(years=[2026, 2027], demand_h100e=[1000, 1000],
             sites={"s": {"build_capex_usd_per_mw": 1e6}},
             value_of_unserved_usd_per_h100e_year=V)
    folder = write_scenario_folder(d, tmp_path / "case")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write("construction: {lead_years: 1, site_facts: false}\n")
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 0
    ds = xr.open_dataset(out / "results.nc")
    assert ds["unserved_h100e"].values.tolist() == pytest.approx([1000.0, 0.0])
    assert float(ds["lead_time_value_usd_per_mw"].sel(site="s", year=2026)) \
        == pytest.approx(1000 * V - 2e4)
    ds.close()


def test_us_credible_onsite_technologies_respect_supply_and_reserve(credible) -> None:
    """The bundled example's on-site power per technology: MW completed within each
    technology's national supply and one-off total, no build before its lead or first
    year, firm on-site MW + spare firm grid connection ≥ 1.2 × on-site load, and on-site MW =
    the technologies' sum."""
    sc, r = credible
    ds = r.to_xarray()
    built = ds["onsite_tech_mw"].sum("site")
    limit = ds["onsite_supply_limit_mw"]
    assert bool(((built <= limit + 1e-6) | limit.isnull()).all())
    total = ds["onsite_total_limit_mw"]
    assert bool(((built.sum("year") <= total + 1e-6) | total.isnull()).all())
    table = sc.levers().onsite_tech.table
    for t in table.index:
        first = max(int(table.at[t, "first_year"]), 2026 + int(table.at[t, "lead_years"]))
        assert float(built.sel(technology=t, year=slice(None, first - 1)).sum()) == 0.0
    firm = table.index[table["dispatchable"].astype(bool)].tolist()
    firm_mw = ds["onsite_tech_capacity_mw"].sel(technology=firm).sum("technology")
    spare_grid = ds["grid_capacity_mw"] - ds["grid_load_mw"]
    assert bool((firm_mw + spare_grid >= 1.2 * ds["onsite_load_mw"] - 1e-6).all())
    assert np.allclose(ds["onsite_mw"], ds["onsite_tech_mw"].sum("technology"))
    assert float(ds["onsite_supply_value_usd_per_mw"].max()) > 0  # a supply limit binds


def test_a_sweep_that_changes_the_years_re_derives_the_layers_rows() -> None:
    """``years.end: 2027`` in a sweep of the default: the committed campuses, supply and
    headroom rows are those of 2026–2027 (a campus of 2028 would name a year the model
    has not), and the plan solves."""
    import planner
    from planner.sweep.apply import apply_params

    sc = apply_params(planner.load_scenario(), {"years.end": 2027})
    assert sc.years == [2026, 2027]
    assert {f.year for f in sc.market.campuses} <= {2026, 2027}
    assert {y for _, y in sc.market.accelerator_supply_h100e} == {2026, 2027}
    assert list(sc.market.regional_headroom_mw.columns) == [2026, 2027]
    assert planner.solve(sc).status == "Optimal"
