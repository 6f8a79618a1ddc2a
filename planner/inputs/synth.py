"""Synthetic scenario folders for scale tests: ``dcplan synth --sites N``.

Sites are scattered inside the bundled region polygons (more where the bundled
sites hold more existing MW), with spreads drawn around the bundled data:
facility cost (±20 % around the region's bundled mean), PUE 1.1–1.35, site
ceilings log-normal around 400 MW, a third of sites with existing capacity, a
quarter with a queued connection, 60 % allowing on-site generation and a few
with a power contract. Chip generations are spaced evenly over the horizon,
each 1.35× more efficient a year than the last, on sale for three years.
Everything is drawn from one seeded generator: the same seed gives the same
folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import yaml

from grids.regions import default_geometry_path, default_regions_path, load_geometry, load_regions
from planner.outputs.outdir import atomic_folder
from sites.sites import load_sites


def _points_in(geom: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``geom`` (rejection sampling)."""
    minx, miny, maxx, maxy = geom.bounds
    out = np.empty((0, 2))
    while len(out) < n:
        k = max(64, 3 * (n - len(out)))
        xs = rng.uniform(minx, maxx, k)
        ys = rng.uniform(miny, maxy, k)
        inside = shapely.contains_xy(geom, xs, ys)
        out = np.vstack([out, np.column_stack([xs[inside], ys[inside]])])
    return out[:n]


def synth_tables(
    n_sites: int, n_years: int = 15, n_chips: int = 12, seed: int = 0, start_year: int = 2026,
) -> dict[str, pd.DataFrame | dict]:
    """The tables and scenario dict of a synthetic instance (no files written)."""
    if n_sites < 1 or n_years < 1 or n_chips < 1:
        raise ValueError("sites, years and chips must be >= 1")
    rng = np.random.default_rng(seed)
    regions = load_regions()
    geometry = load_geometry(None, regions)
    bundled = load_sites(None, regions, geometry)
    weight = bundled.groupby("region")["existing_mw"].sum().reindex(regions.index).fillna(0)
    weight = (weight + weight.mean()) / (weight + weight.mean()).sum()
    counts = rng.multinomial(n_sites, weight.to_numpy())
    capex_by_region = bundled.groupby("region")["build_capex_usd_per_mw"].mean()

    rows = []
    for region, k in zip(regions.index, counts):
        if k == 0:
            continue
        pts = _points_in(geometry.loc[region, "geometry"], int(k), rng)
        for lon, lat in pts:
            max_mw = float(np.clip(rng.lognormal(np.log(400), 0.8), 20, 5000))
            existing = float(max_mw * rng.uniform(0.05, 0.3)) if rng.random() < 1 / 3 else 0.0
            queued = float(max_mw * rng.uniform(0.05, 0.3)) if rng.random() < 0.25 else 0.0
            rows.append({
                "region": region,
                "lon": round(float(lon), 4),
                "lat": round(float(lat), 4),
                "max_mw": round(max_mw, 1),
                "existing_mw": round(existing, 1),
                "queued_mw": round(queued, 1),
                "queue_year": int(start_year + rng.integers(1, 5)) if queued > 0 else None,
                "build_capex_usd_per_mw": round(float(capex_by_region.get(
                    region, capex_by_region.mean())) * rng.uniform(0.8, 1.2), -3),
                "pue": round(float(rng.uniform(1.1, 1.35)), 3),
                "energy_price_usd_per_mwh": round(float(rng.uniform(20, 60)), 1)
                if rng.random() < 0.05 else None,
                "onsite_allowed": bool(rng.random() < 0.6),
            })
    sites = pd.DataFrame(rows)
    sites.insert(0, "site", [f"s{i:05d}" for i in range(len(sites))])
    sites["source"] = f"synthetic (dcplan synth, seed {seed})"

    end_year = start_year + n_years - 1
    firsts = np.linspace(start_year - 1, end_year, n_chips).round().astype(int)
    chips = pd.DataFrame({
        "chip": [f"gen{i:02d}" for i in range(n_chips)],
        "vendor": "synthetic",
        "first_year": firsts,
        "last_year": firsts + 2,
        "it_kw_per_unit": 2.0,
        "h100e_per_unit": [round(3.0 * 1.35 ** (f - start_year), 4) for f in firsts],
        "capex_usd_per_unit": 80_000.0,
        "life_years": 5,
        "source": f"synthetic (dcplan synth, seed {seed}): 1.35x efficiency per year",
    })
    pi0 = 1000 * 3.0 / 2.0
    base = 0.6 * float(sites["existing_mw"].sum() + 1.0) / 1.2 * pi0
    scenario = {
        "name": f"synth-{n_sites}",
        "description": f"synthetic: {n_sites} sites, {n_years} years, {n_chips} chips, "
                       f"seed {seed}",
        "years": {"start": start_year, "end": end_year},
        "discount_rate": 0.08,
        "utilization": 0.8,
        "facility_life_years": 20,
        "demand": {"base_h100e": round(base, -3), "growth": [1.8, 1.6, 1.4, 1.3, 1.2],
                   "value_of_unserved_usd_per_h100e_year": 20586},
        "efficiency": {"frontier_growth": None},
        "onsite": {"lead_years": 2, "capex_usd_per_mw": 2.9575e6, "life_years": 20,
                   "fuel_usd_per_mwh": 46.4},
        "regions": "regions.csv",
        "geometry": "regions.geojson",
        "sites": "sites.csv",
        "chips": "chips.csv",
    }
    return {"sites": sites, "chips": chips, "scenario": scenario}


def write_synth(out_dir: str | Path, n_sites: int, n_years: int = 15, n_chips: int = 12,
                seed: int = 0) -> Path:
    """Write a synthetic scenario folder (atomically); returns the scenario path."""
    t = synth_tables(n_sites, n_years, n_chips, seed)
    with atomic_folder(out_dir, kind="synth") as tmp:
        t["sites"].to_csv(tmp / "sites.csv", index=False)
        t["chips"].to_csv(tmp / "chips.csv", index=False)
        shutil.copyfile(default_regions_path(), tmp / "regions.csv")
        shutil.copyfile(default_geometry_path(), tmp / "regions.geojson")
        (tmp / "scenario.yaml").write_text(
            yaml.safe_dump(t["scenario"], sort_keys=False), encoding="utf-8")
    return Path(out_dir) / "scenario.yaml"
