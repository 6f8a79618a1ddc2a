"""Charts of a stress run: DSCR by operator and year, and the contract graph."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from planner.stress.result import StressResult, blank_values
from planner.stress.shocks import ShockPlan
from sites.portfolio import Portfolio

_KIND_COLOR = {"landlord": "#4c72b0", "gpu_cloud": "#55a868", "integrated": "#8172b2"}


def plot_dscr(result: StressResult, path: str | Path) -> None:
    """DSCR per operator and year, each with its covenant minimum (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = result.metrics
    years = ds.year.values
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    top = 1.0
    for n, o in enumerate(ds.operator.values):
        c = colors[n % len(colors)]
        d = ds["dscr"].sel(operator=o).values
        name = str(ds["operator_name"].sel(operator=o).values)
        ax.plot(years, d, "o-", color=c, label=name, ms=4)
        cov = float(ds["covenant_min_dscr"].sel(operator=o))
        start = result.portfolio.operators.at[o, "covenant_start_year"]
        x0 = years[0] if blank_values(start) else max(years[0], int(start))
        ax.hlines(cov, x0, years[-1], colors=c, linestyles="--", lw=1, alpha=0.8)
        dy = float(ds["default_year"].sel(operator=o))
        if not math.isnan(dy):
            ax.axvline(dy, color=c, lw=1, ls=":", alpha=0.9)
            ax.annotate(f"{name} default", (dy, 0), rotation=90, va="bottom", ha="right",
                        fontsize=8, color=c)
        finite = d[np.isfinite(d)]
        if finite.size:
            top = max(top, float(np.nanmax(finite)), cov)
    finite_all = ds["dscr"].values[np.isfinite(ds["dscr"].values)]
    low = min(0.0, float(finite_all.min())) if finite_all.size else 0.0
    ax.set_ylim(max(low, -3.0) - 0.15, min(top * 1.1, 8.0))
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("DSCR = EBITDA ÷ debt service")
    shocks = ", ".join(s.text() for s in result.shocks) or "no shock"
    ax.set_title(f"{result.portfolio.name}: DSCR by operator (dashed: its covenant minimum, "
                 f"from the first tested year)\nshocks: {shocks}",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _layers(pf: Portfolio) -> dict[str, int]:
    """Column of each party: end customers 0, an operator 1 + the deepest of its lessees."""
    ct = pf.contracts
    depth: dict[str, int] = {k: 0 for k in pf.customers.index}
    ops = list(pf.operators.index)
    for o in ops:
        depth.setdefault(o, 1)
    for _ in range(len(ops) + 1):  # longest path, bounded (cycles stop growing)
        for lo, le in zip(ct["lessor"], ct["lessee"]):
            depth[lo] = min(len(ops) + 1, max(depth[lo], depth.get(le, 0) + 1))
    return depth


def _label_spots(edges: list[tuple[float, float, float, float]]) -> list[tuple[float, float]]:
    """A point on each edge for its label, moved along the edge so labels do not overlap
    (greedy start, then a few rounds of local improvement)."""
    fractions = (0.45, 0.3, 0.6, 0.22, 0.7, 0.38, 0.52)

    def spot(e: tuple[float, float, float, float], f: float) -> tuple[float, float]:
        return e[0] + f * (e[2] - e[0]), e[1] + f * (e[3] - e[1])

    def clashes(k: int, xy: tuple[float, float], chosen: list[tuple[float, float]]) -> int:
        return sum(1 for m, (px, py) in enumerate(chosen) if m != k
                   and abs(px - xy[0]) < 0.95 and abs(py - xy[1]) < 0.4)

    chosen: list[tuple[float, float]] = []
    for k, e in enumerate(edges):
        chosen.append(min((spot(e, f) for f in fractions),
                          key=lambda xy, k=k: clashes(k, xy, chosen)))
    for _ in range(4):
        for k, e in enumerate(edges):
            chosen[k] = min((spot(e, f) for f in fractions),
                            key=lambda xy, k=k: clashes(k, xy, chosen))
    return chosen


def plot_contract_graph(result: StressResult, path: str | Path) -> None:
    """The contract graph: lessors left, end customers right; defaults red, breaches orange.

    Contracts between the same lessor and lessee are drawn as one arrow labelled with their
    ids, total MW and total annual payment; dashed arrows are guarantees.
    """
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pf = result.portfolio
    ds = result.metrics
    depth = _layers(pf)
    cols: dict[int, list[str]] = {}
    for k, dpt in depth.items():
        cols.setdefault(dpt, []).append(k)
    max_d = max(cols)
    pos = {}
    for dpt, members in cols.items():
        members.sort()
        for r, k in enumerate(members):
            pos[k] = (float(max_d - dpt) * 3.0, -(r - (len(members) - 1) / 2.0) * 1.3)
    cust_default = ShockPlan(result.shocks).defaults()
    op_default = {o: float(ds["default_year"].sel(operator=o)) for o in pf.operators.index}
    op_breach = {o: float(ds["first_breach_year"].sel(operator=o)) for o in pf.operators.index}

    height = max(len(m) for m in cols.values())
    fig, ax = plt.subplots(figsize=(3.6 * (max_d + 1) + 1.0, 1.25 * height + 1.6), dpi=110)
    boxes = {}
    for k, (x, yv) in pos.items():
        if k in pf.operators.index:
            dflt, br = op_default[k], op_breach[k]
            name, kind = str(pf.operators.at[k, "name"]), str(pf.operators.at[k, "kind"])
            face = "#d62728" if not math.isnan(dflt) else _KIND_COLOR.get(kind, "#4c72b0")
            edge = "#ff7f0e" if not math.isnan(br) and math.isnan(dflt) else "black"
            note = (f"default {int(dflt)}" if not math.isnan(dflt)
                    else f"breach {int(br)}" if not math.isnan(br) else "")
            text = "\n".join(t for t in (textwrap.fill(name, 16), kind, note) if t)
            style = {"boxstyle": "square,pad=0.5", "fc": face, "ec": edge,
                     "lw": 3 if edge != "black" else 1}
            color = "white"
        else:
            name = str(pf.customers.at[k, "name"])
            dflt = cust_default.get(k, (math.nan, 0))[0]
            ig = bool(pf.customers.at[k, "investment_grade"])
            face = "#d62728" if not math.isnan(dflt) else ("#dddddd" if ig else "#f2e6c9")
            note = f"default {int(dflt)}" if not math.isnan(dflt) else ""
            text = "\n".join(t for t in (textwrap.fill(name, 18),
                                           "investment grade" if ig else "non-IG", note) if t)
            style = {"boxstyle": "round,pad=0.5", "fc": face, "ec": "black", "lw": 1}
            color = "white" if face == "#d62728" else "black"
        boxes[k] = ax.text(x, yv, text, ha="center", va="center", fontsize=7.5, color=color,
                           bbox=style, zorder=3)

    ct = pf.contracts
    groups = list(ct.groupby(["lessor", "lessee"], sort=True))
    spots = _label_spots([(*pos[lo], *pos[le]) for (lo, le), _g in groups])
    for ((lo, le), grp), (lx, ly) in zip(groups, spots):
        (x0, y0), (x1, y1) = pos[lo], pos[le]
        ax.annotate("", (x1, y1), (x0, y0), zorder=2,
                    arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.3,
                                "patchA": boxes[lo].get_bbox_patch(),
                                "patchB": boxes[le].get_bbox_patch(), "shrinkA": 2,
                                "shrinkB": 2, "mutation_scale": 14})
        ids = textwrap.fill(", ".join(grp.index), 34)
        label = (f"{ids}\n{grp['mw'].sum():,.0f} MW, "
                 f"{grp['annual_usd_per_year'].sum() / 1e9:,.2f} B USD/yr")
        ax.text(lx, ly, label, ha="center", va="center",
                fontsize=6.3, color="#222222", zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#cccccc",
                      "alpha": 0.9})
    for k in pf.customers.index:
        g = pf.customers.at[k, "guarantor"]
        if isinstance(g, str) and g in pos:
            ax.annotate("", pos[k], pos[g], zorder=2,
                        arrowprops={"arrowstyle": "-|>", "ls": "--", "color": "#888888",
                                    "patchA": boxes[g].get_bbox_patch(),
                                    "patchB": boxes[k].get_bbox_patch()})
            gx, gy = (pos[k][0] + pos[g][0]) / 2, (pos[k][1] + pos[g][1]) / 2
            ax.text(gx + 0.15, gy, f"guarantees\n{pf.customers.at[k, 'guaranteed_share']:.0%}",
                    fontsize=6.3, color="#666666", va="center")
    ax.set_xlim(-1.0, max_d * 3.0 + 1.0)
    ax.set_ylim(-(height / 2.0) * 1.3 - 0.3, (height / 2.0) * 1.3 + 0.3)
    ax.axis("off")
    shocks = ", ".join(s.text() for s in result.shocks) or "no shock"
    ax.set_title(f"{pf.name}: contracts (arrow lessor → lessee; payments flow back)\n"
                 f"shocks: {shocks}. Red: default; orange border: covenant breach",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
