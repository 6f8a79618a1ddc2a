"""Published datacenter-electricity projections and the non-AI datacenter baseline.

``models/data/calibration_points.csv`` holds every published point the plan is
calibrated against (LBNL, EPRI, IEA, McKinsey, S&P Global 451, BNEF): year,
metric (TWh, GW or a share of US electricity), scope and a low / central /
high value. ``models/data/dc_baseline.csv`` is the sourced non-AI datacenter
load by year; all-datacenter energy = the plan's AI energy + that baseline
(:func:`all_datacenter_energy_twh`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, TableSchema, check_choice, read_table, row_error

CALIBRATION_POINTS = TableSchema(
    name="calibration_points",
    description="Published projections of datacenter electricity (one point or range each).",
    key=("point",),
    columns=(
        Column("point", "str", "-", "point id"),
        Column("publisher", "str", "-", "who published it"),
        Column("published", "int", "year", "year of publication", minimum=1900, maximum=2300),
        Column("year", "int", "year", "year the figure is for", minimum=1900, maximum=2300),
        Column("metric", "str", "-", "energy_twh, load_gw or share_of_us_electricity"),
        Column("scope", "str", "-", "us_all_datacenters, us_hyperscale_leased_crypto or "
               "global_all_datacenters"),
        Column("low", "float", "metric", "low end of the range (blank = a single figure)",
               required=False, minimum=0),
        Column("central", "float", "metric", "central figure (blank = a range only)",
               required=False, minimum=0),
        Column("high", "float", "metric", "high end of the range (blank = a single figure)",
               required=False, minimum=0),
    ),
)

METRICS = ("energy_twh", "load_gw", "share_of_us_electricity")
SCOPES = ("us_all_datacenters", "us_hyperscale_leased_crypto", "global_all_datacenters")

DC_BASELINE = TableSchema(
    name="dc_baseline",
    description="US non-AI datacenter electricity by year (added to the plan's AI energy).",
    key=("year",),
    columns=(
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("non_ai_twh", "float", "TWh", "electricity of US datacenters other than AI "
               "accelerators", minimum=0),
    ),
)

#: US electricity end use, TWh: EIA 2023 retail sales 3,861 TWh plus direct use, held flat
#: (a dcplan assumption, as in bench/calibration.py) — turns a share into TWh.
US_LOAD_TWH = 4000.0

DATA = resources.files("models") / "data"


def default_points_path() -> Path:
    return Path(str(DATA / "calibration_points.csv"))


def default_baseline_path() -> Path:
    return Path(str(DATA / "dc_baseline.csv"))


def load_points(path: str | Path | None = None) -> pd.DataFrame:
    """The calibration points, validated; indexed by ``point``.

    Each row needs a central figure or both ends of a range, with
    ``low <= central <= high`` where given.

    Examples
    --------
    >>> p = load_points()
    >>> p.loc["lbnl_2028", ["low", "high"]].tolist()
    [325.0, 580.0]
    """
    path = Path(path) if path is not None else default_points_path()
    df = read_table(path, CALIBRATION_POINTS)
    check_choice(df, "metric", METRICS, path)
    check_choice(df, "scope", SCOPES, path)
    for i in range(len(df)):
        lo, c, hi = (df.at[i, k] for k in ("low", "central", "high"))
        if np.isnan(c) and (np.isnan(lo) or np.isnan(hi)):
            raise row_error(df, i, "central", "expected a central figure or both low and high, "
                            "got blank", path)
        vals = [v for v in (lo, c, hi) if not np.isnan(v)]
        if vals != sorted(vals):
            raise row_error(df, i, "high", f"expected low <= central <= high, got {lo:g}, {c:g}, "
                            f"{hi:g}", path)
    df.attrs["path"] = str(path)
    return df.set_index("point", drop=False)


def points_twh(points: pd.DataFrame, us_load_twh: float = US_LOAD_TWH) -> pd.DataFrame:
    """The energy points in TWh: ``energy_twh`` rows as they are, shares × ``us_load_twh``.

    ``load_gw`` rows are left out (compare them with the plan's load in GW).

    Examples
    --------
    >>> t = points_twh(load_points())
    >>> t.loc["epri_2030", ["low", "high"]].round().tolist()
    [184.0, 364.0]
    """
    out = points[points["metric"] != "load_gw"].copy()
    share = out["metric"] == "share_of_us_electricity"
    for k in ("low", "central", "high"):
        out.loc[share, k] = out.loc[share, k] * us_load_twh
    out.loc[share, "metric"] = "energy_twh"
    return out


def load_baseline(path: str | Path | None = None) -> pd.Series:
    """The non-AI datacenter baseline, TWh indexed by year, one row per year without gaps.

    Examples
    --------
    >>> b = load_baseline()
    >>> bool(b[2028] < b[2035])
    True
    """
    path = Path(path) if path is not None else default_baseline_path()
    df = read_table(path, DC_BASELINE).sort_values("year").reset_index(drop=True)
    gap = np.flatnonzero(np.diff(df["year"].to_numpy()) != 1)
    if len(gap):
        i = int(gap[0]) + 1
        raise row_error(df, i, "year", f"expected {df.at[i - 1, 'year'] + 1} (one row per "
                        f"year, no gap), got {df.at[i, 'year']}", path)
    out = pd.Series(df["non_ai_twh"].to_numpy(), index=df["year"].to_numpy(), name="non_ai_twh")
    out.attrs["path"] = str(path)
    return out


def all_datacenter_energy_twh(ai_twh: pd.Series, baseline: pd.Series) -> pd.Series:
    """AI energy of a plan (TWh by year) plus the non-AI baseline of the same years.

    Raises ``KeyError`` naming the first plan year the baseline does not cover.

    Examples
    --------
    >>> ai = pd.Series([100.0, 150.0], index=[2026, 2027])
    >>> all_datacenter_energy_twh(ai, pd.Series([50.0, 55.0], index=[2026, 2027])).tolist()
    [150.0, 205.0]
    """
    missing = [y for y in ai_twh.index if y not in baseline.index]
    if missing:
        raise KeyError(f"the non-AI baseline has no year {missing[0]}")
    return (ai_twh + baseline.loc[ai_twh.index].to_numpy()).rename("all_datacenter_energy_twh")
