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
    """AI datacenter energy in the first years sits inside public estimates:
    2026 below the 2023 all-datacenter 176 TWh (LBNL) and 2028 inside an AI
    share of LBNL's 325–580 TWh for 2028."""
    e = result.to_xarray()["energy_twh"].to_series()
    assert 80 <= e[2026] <= 176
    assert 150 <= e[2028] <= 350
    assert e[2030] <= 426  # IEA: all US datacenters 426 TWh in 2030


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
