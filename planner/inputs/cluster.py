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

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.cluster.vq import kmeans2

from planner.inputs.scenario import Scenario


def _weighted(x: pd.Series, w: pd.Series) -> float:
    return float((x * w).sum() / w.sum()) if w.sum() > 0 else float(x.mean())


def group_labels(feats: np.ndarray, n_groups: int, seed: int = 0) -> np.ndarray:
    """Labels ``0 … m−1`` (m ≤ ``n_groups``) grouping the rows of ``feats`` by k-means.

    With no more rows than groups each row is its own group; with no more
    distinct rows than groups, identical rows share a group and k-means is
    not run (k-means++ on fewer distinct points than centres divides by zero and
    leaves clusters empty). A cluster k-means leaves empty is dropped: the result
    has fewer groups, never an empty one. SciPy's warnings never reach the user.

    Examples
    --------
    >>> group_labels(np.array([[1.0, 2.0], [1.0, 2.0], [3.0, 4.0]]), 2).tolist()
    [0, 0, 1]
    """
    if n_groups >= len(feats):
        return np.arange(len(feats))
    distinct, inverse = np.unique(feats, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    if len(distinct) <= n_groups:
        return inverse
    spread = feats.std(axis=0)
    scaled = (feats - feats.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an empty cluster is handled below
        _, labels = kmeans2(scaled, n_groups, seed=seed, minit="++")
    _, labels = np.unique(labels, return_inverse=True)  # drop empty clusters: 0 … m−1
    return labels.reshape(-1)


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
            feats = sub[["build_capex_usd_per_mw", "pue", "_price", "_qyear"]].to_numpy(float)
            labels = group_labels(feats, n_groups, seed)
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
