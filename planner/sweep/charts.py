"""A sweep's charts: percentile fans by year and the tornado of parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from planner.sweep.plan import SweepPlan

PERCENTILES = (5, 25, 50, 75, 95)


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fans(ds: xr.Dataset, path: str | Path, plan: SweepPlan | None = None) -> bool:
    """Percentile fans over scenarios, by year: capacity, gap and cost (three panels)."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    years = ds.year.values
    panels = (("facility_mw", 1e-3, "facility capacity in service (GW)"),
              ("efficiency_only_gap_mw", 1e-3,
               "new power needed even with the newest chips (GW)"),
              ("plan_cost_usd_per_year", 1e-9,
               "plan cost in the year, PV (billion USD; excl. unserved)"))
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), dpi=110)
    n = ds.sizes["scenario"]
    for ax, (name, scale, title) in zip(axes, panels):
        if name not in ds:  # a sweep written before these were added
            name, title = {"plan_cost_usd_per_year": ("cost_usd_per_year",
                                                      "cost in the year, PV (billion USD)"),
                           "efficiency_only_gap_mw": ("gap_mw",
                                                      "gap: power needed − energized (GW)"),
                           }[name]
        v = ds[name].transpose("scenario", "year").values * scale
        with np.errstate(all="ignore"), _quiet():
            q = {p: np.nanpercentile(v, p, axis=0) for p in PERCENTILES}
        ax.fill_between(years, q[5], q[95], alpha=0.2, color="C0", label="5–95 %")
        ax.fill_between(years, q[25], q[75], alpha=0.35, color="C0", label="25–75 %")
        ax.plot(years, q[50], "o-", color="C0", ms=3, label="median")
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("year")
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{ds.attrs.get('scenario', '')}: {n} scenarios", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return True


class _quiet:
    """Silence numpy's all-NaN warnings inside a block."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._w.__exit__(*exc)


def cost_variable(ds: xr.Dataset) -> str:
    """The cost a sweep's charts show: ``plan_cost_usd`` (never the penalty for unserved
    compute), or ``objective_usd`` for a sweep written before the split."""
    return "plan_cost_usd" if "plan_cost_usd" in ds else "objective_usd"


def tornado_table(ds: xr.Dataset, plan: SweepPlan) -> pd.DataFrame:
    """Per parameter, the mean plan cost at its cheapest and dearest level.

    Levels are the parameter's distinct values (grid points, choices) or, with more than
    five distinct numbers (Monte Carlo), its quintiles. Mean over all other parameters;
    ``swing_usd`` = dearest − cheapest level mean. Sorted by swing, largest first.
    """
    obj = ds[cost_variable(ds)].values
    rows = []
    for info in plan.parameters:
        vals = ds[info.key].values
        keep = np.isfinite(obj)
        if vals.dtype.kind == "f":
            keep &= np.isfinite(vals)
        v, o = vals[keep], obj[keep]
        distinct = pd.unique(v)
        if len(distinct) < 2:
            continue
        if vals.dtype.kind == "f" and len(distinct) > 5:
            bins = pd.qcut(pd.Series(v).rank(method="first"), 5, labels=False)
            groups = pd.Series(o).groupby(bins.to_numpy())
            labels = {b: f"{v[bins == b].min():.4g}–{v[bins == b].max():.4g}"
                      for b in groups.groups}
        else:
            groups = pd.Series(o).groupby(pd.Series(v).to_numpy())
            labels = {k: f"{k:.4g}" if isinstance(k, (int, float, np.number)) else str(k)
                      for k in groups.groups}
        means = groups.mean()
        lo, hi = means.idxmin(), means.idxmax()
        rows.append({"parameter": info.key, "low_level": labels[lo], "high_level": labels[hi],
                     "low_usd": float(means[lo]), "high_usd": float(means[hi]),
                     "swing_usd": float(means[hi] - means[lo])})
    df = pd.DataFrame(rows, columns=["parameter", "low_level", "high_level", "low_usd",
                                     "high_usd", "swing_usd"])
    return df.sort_values("swing_usd", ascending=False).reset_index(drop=True)


def plot_tornado(ds: xr.Dataset, path: str | Path, plan: SweepPlan | None = None) -> bool:
    """Bars from the cheapest to the dearest level mean of each parameter (see
    :func:`tornado_table`), relative to the mean objective; False when nothing varies."""
    if plan is None:
        return False
    table = tornado_table(ds, plan)
    if table.empty:
        return False
    plt = _plt()
    mean = float(np.nanmean(ds[cost_variable(ds)].values))
    t = table.iloc[::-1]
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.5 * len(t)), dpi=110)
    y = np.arange(len(t))
    lo = (t["low_usd"].to_numpy() - mean) / 1e9
    hi = (t["high_usd"].to_numpy() - mean) / 1e9
    ax.barh(y, hi - lo, left=lo, color="C3", alpha=0.7)
    for yi, a, b, la, lb in zip(y, lo, hi, t["low_level"], t["high_level"]):
        ax.text(a, yi, f"{la} ", ha="right", va="center", fontsize=8)
        ax.text(b, yi, f" {lb}", ha="left", va="center", fontsize=8)
    ax.axvline(0, color="k", lw=0.8)
    reach = max(float(np.max(np.abs(np.r_[lo, hi]))), 1e-9)
    ax.set_xlim(-1.6 * reach, 1.6 * reach)
    ax.set_yticks(y, t["parameter"].tolist(), fontsize=9)
    ax.set_xlabel(f"mean plan cost (PV, excl. unserved) − overall mean ({mean / 1e9:,.0f} B "
                  "USD), billion USD")
    ax.set_title("Which parameter moves the plan's cost most")
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
    return True
