"""The existing fleet: accelerators already installed at the sites (lever ``fleet``).

Each row is IT MW of one chip generation installed at a site in a year. The
chips keep running until the end of their life (``life_years`` of the chip)
and count in the capacity model's facility, split and compute constraints
(1, 2, 6) through the operating fleet — with no capital cost: they are sunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
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


DATA = resources.files("sites") / "data"


def default_fleet_path() -> Path:
    """The bundled installed base at the bundled sites (``sites/data/fleet.csv``)."""
    return Path(str(DATA / "fleet.csv"))


def read_fleet(path: str | Path, last_year: int) -> pd.DataFrame:
    """The fleet table with its own content checked (no cross-check with other tables).

    Parameters
    ----------
    path : CSV or Parquet fleet table.
    last_year : the last model year (a row installed after it is an error).
    """
    path = Path(path)
    df = read_table(path, FLEET)
    late = df["year_installed"] > last_year
    if late.any():
        i = int(np.flatnonzero(late.to_numpy())[0])
        raise row_error(df, i, "year_installed", f"expected a year <= the last model year "
                        f"{last_year}, got {df.at[i, 'year_installed']}", path)
    df.attrs["path"] = str(path)
    return df


def check_fleet(df: pd.DataFrame, sites: pd.DataFrame, chips: Iterable[str],
                path: str | Path) -> pd.DataFrame:
    """Check that every row of the fleet (from :func:`read_fleet`) names a known site and chip."""
    check_references(df, "site", sites.index, "site", path)
    check_references(df, "chip", chips, "chip", path)
    df.attrs["path"] = str(path)
    return df


def load_fleet(
    path: str | Path | None,
    sites: pd.DataFrame,
    chips: Iterable[str],
    last_year: int,
) -> pd.DataFrame:
    """The fleet table, validated against the sites and chips.

    :func:`read_fleet` then :func:`check_fleet`.

    Parameters
    ----------
    path : CSV or Parquet fleet table (``None`` = the bundled installed base,
        :func:`default_fleet_path`).
    sites : validated sites (indexed by ``site``).
    chips : the chip ids of the chips table (announced and synthetic).
    last_year : the last model year (a row installed after it is an error).
    """
    path = Path(path) if path is not None else default_fleet_path()
    return check_fleet(read_fleet(path, last_year), sites, chips, path)


def fleet_facility_mw(fleet: pd.DataFrame, sites: pd.DataFrame) -> pd.Series:
    """Facility MW at the meter of each site's fleet: Σ it_mw × the site's PUE.

    Examples
    --------
    >>> f = pd.DataFrame({"site": ["a", "a"], "it_mw": [10.0, 30.0]})
    >>> s = pd.DataFrame({"pue": [1.25]}, index=pd.Index(["a"], name="site"))
    >>> float(fleet_facility_mw(f, s)["a"])
    50.0
    """
    it = fleet.groupby("site")["it_mw"].sum()
    return (it * sites.loc[it.index, "pue"]).rename("facility_mw")


def check_fleet_fits(fleet: pd.DataFrame, sites: pd.DataFrame, path: str | Path) -> None:
    """Raise :class:`~grids.tables.InputError` when a site's fleet needs more facility
    MW than the site has built (PUE × fleet IT MW > ``existing_mw``), naming the
    site's first fleet row.

    Used for the bundled installed base; a user's fleet lever may exceed it
    (the model then builds or idles, docs/levers.md).
    """
    need = fleet_facility_mw(fleet, sites)
    over = need > sites.loc[need.index, "existing_mw"] + 1e-6
    if over.any():
        site = str(need.index[np.flatnonzero(over.to_numpy())[0]])
        i = int(np.flatnonzero((fleet["site"] == site).to_numpy())[0])
        raise row_error(fleet, i, "it_mw", f"site '{site}': fleet needs {need[site]:,.1f} "
                        f"facility MW (Σ it_mw × pue), more than its existing_mw "
                        f"{sites.at[site, 'existing_mw']:,.1f}", path)
