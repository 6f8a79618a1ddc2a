"""State sales-tax treatment of servers bought for a datacenter.

The bundled ``grids/data/sales_tax.csv`` holds, per US state with a bundled
site, the state sales-tax rate and the share of it a qualifying datacenter
does not pay on servers (the exemptions of Virginia, Texas, Georgia, …).
The tax on chip capital cost is ``state_rate × (1 − server_exemption)``
(:func:`server_tax_rate`). Local add-on rates are left out (an assumption,
``docs/data-sources.md``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, TableSchema, read_table, row_error

SALES_TAX = TableSchema(
    name="sales_tax",
    description="State sales tax on servers bought for a qualifying datacenter.",
    key=("state",),
    columns=(
        Column("state", "str", "-", "two-letter US state code"),
        Column("state_rate", "float", "1", "state sales-tax rate (0.0625 = 6.25 %)",
               minimum=0, maximum=0.2),
        Column("server_exemption", "float", "1", "share of the state rate a qualifying "
               "datacenter does not pay on servers (1 = fully exempt)", minimum=0, maximum=1),
        Column("treatment", "str", "-", "exempt, partial, taxed or no_sales_tax"),
    ),
)

TREATMENTS = ("exempt", "partial", "taxed", "no_sales_tax")

DATA = resources.files("grids") / "data"


def default_sales_tax_path() -> Path:
    return Path(str(DATA / "sales_tax.csv"))


def load_sales_tax(path: str | Path | None = None) -> pd.DataFrame:
    """The sales-tax table, validated; indexed by ``state``.

    The ``treatment`` must agree with the numbers: ``exempt`` ⇔ exemption 1,
    ``taxed`` ⇔ exemption 0, ``partial`` strictly between, ``no_sales_tax`` ⇔ rate 0.

    Examples
    --------
    >>> tax = load_sales_tax()
    >>> float(server_tax_rate(tax).loc["CA"]), float(server_tax_rate(tax).loc["VA"])
    (0.0725, 0.0)
    """
    path = Path(path) if path is not None else default_sales_tax_path()
    df = read_table(path, SALES_TAX)
    for i, (state, treatment, rate, ex) in enumerate(
            zip(df["state"], df["treatment"], df["state_rate"], df["server_exemption"])):
        if len(state) != 2 or not state.isalpha() or not state.isupper():
            raise row_error(df, i, "state", f"expected a two-letter state code, got '{state}'",
                            path)
        ok = {"exempt": ex == 1, "taxed": ex == 0, "partial": 0 < ex < 1,
              "no_sales_tax": rate == 0}.get(treatment)
        if ok is None:
            raise row_error(df, i, "treatment", f"expected one of {', '.join(TREATMENTS)}, "
                            f"got '{treatment}'", path)
        if not ok:
            raise row_error(df, i, "treatment", f"'{treatment}' does not match state_rate "
                            f"{rate:g} and server_exemption {ex:g}", path)
    df.attrs["path"] = str(path)
    return df.set_index("state", drop=False)


def server_tax_rate(sales_tax: pd.DataFrame) -> pd.Series:
    """Sales tax paid on servers per state, as a fraction of their price."""
    rate = sales_tax["state_rate"] * (1.0 - sales_tax["server_exemption"])
    return pd.Series(np.round(rate.to_numpy(), 6), index=sales_tax.index,
                     name="server_tax_rate")
