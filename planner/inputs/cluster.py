"""Site clustering for national runs: ``dcplan run --cluster K``.

Within each region, sites are grouped by k-means (SciPy ``kmeans2``, seeded)
on standardized features — facility cost, PUE, effective first-year energy
price, queue year — with on-site permission and a power contract (the site's
own ``energy_price_usd_per_mwh``) as hard splits (never merged across). Each
group becomes one representative site: MW summed (ceiling, existing, queued),
costs and PUE averaged weighted by ``max_mw``, the queue year of the largest
queued member, the MW-weighted centroid as location. A group of contract sites
gets their ``max_mw``-weighted contract price; a group without contracts keeps
the regional price (its escalation and any prices table).
The LP shrinks by the ratio of sites; ``docs/benchmarks.md`` reports the cost
error against the unclustered solve.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2

from planner.inputs.scenario import Scenario


def _weighted(x: pd.Series, w: pd.Series) -> float:
    return float((x * w).sum() / w.sum()) if w.sum() > 0 else float(x.mean())


def cluster_sites(scenario: Scenario, k: int, seed: int = 0) -> Scenario:
    """A copy of ``scenario`` with at most ``k`` representative sites per region.

    Sites that allow on-site generation are never merged with sites that do
    not, nor sites with a power contract (a price override) with sites
    without one, so a region holding several of these classes keeps one
    representative per class at least (``max(k, classes)``, up to 4); ``k`` is
    split between the classes by site count.

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
    sites["_ppa"] = sites["energy_price_usd_per_mwh"].notna()
    reps = []
    for region, grp in sites.groupby("region", sort=False):
        classes = list(grp.groupby(["onsite_allowed", "_ppa"], sort=False))
        share = {flags: len(sub) / len(grp) for flags, sub in classes}
        alloc = {flags: max(1, round(k * share[flags])) for flags, _ in classes}
        while sum(alloc.values()) > max(k, len(classes)):
            big = max(alloc, key=lambda f: alloc[f])
            alloc[big] -= 1
        for (onsite, ppa), sub in classes:
            n_groups = min(alloc[onsite, ppa], len(sub))
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
                reps.append({
                    "site": f"{region}-{'onsite' if onsite else 'grid'}"
                            f"{'-ppa' if ppa else ''}-{len(reps):04d}",
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
                    if ppa else np.nan,
                    "onsite_allowed": bool(onsite),
                    "operator": None,
                    "members": len(members),
                })
    clustered = pd.DataFrame(reps).set_index("site", drop=False)
    clustered.attrs = dict(scenario.sites.attrs)
    spec = scenario.spec.model_copy(update={"name": f"{scenario.spec.name}-k{k}"})
    return replace(scenario, spec=spec, sites=clustered)
