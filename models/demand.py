"""Compute demand paths (H100-equivalents of dense-BF16 throughput per year)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, InputError, TableSchema, read_table

DEMAND = TableSchema(
    name="demand",
    description="An explicit compute demand path.",
    key=("year",),
    columns=(
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("demand_h100e", "float", "H100e", "compute demand", minimum=0),
    ),
)


def growth_path(base_h100e: float, growth: Sequence[float], years: Sequence[int]) -> pd.Series:
    """Demand in the first year is ``base_h100e``; each later year multiplies
    the previous by the next value of ``growth``, the last value repeating.

    Examples
    --------
    >>> growth_path(10.0, [2.0, 1.5], [2026, 2027, 2028, 2029]).tolist()
    [10.0, 20.0, 30.0, 45.0]
    """
    if not len(growth):
        raise ValueError("growth needs at least one multiplier")
    n = len(years)
    mult = [growth[min(i, len(growth) - 1)] for i in range(n - 1)]
    values = base_h100e * np.concatenate(([1.0], np.cumprod(mult)))
    return pd.Series(values, index=pd.Index(list(years), name="year"), name="demand_h100e")


def load_demand_path(path: str | Path, years: Sequence[int]) -> pd.Series:
    """Demand from a ``year, demand_h100e`` table; every model year required."""
    df = read_table(path, DEMAND)
    have = set(df["year"].tolist())
    missing = [y for y in years if y not in have]
    if missing:
        raise InputError(f"no demand for model year {missing[0]} (every year "
                         f"{years[0]}–{years[-1]} is needed)", file=path, column="year")
    s = df.set_index("year")["demand_h100e"].astype(float)
    out = s.loc[list(years)]
    out.index.name = "year"
    out.name = "demand_h100e"
    return out
