"""Site clustering for national runs: ``dcplan run --cluster K``.

Within each region, sites are grouped by k-means (SciPy ``kmeans2``, seeded)
on standardized features — facility cost, PUE, effective first-year energy
price, queue year — with on-site permission as a hard split (never merged
across). Each group becomes one representative site: MW summed (ceiling,
existing, queued), costs, PUE and price averaged weighted by ``max_mw``, the
queue year of the largest queued member, the MW-weighted centroid as location.
The LP shrinks by the ratio of sites; ``docs/benchmarks.md`` reports the cost
error against the unclustered solve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2

from planner.scenario import Scenario


def _weighted(x: pd.Series, w: pd.Series) -> float:
    return float((x * w).sum() / w.sum()) if w.sum() > 0 else float(x.mean())


def cluster_sites(scenario: Scenario, k: int, seed: int = 0) -> Scenario:
    """A copy of ``scenario`` with at most ``k`` representative sites per region.

    Sites that allow on-site generation are never merged with sites that do
    not, so a region holding both keeps at least two representatives
    (``max(k, 2)``); ``k`` is split between the two classes by site count.

    Examples
    --------
    >>> import planner
    >>> sc = cluster_sites(planner.load_scenario(), 2)
    >>> int(sc.sites.groupby("region").size().max())
    2
    """
    if k < 1:
        from grids.tables import InputError

        raise InputError(f"--cluster needs K >= 1, got {k}")
    sites = scenario.sites.copy()
    price = scenario.regions.loc[sites["region"], "energy_price_usd_per_mwh"].to_numpy()
    sites["_price"] = np.where(sites["energy_price_usd_per_mwh"].isna(), price,
                               sites["energy_price_usd_per_mwh"])
    sites["_qyear"] = sites["queue_year"].fillna(scenario.years[-1] + 1)
    reps = []
    for region, grp in sites.groupby("region", sort=False):
        classes = list(grp.groupby("onsite_allowed", sort=False))
        share = {flag: len(sub) / len(grp) for flag, sub in classes}
        alloc = {flag: max(1, round(k * share[flag])) for flag, _ in classes}
        if len(classes) == 2 and sum(alloc.values()) > max(k, 2):
            big = max(alloc, key=lambda f: alloc[f])
            alloc[big] = max(k, 2) - alloc[not big]
        for onsite, sub in classes:
            n_groups = min(alloc[onsite], len(sub))
            if n_groups >= len(sub):
                labels = np.arange(len(sub))
            else:
                feats = sub[["build_capex_usd_per_mw", "pue", "_price", "_qyear"]].to_numpy(float)
                spread = feats.std(axis=0)
                feats = (feats - feats.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
                _, labels = kmeans2(feats, n_groups, seed=seed, minit="++")
            for lab in np.unique(labels):
                members = sub[labels == lab]
                w = members["max_mw"]
                queued = members[members["queued_mw"] > 0]
                override = members["energy_price_usd_per_mwh"]
                reps.append({
                    "site": f"{region}-{'onsite' if onsite else 'grid'}-{len(reps):04d}",
                    "region": region,
                    "lon": _weighted(members["lon"], w),
                    "lat": _weighted(members["lat"], w),
                    "max_mw": float(w.sum()),
                    "existing_mw": float(members["existing_mw"].sum()),
                    "queued_mw": float(members["queued_mw"].sum()),
                    "queue_year": float(queued.loc[queued["queued_mw"].idxmax(), "queue_year"])
                    if len(queued) else np.nan,
                    "build_capex_usd_per_mw": _weighted(members["build_capex_usd_per_mw"], w),
                    "pue": _weighted(members["pue"], w),
                    "energy_price_usd_per_mwh": _weighted(members["_price"], w)
                    if override.notna().any() else np.nan,
                    "onsite_allowed": bool(onsite),
                    "operator": None,
                    "members": len(members),
                })
    clustered = pd.DataFrame(reps).set_index("site", drop=False)
    clustered.attrs = dict(scenario.sites.attrs)
    spec = scenario.spec.model_copy(update={"name": f"{scenario.spec.name}-k{k}"})
    return replace(scenario, spec=spec, sites=clustered)
