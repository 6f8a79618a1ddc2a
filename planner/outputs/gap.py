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
* ``energy_twh`` — load × utilization × 8760 h.
* ``compute_price_usd_per_h100e_year`` — marginal cost of compute (dual).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

GAP_COLUMNS = (
    "year", "demand_h100e", "served_h100e", "unserved_h100e", "frontier_h100e_per_mw",
    "fleet_h100e_per_mw", "demand_growth", "efficiency_growth", "net_power_growth",
    "cum_demand_growth", "cum_efficiency_growth", "cum_net_power_growth", "fleet_pue",
    "power_needed_mw", "power_energized_mw", "gap_mw", "gap_pct", "energy_twh",
    "compute_price_usd_per_h100e_year",
)


def frontier_efficiency(ds: xr.Dataset) -> np.ndarray:
    """Best π among chips on sale in each year (first_year ≤ y ≤ last_year)."""
    years = ds.year.values
    first = ds["chip_first_year"].values
    chip_last_year = ds["chip_last_year"].values
    pi = ds["pi_h100e_per_mw"].values
    on_sale = (first[None, :] <= years[:, None]) & (chip_last_year[None, :] >= years[:, None])
    return np.where(on_sale, pi[None, :], -np.inf).max(axis=1)


def gap_table(ds: xr.Dataset) -> pd.DataFrame:
    """The gap table from a results Dataset (see the module docstring)."""
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

    dg, eg = yoy(demand), yoy(frontier)
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
    })
    return df[list(GAP_COLUMNS)]


def plot_gap(df: pd.DataFrame, path: str, title: str = "") -> None:
    """Two panels: demand vs efficiency indices (log), power needed vs energized."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    a.semilogy(df["year"], df["cum_demand_growth"], "o-", label="compute demand")
    a.semilogy(df["year"], df["cum_efficiency_growth"], "s-", label="frontier efficiency")
    a.semilogy(df["year"], df["cum_net_power_growth"], "^-", label="net power (demand ÷ eff.)")
    a.set_title("Growth since the first year (×, log scale)")
    a.set_xlabel("year")
    a.grid(True, which="both", alpha=0.3)
    a.legend()
    b.plot(df["year"], df["power_needed_mw"] / 1e3, "o-", label="needed for all demand")
    b.plot(df["year"], df["power_energized_mw"] / 1e3, "s-", label="energized (served load)")
    b.fill_between(df["year"], df["power_energized_mw"] / 1e3, df["power_needed_mw"] / 1e3,
                   where=df["gap_mw"] > 0, alpha=0.2, color="red", label="gap")
    b.set_title("Facility power at the meter (GW)")
    b.set_xlabel("year")
    b.set_ylabel("GW")
    b.grid(True, alpha=0.3)
    b.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def gap_from_run(results_dir: str | Path) -> pd.DataFrame:
    """Recompute the gap table from a run folder; rewrite gap.csv and gap.png.

    Files are replaced atomically (written beside, then renamed).
    """
    from grids.tables import InputError

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
        table.to_csv(tmp_csv, index=False, float_format="%.6g")
        plot_gap(table, str(tmp_png), title=title)
        os.replace(tmp_csv, folder / "gap.csv")
        os.replace(tmp_png, folder / "gap.png")
    finally:
        tmp_csv.unlink(missing_ok=True)
        tmp_png.unlink(missing_ok=True)
    return table
