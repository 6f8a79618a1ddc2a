"""Write an in-memory model instance (``tests.factory.tiny``) as a scenario folder on disk.

The folder is what a user would write by hand: ``scenario.yaml`` with its own
``regions.csv``, ``sites.csv``, ``chips.csv`` and ``demand.csv``, and no geometry
file, so it runs end to end through ``dcplan run`` (the front door)::

    folder = write_scenario_folder(tiny(...), tmp_path / "case")
    main(["run", str(folder / "scenario.yaml"), "-o", str(tmp_path / "out")])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from grids.regions import REGIONS
from grids.tables import TableSchema
from models.capacity import CapacityInputs
from models.chips import CHIPS
from models.demand import DEMAND
from sites.sites import SITES


def _cell(value: Any, kind: str) -> str:
    """One CSV cell: blank for a missing value, ``true``/``false``, whole numbers as such."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "bool":
        return "true" if bool(value) else "false"
    if kind == "int":
        return str(round(float(value)))
    if kind == "float":
        return repr(float(value))
    return str(value)


def write_table(df: pd.DataFrame, schema: TableSchema, path: Path) -> Path:
    """Write the schema's columns of ``df`` (those it has) as a CSV table."""
    columns = [c for c in schema.columns if c.name in df.columns]
    lines = [",".join(c.name for c in columns)]
    for _, row in df.iterrows():
        lines.append(",".join(_cell(row[c.name], c.kind) for c in columns))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_scenario_folder(
    inputs: CapacityInputs,
    folder: Path,
    *,
    name: str = "case",
    rename_regions: Mapping[str, str] | None = None,
) -> Path:
    """Write ``inputs`` as a scenario folder with its own regions and no geometry.

    Parameters
    ----------
    inputs : a model instance, e.g. from :func:`tests.factory.tiny`; its years
        must be consecutive and it may set neither levers nor an elastic demand.
    folder : the folder to create (must not exist yet).
    name : the scenario name (names the default output folder).
    rename_regions : new ids for some regions (``{"R": "R1"}``), applied to the
        regions and to the sites' ``region`` column.

    Returns
    -------
    The folder; its scenario file is ``folder / "scenario.yaml"``.
    """
    years = [int(y) for y in inputs.years]
    if years != list(range(years[0], years[-1] + 1)):
        raise ValueError(f"a scenario's years are consecutive, got {years}")
    if inputs.levers is not None or inputs.demand_blocks is not None:
        raise ValueError("levers and elastic demand have keys of their own: write them by hand")
    folder.mkdir(parents=True)
    rename = dict(rename_regions or {})
    regions = inputs.regions.reset_index(drop=True).copy()
    regions["region"] = regions["region"].map(lambda r: rename.get(r, r))
    sites = inputs.sites.reset_index(drop=True).copy()
    sites["region"] = sites["region"].map(lambda r: rename.get(r, r))
    write_table(regions, REGIONS, folder / "regions.csv")
    write_table(sites, SITES, folder / "sites.csv")
    write_table(inputs.chips.reset_index(drop=True), CHIPS, folder / "chips.csv")
    demand = pd.DataFrame({"year": years,
                           "demand_h100e": inputs.demand_h100e.loc[years].to_numpy(float)})
    write_table(demand, DEMAND, folder / "demand.csv")
    text = f"""\
# a hand-solved case written by tests/scenario_folders.py: own regions, no geometry
name: {name}
years: {{start: {years[0]}, end: {years[-1]}}}
discount_rate: {inputs.discount_rate!r}
utilization: {inputs.utilization!r}
facility_life_years: {int(inputs.facility_life_years)}
allow_idle_chips: {str(bool(inputs.allow_idle)).lower()}
demand:
  path: demand.csv
  value_of_unserved_usd_per_h100e_year: {float(inputs.value_of_unserved_usd_per_h100e_year)!r}
efficiency: {{frontier_growth: null}}
onsite:
  lead_years: {int(inputs.onsite_lead_years)}
  capex_usd_per_mw: {float(inputs.onsite_capex_usd_per_mw)!r}
  life_years: {int(inputs.onsite_life_years)}
  fuel_usd_per_mwh: {float(inputs.onsite_fuel_usd_per_mwh)!r}
regions: regions.csv
sites: sites.csv
chips: chips.csv
"""
    (folder / "scenario.yaml").write_text(text, encoding="utf-8")
    return folder


def without_market_layers(text: str) -> str:
    """A scenario's text with its market-data layer keys (``fleet``, ``construction``,
    ``accelerator_supply``, ``firm_headroom``, ``committed_campuses``, ``market``,
    ``sales_tax``, ``site_facts``, ``onsite_technologies``; one line each, as in the bundled
    ``us-base``) removed:
    the plain capacity LP the lever tests add their levers to."""
    from planner.inputs.market import MARKET_KEYS

    keys = (*MARKET_KEYS, "fleet", "site_facts", "onsite_technologies")
    lines = [ln for ln in text.splitlines()
             if not any(ln.startswith(f"{k}:") for k in keys)]
    out = "\n".join(lines) + "\n"
    assert not any(ln.startswith(f"{k}:") for k in keys for ln in out.splitlines())
    return out
