"""A sweep's charts: percentile fans by year (Monte Carlo), one line per scenario (a plain
grid, where percentiles over hand-picked points mean nothing) and the tornado of
parameters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from planner.sweep.plan import SweepPlan

PERCENTILES = (5, 25, 50, 75, 95)
#: The by-year panels: variable, scale to the axis unit, title.
_PANELS = (("facility_mw", 1e-3, "facility capacity in service (GW)"),
           ("efficiency_only_gap_mw", 1e-3, "new power needed even with the newest chips (GW)"),
           ("plan_cost_usd_per_year", 1e-9,
            "plan cost in the year, PV (billion USD; excl. unserved)"))
#: What a sweep written before those variables shows instead.
_OLDER = {"plan_cost_usd_per_year": ("cost_usd_per_year", "cost in the year, PV (billion USD)"),
          "efficiency_only_gap_mw": ("gap_mw", "gap: power needed − energized (GW)")}


def panels(ds: Any) -> list[tuple[str, float, str]]:
    """The three panels of the fan and per-scenario charts, as ``ds`` has them."""
    return [(name, scale, title) if name in ds else (_OLDER[name][0], scale, _OLDER[name][1])
            for name, scale, title in _PANELS]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_fans(ds: xr.Dataset, path: str | Path, plan: SweepPlan | None = None) -> bool:
    """Percentile fans over Monte Carlo scenarios, by year: capacity, gap and cost (three
    panels). For a plain grid use :func:`plot_scenario_lines`."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    years = ds.year.values
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), dpi=110)
    n = ds.sizes["scenario"]
    for ax, (name, scale, title) in zip(axes, panels(ds)):
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


#: Most scenarios a grid's line chart names in its legend (more are drawn unlabelled).
MAX_LABELLED_LINES = 12


def is_monte_carlo(plan: SweepPlan | None) -> bool:
    """The sweep draws Monte Carlo samples (then percentiles describe a distribution)."""
    return plan is not None and any(i >= 0 for i in plan.samples)


def format_value(value: Any) -> str:
    """A parameter value for a label or table: ``2,000,000`` for a whole number from 10,000
    (a year stays ``2030``), four significant digits otherwise, text as it is."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        v = float(value)
        if np.isfinite(v) and v == round(v) and abs(v) >= 10_000:  # not years
            return f"{v:,.0f}"
        return f"{v:.4g}"
    return str(value)


def scenario_labels(ds: xr.Dataset, plan: SweepPlan | None) -> list[str]:
    """``key=value, …`` of each scenario of ``ds``, naming only the parameters that vary
    (its id when none does or there is no plan)."""
    ids = [str(v) for v in ds["scenario"].values]
    if plan is None:
        return ids
    keys = [i.key for i in plan.parameters if i.key in ds.coords
            and len({format_value(v) for v in ds[i.key].values}) > 1]
    if not keys:
        return ids
    return [", ".join(f"{k}={format_value(ds[k].values[i])}" for k in keys)
            for i in range(ds.sizes["scenario"])]


def plot_scenario_lines(ds: xr.Dataset, path: str | Path, plan: SweepPlan | None = None
                        ) -> bool:
    """One line per scenario, by year: capacity, gap and cost (three panels); the legend
    names each scenario's parameter values (up to :data:`MAX_LABELLED_LINES`)."""
    plt = _plt()
    from matplotlib.ticker import MaxNLocator

    years = ds.year.values
    n = ds.sizes["scenario"]
    labels = scenario_labels(ds, plan)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.6), dpi=110)
    for ax, (name, scale, title) in zip(axes, panels(ds)):
        v = ds[name].transpose("scenario", "year").values * scale
        for i in range(n):
            ax.plot(years, v[i], "o-", ms=3, lw=1.2, color=f"C{i % 10}" if n <= 10 else None,
                    alpha=1.0 if n <= MAX_LABELLED_LINES else 0.5,
                    label=labels[i] if n <= MAX_LABELLED_LINES else None)
        ax.set_title(title, fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("year")
        ax.grid(True, alpha=0.3)
    if n <= MAX_LABELLED_LINES:
        fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", fontsize=8,
                   ncol=min(n, 3), frameon=False)
    fig.suptitle(f"{ds.attrs.get('scenario', '')}: {n} grid scenarios, one line each",
                 fontsize=11)
    fig.tight_layout(rect=(0, 0.06 * ((n + 2) // 3) if n <= MAX_LABELLED_LINES else 0, 1, 1))
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
