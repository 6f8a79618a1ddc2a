"""Regional capacity maps: exports re-open in geopandas, PNG maps, report.html in a browser.

The browser tests drive Debian's chromium (``/usr/bin/chromium``) with
Playwright; without it they fail with a message (``.ci/run`` installs it).
Screenshots and PNG maps are kept in ``test-artifacts/`` (git-ignored).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import xarray as xr
from pyproj import Geod
from shapely.geometry import Polygon, box

import planner
from planner.cli.app import app
from planner.cli.commands import main
from planner.cli.map import register
from planner.outputs.exports import write_map_outputs
from planner.outputs.files import write_run
from planner.outputs.maps import REGION_METRICS, SITE_METRICS

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: region metric → results.nc variable, for the metrics results.nc holds per region.
DIRECT = {"build_mw": "region_build_mw", "grid_mw": "region_grid_mw",
          "onsite_mw": "region_onsite_mw", "load_mw": "region_load_mw",
          "energy_twh": "region_energy_twh",
          "headroom_value_usd_per_mw": "headroom_value_usd_per_mw",
          "grid_access_value_usd_per_mw_year": "region_grid_access_value_usd_per_mw_year",
          "curtailment_headroom_mw": "region_curtailment_headroom_mw"}
#: region metrics that are site variables summed over the sites of the region.
SUMMED = ("facility_mw", "grid_capacity_mw", "onsite_capacity_mw", "grid_load_mw",
          "onsite_load_mw")
#: the columns the issue asks for (one year shown).
ASKED = {"build_mw", "grid_mw", "onsite_mw", "grid_load_mw", "onsite_load_mw", "load_mw",
         "energy_twh", "headroom_value_usd_per_mw", "grid_access_value_usd_per_mw_year",
         "load_share_pct"}


def dcplan(*args: str) -> int:
    """Run the command line in-process with the map commands registered."""
    register(app)
    return main([str(a) for a in args])


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def solved() -> tuple[planner.Scenario, planner.Result]:
    scenario = planner.load_scenario()
    return scenario, planner.solve(scenario)


@pytest.fixture(scope="module")
def run_dir(solved: tuple[Any, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario, result = solved
    out = tmp_path_factory.mktemp("maps") / "us-base"
    write_run(result, scenario, out)
    write_map_outputs(result, scenario, out)
    return out


@pytest.fixture(scope="module")
def ds(run_dir: Path) -> xr.Dataset:
    return xr.load_dataset(run_dir / "results.nc")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"chromium not found at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium` (.ci/run does this)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install '.[test]'")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


# -- expected values, straight from results.nc -------------------------------------------------


def expected_regions(ds: xr.Dataset) -> dict[str, pd.DataFrame]:
    """Region × year tables of every region metric, computed apart from planner.outputs.maps."""
    regions = [str(r) for r in ds.region.values]
    out = {}
    for metric, var in DIRECT.items():
        df = ds[var].transpose("region", "year").to_pandas()
        df.index = df.index.astype(str)
        out[metric] = df
    sites = ds[list(SUMMED)].to_dataframe().reset_index()
    for metric in SUMMED:
        df = sites.groupby(["site_region", "year"])[metric].sum().unstack("year")
        out[metric] = df.reindex(regions).fillna(0.0)
    load = out["load_mw"]
    out["load_share_pct"] = load / load.sum(axis=0) * 100.0
    return out


def region_columns(years: list[int], metrics: list[str] | None = None) -> list[str]:
    metrics = list(REGION_METRICS) if metrics is None else metrics
    return (["region", "name", "area_km2"] + [f"{m}_{y}" for m in metrics for y in years]
            + [f"{m}_total" for m in metrics if REGION_METRICS[m].kind == "flow"])


def site_columns(years: list[int]) -> list[str]:
    return (["site", "region", "lon", "lat"]
            + [f"{m}_{y}" for m in SITE_METRICS for y in years]
            + [f"{m}_total" for m, x in SITE_METRICS.items() if x.kind == "flow"])


def check_regions(gdf: gpd.GeoDataFrame, ds: xr.Dataset, years: list[int],
                  metrics: list[str] | None = None) -> None:
    regions = [str(r) for r in ds.region.values]
    assert len(gdf) == len(regions)
    assert sorted(gdf["region"]) == sorted(regions)
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    assert gdf.geometry.is_valid.all()
    assert [c for c in gdf.columns if c != "geometry"] == region_columns(years, metrics)
    expected = expected_regions(ds)
    gdf = gdf.set_index("region")
    for metric in metrics or list(REGION_METRICS):
        for y in years:
            got = pd.to_numeric(gdf[f"{metric}_{y}"]).loc[regions].to_numpy(float)
            want = expected[metric][y].loc[regions].to_numpy(float)
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9, equal_nan=True,
                                       err_msg=f"{metric}_{y}")
        if REGION_METRICS[metric].kind == "flow":
            np.testing.assert_allclose(gdf[f"{metric}_total"].loc[regions].to_numpy(float),
                                       expected[metric].loc[regions].sum(axis=1).to_numpy(),
                                       rtol=1e-9, atol=1e-9, err_msg=f"{metric}_total")


def check_sites(gdf: gpd.GeoDataFrame, ds: xr.Dataset, years: list[int]) -> None:
    sites = [str(s) for s in ds.site.values]
    assert len(gdf) == len(sites)
    assert gdf.crs.to_epsg() == 4326
    assert (gdf.geom_type == "Point").all()
    assert [c for c in gdf.columns if c != "geometry"] == site_columns(years)
    gdf = gdf.set_index("site").loc[sites]
    np.testing.assert_allclose(gdf.geometry.x, ds["lon"].values, atol=1e-9)
    np.testing.assert_allclose(gdf.geometry.y, ds["lat"].values, atol=1e-9)
    assert list(gdf["region"]) == [str(r) for r in ds["site_region"].values]
    for metric, m in SITE_METRICS.items():
        table = ds[m.source].transpose("site", "year").to_pandas()
        for y in years:
            np.testing.assert_allclose(gdf[f"{metric}_{y}"].to_numpy(float),
                                       table[y].to_numpy(float), rtol=1e-9, atol=1e-9,
                                       err_msg=f"{metric}_{y}")


# -- capacity_map.gpkg written with every run ---------------------------------------------------


def test_run_writes_capacity_map_gpkg_with_regions_and_sites(run_dir: Path,
                                                             ds: xr.Dataset) -> None:
    path = run_dir / "capacity_map.gpkg"
    layers = {str(name) for name, _ in pyogrio.list_layers(path)}
    assert layers == {"regions", "sites"}
    years = [int(y) for y in ds.year.values]
    regions = gpd.read_file(path, layer="regions")
    check_regions(regions, ds, years)
    assert ASKED <= {c.rsplit("_", 1)[0] for c in regions.columns if c[-4:].isdigit()}
    # the value of grid access is a real number in every region; in us-base the installed
    # base fits the existing connections in 2026 (worth 0) and grid access is scarce from
    # 2027, when the queued and new connections are what the growing load needs
    assert regions[f"grid_access_value_usd_per_mw_year_{years[0]}"].notna().all()
    assert regions[f"grid_access_value_usd_per_mw_year_{years[1]}"].notna().all()
    assert regions[f"grid_access_value_usd_per_mw_year_{years[1]}"].max() > 0
    assert regions.set_index("region").loc["PJM", "name"] == "PJM Interconnection"
    check_sites(gpd.read_file(path, layer="sites"), ds, years)
    gap = pd.read_csv(run_dir / "gap.csv")
    total = [regions[f"load_mw_{y}"].sum() for y in years]
    np.testing.assert_allclose(total, gap["power_energized_mw"], rtol=1e-5)
    share = np.array([regions[f"load_share_pct_{y}"].sum() for y in years])
    np.testing.assert_allclose(share[np.array(total) > 0], 100.0)
    assert not list(run_dir.glob(".*tmp*")), "temporary files left behind"


def test_headroom_layer_is_the_bundled_headroom_at_half_a_percent(
        run_dir: Path, tmp_path: Path) -> None:
    """The map layer of curtailment-enabled headroom: every bundled region coloured by its
    headroom at 0.5 % curtailment from the bundled hourly record (the default rate without
    nonfirm:), the same every year; a PNG of it is written."""
    from grids.hourly import load_hourly
    from planner.inputs.headroom import RegionCurve

    regions = gpd.read_file(run_dir / "capacity_map.gpkg", layer="regions").set_index("region")
    load = load_hourly(None)
    for r in ("PJM", "ERCOT", "CAISO"):
        want = RegionCurve.from_load(r, load[r]).headroom_mw(0.005)
        assert regions.loc[r, "curtailment_headroom_mw_2026"] == pytest.approx(want, rel=1e-9)
        assert regions.loc[r, "curtailment_headroom_mw_2040"] == pytest.approx(want, rel=1e-9)
    assert 17_000 < regions.loc["PJM", "curtailment_headroom_mw_2030"] < 19_000  # 18.0 GW
    total = regions["curtailment_headroom_mw_2030"].sum()
    assert total == pytest.approx(98_000, rel=0.02)  # the study's 98 GW at 0.5 %
    with xr.open_dataset(run_dir / "results.nc") as ds:
        var = ds["region_curtailment_headroom_mw"]
        assert var.attrs["units"] == "MW" and var.attrs["curtailment_pct"] == 0.5
    out = tmp_path / "headroom.png"
    assert dcplan("map", run_dir, "--metric", "curtailment_headroom_mw", "-o", out) == 0
    assert out.stat().st_size > 10_000


def test_area_km2_is_the_true_area(run_dir: Path) -> None:
    regions = gpd.read_file(run_dir / "capacity_map.gpkg", layer="regions")
    geod = Geod(ellps="WGS84")
    geodesic = [abs(geod.geometry_area_perimeter(g)[0]) / 1e6 for g in regions.geometry]
    np.testing.assert_allclose(regions["area_km2"], geodesic, rtol=2e-3)
    tx = regions.set_index("region").loc["ERCOT", "area_km2"]
    assert 4.5e5 < tx < 6.5e5  # Texas is ~696,000 km², ERCOT ~75 % of it


# -- dcplan map: vector exports ---------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "parquet"])
def test_map_exports_reopen_in_geopandas(fmt: str, run_dir: Path, ds: xr.Dataset,
                                         tmp_path: Path) -> None:
    out = tmp_path / f"capacity.{fmt}"
    assert dcplan("map", run_dir, "--format", fmt, "--years", "2028,2030,2040", "-o", out) == 0
    years = [2028, 2030, 2040]
    if fmt == "gpkg":
        regions = gpd.read_file(out, layer="regions")
        sites = gpd.read_file(out, layer="sites")
    elif fmt == "geojson":
        regions = gpd.read_file(out)
        sites = gpd.read_file(tmp_path / "capacity_sites.geojson")
    else:
        regions = gpd.read_parquet(out)
        sites = gpd.read_parquet(tmp_path / "capacity_sites.parquet")
    check_regions(regions, ds, years)
    check_sites(sites, ds, years)


def test_map_metric_and_year_select_columns(run_dir: Path, ds: xr.Dataset,
                                            tmp_path: Path) -> None:
    out = tmp_path / "energy.parquet"
    assert dcplan("map", run_dir, "--metric", "energy_twh", "--year", "2035", "-o", out) == 0
    regions = gpd.read_parquet(out)
    check_regions(regions, ds, [2035], ["energy_twh"])
    assert [c for c in regions.columns if "twh" in c] == ["energy_twh_2035", "energy_twh_total"]


def test_map_default_output_goes_to_the_run_folder(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    assert dcplan("map", run, "--format", "geojson") == 0
    regions = gpd.read_file(run / "map_all_2026-2040.geojson")
    assert len(regions) == 11 and regions.crs.to_epsg() == 4326
    assert (run / "map_all_2026-2040_sites.geojson").is_file()


# -- dcplan map: PNG ---------------------------------------------------------------------------


def _png(path: Path) -> np.ndarray:
    from matplotlib import image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    return image.imread(path)


def test_png_map_and_small_multiples(run_dir: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    single = tmp_path / "load.png"
    assert dcplan("map", run_dir, "-o", single) == 0  # png, load_mw, last year by default
    img = _png(single)
    h, w = img.shape[:2]
    assert 900 <= w <= 2400 and 500 <= h <= 1600, (w, h)
    colours = np.unique((img[..., :3] * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 100, "the map looks blank"

    multi = tmp_path / "multi.png"
    assert dcplan("map", run_dir, "--years", "2028,2030,2035,2040", "--metric", "build_mw",
                  "-o", multi) == 0
    img2 = _png(multi)
    assert img2.shape[0] > h * 1.1 and img2.shape[1] >= w * 0.9, "expected a 2 × 2 grid"
    nan_map = tmp_path / "headroom.png"  # every value NaN in us-base: drawn as "no value"
    assert dcplan("map", run_dir, "--metric", "headroom_value_usd_per_mw", "--year", "2030",
                  "-o", nan_map) == 0
    _png(nan_map)
    for p in (single, multi, nan_map):
        shutil.copyfile(p, ARTIFACTS / f"map_{p.name}")


# -- user geometries ---------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "crs"), [("regions.gpkg", 3857), ("regions.parquet", 5070)])
def test_user_geometry_in_another_crs_is_the_one_mapped(solved: tuple[Any, Any], tmp_path: Path,
                                                        name: str, crs: int) -> None:
    _, result = solved
    d = tmp_path / "sc"
    assert dcplan("init", d) == 0
    user = gpd.read_file(d / "regions.geojson")
    # the user's CAISO is a plain box; the file is a GeoPackage in Web Mercator or a
    # GeoParquet in CONUS Albers
    caiso = box(-124.0, 32.5, -114.5, 41.5)
    user.loc[user["region"] == "CAISO", "geometry"] = caiso
    if name.endswith(".parquet"):
        user.to_crs(crs).to_parquet(d / name)
    else:
        user.to_crs(crs).to_file(d / name, driver="GPKG")
    text = (d / "scenario.yaml").read_text().replace("geometry: regions.geojson",
                                                     f"geometry: {name}")
    (d / "scenario.yaml").write_text(text)
    scenario = planner.load_scenario(d / "scenario.yaml")
    run = tmp_path / "run"
    write_run(result, scenario, run)
    write_map_outputs(result, scenario, run)

    out = tmp_path / "user.geojson"
    assert dcplan("map", run, "--format", "geojson", "--year", "2030", "-o", out) == 0
    regions = gpd.read_file(out).set_index("region")
    assert regions.crs.to_epsg() == 4326
    got = regions.loc["CAISO", "geometry"]
    assert got.symmetric_difference(caiso).area < 1e-6 * caiso.area
    assert regions.loc["CAISO", "area_km2"] == pytest.approx(
        abs(Geod(ellps="WGS84").geometry_area_perimeter(caiso)[0]) / 1e6, rel=2e-3)


def test_run_folder_without_gpkg_uses_the_geometry_named_in_summary(run_dir: Path,
                                                                    ds: xr.Dataset,
                                                                    tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    for name in ("results.nc", "summary.json"):
        shutil.copyfile(run_dir / name, old / name)
    out = tmp_path / "old.gpkg"
    assert dcplan("map", old, "--format", "gpkg", "-o", out) == 0
    check_regions(gpd.read_file(out, layer="regions"), ds, [int(y) for y in ds.year.values])


# -- clear errors -------------------------------------------------------------------------------


def _one_line_error(capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    for n in needles:
        assert n in err, (n, err)
    return err


def _folder_with(run_dir: Path, tmp_path: Path, regions: gpd.GeoDataFrame) -> Path:
    d = tmp_path / "bad"
    d.mkdir()
    shutil.copyfile(run_dir / "results.nc", d / "results.nc")
    regions.to_file(d / "capacity_map.gpkg", layer="regions", driver="GPKG")
    return d


def test_errors_for_missing_files_metric_and_year(run_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert dcplan("map", empty) == 2
    _one_line_error(capsys, "results.nc", "file not found")
    assert dcplan("map", tmp_path / "nowhere") == 2
    _one_line_error(capsys, "nowhere", "folder not found")
    assert dcplan("map", run_dir, "--metric", "watts") == 2
    _one_line_error(capsys, "unknown metric 'watts'", "load_mw")
    assert dcplan("map", run_dir, "--year", "2050") == 2
    _one_line_error(capsys, "results.nc", "column year", "2050", "2026–2040")
    assert dcplan("map", run_dir, "--years", "2030,next") == 2
    _one_line_error(capsys, "--years")
    assert dcplan("map", run_dir, "--year", "2030", "--years", "2031") == 2
    _one_line_error(capsys, "not both")
    assert dcplan("map", run_dir, "--format", "kml") == 2
    _one_line_error(capsys, "unknown format 'kml'")
    only_nc = tmp_path / "only-nc"
    only_nc.mkdir()
    shutil.copyfile(run_dir / "results.nc", only_nc / "results.nc")
    assert dcplan("map", only_nc) == 2
    _one_line_error(capsys, "capacity_map.gpkg", "file not found")
    assert dcplan("report", only_nc) == 2
    _one_line_error(capsys, "summary.json", "file not found")
    (empty / "results.nc").write_text("not netCDF")
    assert dcplan("map", empty) == 2
    _one_line_error(capsys, "results.nc", "cannot read")
    assert not list(tmp_path.rglob("*.png")), "an error must not leave output behind"


def test_error_for_an_invalid_polygon(run_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    regions = gpd.read_file(run_dir / "capacity_map.gpkg", layer="regions")[
        ["region", "name", "geometry"]]
    bowtie = Polygon([(-100, 30), (-90, 40), (-90, 30), (-100, 40), (-100, 30)])
    row = int(np.flatnonzero(regions["region"] == "SPP")[0])
    regions.loc[row, "geometry"] = bowtie
    d = _folder_with(run_dir, tmp_path, regions)
    assert dcplan("map", d, "-o", tmp_path / "x.png") == 2
    _one_line_error(capsys, "capacity_map.gpkg", f"row {row + 1}", "column geometry", "SPP",
                    "invalid polygon")
    assert not (tmp_path / "x.png").exists()


def test_a_region_without_polygon_is_kept_with_an_empty_geometry(
        run_dir: Path, tmp_path: Path) -> None:
    """Polygons are only for drawing: a region the run's map has no polygon for keeps its
    row (and values) with an empty geometry in every export (docs/maps.md)."""
    regions = gpd.read_file(run_dir / "capacity_map.gpkg", layer="regions")
    regions = regions[regions["region"] != "NYISO"][["region", "name", "geometry"]]
    d = _folder_with(run_dir, tmp_path, regions)
    assert dcplan("map", d, "--format", "gpkg", "-o", tmp_path / "x.gpkg") == 0
    out = gpd.read_file(tmp_path / "x.gpkg", layer="regions")
    nyiso = out[out["region"] == "NYISO"]
    assert len(out) == len(regions) + 1 and len(nyiso) == 1
    assert nyiso.geometry.isna().all() and np.isnan(nyiso["area_km2"]).all()
    assert np.isfinite(nyiso["load_mw_2030"]).all()
    assert out[out["region"] != "NYISO"].geometry.notna().all()


# -- report.html --------------------------------------------------------------------------------


def test_report_html_is_self_contained(run_dir: Path) -> None:
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    markup = re.sub(r"<script[^>]*>.*?</script>", "<script></script>", text, flags=re.S)
    assert "<script src" not in markup and "<link rel=\"stylesheet\"" not in markup
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", markup)
    external = [r for r in refs if not r.startswith(("#", "data:"))]
    assert not external, f"external references: {external[:5]}"
    assert "@import" not in text and "sourceMappingURL" not in text
    assert "L.version" in text or 'version="1.9.4"' in text, "Leaflet is not inlined"
    assert len(text) < 3_000_000


def test_dcplan_report_rewrites_the_page(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "again.html"
    assert dcplan("report", run_dir, "-o", out) == 0
    text = out.read_text(encoding="utf-8")
    assert 'id="dcplan-map-data"' in text and 'id="gap-chart"' in text


def _open(browser: Any, path: Path) -> tuple[Any, dict[str, list[str]]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    seen: dict[str, list[str]] = {"errors": [], "requests": []}
    page.on("console", lambda m: seen["errors"].append(f"console: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(f"page error: {e}"))
    page.on("requestfailed", lambda r: seen["errors"].append(f"request failed: {r.url}"))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.goto(path.resolve().as_uri())
    page.wait_for_selector("path.dc-region", timeout=15_000)
    return page, seen


def _hover_tooltip(page: Any, x: float, y: float) -> str:
    box_ = page.locator("#map").bounding_box()
    page.mouse.move(box_["x"] + x, box_["y"] + y)
    page.wait_for_timeout(150)
    texts = page.locator(".leaflet-tooltip").all_inner_texts()
    page.mouse.move(1, 1)
    return " ".join(texts)


def _check_map(page: Any, ds: xr.Dataset) -> None:
    assert page.locator("#map.leaflet-container").count() == 1
    assert page.locator("path.dc-region").count() == ds.sizes["region"]
    assert page.locator("path.dc-site").count() == ds.sizes["site"]
    assert page.locator(".dc-legend").inner_text().strip()
    assert page.locator(".leaflet-tile").count() == 0, "no tiles expected"
    page.locator("#map").scroll_into_view_if_needed()
    # a region tooltip: hover each region's bounding-box centre until one shows a region
    points = page.evaluate("""() => {
        const m = window.dcplanMap, out = [];
        m.regions.eachLayer(l => {
            const p = m.map.latLngToContainerPoint(l.getBounds().getCenter());
            out.push([l.feature.properties.region, p.x, p.y]);
        });
        return out;
    }""")
    region_tips = [(r, _hover_tooltip(page, x, y)) for r, x, y in points]
    assert any(r in tip and "share of total load" in tip for r, tip in region_tips), region_tips
    # a site tooltip: hover the marker of the site with the most facility MW
    site = page.evaluate("""() => {
        const m = window.dcplanMap; let best = null;
        m.sites.eachLayer(c => {
            const mw = c.dcSite.values.facility_mw[m.state.yi] || 0;
            if (!best || mw > best.mw) {
                const p = m.map.latLngToContainerPoint(c.getLatLng());
                best = {site: c.dcSite.site, mw: mw, x: p.x, y: p.y};
            }
        });
        return best;
    }""")
    tip = _hover_tooltip(page, site["x"], site["y"])
    assert "facility in service" in tip, tip
    # the selectors re-colour the map
    fills = "ps => ps.map(p => p.getAttribute('fill'))"
    before = page.locator("path.dc-region").evaluate_all(fills)
    page.select_option("#map-metric", "build_mw")
    page.select_option("#map-year", "3")
    assert "facility MW completed" in page.locator("#map-caption").inner_text()
    assert str(int(ds.year.values[3])) in page.locator("#map-caption").inner_text()
    after = page.locator("path.dc-region").evaluate_all(fills)
    assert before != after


def test_report_in_a_headless_browser(run_dir: Path, ds: xr.Dataset, browser: Any) -> None:
    page, seen = _open(browser, run_dir / "report.html")
    try:
        assert page.title() == "dcplan report: us-base"
        cards = page.locator("#headline .card")
        assert cards.count() >= 8
        assert "billion USD" in cards.first.inner_text()
        for chart in ("#gap-chart svg", "#stack-chart svg"):
            assert page.locator(chart).count() == 1, chart
            box_ = page.locator(chart).bounding_box()
            assert box_["width"] > 600 and box_["height"] > 200, (chart, box_)
        assert "Growth since the first year" in page.locator("#gap-chart").inner_text()
        assert "by region" in page.locator("#stack-chart").inner_text()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        _check_map(page, ds)
        page.locator("#map").screenshot(path=str(ARTIFACTS / "report_map.png"))
    finally:
        page.close()
    assert not seen["errors"], seen["errors"]
    offline = [u for u in seen["requests"] if not u.startswith(("file:", "data:"))]
    assert not offline, f"the page asked the network for: {offline[:5]}"


def test_map_page_in_a_headless_browser(run_dir: Path, ds: xr.Dataset, browser: Any,
                                        tmp_path: Path) -> None:
    out = tmp_path / "map.html"
    assert dcplan("map", run_dir, "--format", "html", "--metric", "facility_mw", "-o", out) == 0
    page, seen = _open(browser, out)
    try:
        assert page.locator("#map-metric").input_value() == "facility_mw"
        _check_map(page, ds)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map_page.png"))
    finally:
        page.close()
    assert not seen["errors"], seen["errors"]
    offline = [u for u in seen["requests"] if not u.startswith(("file:", "data:"))]
    assert not offline, offline[:5]


def test_register_is_idempotent() -> None:
    register(app)
    register(app)
    names = [c.name for c in app.registered_commands]
    assert names.count("map") == 1 and names.count("report") == 1
