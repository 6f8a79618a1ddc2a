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
from typing import Any

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


def read_polygons(path: str | Path, regions: Sequence[str] | None = None, *,
                  layer: str | None = None, of: str = "the regions table") -> gpd.GeoDataFrame:
    """Region polygons from GeoJSON, a GeoPackage layer or GeoParquet, in EPSG:4326.

    Parameters
    ----------
    path : the file; any CRS (reprojected). GeoParquet by its suffix
        (``.parquet``, ``.geoparquet``), everything else through GDAL.
    regions : regions that must each have a polygon; the result keeps only these.
    layer : the layer of a multi-layer file (default, or when absent: the first).
    of : what ``regions`` are, for the error message ("the results").

    Returns
    -------
    The file's attributes and ``geometry``, ``region`` as text, one row per region.

    Raises
    ------
    InputError
        An unreadable file, no ``region`` attribute, no CRS, an empty, non-polygon
        or invalid geometry, a region twice, or a region of ``regions`` without a
        polygon — naming the file, row and column.
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
        raise InputError("geometry file has no coordinate reference system", file=path,
                         column="geometry")
    gdf = gdf.to_crs(4326).reset_index(drop=True)
    gdf["region"] = gdf["region"].astype(str)
    for i, (region, geom) in enumerate(zip(gdf["region"], gdf.geometry)):
        if geom is None or geom.is_empty:
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
    if regions is None:
        return gdf
    require_polygons(gdf, regions, path, of)
    return gdf[gdf["region"].isin([str(r) for r in regions])].reset_index(drop=True)


def require_polygons(gdf: gpd.GeoDataFrame, regions: Sequence[str], path: Any,
                     of: str = "the regions table") -> None:
    """Raise :class:`InputError` naming the regions without a polygon in ``gdf``."""
    have = set(gdf["region"].astype(str))
    missing = [str(r) for r in regions if str(r) not in have]
    if missing:
        raise InputError(f"no polygon for region(s) {', '.join(missing)} of {of}", file=path,
                         column="region")


def load_geometry(path: str | Path | None, regions: pd.DataFrame) -> gpd.GeoDataFrame:
    """Region polygons (any CRS; returned in EPSG:4326), one per region, indexed by region.

    The file needs a ``region`` attribute. Every region of the regions table
    must have exactly one valid polygon or multipolygon (see :func:`read_polygons`).
    """
    path = Path(path) if path is not None else default_geometry_path()
    gdf = read_polygons(path, sorted(regions.index))
    return gdf[["region", "geometry"]].set_index("region", drop=False)
