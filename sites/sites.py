"""Candidate and existing datacenter sites: schema, loader, spatial join.

All MW are facility MW at the meter. A site without a ``region`` is placed in
the region whose polygon contains its lon/lat (point-in-polygon).
"""

from __future__ import annotations

import warnings
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from grids.regions import no_polygons
from grids.tables import Column, TableSchema, check_references, read_table, row_error

SITES = TableSchema(
    name="sites",
    description="Where datacenters can go: limits, what is there already, costs.",
    key=("site",),
    columns=(
        Column("site", "str", "-", "site id"),
        Column(
            "region", "str", "-",
            "grid region (optional when a region polygon contains lon/lat: assigned by "
            "point-in-polygon)",
            required=False,
        ),
        Column("lon", "float", "degrees", "longitude, WGS84", minimum=-180, maximum=180),
        Column("lat", "float", "degrees", "latitude, WGS84", minimum=-90, maximum=90),
        Column("max_mw", "float", "MW", "most facility MW the site can hold", minimum=0),
        Column("existing_mw", "float", "MW", "facility MW built and grid-energized today",
               minimum=0),
        Column("queued_mw", "float", "MW", "grid MW already agreed, energized in queue_year",
               minimum=0),
        Column("queue_year", "int", "year", "year the queued grid MW are energized "
               "(blank when queued_mw is 0)", required=False, minimum=1900, maximum=2300),
        Column("build_capex_usd_per_mw", "float", "USD/MW",
               "capital cost of new facility MW (shell, power and cooling)", minimum=0),
        Column("pue", "float", "-", "power usage effectiveness (facility / IT power)",
               minimum=1.0, maximum=3.0),
        Column("energy_price_usd_per_mwh", "float", "USD/MWh",
               "site energy price override (e.g. a PPA); blank = regional price",
               required=False, minimum=0),
        Column("onsite_allowed", "bool", "-", "on-site generation may be built"),
        Column("operator", "str", "-", "operator name (lever budget.by_operator_usd_per_year "
               "matches it exactly)", required=False),
        Column("build_block_mw", "float", "MW", "facility builds in whole blocks of this size "
               "(a MILP; blank = the scenario's build_block_mw, or continuous)",
               required=False, minimum=0, exclusive_minimum=True),
        Column("grid_block_mw", "float", "MW", "new grid connections in whole blocks of this "
               "size (blank = the scenario's grid_block_mw, or continuous)",
               required=False, minimum=0, exclusive_minimum=True),
        Column("cooling", "str", "-", "cooling type for the water lever: evaporative, average, "
               "air, closed-loop or one named in water.cooling_m3_per_mwh (blank = "
               "water.default_cooling)", required=False),
    ),
)

DATA = resources.files("sites") / "data"


def default_sites_path() -> Path:
    return Path(str(DATA / "sites.csv"))


def read_sites(path: str | Path | None = None) -> pd.DataFrame:
    """The sites table with its own content checked (no cross-check with other tables).

    Parameters
    ----------
    path : path to a CSV or Parquet sites table (``None`` = bundled default).

    Raises
    ------
    InputError
        A missing or unreadable file, a bad or missing value, a duplicate site,
        ``existing_mw`` above ``max_mw``, or queued MW without a ``queue_year``.
    """
    path = Path(path) if path is not None else default_sites_path()
    df = read_table(path, SITES)
    over = df["existing_mw"] > df["max_mw"] + 1e-9
    if over.any():
        i = int(np.flatnonzero(over.to_numpy())[0])
        raise row_error(df, i, "existing_mw",
                        f"expected existing_mw <= max_mw ({df.at[i, 'max_mw']:g}), "
                        f"got {df.at[i, 'existing_mw']:g}", path)
    no_year = (df["queued_mw"] > 0) & df["queue_year"].isna()
    if no_year.any():
        i = int(np.flatnonzero(no_year.to_numpy())[0])
        raise row_error(df, i, "queue_year", "expected a year because queued_mw > 0, got blank",
                        path)
    df.attrs["path"] = str(path)
    return df


def place_sites(
    df: pd.DataFrame,
    regions: pd.DataFrame,
    geometry: gpd.GeoDataFrame | None,
    path: str | Path,
) -> pd.DataFrame:
    """Cross-check sites (from :func:`read_sites`) with the regions and their polygons.

    A site that names its region must name a known one, and lie near that
    region's polygon when it has one. A site with a blank ``region`` is placed
    by point-in-polygon; without a polygon that contains it, it is an error
    saying what to add.

    Parameters
    ----------
    df : the sites, as :func:`read_sites` returns them.
    regions : validated regions table (indexed by ``region``).
    geometry : the polygons of the regions that have one (may be empty or ``None``).
    path : the sites file, for messages.

    Returns
    -------
    The sites with every ``region`` filled in, indexed by ``site``.
    """
    df = df.copy()
    check_references(df, "region", regions.index, "region", path)
    polygons = geometry if geometry is not None else no_polygons()
    missing = df["region"].isna().to_numpy()
    if missing.any():
        if polygons.empty:
            i = int(np.flatnonzero(missing)[0])
            raise row_error(df, i, "region", f"{_site_at(df.loc[i])} has no region and there "
                            "is no region polygon to place it by lon/lat: add its region "
                            f"({_known(regions)}), or a geometry file with your regions' "
                            "polygons (scenario key geometry)", path)
        df.loc[missing, "region"] = assign_regions(df.loc[missing], polygons, path)
    has_polygon = df["region"].astype(str).isin(polygons["region"].astype(str)).to_numpy()
    named = ~missing & has_polygon
    if named.any():
        check_in_region(df.loc[named], polygons, path)
    df.attrs["path"] = str(path)
    return df.set_index("site", drop=False)


def load_sites(
    path: str | Path | None,
    regions: pd.DataFrame,
    geometry: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The sites table, validated and with every site in a known region.

    :func:`read_sites` then :func:`place_sites`.

    Parameters
    ----------
    path : path to a CSV or Parquet sites table (``None`` = bundled default).
    regions : validated regions table (indexed by ``region``).
    geometry : polygons of the regions that have one, in EPSG:4326; needed only
        when some site has no ``region`` (it is then assigned by point-in-polygon).
    """
    df = read_sites(path)
    return place_sites(df, regions, geometry, df.attrs["path"])


def _known(regions: pd.DataFrame) -> str:
    ids = [str(r) for r in regions.index]
    return "one of " + ", ".join(ids[:12]) + (", …" if len(ids) > 12 else "")


def assign_regions(sites: pd.DataFrame, geometry: gpd.GeoDataFrame, path: str | Path) -> list:
    """Region of each site by point-in-polygon; error for a site outside all.

    A point on a shared border goes to the first region listed in the
    geometry file (deterministic).
    """
    points = gpd.GeoDataFrame(
        {"row": np.asarray(sites.index)},
        geometry=gpd.points_from_xy(sites["lon"], sites["lat"]),
        crs=4326,
    )
    polys = geometry.reset_index(drop=True)[["region", "geometry"]]
    hits = gpd.sjoin(points, polys, how="left", predicate="intersects")
    hits = hits[~hits.index.duplicated(keep="first")]
    out = []
    for i, region in zip(hits["row"], hits["region"]):
        if not isinstance(region, str):
            raise row_error(sites, int(i), "lon",
                            f"{_site_at(sites.loc[i])} lies outside every region polygon: fix "
                            "lon/lat, or add its region", path)
        out.append(region)
    return out


def _site_at(row: pd.Series) -> str:
    return f"site '{row['site']}' at lon {row['lon']:g}, lat {row['lat']:g}"


#: How far (degrees) a site's point may lie outside the polygon of the region it names:
#: seam sites and coarse polygons pass, a typo (a sign, swapped lon/lat) does not.
REGION_TOLERANCE_DEG = 0.25


def check_in_region(sites: pd.DataFrame, geometry: gpd.GeoDataFrame, path: str | Path) -> None:
    """Error for a site whose lon/lat lies far outside the polygon of the region it names.

    Every site of ``sites`` must name a region that has a polygon in ``geometry``.

    The named region is what the model uses (prices, lead time); the point is where maps
    draw the site. A point more than :data:`REGION_TOLERANCE_DEG` from its region's
    polygon is taken for a mistake, naming the file, row and column.
    """
    points = gpd.GeoSeries(gpd.points_from_xy(sites["lon"], sites["lat"]), crs=4326)
    own = gpd.GeoSeries(geometry.set_index(geometry["region"].astype(str)).loc[
        sites["region"].astype(str), "geometry"].to_numpy(), crs=4326)
    with warnings.catch_warnings():  # "geographic CRS" distance warning: degrees are intended
        warnings.simplefilter("ignore")
        far = (points.distance(own, align=False) > REGION_TOLERANCE_DEG).to_numpy()
    if not far.any():
        return
    j = int(np.flatnonzero(far)[0])
    row = sites.iloc[j]
    polys = geometry.reset_index(drop=True)
    inside = polys.loc[polys.geometry.covers(points.iloc[j]), "region"].tolist()
    where = f"it lies in {inside[0]}" if inside else "it lies outside every region polygon"
    raise row_error(sites, int(sites.index[j]), "lon",
                    f"{_site_at(row)} is more than {REGION_TOLERANCE_DEG:g}° outside its region "
                    f"{row['region']} ({where}): fix lon/lat or region", path)
