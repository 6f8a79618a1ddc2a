"""Grid regions: prices, interconnection lead times, headroom, carbon, geometry.

Schemas for the ``regions`` and ``prices`` tables, their loaders, and the
region polygons. The bundled default (the eleven US planning regions) lives in
``grids/data`` with a ``source`` on every row; see ``docs/data-sources.md``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from grids.tables import Column, InputError, TableSchema, check_references, read_table, row_error

REGIONS = TableSchema(
    name="regions",
    description="Grid planning regions: cost of power and how fast the grid connects new load.",
    key=("region",),
    columns=(
        Column("region", "str", "-", "region id (joins sites, prices and geometry)"),
        Column("name", "str", "-", "readable name"),
        Column(
            "interconnect_lead_years", "int", "years",
            "years from the first model year until a new grid connection can be energized",
            minimum=0, maximum=50,
        ),
        Column(
            "energy_price_usd_per_mwh", "float", "USD/MWh",
            "energy price in the first model year", minimum=0,
        ),
        Column(
            "price_escalation_per_year", "float", "1/year",
            "real escalation of the energy price per year (0.01 = +1 %/yr)",
            minimum=-0.5, maximum=1.0,
        ),
        Column(
            "capacity_price_usd_per_mw_year", "float", "USD/(MW·year)",
            "capacity charge on grid load", minimum=0,
        ),
        Column(
            "interconnect_capex_usd_per_mw", "float", "USD/MW",
            "capital cost of a new grid connection", minimum=0,
        ),
        Column(
            "new_load_limit_mw_per_year", "float", "MW/year",
            "most new grid connection energized per year in the region (blank = no limit)",
            required=False, minimum=0,
        ),
        Column(
            "carbon_t_per_mwh", "float", "t CO2/MWh",
            "average grid emission rate", minimum=0, maximum=5,
        ),
    ),
)

PRICES = TableSchema(
    name="prices",
    description="Optional per-(region, year) price overrides.",
    key=("region", "year"),
    columns=(
        Column("region", "str", "-", "region id"),
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("energy_price_usd_per_mwh", "float", "USD/MWh", "energy price", minimum=0),
        Column(
            "capacity_price_usd_per_mw_year", "float", "USD/(MW·year)", "capacity price",
            minimum=0,
        ),
    ),
)

DATA = resources.files("grids") / "data"


def default_regions_path() -> Path:
    return Path(str(DATA / "regions.csv"))


def default_geometry_path() -> Path:
    return Path(str(DATA / "regions.geojson"))


def load_regions(path: str | Path | None = None) -> pd.DataFrame:
    """The regions table, validated; indexed by ``region``.

    Examples
    --------
    >>> regions = load_regions()
    >>> int(regions.loc["PJM", "interconnect_lead_years"])
    7
    """
    path = Path(path) if path is not None else default_regions_path()
    df = read_table(path, REGIONS)
    df.attrs["path"] = str(path)
    return df.set_index("region", drop=False)


def load_prices(path: str | Path, regions: pd.DataFrame) -> pd.DataFrame:
    """The optional prices table, validated against the known regions."""
    df = read_table(path, PRICES)
    check_references(df, "region", regions.index, "region", path)
    df.attrs["path"] = str(path)
    return df


GEOPARQUET_SUFFIXES = (".parquet", ".geoparquet")
#: How error messages name the bundled regions and their polygons (files the user never gave).
BUNDLED_REGIONS = "the bundled regions"


def is_bundled(regions: pd.DataFrame) -> bool:
    """Whether ``regions`` is the bundled regions table (read by :func:`load_regions`)."""
    return regions.attrs.get("path") == str(default_regions_path())


def no_polygons() -> gpd.GeoDataFrame:
    """An empty polygon table (``region``, ``geometry``; EPSG:4326), indexed by region."""
    gdf = gpd.GeoDataFrame({"region": pd.Series(dtype=object)},
                           geometry=gpd.GeoSeries([], crs=4326), crs=4326)
    return gdf.set_index("region", drop=False)


def read_polygons(path: str | Path, *, layer: str | None = None,
                  empty_ok: bool = False) -> gpd.GeoDataFrame:
    """Region polygons from GeoJSON, a GeoPackage layer or GeoParquet, in EPSG:4326.

    Checks the file's own content only; which regions need a polygon is not
    this function's business (see :func:`polygons_for`).

    Parameters
    ----------
    path : the file; any CRS (reprojected). GeoParquet by its suffix
        (``.parquet``, ``.geoparquet``), everything else through GDAL.
    layer : the layer of a multi-layer file (default, or when absent: the first).
    empty_ok : a row with an empty geometry means "no polygon" and is kept with
        geometry ``None`` (a run's ``capacity_map.gpkg`` keeps regions without a
        polygon that way); otherwise an empty geometry is an error.

    Returns
    -------
    The file's attributes and ``geometry``, ``region`` as text, one row per region.

    Raises
    ------
    InputError
        An unreadable file, no ``region`` attribute, no CRS, an empty (unless
        ``empty_ok``), non-polygon or invalid geometry or a region twice —
        naming the file, row and column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found (expected region geometries)", file=path)
    try:
        with warnings.catch_warnings():  # GDAL's warnings on a damaged file add nothing
            warnings.simplefilter("ignore")
            if path.suffix.lower() in GEOPARQUET_SUFFIXES:
                gdf = gpd.read_parquet(path)
            else:
                names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
                gdf = gpd.read_file(path, layer=layer if layer in names else names[0])
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"cannot read region geometries (GeoJSON, GeoPackage or GeoParquet "
                         f"expected): {first}", file=path) from None
    if not isinstance(gdf, gpd.GeoDataFrame):  # GDAL reads e.g. a CSV as attributes only
        raise InputError("geometry file has no geometries (GeoJSON, GeoPackage or GeoParquet "
                         "polygons expected)", file=path, column="geometry")
    if "region" not in gdf.columns:
        raise InputError("geometry file has no 'region' attribute", file=path, column="region")
    if gdf.crs is None:
        if empty_ok and len(gdf) and not gdf.geometry.notna().any():
            gdf = gdf.set_crs(4326)  # no polygon at all: nothing to reproject
        else:
            raise InputError("geometry file has no coordinate reference system", file=path,
                             column="geometry")
    gdf = gdf.to_crs(4326).reset_index(drop=True)
    gdf["region"] = gdf["region"].astype(str)
    empty = []
    for i, (region, geom) in enumerate(zip(gdf["region"], gdf.geometry)):
        if geom is None or geom.is_empty:
            if empty_ok:
                empty.append(i)
                continue
            raise row_error(gdf, i, "geometry", f"region '{region}' has an empty geometry", path,
                            csv=False)
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise row_error(gdf, i, "geometry", f"region '{region}': expected a Polygon or "
                            f"MultiPolygon, got {geom.geom_type}", path, csv=False)
        if not geom.is_valid:
            raise row_error(gdf, i, "geometry", f"region '{region}' has an invalid polygon "
                            "(self-intersecting or unclosed ring; repair it, e.g. with "
                            "shapely.make_valid)", path, csv=False)
    dup = gdf["region"].duplicated().to_numpy()
    if dup.any():
        i = int(dup.nonzero()[0][0])
        raise row_error(gdf, i, "region", f"region '{gdf['region'].iloc[i]}' has two features",
                        path, csv=False)
    if empty:
        gdf.loc[empty, gdf.geometry.name] = None
    gdf.attrs["path"] = str(path)
    return gdf


def polygons_for(gdf: gpd.GeoDataFrame, regions: Sequence[str], *,
                 of: str = "the regions table") -> gpd.GeoDataFrame:
    """The polygons of ``regions`` in ``gdf`` (indexed by region); regions may lack one.

    Raises
    ------
    InputError
        When ``gdf`` has polygons but none for any of ``regions`` (a geometry
        file for other regions, or misspelt region ids), naming the file.
    """
    wanted = [str(r) for r in regions]
    out = gdf[gdf["region"].isin(wanted) & gdf.geometry.notna()]
    if len(gdf) and out.empty:
        have = sorted(gdf["region"].astype(str))
        shown = ", ".join(have[:8]) + (", …" if len(have) > 8 else "")
        raise InputError(f"no polygon is for a region of {of} (the file has {shown}; "
                         f"expected {', '.join(wanted[:8])}{', …' if len(wanted) > 8 else ''})",
                         file=gdf.attrs.get("path"), column="region")
    out = out[["region", "geometry"]].set_index("region", drop=False)
    out.attrs["path"] = gdf.attrs.get("path", "")
    return out


def load_geometry(path: str | Path | None, regions: pd.DataFrame) -> gpd.GeoDataFrame:
    """Region polygons (any CRS; returned in EPSG:4326) for the regions that have one.

    Parameters
    ----------
    path : a GeoJSON, GeoPackage or GeoParquet file with a ``region`` attribute;
        ``None`` for the bundled polygons, which belong to the bundled regions
        only: for a regions table of the user's own, ``None`` means no polygons.
    regions : the validated regions table (indexed by ``region``).

    Returns
    -------
    One row per region with a polygon (``region``, ``geometry``), indexed by
    region; regions without a polygon are simply absent (possibly all).

    Examples
    --------
    >>> len(load_geometry(None, load_regions()))
    11
    >>> own = load_regions().head(2).copy()
    >>> own.attrs["path"] = "my_regions.csv"
    >>> len(load_geometry(None, own))
    0
    """
    if path is None:
        if not is_bundled(regions):
            return no_polygons()
        path = default_geometry_path()
    return polygons_for(read_polygons(path), sorted(regions.index))
