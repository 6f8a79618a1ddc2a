"""Issue 14: a plan a planner can act on — the build schedule, honest headline numbers,
the levelized cost of compute, the assumptions, the gap metrics, states, the report."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planner.outputs.headline import levelized_cost, split_cost
from planner.outputs.schedule import decisions_due
from planner.outputs.states import site_states
from tests.factory import solve_inputs, tiny
from tests.test_gap_and_demand import frontier_case

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")


def _run(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "planner", "run", "-o", str(out), *extra],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("plan") / "us-base"
    return out, _run(out).stdout


@pytest.fixture(scope="module")
def jevons_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("plan") / "jevons"
    return out, _run(out, "--demand", "jevons").stdout


# -- 1. the build schedule -----------------------------------------------------------------


def test_build_schedule_sums_to_the_mw_in_results_nc(default_run: tuple[Path, str]) -> None:
    folder, _ = default_run
    sched = pd.read_csv(folder / "build_schedule.csv")
    assert list(sched.columns) == ["year", "site", "region", "operator", "kind", "item", "mw",
                                   "lead_years", "commit_year"]
    with xr.open_dataset(folder / "results.nc") as ds:
        by_kind = sched.groupby("kind")["mw"].sum()
        for kind, var in (("facility", "build_mw"), ("grid", "grid_mw"),
                          ("onsite", "onsite_mw"), ("it", "it_mw")):
            assert by_kind[kind] == pytest.approx(float(ds[var].sum()), rel=1e-5), kind
        it = sched[sched["kind"] == "it"].groupby("item")["mw"].sum()
        want = ds["it_mw"].sum(["site", "year"]).to_series()
        want = want[want > 1e-3]
        pd.testing.assert_series_equal(it.sort_index(), want.sort_index(), check_names=False,
                                       rtol=1e-5)
        per_site = sched[sched["kind"] == "facility"].groupby("site")["mw"].sum()
        np.testing.assert_allclose(per_site.to_numpy(),
                                   ds["build_mw"].sum("year").to_series()[per_site.index],
                                   rtol=1e-5)
    regions = pd.read_csv(ROOT / "grids" / "data" / "regions.csv").set_index("region")
    grid = sched[sched["kind"] == "grid"]
    assert len(grid)
    assert (grid["lead_years"] == grid["region"].map(regions["interconnect_lead_years"])).all()
    assert (grid["commit_year"] == grid["year"] - grid["lead_years"]).all()
    onsite = sched[sched["kind"] == "onsite"]  # one row per technology, its own lead
    techs = pd.read_csv(ROOT / "models" / "data" / "onsite_technologies.csv",
                        index_col="technology")
    assert len(onsite) and onsite["item"].isin(techs.index).all()
    assert (onsite["lead_years"] == onsite["item"].map(techs["lead_years"])).all()
    assert (onsite["commit_year"] == onsite["year"] - onsite["lead_years"]).all()


def test_build_schedule_xlsx_has_a_sheet_per_year(default_run: tuple[Path, str]) -> None:
    folder, _ = default_run
    sheets = pd.read_excel(folder / "build_schedule.xlsx", sheet_name=None)
    assert next(iter(sheets)) == "all"
    assert [int(s) for s in list(sheets)[1:]] == sorted(
        pd.read_csv(folder / "build_schedule.csv")["year"].unique().tolist())
    assert sum(len(v) for k, v in sheets.items() if k != "all") == len(sheets["all"])


def test_terminal_prints_the_schedule_and_the_split_cost(default_run: tuple[Path, str]) -> None:
    folder, out = default_run
    summary = json.loads((folder / "summary.json").read_text())
    assert f"plan cost {summary['plan_cost_usd'] / 1e9:,.1f} billion USD" in out
    assert "build schedule" in out and "chips bought" in out
    assert "decisions due now (2026)" in out
    sched = pd.read_csv(folder / "build_schedule.csv")
    due = decisions_due(sched, 2026)
    assert len(due) and (due["year"] > 2026).all()
    assert f"{due[due['kind'] == 'grid']['mw'].sum():,.0f} MW" in out


# -- 2. honest headline numbers ------------------------------------------------------------


def test_jevons_headline_cost_excludes_the_penalty(jevons_run: tuple[Path, str]) -> None:
    folder, out = jevons_run
    s = json.loads((folder / "summary.json").read_text())
    assert s["unserved_value_usd"] > 0.5 * s["objective_usd"]  # the penalty dominates
    assert s["plan_cost_usd"] + s["unserved_value_usd"] == pytest.approx(s["objective_usd"],
                                                                         rel=1e-12)
    assert s["unserved_value_usd"] == pytest.approx(s["cost_usd_by_component"]["unserved"])
    headline = next(line for line in out.split("\n") if "optimal plan" in line)
    assert f"plan cost {s['plan_cost_usd'] / 1e9:,.1f} billion USD" in headline
    assert f"plan cost {s['objective_usd'] / 1e9:,.1f}" not in headline
    report = (folder / "report.html").read_text(encoding="utf-8")
    first_card = report.split('<div class="card"><div class="v">', 1)[1].split("<", 1)[0]
    assert first_card == f"{s['plan_cost_usd'] / 1e9:,.1f} billion USD"
    a = s["assumptions"]
    assert a["demand"]["preset"] == "jevons"
    assert a["efficiency"]["frontier_growth_per_year"] == 1.35
    assert a["discount_rate"] == 0.08 and a["utilization"] == 0.8
    assert a["interconnect_lead_years_by_region"]["PJM"] == 7
    assert a["onsite"]["lead_years"] == 2
    assert set(a["inputs_sha256"]) >= {"regions", "sites", "chips"}


def test_split_cost_puts_only_unserved_in_the_penalty() -> None:
    plan, penalty = split_cost({"facility": 1.0, "chips": 2.0, "fuel": 0.5, "carbon": 0.25,
                                "unserved": 10.0})
    assert (plan, penalty) == (3.75, 10.0)


def test_levelized_cost_of_compute_by_hand() -> None:
    """One chip: 1 kW and 1 H100e per unit, 1,000 USD, 1-year life, ρ = 0: capital
    1,000 USD per H100e-year; energy 1 kW × 8,760 h × 10 USD/MWh = 87.6 USD."""
    r = solve_inputs(tiny(
        years=[2026, 2027], demand_h100e=[1000, 3000],
        regions={"R": {"energy_price_usd_per_mwh": 10.0}},
        chips={"g": {"capex_usd_per_unit": 1000.0, "life_years": 1}},
    ))
    lev = levelized_cost(r.to_xarray())
    assert lev.to_numpy() == pytest.approx([1087.6, 1087.6], rel=1e-9)


# -- 3. the gap the report is named for -----------------------------------------------------


def test_gap_metrics_on_demand_4_5_and_efficiency_1_35() -> None:
    years = list(range(2026, 2031))
    gap = solve_inputs(frontier_case(4.5, 1.35, years)).gap()
    assert gap["net_power_growth"].iloc[1:].to_numpy() == pytest.approx(4.5 / 1.35, rel=1e-9)
    needed = gap["power_needed_at_frontier_mw"].to_numpy()
    assert needed[1:] / needed[:-1] == pytest.approx(4.5 / 1.35, rel=1e-6)
    assert needed[0] == pytest.approx(1000 / 1000 * 1.25)  # 1,000 H100e, π 1,000, PUE 1.25
    energized = gap["power_energized_mw"].to_numpy()
    assert gap["efficiency_only_gap_mw"].to_numpy() == pytest.approx(needed - energized[0])
    assert gap["realized_power_growth"].iloc[1:].to_numpy() == pytest.approx(4.5 / 1.35,
                                                                             rel=5e-3)
    assert gap["net_power_growth_fleet"].iloc[1:].to_numpy() == pytest.approx(4.5 / 1.35,
                                                                              rel=5e-3)


def test_default_gap_shows_the_new_power_needed(default_run: tuple[Path, str]) -> None:
    gap = pd.read_csv(default_run[0] / "gap.csv")
    # demand is served but in 2028, when vendor supply binds: the gap is the unserved part
    unserved = gap["unserved_h100e"] > 1.0
    assert gap.loc[unserved, "year"].tolist() == [2028]
    assert gap.loc[~unserved, "gap_mw"].abs().max() < 1e-3
    assert (gap.loc[unserved, "gap_mw"] > 0).all()
    assert gap["efficiency_only_gap_mw"].max() > 1000  # … and new power must be found
    load = gap["power_energized_mw"].to_numpy()
    assert gap["realized_power_growth"].iloc[1] == pytest.approx(load[1] / load[0], rel=1e-5)


# -- 5. states -------------------------------------------------------------------------------


def test_sites_are_placed_in_their_states() -> None:
    lon = np.array([-77.487, -99.733, -83.0, -122.0, -80.19])
    lat = np.array([39.043, 32.449, 40.0, 47.6, 25.77])
    assert site_states(lon, lat).tolist() == ["VA", "TX", "OH", "WA", "FL"]


def test_capacity_by_state_sums_to_the_run(default_run: tuple[Path, str]) -> None:
    folder, _ = default_run
    states = pd.read_csv(folder / "capacity_by_state.csv")
    with xr.open_dataset(folder / "results.nc") as ds:
        by_year = states.groupby("year")[["load_mw", "energy_twh", "build_mw"]].sum()
        np.testing.assert_allclose(by_year["load_mw"], ds["load_mw"].sum("site"), rtol=1e-5)
        np.testing.assert_allclose(by_year["energy_twh"], ds["energy_twh"], rtol=1e-5)
        np.testing.assert_allclose(by_year["build_mw"], ds["build_mw"].sum("site"), rtol=1e-5)
        assert int(states.groupby("state")["sites"].first().sum()) == ds.sizes["site"]
    assert {"VA", "TX", "OH"} <= set(states["state"])
    layer = gpd.read_file(folder / "capacity_map.gpkg", layer="states")
    assert layer.crs.to_epsg() == 4326 and "TX" in set(layer["state"])
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert 'id="states-table"' in report and "<td class=\"t\">Texas</td>" in report
    tx = layer.set_index("state").loc["TX"]
    assert tx["load_mw_2040"] == pytest.approx(
        states[(states["state"] == "TX") & (states["year"] == 2040)]["load_mw"].iloc[0],
        rel=1e-5)


# -- 4. the report, in a browser ---------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def test_report_reads_as_an_answer(default_run: tuple[Path, str], browser: Any) -> None:
    folder, _ = default_run
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto((folder / "report.html").resolve().as_uri())
        page.wait_for_selector("path.dc-region", timeout=15_000)
        order = page.evaluate("() => Array.from(document.querySelectorAll('main > section'))"
                              ".map(s => s.id)")
        assert order == ["answer", "headline", "schedule", "gap", "calibration", "capacity",
                         "map-section",
                         "cost", "assumptions", "caveats"]
        assert page.locator("#calibration-chart svg").count() == 1  # this run vs published
        assert "AI share" in page.locator("#calibration").inner_text()
        assert page.locator("#question").count() == 1
        assert page.locator("#answer li").count() == 3
        answer = page.locator("#answer").inner_text()
        assert "GW" in answer and "billion USD" in answer and "2026" in answer
        for chart in ("#gantt-chart svg", "#chip-mix-chart svg", "#gap-chart svg"):
            assert page.locator(chart).count() == 1, chart
            assert page.locator(chart).bounding_box()["width"] > 600, chart
        due = page.locator("#decisions-table tbody tr")
        assert due.count() > 0
        # headers are human, with units
        page.locator("#schedule-details > summary").click()
        heads = page.locator("#schedule-table th").all_inner_texts()
        assert "MW" in heads and "Commit by (year)" in heads and not any("_" in h for h in heads)
        # the schedule table (folded away: open it) sorts by MW, largest first after two clicks
        mw_col = heads.index("MW")
        page.locator("#schedule-table th").nth(mw_col).click()
        page.locator("#schedule-table th").nth(mw_col).click()
        first = page.locator("#schedule-table tbody tr").first.locator("td").nth(mw_col)
        values = page.locator(f"#schedule-table tbody tr td:nth-child({mw_col + 1})") \
            .evaluate_all("cs => cs.map(c => Number(c.dataset.v))")
        assert float(first.get_attribute("data-v")) == max(values)
        assumptions = page.locator("#assumptions").inner_text()
        for text in ("Demand path", "Discount rate", "Frontier efficiency growth",
                     "interconnection lead times", "SHA-256"):
            assert text in assumptions, text
        assert "ties" in page.locator("#caveats").inner_text().lower() or \
            "same cost" in page.locator("#caveats").inner_text()
        assert "levelized" in page.locator("#cost").inner_text().lower()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report_plan.png"), full_page=True)
    finally:
        page.close()
    assert not errors, errors


def test_dcplan_report_rewrites_the_plan_sections(default_run: tuple[Path, str],
                                                  tmp_path: Path) -> None:
    folder, _ = default_run
    out = tmp_path / "again.html"
    proc = subprocess.run([sys.executable, "-m", "planner", "report", str(folder), "-o",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    for anchor in ('id="decisions-table"', 'id="gantt-chart"', 'id="chip-mix-chart"',
                   'id="assumptions-table"', 'class="answer"', 'id="states-table"'):
        assert anchor in text, anchor
