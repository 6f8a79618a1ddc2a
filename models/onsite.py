"""On-site power technologies and the gas price path.

``models/data/onsite_technologies.csv``: aeroderivative and frame turbines,
combined cycle, reciprocating engines, fuel cells, 4-hour batteries,
solar + storage, SMRs and named nuclear restarts — capital and fixed O&M cost,
heat rate and CO2, lead time, first year, life, and a national yearly supply
limit (turbine backlogs) or a one-off total (a restart). Fuel cost is
``gas price × heat rate`` (:func:`fuel_usd_per_mwh`) with the gas price path
of ``models/data/gas_price.csv``. Sources per row.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, TableSchema, check_choice, read_table, row_error

ONSITE_TECHNOLOGIES = TableSchema(
    name="onsite_technologies",
    description="Behind-the-meter power a campus can build: cost, fuel, lead time, supply.",
    key=("technology",),
    columns=(
        Column("technology", "str", "-", "technology id"),
        Column("kind", "str", "-", "gas, fuel_cell, storage, solar_storage, nuclear or "
               "nuclear_restart"),
        Column("unit_mw", "float", "MW", "size of one unit (N+1 redundancy counts units)",
               minimum=0, exclusive_minimum=True),
        Column("capex_usd_per_kw", "float", "USD/kW", "overnight capital cost", minimum=0),
        Column("fixed_om_usd_per_kw_year", "float", "USD/(kW·year)", "fixed O&M", minimum=0),
        Column("variable_om_usd_per_mwh", "float", "USD/MWh", "variable O&M (blank = 0)",
               required=False, default=0.0, minimum=0),
        Column("heat_rate_btu_per_kwh", "float", "Btu/kWh", "fuel burnt per kWh (0 = no fuel)",
               minimum=0),
        Column("co2_t_per_mwh", "float", "t CO2/MWh", "direct emissions per MWh generated",
               minimum=0, maximum=5),
        Column("lead_years", "int", "years", "years from the decision until it runs",
               minimum=0, maximum=30),
        Column("first_year", "int", "year", "first year it can run", minimum=1900,
               maximum=2300),
        Column("life_years", "int", "years", "years in service", minimum=1, maximum=100),
        Column("dispatchable", "bool", "-", "can carry a 24/7 load (firm)"),
        Column("supply_limit_mw_per_year", "float", "MW/year", "most MW the US datacenter "
               "market can add per year (blank = no limit)", required=False, minimum=0),
        Column("total_limit_mw", "float", "MW", "most MW ever (a one-off such as a restart; "
               "blank = no limit)", required=False, minimum=0),
    ),
)

KINDS = ("gas", "fuel_cell", "storage", "solar_storage", "nuclear", "nuclear_restart")

GAS_PRICE = TableSchema(
    name="gas_price",
    description="Natural gas price path (Henry Hub) for on-site fuel cost.",
    key=("year",),
    columns=(
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("henry_hub_usd_per_mmbtu", "float", "USD/MMBtu", "gas price", minimum=0),
    ),
)

#: kg CO2 per MMBtu of natural gas (EPA GHG Emission Factors Hub); the CO2 column must match.
GAS_CO2_KG_PER_MMBTU = 53.06

DATA = resources.files("models") / "data"


def default_onsite_path() -> Path:
    return Path(str(DATA / "onsite_technologies.csv"))


def default_gas_price_path() -> Path:
    return Path(str(DATA / "gas_price.csv"))


def load_onsite(path: str | Path | None = None) -> pd.DataFrame:
    """The on-site technology table, validated; indexed by ``technology``.

    A fuel-burning row (heat rate > 0) must state the CO2 its heat rate implies
    (``heat_rate / 1000 × 53.06 / 1000`` t/MWh, within 1 %).

    Examples
    --------
    >>> t = load_onsite()
    >>> int(t.loc["frame_turbine", "lead_years"])
    6
    """
    path = Path(path) if path is not None else default_onsite_path()
    df = read_table(path, ONSITE_TECHNOLOGIES)
    check_choice(df, "kind", KINDS, path)
    implied = df["heat_rate_btu_per_kwh"] / 1000 * GAS_CO2_KG_PER_MMBTU / 1000
    off = (df["heat_rate_btu_per_kwh"] > 0) & (
        (df["co2_t_per_mwh"] - implied).abs() > 0.01 * implied)
    if off.any():
        i = int(np.flatnonzero(off.to_numpy())[0])
        raise row_error(df, i, "co2_t_per_mwh", f"expected {implied.iloc[i]:.4f} (heat rate × "
                        f"{GAS_CO2_KG_PER_MMBTU} kg/MMBtu), got {df.at[i, 'co2_t_per_mwh']:g}",
                        path)
    df.attrs["path"] = str(path)
    return df.set_index("technology", drop=False)


def load_gas_price(path: str | Path | None = None) -> pd.Series:
    """The gas price path, validated: USD/MMBtu indexed by year, no gap between years.

    Examples
    --------
    >>> float(load_gas_price()[2026])
    4.28
    """
    path = Path(path) if path is not None else default_gas_price_path()
    df = read_table(path, GAS_PRICE).sort_values("year").reset_index(drop=True)
    gap = np.flatnonzero(np.diff(df["year"].to_numpy()) != 1)
    if len(gap):
        i = int(gap[0]) + 1
        raise row_error(df, i, "year", f"expected {df.at[i - 1, 'year'] + 1} (one row per "
                        f"year, no gap), got {df.at[i, 'year']}", path)
    out = pd.Series(df["henry_hub_usd_per_mmbtu"].to_numpy(), index=df["year"].to_numpy(),
                    name="henry_hub_usd_per_mmbtu")
    out.attrs["path"] = str(path)
    return out


def fuel_usd_per_mwh(technologies: pd.DataFrame, gas_price: pd.Series) -> pd.DataFrame:
    """Fuel plus variable O&M cost, USD/MWh, per technology (rows) and year (columns):
    ``gas price (USD/MMBtu) × heat rate (Btu/kWh) / 1000 + variable O&M``.

    Examples
    --------
    >>> t = pd.DataFrame({"heat_rate_btu_per_kwh": [9000.0], "variable_om_usd_per_mwh": [5.0]},
    ...                  index=["ct"])
    >>> float(fuel_usd_per_mwh(t, pd.Series([4.0], index=[2026])).loc["ct", 2026])
    41.0
    """
    hr = technologies["heat_rate_btu_per_kwh"].to_numpy()[:, None] / 1000.0
    vom = technologies["variable_om_usd_per_mwh"].fillna(0.0).to_numpy()[:, None]
    return pd.DataFrame(hr * gas_price.to_numpy()[None, :] + vom, index=technologies.index,
                        columns=gas_price.index)
