"""The calibration chart: all-datacenter energy and load against every published US point.

A plan covers AI accelerators only; published projections (LBNL, EPRI, IEA, McKinsey,
S&P Global 451, BNEF; ``models/data/calibration_points.csv``) cover all US datacenters.
The chart adds the sourced non-AI baseline (``gap.csv``'s ``all_datacenter_energy_twh``)
and, for load, the baseline's TWh at the plan's utilization (TWh ÷ (u × 8.76), a dcplan
assumption) to the plan's energized GW. The same figure is drawn for one run in its
``report.html`` and for the default and every demand preset by ``bench/calibration.py``
(``docs/calibration.png``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: Scopes drawn against a US plan (global figures are listed in the table, not drawn).
US_SCOPES = ("us_all_datacenters", "us_hyperscale_leased_crypto")


def us_points(us_load_twh: float | None = None) -> pd.DataFrame:
    """Every US point of the calibration table, shares turned into TWh, indexed by point."""
    from models.calibration import US_LOAD_TWH, load_points, points_twh

    points = load_points()
    twh = points_twh(points, US_LOAD_TWH if us_load_twh is None else us_load_twh)
    gw = points[points["metric"] == "load_gw"]
    both = pd.concat([twh, gw]).reset_index(drop=True)
    both = both[both["scope"].isin(US_SCOPES)].sort_values(["metric", "year", "point"])
    return both.set_index("point", drop=False)


def path_from_gap(gap: pd.DataFrame, utilization: float) -> dict[str, dict[int, float]]:
    """A plan's yearly paths from its gap table: AI and all-datacenter TWh and GW.

    Years without a baseline (NaN ``all_datacenter_energy_twh``) are left out of the
    all-datacenter paths.

    Examples
    --------
    >>> g = pd.DataFrame({"year": [2030], "energy_twh": [100.0],
    ...     "all_datacenter_energy_twh": [300.0], "non_ai_datacenter_energy_twh": [200.0],
    ...     "power_energized_mw": [14_000.0]})
    >>> p = path_from_gap(g, 0.8)
    >>> p["all_datacenter_energy_twh"], round(p["all_datacenter_load_gw"][2030], 2)
    ({2030: 300.0}, 42.54)
    """
    g = gap.set_index("year")
    years = [int(y) for y in g.index]
    ai_gw = g["power_energized_mw"].astype(float) / 1e3
    out: dict[str, dict[int, float]] = {
        "energy_twh": {y: float(g.at[y, "energy_twh"]) for y in years},
        "load_gw": {y: float(ai_gw[y]) for y in years},
        "all_datacenter_energy_twh": {}, "all_datacenter_load_gw": {},
    }
    if "all_datacenter_energy_twh" not in g.columns:  # a gap.csv from before the column
        return out
    for y in years:
        total = g.at[y, "all_datacenter_energy_twh"]
        non_ai = g.at[y, "non_ai_datacenter_energy_twh"]
        if np.isfinite(total):
            out["all_datacenter_energy_twh"][y] = float(total)
            out["all_datacenter_load_gw"][y] = float(ai_gw[y] + non_ai / (utilization * 8.76))
    return out


def calibration_figure(paths: dict[str, dict[str, dict[int, float]]], ai_only: str | None = None,
                       title: str = "", highlight: str | None = None) -> Any:
    """Each path's all-datacenter energy (left) and load (right) against every US point.

    Parameters
    ----------
    paths : name → :func:`path_from_gap` of a plan.
    ai_only : the name of the path whose AI-only energy and load are drawn too (dashed).
    title : the figure's title.
    highlight : the path drawn thick and black (default: ``ai_only``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    highlight = highlight if highlight is not None else ai_only
    pts = us_points()
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), dpi=110)
    panels = (("energy_twh", "all_datacenter_energy_twh", "energy_twh",
               "US datacenter electricity, TWh"),
              ("load_gw", "all_datacenter_load_gw", "load_gw", "US datacenter load, GW"))
    markers = dict(zip(sorted(pts["publisher"].unique()), "osD^vP*Xh"))
    for ax, (metric, key, ai_key, label) in zip(axes, panels):
        for name, p in paths.items():
            series = p[key]
            if not series:
                continue
            years = sorted(series)
            style = {"lw": 2.2, "color": "black"} if name == highlight else {"lw": 1.2}
            ax.plot(years, [series[y] for y in years], label=f"{name}: all datacenters",
                    **style)
        if ai_only is not None:
            ai = paths[ai_only][ai_key]
            ax.plot(sorted(ai), [ai[y] for y in sorted(ai)], color="black", ls="--", lw=1,
                    label=f"{ai_only}: AI only")
        for _, pt in pts[pts["metric"] == metric].iterrows():
            y = int(pt["year"])
            hollow = pt["scope"] != "us_all_datacenters"
            lo, c, hi = pt["low"], pt["central"], pt["high"]
            mid = c if pd.notna(c) else (lo + hi) / 2
            if pd.notna(lo) and pd.notna(hi):
                ax.vlines(y, lo, hi, color="tab:red", lw=3, alpha=0.5)
            ax.scatter([y], [mid], marker=markers[pt["publisher"]], s=46, zorder=4,
                       facecolors="none" if hollow else "tab:red", edgecolors="tab:red")
            ax.annotate(pt["point"], (y, mid), fontsize=6, xytext=(4, 2),
                        textcoords="offset points")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_formatter(ScalarFormatter())
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("year")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    handles = [plt.Line2D([], [], marker=m, ls="", color="tab:red", label=pub)
               for pub, m in markers.items()]
    axes[0].legend(fontsize=7, loc="upper left")
    axes[1].legend(handles=handles, fontsize=7, loc="lower right",
                   title="published (bar = range; hollow = wider scope)", title_fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def calibration_svg(gap: pd.DataFrame, utilization: float, name: str) -> str:
    """The run's calibration chart as inline SVG ("" when no year has a baseline)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from planner.outputs.svg import inline_svg

    path = path_from_gap(gap, utilization)
    if not path["all_datacenter_energy_twh"]:
        return ""
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dcplan-calibration"}):
        fig = calibration_figure({name: path}, ai_only=name,
                                 title=f"{name}: all US datacenters (AI from the plan + the "
                                 "non-AI baseline) against every published projection")
        try:
            return inline_svg(fig)
        finally:
            plt.close(fig)
