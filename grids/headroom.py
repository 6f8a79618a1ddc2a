"""Firm regional headroom: the most new large load each region can connect per year.

The bundled ``grids/data/headroom.csv`` gives, for every region of the
bundled default and every year 2026–2040, the most new *firm* datacenter load
(MW) the region's grid can energize in that year, from utility and ISO load
forecasts (ERCOT, PJM, MISO) or a labelled assumption; rows with region
``US`` hold a national limit (all regions together, Grid Strategies).
Arithmetic per row in its ``source`` cell and in ``docs/data-sources.md``.

The scenario key ``firm_headroom`` feeds it to constraint (5) (per region and
year) and to ``Grid_Headroom_National`` (the ``US`` rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pandas as pd

from grids.tables import (
    Column,
    InputError,
    TableSchema,
    check_choice,
    check_references,
    read_table,
)

#: Region id of the national rows (all regions together).
NATIONAL = "US"

HEADROOM = TableSchema(
    name="headroom",
    description="Most new firm datacenter load a region's grid can energize per year "
    f"(region `{NATIONAL}` = all regions together).",
    key=("region", "year"),
    columns=(
        Column("region", "str", "-", f"region id (in the regions table) or `{NATIONAL}`"),
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("firm_load_limit_mw", "float", "MW/year",
               "most new firm large-load MW energized in the year", minimum=0),
        Column("basis", "str", "-", "`forecast` (a utility or ISO figure) or `assumption`"),
    ),
)

BASES = ("forecast", "assumption")

DATA = resources.files("grids") / "data"


def default_headroom_path() -> Path:
    return Path(str(DATA / "headroom.csv"))


def load_headroom(path: str | Path | None = None,
                  regions: Iterable[str] | None = None) -> pd.DataFrame:
    """The headroom table, validated; indexed by (region, year).

    Parameters
    ----------
    path : CSV or Parquet table (``None`` = bundled default).
    regions : known region ids; when given, every row's region must be one of
        them or ``US``, and every region and ``US`` must have a row in every
        year the table covers (no blank limit).

    Examples
    --------
    >>> h = load_headroom()
    >>> float(h.loc[("PJM", 2026), "firm_load_limit_mw"])
    6000.0
    """
    path = Path(path) if path is not None else default_headroom_path()
    df = read_table(path, HEADROOM)
    check_choice(df, "basis", BASES, path)
    if regions is not None:
        known = [*regions, NATIONAL]
        check_references(df, "region", known, "region", path)
        years = sorted(set(df["year"]))
        have = set(zip(df["region"], df["year"]))
        for r in known:
            for y in years:
                if (r, y) not in have:
                    raise InputError(f"no row for region '{r}' in year {y} (every region "
                                     f"needs a limit in every year {years[0]}–{years[-1]})",
                                     file=path, column="firm_load_limit_mw")
    df.attrs["path"] = str(path)
    return df.set_index(["region", "year"], drop=False).sort_index()
