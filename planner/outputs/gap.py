"""The demand-versus-efficiency gap, year by year.

Definitions (every column carries its unit in its name):

* ``demand_h100e``, ``served_h100e``, ``unserved_h100e`` — compute, H100e.
* ``frontier_h100e_per_mw`` — efficiency π of the best chip on sale that
  year, H100e per IT-MW.
* ``fleet_h100e_per_mw`` — efficiency of the operating fleet: Σ π_g·U / Σ U,
  H100e per IT-MW (NaN when nothing operates).
* ``demand_growth``, ``efficiency_growth`` (frontier), ``net_power_growth`` =
  demand_growth ÷ efficiency_growth — year-on-year multiples (NaN in y0);
  the ``cum_`` columns are the same multiples relative to y0.
* ``fleet_pue`` — facility load ÷ IT load of the fleet (load-weighted).
* ``power_needed_mw`` — facility MW at the meter to serve *all* demand at
  fleet efficiency and fleet PUE: demand ÷ fleet efficiency × PUE (frontier
  efficiency and the mean site PUE when no fleet operates).
* ``power_energized_mw`` — facility load actually served (grid + on-site), MW.
* ``gap_mw`` = power_needed − power_energized; ``gap_pct`` = gap ÷ needed × 100.
  Both are 0 whenever all demand is served: they measure demand the plan leaves
  unserved, not the new power it has to find.
* ``power_needed_at_frontier_mw`` — facility MW demand would need if every chip
  were the newest on sale: demand ÷ frontier efficiency × fleet PUE (the mean
  site PUE when no fleet operates) — the least power efficiency could ever get
  away with.
* ``efficiency_only_gap_mw`` = power_needed_at_frontier − power energized in
  the first year: the new power the plan must find even with perfect chips
  (negative: today's power is enough, with the newest chips).
* ``fleet_efficiency_growth`` — year-on-year multiple of the fleet's efficiency;
  ``net_power_growth_fleet`` = demand_growth ÷ fleet_efficiency_growth.
* ``realized_power_growth`` — facility load ÷ last year's facility load.
* ``energy_twh`` — load × utilization × 8760 h.
* ``compute_price_usd_per_h100e_year`` — marginal cost of compute (dual).
* ``non_ai_datacenter_energy_twh`` — the sourced US non-AI datacenter baseline
  (``models/data/dc_baseline.csv``; NaN for a year it does not cover).
* ``all_datacenter_energy_twh`` = ``energy_twh`` + the baseline: the plan's AI
  datacenters plus every other US datacenter, the figure published projections
  (LBNL, EPRI, IEA, BNEF; ``models/data/calibration_points.csv``) describe.
* ``ai_share_of_datacenter_energy_pct`` = ``energy_twh`` ÷ all-datacenter energy × 100.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

GAP_COLUMNS = (
    "year", "demand_h100e", "served_h100e", "unserved_h100e", "frontier_h100e_per_mw",
    "fleet_h100e_per_mw", "demand_growth", "efficiency_growth", "net_power_growth",
    "cum_demand_growth", "cum_efficiency_growth", "cum_net_power_growth", "fleet_pue",
    "power_needed_mw", "power_energized_mw", "gap_mw", "gap_pct", "energy_twh",
    "compute_price_usd_per_h100e_year", "power_needed_at_frontier_mw",
    "efficiency_only_gap_mw", "fleet_efficiency_growth", "net_power_growth_fleet",
    "realized_power_growth", "non_ai_datacenter_energy_twh", "all_datacenter_energy_twh",
    "ai_share_of_datacenter_energy_pct",
)


def frontier_efficiency(ds: xr.Dataset) -> np.ndarray:
    """Best π among chips on sale in each year (first_year ≤ y ≤ last_year)."""
    years = ds.year.values
    first = ds["chip_first_year"].values
    chip_last_year = ds["chip_last_year"].values
    pi = ds["pi_h100e_per_mw"].values
    on_sale = (first[None, :] <= years[:, None]) & (chip_last_year[None, :] >= years[:, None])
    return np.where(on_sale, pi[None, :], -np.inf).max(axis=1)


def non_ai_baseline_twh(years: np.ndarray, baseline: pd.Series | None = None) -> np.ndarray:
    """The non-AI datacenter baseline for ``years``, TWh (NaN where it has no row).

    ``baseline`` defaults to the bundled US table (:func:`models.calibration.load_baseline`).
    """
    from models.calibration import load_baseline

    b = load_baseline() if baseline is None else baseline
    return b.reindex([int(y) for y in years]).to_numpy(dtype=float)


def gap_table(ds: xr.Dataset, baseline: pd.Series | None = None) -> pd.DataFrame:
    """The gap table from a results Dataset (see the module docstring).

    ``baseline`` is the non-AI datacenter energy by year, TWh (default: the bundled
    US baseline, ``models/data/dc_baseline.csv``).
    """
    years = ds.year.values
    demand = ds["demand_h100e"].values
    fleet_it = ds["fleet_it_mw"].sum("site")  # chip × year
    it_total = fleet_it.sum("chip").values
    served_compute = (fleet_it * ds["pi_h100e_per_mw"]).sum("chip").values
    with np.errstate(invalid="ignore", divide="ignore"):
        fleet_eff = np.where(it_total > 0, served_compute / it_total, np.nan)
        load = ds["load_mw"].sum("site").values
        pue = np.where(it_total > 0, load / it_total, np.nan)
    frontier = frontier_efficiency(ds)
    frontier = np.where(np.isfinite(frontier), frontier, np.nan)
    mean_pue = float(ds["pue"].mean())
    eff_for_need = np.where(np.isnan(fleet_eff), frontier, fleet_eff)
    pue_for_need = np.where(np.isnan(pue), mean_pue, pue)
    with np.errstate(invalid="ignore", divide="ignore"):
        needed = demand / eff_for_need * pue_for_need
        gap = needed - load
        gap = np.where(np.abs(gap) <= 1e-6 * np.maximum(np.abs(needed), 1.0), 0.0, gap)
        gap_pct = np.where(needed > 0, gap / needed * 100.0, 0.0)

    def yoy(a: np.ndarray) -> np.ndarray:
        out = np.full(len(a), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[1:] = a[1:] / a[:-1]
        return out

    def cum(a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return a / a[0]

    dg, eg, fg = yoy(demand), yoy(frontier), yoy(fleet_eff)
    ai_twh = ds["energy_twh"].values.astype(float)
    non_ai = non_ai_baseline_twh(years, baseline)
    all_dc = ai_twh + non_ai
    with np.errstate(invalid="ignore", divide="ignore"):
        ai_share = np.where(all_dc > 0, ai_twh / all_dc * 100.0, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        at_frontier = demand / frontier * pue_for_need
    df = pd.DataFrame({
        "year": years.astype(int),
        "demand_h100e": demand,
        "served_h100e": ds["served_h100e"].values,
        "unserved_h100e": ds["unserved_h100e"].values,
        "frontier_h100e_per_mw": frontier,
        "fleet_h100e_per_mw": fleet_eff,
        "demand_growth": dg,
        "efficiency_growth": eg,
        "net_power_growth": dg / eg,
        "cum_demand_growth": cum(demand),
        "cum_efficiency_growth": cum(frontier),
        "cum_net_power_growth": cum(demand) / cum(frontier),
        "fleet_pue": pue,
        "power_needed_mw": needed,
        "power_energized_mw": load,
        "gap_mw": gap,
        "gap_pct": gap_pct,
        "energy_twh": ds["energy_twh"].values,
        "compute_price_usd_per_h100e_year": ds["compute_price_usd_per_h100e_year"].values,
        "power_needed_at_frontier_mw": at_frontier,
        "efficiency_only_gap_mw": at_frontier - load[0],
        "fleet_efficiency_growth": fg,
        "net_power_growth_fleet": dg / fg,
        "realized_power_growth": yoy(load),
        "non_ai_datacenter_energy_twh": non_ai,
        "all_datacenter_energy_twh": all_dc,
        "ai_share_of_datacenter_energy_pct": ai_share,
    })
    return df[list(GAP_COLUMNS)]


def plot_gap(df: pd.DataFrame, path: str, title: str = "") -> None:
    """Draw :func:`gap_figure` into ``path`` (PNG, SVG, … by its suffix)."""
    import matplotlib.pyplot as plt

    fig = gap_figure(df, title)
    fig.savefig(path)
    plt.close(fig)


def gap_figure(df: pd.DataFrame, title: str = "") -> Any:
    """The gap chart: growth indices (left) and the power the plan must find (right).

    Left, log scale, first year = 1: compute demand, frontier efficiency, net
    power (demand ÷ efficiency) and the load actually energized. Right, GW from 0:
    today's power (the first year's load, flat), the power needed at the fleet's
    efficiency and at the frontier's, and the load energized; the shaded area
    between today's power and the power needed is the new power the plan must
    close. Unserved demand (needed above energized) is hatched when there is any.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    years = df["year"].to_numpy(dtype=int)
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5.2), dpi=110, layout="constrained")
    load = df["power_energized_mw"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        load_index = load / load[0] if load[0] > 0 else np.full(len(load), np.nan)
    a.semilogy(years, df["cum_demand_growth"], "o-", color="C3", label="compute demand")
    a.semilogy(years, df["cum_efficiency_growth"], "s-", color="C2",
               label="frontier efficiency (H100e per MW)")
    a.semilogy(years, df["cum_net_power_growth"], "^-", color="C0",
               label="net power need (demand ÷ efficiency)")
    a.semilogy(years, load_index, "--", color="0.35", label="load energized in the plan")
    a.set_title("Growth since the first year (×, log scale)")
    a.set_xlabel("year")
    a.grid(True, which="both", alpha=0.3)
    a.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)

    needed = df["power_needed_mw"].to_numpy(float) / 1e3
    frontier = df.get("power_needed_at_frontier_mw")
    energized = load / 1e3
    today = np.full(len(years), energized[0])
    b.fill_between(years, today, needed, where=needed > today, interpolate=True,
                   color="C1", alpha=0.25, lw=0, label="new power the plan must find")
    unserved = needed > energized * (1 + 1e-6) + 1e-9
    if unserved.any():
        b.fill_between(years, energized, needed, where=unserved, interpolate=True,
                       facecolor="none", edgecolor="C3", hatch="///", lw=0,
                       label="demand not served (needed − energized)")
    b.plot(years, energized, "-", color="C1", lw=5, alpha=0.55, label="energized (served load)",
           zorder=3)
    b.plot(years, needed, "o--", color="0.1", ms=4, lw=1.3,
           label="needed for all demand (fleet chips)", zorder=4)
    if frontier is not None:
        b.plot(years, frontier.to_numpy(float) / 1e3, ":", color="C2", lw=2,
               label="needed with only the newest chips", zorder=4)
    b.plot(years, today, "-", color="0.5", lw=1, label=f"today's power ({years[0]})", zorder=2)
    b.set_ylim(bottom=0)
    b.set_title("Facility power at the meter (GW)")
    b.set_xlabel("year")
    b.set_ylabel("GW")
    b.grid(True, alpha=0.3)
    b.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    for ax in (a, b):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title:
        fig.suptitle(title)
    return fig


def gap_from_run(results_dir: str | Path) -> pd.DataFrame:
    """Recompute the gap table from a run folder; rewrite gap.csv and gap.png.

    Files are replaced atomically (written beside, then renamed).
    """
    from grids.tables import InputError
    from planner.outputs.tidy import write_csv

    folder = Path(results_dir)
    nc = folder / "results.nc"
    if not nc.is_file():
        raise InputError("no results.nc here (expected a folder written by dcplan run)",
                         file=folder)
    with xr.open_dataset(nc) as ds:
        table = gap_table(ds.load())
        title = f"{ds.attrs.get('scenario', folder.name)}: demand vs efficiency"
    tmp_csv = folder / ".gap.csv.tmp"
    tmp_png = folder / ".gap.tmp.png"
    try:
        write_csv(table, tmp_csv)
        plot_gap(table, str(tmp_png), title=title)
        os.replace(tmp_csv, folder / "gap.csv")
        os.replace(tmp_png, folder / "gap.png")
    finally:
        tmp_csv.unlink(missing_ok=True)
        tmp_png.unlink(missing_ok=True)
    return table
