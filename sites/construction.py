"""Per-site construction facts: state, hall lead time, MW under construction.

``sites/data/site_facts.csv`` gives for every bundled site its US state (for
the sales-tax table ``grids/data/sales_tax.csv``), how many years a new hall
takes to build there, and the MW of halls already under construction with the
year they complete (those are exempt from the lead time). Sources per row.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, InputError, TableSchema, check_references, read_table, row_error

SITE_FACTS = TableSchema(
    name="site_facts",
    description="Per-site state, hall construction lead time and halls under construction.",
    key=("site",),
    columns=(
        Column("site", "str", "-", "site id (in the sites table)"),
        Column("state", "str", "-", "two-letter US state code (joins the sales_tax table)"),
        Column("construction_lead_years", "int", "years",
               "years from the first model year until a new hall can be complete", minimum=0,
               maximum=20),
        Column("under_construction_mw", "float", "MW",
               "facility MW of halls under construction today (exempt from the lead time)",
               minimum=0),
        Column("under_construction_year", "int", "year", "year the halls under construction "
               "complete (blank when under_construction_mw is 0)", required=False,
               minimum=1900, maximum=2300),
    ),
)

DATA = resources.files("sites") / "data"


def default_site_facts_path() -> Path:
    return Path(str(DATA / "site_facts.csv"))


def load_site_facts(path: str | Path | None, sites: pd.DataFrame) -> pd.DataFrame:
    """The site-facts table, validated against the sites; indexed by ``site``.

    Every site needs a row; halls under construction must fit the site
    (``existing_mw + under_construction_mw <= max_mw``) and need a year.

    Examples
    --------
    >>> from grids.regions import load_regions
    >>> from sites.sites import load_sites
    >>> facts = load_site_facts(None, load_sites(None, load_regions()))
    >>> str(facts.loc["ashburn_va", "state"])
    'VA'
    >>> int(facts.loc["memphis_tn", "construction_lead_years"])
    1
    """
    path = Path(path) if path is not None else default_site_facts_path()
    df = read_table(path, SITE_FACTS)
    check_references(df, "site", sites.index, "site", path)
    missing = sorted(set(sites.index) - set(df["site"]))
    if missing:
        raise InputError(f"no row for site(s) {', '.join(missing[:5])}"
                         f"{', …' if len(missing) > 5 else ''} (every site needs one)",
                         file=path, column="site")
    for i, state in enumerate(df["state"]):
        if len(state) != 2 or not state.isalpha() or not state.isupper():
            raise row_error(df, i, "state", f"expected a two-letter state code, got '{state}'",
                            path)
    no_year = (df["under_construction_mw"] > 0) & df["under_construction_year"].isna()
    if no_year.any():
        i = int(np.flatnonzero(no_year.to_numpy())[0])
        raise row_error(df, i, "under_construction_year", "expected a year because "
                        "under_construction_mw > 0, got blank", path)
    room = (sites.loc[df["site"], "max_mw"] - sites.loc[df["site"], "existing_mw"]).to_numpy()
    over = df["under_construction_mw"].to_numpy() > room + 1e-9
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise row_error(df, i, "under_construction_mw", f"expected at most max_mw − existing_mw "
                        f"= {room[i]:g} MW, got {df.at[i, 'under_construction_mw']:g}", path)
    df.attrs["path"] = str(path)
    return df.set_index("site", drop=False)


def site_server_tax_rate(facts: pd.DataFrame, server_tax: pd.Series,
                         path: str | Path | None = None) -> pd.Series:
    """Sales tax on servers at each site (fraction of chip capex), from its state.

    Parameters
    ----------
    facts : validated site facts (:func:`load_site_facts`).
    server_tax : tax rate by state (:func:`grids.taxes.server_tax_rate`).
    path : the site-facts file, for the error on a state without a rate.
    """
    check_references(facts.reset_index(drop=True), "state", server_tax.index, "state",
                     path or facts.attrs.get("path", "site_facts.csv"))
    return pd.Series(server_tax.loc[facts["state"]].to_numpy(), index=facts.index,
                     name="server_tax_rate")
