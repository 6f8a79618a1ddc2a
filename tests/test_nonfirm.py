"""Non-firm (curtailable) grid connections: the layer ``models.levers.nonfirm`` (issue 16 §2, §4).

Key cases run as scenario folders through ``dcplan run`` (the front door); the
limiting cases that sweep a parameter run in memory on ``tests.factory.tiny``.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.capacity import CapacityInputs
from models.levers import Levers, NonFirm
from models.model import build_model
from planner.cli.commands import main
from planner.inputs.headroom import RegionCurve
from tests.factory import solve_inputs, tiny
from tests.scenario_folders import write_scenario_folder

H = 8760.0
YEARS = [2026, 2027, 2028, 2029, 2030]


def peak_hours_load(path: Path, region: str = "R") -> Path:
    """One year (2023) of hourly load: 200 MW, and 210 MW in the 4 hours 16:00–19:59 UTC
    of every day (the daily peak, which is also the seasonal threshold)."""
    t = pd.date_range("2023-01-01", periods=8760, freq="h")
    pd.DataFrame({"utc_time": t.strftime("%Y-%m-%d %H:%M"),
                  region: np.where(t.hour.isin([16, 17, 18, 19]), 210.0, 200.0)}
                 ).to_csv(path, index=False)
    return path


def wait_or_go_now() -> CapacityInputs:
    """The hand-solved case's inputs without ``nonfirm:`` (see
    :func:`test_hand_solved_wait_for_firm_or_nonfirm_now_with_a_battery`)."""
    return tiny(years=YEARS, demand_h100e=[1000.0] * 5,
                regions={"R": {"interconnect_lead_years": 4}},
                sites={"s": {"max_mw": 1.0}},
                facility_life_years=50, value_of_unserved_usd_per_h100e_year=1000.0)


HAND_NONFIRM = """\
hourly_load: hourly.csv
nonfirm:
  curtailment_pct: 0.5
  lead_years: 0
  capex_usd_per_mw: 1000000
  battery_usd_per_mw: 500000
  battery_usd_per_mwh: 250000
  battery_life_years: 10
  battery_lead_years: 0
  headroom_mw: {R: %s}
"""


def scenario(tmp_path: Path, inputs: CapacityInputs, extra: str = "", name: str = "case",
             hourly: bool = True) -> Path:
    """A scenario folder for ``inputs`` with ``extra`` appended to its YAML."""
    folder = write_scenario_folder(inputs, tmp_path / name)
    if hourly:
        peak_hours_load(folder / "hourly.csv")
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write(extra)
    return folder / "scenario.yaml"


def run(path: Path, out: Path) -> dict[str, Any]:
    """``dcplan run`` on a scenario; its summary.json."""
    assert main(["run", str(path), "-o", str(out)]) == 0
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def nonfirm(flexible_share: float = 0.0, headroom: float = 1.0, **kw: Any) -> NonFirm:
    """Non-firm data for region R of the 4-hour-peak record (ρ = 1/6, 1,460 h, 365 events)."""
    args: dict[str, Any] = dict(
        lead_years=0, capex_usd_per_mw={"R": 1e6}, life_years=50,
        flexible_share=flexible_share, lost_compute_usd_per_h100e_year=1000.0,
        battery_usd_per_mw=5e5, battery_usd_per_mwh=2.5e5, battery_life_years=10,
        battery_lead_years=0, headroom_mw={("R", y): headroom for y in YEARS},
        rate={"R": 1 / 6}, curtailed_hours={"R": 1460.0}, events_per_year={"R": 365.0})
    args.update(kw)
    return NonFirm(**args)


def test_hand_solved_wait_for_firm_or_nonfirm_now_with_a_battery(tmp_path: Path) -> None:
    """One region whose load peaks 4 hours every day; one site that can wait 4 years for a
    firm connection or take a non-firm one now and cover the peaks with a battery.

    Inputs: years 2026–2030, discount 0; demand 1,000 H100e a year (1 IT-MW of a free
    chip, 1,000 H100e/MW, PUE 1, site max 1 MW); facility, energy and firm grid free;
    firm lead 4 years (first firm MW in 2030); unserved compute 1,000 USD/H100e-year.
    Hourly load: 200 MW, 210 MW 16:00–20:00 UTC every day of 2023. Both seasonal
    thresholds are 210 MW, so a non-firm load of ΔL ≤ 10 MW is curtailed fully in the
    4 peak hours and never otherwise: ρ = 4/24 = 1/6 of its energy, h = 1,460 hours in
    n = 365 events of 4 hours. The scenario caps non-firm at 1 MW (``headroom_mw``;
    the curtailment is still read from the record).

    - Wait: 2026–2029 unserved, 4 × 1,000 × 1,000 = 4,000,000 USD.
    - Non-firm now: 1 MW at 1 M USD/MW, annuity life 50 y at ρ = 0: 1/50 a year for the
      5 model years = 100,000 USD. Cover (N3) ρ·H·1 MW = 1,460 MWh a year with no
      flexible compute and no on-site power, so from the battery: (N7) power ≥ 1 MW,
      (N5b) 1,460 ≤ 365·E → E ≥ 4 MWh, (N5a) 1,460 ≤ 1,460·1 MW. Battery capex
      0.5 M USD/MW × 1 + 0.25 M USD/MWh × 4 = 1.5 M USD, life 10 y: 5/10 of it counted
      in the horizon = 750,000 USD.
    - Both are linear in the MW, so the optimum takes one route whole: non-firm now,
      850,000 USD (2030 on firm at no cost). Flexible compute (φ = 1) instead of the
      battery: 1/6 of 1,000 H100e lost for 4 years at 1,000 USD = 666,667 USD, so
      100,000 + 666,667 = 766,667 USD < 850,000.

    ``dcplan run`` solves the scenario again without ``nonfirm:`` and reports the 4 years
    and the 3,150,000 USD saved ("where flexibility buys years").
    """
    d = wait_or_go_now()
    without = run(scenario(tmp_path, d, name="without", hourly=False), tmp_path / "o1")
    assert without["objective_usd"] == pytest.approx(4_000_000.0, rel=1e-6)
    out = tmp_path / "o2"
    summary = run(scenario(tmp_path, d, HAND_NONFIRM % "1.0"), out)
    assert summary["objective_usd"] == pytest.approx(850_000.0, rel=1e-6)
    assert summary["cost_usd_by_component"]["nonfirm"] == pytest.approx(100_000.0, rel=1e-6)
    assert summary["cost_usd_by_component"]["battery"] == pytest.approx(750_000.0, rel=1e-6)
    flex = summary["nonfirm"]
    assert flex["objective_without_nonfirm_usd"] == pytest.approx(4_000_000.0, rel=1e-6)
    assert flex["cost_saved_usd"] == pytest.approx(3_150_000.0, rel=1e-6)
    assert flex["regions"]["R"]["years_earlier"] == 4
    assert flex["regions"]["R"]["nonfirm_mw_max"] == pytest.approx(1.0, rel=1e-6)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Where flexibility buys years" in report
    assert "1 MW up to 4 years before a firm connection" in report
    assert "3.1 million USD less" in report
    sched = pd.read_csv(out / "build_schedule.csv")
    row = sched[sched["kind"] == "nonfirm"].iloc[0]
    assert (row["year"], row["mw"], row["lead_years"]) == (2026, pytest.approx(1.0), 0)
    bat = sched[sched["kind"] == "battery"].iloc[0]
    assert bat["item"] == "battery (4 MWh)" and bat["mw"] == pytest.approx(1.0)
    with xr.open_dataset(out / "results.nc") as ds:
        s = ds.sel(site="s")
        assert s["battery_mwh"].sel(year=2026) == pytest.approx(4.0, rel=1e-6)
        assert s["curtailed_hours"].sel(year=2026) == pytest.approx(1460.0)
        assert s["curtailed_mwh"].sel(year=2026) == pytest.approx(1460.0, rel=1e-6)
        assert ds["region_curtailment_rate"].sel(region="R") == pytest.approx(1 / 6, rel=1e-9)
        assert ds["nonfirm_capacity_mw"].attrs["units"] == "MW"
    d.levers = Levers(nonfirm=nonfirm(flexible_share=1.0))
    assert solve_inputs(d).objective_usd == pytest.approx(100_000 + 4e6 / 6, rel=1e-6)


def test_nonfirm_with_onsite_technologies_through_the_front_door(tmp_path: Path) -> None:
    """``nonfirm`` with the layer ``onsite_technologies``: accepted; the curtailed hours are
    covered by batteries and flexible compute (no spare on-site MW counted). With the only
    technology out of reach in the horizon (lead 10 years) the hand-solved optimum above,
    850,000 USD, is unchanged."""
    path = scenario(tmp_path, wait_or_go_now(), HAND_NONFIRM % "1.0"
                    + "onsite_technologies: {path: tech.csv}\n")
    (path.parent / "tech.csv").write_text(
        "technology,kind,unit_mw,capex_usd_per_kw,fixed_om_usd_per_kw_year,"
        "variable_om_usd_per_mwh,heat_rate_btu_per_kwh,co2_t_per_mwh,lead_years,first_year,"
        "life_years,dispatchable,supply_limit_mw_per_year,total_limit_mw,source\n"
        "eng,gas,10,1,0,0,0,0,10,2026,50,true,,,test\n", encoding="utf-8")
    summary = run(path, tmp_path / "o")
    assert summary["objective_usd"] == pytest.approx(850_000.0, rel=1e-6)
    assert summary["cost_usd_by_component"]["battery"] == pytest.approx(750_000.0, rel=1e-6)


def test_no_headroom_solves_to_the_objective_without_nonfirm(tmp_path: Path) -> None:
    """``nonfirm:`` with a zero cap adds nothing: the objective is the one without it."""
    d = wait_or_go_now()
    base = solve_inputs(d).objective_usd
    summary = run(scenario(tmp_path, d, HAND_NONFIRM % "0.0"), tmp_path / "o")
    assert summary["objective_usd"] == pytest.approx(base, rel=1e-9, abs=1e-6)
    assert build_model(d).component("NonFirm") is None  # no nonfirm: the layer is absent


def limiting_case(unserved: float, lead: int, firm_capex: float) -> CapacityInputs:
    """Two regions (one with non-firm headroom), costs that make the choice non-trivial."""
    return tiny(years=YEARS, demand_h100e=[1000.0, 1500.0, 2000.0, 2500.0, 3000.0],
                regions={"R": {"interconnect_lead_years": lead, "energy_price_usd_per_mwh": 40.0,
                               "interconnect_capex_usd_per_mw": firm_capex},
                         "Q": {"interconnect_lead_years": 1, "energy_price_usd_per_mwh": 90.0}},
                sites={"s": {"region": "R", "onsite_allowed": True}, "t": {"region": "Q"}},
                chips={"g": {"capex_usd_per_unit": 5000.0, "life_years": 4}},
                discount_rate=0.07, onsite_capex_usd_per_mw=2e6, onsite_fuel_usd_per_mwh=60.0,
                onsite_lead_years=2, value_of_unserved_usd_per_h100e_year=unserved)


@pytest.mark.parametrize("unserved,lead,firm_capex,nf_lead", [
    (3e3, 4, 2e5, 0), (2e4, 2, 1e6, 0), (5e4, 5, 0.0, 0), (2e4, 4, 2e5, 1)])
def test_allowing_nonfirm_never_costs_more(unserved: float, lead: int, firm_capex: float,
                                           nf_lead: int) -> None:
    d = limiting_case(unserved, lead, firm_capex)
    forbidden = solve_inputs(d).objective_usd
    d.levers = Levers(nonfirm=nonfirm(flexible_share=0.3, headroom=1.5, lead_years=nf_lead))
    allowed = solve_inputs(d).objective_usd
    assert allowed <= forbidden * (1 + 1e-9) + 1e-6
    assert allowed < forbidden * (1 - 1e-4)  # and here it buys something


@pytest.mark.parametrize("unserved", [3e3, 2e4])
def test_higher_flexible_share_never_costs_more(unserved: float) -> None:
    d = limiting_case(unserved, 4, 2e5)
    costs = []
    for phi in (0.0, 0.1, 0.25, 0.5, 1.0):
        d.levers = Levers(nonfirm=nonfirm(flexible_share=phi, headroom=1.5))
        costs.append(solve_inputs(d).objective_usd)
    assert all(b <= a * (1 + 1e-9) + 1e-6 for a, b in itertools.pairwise(costs)), costs
    assert costs[-1] < costs[0]


def test_compute_lost_at_the_cap_equals_the_curtailment_rate(tmp_path: Path) -> None:
    """ERCOT at 0.5 % from the bundled record: non-firm MW equal to the headroom, no battery
    and no on-site power, every MW flexible; the compute paused is 0.5 % of the compute
    served, and matches the record's curtailed energy at that MW within 2 %."""
    from grids.hourly import load_hourly

    d = tiny(years=[2026, 2027], demand_h100e=[5e7, 5e7],
             regions={"R": {"interconnect_lead_years": 9}},
             value_of_unserved_usd_per_h100e_year=1e5)
    extra = """\
nonfirm:
  curtailment_pct: 0.5
  lead_years: 0
  capex_usd_per_mw: 1000
  flexible_share: 1.0
  value_of_lost_compute_usd_per_h100e_year: 100
  battery_usd_per_mwh: 1.0e12
  battery_usd_per_mw: 1.0e12
"""
    folder = write_scenario_folder(d, tmp_path / "ercot", rename_regions={"R": "ERCOT"})
    with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
        f.write(extra)
    out = tmp_path / "o"
    run(folder / "scenario.yaml", out)
    curve = RegionCurve.from_load("ERCOT", load_hourly(None)["ERCOT"])
    with xr.open_dataset(out / "results.nc") as ds:
        cap = float(ds["region_nonfirm_headroom_mw"].sel(region="ERCOT", year=2026))
        assert cap == pytest.approx(curve.headroom_mw(0.005), rel=1e-9)
        built = float(ds["nonfirm_capacity_mw"].sel(site="s", year=2026))
        assert built == pytest.approx(cap, rel=1e-6)
        lost = float(ds["compute_shed_h100e"].sel(site="s", year=2026))
        served = 1000.0 * float(ds["nonfirm_load_mw"].sel(site="s", year=2026))
        assert float(ds["battery_mwh"].sum()) == pytest.approx(0.0, abs=1e-6)
    assert lost / served == pytest.approx(0.005, rel=1e-6)
    record = curve.events(cap)["curtailed_mwh_per_year"] / (cap * H)
    assert lost / served == pytest.approx(record, rel=0.02)


@pytest.mark.parametrize("yaml,needle", [
    ("nonfirm: {curtailment_pct: 150}\n", "nonfirm.curtailment_pct"),
    ("nonfirm: {curtailment_pct: 0.5, flexible_share: 2}\n", "nonfirm.flexible_share"),
    ("nonfirm: {curtailment_pct: 0.5, headroom_mw: {NOWHERE: 5}}\n", "unknown region"),
    ("nonfirm: {curtailment_pct: 0.5, headroom_growth_per_year: -3}\n",
     "nonfirm.headroom_growth_per_year"),
    ("nonfirm: {curtailment_pct: 0.5, batery_usd_per_mwh: 1}\n", "batery_usd_per_mwh"),
])
def test_bad_nonfirm_input_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml: str, needle: str) -> None:
    assert_bad_input(tmp_path, capsys, yaml, needle)


def assert_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml: str,
                     needle: str) -> None:
    """``dcplan run`` on the hand-solved folder plus ``yaml``: one line naming the scenario
    file and ``needle``, exit 2, no traceback, nothing written."""
    path = scenario(tmp_path, wait_or_go_now(), "hourly_load: hourly.csv\n" + yaml)
    out = tmp_path / "out"
    assert main(["run", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    assert needle in err and "scenario.yaml" in err, err
    assert not out.exists()


def test_headroom_grows_with_background_load(tmp_path: Path) -> None:
    """H_r,y = H_r·(1+g)^(y−y0): scaling the hourly load by k scales the headroom by k at the
    same rate (the method is scale-invariant)."""
    from planner.inputs.scenario import load_scenario

    path = scenario(tmp_path, wait_or_go_now(), "hourly_load: hourly.csv\nnonfirm:\n"
                    "  curtailment_pct: 20\n  headroom_growth_per_year: 0.1\n")
    nf = load_scenario(path).levers().nonfirm
    h0 = nf.headroom_mw[("R", 2026)]
    assert nf.headroom_mw[("R", 2030)] == pytest.approx(h0 * 1.1 ** 4, rel=1e-12)
    t = pd.date_range("2023-01-01", periods=8760, freq="h")
    load = pd.Series(np.where(t.hour.isin([16, 17, 18, 19]), 210.0, 200.0), index=t)
    assert RegionCurve.from_load("R", 1.1 * load).headroom_mw(0.2) == pytest.approx(
        1.1 * h0, rel=1e-6)


def test_capacity_charge_avoided_at_the_coincident_peak(tmp_path: Path) -> None:
    """The hand-solved case with a capacity price of 60,000 USD/MW-year. Region R's rule is
    1CP (the year's peak hour, one of the daily 4-hour peaks, where a non-firm MW is fully
    curtailed: a_R = 1), so non-firm draw pays no capacity charge. The battery bought in
    2026 (life 10 years) still covers the curtailed hours in 2030, so the site draws
    non-firm in every year and the 5 × 60,000 = 300,000 USD of capacity charges are all
    credited back: 850,000 USD, as without a capacity price. Without the credit the plan
    would cost 1,150,000 USD; without non-firm 4,000,000 + 60,000."""
    d = tiny(years=YEARS, demand_h100e=[1000.0] * 5,
             regions={"R": {"interconnect_lead_years": 4,
                            "capacity_price_usd_per_mw_year": 60_000.0}},
             sites={"s": {"max_mw": 1.0}},
             facility_life_years=50, value_of_unserved_usd_per_h100e_year=1000.0)
    summary = run(scenario(tmp_path, d, HAND_NONFIRM % "1.0"), tmp_path / "o")
    costs = summary["cost_usd_by_component"]
    assert costs["capacity"] == pytest.approx(300_000.0, rel=1e-6)
    assert costs["capacity_credit"] == pytest.approx(-300_000.0, rel=1e-6)
    assert summary["objective_usd"] == pytest.approx(850_000.0, rel=1e-6)
    assert summary["nonfirm"]["objective_without_nonfirm_usd"] == pytest.approx(4_060_000.0,
                                                                                rel=1e-6)
    d.levers = Levers(nonfirm=nonfirm())  # a_R not given: no credit
    assert solve_inputs(d).objective_usd == pytest.approx(1_150_000.0, rel=1e-6)
