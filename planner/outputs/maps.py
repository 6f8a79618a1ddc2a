"""Regional capacity maps: GeoDataFrames from a run, vector exports, PNG maps.

A run's results (``results.nc``) are joined to the region polygons the run
used. Regions become polygons and sites points, each with one column per
metric and year, named ``<metric>_<year>`` (``load_mw_2030``); the metric
name carries the unit (``_mw``, ``_twh``, ``_usd_per_mw``, ``_pct``). A region
without a polygon keeps its row with an empty geometry and is drawn as its
sites, in the region's colour.

* Exchange formats (GeoPackage, GeoJSON, GeoParquet) are in EPSG:4326.
* ``area_km2`` and the PNG maps use an equal-area projection: EPSG:5070
  (CONUS Albers) when every polygon lies in the contiguous US, else
  EPSG:6933 (global equal-area).
* ``dcplan run`` writes ``capacity_map.gpkg`` (layers ``regions`` and
  ``sites``) with :func:`write_map_outputs`; ``dcplan map`` reads the region
  polygons from it and the values from ``results.nc``.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

from grids.regions import read_polygons
from grids.tables import InputError
from planner.outputs.fileio import atomic_file, file_sha256

if TYPE_CHECKING:
    pass

EXCHANGE_CRS = "EPSG:4326"
CONUS_CRS = "EPSG:5070"
GLOBAL_EQUAL_AREA_CRS = "EPSG:6933"
GPKG_NAME = "capacity_map.gpkg"
FORMATS = ("gpkg", "geojson", "parquet", "png", "html")
SUFFIX = {"gpkg": ".gpkg", "geojson": ".geojson", "parquet": ".parquet", "png": ".png",
          "html": ".html"}
DEFAULT_METRIC = "load_mw"
#: The headroom layer: curtailment-enabled headroom per region (``dcplan headroom``).
HEADROOM_METRIC = "curtailment_headroom_mw"
#: lon/lat box of the contiguous US; inside it areas and maps use EPSG:5070.
_CONUS_BOX = (-130.0, 20.0, -60.0, 55.0)


@dataclass(frozen=True)
class Metric:
    """One mapped quantity.

    Attributes
    ----------
    name : column prefix, with its unit (``load_mw``).
    label : what it is, for legends and tooltips.
    units : unit for legends (``MW``).
    kind : ``"flow"`` (per year; ``<name>_total`` sums all model years),
        ``"level"`` (in service in the year), ``"price"`` or ``"share"``.
    source : results.nc variable (``region`` × ``year`` or ``site`` × ``year``);
        for region metrics with ``by_site`` set, a site variable summed by region.
    """

    name: str
    label: str
    units: str
    kind: str
    source: str
    by_site: bool = False
    optional: bool = False  # only in runs whose results have the source (else skipped)


REGION_METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("build_mw", "facility MW completed in the year", "MW", "flow", "region_build_mw"),
    Metric("facility_mw", "facility capacity in service", "MW", "level", "facility_mw", True),
    Metric("grid_mw", "new grid connections energized in the year", "MW", "flow",
           "region_grid_mw"),
    Metric("onsite_mw", "on-site generation completed in the year", "MW", "flow",
           "region_onsite_mw"),
    Metric("grid_capacity_mw", "grid connections energized (existing, queued, new)", "MW",
           "level", "grid_capacity_mw", True),
    Metric("onsite_capacity_mw", "on-site generation in service", "MW", "level",
           "onsite_capacity_mw", True),
    Metric("grid_load_mw", "facility load served by the grid", "MW", "level", "grid_load_mw",
           True),
    Metric("onsite_load_mw", "facility load served on site", "MW", "level", "onsite_load_mw",
           True),
    Metric("load_mw", "facility load, grid + on-site", "MW", "level", "region_load_mw"),
    Metric("energy_twh", "facility energy use", "TWh", "flow", "region_energy_twh"),
    Metric("grid_access_value_usd_per_mw_year", "value of one more MW of grid connection for "
           "a year (best site)", "USD/(MW·year)", "price",
           "region_grid_access_value_usd_per_mw_year"),
    Metric("headroom_value_usd_per_mw", "value of one more MW of the region's yearly "
           "new-connection limit", "USD/MW", "price", "headroom_value_usd_per_mw"),
    Metric("load_share_pct", "share of the total facility load", "%", "share",
           "region_load_mw"),
    Metric(HEADROOM_METRIC, "curtailment-enabled headroom", "MW", "level",
           "region_curtailment_headroom_mw", optional=True),
)}

SITE_METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("build_mw", "facility MW completed in the year", "MW", "flow", "build_mw"),
    Metric("facility_mw", "facility capacity in service", "MW", "level", "facility_mw"),
    Metric("grid_mw", "new grid connection energized in the year", "MW", "flow", "grid_mw"),
    Metric("onsite_mw", "on-site generation completed in the year", "MW", "flow", "onsite_mw"),
    Metric("grid_capacity_mw", "grid connection energized (existing, queued, new)", "MW",
           "level", "grid_capacity_mw"),
    Metric("onsite_capacity_mw", "on-site generation in service", "MW", "level",
           "onsite_capacity_mw"),
    Metric("grid_load_mw", "facility load served by the grid", "MW", "level", "grid_load_mw"),
    Metric("onsite_load_mw", "facility load served on site", "MW", "level", "onsite_load_mw"),
    Metric("load_mw", "facility load, grid + on-site", "MW", "level", "load_mw"),
    Metric("served_h100e", "compute served", "H100e", "level", "served_h100e_by_site"),
    Metric("facility_value_usd_per_mw_year", "value of one more MW of facility for a year",
           "USD/(MW·year)", "price", "facility_value_usd_per_mw_year"),
    Metric("grid_access_value_usd_per_mw_year", "value of one more MW of grid connection for "
           "a year", "USD/(MW·year)", "price", "grid_access_value_usd_per_mw_year"),
)}

#: The site metric that sizes site markers on maps.
SITE_SIZE_METRIC = "facility_mw"


@dataclass
class CapacityMap:
    """Regions (polygons) and sites (points) with per-year columns, EPSG:4326.

    Attributes
    ----------
    regions : one row per region: ``region, name, area_km2``, then
        ``<metric>_<year>`` for each metric and year, then ``<metric>_total``
        (sum over all model years) for flow metrics.
    sites : one row per site: ``site, region, lon, lat``, then
        ``<metric>_<year>`` and ``<metric>_total`` likewise.
    years : the years that have columns.
    metrics : the region metrics that have columns.
    scenario : the scenario name.
    equal_area_crs : the projection used for ``area_km2`` and PNG maps.
    """

    regions: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    years: list[int]
    metrics: list[str]
    scenario: str
    equal_area_crs: str
    attrs: dict[str, Any] = field(default_factory=dict)


# -- reading a run ----------------------------------------------------------------------------


def read_results(folder: str | Path) -> xr.Dataset:
    """``results.nc`` of a run folder, loaded into memory.

    Raises
    ------
    InputError
        When the folder or the file is missing or unreadable.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("folder not found (expected a dcplan run folder)", file=folder)
    path = folder / "results.nc"
    if not path.is_file():
        raise InputError(f"file not found in {folder} (expected the output of dcplan run)",
                         file=path)
    try:
        ds = xr.load_dataset(path)
    except Exception as exc:
        raise InputError(f"cannot read results: {_first_line(exc)}", file=path) from None
    ds.attrs.setdefault("path", str(path))
    return ds


def read_region_polygons(path: str | Path, regions: Sequence[str] | None = None,
                         layer: str = "regions") -> gpd.GeoDataFrame:
    """Region polygons from a GeoPackage layer, GeoJSON or GeoParquet, in EPSG:4326.

    Parameters
    ----------
    path : the file, e.g. a run's ``capacity_map.gpkg``.
    regions : the regions to keep (e.g. those of results.nc; default: all).
    layer : layer to read from a multi-layer file (ignored when the file has one).

    Returns
    -------
    GeoDataFrame with ``region``, ``name`` (the region id when the file has none)
    and ``geometry``, one row per region, in EPSG:4326. A region without a
    polygon has an empty geometry in the file and ``None`` here; a region the
    file does not list has no row (both are drawn as their sites).

    Raises
    ------
    InputError
        A missing or unreadable file, no ``region`` column, no CRS, a
        non-polygon or invalid geometry, or a region twice.
    """
    gdf = read_polygons(path, layer=layer, empty_ok=True)
    if "name" not in gdf.columns:
        gdf["name"] = gdf["region"]
    gdf["name"] = gdf["name"].fillna(gdf["region"]).astype(str)
    if regions is not None:
        gdf = gdf[gdf["region"].isin([str(r) for r in regions])]
    out = gdf[["region", "name", "geometry"]].reset_index(drop=True)
    out.attrs["path"] = str(path)
    return out


def run_polygons(folder: str | Path, ds: xr.Dataset) -> gpd.GeoDataFrame:
    """The region polygons a run used.

    Read from the run's ``capacity_map.gpkg``; for a run folder written before
    that file existed, from the geometry file named in ``summary.json`` (the
    bundled default, or the user's file if its SHA-256 still matches the run);
    none when ``summary.json`` says the run had no geometry.
    """
    folder = Path(folder)
    regions = [str(r) for r in ds.region.values]
    gpkg = folder / GPKG_NAME
    if gpkg.is_file():
        return read_region_polygons(gpkg, regions)
    summary = folder / "summary.json"
    source = None
    if summary.is_file():
        try:
            source = json.loads(summary.read_text(encoding="utf-8")).get("inputs", {}).get(
                "geometry")
        except (ValueError, AttributeError):
            source = None
    if source == "":  # the run had no polygons: every region is drawn as its sites
        out = gpd.GeoDataFrame({"region": pd.Series(dtype=object), "name": pd.Series(
            dtype=object)}, geometry=gpd.GeoSeries([], crs=EXCHANGE_CRS), crs=EXCHANGE_CRS)
        out.attrs["path"] = ""
        return out
    if not source:
        raise InputError(f"file not found in {folder} (expected the region polygons of the run;"
                         " re-run dcplan run to write it)", file=gpkg)
    from grids.regions import default_geometry_path, load_geometry

    path = default_geometry_path() if source == "bundled" else Path(source)
    expected = ds.attrs.get("sha256_geometry")
    if source != "bundled" and path.is_file() and expected:
        if file_sha256(path) != expected:
            raise InputError(f"the region geometry changed since the run and {GPKG_NAME} is "
                             "missing; re-run dcplan run", file=path)
    gdf = load_geometry(path, pd.DataFrame(index=pd.Index(regions, name="region")))
    gdf = gdf.reset_index(drop=True)
    gdf["name"] = gdf["region"]
    out = gdf[["region", "name", "geometry"]]
    out.attrs["path"] = str(path)
    return out


# -- building the map tables -----------------------------------------------------------------


def equal_area_crs(gdf: gpd.GeoDataFrame) -> str:
    """EPSG:5070 (CONUS Albers) for polygons in the contiguous US, else EPSG:6933.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> equal_area_crs(gpd.GeoDataFrame(geometry=[box(-100, 30, -90, 40)], crs=4326))
    'EPSG:5070'
    >>> equal_area_crs(gpd.GeoDataFrame(geometry=[box(5, 45, 15, 55)], crs=4326))
    'EPSG:6933'
    """
    minx, miny, maxx, maxy = gdf.to_crs(EXCHANGE_CRS).total_bounds
    x0, y0, x1, y1 = _CONUS_BOX
    inside = minx >= x0 and miny >= y0 and maxx <= x1 and maxy <= y1
    return CONUS_CRS if inside else GLOBAL_EQUAL_AREA_CRS


def select_years(ds: xr.Dataset, years: Sequence[int] | None) -> list[int]:
    """Validate ``years`` against the results (``None`` = all years)."""
    known = [int(y) for y in ds.year.values]
    if years is None:
        return known
    out = []
    for y in years:
        if int(y) not in known:
            raise InputError(f"year {y} is not in the results (years {known[0]}–{known[-1]})",
                             file=ds.attrs.get("path", "results.nc"), column="year")
        if int(y) not in out:
            out.append(int(y))
    if not out:
        raise InputError("no year selected", column="year")
    return out


def check_metric(metric: str, table: dict[str, Metric] | None = None) -> Metric:
    """The :class:`Metric` called ``metric``, or a one-line error listing the known ones."""
    table = REGION_METRICS if table is None else table
    if metric not in table:
        raise InputError(f"--metric: unknown metric '{metric}' (known: {', '.join(table)})")
    return table[metric]


def _need(ds: xr.Dataset, name: str) -> xr.DataArray:
    if name not in ds.variables:
        raise InputError("variable missing (expected the output of this dcplan version)",
                         file=ds.attrs.get("path", "results.nc"), column=name)
    return ds[name]


def region_values(ds: xr.Dataset, metric: str) -> pd.DataFrame:
    """Values of a region metric: regions (rows, results order) × years (columns)."""
    m = check_metric(metric)
    regions = [str(r) for r in ds.region.values]
    if m.by_site:
        site = _need(ds, m.source).to_pandas()
        site.index = _need(ds, "site_region").to_numpy().astype(str)
        df = site.groupby(level=0).sum().reindex(regions, fill_value=0.0)
    else:
        df = _need(ds, m.source).transpose("region", "year").to_pandas()
        df.index = df.index.astype(str)
        df = df.reindex(regions)
    if m.name == "load_share_pct":
        total = df.sum(axis=0)
        df = (df / total.where(total > 0) * 100.0).fillna(0.0)
    df.columns = [int(y) for y in df.columns]
    return df.astype(float)


def site_values(ds: xr.Dataset, metric: str) -> pd.DataFrame:
    """Values of a site metric: sites (rows, results order) × years (columns)."""
    m = check_metric(metric, SITE_METRICS)
    df = _need(ds, m.source).transpose("site", "year").to_pandas()
    df.index = df.index.astype(str)
    df.columns = [int(y) for y in df.columns]
    return df.astype(float)


def capacity_map(
    ds: xr.Dataset,
    polygons: gpd.GeoDataFrame,
    *,
    years: Sequence[int] | None = None,
    metrics: Sequence[str] | None = None,
) -> CapacityMap:
    """Join results to region polygons and site points.

    Parameters
    ----------
    ds : a results Dataset (``Result.to_xarray()`` or a run's ``results.nc``).
    polygons : GeoDataFrame with ``region`` (and optionally ``name``), any CRS.
    years : years to give columns (default: all years of the results).
    metrics : region metrics to give columns (default: all of :data:`REGION_METRICS`).
        Sites always carry every metric of :data:`SITE_METRICS`.

    Returns
    -------
    CapacityMap
        In EPSG:4326, one row per region of the results and one per site.
    """
    years = select_years(ds, years)
    if metrics is None:  # every metric the results have (optional ones only if present)
        metrics = [k for k, m in REGION_METRICS.items()
                   if not m.optional or m.source in ds.variables]
    else:
        metrics = [check_metric(m).name for m in metrics]
    regions = [str(r) for r in ds.region.values]
    if polygons.crs is None:
        raise InputError("region polygons have no coordinate reference system",
                         file=polygons.attrs.get("path"), column="geometry")
    poly = polygons.to_crs(EXCHANGE_CRS)
    poly = poly.assign(region=poly["region"].astype(str))
    poly = poly[poly.geometry.notna() & ~poly.geometry.is_empty]
    poly = poly.drop_duplicates("region").set_index("region")
    # a region without a polygon keeps its row, with an empty geometry (docs/maps.md)
    shapes = gpd.GeoSeries(poly.geometry.reindex(regions).to_numpy(), index=regions,
                           crs=EXCHANGE_CRS)
    names = pd.Series(regions, index=regions, dtype=object)
    if "name" in polygons.columns:
        given = polygons.assign(region=polygons["region"].astype(str)).drop_duplicates(
            "region").set_index("region")["name"]
        names = given.reindex(regions).where(lambda v: v.notna(), names).astype(str)
    lon = _need(ds, "lon").to_numpy().astype(float)
    lat = _need(ds, "lat").to_numpy().astype(float)
    ea_crs = equal_area_crs(gpd.GeoDataFrame(geometry=shapes.dropna())) if shapes.notna().any() \
        else equal_area_crs(gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat),
                                             crs=EXCHANGE_CRS))
    area = np.full(len(regions), np.nan)
    has = shapes.notna().to_numpy()
    if has.any():
        area[has] = shapes[has].to_crs(ea_crs).area.to_numpy() / 1e6

    cols: dict[str, Any] = {
        "region": regions,
        "name": names.to_numpy(),
        "area_km2": area,
    }
    totals: dict[str, Any] = {}
    for name in metrics:
        values = region_values(ds, name)
        for y in years:
            cols[f"{name}_{y}"] = values[y].to_numpy()
        if REGION_METRICS[name].kind == "flow":
            totals[f"{name}_total"] = values.sum(axis=1).to_numpy()
    region_gdf = gpd.GeoDataFrame({**cols, **totals}, geometry=shapes.to_numpy(),
                                  crs=EXCHANGE_CRS)

    sites = [str(s) for s in ds.site.values]
    scols: dict[str, Any] = {
        "site": sites,
        "region": _need(ds, "site_region").to_numpy().astype(str),
        "lon": lon,
        "lat": lat,
    }
    stotals: dict[str, Any] = {}
    for name, m in SITE_METRICS.items():
        values = site_values(ds, name)
        for y in years:
            scols[f"{name}_{y}"] = values[y].to_numpy()
        if m.kind == "flow":
            stotals[f"{name}_total"] = values.sum(axis=1).to_numpy()
    site_gdf = gpd.GeoDataFrame({**scols, **stotals}, geometry=gpd.points_from_xy(lon, lat),
                                crs=EXCHANGE_CRS)
    return CapacityMap(regions=region_gdf, sites=site_gdf, years=years, metrics=metrics,
                       scenario=str(ds.attrs.get("scenario", "")), equal_area_crs=ea_crs,
                       attrs={"all_years": [int(y) for y in ds.year.values],
                              **({"curtailment_pct": float(
                                  ds[REGION_METRICS[HEADROOM_METRIC].source].attrs.get(
                                      "curtailment_pct", 0.0))}
                                 if HEADROOM_METRIC in metrics else {})})


def load_capacity_map(folder: str | Path, *, years: Sequence[int] | None = None,
                      metrics: Sequence[str] | None = None) -> CapacityMap:
    """:func:`capacity_map` of a run folder (results.nc + the run's region polygons)."""
    ds = read_results(folder)
    return capacity_map(ds, run_polygons(folder, ds), years=years, metrics=metrics)


# -- writing ---------------------------------------------------------------------------------


def write_vector(cmap: CapacityMap, path: str | Path, fmt: str) -> list[Path]:
    """Write regions and sites as GeoPackage, GeoJSON or GeoParquet (EPSG:4326).

    A GeoPackage holds both layers (``regions``, ``sites``); GeoJSON and
    GeoParquet hold one table each, so the sites go to ``<stem>_sites<suffix>``
    beside ``path``. Every file is written atomically.

    Returns
    -------
    The files written.
    """
    path = Path(path)
    if fmt == "gpkg":
        with atomic_file(path) as tmp:
            cmap.regions.to_file(tmp, layer="regions", driver="GPKG")
            cmap.sites.to_file(tmp, layer="sites", driver="GPKG")
        return [path]
    sites_path = path.with_name(f"{path.stem}_sites{path.suffix}")
    for gdf, target in ((cmap.regions, path), (cmap.sites, sites_path)):
        with atomic_file(target) as tmp:
            if fmt == "geojson":  # the layer name is the file's, not the temporary one's
                gdf.to_file(tmp, driver="GeoJSON", layer=target.stem)
            elif fmt == "parquet":
                gdf.to_parquet(tmp, index=False)
            else:
                raise InputError(f"--format: unknown vector format '{fmt}' "
                                 "(known: gpkg, geojson, parquet)")
    return [path, sites_path]


def display_geometry(geometry: gpd.GeoSeries) -> gpd.GeoSeries:
    """Polygons for drawing: slivers narrower than 1/1000 of the extent closed.

    Region files built from counties or balancing areas often have hairline gaps
    between the parts of one region, which would show as stray lines on a map.
    Exports keep the original geometry; only maps draw this one.
    """
    minx, miny, maxx, maxy = geometry.total_bounds
    d = max(maxx - minx, maxy - miny) / 2000.0
    if not d > 0:
        return geometry
    with warnings.catch_warnings():  # display only: degrees are fine as a distance here
        warnings.filterwarnings("ignore", "Geometry is in a geographic CRS", UserWarning)
        closed = geometry.buffer(d).buffer(-d)
    return closed.where(~closed.is_empty, geometry)


def _nice(x: float) -> float:
    """Round ``x`` down to 1, 2 or 5 × a power of ten."""
    if x <= 0 or not math.isfinite(x):
        return 0.0
    p = 10 ** math.floor(math.log10(x))
    return max(s * p for s in (1, 2, 5) if s * p <= x)


def plot_map(cmap: CapacityMap, metric: str, years: Sequence[int], path: str | Path,
             *, dpi: int = 120) -> Path:
    """A PNG choropleth of ``metric``, one panel per year (small multiples).

    Regions are coloured on one scale shared by all panels (legend with units);
    sites are drawn as circles whose area is proportional to their facility MW
    in service that year (candidate sites with 0 MW as small hollow dots).

    Parameters
    ----------
    cmap : from :func:`capacity_map`, with ``metric`` and ``years`` among its columns.
    metric : a region metric name.
    years : one year (a single map) or several (small multiples).
    path : the PNG to write (atomically).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    m = check_metric(metric)
    years = [int(y) for y in years]
    crs = cmap.equal_area_crs
    regions = cmap.regions.to_crs(crs)
    drawn = regions.geometry.notna().to_numpy()
    bare = regions.loc[~drawn, "region"].astype(str).tolist()  # no polygon: drawn as sites
    if drawn.any():
        regions.loc[drawn, regions.geometry.name] = display_geometry(regions.geometry[drawn])
    sites = cmap.sites.to_crs(crs)
    of_bare = sites["region"].astype(str).isin(bare).to_numpy()
    values = np.array([regions[f"{metric}_{y}"].to_numpy(dtype=float) for y in years])
    size = np.array([sites[f"{SITE_SIZE_METRIC}_{y}"].to_numpy(dtype=float) for y in years])
    finite = values[np.isfinite(values)]
    lo = min(0.0, float(finite.min())) if finite.size else 0.0
    hi = float(finite.max()) if finite.size else 1.0
    norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
    colours = plt.get_cmap("YlOrRd")
    size_max = float(size.max()) if size.size and size.max() > 0 else 1.0

    def area(mw: np.ndarray) -> np.ndarray:
        return 6.0 + 420.0 * mw / size_max

    name = m.label
    if m.name == HEADROOM_METRIC and cmap.attrs.get("curtailment_pct"):
        name = f"{m.label} at {cmap.attrs['curtailment_pct']:g} % curtailment"
    n = len(years)
    ncols = {1: 1, 2: 2, 4: 2}.get(n, 3)
    nrows = math.ceil(n / ncols)
    panel = (10.0, 6.0) if n == 1 else (5.2, 3.4)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows + 1.4),
                             dpi=dpi, layout="constrained", squeeze=False)
    missing = False
    for k, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if k >= n:
            continue
        y = years[k]
        col = f"{metric}_{y}"
        has = np.isfinite(regions[col].to_numpy(dtype=float))
        if (~has & drawn).any():
            missing = True
            regions[~has & drawn].plot(ax=ax, color="#e6e6e6", edgecolor="#9a9a9a",
                                       linewidth=0.5, hatch="///")
        if (has & drawn).any():
            regions[has & drawn].plot(ax=ax, column=col, cmap=colours, norm=norm,
                                      edgecolor="#5a5a5a", linewidth=0.5)
        mw = sites[f"{SITE_SIZE_METRIC}_{y}"].to_numpy(dtype=float)
        on = mw > 0
        xs, ys = sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()
        if of_bare.any():  # a region without a polygon: its sites in the region's colour
            value = regions.set_index("region")[col].reindex(
                sites.loc[of_bare, "region"].astype(str)).to_numpy(dtype=float)
            rgba = colours(norm(np.nan_to_num(value, nan=lo)))
            rgba[~np.isfinite(value)] = (0.9, 0.9, 0.9, 1.0)
            ax.scatter(xs[of_bare], ys[of_bare], s=np.maximum(area(mw[of_bare]), 40.0),
                       c=rgba, edgecolors="#303030", linewidths=0.9, zorder=4)
            ax.set_aspect("equal", adjustable="datalim")
        ax.scatter(xs[~on & ~of_bare], ys[~on & ~of_bare], s=6, facecolors="none",
                   edgecolors="#303030", linewidths=0.5, zorder=3)
        ax.scatter(xs[on & ~of_bare], ys[on & ~of_bare], s=area(mw[on & ~of_bare]),
                   color="#1f4e9c", alpha=0.55, edgecolors="white", linewidths=0.6, zorder=4)
        if m.name == HEADROOM_METRIC:  # labelled too: the headroom in GW on each region
            _label_regions(ax, regions[has & drawn], col)
        ax.set_title(str(y) if n > 1 else f"{cmap.scenario}: {name}, {y}",
                     fontsize=11 if n > 1 else 13)

    label = f"{name} ({m.units})"
    sm = plt.cm.ScalarMappable(norm=norm, cmap=colours)
    bar = fig.colorbar(sm, ax=axes.ravel().tolist(), orientation="horizontal",
                       fraction=0.045 if n == 1 else 0.06, pad=0.02, aspect=45)
    bar.set_label(label)
    bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}" if abs(hi) >= 100
                                                   else f"{v:,.3g}"))
    handles = [Line2D([], [], marker="o", linestyle="", color="#1f4e9c", alpha=0.55,
                      markeredgecolor="white", markersize=math.sqrt(float(area(np.array(v)))),
                      label=f"{v:,.0f} MW")
               for v in sorted({_nice(size_max / 4), _nice(size_max / 2), _nice(size_max)})
               if v > 0]
    handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="none",
                          markeredgecolor="#303030", markersize=3, label="site, 0 MW"))
    if missing:
        handles.append(Patch(facecolor="#e6e6e6", edgecolor="#9a9a9a", hatch="///",
                             label="no value (no limit, or none to trust)"))
    if bare:
        handles.append(Line2D([], [], marker="o", linestyle="", markerfacecolor="#fd8d3c",
                              markeredgecolor="#303030", markersize=8,
                              label="site of a region\nwithout a polygon,\nin its region's colour"))
        shown = ", ".join(bare[:8]) + (f" and {len(bare) - 8} more" if len(bare) > 8 else "")
        fig.supxlabel(f"No polygon was given for {shown}: drawn as their sites, in the "
                      "region's colour.", fontsize=9, color="#555555")
    fig.legend(handles=handles, loc="outside right upper", title="sites: facility MW\nin service",
               frameon=False, fontsize=9, title_fontsize=9, labelspacing=1.3)
    if n > 1:
        fig.suptitle(f"{cmap.scenario}: {label}", fontsize=13)
    path = Path(path)
    with atomic_file(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path


def _label_regions(ax: Any, regions: gpd.GeoDataFrame, col: str) -> None:
    """Write each region's value of ``col`` (MW) in GW at a point inside its polygon."""
    points = regions.geometry.representative_point()
    for (x, y), v in zip(zip(points.x, points.y), regions[col].to_numpy(dtype=float)):
        ax.annotate(f"{v / 1000:,.1f} GW", (x, y), ha="center", va="center", fontsize=8,
                    color="#1a1a1a", zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                          "alpha": 0.7})


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
