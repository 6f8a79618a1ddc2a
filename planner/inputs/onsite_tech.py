"""The scenario key ``onsite_technologies``: on-site power built per technology.

``true`` (or ``{}``) switches the layer :mod:`models.levers.onsite_tech` on with every
energy technology of the bundled ``models/data/onsite_technologies.csv`` and the
bundled gas price path; a mapping may name tables of the user's own, the technologies
allowed, the reserve fraction and the capacity factor of solar + storage. Absent or
``false``: off, and the scenario's generic ``onsite:`` option is the on-site power.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import Field

from grids.tables import InputError
from grids.yamlfile import StrictModel, referenced_file, yaml_line
from models.levers.data import OnsiteTech
from models.onsite import fuel_usd_per_mwh, load_gas_price, load_onsite
from models.parameters import load_parameters

#: Scenario key of the layer.
KEY = "onsite_technologies"
#: Kinds that are no energy source for a 24/7 load (never built by the layer).
NOT_ENERGY = ("storage",)


class OnsiteTechnologies(StrictModel):
    path: str | None = Field(
        default=None, description="a technology table of your own (default: the bundled "
        "models/data/onsite_technologies.csv)")
    gas_price: str | None = Field(
        default=None, description="a gas price path of your own (year, "
        "henry_hub_usd_per_mmbtu; default: the bundled models/data/gas_price.csv); years "
        "past its ends take its first or last price")
    technologies: list[str] | None = Field(
        default=None, min_length=1, description="technology ids allowed (default: every "
        "row that is an energy source; storage rows never: a 4-hour battery cannot carry "
        "a 24/7 load)")
    reserve_fraction: float | None = Field(
        default=None, ge=0, le=1, description="firm on-site MW + spare firm grid connection "
        "≥ (1 + reserve_fraction) × on-site load (Onsite_Reserve): N+1 redundancy as 1/N "
        "(default: islanded_reserve_fraction of models/data/market_parameters.csv, 0.2 = one "
        "spare 211 MW unit on a ~1 GW campus, an assumption)")
    solar_capacity_factor: float = Field(
        default=0.25, gt=0, le=1, description="energy a MW of solar + storage (and any "
        "non-dispatchable row) delivers, as a share of 8,760 MWh a year; never firm "
        "(default 0.25: an assumption)")


#: The loaded tables of the layer: the technology table, the gas price path and the
#: default reserve fraction (``islanded_reserve_fraction`` of the market parameters).
OnsiteTables = tuple[pd.DataFrame, pd.Series, float]


def load_onsite_tables(spec: OnsiteTechnologies | None, path: Path, *, nonfirm: bool
                       ) -> tuple[OnsiteTables | None, dict[str, str]]:
    """Read and check the layer's tables (the bundled ones or the scenario's own), and the
    paths they were read from; ``(None, {})`` when the layer is off.

    Parameters
    ----------
    spec : the scenario's ``onsite_technologies`` (``None`` = off).
    path : the scenario file (tables are relative to it; errors name it).
    nonfirm : the scenario also sets ``nonfirm``: accepted; the non-firm cover then counts
        no spare on-site MW (batteries and flexible compute cover the curtailed hours).

    Raises
    ------
    InputError
        Naming the file and row of a bad table, or the scenario key that cannot apply.
    """
    if spec is None:
        return None, {}
    tech_path = referenced_file(path, (KEY, "path"), spec.path) if spec.path else None
    gas_path = (referenced_file(path, (KEY, "gas_price"), spec.gas_price)
                if spec.gas_price else None)
    table = load_onsite(tech_path)
    gas = load_gas_price(gas_path)
    params = load_parameters()
    reserve = float(params.loc["islanded_reserve_fraction", "value"])
    return (table, gas, reserve), {"onsite_technologies": table.attrs["path"],
                                   "gas_price": gas.attrs["path"]}


def onsite_tech_data(spec: OnsiteTechnologies, tables: OnsiteTables | None,
                     years: list[int], path: Path | None) -> OnsiteTech:
    """The layer's data for the model years: the technologies allowed, fuel + VOM per
    technology and year, the reserve and the solar capacity factor (nothing read from
    disk, so a sweep may change the options or the years).

    Raises
    ------
    InputError
        An unknown or non-energy technology id, naming the scenario key; tables not loaded
        (the layer switched on after loading, e.g. by a sweep).
    """
    if tables is None:
        raise _fail(path, (KEY,), "the layer's tables were not loaded: set "
                    "onsite_technologies in the scenario file (a sweep cannot switch it on)")
    table, gas, default_reserve = tables
    energy = [t for t in table.index if table.at[t, "kind"] not in NOT_ENERGY]
    if spec.technologies is not None:
        for i, t in enumerate(spec.technologies):
            loc = (KEY, "technologies", str(i))
            if t not in table.index:
                raise _fail(path, loc, f"unknown technology '{t}' (known: {', '.join(energy)})")
            if t not in energy:
                raise _fail(path, loc, f"'{t}' is {table.at[t, 'kind']}, not an energy source "
                            f"for a 24/7 campus load (known energy sources: {', '.join(energy)})")
        energy = [t for t in energy if t in set(spec.technologies)]
    chosen = table.loc[energy]
    # the gas price of every model year: the path's, held flat past its first and last year
    lo, hi = int(gas.index.min()), int(gas.index.max())
    gas_y = gas.reindex([min(max(y, lo), hi) for y in years]).set_axis(years)
    fuel = fuel_usd_per_mwh(chosen, gas_y)
    return OnsiteTech(
        table=chosen,
        fuel_usd_per_mwh={(str(t), int(y)): float(fuel.at[t, y]) for t in energy
                          for y in years},
        reserve_fraction=float(default_reserve if spec.reserve_fraction is None
                               else spec.reserve_fraction),
        solar_capacity_factor=float(spec.solar_capacity_factor))


def _fail(path: Path | None, loc: tuple[str, ...], message: str) -> InputError:
    line = yaml_line(path, loc) if path is not None else None
    return InputError(message, file=path, key=".".join(loc), line=line)
