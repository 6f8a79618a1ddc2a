"""The command line end to end, and the output folder contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from planner.cli.commands import main
from planner.outputs.files import MARKER
from planner.outputs.gap import GAP_COLUMNS

SUMMARY_KEYS = {"status", "objective_usd", "build_seconds", "solve_seconds", "variables",
                "constraints", "nonzeros"}
DESIGN_GAP_COLUMNS = [
    "year", "demand_h100e", "served_h100e", "unserved_h100e", "frontier_h100e_per_mw",
    "fleet_h100e_per_mw", "demand_growth", "efficiency_growth", "net_power_growth",
    "power_needed_mw", "power_energized_mw", "gap_mw", "gap_pct", "energy_twh",
    "compute_price_usd_per_h100e_year",
]


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "us-base"
    proc = subprocess.run([sys.executable, "-m", "planner", "run", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "optimal plan" in proc.stdout
    assert "HiGHS" not in proc.stdout.split("optimal plan")[0].replace("solving with HiGHS", ""), \
        "the HiGHS banner leaked into the progress lines"
    return out


def test_run_writes_every_output(default_run: Path) -> None:
    for name in ("results.nc", "summary.json", "gap.csv", "gap.png", "capacity_by_region.csv",
                 "sites.csv", "cost_by_component.csv", "chips_installed.csv",
                 "capacity_map.gpkg", "report.html"):
        assert (default_run / name).is_file(), name
        assert (default_run / name).stat().st_size > 0, name
    assert not list(default_run.parent.glob(".us-base.*"))


def test_summary_has_the_design_keys_and_adds_up(default_run: Path) -> None:
    s = json.loads((default_run / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(s)
    assert s["status"] == "Optimal"
    assert s["variables"] > 1000 and s["constraints"] > 1000 and s["nonzeros"] > s["variables"]
    assert sum(s["cost_usd_by_component"].values()) == pytest.approx(s["objective_usd"], rel=1e-6)
    costs = pd.read_csv(default_run / "cost_by_component.csv", index_col=0)
    assert costs.to_numpy().sum() == pytest.approx(s["objective_usd"], rel=1e-6)
    assert set(s["inputs_sha256"]) >= {"scenario", "regions", "sites", "chips", "geometry"}
    assert {"dcplan", "pyomo", "highspy", "highs"} <= set(s["versions"])


def test_results_nc_is_labelled_with_units(default_run: Path) -> None:
    with xr.open_dataset(default_run / "results.nc") as ds:
        assert {"year", "region", "site", "chip"} <= set(ds.dims)
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs, name
        for name in ("build_mw", "grid_mw", "onsite_mw", "it_mw", "load_mw", "unserved_h100e",
                     "compute_price_usd_per_h100e_year", "headroom_value_usd_per_mw",
                     "facility_value_usd_per_mw_year", "grid_access_value_usd_per_mw_year",
                     "site_ceiling_value_usd_per_mw_year"):
            assert name in ds, name
        for name in ("year", "chip_first_year", "chip_last_year", "lon", "lat"):
            assert "units" in ds[name].attrs, name
        assert ds.attrs["scenario"] == "us-base"
        assert "version_pyomo" in ds.attrs and "highs_version" in ds.attrs
        assert float(ds["cost_usd"].sum()) == pytest.approx(ds.attrs["objective_usd"], rel=1e-6)
        by_region = pd.read_csv(default_run / "capacity_by_region.csv")
        total = by_region.groupby("year")["load_mw"].sum().to_numpy()
        np.testing.assert_allclose(total, ds["load_mw"].sum("site").values, rtol=1e-5)


def test_gap_csv_has_the_design_columns(default_run: Path) -> None:
    gap = pd.read_csv(default_run / "gap.csv")
    assert list(gap.columns) == list(GAP_COLUMNS)
    assert set(DESIGN_GAP_COLUMNS) <= set(gap.columns)
    with xr.open_dataset(default_run / "results.nc") as ds:
        np.testing.assert_allclose(gap["energy_twh"], ds["energy_twh"].values, rtol=1e-5)
        np.testing.assert_allclose(gap["demand_h100e"], ds["demand_h100e"].values, rtol=1e-5)


def test_rerun_replaces_the_folder_atomically(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "res"
    out.mkdir()
    (out / MARKER).write_text("")  # a folder an earlier run wrote
    (out / "marker.txt").write_text("previous run")
    import planner.outputs.files as output

    def boom(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "plot_gap", boom)
    assert main(["run", "-o", str(out)]) == 130
    assert (out / "marker.txt").read_text() == "previous run"
    assert not list(tmp_path.glob(".res.*"))
    monkeypatch.undo()
    assert main(["run", "-o", str(out)]) == 0
    assert (out / "marker.txt").read_text() == "previous run"  # not dcplan's: kept
    assert (out / "results.nc").is_file() and (out / MARKER).is_file()
    assert not list(tmp_path.glob(".res.*"))


@pytest.mark.parametrize("command", [["run"], ["synth", "--sites", "3"], ["stress"]])
def test_a_folder_of_the_users_own_files_is_never_replaced(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """-o naming a non-empty folder dcplan did not write: exit 2 before any work, files kept."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("precious")
    assert main([*command, "-o", str(victim)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: victim: the output folder is not empty and was not "
                                   "written by dcplan") and captured.err.count("\n") == 1
    assert "solving" not in captured.out and "clearing" not in captured.out  # refused first
    assert (victim / "notes.txt").read_text() == "precious"
    assert sorted(p.name for p in victim.iterdir()) == ["notes.txt"]
    assert not list(tmp_path.glob(".victim.*"))


def test_validate_and_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    assert "valid" in capsys.readouterr().out
    d = tmp_path / "copy"
    assert main(["init", str(d)]) == 0
    assert main(["validate", str(d / "scenario.yaml")]) == 0
    assert main(["init", str(d)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["init", str(d), "--force"]) == 0


def test_site_without_region_is_placed_by_point_in_polygon(tmp_path: Path) -> None:
    import planner

    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    sites = pd.read_csv(d / "sites.csv", dtype=str, keep_default_na=False)
    truth = sites["region"].copy()
    sites["region"] = ""
    sites.to_csv(d / "sites.csv", index=False)
    sc = planner.load_scenario(d / "scenario.yaml")
    assert (sc.sites["region"].to_numpy() == truth.to_numpy()).all()


def test_user_geometry_in_another_crs(tmp_path: Path) -> None:
    import planner

    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    gdf = gpd.read_file(d / "regions.geojson").to_crs(3857)
    gdf.to_file(d / "regions.gpkg", driver="GPKG")
    text = (d / "scenario.yaml").read_text().replace("geometry: regions.geojson",
                                                     "geometry: regions.gpkg")
    (d / "scenario.yaml").write_text(text)
    sc = planner.load_scenario(d / "scenario.yaml")
    assert sc.geometry.crs.to_epsg() == 4326
    assert set(sc.geometry.index) == set(sc.regions.index)


def test_demand_path_table(tmp_path: Path) -> None:
    import planner

    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    years = list(range(2026, 2041))
    pd.DataFrame({"year": years, "demand_h100e": [1e6 * 1.1**i for i in range(15)]}).to_csv(
        d / "demand.csv", index=False)
    text = (d / "scenario.yaml").read_text()
    start = text.index("  base_h100e:")
    end = text.index("  value_of_unserved")
    text = text[:start] + "  path: demand.csv\n" + text[end:]
    (d / "scenario.yaml").write_text(text)
    sc = planner.load_scenario(d / "scenario.yaml")
    assert sc.demand_h100e.iloc[-1] == pytest.approx(1e6 * 1.1**14)
