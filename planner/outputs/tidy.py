"""Output hygiene shared by every table a run writes: integer years, no negative zeros.

The solver returns ``-0.0`` for many variables at zero, and a CSV written with
``%g`` prints it as ``-0``; pandas turns an integer ``year`` into ``2026.0`` as
soon as a row passes through a float Series. Every output goes through here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

#: ``float_format`` of every CSV a run writes (6 significant digits).
FLOAT_FORMAT = "%.6g"

#: Column names that hold calendar years (written as integers).
YEAR_COLUMNS = ("year", "commit_year", "queue_year", "first_year", "last_year")


def positive_zero(values: np.ndarray) -> np.ndarray:
    """``values`` with every ``-0.0`` turned into ``0.0`` (NaN and the rest unchanged).

    Examples
    --------
    >>> positive_zero(np.array([-0.0, 1.5, -2.0])).tolist()
    [0.0, 1.5, -2.0]
    >>> str(positive_zero(np.array([-0.0]))[0])
    '0.0'
    """
    values = np.asarray(values)
    if values.dtype.kind != "f":
        return values
    return values + 0.0  # IEEE 754: -0.0 + 0.0 = +0.0


def tidy_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy with no ``-0.0`` in float columns and whole-number year columns as integers.

    A year column with blanks becomes pandas' nullable ``Int64`` (blank, not ``nan``).

    Examples
    --------
    >>> df = tidy_frame(pd.DataFrame({"year": [2026.0, 2027.0], "x_mw": [-0.0, 1.0]}))
    >>> df["year"].tolist(), df["x_mw"].astype(str).tolist()
    ([2026, 2027], ['0.0', '1.0'])
    """
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if str(col) in YEAR_COLUMNS and s.dtype.kind == "f":
            whole = s.dropna()
            if (whole == np.round(whole)).all():
                out[col] = s.round().astype("Int64")
                continue
        if s.dtype.kind == "f":
            out[col] = positive_zero(s.to_numpy())
    if out.index.dtype.kind == "f":
        out.index = pd.Index(positive_zero(out.index.to_numpy()), name=out.index.name)
    return out


def tidy_dataset(ds: xr.Dataset) -> xr.Dataset:
    """A copy of ``ds`` with every ``-0.0`` in its float variables turned into ``0.0``."""
    out = ds.copy()
    for name, var in out.data_vars.items():
        if var.dtype.kind == "f":
            out[name] = var.copy(data=positive_zero(var.values))
    return out


def write_csv(df: pd.DataFrame, path: str | Path, *, index: bool = False) -> None:
    """Write ``df`` as CSV through :func:`tidy_frame`, 6 significant digits."""
    tidy_frame(df).to_csv(path, index=index, float_format=FLOAT_FORMAT)
