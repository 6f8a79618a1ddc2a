"""Accelerator supply: the most H100e that can be bought per vendor and year.

``models/data/accelerator_supply.csv`` gives, per vendor (``NVIDIA``, ``AMD``)
and for all vendors together (``all``, which also covers the synthetic
frontier chips), the worldwide H100e of new accelerators a year and the US
share of them. Throughput is peak dense BF16 (as ``chips.csv``): no source
for delivered throughput was used. Arithmetic in ``docs/data-sources.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import pandas as pd

from grids.tables import Column, TableSchema, check_choice, check_references, read_table

#: Vendor id of the rows that bound all purchases together.
ALL_VENDORS = "all"

ACCELERATOR_SUPPLY = TableSchema(
    name="accelerator_supply",
    description="Most new accelerator throughput a vendor (or all, `all`) can ship per year.",
    key=("vendor", "year"),
    columns=(
        Column("vendor", "str", "-", f"vendor as in the chips table, or `{ALL_VENDORS}`"),
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("max_h100e", "float", "H100e/year", "worldwide new accelerators shipped in the "
               "year, peak dense-BF16 H100 equivalents", minimum=0),
        Column("us_share", "float", "1", "share of them installed in the US", minimum=0,
               maximum=1),
        Column("basis", "str", "-", "`estimate` (from a published figure) or `assumption`"),
    ),
)

BASES = ("forecast", "estimate", "assumption")

DATA = resources.files("models") / "data"


def default_supply_path() -> Path:
    return Path(str(DATA / "accelerator_supply.csv"))


def load_supply(path: str | Path | None = None,
                vendors: Iterable[str] | None = None) -> pd.DataFrame:
    """The supply table, validated; indexed by (vendor, year), with ``us_max_h100e``.

    Parameters
    ----------
    path : CSV or Parquet table (``None`` = bundled default).
    vendors : vendors of the chips table; when given, every row's vendor must
        be one of them or ``all``.

    Examples
    --------
    >>> s = load_supply(vendors=["NVIDIA", "AMD"])
    >>> round(float(s.loc[("AMD", 2026), "us_max_h100e"]))
    1170000
    """
    path = Path(path) if path is not None else default_supply_path()
    df = read_table(path, ACCELERATOR_SUPPLY)
    check_choice(df, "basis", BASES, path)
    if vendors is not None:
        check_references(df, "vendor", [*vendors, ALL_VENDORS], "vendor", path)
    df["us_max_h100e"] = df["max_h100e"] * df["us_share"]
    df.attrs["path"] = str(path)
    return df.set_index(["vendor", "year"], drop=False).sort_index()
