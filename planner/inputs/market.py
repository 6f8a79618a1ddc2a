"""The market-data layers of a scenario (issue 15): keys, validation and loading.

Each key is off when absent or ``false``; ``true`` or ``{}`` switches it on with the
bundled table (docs/data-sources.md, section 7); a ``path`` names a table of the
user's own (relative to the scenario file). The loaded data (:class:`MarketData`)
feeds the capacity model's inputs and the levers (:mod:`models.levers`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from grids.headroom import NATIONAL, load_headroom
from grids.tables import InputError
from grids.taxes import load_sales_tax, server_tax_rate
from grids.yamlfile import StrictModel, referenced_file, yaml_line
from models.levers.data import ForcedBuild
from models.parameters import load_parameters
from models.supply import load_supply
from sites.campuses import STATUSES, load_campuses
from sites.construction import load_site_facts, site_server_tax_rate

#: Scenario keys of the market layers (each ``true``, ``{…}`` or absent).
MARKET_KEYS = ("construction", "accelerator_supply", "firm_headroom", "committed_campuses",
               "market", "sales_tax")


class Construction(StrictModel):
    lead_years: int = Field(
        default=2, ge=0, le=20, description="years from the first model year until a new "
        "hall can be complete, at sites without a row of their own in site_facts (default 2: "
        "equipment lead times, docs/data-sources.md 7.3)")
    site_facts: bool = Field(
        default=True, description="use the site-facts table (the scenario's site_facts, "
        "else the bundled one with the bundled sites) for each site's own lead and its halls "
        "under construction; false = lead_years at every site, nothing under construction")


class TableKey(StrictModel):
    path: str | None = Field(default=None, description="a table of your own (default: "
                             "the bundled one)")


class FirmHeadroom(TableKey):
    national: bool = Field(default=True, description="also limit the sum over all regions "
                           "by the table's `US` rows (Grid_Headroom_National)")


class CommittedCampuses(TableKey):
    statuses: list[str] = Field(
        default=["under_construction", "contracted"], min_length=1,
        description="which campuses are forced builds: " + ", ".join(STATUSES))


class Market(TableKey):
    index_unserved: bool = Field(
        default=True, description="value of unserved compute = unserved_value_multiple × "
        "the lifetime rent of the newest chip on sale each year: its levelized cost × the "
        "rent tilt for rents falling with efficiency.frontier_growth (inelastic demand only)")
    facility_om: bool = Field(
        default=True, description="every facility MW standing pays "
        "facility_fixed_om_usd_per_mw_year (cost component facility_om)")


class SalesTax(TableKey):
    pass


def on_or_off(value: Any) -> Any:
    """``true`` → ``{}`` (on, bundled defaults); ``false`` → ``None`` (off)."""
    if value is True:
        return {}
    if value is False or value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("expected true, false or a mapping of the layer's options")
    return value


@dataclass
class MarketData:
    """The loaded market layers of a scenario (all empty = none set)."""

    facility_lead_years: int = 0
    site_lead_years: dict[str, int] = field(default_factory=dict)
    under_construction: dict[str, tuple[float, int]] = field(default_factory=dict)
    accelerator_supply_h100e: dict[tuple[str, int], float] = field(default_factory=dict)
    regional_headroom_mw: pd.DataFrame | None = None  # region × year
    national_headroom_mw: dict[int, float] = field(default_factory=dict)
    campuses: list[ForcedBuild] = field(default_factory=list)
    facility_om_usd_per_mw_year: float = 0.0
    unserved_value_multiple: float | None = None
    server_tax_rate: dict[str, float] | None = None
    paths: dict[str, str] = field(default_factory=dict)


def load_market(spec: Any, path: Path, sites: pd.DataFrame, regions: pd.DataFrame,
                chips: pd.DataFrame, years: list[int], *, own_sites: bool,
                site_facts_path: Path | None) -> MarketData:
    """Load and check every market layer the scenario sets.

    Parameters
    ----------
    spec : the validated scenario file (:class:`planner.inputs.scenario.ScenarioFile`).
    path : the scenario file (tables are relative to it; errors name it).
    sites, regions, chips : the scenario's validated tables.
    years : model years.
    own_sites : the scenario has a sites table of its own (the bundled per-site tables
        do not apply to it).
    site_facts_path : the scenario's ``site_facts`` table, or ``None``.

    Raises
    ------
    InputError
        Naming the file, row and column of a bad table, or the scenario key of a
        layer that cannot apply (a bundled per-site table with sites of your own).
    """
    out = MarketData()

    def fail(loc: tuple[str, ...], message: str) -> InputError:
        return InputError(message, file=path, key=".".join(loc), line=yaml_line(path, loc))

    def table(key: str, value: str | None) -> Path | None:
        return referenced_file(path, (key, "path"), value) if value is not None else None

    facts = None

    def site_facts(key: str) -> pd.DataFrame:
        nonlocal facts
        if facts is None:
            if site_facts_path is None and own_sites:
                raise fail((key,), "the bundled site facts describe the bundled sites: with a "
                           "sites table of your own give site_facts: <table> (site, state, "
                           "construction_lead_years, under_construction_mw, "
                           "under_construction_year)")
            facts = load_site_facts(site_facts_path, sites)
            out.paths["site_facts"] = facts.attrs["path"]
        return facts

    c = spec.construction
    if c is not None:
        out.facility_lead_years = int(c.lead_years)
        # every site's lead, its own where the site facts give one
        out.site_lead_years = {str(s): int(c.lead_years) for s in sites.index}
        if c.site_facts and (site_facts_path is not None or not own_sites):
            f = site_facts("construction")
            out.site_lead_years.update(
                {s: int(v) for s, v in f["construction_lead_years"].items()})
            out.under_construction = {
                s: (float(mw), int(y)) for s, mw, y in zip(
                    f.index, f["under_construction_mw"], f["under_construction_year"])
                if mw > 0}

    s = spec.accelerator_supply
    if s is not None:
        p = table("accelerator_supply", s.path)
        sup = load_supply(p, vendors=sorted(set(chips["vendor"].astype(str))))
        out.accelerator_supply_h100e = {
            (str(v), int(y)): float(mw) for v, y, mw in zip(sup["vendor"], sup["year"],
                                                           sup["us_max_h100e"])
            if int(y) in years}
        out.paths["accelerator_supply"] = sup.attrs["path"]

    h = spec.firm_headroom
    if h is not None:
        p = table("firm_headroom", h.path)
        try:
            head = load_headroom(p, regions=list(regions.index))
        except InputError as exc:
            if p is not None:
                raise
            raise fail(("firm_headroom",), "the bundled headroom table covers the bundled "
                       f"regions ({exc.message}): give firm_headroom: {{path: <table>}} "
                       "with your regions") from None
        reg = head[head["region"] != NATIONAL]
        wide = reg.pivot(index="region", columns="year", values="firm_load_limit_mw")
        out.regional_headroom_mw = wide.reindex(index=regions.index, columns=years)
        if h.national:
            nat = head[head["region"] == NATIONAL]
            out.national_headroom_mw = {int(y): float(v) for y, v in zip(
                nat["year"], nat["firm_load_limit_mw"]) if int(y) in years}
        out.paths["firm_headroom"] = head.attrs["path"]

    cc = spec.committed_campuses
    if cc is not None:
        for i, st in enumerate(cc.statuses):
            if st not in STATUSES:
                raise fail(("committed_campuses", "statuses", str(i)),
                           f"unknown status '{st}' (known: {', '.join(STATUSES)})")
        p = table("committed_campuses", cc.path)
        if p is None and own_sites:
            raise fail(("committed_campuses",), "the bundled committed campuses are at the "
                       "bundled sites: with a sites table of your own give "
                       "committed_campuses: {path: <table>}")
        camp = load_campuses(p, sites)
        out.paths["committed_campuses"] = camp.attrs["path"]
        camp = camp[camp["status"].isin(cc.statuses) & camp["online_year"].isin(years)]
        mw = camp.groupby(["site", "online_year"], sort=True)["committed_mw"].sum()
        out.campuses = [ForcedBuild(str(site), int(y), float(v)) for (site, y), v in mw.items()]

    mk = spec.market
    if mk is not None:
        p = table("market", mk.path)
        params = load_parameters(p)
        if mk.facility_om:
            out.facility_om_usd_per_mw_year = float(
                params.loc["facility_fixed_om_usd_per_mw_year", "value"])
        if mk.index_unserved:
            if spec.demand.elasticity:
                raise fail(("market", "index_unserved"), "an indexed value of unserved "
                           "compute needs inelastic demand (demand.elasticity null); set "
                           "index_unserved: false")
            out.unserved_value_multiple = float(params.loc["unserved_value_multiple", "value"])
        out.paths["market"] = params.attrs["path"]

    t = spec.sales_tax
    if t is not None:
        p = table("sales_tax", t.path)
        tax = load_sales_tax(p)
        rate = site_server_tax_rate(site_facts("sales_tax"), server_tax_rate(tax))
        out.server_tax_rate = {str(k): float(v) for k, v in rate.items()}
        out.paths["sales_tax"] = tax.attrs["path"]
    return out


def mean_energy_price(energy: pd.DataFrame) -> pd.Series:
    """The sites' mean energy price per year, USD/MWh (the levelized cost's energy)."""
    return pd.Series(np.nanmean(energy.to_numpy(dtype=float), axis=0), index=energy.columns)
