"""The bundled market data (issue 15): every table loads, carries its source,
reconciles with the others, and a bad row gives a one-line error."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from grids.headroom import NATIONAL, default_headroom_path, load_headroom
from grids.regions import load_regions
from grids.tables import InputError
from grids.taxes import default_sales_tax_path, load_sales_tax, server_tax_rate
from models.calibration import (
    all_datacenter_energy_twh,
    default_baseline_path,
    default_points_path,
    load_baseline,
    load_points,
    points_twh,
)
from models.chips import load_chips, with_derived
from models.onsite import (
    default_gas_price_path,
    default_onsite_path,
    fuel_usd_per_mwh,
    load_gas_price,
    load_onsite,
)
from models.parameters import (
    default_parameters_path,
    load_parameters,
    rent_tilt,
    value_of_unserved,
)
from models.supply import ALL_VENDORS, default_supply_path, load_supply
from planner.cli.commands import main
from sites.campuses import default_campuses_path, load_campuses
from sites.construction import default_site_facts_path, load_site_facts, site_server_tax_rate
from sites.fleet import check_fleet_fits, default_fleet_path, fleet_facility_mw, load_fleet
from sites.sites import load_sites

BUNDLED = [default_headroom_path(), default_sales_tax_path(), default_fleet_path(),
           default_campuses_path(), default_site_facts_path(), default_supply_path(),
           default_onsite_path(), default_gas_price_path(), default_points_path(),
           default_baseline_path(), default_parameters_path()]


@pytest.fixture(scope="module")
def regions() -> pd.DataFrame:
    return load_regions()


@pytest.fixture(scope="module")
def sites(regions: pd.DataFrame) -> pd.DataFrame:
    return load_sites(None, regions)


@pytest.fixture(scope="module")
def chips() -> pd.DataFrame:
    return load_chips()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_every_row_has_a_source_and_labels_its_assumptions(path: Path) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert (df["source"].str.strip().str.len() > 20).all()
    if "basis" in df.columns:  # a row whose basis is an assumption says so in its source
        assumed = df["basis"] == "assumption"
        assert df.loc[assumed, "source"].str.contains("assumption").all()


# ------------------------------------------------------------------ reconciliation

def test_fleet_fits_the_existing_sites_and_matches_the_public_installed_base(
        sites: pd.DataFrame, chips: pd.DataFrame) -> None:
    fleet = load_fleet(None, sites, chips.index, 2040)
    check_fleet_fits(fleet, sites, default_fleet_path())  # PUE × IT MW <= existing_mw
    facility = fleet_facility_mw(fleet, sites)
    assert (facility <= sites.loc[facility.index, "existing_mw"] + 1e-6).all()
    assert set(facility.index) == set(sites.index[sites["existing_mw"] > 0])
    pi = with_derived(chips)["pi_h100e_per_mw"]
    h100e = float((fleet["it_mw"] * fleet["chip"].map(pi)).sum())
    # 0.75 (US share, Epoch AI / Pilz et al. 2025) × 15 M H100e (Epoch AI, Jan 2026)
    assert h100e == pytest.approx(0.75 * 15e6, rel=0.01)
    in_2026 = fleet["year_installed"] + fleet["chip"].map(chips["life_years"]) - 1 >= 2026
    served_2026 = float((fleet.loc[in_2026, "it_mw"] * fleet.loc[in_2026, "chip"].map(pi)).sum())
    assert served_2026 >= 0.9 * 1.2e7  # most of the default's 2026 demand (12 M H100e)


def test_a_fleet_larger_than_its_site_is_refused(sites: pd.DataFrame, chips: pd.DataFrame,
                                                 tmp_path: Path) -> None:
    path = tmp_path / "fleet.csv"
    path.write_text("site,chip,year_installed,it_mw\nholyoke_ma,h100,2024,17\n")
    fleet = load_fleet(path, sites, chips.index, 2040)
    with pytest.raises(InputError, match=r"fleet.csv row 1 \(line 2\), column it_mw: site "
                       r"'holyoke_ma': fleet needs 20\.4 facility MW .* existing_mw 20\.0"):
        check_fleet_fits(fleet, sites, path)


def test_every_region_has_a_firm_limit_every_year(regions: pd.DataFrame) -> None:
    h = load_headroom(None, regions.index)
    years = range(2026, 2041)
    for r in [*regions.index, NATIONAL]:
        lim = h.loc[r, "firm_load_limit_mw"]
        assert list(lim.index) == list(years) and (lim > 0).all(), r
    regional = h[h["region"] != NATIONAL].reset_index(drop=True).groupby("year")[
        "firm_load_limit_mw"].sum()
    assert (h.loc[NATIONAL, "firm_load_limit_mw"] <= regional).all()
    # the issue measured limits of 1–2 GW/yr as plausible; ERCOT, PJM, MISO are sourced
    assert h.loc[("PJM", 2026), "basis"] == "forecast"
    assert h.loc[("PJM", 2026), "firm_load_limit_mw"] == 6000


def test_headroom_without_a_region_year_is_refused(regions: pd.DataFrame,
                                                   tmp_path: Path) -> None:
    path = tmp_path / "headroom.csv"
    df = pd.read_csv(default_headroom_path(), dtype=str, keep_default_na=False)
    df[~((df["region"] == "SPP") & (df["year"] == "2031"))].to_csv(path, index=False)
    with pytest.raises(InputError, match=r"no row for region 'SPP' in year 2031"):
        load_headroom(path, regions.index)


def test_committed_campuses_fit_their_sites_and_are_under_construction_there(
        sites: pd.DataFrame) -> None:
    campuses = load_campuses(None, sites)
    facts = load_site_facts(None, sites)
    named = {"stargate_abilene": "abilene_tx", "meta_hyperion": "richland_parish_la",
             "xai_colossus_2": "memphis_tn", "microsoft_fairwater_wi": "mount_pleasant_wi",
             "aws_rainier": "new_carlisle_in"}
    for campus, site in named.items():
        assert set(campuses.loc[campuses["campus"] == campus, "site"]) == {site}
    committed = campuses.groupby("site")["committed_mw"].sum()
    assert (sites.loc[committed.index, "existing_mw"] + committed
            <= sites.loc[committed.index, "max_mw"]).all()
    first = campuses.sort_values("online_year").groupby("site").first()
    building = first[first["status"] == "under_construction"]
    uc = facts.loc[building.index]
    assert (uc["under_construction_mw"] >= building["committed_mw"]).all()
    assert (uc["under_construction_year"] == building["online_year"]).all()


def test_every_site_has_a_state_with_a_sales_tax(sites: pd.DataFrame) -> None:
    facts = load_site_facts(None, sites)
    rate = site_server_tax_rate(facts, server_tax_rate(load_sales_tax()))
    assert rate.loc["ashburn_va"] == 0.0 and rate.loc["abilene_tx"] == 0.0  # exemptions
    assert rate.loc["santa_clara_ca"] == pytest.approx(0.0725)  # no exemption
    assert ((rate >= 0) & (rate < 0.1)).all()
    assert (facts["construction_lead_years"] >= 1).all()


def test_supply_binds_where_the_issue_found_the_default_unrealistic() -> None:
    supply = load_supply(vendors=load_chips()["vendor"].unique())
    for y in range(2026, 2029):
        parts = supply.loc[("NVIDIA", y), "max_h100e"] + supply.loc[("AMD", y), "max_h100e"]
        assert parts <= supply.loc[(ALL_VENDORS, y), "max_h100e"]
    # the issue: 9.1 M MI300X (12 M H100e) bought in 2026, ~20× AMD's yearly output
    assert supply.loc[("AMD", 2026), "us_max_h100e"] < 9.1e6 * 1.322 / 5
    assert list(supply.loc[ALL_VENDORS].index) == list(range(2026, 2041))


def test_all_vendor_supply_keeps_pace_with_the_frontier_after_2030() -> None:
    """The all-vendor limit is in H100e, and a synthetic frontier chip keeps the reference
    chip's power and price per unit while its H100e grow 1.35× a year: a limit growing
    only with wafer capacity (1.18×) would shrink the chips (and MW) sold by 1.18 / 1.35
    a year. Every year it grows 1.18 × 1.35 = 1.593×, before and after 2030."""
    supply = load_supply(vendors=load_chips()["vendor"].unique())
    allv = supply.loc[ALL_VENDORS, "max_h100e"]
    growth = (allv / allv.shift()).dropna()
    assert growth.to_numpy() == pytest.approx(1.18 * 1.35, rel=1e-3)
    nvidia = supply.loc["NVIDIA", "max_h100e"]
    assert (nvidia / allv.loc[nvidia.index]).to_numpy() == pytest.approx(0.595, rel=1e-6)


def test_onsite_technologies_carry_lead_times_supply_limits_and_fuel() -> None:
    tech = load_onsite()
    gas = tech[tech["kind"] == "gas"]
    assert gas["supply_limit_mw_per_year"].notna().all()
    assert tech.loc["frame_turbine", "lead_years"] >= 5  # OEMs quote 5–7 years
    assert tech.loc[tech["kind"] == "nuclear_restart", "total_limit_mw"].notna().all()
    assert tech.loc["smr", "first_year"] == 2031
    price = load_gas_price()
    assert list(price.index) == list(range(2026, 2041))
    assert price.is_monotonic_increasing  # no longer flat against rising grid prices
    fuel = fuel_usd_per_mwh(tech, price)
    # aeroderivative 2026: 4.28 × 9.447 + 5.97 = 46.40 USD/MWh (the scenario's onsite fuel)
    assert fuel.loc["aeroderivative_turbine", 2026] == pytest.approx(46.40, abs=0.01)
    assert (fuel.loc["battery_4h"] == 0).all()


def test_calibration_points_and_the_all_datacenter_energy() -> None:
    points = load_points()
    assert points.loc["lbnl_2028", ["low", "high"]].tolist() == [325.0, 580.0]
    assert points.loc["bnef_2035_gw", "central"] == 106.0
    assert {"LBNL", "EPRI", "IEA", "McKinsey", "S&P Global 451 Research", "BNEF"} <= set(
        points["publisher"])
    twh = points_twh(points)
    assert twh.loc["epri_2030_update", "low"] == pytest.approx(360.0)
    baseline = load_baseline()
    assert list(baseline.loc[2026:2040].index) == list(range(2026, 2041))
    assert baseline.is_monotonic_increasing
    # the baseline alone stays below LBNL's 2023 total (176 TWh): AI is the rest
    assert baseline[2023] < points.loc["lbnl_2023", "central"]
    ai = pd.Series([100.0, 200.0], index=[2026, 2028])
    total = all_datacenter_energy_twh(ai, baseline)
    assert total.tolist() == pytest.approx([100 + baseline[2026], 200 + baseline[2028]])
    with pytest.raises(KeyError, match="no year 2050"):
        all_datacenter_energy_twh(pd.Series([1.0], index=[2050]), baseline)


def test_value_of_unserved_reproduces_todays_observed_rent_in_2026() -> None:
    """The multiple × the 2026 lifetime rent of the newest chip (MI355X: 46,900 USD,
    2.528 H100e, 2.55 kW per unit; the bundled sites' mean capex 10,119,900 USD/MW, PUE
    1.21 and 2026 energy price 79.71 USD/MWh; 8 %, u 0.8; tilt for 1.35×/yr over 5
    years) = 20,586 USD/H100e-yr, the observed H100 rent; later it follows the frontier."""
    params = load_parameters()
    crf = lambda r, n: r / (1 - (1 + r) ** -n)  # noqa: E731
    mw_per_h100e = 2.55e-3 / 2.528
    flat = (46_900 / 2.528 * crf(0.08, 5) + 10_119_900 * 1.21 * mw_per_h100e * crf(0.08, 20)
            + mw_per_h100e * 1.21 * 0.8 * 8760 * 79.71)
    tilt = rent_tilt(0.08, 1.35, 5)
    assert tilt == pytest.approx(sum(1.08 ** -t for t in range(1, 6))
                                 / sum(1.35 ** (1 - t) * 1.08 ** -t for t in range(1, 6)))
    rent = flat * tilt
    v = value_of_unserved(pd.Series([rent, rent / 10], index=[2026, 2040]), params)
    assert v[2026] == pytest.approx(20_586, rel=1e-3)
    assert v[2040] == pytest.approx(2_058.6, rel=1e-3)
    assert 0 < params.loc["islanded_reserve_fraction", "value"] < 1


# ------------------------------------------------------------------ bad rows

def _edit(src: Path, dst: Path, row: int, column: str, value: str) -> Path:
    with open(src, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    rows[row][rows[0].index(column)] = value
    with open(dst, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return dst


def _loaders(regions: pd.DataFrame, sites: pd.DataFrame,
             chips: pd.DataFrame) -> dict[str, Callable[[Path], object]]:
    return {
        "headroom.csv": lambda p: load_headroom(p, regions.index),
        "sales_tax.csv": load_sales_tax,
        "fleet.csv": lambda p: load_fleet(p, sites, chips.index, 2040),
        "committed_campuses.csv": lambda p: load_campuses(p, sites),
        "site_facts.csv": lambda p: load_site_facts(p, sites),
        "accelerator_supply.csv": lambda p: load_supply(p, chips["vendor"].unique()),
        "onsite_technologies.csv": load_onsite,
        "gas_price.csv": load_gas_price,
        "calibration_points.csv": load_points,
        "dc_baseline.csv": load_baseline,
        "market_parameters.csv": load_parameters,
    }


BAD_ROWS = [  # file, data row (1-based), column, bad value, what the message says
    ("headroom.csv", 3, "firm_load_limit_mw", "-5", "expected a number >= 0, got '-5'"),
    ("headroom.csv", 2, "region", "Atlantis", "unknown region 'Atlantis'"),
    ("headroom.csv", 4, "basis", "hunch", "expected one of forecast, assumption"),
    ("sales_tax.csv", 2, "state_rate", "6.25", "expected a number >= 0 <= 0.2"),
    ("sales_tax.csv", 1, "treatment", "taxed", "'taxed' does not match"),
    ("sales_tax.csv", 5, "state", "Ohio", "expected a two-letter state code"),
    ("fleet.csv", 7, "chip", "h900", "unknown chip 'h900'"),
    ("fleet.csv", 2, "it_mw", "lots", "expected a number >= 0, got 'lots'"),
    ("committed_campuses.csv", 2, "site", "nowhere_tx", "unknown site 'nowhere_tx'"),
    ("committed_campuses.csv", 1, "committed_mw", "9000", "exceed its room"),
    ("committed_campuses.csv", 3, "status", "rumoured", "expected one of under_construction"),
    ("committed_campuses.csv", 3, "site", "abilene_tx", "is at site 'richland_parish_la'"),
    ("site_facts.csv", 3, "under_construction_year", "", "expected a year because"),
    ("site_facts.csv", 1, "under_construction_mw", "99999", "expected at most max_mw"),
    ("accelerator_supply.csv", 2, "us_share", "1.5", "expected a number >= 0 <= 1"),
    ("accelerator_supply.csv", 2, "vendor", "Intel", "unknown vendor 'Intel'"),
    ("onsite_technologies.csv", 2, "co2_t_per_mwh", "0.1", "expected 0.4851"),
    ("onsite_technologies.csv", 3, "kind", "coal", "expected one of gas"),
    ("onsite_technologies.csv", 1, "dispatchable", "maybe", "expected true or false"),
    ("gas_price.csv", 3, "year", "2026", "duplicate year '2026'"),
    ("gas_price.csv", 15, "year", "2042", "expected 2040 (one row per year, no gap), got 2042"),
    ("calibration_points.csv", 2, "high", "300", "expected low <= central <= high"),
    ("calibration_points.csv", 8, "central", "", "expected a central figure or both"),
    ("calibration_points.csv", 1, "metric", "exajoules", "expected one of energy_twh"),
    ("dc_baseline.csv", 2, "non_ai_twh", "", "expected a number >= 0, got blank"),
    ("market_parameters.csv", 1, "parameter", "misc", "missing parameter(s) "
     "unserved_value_multiple"),
]


@pytest.mark.parametrize(("name", "row", "column", "value", "says"), BAD_ROWS,
                         ids=[f"{b[0]}-{b[2]}-{b[3] or 'blank'}" for b in BAD_ROWS])
def test_a_bad_row_gives_one_line_naming_file_row_and_column(
        name: str, row: int, column: str, value: str, says: str, tmp_path: Path,
        regions: pd.DataFrame, sites: pd.DataFrame, chips: pd.DataFrame) -> None:
    src = next(p for p in BUNDLED if p.name == name)
    bad = _edit(src, tmp_path / name, row, column, value)
    with pytest.raises(InputError) as err:
        _loaders(regions, sites, chips)[name](bad)
    text = str(err.value)
    assert "\n" not in text and text.startswith(name), text
    assert says in text, text
    if "missing parameter" not in says:
        assert f"row {row} (line {row + 1})" in text and f"column {column}" in text, text


def test_bundled_fleet_runs_through_the_cli_as_a_scenario_fleet(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    """`dcplan init` copies the bundled installed base and names it as the copy's `fleet`;
    the folder validates through `dcplan validate` (the existing fleet lever reads it)."""
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    assert "\nfleet: fleet.csv" in (d / "scenario.yaml").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(d / "scenario.yaml")]) == 0
    assert "valid" in capsys.readouterr().out
    np.testing.assert_equal((d / "fleet.csv").read_bytes(), default_fleet_path().read_bytes())


def test_bundled_fleet_serves_the_first_year(tmp_path: Path) -> None:
    """Through the model (the fleet lever, on in a `dcplan init` copy of the default), the
    installed base leaves only demand − fleet = 12 − 11.25 M H100e to buy in 2026 (the
    default without it bought all 12 M)."""
    import planner

    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    result = planner.solve(planner.load_scenario(d / "scenario.yaml"))
    assert result.status == "Optimal"
    bought = result.to_xarray()["it_mw"].sel(year=2026).to_series().reset_index()
    pi = with_derived(load_chips())["pi_h100e_per_mw"]
    h100e = float((bought["it_mw"] * bought["chip"].map(pi)).sum())
    assert h100e == pytest.approx(12e6 - 11.25e6, rel=0.01)
