"""Hourly regional load: the bundled EIA-930 record (2016–2024) and a user's own file.

The table is wide: one ``utc_time`` column (UTC, hour-beginning) and one column per region
holding that hour's demand in MW. The bundled file is
``grids/data/hourly/region_load_2016_2024.parquet`` (EIA Form 930 as screened and imputed by
Ruggles et al., *Scientific Data* 7, 155, 2020; CC BY 4.0 — see ``grids/data/hourly/README.md``
and ``docs/data-sources.md``). A scenario may name its own file with ``hourly_load:`` (CSV,
gzipped CSV or Parquet, the same columns).

Rules a file must follow (each broken rule ends in one line naming file, row and column):

- a ``utc_time`` column of ISO times (``2024-01-01 00:00``; an offset such as ``+00:00`` or
  ``Z`` is converted to UTC), on whole hours, one hour apart with no gap or repeat;
- whole calendar years (UTC): from a year's first hour to a year's last hour;
- at least one region column; region names must be the scenario's regions;
- every load a finite number of MW ≥ 0, no blanks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from grids.tables import InputError

#: The time column: UTC, hour-beginning.
TIME_COLUMN = "utc_time"
#: Citation of the bundled record (CC BY 4.0 asks for it wherever the data is used).
BUNDLED_SOURCE = (
    "EIA Form 930 hourly demand, screened and imputed by Ruggles, Farnham, Tong and Caldeira, "
    "Scientific Data 7, 155 (2020), doi:10.5281/zenodo.3517196, CC BY 4.0; aggregated to the "
    "dcplan regions (grids/data/hourly/README.md)")
_HOUR = np.timedelta64(3600, "s")
#: The wide table's rules as Markdown (docs/schema.md is generated from it).
SCHEMA_MARKDOWN = "\n".join([
    "**hourly load** (scenario key `hourly_load`, read by `dcplan headroom`, `nonfirm:`",
    "and `hours:`; default: the bundled EIA-930 record 2016–2024, docs/data-sources.md) —",
    "one row per hour, CSV, gzipped CSV (`.csv.gz`) or Parquet.",
    "",
    "| column | type | unit | required | description |",
    "| --- | --- | --- | --- | --- |",
    f"| `{TIME_COLUMN}` | time | UTC | yes | hour-beginning, ISO (`2024-01-01 00:00`; an "
    "offset is converted to UTC); whole hours, one hour apart, no gap or repeat; whole "
    "calendar years |",
    "| *region* | float | MW | at least one | one column per region of the scenario, named "
    "as in the regions table: that hour's demand, a number >= 0 |",
])


def default_hourly_path() -> Path:
    """The bundled hourly load record, 2016–2024, eleven regions (Parquet)."""
    return Path(str(resources.files("grids") / "data" / "hourly"
                    / "region_load_2016_2024.parquet"))


def load_hourly(path: str | Path | None = None,
                regions: Iterable[str] | None = None) -> pd.DataFrame:
    """Read and validate an hourly load table.

    Parameters
    ----------
    path : CSV (``.csv`` or ``.csv.gz``) or Parquet file; ``None`` for the bundled record.
    regions : the region names a column may carry (``None``: any name).

    Returns
    -------
    pandas.DataFrame
        Index ``utc_time`` (naive UTC ``DatetimeIndex``, hourly, whole calendar years), one
        float column per region, MW. ``attrs["path"]`` is the file read.

    Raises
    ------
    InputError
        One line naming the file, row (and line) and column for any broken rule (module
        docstring).

    Examples
    --------
    >>> df = load_hourly()
    >>> len(df), df.index[0], df.index[-1]
    (78912, Timestamp('2016-01-01 00:00:00'), Timestamp('2024-12-31 23:00:00'))
    >>> sorted(df.columns)[:3]
    ['CAISO', 'ERCOT', 'Florida']
    """
    path = Path(path) if path is not None else default_hourly_path()
    raw, line_offset = _read(path)
    raw = raw.rename(columns=lambda c: str(c).strip())
    if raw.columns.duplicated().any():
        raise InputError("column appears twice", file=path,
                         column=str(raw.columns[raw.columns.duplicated()][0]))
    if TIME_COLUMN not in raw.columns:
        raise InputError(f"required column is missing (expected {TIME_COLUMN} and one column "
                         "per region, load in MW)", file=path, column=TIME_COLUMN)
    names = [c for c in raw.columns if c != TIME_COLUMN]
    known = list(regions) if regions is not None else None
    for name in names:
        if known is not None and name not in known:
            raise InputError(f"unknown region (expected region columns from: "
                             f"{', '.join(known)})", file=path, column=name)
    if not names:
        raise InputError("no region column (expected one column of load in MW per region)",
                         file=path, column=TIME_COLUMN)
    if len(raw) == 0:
        raise InputError("the hourly load table has no rows", file=path)

    def where(i: int) -> dict[str, Any]:
        return {"file": path, "row": i + 1,
                "line": None if line_offset is None else i + line_offset}

    times = _parse_times(raw[TIME_COLUMN], path, where)
    load = {}
    for name in names:
        load[name] = _parse_load(raw[name], name, where)
    df = pd.DataFrame(load, index=pd.DatetimeIndex(times, name=TIME_COLUMN))
    df.attrs["path"] = str(path)
    return df


def record_years(load: pd.DataFrame) -> list[int]:
    """The calendar years of a validated hourly table."""
    return sorted({int(y) for y in load.index.year})


def select_years(load: pd.DataFrame, years: Sequence[int]) -> pd.DataFrame:
    """The rows of ``load`` in ``years``.

    Raises
    ------
    InputError
        ``--years`` naming a year outside the record.
    """
    have = record_years(load)
    missing = [y for y in years if y not in have]
    if missing:
        src = Path(load.attrs.get("path", "hourly load")).name
        raise InputError(f"--years: {_spans(missing)} outside the hourly record "
                         f"{src} (expected years within {have[0]}–{have[-1]})")
    out = load[np.isin(load.index.year, list(years))]
    out.attrs = dict(load.attrs)
    return out


def _spans(years: Sequence[int]) -> str:
    """``[2015, 2016, 2017, 2030]`` → ``"2015–2017, 2030"``."""
    out: list[str] = []
    for y in sorted(years):
        if out and out[-1].split("–")[-1] == str(y - 1):
            out[-1] = f"{out[-1].split('–')[0]}–{y}"
        else:
            out.append(str(y))
    return ", ".join(out)


# -- parsing ---------------------------------------------------------------------------------


def _read(path: Path) -> tuple[pd.DataFrame, int | None]:
    if not path.is_file():
        raise InputError("file not found (expected an hourly load table: utc_time and one "
                         "column per region)", file=path)
    name = path.name.lower()
    try:
        if name.endswith((".csv", ".csv.gz")):
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                               skipinitialspace=True), 2
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path), None
    except Exception as exc:  # parser errors of pandas / pyarrow / gzip
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read the hourly load table: {first}", file=path) from None
    raise InputError(f"unsupported format '{''.join(path.suffixes) or path.name}' (expected "
                     ".csv, .csv.gz or .parquet)", file=path)


def _shown(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str)
                                                                and not v.strip()):
        return "blank"
    return repr(v.item() if hasattr(v, "item") else v)


def _parse_times(col: pd.Series, path: Path, where: Any) -> np.ndarray:
    values = col.reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = pd.to_datetime(values, utc=True)
    else:
        text = values.astype(str).str.strip()
        ts = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
    bad = ts.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected an ISO time like 2024-01-01 00:00 (UTC), got "
                         f"{_shown(values.iloc[i])}", column=TIME_COLUMN, **where(i))
    t = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    off = t != t.astype("datetime64[h]")
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise InputError(f"expected a whole hour, got {_shown(values.iloc[i])}",
                         column=TIME_COLUMN, **where(i))
    step = np.diff(t) != _HOUR
    if step.any():
        i = int(np.flatnonzero(step)[0]) + 1
        raise InputError(f"expected {pd.Timestamp(t[i - 1] + _HOUR)} (rows one hour apart, no "
                         f"gap or repeat), got {_shown(values.iloc[i])}",
                         column=TIME_COLUMN, **where(i))
    first, last = pd.Timestamp(t[0]), pd.Timestamp(t[-1])
    if (first.month, first.day, first.hour) != (1, 1, 0):
        raise InputError(f"expected whole calendar years starting at {first.year}-01-01 00:00, "
                         f"got {_shown(values.iloc[0])}", column=TIME_COLUMN, **where(0))
    if (last.month, last.day, last.hour) != (12, 31, 23):
        n = len(t) - 1
        raise InputError(f"expected whole calendar years ending at {last.year}-12-31 23:00, "
                         f"got {_shown(values.iloc[n])}", column=TIME_COLUMN, **where(n))
    return t


def _parse_load(col: pd.Series, name: str, where: Any) -> np.ndarray:
    values = col.reset_index(drop=True)
    text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
    nums = pd.to_numeric(text.where(text != "", None), errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(nums) | (nums < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"expected a load in MW >= 0, got {_shown(values.iloc[i])}",
                         column=name, **where(i))
    return nums
