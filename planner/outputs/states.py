"""Capacity, load and energy by US state: taxes, moratoria and water rules are set by states.

Each site is placed in a state by point in polygon in the bundled state
polygons (``grids/data/us_states.geojson``, provenance in ``us_states.md``);
a site within 50 km outside every polygon (a coastal point) goes to the
nearest state, one farther away or without coordinates to ``""`` (none).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr

#: Equal-area CRS (CONUS Albers) for distances to the nearest state.
EQUAL_AREA = "EPSG:5070"
#: Farthest a site may lie outside every state and still be given the nearest one, m.
NEAREST_MAX_M = 50_000.0
#: Per-state columns of ``capacity_by_state.csv`` (besides ``state, name, year, sites``).
STATE_METRICS = ("build_mw", "facility_mw", "grid_mw", "onsite_mw", "grid_load_mw",
                 "onsite_load_mw", "load_mw", "energy_twh")


def states_path() -> Path:
    """The bundled state polygons."""
    return Path(str(resources.files("grids") / "data" / "us_states.geojson"))


def load_states() -> gpd.GeoDataFrame:
    """``state, name, fips, geometry`` (EPSG:4326), one row per state."""
    return gpd.read_file(states_path())


def site_states(lon: np.ndarray, lat: np.ndarray,
                states: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """The postal code of the state holding each point (``""`` where none).

    Examples
    --------
    >>> site_states(np.array([-77.49, -99.73, np.nan, -40.0]),
    ...             np.array([39.04, 32.45, 0.0, 30.0])).tolist()
    ['VA', 'TX', '', '']
    """
    states = load_states() if states is None else states
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), "", dtype=object)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return out
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs="EPSG:4326")
    pts["i"] = np.flatnonzero(ok)
    hit = gpd.sjoin(pts, states[["state", "geometry"]], how="left", predicate="within")
    hit = hit[~hit.index.duplicated(keep="first")]
    found = hit["state"].notna().to_numpy()
    out[hit["i"].to_numpy()[found]] = hit["state"].to_numpy()[found]
    missing = pts[~found]
    if len(missing):
        near = gpd.sjoin_nearest(missing.to_crs(EQUAL_AREA),
                                 states[["state", "geometry"]].to_crs(EQUAL_AREA),
                                 how="left", max_distance=NEAREST_MAX_M)
        near = near[~near.index.duplicated(keep="first")].dropna(subset=["state"])
        out[near["i"].to_numpy()] = near["state"].to_numpy()
    return out


def state_table(ds: xr.Dataset, states: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Tidy per (state, year): sites, MW built / in service / energized, load and energy.

    Energy is the state's share of the year's facility load × the year's energy (load ×
    utilization × 8760 h), so the states sum to ``energy_twh`` of ``results.nc``.
    """
    states = load_states() if states is None else states
    code = site_states(ds["lon"].values, ds["lat"].values, states)
    names = dict(zip(states["state"], states["name"]))
    years = ds.year.values.astype(int)
    frames = {}
    for m in STATE_METRICS:
        if m == "energy_twh":
            continue
        frames[m] = ds[m].transpose("site", "year").to_pandas()
    load = frames["load_mw"]
    total = load.sum(axis=0).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, load.to_numpy() / total, 0.0)
    frames["energy_twh"] = pd.DataFrame(share * ds["energy_twh"].values[None, :],
                                        index=load.index, columns=load.columns)
    rows = []
    for st in sorted(set(code)):
        mask = code == st
        for j, y in enumerate(years):
            row = {"state": st, "name": names.get(st, "no state (outside the polygons)"),
                   "year": int(y), "sites": int(mask.sum())}
            for m in STATE_METRICS:
                row[m] = float(frames[m].to_numpy()[mask, j].sum())
            rows.append(row)
    return pd.DataFrame(rows, columns=["state", "name", "year", "sites", *STATE_METRICS])


def state_layer(table: pd.DataFrame, states: gpd.GeoDataFrame | None = None
                ) -> gpd.GeoDataFrame:
    """The ``states`` map layer: one polygon per state with sites, ``<metric>_<year>`` columns
    and ``build_mw_total``; states without a site are left out."""
    states = load_states() if states is None else states
    wide = table.pivot_table(index="state", columns="year",
                             values=["facility_mw", "load_mw", "energy_twh"], aggfunc="sum")
    wide.columns = [f"{m}_{y}" for m, y in wide.columns]
    wide["build_mw_total"] = table.groupby("state")["build_mw"].sum()
    wide["sites"] = table.groupby("state")["sites"].first()
    layer = states.merge(wide.reset_index(), on="state", how="inner")
    cols = ["state", "name", "fips", "sites", "build_mw_total"] + [
        c for c in wide.columns if c not in ("sites", "build_mw_total")]
    return gpd.GeoDataFrame(layer[[*cols, "geometry"]], geometry="geometry", crs=states.crs)


def add_state_layer(table: pd.DataFrame, gpkg: Path) -> None:
    """Add the ``states`` layer (:func:`state_layer` of ``table``) to the GeoPackage."""
    state_layer(table).to_file(gpkg, layer="states", driver="GPKG")


def state_totals(table: pd.DataFrame) -> pd.DataFrame:
    """Per state over the horizon: sites, facility built, new grid and on-site MW, the last
    year's load and all years' energy; largest load first, states without load last."""
    last = int(table["year"].max())
    g = table.groupby(["state", "name"], sort=False)
    out = pd.DataFrame({
        "sites": g["sites"].first(),
        "build_mw": g["build_mw"].sum(),
        "grid_mw": g["grid_mw"].sum(),
        "onsite_mw": g["onsite_mw"].sum(),
        f"load_mw_{last}": table[table["year"] == last].set_index(["state", "name"])["load_mw"],
        "energy_twh_total": g["energy_twh"].sum(),
    }).reset_index()
    return out.sort_values([f"load_mw_{last}", "energy_twh_total"], ascending=False,
                           kind="stable").reset_index(drop=True)
