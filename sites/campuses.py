"""Committed campuses: announced, contracted or under-construction builds.

``sites/data/committed_campuses.csv`` lists publicly announced AI campuses
(Stargate Abilene, Meta Hyperion in Richland Parish, xAI Colossus 2, Microsoft
Fairwater, AWS Rainier, …) with the facility MW each adds at its site and the
year it comes online, mapped to a site of ``sites/data/sites.csv``. Sources
per row; ``docs/data-sources.md`` says how they become forced builds.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import (
    Column,
    TableSchema,
    check_choice,
    check_references,
    read_table,
    row_error,
)

COMMITTED_CAMPUSES = TableSchema(
    name="committed_campuses",
    description="Publicly committed AI campuses: new facility MW at a site by a year.",
    key=("campus", "online_year"),
    columns=(
        Column("campus", "str", "-", "campus id"),
        Column("site", "str", "-", "site id (in the sites table)"),
        Column("operator", "str", "-", "who builds or runs it"),
        Column("customer", "str", "-", "the contracted user, where reported", required=False),
        Column("online_year", "int", "year", "year the MW come online", minimum=1900,
               maximum=2300),
        Column("committed_mw", "float", "MW", "new facility MW at the meter in that year",
               minimum=0, exclusive_minimum=True),
        Column("status", "str", "-", "under_construction, contracted or announced"),
    ),
)

STATUSES = ("under_construction", "contracted", "announced")

DATA = resources.files("sites") / "data"


def default_campuses_path() -> Path:
    return Path(str(DATA / "committed_campuses.csv"))


def load_campuses(path: str | Path | None, sites: pd.DataFrame) -> pd.DataFrame:
    """The committed-campus table, validated against the sites.

    Each campus's rows must point at one site, and all committed MW at a
    site must fit it: ``existing_mw + Σ committed_mw <= max_mw``.

    Examples
    --------
    >>> from grids.regions import load_regions
    >>> from sites.sites import load_sites
    >>> c = load_campuses(None, load_sites(None, load_regions()))
    >>> float(c.loc[c["campus"] == "meta_hyperion", "committed_mw"].sum())
    2000.0
    """
    path = Path(path) if path is not None else default_campuses_path()
    df = read_table(path, COMMITTED_CAMPUSES)
    check_references(df, "site", sites.index, "site", path)
    check_choice(df, "status", STATUSES, path)
    first_site = df.groupby("campus")["site"].transform("first")
    moved = df["site"] != first_site
    if moved.any():
        i = int(np.flatnonzero(moved.to_numpy())[0])
        raise row_error(df, i, "site", f"campus '{df.at[i, 'campus']}' is at site "
                        f"'{first_site.iloc[i]}' in an earlier row", path)
    total = df.groupby("site")["committed_mw"].transform("sum").to_numpy()
    room = (sites.loc[df["site"], "max_mw"] - sites.loc[df["site"], "existing_mw"]).to_numpy()
    over = total > room + 1e-9
    if over.any():
        i = int(np.flatnonzero(over)[-1])
        raise row_error(df, i, "committed_mw", f"site '{df.at[i, 'site']}': committed "
                        f"{total[i]:g} MW exceed its room max_mw − existing_mw = {room[i]:g}",
                        path)
    df.attrs["path"] = str(path)
    return df
