"""A scenario with regions of its own and no polygons runs end to end (issue 12, part 1).

Polygons are needed for two things only: placing a site that has lon/lat but no
region, and drawing regions on maps. The hand-solved cases run here as scenario
folders on disk (own ``regions.csv``, no geometry) through ``dcplan run``; bad
input in such a folder gives its own one-line error.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest

from grids.regions import default_geometry_path
from planner.cli.app import app
from planner.cli.commands import main
from planner.cli.map import register
from tests.factory import edit_csv, replace_text
from tests.scenario_folders import write_scenario_folder
from tests.test_hand_solved import HAND_SOLVED, lead_time_forces_early_dearer_site

#: Every file ``dcplan run`` writes into its output folder.
RUN_OUTPUTS = ("results.nc", "summary.json", "gap.csv", "gap.png", "capacity_by_region.csv",
               "sites.csv", "cost_by_component.csv", "chips_installed.csv",
               "capacity_map.gpkg", "report.html", ".dcplan-output")
#: The hand-solved cases' regions under the names a user would give them.
RENAME = {"R": "R1", "RA": "DEAR", "RB": "CHEAP"}
CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]


def dcplan(*args: Any) -> int:
    """The command line in-process, with the map commands registered."""
    register(app)
    return main([str(a) for a in args])


def polygon_file(path: Path, polygons: dict[str, list[tuple[float, float]]]) -> Path:
    """A GeoJSON file (WGS84) with one square-ish polygon per region."""
    features = [{"type": "Feature", "properties": {"region": region},
                 "geometry": {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}}
                for region, ring in polygons.items()]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}),
                    encoding="utf-8")
    return path


def box(lon: float, lat: float, half: float = 1.0) -> list[tuple[float, float]]:
    return [(lon - half, lat - half), (lon + half, lat - half), (lon + half, lat + half),
            (lon - half, lat + half)]


# -- the hand-solved cases as folders, through the front door ---------------------------------


@pytest.mark.parametrize("case", list(HAND_SOLVED), ids=list(HAND_SOLVED))
def test_hand_solved_case_runs_as_a_folder_without_geometry(
        case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    build, objective_usd = HAND_SOLVED[case]
    folder = write_scenario_folder(build(), tmp_path / case, name=case, rename_regions=RENAME)
    assert sorted(p.name for p in folder.iterdir()) == [
        "chips.csv", "demand.csv", "regions.csv", "scenario.yaml", "sites.csv"]
    assert "\ngeometry:" not in (folder / "scenario.yaml").read_text(encoding="utf-8")
    out = tmp_path / "out"
    assert dcplan("run", folder / "scenario.yaml", "-o", out) == 0, capsys.readouterr().err
    assert not capsys.readouterr().err
    for name in RUN_OUTPUTS:
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "Optimal"
    assert summary["objective_usd"] == pytest.approx(objective_usd, rel=1e-7)
    assert summary["inputs"]["geometry"] == ""  # none given, none used
    regions = gpd.read_file(out / "capacity_map.gpkg", layer="regions")
    own = [RENAME.get(r, r) for r in build().regions.index]
    assert sorted(regions["region"]) == sorted(own)
    assert regions.geometry.isna().all() and regions["area_km2"].isna().all()
    sites = gpd.read_file(out / "capacity_map.gpkg", layer="sites")
    assert sorted(sites["site"]) == sorted(build().sites.index)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"No polygon was given for {', '.join(own)}" in html


def test_a_folder_without_geometry_in_a_real_process(tmp_path: Path) -> None:
    """The console script: exit 0, nothing on stderr (no warning, no traceback)."""
    folder = write_scenario_folder(lead_time_forces_early_dearer_site(), tmp_path / "case",
                                   rename_regions=RENAME)
    proc = subprocess.run([sys.executable, "-m", "planner", "run",
                           str(folder / "scenario.yaml"), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective_usd"] == pytest.approx(963_600.0, rel=1e-7)


@pytest.fixture(scope="module")
def bare_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of the two-region case (DEAR, CHEAP) with no polygons at all."""
    tmp = tmp_path_factory.mktemp("bare")
    folder = write_scenario_folder(lead_time_forces_early_dearer_site(), tmp / "case",
                                   name="bare", rename_regions=RENAME)
    assert dcplan("run", folder / "scenario.yaml", "-o", tmp / "out") == 0
    return tmp / "out"


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "parquet"])
def test_exports_keep_a_region_without_polygon_with_an_empty_geometry(
        bare_run: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"map.{fmt}"
    assert dcplan("map", bare_run, "--format", fmt, "-o", out) == 0
    regions = (gpd.read_parquet(out) if fmt == "parquet" else
               gpd.read_file(out, layer="regions" if fmt == "gpkg" else None))
    assert sorted(regions["region"]) == ["CHEAP", "DEAR"]
    assert regions.geometry.isna().all()
    load = regions.set_index("region")["load_mw_2027"]
    assert load["CHEAP"] == pytest.approx(1.0) and load["DEAR"] == pytest.approx(0.0)
    if fmt != "gpkg":
        sites_out = out.with_name(f"map_sites.{fmt}")
        sites = gpd.read_parquet(sites_out) if fmt == "parquet" else gpd.read_file(sites_out)
        assert sorted(sites["site"]) == ["A", "B"] and sites.geometry.notna().all()


def test_png_map_and_report_of_a_run_without_polygons(bare_run: Path, tmp_path: Path) -> None:
    png = tmp_path / "map.png"
    assert dcplan("map", bare_run, "--years", "2026,2027", "-o", png) == 0
    assert png.stat().st_size > 10_000
    page = tmp_path / "report.html"
    assert dcplan("report", bare_run, "-o", page) == 0
    text = page.read_text(encoding="utf-8")
    assert "No polygon was given for DEAR, CHEAP: drawn as their sites" in text
    payload = json.loads(re.search(r'id="dcplan-map-data">(.*?)</script>', text).group(1))
    assert payload["regions"]["features"] == []
    assert [r["region"] for r in payload["regions_without_polygon"]] == ["DEAR", "CHEAP"]


# -- some regions with a polygon, some without -------------------------------------------------


@pytest.fixture()
def partial(tmp_path: Path) -> Path:
    """CHEAP has a polygon around (0, 0), DEAR has none; site A (DEAR) lies far away."""
    folder = write_scenario_folder(lead_time_forces_early_dearer_site(), tmp_path / "case",
                                   name="partial", rename_regions=RENAME)
    polygon_file(folder / "regions.geojson", {"CHEAP": box(0.0, 0.0)})
    (folder / "scenario.yaml").write_text(
        (folder / "scenario.yaml").read_text(encoding="utf-8") + "geometry: regions.geojson\n",
        encoding="utf-8")
    edit_csv(folder / "sites.csv", 1, "lon", "-100.0")  # DEAR: no polygon, no check
    return folder


def test_polygons_for_some_regions_place_and_check_only_those(
        partial: Path, tmp_path: Path) -> None:
    edit_csv(partial / "sites.csv", 2, "region", "")  # B: placed in CHEAP by its point
    out = tmp_path / "out"
    assert dcplan("run", partial / "scenario.yaml", "-o", out) == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["objective_usd"] == pytest.approx(963_600.0, rel=1e-7)
    sites = gpd.read_file(out / "capacity_map.gpkg", layer="sites").set_index("site")
    assert sites.loc["B", "region"] == "CHEAP"
    regions = gpd.read_file(out / "capacity_map.gpkg", layer="regions").set_index("region")
    assert regions.loc["DEAR"].geometry is None
    assert regions.loc["CHEAP"].geometry.equals(gpd.read_file(
        partial / "regions.geojson").geometry.iloc[0])
    assert regions.loc["CHEAP", "area_km2"] > 40_000 and np.isnan(regions.loc["DEAR", "area_km2"])
    assert "No polygon was given for DEAR:" in (out / "report.html").read_text(encoding="utf-8")


def test_the_bundled_polygons_are_not_used_for_own_regions(tmp_path: Path) -> None:
    """Own regions with the ids of bundled ones still get no bundled polygon: a site that
    names PJM may lie anywhere, and the run's map has no polygon."""
    folder = write_scenario_folder(lead_time_forces_early_dearer_site(), tmp_path / "case",
                                   rename_regions={"RA": "PJM", "RB": "ERCOT"})
    out = tmp_path / "out"
    assert dcplan("run", folder / "scenario.yaml", "-o", out) == 0  # sites at lon 0, lat 0
    regions = gpd.read_file(out / "capacity_map.gpkg", layer="regions")
    assert sorted(regions["region"]) == ["ERCOT", "PJM"] and regions.geometry.isna().all()


# -- bad input in a scenario with its own regions and no geometry -------------------------------


def _rename_column(d: Path) -> None:
    replace_text(d / "regions.csv", "carbon_t_per_mwh", "carbon")


def _negative_lead(d: Path) -> None:
    edit_csv(d / "regions.csv", 1, "interconnect_lead_years", "-1")


def _duplicate_region(d: Path) -> None:
    edit_csv(d / "regions.csv", 2, "region", "DEAR")  # and CHEAP, named by site B, is gone


def _missing_regions_file(d: Path) -> None:
    replace_text(d / "scenario.yaml", "regions: regions.csv", "regions: nope.csv")


def _unreadable_regions(d: Path) -> None:
    (d / "regions.csv").write_bytes(b"region,name\n\xff\xfe\x00\x81,x\n")


def _unknown_region(d: Path) -> None:
    edit_csv(d / "sites.csv", 1, "region", "ATLANTIS")


def _no_region_no_polygon(d: Path) -> None:
    edit_csv(d / "sites.csv", 2, "region", "")


def _bad_chip_and_unknown_region(d: Path) -> None:
    edit_csv(d / "sites.csv", 1, "region", "ATLANTIS")  # a cross-check error …
    edit_csv(d / "chips.csv", 1, "it_kw_per_unit", "-1")  # … after a table's own error


def _bad_demand_and_no_region(d: Path) -> None:
    edit_csv(d / "sites.csv", 2, "region", "")  # would need a polygon …
    edit_csv(d / "demand.csv", 1, "demand_h100e", "-5")  # … but the demand is wrong first


def _site_content_before_placement(d: Path) -> None:
    edit_csv(d / "sites.csv", 2, "region", "")
    edit_csv(d / "sites.csv", 1, "existing_mw", "2e6")


def _no_sites_table(d: Path) -> None:
    replace_text(d / "scenario.yaml", "sites: sites.csv\n", "")


def _prices_for_a_bundled_region(d: Path) -> None:
    (d / "prices.csv").write_text("region,year,energy_price_usd_per_mwh,"
                                  "capacity_price_usd_per_mw_year\nPJM,2026,50,0\n",
                                  encoding="utf-8")
    replace_text(d / "scenario.yaml", "chips: chips.csv\n",
                 "chips: chips.csv\nprices: prices.csv\n")


def _geometry_of_other_regions(d: Path) -> None:
    shutil.copyfile(default_geometry_path(), d / "regions.geojson")
    replace_text(d / "scenario.yaml", "chips: chips.csv\n",
                 "chips: chips.csv\ngeometry: regions.geojson\n")


def _missing_geometry_file(d: Path) -> None:
    replace_text(d / "scenario.yaml", "chips: chips.csv\n",
                 "chips: chips.csv\ngeometry: nope.geojson\n")


def _empty_polygon_and_unknown_region(d: Path) -> None:
    polygon_file(d / "regions.geojson", {"CHEAP": box(0.0, 0.0)})
    text = (d / "regions.geojson").read_text(encoding="utf-8")
    gj = json.loads(text)
    gj["features"][0]["geometry"] = None
    (d / "regions.geojson").write_text(json.dumps(gj), encoding="utf-8")
    replace_text(d / "scenario.yaml", "chips: chips.csv\n",
                 "chips: chips.csv\ngeometry: regions.geojson\n")
    edit_csv(d / "sites.csv", 1, "region", "ATLANTIS")


def _far_from_own_polygon(d: Path) -> None:
    polygon_file(d / "regions.geojson", {"CHEAP": box(0.0, 0.0)})
    replace_text(d / "scenario.yaml", "chips: chips.csv\n",
                 "chips: chips.csv\ngeometry: regions.geojson\n")
    edit_csv(d / "sites.csv", 1, "lon", "-100")  # DEAR has no polygon: never checked
    edit_csv(d / "sites.csv", 2, "lon", "40")  # CHEAP has one: checked


def _outside_the_polygons_there_are(d: Path) -> None:
    _far_from_own_polygon(d)
    edit_csv(d / "sites.csv", 2, "region", "")


def _lever_names_a_bundled_region(d: Path) -> None:
    (d / "scenario.yaml").write_text((d / "scenario.yaml").read_text(encoding="utf-8")
                                     + "moratoria: [{region: PJM, from_year: 2026}]\n",
                                     encoding="utf-8")


def _fleet_names_an_unknown_site(d: Path) -> None:
    (d / "fleet.csv").write_text("site,chip,year_installed,it_mw\nZ,g,2026,1\n",
                                 encoding="utf-8")
    replace_text(d / "scenario.yaml", "chips: chips.csv\n", "chips: chips.csv\nfleet: fleet.csv\n")


OWN_REGION_CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("unknown column in regions", _rename_column,
     r"^regions\.csv, column carbon: unknown column"),
    ("bad value in regions", _negative_lead,
     r"^regions\.csv row 1 \(line 2\), column interconnect_lead_years: expected a whole "
     r"number >= 0 <= 50, got '-1'$"),
    ("duplicate region before the sites' reference to it", _duplicate_region,
     r"^regions\.csv row 2 \(line 3\), column region: duplicate region 'DEAR'"),
    ("missing regions file", _missing_regions_file,
     r"^scenario\.yaml line \d+, key regions: file not found: nope\.csv$"),
    ("unreadable regions file", _unreadable_regions,
     r"^regions\.csv: cannot read regions table: .*codec can't decode"),
    ("site names an unknown region", _unknown_region,
     r"^sites\.csv row 1 \(line 2\), column region: unknown region 'ATLANTIS' "
     r"\(known: CHEAP, DEAR\)$"),
    ("site with no region and no polygon", _no_region_no_polygon,
     r"^sites\.csv row 2 \(line 3\), column region: site 'B' at lon 0, lat 0 has no region "
     r"and there is no region polygon to place it by lon/lat: add its region \(one of DEAR, "
     r"CHEAP\), or a geometry file with your regions' polygons \(scenario key geometry\)$"),
    ("a table's bad value before a bad reference", _bad_chip_and_unknown_region,
     r"^chips\.csv row 1 \(line 2\), column it_kw_per_unit: expected a number > 0, got '-1'$"),
    ("demand's bad value before placing a site", _bad_demand_and_no_region,
     r"^demand\.csv row 1 \(line 2\), column demand_h100e: expected a number >= 0, got '-5'$"),
    ("a site's own content before placing another", _site_content_before_placement,
     r"^sites\.csv row 1 \(line 2\), column existing_mw: expected existing_mw <= max_mw"),
    ("own regions and the bundled sites", _no_sites_table,
     r"^scenario\.yaml, key sites: the scenario has its own regions \(regions\.csv\) but no "
     r"sites table, and the bundled sites lie in CAISO, ERCOT, .*, which regions\.csv does not "
     r"have: add a sites table of your own"),
    ("prices for a region not in the table", _prices_for_a_bundled_region,
     r"^prices\.csv row 1 \(line 2\), column region: unknown region 'PJM' "
     r"\(known: CHEAP, DEAR\)$"),
    ("geometry file for other regions", _geometry_of_other_regions,
     r"^regions\.geojson, column region: no polygon is for a region of regions\.csv \(the "
     r"file has CAISO, .*; expected CHEAP, DEAR\)$"),
    ("missing geometry file", _missing_geometry_file,
     r"^scenario\.yaml line \d+, key geometry: file not found: nope\.geojson$"),
    ("an empty polygon before a bad reference", _empty_polygon_and_unknown_region,
     r"^regions\.geojson row 1, column geometry: region 'CHEAP' has an empty geometry$"),
    ("site far from its own region's polygon", _far_from_own_polygon,
     r"^sites\.csv row 2 \(line 3\), column lon: site 'B' at lon 40, lat 0 is more than "
     r"0\.25° outside its region CHEAP \(it lies outside every region polygon\)"),
    ("site outside the polygons there are", _outside_the_polygons_there_are,
     r"^sites\.csv row 2 \(line 3\), column lon: site 'B' at lon 40, lat 0 lies outside "
     r"every region polygon: fix lon/lat, or add its region$"),
    ("lever names a region not in the table", _lever_names_a_bundled_region,
     r"^scenario\.yaml line \d+, key moratoria\.0\.region: unknown region 'PJM' "
     r"\(known: CHEAP, DEAR\)$"),
    ("fleet names an unknown site", _fleet_names_an_unknown_site,
     r"^fleet\.csv row 1 \(line 2\), column site: unknown site 'Z' \(known: A, B\)$"),
]


@pytest.fixture()
def own(tmp_path: Path) -> Iterator[Path]:
    """Two own regions (DEAR, CHEAP), sites A and B at lon 0, lat 0, no geometry."""
    yield write_scenario_folder(lead_time_forces_early_dearer_site(), tmp_path / "sc",
                                name="own", rename_regions=RENAME)


@pytest.mark.parametrize("name,mutate,expected", OWN_REGION_CASES,
                         ids=[c[0] for c in OWN_REGION_CASES])
def test_bad_input_with_own_regions_is_its_own_one_line_error(
        own: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        name: str, mutate: Callable[[Path], None], expected: str) -> None:
    mutate(own)
    out = tmp_path / "out"
    capsys.readouterr()
    code = dcplan("run", own / "scenario.yaml", "-o", out)
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    message = lines[0].removeprefix("error: ")
    assert re.search(expected, message), message
    named = re.match(r"([^ ,:]+)", message).group(1)
    assert (own / named).is_file(), f"the error names {named}, a file the user never gave"
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".out*"))


def test_the_bundled_regions_are_named_as_such(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A geometry file of the user's that has none of the bundled regions: the message names
    the user's file and "the bundled regions", not a bundled file."""
    folder = write_scenario_folder(lead_time_forces_early_dearer_site(), tmp_path / "sc")
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    text = text.replace("regions: regions.csv\nsites: sites.csv\n", "")
    (folder / "scenario.yaml").write_text(text + "geometry: mine.geojson\n", encoding="utf-8")
    polygon_file(folder / "mine.geojson", {"R1": box(0.0, 0.0)})
    assert dcplan("validate", folder / "scenario.yaml") == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"error: mine\.geojson, column region: no polygon is for a region of "
                        r"the bundled regions \(the file has R1; expected CAISO, .*\)", err), err


def test_validate_says_no_geometry_is_used(own: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert dcplan("validate", own / "scenario.yaml") == 0
    out = capsys.readouterr().out
    assert re.search(r"geometry\s+│ none: every site names its region", out), out


# -- the report's map in a browser -------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.is_file():
        pytest.fail(f"chromium not found at {CHROMIUM}: install it with "
                    "`apt-get install -y chromium` (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--headless", "--no-sandbox", "--disable-gpu",
                                    "--no-first-run", "--disable-background-networking"])
        yield b
        b.close()


def test_report_map_without_polygons_in_a_browser(bare_run: Path, browser: Any) -> None:
    """No polygon at all: the map shows the sites in their region's colour, no script error."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto((bare_run / "report.html").resolve().as_uri())
        page.wait_for_selector("path.dc-site", timeout=15_000)
        assert page.locator("path.dc-region").count() == 0
        assert page.locator("path.dc-site").count() == 2
        fills = {page.locator("path.dc-site").nth(i).get_attribute("fill") for i in range(2)}
        assert fills and "#1f4e9c" not in fills  # the regions' colours, not the site blue
        assert "without a polygon" in page.locator(".dc-legend").inner_text()
        assert "No polygon was given for DEAR, CHEAP" in page.locator(
            "#map-no-polygon").inner_text()
        page.select_option("#map-year", "0")  # 2026: DEAR carries the load
        assert not errors, errors
    finally:
        page.close()


def test_stress_with_own_regions_and_the_bundled_portfolio(
        own: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The bundled portfolio's sites lie in bundled regions: one line that names no bundled
    file and says what to give instead."""
    out = tmp_path / "stress"
    assert dcplan("stress", "--scenario", own / "scenario.yaml", "-o", out) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"error: the bundled portfolio's sites lie in [A-Z, ]+, which the "
                        r"scenario's own regions \(regions\.csv\) do not have: give a portfolio "
                        r"of your own \(dcplan stress PORTFOLIO, docs/stress\.md\)", err), err
    assert not out.exists()


def test_own_polygons_against_the_bundled_sites_name_no_bundled_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bundled regions and sites with polygons of the user's: a site far from its polygon is
    reported as "the bundled sites", not as a sites.csv the user never gave."""
    gj = json.loads(default_geometry_path().read_text(encoding="utf-8"))
    for feature in gj["features"]:
        if feature["properties"]["region"] == "PJM":
            feature["geometry"] = {"type": "Polygon", "coordinates": [[*box(-89.5, 30.5, 0.5),
                                                                        box(-89.5, 30.5, 0.5)[0]]]}
    (tmp_path / "mine.geojson").write_text(json.dumps(gj), encoding="utf-8")
    text = (ROOT / "planner" / "data" / "us-base.yaml").read_text(encoding="utf-8")
    (tmp_path / "scenario.yaml").write_text(text + "geometry: mine.geojson\n", encoding="utf-8")
    assert dcplan("validate", tmp_path / "scenario.yaml") == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"error: the bundled sites row \d+, column lon: site '\w+' at lon [-\d.]+, "
                        r"lat [\d.]+ is more than 0\.25° outside its region PJM .*", err), err


def test_map_of_a_run_without_polygons_needs_no_capacity_map_gpkg(
        bare_run: Path, tmp_path: Path) -> None:
    """summary.json says the run had no geometry: without capacity_map.gpkg the map is still
    drawn from results.nc (every region as its sites)."""
    copy = tmp_path / "run"
    shutil.copytree(bare_run, copy)
    (copy / "capacity_map.gpkg").unlink()
    assert dcplan("map", copy, "--format", "geojson", "-o", tmp_path / "m.geojson") == 0
    regions = gpd.read_file(tmp_path / "m.geojson")
    assert sorted(regions["region"]) == ["CHEAP", "DEAR"] and regions.geometry.isna().all()
    assert dcplan("map", copy, "-o", tmp_path / "m.png") == 0
