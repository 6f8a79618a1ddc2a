"""The existing fleet: accelerators already installed at the sites (lever ``fleet``).

Each row is IT MW of one chip generation installed at a site in a year. The
chips keep running until the end of their life (``life_years`` of the chip)
and count in the capacity model's facility, split and compute constraints
(1, 2, 6) through the operating fleet — with no capital cost: they are sunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, TableSchema, check_references, read_table, row_error

FLEET = TableSchema(
    name="fleet",
    description="Accelerators already running at the sites (lever `fleet`): no capital cost, "
    "retired at the end of their life.",
    key=("site", "chip", "year_installed"),
    columns=(
        Column("site", "str", "-", "site id (in the sites table)"),
        Column("chip", "str", "-", "chip id (in the chips table)"),
        Column("year_installed", "int", "year", "year the chips were installed (may be before "
               "the first model year; in service to year_installed + life_years − 1)",
               minimum=1900, maximum=2300),
        Column("it_mw", "float", "MW", "IT MW installed (accelerator, host, network)",
               minimum=0),
    ),
)


def load_fleet(
    path: str | Path,
    sites: pd.DataFrame,
    chips: Iterable[str],
    last_year: int,
) -> pd.DataFrame:
    """The fleet table, validated against the sites and chips.

    Parameters
    ----------
    path : CSV or Parquet fleet table.
    sites : validated sites (indexed by ``site``).
    chips : the chip ids of the chips table (announced and synthetic).
    last_year : the last model year (a row installed after it is an error).
    """
    path = Path(path)
    df = read_table(path, FLEET)
    check_references(df, "site", sites.index, "site", path)
    check_references(df, "chip", chips, "chip", path)
    late = df["year_installed"] > last_year
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        raise row_error(df, i, "year_installed", f"expected a year <= the last model year "
                        f"{last_year}, got {df.at[i, 'year_installed']}", path)
    df.attrs["path"] = str(path)
    return df
