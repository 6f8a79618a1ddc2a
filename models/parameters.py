"""Market parameters: the value of unserved compute, idle-hall O&M, islanded reserve.

``models/data/market_parameters.csv`` holds single sourced numbers (with
unit and basis) the next model layers read by name, e.g.
``unserved_value_multiple`` — the value of unserved compute as a multiple
of the levelized cost of the newest chip (:func:`value_of_unserved`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from grids.tables import Column, InputError, TableSchema, check_choice, read_table

MARKET_PARAMETERS = TableSchema(
    name="market_parameters",
    description="Single sourced market numbers, by name.",
    key=("parameter",),
    columns=(
        Column("parameter", "str", "-", "parameter name"),
        Column("value", "float", "unit", "its value"),
        Column("unit", "str", "-", "its unit (1 = a plain number)"),
        Column("basis", "str", "-", "estimate, derived or assumption"),
    ),
)

BASES = ("estimate", "derived", "assumption")

#: Parameters the bundled table must have (the next model layers read them).
REQUIRED = ("unserved_value_multiple", "facility_fixed_om_usd_per_mw_year",
            "islanded_reserve_fraction", "us_share_of_ai_compute")

DATA = resources.files("models") / "data"


def default_parameters_path() -> Path:
    return Path(str(DATA / "market_parameters.csv"))


def load_parameters(path: str | Path | None = None) -> pd.DataFrame:
    """The parameter table, validated; indexed by ``parameter``.

    Examples
    --------
    >>> p = load_parameters()
    >>> str(p.loc["facility_fixed_om_usd_per_mw_year", "unit"])
    'USD/(MW·year)'
    """
    path = Path(path) if path is not None else default_parameters_path()
    df = read_table(path, MARKET_PARAMETERS)
    check_choice(df, "basis", BASES, path)
    missing = [p for p in REQUIRED if p not in set(df["parameter"])]
    if missing:
        raise InputError(f"missing parameter(s) {', '.join(missing)}", file=path,
                         column="parameter")
    df.attrs["path"] = str(path)
    return df.set_index("parameter", drop=False)


def value_of_unserved(levelized_usd_per_h100e_year: pd.Series,
                      parameters: pd.DataFrame) -> pd.Series:
    """Value of unserved compute per year, USD/H100e-year: the multiple × the
    levelized cost of the newest chip on sale that year.

    Examples
    --------
    >>> p = pd.DataFrame({"value": [1.5]}, index=["unserved_value_multiple"])
    >>> value_of_unserved(pd.Series([1000.0], index=[2030]), p).tolist()
    [1500.0]
    """
    k = float(parameters.loc["unserved_value_multiple", "value"])
    return (k * levelized_usd_per_h100e_year).rename("value_of_unserved_usd_per_h100e_year")
