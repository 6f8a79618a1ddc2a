"""The bundled us-base data: sourced, consistent, and a plausible plan."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

import planner
from grids.regions import default_regions_path, load_geometry, load_regions
from models.chips import default_chips_path, load_chips
from sites.sites import default_sites_path, load_sites
from tests.invariants import assert_constraints_hold


@pytest.mark.parametrize("path", [default_regions_path(), default_sites_path(),
                                  default_chips_path()])
def test_every_bundled_row_has_a_source(path) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert "source" in df.columns
    assert (df["source"].str.strip().str.len() > 10).all()


def test_sites_lie_in_their_regions() -> None:
    regions = load_regions()
    geometry = load_geometry(None, regions)
    sites = load_sites(None, regions, geometry)
    assert len(regions) == 11
    assert len(sites) >= 40
    assert (sites.groupby("region").size() >= 2).all() and sites["region"].nunique() == 11
    pts = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs=4326)
    polys = geometry.loc[sites["region"].to_numpy()].geometry.reset_index(drop=True)
    assert pts.within(polys).all()


def test_chips_span_a100_to_rubin() -> None:
    chips = load_chips()
    assert {"a100", "h100", "b200", "gb200", "rubin", "rubin_ultra"} <= set(chips.index)
    assert (chips["last_year"] >= chips["first_year"]).all()


@pytest.fixture(scope="module")
def result() -> planner.Result:
    return planner.solve(planner.load_scenario())


def test_default_plan_is_optimal_and_feasible(result: planner.Result) -> None:
    assert result.status == "Optimal"
    assert_constraints_hold(result)
    assert float(result.cost_breakdown().to_numpy().sum()) == pytest.approx(
        result.objective_usd, rel=1e-6)


def test_default_energy_is_calibrated(result: planner.Result) -> None:
    """All US datacenters (the plan's AI energy + the sourced non-AI baseline, gap.csv)
    lie inside LBNL's 325–580 TWh in 2028 and the published 2030 range (EPRI's 2026
    update 9–17 % of 4,000 TWh = 360–680, with IEA's 426 in it), and keep growing to
    2035 near BNEF's 106 GW (load: AI GW + the baseline at utilization 0.8)."""
    g = result.gap().set_index("year")
    e = g["all_datacenter_energy_twh"]
    assert 325 <= e[2028] <= 580
    assert 360 <= e[2030] <= 680
    assert abs(e[2030] / 426 - 1) < 0.1  # IEA's base case
    gw = g["power_energized_mw"] / 1e3 + g["non_ai_datacenter_energy_twh"] / (0.8 * 8.76)
    assert (gw.loc[2028:2035].diff().dropna() > 0).all()  # growing every year to 2035
    assert 0.85 <= gw[2035] / 106 <= 1.15
    ai = g["energy_twh"]
    assert 80 <= ai[2026] <= 176  # below all US datacenters in 2023 (LBNL 176 TWh)


def test_default_plan_is_credible(result: planner.Result) -> None:
    """The default runs on the installed base in 2026, respects vendor supply (which
    binds somewhere), builds every committed campus, and leaves no year unserved in
    full (the indexed value of unserved compute pays for the newest chip)."""
    ds = result.to_xarray()
    pi = ds["pi_h100e_per_mw"]
    base = float((ds["existing_fleet_it_mw"].sel(year=2026).sum("site") * pi).sum())
    assert base >= 0.9 * float(ds["demand_h100e"].sel(year=2026))
    bought, supply = ds["gpu_bought_h100e"], ds["gpu_supply_h100e"]
    within = (bought <= supply * (1 + 1e-9) + 1e-3) | supply.isnull() | bought.isnull()
    assert bool(within.all()) and float(bought.sum()) > 0
    assert float(ds["gpu_supply_value_usd_per_h100e"].max()) > 0
    assert (ds["forced_build_mw"] > 0).all()
    from models.levers.construction import lead_rows

    for (s, y), cap in lead_rows(result.inputs).items():  # halls respect their lead
        assert float(ds["build_mw"].sel(site=s, year=y)) <= cap + 1e-6
    served = ds["served_h100e"] / ds["demand_h100e"]
    assert float(served.min()) > 0.9
    assert set(result.inputs.levers.active()) >= {
        "fleet", "forced_builds", "construction", "accelerator_supply", "national_headroom",
        "facility_om"}
    assert result.inputs.value_of_unserved_by_year  # indexed to the frontier


def test_the_default_tables_as_parquet_give_the_same_plan(tmp_path) -> None:
    """Tables may be CSV or Parquet (DESIGN): the same rows give the same optimum."""
    from planner.cli.commands import main

    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    text = (d / "scenario.yaml").read_text(encoding="utf-8")
    for table in ("regions", "sites", "chips"):
        pd.read_csv(d / f"{table}.csv").to_parquet(d / f"{table}.parquet")
        (d / f"{table}.csv").unlink()
        assert f"{table}: {table}.csv" in text
        text = text.replace(f"{table}: {table}.csv", f"{table}: {table}.parquet")
    (d / "scenario.yaml").write_text(text, encoding="utf-8")
    from_parquet = planner.solve(planner.load_scenario(d / "scenario.yaml"))
    from_csv = planner.solve(planner.load_scenario())
    assert from_parquet.objective_usd == pytest.approx(from_csv.objective_usd, rel=1e-9)
