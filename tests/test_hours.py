"""Hourly operations of non-firm connections: the layer ``models.levers.hours`` (issue 16 §3).

The hand-solved case and bad input run as scenario folders through ``dcplan run`` (the
front door); limiting cases that sweep a parameter run in memory on ``tests.factory``.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.capacity import CapacityInputs
from models.levers import Hours, Levers
from models.model import build_model
from planner.cli.commands import main
from planner.inputs.headroom import RegionCurve
from planner.inputs.hours import hours_data
from tests.factory import solve_inputs
from tests.test_nonfirm import (
    HAND_NONFIRM,
    YEARS,
    assert_bad_input,
    limiting_case,
    nonfirm,
    run,
    scenario,
    wait_or_go_now,
)


def peak_profile() -> pd.DataFrame:
    """Region R, 2023: 200 MW, 210 MW 16:00–19:59 UTC every day (as tests.test_nonfirm)."""
    t = pd.date_range("2023-01-01", periods=8760, freq="h")
    return pd.DataFrame({"R": np.where(t.hour.isin([16, 17, 18, 19]), 210.0, 200.0)}, index=t)


def varied_profile(seed: int = 3) -> pd.DataFrame:
    """Region R, 2023: a daily shape, a summer and a winter season and noise, so days
    differ and curtailment events differ in length (MW)."""
    t = pd.date_range("2023-01-01", periods=8760, freq="h")
    rng = np.random.default_rng(seed)
    daily = 8.0 * np.clip(np.sin((t.hour - 10) / 24 * 2 * np.pi), 0, None)
    season = 6.0 * np.cos((t.dayofyear - 200) / 365 * 2 * np.pi) ** 2
    day_noise = np.repeat(rng.normal(0, 2.0, 365), 24)
    return pd.DataFrame({"R": 200.0 + daily + season + day_noise}, index=t)


def hours_for(load: pd.DataFrame, days: int, dispatch: str = "region") -> Hours:
    """Representative days of a one-region table."""
    return hours_data(load, {"R": RegionCurve.from_load("R", load["R"])}, days, dispatch)


def with_levers(d: CapacityInputs, **kw: object) -> CapacityInputs:
    d.levers = Levers(**kw)
    return d


HAND_HOURS = HAND_NONFIRM + "hours: {days: 3}\n"


def test_hand_solved_hourly_battery_covers_the_daily_peak(tmp_path: Path) -> None:
    """One region whose load peaks 4 hours every day; one site that can wait 4 years for a
    firm connection or take a non-firm one now, operated hour by hour on 3 representative
    days (the summer and winter peak days and one typical day; every day of the record is
    the same, so all three are).

    Inputs as the annual hand-solved case (tests.test_nonfirm, wait or go now):
    (years 2026–2030, discount 0, 1 MW of load, unserved 1,000 USD/H100e-year, firm lead
    4 years, non-firm capex 1 M USD/MW, cap 1 MW; battery 0.5 M USD/MW + 0.25 M USD/MWh,
    life 10 years). Hourly headroom q_h = max(0, 210 − L_h): 0 MW at 16–19 h, 10 MW else.

    - (H2) d ≤ q = 0 at 16–19 h, so (H3) the whole 1 MW is covered there: b = 1 MW in each
      of the 4 hours, so (H6) battery power ≥ 1 MW; (H7) with a cyclic day the battery
      stores 4 MWh at 16:00 and empties by 20:00, so (H8) energy ≥ 4 MWh. The other 20
      hours draw 1 MW non-firm and recharge (d + c ≤ 10 MW).
    - Cost: non-firm 1 M × 1/50 × 5 years = 100,000 USD; battery (0.5 + 4 × 0.25) M USD ×
      5/10 = 750,000 USD; total 850,000 USD against 4,000,000 USD for waiting: the same
      optimum as the annual layer, which is exact here because every event is the same.
    - With every MW flexible (φ = 1) and no battery: 4 of 24 hours paused, 1/6 of 1,000
      H100e for 4 years at 1,000 USD = 666,667 USD; total 766,667 USD.
    """
    out = tmp_path / "o"
    summary = run(scenario(tmp_path, wait_or_go_now(), HAND_HOURS % "1.0"), out)
    assert summary["objective_usd"] == pytest.approx(850_000.0, rel=1e-6)
    assert summary["cost_usd_by_component"]["battery"] == pytest.approx(750_000.0, rel=1e-6)
    assert summary["nonfirm"]["cost_saved_usd"] == pytest.approx(3_150_000.0, rel=1e-6)
    assert summary["assumptions"]["levers"]["hours"] == {"days": 3, "dispatch": "region"}
    assert "hours" in summary["assumptions"]["levers_active"]
    with xr.open_dataset(out / "results.nc") as ds:
        assert float(ds["period_weight_days"].sum()) == pytest.approx(365.0, rel=1e-12)
        soc = ds["hourly_battery_state_mwh"].sel(region="R", year=2026)
        assert soc.attrs["units"] == "MWh"
        # the battery must hold 4 MWh at 16:00 and be empty at 20:00; when it charges is free
        np.testing.assert_allclose(soc.sel(hour=15).values, 4.0, atol=1e-6)
        np.testing.assert_allclose(soc.sel(hour=19).values, 0.0, atol=1e-6)
        dis = ds["hourly_battery_discharge_mw"].sel(region="R", year=2026)
        np.testing.assert_allclose(dis.sel(hour=[16, 17, 18, 19]).values, 1.0, atol=1e-6)
        draw = ds["hourly_nonfirm_draw_mw"].sel(region="R", year=2026)
        np.testing.assert_allclose(draw.sel(hour=[16, 17, 18, 19]).values, 0.0, atol=1e-6)
        assert ds["hourly_nonfirm_draw_mw"].attrs["units"] == "MW"
        assert float(ds["battery_mwh"].sel(site="s", year=2026)) == pytest.approx(4.0, rel=1e-6)
        # the map layer shows the non-firm cap (here the scenario's override, 1 MW)
        assert float(ds["region_curtailment_headroom_mw"].sel(region="R", year=2026)) == 1.0
        assert float(ds["curtailed_mwh"].sel(site="s", year=2026)) == pytest.approx(
            1460.0, rel=1e-6)
    d = with_levers(wait_or_go_now(), nonfirm=nonfirm(flexible_share=1.0),
                    hours=hours_for(peak_profile(), 3))
    assert solve_inputs(d).objective_usd == pytest.approx(100_000 + 4e6 / 6, rel=1e-6)


@pytest.mark.parametrize("phi,unserved,lead", [(0.0, 3e3, 4), (0.3, 2e4, 2), (1.0, 5e4, 5)])
def test_identical_days_equal_the_annual_cover(phi: float, unserved: float, lead: int) -> None:
    """When every day of the record is the same (the 4-hour daily peak), the annual cover
    N3–N7 is exact, so the hourly layer gives the same objective, with batteries, flexible
    compute and on-site generation all available."""
    annual = solve_inputs(with_levers(limiting_case(unserved, lead, 2e5),
                                      nonfirm=nonfirm(flexible_share=phi, headroom=1.5)))
    hourly = solve_inputs(with_levers(limiting_case(unserved, lead, 2e5),
                                      nonfirm=nonfirm(flexible_share=phi, headroom=1.5),
                                      hours=hours_for(peak_profile(), 4)))
    assert hourly.objective_usd == pytest.approx(annual.objective_usd, rel=1e-6)


def test_flat_profile_without_nonfirm_headroom_is_the_annual_model(tmp_path: Path) -> None:
    """A flat hourly load is its own threshold in every hour: no headroom at any rate, so
    no non-firm connection and the hourly layer adds nothing — the objective is the annual
    model's without ``nonfirm:``."""
    d = wait_or_go_now()
    base = solve_inputs(d).objective_usd
    path = scenario(tmp_path, d, "hourly_load: flat.csv\nnonfirm: {curtailment_pct: 0.5}\n"
                    "hours: {days: 5}\n")
    t = pd.date_range("2023-01-01", periods=8760, freq="h")
    pd.DataFrame({"utc_time": t.strftime("%Y-%m-%d %H:%M"), "R": 200.0}).to_csv(
        path.parent / "flat.csv", index=False)
    summary = run(path, tmp_path / "o")
    assert summary["objective_usd"] == pytest.approx(base, rel=1e-9, abs=1e-6)


def test_hours_null_builds_no_hourly_component() -> None:
    """``hours: null`` (the default) is the annual model: no hourly component, and the
    annual cover N3–N7 is there."""
    m = build_model(with_levers(wait_or_go_now(), nonfirm=nonfirm()))
    assert m.component("HourlyDraw") is None and m.component("Curtailment_Cover") is not None
    m = build_model(with_levers(wait_or_go_now(), nonfirm=nonfirm(),
                                hours=hours_for(peak_profile(), 3)))
    assert m.component("HourlyDraw") is not None and m.component("Curtailment_Cover") is None


@pytest.mark.parametrize("unserved,lead,firm_capex,nf_lead", [
    (3e3, 4, 2e5, 0), (2e4, 2, 1e6, 0), (5e4, 5, 0.0, 0), (2e4, 4, 2e5, 1)])
def test_allowing_nonfirm_never_costs_more_with_hours(unserved: float, lead: int,
                                                      firm_capex: float, nf_lead: int) -> None:
    d = limiting_case(unserved, lead, firm_capex)
    forbidden = solve_inputs(d).objective_usd
    hours = hours_for(varied_profile(), 8)
    d.levers = Levers(nonfirm=nonfirm(flexible_share=0.3, headroom=1.5, lead_years=nf_lead),
                      hours=hours)
    allowed = solve_inputs(d).objective_usd
    assert allowed <= forbidden * (1 + 1e-9) + 1e-6
    assert allowed < forbidden * (1 - 1e-4)  # and here it buys something


@pytest.mark.parametrize("dispatch", ["region", "site"])
def test_higher_flexible_share_never_costs_more_with_hours(dispatch: str) -> None:
    hours = hours_for(varied_profile(), 8, dispatch)
    costs = []
    for phi in (0.0, 0.1, 0.25, 0.5, 1.0):
        d = with_levers(limiting_case(2e4, 4, 2e5),
                        nonfirm=nonfirm(flexible_share=phi, headroom=1.5), hours=hours)
        costs.append(solve_inputs(d).objective_usd)
    assert all(b <= a * (1 + 1e-9) + 1e-6 for a, b in itertools.pairwise(costs)), costs
    assert costs[-1] < costs[0]


def two_sites_in_r() -> CapacityInputs:
    """Region R with two sites (one may build on-site generation), demand for both."""
    from tests.factory import tiny

    return tiny(years=YEARS, demand_h100e=[1000.0, 1500.0, 2000.0, 2500.0, 3000.0],
                regions={"R": {"interconnect_lead_years": 4, "energy_price_usd_per_mwh": 40.0}},
                sites={"s": {"region": "R", "onsite_allowed": True, "max_mw": 1.2},
                       "u": {"region": "R", "max_mw": 1.2}},
                chips={"g": {"capex_usd_per_unit": 5000.0, "life_years": 4}},
                discount_rate=0.07, onsite_capex_usd_per_mw=2e6, onsite_fuel_usd_per_mwh=60.0,
                onsite_lead_years=2, value_of_unserved_usd_per_h100e_year=2e4)


def test_zonal_dispatch_is_a_relaxation_of_per_site() -> None:
    """Pooling a region's cover (zonal) never costs more than covering each site's own
    draw (per site); with one site they are the same model."""
    load = varied_profile()
    zonal = solve_inputs(with_levers(two_sites_in_r(), nonfirm=nonfirm(0.3, headroom=2.0),
                                     hours=hours_for(load, 8, "region"))).objective_usd
    per_site = solve_inputs(with_levers(two_sites_in_r(), nonfirm=nonfirm(0.3, headroom=2.0),
                                        hours=hours_for(load, 8, "site"))).objective_usd
    assert zonal <= per_site * (1 + 1e-9) + 1e-6
    one = [solve_inputs(with_levers(limiting_case(2e4, 4, 2e5), nonfirm=nonfirm(0.3, 1.5),
                                    hours=hours_for(load, 8, k))).objective_usd
           for k in ("region", "site")]
    assert one[0] == pytest.approx(one[1], rel=1e-6)


def test_representative_days_weights_and_peak_headroom() -> None:
    """The days' weights sum to 365; the system's peak day is kept and its peak hour has
    no headroom (it sets the threshold)."""
    load = varied_profile()
    h = hours_for(load, 8)
    assert sum(h.weight_days.values()) == pytest.approx(365.0, rel=1e-12)
    p, _ = h.peak_days["system_summer"]
    assert min(h.headroom_mw["R", p, t] for t in range(24)) == pytest.approx(0.0, abs=1e-6)
    assert all(v >= 0 for v in h.headroom_mw.values())


@pytest.mark.parametrize("yaml,needle", [
    ("hours: {days: 3}\n", "expected nonfirm"),
    ("nonfirm: {curtailment_pct: 0.5}\nhours: {days: 2}\n", "hours.days"),
    ("nonfirm: {curtailment_pct: 0.5}\nhours: {days: 61}\n", "hours.days"),
    ("nonfirm: {curtailment_pct: 0.5}\nhours: {days: 3.5}\n", "hours.days"),
    ("nonfirm: {curtailment_pct: 0.5}\nhours: {days: 5, dispatch: plant}\n", "hours.dispatch"),
    ("nonfirm: {curtailment_pct: 0.5}\nhours: {dayz: 5}\n", "dayz"),
])
def test_bad_hours_input_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml: str, needle: str) -> None:
    assert_bad_input(tmp_path, capsys, yaml, needle)


def test_hourly_load_must_cover_a_region(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    """An hourly table with no column for the scenario's regions: one line, exit 2."""
    path = scenario(tmp_path, wait_or_go_now(), "nonfirm: {curtailment_pct: 0.5}\n"
                    "hours: {days: 4}\n")  # the bundled record has no region R
    assert main(["run", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "hours" in err and "no column for any region" in err, err
