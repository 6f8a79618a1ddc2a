"""The scenario file: one YAML document, validated with pydantic.

Unknown keys are errors; table paths are relative to the scenario file; any
table the scenario omits comes from the bundled default. Errors name the file,
the line and the key (``us.yaml line 7, column demand.growth: …``).
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from grids.hourly import load_hourly
from grids.regions import (
    BUNDLED_REGIONS,
    PRICES,
    default_geometry_path,
    is_bundled,
    load_geometry,
    load_regions,
    polygons_for,
    read_polygons,
)
from grids.tables import InputError, check_references, read_table
from grids.yamlfile import StrictModel, YearSpan, read_yaml_mapping, referenced_file
from grids.yamlfile import yaml_line as _yaml_line
from models.capacity import CapacityInputs, resolve_prices
from models.chips import load_chips, with_frontier
from models.demand import PRESETS, elastic_blocks, growth_path, load_demand_path, preset_path
from models.levers import (
    COOLING_WATER,
    ONSITE_GAS_T_PER_MWH,
    ForcedBuild,
    Hours,
    Levers,
    NonFirm,
    RegionalRequirement,
    per_year,
    water_per_mwh,
)
from models.parameters import newest_chip_levelized_usd_per_h100e_year
from planner.inputs.headroom import RegionCurve, nonfirm_regions, region_curves
from planner.inputs.hours import hours_data
from planner.inputs.market import (
    MARKET_KEYS,
    CommittedCampuses,
    Construction,
    FirmHeadroom,
    Market,
    MarketData,
    SalesTax,
    TableKey,
    load_market,
    mean_energy_price,
    on_or_off,
)
from planner.inputs.onsite_tech import KEY as ONSITE_TECH_KEY
from planner.inputs.onsite_tech import (
    OnsiteTables,
    OnsiteTechnologies,
    load_onsite_tables,
    onsite_tech_data,
)
from planner.inputs.uncertainty import Uncertainty
from sites.fleet import check_fleet, default_fleet_path, read_fleet
from sites.sites import place_sites, read_sites

#: Largest demand a growth path may reach, H100e: a hundred million times today's fleet.
MAX_DEMAND_H100E = 1e15


class Demand(StrictModel):
    base_h100e: float | None = Field(
        default=None, ge=0, le=1e13, description="compute demand in the first year, H100e "
        "(at most 1e13: a million times today's installed base)")
    growth: list[float] | None = Field(
        default=None, min_length=1,
        description="year-on-year multipliers; the last one repeats")
    path: str | None = Field(
        default=None, description="a CSV/Parquet table with year, demand_h100e (instead of "
        "base_h100e and growth)")
    preset: str | None = Field(
        default=None, description="a named demand path: " + ", ".join(PRESETS)
        + " (instead of base_h100e and growth)")
    value_of_unserved_usd_per_h100e_year: float = Field(
        gt=0, description="cost of leaving one H100e of demand unserved for a year, USD; the "
        "top of the demand curve when elastic")
    elasticity: float | None = Field(
        default=None, ge=0, le=5, description="price elasticity ε of a constant-elasticity "
        "demand curve around the path (Jevons: ε > 1); null = inelastic")
    reference_price_usd_per_h100e_year: float | None = Field(
        default=None, gt=0, description="price at which the path's demand is demanded "
        "(required with elasticity)")
    min_price_usd_per_h100e_year: float | None = Field(
        default=None, gt=0, description="lowest willingness to pay on the curve "
        "(default: reference price / 10)")
    blocks: int = Field(default=8, ge=2, le=50, description="demand-curve blocks per year")

    @model_validator(mode="after")
    def _one_source(self) -> Demand:
        given = [self.path is not None, self.preset is not None,
                 self.base_h100e is not None or self.growth is not None]
        if sum(given) != 1:
            raise ValueError("give exactly one of: path, preset, or base_h100e with growth")
        if given[2] and (self.base_h100e is None or self.growth is None):
            raise ValueError("give both base_h100e and growth")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"unknown preset '{self.preset}' (known: {', '.join(PRESETS)})")
        if self.growth is not None and any(g <= 0 or g > 100 for g in self.growth):
            raise ValueError("every growth multiplier must be > 0 and at most 100")
        if self.elasticity:
            p_ref = self.reference_price_usd_per_h100e_year
            if p_ref is None:
                raise ValueError("elasticity needs reference_price_usd_per_h100e_year")
            if p_ref >= self.value_of_unserved_usd_per_h100e_year:
                raise ValueError("reference_price_usd_per_h100e_year must be below "
                                 "value_of_unserved_usd_per_h100e_year")
            p_lo = self.min_price_usd_per_h100e_year
            if p_lo is not None and p_lo >= p_ref:
                raise ValueError("min_price_usd_per_h100e_year must be below the reference "
                                 "price")
        return self


class Efficiency(StrictModel):
    frontier_growth: float | None = Field(
        gt=0, le=10, description="yearly efficiency multiplier of synthetic frontier chips "
        "(at most 10× a year); null = announced chips only")


class Onsite(StrictModel):
    lead_years: int = Field(ge=0, le=50, description="years from y0 until on-site "
                            "generation can be completed")
    capex_usd_per_mw: float = Field(ge=0, description="capital cost, USD/MW")
    life_years: int = Field(ge=1, le=80, description="service life, years")
    fuel_usd_per_mwh: float = Field(ge=0, description="fuel and variable O&M, USD/MWh")
    emission_t_per_mwh: float = Field(
        default=ONSITE_GAS_T_PER_MWH, ge=0, le=5,
        description="CO2 per MWh generated on site, t/MWh (used by the carbon lever); default: "
        "natural gas 53.06 kg CO2/MMBtu (EPA GHG Emission Factors Hub) × heat rate 9.447 "
        "MMBtu/MWh (EIA AEO2026, docs/data-sources.md)")


#: A value for every model year, or ``{year: value}`` for the listed years only.
PerYear = float | dict[int, float]


class Budget(StrictModel):
    total_usd_per_year: PerYear | None = Field(
        default=None, description="cap on overnight capex spent in a year (facility + grid + "
        "on-site + chips, undiscounted USD); one number for every year or {year: USD}")
    by_region_usd_per_year: dict[str, PerYear] | None = Field(
        default=None, description="the same cap per region: {region: USD or {year: USD}}")
    by_operator_usd_per_year: dict[str, PerYear] | None = Field(
        default=None, description="the same cap per operator (the sites table's operator "
        "column): {operator: USD or {year: USD}}")


class Carbon(StrictModel):
    price_usd_per_t: PerYear | None = Field(
        default=None, description="carbon price on grid and on-site emissions, USD/t "
        "CO2 (the cost component 'carbon'); one number or {year: USD/t}")
    cap_t_per_year: PerYear | None = Field(
        default=None, description="cap on CO2 emitted in a year, t; one number or {year: t}")


class Water(StrictModel):
    cooling_m3_per_mwh: dict[str, float] | None = Field(
        default=None, description="cooling water per MWh of IT energy (= L/kWh, WUE) by "
        "cooling type, added to or replacing the bundled ones: " + ", ".join(
            f"{k} {v[0]:g}" for k, v in COOLING_WATER.items()))
    default_cooling: str = Field(
        default="average", description="cooling type of sites whose cooling column is blank")
    site_limits_m3_per_year: dict[str, float] | None = Field(
        default=None, description="most cooling water a site may use in a year: {site: m3}")
    region_limits_m3_per_year: dict[str, float] | None = Field(
        default=None, description="most cooling water the sites of a region may use in a "
        "year: {region: m3}")


class Moratorium(StrictModel):
    region: str = Field(description="region with a moratorium")
    from_year: int = Field(ge=1900, le=2300, description="first year with no new grid "
                           "connections in the region (Grid[s,y] is not a variable)")


class RegionalShare(StrictModel):
    name: str = Field(min_length=1, description="name of the requirement (unique)")
    regions: list[str] = Field(min_length=1, description="regions that must serve the share")
    share: float = Field(gt=0, le=1, description="share of the year's compute demand served "
                         "inside the regions")
    from_year: int | None = Field(default=None, description="first year (default: y0)")
    to_year: int | None = Field(default=None, description="last year (default: yN)")


class ForcedBuildSpec(StrictModel):
    site: str = Field(description="site id")
    year: int = Field(ge=1900, le=2300, description="model year the MW are completed")
    build_mw: float = Field(ge=0, description="facility MW built at the site in that year")
    exact: bool = Field(default=False, description="exactly build_mw (default: at least)")


class NonFirmSpec(StrictModel):
    curtailment_pct: float = Field(
        gt=0, lt=100, description="curtailment limit of a non-firm connection, percent of its "
        "energy (e.g. 0.5): each region's cap is the headroom at this rate from the hourly "
        "record (docs/headroom.md)")
    lead_years: int = Field(
        default=1, ge=0, le=50, description="years from y0 until a non-firm connection can be "
        "energized (default 1: an assumption; firm connections take 4–7 years)")
    capex_usd_per_mw: float | None = Field(
        default=None, ge=0, description="connection capex, USD/MW (default: the region's "
        "interconnect_capex_usd_per_mw, an assumption: the same substation and line work)")
    life_years: int | None = Field(
        default=None, ge=1, le=100, description="annuity life of the connection capex, years "
        "(default: facility_life_years)")
    flexible_share: float = Field(
        default=0.0, ge=0, le=1, description="share of a site's load that can pause in "
        "curtailed hours (training, batch), e.g. 0.25 (EPRI DCFlex Phoenix trial: 25 % for 3 h); "
        "default 0: no flexible compute")
    value_of_lost_compute_usd_per_h100e_year: float | None = Field(
        default=None, ge=0, description="value of compute paused, USD per H100e-year (default: "
        "lost_compute_multiple × demand.value_of_unserved_usd_per_h100e_year)")
    lost_compute_multiple: float = Field(
        default=1.0, ge=0, description="value of compute paused as a multiple of the value of "
        "unserved compute (used when value_of_lost_compute_usd_per_h100e_year is not given)")
    battery_usd_per_mw: float = Field(
        default=0.0, ge=0, description="battery capex per MW of power, USD/MW (default 0: the "
        "whole cost is on energy)")
    battery_usd_per_mwh: float = Field(
        default=380_250.0, ge=0, description="battery capex per MWh of energy, USD/MWh (default: "
        "EIA AEO2026 EMM Table 3, 4-hour battery 1,521 USD/kW overnight ÷ 4 h)")
    battery_life_years: int = Field(
        default=15, ge=1, le=50, description="annuity life of a battery, years (default 15: an "
        "assumption)")
    battery_lead_years: int = Field(
        default=1, ge=0, le=50, description="years from y0 until a battery can be completed "
        "(default 1: EIA AEO2026 EMM Table 3, battery lead time)")
    headroom_mw: dict[str, float] | None = Field(
        default=None, description="per-region override of the headroom at y0, MW: {region: "
        "MW} (the curtailment it brings is still read from the hourly record)")
    headroom_growth_per_year: float | dict[str, float] = Field(
        default=0.0, description="yearly growth of the regions' background load; the headroom "
        "grows with it, H·(1+g)^(y−y0) (the method is scale-invariant); one number or "
        "{region: growth}")


class HoursSpec(StrictModel):
    days: int = Field(
        ge=3, le=60, description="representative days K, chosen with tsam from the hourly "
        "load (the system's summer and winter peak days among them, so at least 3; weights "
        "sum to 365 days)")
    dispatch: Literal["region", "site"] = Field(
        default="region", description="hourly dispatch per region (zonal, the default: the "
        "region's batteries, spare on-site power and flexible compute pooled) or per site")


class ScenarioFile(StrictModel):
    """The scenario YAML schema (see the README for every key)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$",
                      description="scenario id (letters, digits, _ . -); names the output")
    description: str | None = Field(default=None, description="free text")
    years: YearSpan
    discount_rate: float = Field(ge=0, le=1, description="real discount rate ρ (0.08 = 8 %)")
    utilization: float = Field(gt=0, le=1, description="average IT load ÷ installed IT capacity")
    facility_life_years: int = Field(ge=1, le=100, description="annuity life of facility and "
                                     "grid-connection capital, years")
    allow_idle_chips: bool = Field(
        default=True, description="chips may be idled or retired before the end of their "
        "life (then they draw no power); false = every installed chip runs (DESIGN.md)")
    demand: Demand
    efficiency: Efficiency
    onsite: Onsite
    regions: str | None = Field(default=None, description="regions table (default: bundled)")
    geometry: str | None = Field(
        default=None, description="region polygons, optional per region (default: the "
        "bundled polygons with the bundled regions; none with a regions table of your own)")
    prices: str | None = Field(default=None, description="per-(region, year) price overrides")
    sites: str | None = Field(default=None, description="sites table (default: bundled)")
    chips: str | None = Field(default=None, description="chips table (default: bundled)")
    hourly_load: str | None = Field(
        default=None, description="hourly load per region (read by dcplan headroom, nonfirm: "
        "and hours:): utc_time and "
        "one MW column per region, whole calendar years (default: the bundled EIA-930 "
        "record, 2016–2024)")
    # ---- the planner's levers (docs/levers.md); each optional, absent = off ----
    build_block_mw: float | None = Field(
        default=None, gt=0, description="lever: facility builds in whole blocks of this many "
        "MW at every site (a MILP; the sites column build_block_mw overrides per site)")
    grid_block_mw: float | None = Field(
        default=None, gt=0, description="lever: new grid connections in whole blocks of this "
        "many MW (the sites column grid_block_mw overrides per site)")
    mip_rel_gap: float = Field(
        default=1e-4, ge=0, le=1, description="relative optimality gap at which a MILP "
        "(lumpy builds) counts as solved")
    fleet: str | bool | None = Field(
        default=None, description="lever: table of accelerators already installed (site, "
        "chip, year_installed, it_mw): no capex, retired at the end of their life; true = "
        "the bundled installed base at the bundled sites (sites/data/fleet.csv)")
    budget: Budget | None = Field(default=None, description="lever: capital budgets")
    carbon: Carbon | None = Field(
        default=None, description="lever: carbon price and/or cap; {} only reports emissions")
    water: Water | None = Field(default=None, description="lever: cooling water limits")
    moratoria: list[Moratorium] | None = Field(
        default=None, description="lever: no new grid connections in a region from a year")
    regional_demand: list[RegionalShare] | None = Field(
        default=None, description="lever: shares of demand served inside sets of regions")
    forced_builds: list[ForcedBuildSpec] | None = Field(
        default=None, description="lever: builds the user fixes (a signed campus)")
    nonfirm: NonFirmSpec | None = Field(
        default=None, description="layer: non-firm (curtailable) grid connections, capped per "
        "region by the curtailment-enabled headroom of the hourly record (README, \"Non-firm "
        "connections\")")
    hours: HoursSpec | None = Field(
        default=None, description="layer: operate the non-firm connections hour by hour on "
        "representative days of the hourly load (needs nonfirm:; replaces its annual "
        "curtailment cover; README \"Hourly operations\"); null = the annual model")
    # ---- market-data layers (issue 15; docs/data-sources.md 7): true or {} = bundled ----
    site_facts: str | None = Field(
        default=None, description="per-site state, construction lead and halls under "
        "construction (default: bundled, for the bundled sites); read by construction and "
        "sales_tax")
    construction: Construction | None = Field(
        default=None, description="layer: construction lead time (Build_Lead): no new hall "
        "before y0 + the site's lead, except halls under construction in their year")
    accelerator_supply: TableKey | None = Field(
        default=None, description="layer: most new H100e bought per vendor and year "
        "(Accelerator_Supply; dual gpu_supply_value_usd_per_h100e)")
    firm_headroom: FirmHeadroom | None = Field(
        default=None, description="layer: most new firm grid MW per region and year "
        "(constraint 5, Grid_Headroom) and over all regions (Grid_Headroom_National)")
    committed_campuses: CommittedCampuses | None = Field(
        default=None, description="layer: committed campuses as forced builds "
        "(Forced_Build), summed per site and online year")
    market: Market | None = Field(
        default=None, description="layer: value of unserved compute indexed to the newest "
        "chip's lifetime rent, and fixed O&M of every standing hall (cost facility_om)")
    sales_tax: SalesTax | None = Field(
        default=None, description="layer: state sales tax on chip capex per site "
        "(κ_g·(1 + tax_s))")
    onsite_technologies: OnsiteTechnologies | None = Field(
        default=None, description="layer: on-site power per technology (turbines, engines, "
        "fuel cells, solar + storage, SMRs, nuclear restarts) with lead times, life, fixed "
        "O&M, fuel on the gas price path, national supply limits (Onsite_Supply) and an N+1 "
        "reserve (Onsite_Reserve); replaces the generic onsite: option (README, \"On-site "
        "technologies\")")
    # ---- dcplan hedge (docs/hedge.md); dcplan run plans for the scenario as written ----
    uncertainty: Uncertainty | None = Field(
        default=None, description="futures for dcplan hedge: named scenarios with "
        "probabilities and overrides, and the year(s) they are revealed")

    @field_validator(*MARKET_KEYS, ONSITE_TECH_KEY, mode="before")
    @classmethod
    def _on_or_off(cls, value: Any) -> Any:
        return on_or_off(value)

    @field_validator("fleet", mode="before")
    @classmethod
    def _fleet_off(cls, value: Any) -> Any:
        return None if value is False else value


@dataclass
class Scenario:
    """A validated scenario with every table loaded and cross-checked."""

    path: Path | None
    spec: ScenarioFile
    regions: pd.DataFrame
    geometry: gpd.GeoDataFrame  # polygons of the regions that have one (possibly none)
    prices: pd.DataFrame | None
    sites: pd.DataFrame
    chips: pd.DataFrame  # announced + synthetic, with π and κ
    demand_h100e: pd.Series
    table_paths: dict[str, str]
    fleet: pd.DataFrame | None = None
    market: MarketData = field(default_factory=MarketData)
    onsite_tables: OnsiteTables | None = None  # layer onsite_technologies: table, gas price

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def years(self) -> list[int]:
        return list(range(self.spec.years.start, self.spec.years.end + 1))

    def capacity_inputs(self) -> CapacityInputs:
        """The plain tables the capacity model is built from."""
        years = self.years
        energy, capacity = resolve_prices(self.regions, self.sites, years, self.prices)
        s = self.spec
        return CapacityInputs(
            years=years,
            discount_rate=s.discount_rate,
            utilization=s.utilization,
            facility_life_years=s.facility_life_years,
            regions=self.regions,
            sites=self.sites,
            chips=self.chips,
            demand_h100e=self.demand_h100e,
            energy_price_usd_per_mwh=energy,
            capacity_price_usd_per_mw_year=capacity,
            onsite_lead_years=s.onsite.lead_years,
            onsite_capex_usd_per_mw=s.onsite.capex_usd_per_mw,
            onsite_life_years=s.onsite.life_years,
            onsite_fuel_usd_per_mwh=s.onsite.fuel_usd_per_mwh,
            value_of_unserved_usd_per_h100e_year=s.demand.value_of_unserved_usd_per_h100e_year,
            demand_blocks=self.demand_blocks(),
            allow_idle=s.allow_idle_chips,
            levers=self.levers(),
            facility_lead_years=self.market.facility_lead_years,
            new_load_limit_mw=self.market.regional_headroom_mw,
            server_tax_rate=self.market.server_tax_rate,
            value_of_unserved_by_year=self.value_of_unserved_by_year(energy),
        )

    def value_of_unserved_by_year(self, energy: pd.DataFrame) -> dict[int, float] | None:
        """Value of unserved compute per year when the layer ``market`` indexes it: the
        multiple × the lifetime rent of the newest chip (its levelized cost with the
        sites' mean facility capex, PUE and energy price, tilted for rents falling with
        ``efficiency.frontier_growth``; :func:`models.parameters.rent_tilt`);
        ``None`` = the flat value."""
        k = self.market.unserved_value_multiple
        if k is None:
            return None
        s = self.spec
        lev = newest_chip_levelized_usd_per_h100e_year(
            self.chips, self.years, s.discount_rate, s.facility_life_years,
            float(self.sites["build_capex_usd_per_mw"].mean()), float(self.sites["pue"].mean()),
            mean_energy_price(energy), s.utilization,
            frontier_growth=s.efficiency.frontier_growth or 1.0)
        return {int(y): k * float(v) for y, v in lev.items()}

    def active_levers(self) -> list[str]:
        """Names of the levers this scenario sets (``[]`` for none)."""
        lv = self.levers()
        return lv.active() if lv is not None else []

    def levers(self) -> Levers | None:
        """The scenario's levers as plain data, checked against its tables; ``None``
        when no lever is set (then the model is exactly the plain capacity LP).

        Raises
        ------
        InputError
            Naming the scenario key (and its line) of a lever that refers to an
            unknown region, site, operator, cooling type or year.
        """
        return build_levers(self)

    def demand_blocks(self) -> pd.DataFrame | None:
        """The elastic demand curve's blocks, or ``None`` when demand is inelastic."""
        d = self.spec.demand
        if not d.elasticity:
            return None
        p_ref = float(d.reference_price_usd_per_h100e_year)
        return elastic_blocks(
            self.demand_h100e, d.elasticity, p_ref, d.value_of_unserved_usd_per_h100e_year,
            d.min_price_usd_per_h100e_year or p_ref / 10.0, d.blocks)

    def with_demand_preset(self, preset: str) -> Scenario:
        """A copy of this scenario on a named demand path (name gets ``-preset``)."""
        if preset not in PRESETS:
            raise InputError(f"unknown demand preset '{preset}' (known: {', '.join(PRESETS)})")
        demand = self.spec.demand.model_copy(
            update={"preset": preset, "base_h100e": None, "growth": None, "path": None})
        spec = self.spec.model_copy(update={"name": f"{self.spec.name}-{preset}",
                                            "demand": demand})
        return replace(self, spec=spec, demand_h100e=preset_path(preset, self.years))


def default_scenario_path() -> Path:
    """The bundled default scenario, ``us-base``."""
    return Path(str(resources.files("planner") / "data" / "us-base.yaml"))


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read, validate and load a scenario and all its tables.

    Parameters
    ----------
    path : the scenario YAML; ``None`` for the bundled default ``us-base``.

    Raises
    ------
    InputError
        With file, row/line and column/key for any bad input. Every table's own
        content (a missing or unreadable file, a missing column, a bad value, a
        duplicate) is checked before any check between tables and polygons, so
        the error names the real problem; it names a file the user gave, or
        "the bundled regions" / "the bundled sites".

    Notes
    -----
    Region polygons are optional, also per region: they place a site without a
    ``region`` and draw regions on maps. The bundled polygons go with the
    bundled regions only; a regions table of the user's own has no polygons
    unless the scenario names a ``geometry`` file.

    Examples
    --------
    >>> sc = load_scenario()
    >>> sc.name, sc.years[0]
    ('us-base', 2026)
    """
    path = Path(path) if path is not None else default_scenario_path()
    spec = read_scenario_file(path)

    def table(key: str) -> Path | None:
        value = getattr(spec, key)
        if value is None:
            return None
        if value is True:  # fleet: true = the bundled installed base
            return default_fleet_path()
        return referenced_file(path, (key,), value)

    # 1. every file and every table's own content, before any cross-check between them,
    #    so an error names the real problem (a bad value, not its knock-on effect)
    regions_path, geometry_path = table("regions"), table("geometry")
    prices_path, sites_path = table("prices"), table("sites")
    chips_path, fleet_path = table("chips"), table("fleet")
    demand_path = None
    if spec.demand.path is not None:
        demand_path = referenced_file(path, ("demand", "path"), spec.demand.path)
    years = list(range(spec.years.start, spec.years.end + 1))
    regions = load_regions(regions_path)
    polygons = read_polygons(geometry_path) if geometry_path is not None else None
    prices = read_table(prices_path, PRICES) if prices_path is not None else None
    sites_raw = read_sites(sites_path)
    chips_raw = load_chips(chips_path)
    fleet_raw = read_fleet(fleet_path, years[-1]) if fleet_path is not None else None
    demand = scenario_demand(spec, path, demand_path, years)

    # 2. cross-checks: tables against each other, sites against the region polygons
    geometry = (load_geometry(None, regions) if polygons is None else
                polygons_for(polygons, sorted(regions.index), of=_regions_name(regions)))
    if prices is not None:
        check_references(prices, "region", regions.index, "region", prices_path)
        prices.attrs["path"] = str(prices_path)
    if sites_path is None and not is_bundled(regions):
        _check_bundled_sites(sites_raw, regions, path)
    try:
        sites = place_sites(sites_raw, regions, geometry, sites_raw.attrs["path"])
    except InputError as exc:
        if sites_path is not None:
            raise
        # the user's polygons against the bundled sites: name no file the user never gave
        raise InputError(exc.message, file="the bundled sites", row=exc.row,
                         column=exc.column) from None
    on_sale = (chips_raw["last_year"] >= years[0]) & (chips_raw["first_year"] <= years[-1])
    usable = chips_raw[on_sale]
    if spec.efficiency.frontier_growth is None and usable.empty:
        raise InputError(
            f"no chip can be bought in {years[0]}–{years[-1]} and efficiency.frontier_growth is "
            "null: add chips or set a frontier growth", file=chips_path or path,
            column="first_year")
    chips = with_frontier(chips_raw, spec.efficiency.frontier_growth, years[-1])
    fleet = None
    if fleet_raw is not None:
        fleet = check_fleet(fleet_raw, sites, chips.index, fleet_path)

    market = load_market(spec, path, sites, regions, chips, years,
                         own_sites=sites_path is not None, site_facts_path=table("site_facts"))
    onsite_tables, onsite_paths = load_onsite_tables(spec.onsite_technologies, path,
                                                     nonfirm=spec.nonfirm is not None)
    if onsite_tables is not None:  # check the options against the table now
        onsite_tech_data(spec.onsite_technologies, onsite_tables, years, path)

    paths = {
        "scenario": str(path),
        "regions": regions.attrs.get("path", ""),
        "sites": sites.attrs.get("path", ""),
        "chips": chips_raw.attrs.get("path", ""),
        "geometry": str(geometry_path or (default_geometry_path() if len(geometry) else "")),
        "prices": str(prices_path or ""),
    }
    if demand_path is not None:  # hashed like every table: a changed path is a new run
        paths["demand"] = str(demand_path)
    if fleet_path is not None:
        paths["fleet"] = str(fleet_path)
    hourly_path = table("hourly_load")
    if hourly_path is not None:  # read by dcplan headroom and by the nonfirm layer
        paths["hourly_load"] = str(hourly_path)
    paths.update(market.paths)
    paths.update(onsite_paths)
    sc = Scenario(path=path, spec=spec, regions=regions, geometry=geometry, prices=prices,
                  sites=sites, chips=chips, demand_h100e=demand, table_paths=paths, fleet=fleet,
                  market=market, onsite_tables=onsite_tables)
    sc.levers()  # lever references checked now: errors before any solve
    return sc


def scenario_demand(spec: ScenarioFile, path: Path, demand_path: Path | None,
                    years: list[int]) -> pd.Series:
    """The demand path (H100e by year) from a table, a preset, or base and growth."""
    d = spec.demand
    if demand_path is not None:
        return load_demand_path(demand_path, years)
    if d.preset is not None:
        return preset_path(d.preset, years)
    demand = growth_path(float(d.base_h100e), d.growth, years)
    past = ~(demand <= MAX_DEMAND_H100E)  # NaN and inf too
    if past.any():
        raise InputError(f"demand grows past {MAX_DEMAND_H100E:.0e} H100e in "
                         f"{int(demand.index[past.to_numpy()][0])} (expected growth "
                         "multipliers that keep demand plausible)",
                         file=path, key="demand.growth",
                         line=_yaml_line(path, ("demand", "growth")))
    return demand


def _regions_name(regions: pd.DataFrame) -> str:
    """How messages name the regions table: its file name, or "the bundled regions"."""
    return BUNDLED_REGIONS if is_bundled(regions) else Path(regions.attrs["path"]).name


def _check_bundled_sites(sites: pd.DataFrame, regions: pd.DataFrame, path: Path) -> None:
    """The bundled sites lie in the bundled regions: with regions of the user's own they
    need a sites table of the user's too (the error names the scenario, not a bundled file)."""
    unknown = sorted({str(r) for r in sites["region"].dropna()} - {str(r) for r in regions.index})
    if unknown:
        shown = ", ".join(unknown[:6]) + (", …" if len(unknown) > 6 else "")
        raise InputError(f"the scenario has its own regions ({_regions_name(regions)}) but no "
                         f"sites table, and the bundled sites lie in {shown}, which "
                         f"{_regions_name(regions)} does not have: add a sites table of your "
                         "own (sites: sites.csv, every site naming one of your regions)",
                         file=path, key="sites")


def build_levers(sc: Scenario) -> Levers | None:
    """:class:`models.levers.Levers` from a scenario's spec and tables (see
    :meth:`Scenario.levers`)."""
    s = sc.spec
    years = sc.years
    regions = set(sc.regions.index)
    sites = sc.sites
    site_ids = set(sites.index)

    def fail(loc: tuple[str, ...], message: str) -> InputError:
        key = ".".join(loc)
        line = _yaml_line(sc.path, loc) if sc.path is not None else None
        return InputError(message, file=sc.path, key=key, line=line)

    def check_years(values: dict[int, float], loc: tuple[str, ...]) -> dict[int, float]:
        for y in values:
            if y not in years:
                raise fail(loc, f"year {y} is outside the model years {years[0]}–{years[-1]}")
        return values

    def known(value: str, pool: set[str], what: str, loc: tuple[str, ...]) -> None:
        if value not in pool:
            shown = ", ".join(sorted(pool)[:12]) + (", …" if len(pool) > 12 else "")
            hint = " (were the sites clustered?)" if what == "site" else ""
            raise fail(loc, f"unknown {what} '{value}'{hint} (known: {shown})")

    lv = Levers(mip_rel_gap=s.mip_rel_gap, onsite_emission_t_per_mwh=s.onsite.emission_t_per_mwh)

    # lumpy builds: the site column overrides the scenario-wide block
    for col, glob, target in (("build_block_mw", s.build_block_mw, lv.build_block_mw),
                              ("grid_block_mw", s.grid_block_mw, lv.grid_block_mw)):
        per_site = sites[col] if col in sites else pd.Series(np.nan, index=sites.index)
        for site, v in per_site.items():
            v = float(v) if v is not None and not pd.isna(v) else glob
            if v is not None:
                target[site] = float(v)

    if sc.fleet is not None and len(sc.fleet):
        fleet = sc.fleet[sc.fleet["it_mw"] > 0]
        missing = sorted(set(fleet["site"]) - site_ids)
        if missing:
            raise fail(("fleet",), f"the fleet names site '{missing[0]}', which is not in the "
                       "sites (were the sites clustered?)")
        lv.fleet = fleet.reset_index(drop=True)
        _check_fleet_fits(sc, lv)

    if s.budget is not None:
        b = s.budget
        lv.budget_total_usd = check_years(per_year(b.total_usd_per_year, years),
                                          ("budget", "total_usd_per_year"))
        for r, v in (b.by_region_usd_per_year or {}).items():
            loc = ("budget", "by_region_usd_per_year", r)
            known(r, regions, "region", loc)
            for y, usd in check_years(per_year(v, years), loc).items():
                lv.budget_region_usd[r, y] = usd
        operators = {o for o in sites.get("operator", pd.Series(dtype=object)).dropna()}
        for o, v in (b.by_operator_usd_per_year or {}).items():
            loc = ("budget", "by_operator_usd_per_year", o)
            known(o, operators, "operator", loc)
            for y, usd in check_years(per_year(v, years), loc).items():
                lv.budget_operator_usd[o, y] = usd
        for values, loc in ((lv.budget_total_usd.values(), ("budget",)),
                            (lv.budget_region_usd.values(), ("budget",)),
                            (lv.budget_operator_usd.values(), ("budget",))):
            if any(v < 0 for v in values):
                raise fail(loc, "a capital budget must be >= 0 USD")

    if s.carbon is not None:
        lv.carbon = True
        lv.carbon_price_usd_per_t = check_years(per_year(s.carbon.price_usd_per_t, years),
                                                ("carbon", "price_usd_per_t"))
        lv.carbon_cap_t = check_years(per_year(s.carbon.cap_t_per_year, years),
                                      ("carbon", "cap_t_per_year"))
        if any(v < 0 for v in lv.carbon_price_usd_per_t.values()):
            raise fail(("carbon", "price_usd_per_t"), "a carbon price must be >= 0 USD/t")
        if any(v < 0 for v in lv.carbon_cap_t.values()):
            raise fail(("carbon", "cap_t_per_year"), "a carbon cap must be >= 0 t")

    if s.water is not None:
        w = s.water
        lv.water = True
        table = {k: v[0] for k, v in COOLING_WATER.items()}
        for kind, v in (w.cooling_m3_per_mwh or {}).items():
            if v < 0:
                raise fail(("water", "cooling_m3_per_mwh", kind), "expected m3/MWh >= 0")
            table[kind] = float(v)
        known(w.default_cooling, set(table), "cooling type", ("water", "default_cooling"))
        cooling = sites["cooling"] if "cooling" in sites else pd.Series(None, sites.index)
        for site, c in cooling.items():
            if isinstance(c, str) and c and c not in table:
                raise InputError(f"unknown cooling type '{c}' at site '{site}' (known: "
                                 f"{', '.join(sorted(table))}; add it to "
                                 "water.cooling_m3_per_mwh)",
                                 file=sites.attrs.get("path"), column="cooling")
        lv.water_m3_per_mwh = water_per_mwh(cooling, table, w.default_cooling)
        for site, v in (w.site_limits_m3_per_year or {}).items():
            loc = ("water", "site_limits_m3_per_year", site)
            known(site, site_ids, "site", loc)
            if v < 0:
                raise fail(loc, "expected m3 >= 0")
            lv.water_limit_site_m3[site] = float(v)
        for r, v in (w.region_limits_m3_per_year or {}).items():
            loc = ("water", "region_limits_m3_per_year", r)
            known(r, regions, "region", loc)
            if v < 0:
                raise fail(loc, "expected m3 >= 0")
            lv.water_limit_region_m3[r] = float(v)

    for i, mo in enumerate(s.moratoria or []):
        known(mo.region, regions, "region", ("moratoria", str(i), "region"))
        lv.moratoria[mo.region] = min(mo.from_year, lv.moratoria.get(mo.region, mo.from_year))

    names: set[str] = set()
    for i, req in enumerate(s.regional_demand or []):
        loc = ("regional_demand", str(i))
        if req.name in names:
            raise fail((*loc, "name"), f"duplicate requirement name '{req.name}'")
        names.add(req.name)
        for r in req.regions:
            known(r, regions, "region", (*loc, "regions"))
        lo = req.from_year if req.from_year is not None else years[0]
        hi = req.to_year if req.to_year is not None else years[-1]
        span = tuple(y for y in years if lo <= y <= hi)
        if not span:
            raise fail(loc, f"from_year/to_year select no model year ({years[0]}–{years[-1]})")
        if not sites["region"].isin(req.regions).any():
            raise fail((*loc, "regions"), f"no site lies in {', '.join(req.regions)}, so "
                       f"'{req.name}' cannot be served there")
        lv.regional_demand.append(RegionalRequirement(req.name, tuple(req.regions),
                                                      float(req.share), span))

    seen: set[tuple[str, int]] = set()
    for i, f in enumerate(s.forced_builds or []):
        loc = ("forced_builds", str(i))
        known(f.site, site_ids, "site", (*loc, "site"))
        if f.year not in years:
            raise fail((*loc, "year"), f"year {f.year} is outside the model years "
                       f"{years[0]}–{years[-1]}")
        if (f.site, f.year) in seen:
            raise fail(loc, f"site '{f.site}' already has a forced build in {f.year}")
        seen.add((f.site, f.year))
        lv.forced_builds.append(ForcedBuild(f.site, f.year, float(f.build_mw), f.exact))

    if s.nonfirm is not None:
        lv.nonfirm = build_nonfirm(sc, fail, known)
    if s.hours is not None:
        lv.hours = build_hours(sc, fail)

    mk = sc.market
    for key, named in (("construction", set(mk.site_lead_years) | set(mk.under_construction)),
                       ("committed_campuses", {f.site for f in mk.campuses}),
                       ("sales_tax", set(mk.server_tax_rate or {}))):
        missing = sorted(named - site_ids)
        if missing:
            raise fail((key,), f"its table names site '{missing[0]}', which is not in the "
                       "sites (were the sites clustered? the market-data layers are per "
                       "site: run without --cluster)")
    lv.site_lead_years = dict(mk.site_lead_years)
    lv.under_construction = dict(mk.under_construction)
    lv.accelerator_supply_h100e = dict(mk.accelerator_supply_h100e)
    lv.national_headroom_mw = dict(mk.national_headroom_mw)
    lv.facility_om_usd_per_mw_year = mk.facility_om_usd_per_mw_year
    lv.forced_builds.extend(mk.campuses)
    if s.onsite_technologies is not None:
        lv.onsite_tech = onsite_tech_data(s.onsite_technologies, sc.onsite_tables, years,
                                          sc.path)
    return lv if lv.active() else None


def build_nonfirm(sc: Scenario, fail: Any, known: Any) -> NonFirm:
    """:class:`models.levers.NonFirm` from the scenario's ``nonfirm:`` and its hourly load.

    Regions without a column in the hourly load get no non-firm headroom.
    """
    nf, years = sc.spec.nonfirm, sc.years
    regions = list(sc.regions.index)
    curves = hourly_curves(sc.table_paths.get("hourly_load"), tuple(regions))
    override = nf.headroom_mw or {}
    for r, mw in override.items():
        loc = ("nonfirm", "headroom_mw", r)
        known(r, set(regions), "region", loc)
        if r not in curves:
            raise fail(loc, f"region '{r}' has no column in the hourly load, so the curtailment "
                       "a non-firm connection there brings is unknown")
        if not np.isfinite(mw) or mw < 0:
            raise fail(loc, f"expected headroom MW >= 0, got {mw}")
    growth = nf.headroom_growth_per_year
    growth_of = growth if isinstance(growth, dict) else dict.fromkeys(regions, float(growth))
    for r, g in growth_of.items():
        loc = ("nonfirm", "headroom_growth_per_year") + ((r,) if isinstance(growth, dict) else ())
        known(r, set(regions), "region", loc)
        if not np.isfinite(g) or g <= -1 or g > 1:
            raise fail(loc, f"expected a yearly growth above -1 and at most 1, got {g}")
    table = nonfirm_regions(curves, nf.curtailment_pct / 100.0, override)
    y0 = years[0]
    headroom = {(r, y): float(table.at[r, "headroom_mw"]) * (1.0 + growth_of.get(r, 0.0))
                ** (y - y0) for r in table.index for y in years}
    capex = sc.regions["interconnect_capex_usd_per_mw"].astype(float).to_dict()
    if nf.capex_usd_per_mw is not None:
        capex = dict.fromkeys(regions, float(nf.capex_usd_per_mw))
    value = nf.value_of_lost_compute_usd_per_h100e_year
    if value is None:
        value = nf.lost_compute_multiple * sc.spec.demand.value_of_unserved_usd_per_h100e_year
    col = table.to_dict()
    return NonFirm(
        lead_years=nf.lead_years, capex_usd_per_mw=capex,
        life_years=nf.life_years or sc.spec.facility_life_years,
        flexible_share=nf.flexible_share, lost_compute_usd_per_h100e_year=float(value),
        battery_usd_per_mw=nf.battery_usd_per_mw, battery_usd_per_mwh=nf.battery_usd_per_mwh,
        battery_life_years=nf.battery_life_years, battery_lead_years=nf.battery_lead_years,
        headroom_mw=headroom, rate=col["curtailment_rate"],
        curtailed_hours=col["curtailed_hours_per_year"],
        events_per_year=col["events_per_year"], max_event_hours=col["max_event_hours"],
        peak_share_avoided=col["peak_share_avoided"])


#: Curtailment rate of the headroom map layer when the scenario sets no ``nonfirm:``.
DEFAULT_CURTAILMENT_PCT = 0.5


def curtailment_headroom(sc: Scenario, levers: Levers | None = None
                         ) -> tuple[float, dict[tuple[str, int], float]]:
    """Curtailment-enabled headroom per region and year, for maps and the report.

    ``levers``: the scenario's levers when already built (:meth:`Scenario.levers`).

    Returns
    -------
    (pct, headroom) : the curtailment rate in percent (``nonfirm.curtailment_pct``, else
        :data:`DEFAULT_CURTAILMENT_PCT`) and (region, year) → MW: with ``nonfirm:`` the
        cap of the non-firm layer (overrides and growth included), else the headroom at
        the rate from the scenario's hourly load (``hourly_load:``, else the bundled
        record), the same every year. Regions without hourly load are absent.
    """
    nf = sc.spec.nonfirm
    if nf is not None:
        lv = levers if levers is not None and levers.nonfirm is not None else sc.levers()
        return float(nf.curtailment_pct), dict(lv.nonfirm.headroom_mw)
    try:
        curves = hourly_curves(sc.table_paths.get("hourly_load"), tuple(sc.regions.index))
    except InputError:  # the run does not read hourly_load: no layer, as before it existed
        return DEFAULT_CURTAILMENT_PCT, {}
    rate = DEFAULT_CURTAILMENT_PCT / 100.0
    return DEFAULT_CURTAILMENT_PCT, {(r, y): c.headroom_mw(rate) for r, c in curves.items()
                                     for y in sc.years}


def build_hours(sc: Scenario, fail: Any) -> Hours:
    """:class:`models.levers.Hours` from the scenario's ``hours:`` and its hourly load."""
    spec = sc.spec.hours
    if sc.spec.nonfirm is None:
        raise fail(("hours",), "expected nonfirm: as well (the hourly layer operates the "
                   "non-firm connections hour by hour; without them the annual model is exact)")
    path = sc.table_paths.get("hourly_load")
    regions = tuple(sc.regions.index)
    curves = hourly_curves(path, regions)
    if not curves:
        raise fail(("hours",), "the hourly load has no column for any region of the scenario "
                   f"({', '.join(regions[:12])}), so there are no hours to operate")
    try:
        return _hours(path, regions, _stamp(path), spec.days, spec.dispatch)
    except InputError as exc:
        raise fail(("hours", "days"), str(exc.args[0]) if exc.args else str(exc)) from None


@functools.lru_cache(maxsize=4)
def _hours(path: str | None, regions: tuple[str, ...], stamp: tuple[int, int] | None,
           days: int, dispatch: str) -> Hours:
    curves = _hourly_curves(path, regions, stamp)
    load = _hourly_table(path, regions, stamp)
    return hours_data(load, curves, days, dispatch)


def _stamp(path: str | None) -> tuple[int, int] | None:
    """(mtime, size) of a file, ``None`` when it is the bundled record or missing."""
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return None  # load_hourly names the missing file
    return (st.st_mtime_ns, st.st_size)


def hourly_curves(path: str | None, regions: tuple[str, ...]) -> dict[str, RegionCurve]:
    """Curtailment curves of the scenario's regions from an hourly load table (``None``:
    the bundled record, whose columns not among ``regions`` are left out); cached while
    the file is unchanged."""
    stamp = None
    if path is not None:
        try:
            st = Path(path).stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except OSError:
            stamp = None  # load_hourly names the missing file
    return _hourly_curves(path, regions, stamp)


@functools.lru_cache(maxsize=4)
def _hourly_curves(path: str | None, regions: tuple[str, ...],
                   stamp: tuple[int, int] | None) -> dict[str, RegionCurve]:
    return region_curves(_hourly_table(path, regions, stamp))


@functools.lru_cache(maxsize=2)
def _hourly_table(path: str | None, regions: tuple[str, ...],
                  stamp: tuple[int, int] | None) -> pd.DataFrame:
    """The hourly load of the scenario's regions (``None``: the bundled record)."""
    if path is None:
        load = load_hourly(None)
        return load[[c for c in load.columns if c in regions]]
    return load_hourly(path, regions=list(regions))


def _check_fleet_fits(sc: Scenario, lv: Levers) -> None:
    """The existing fleet must fit under each site's ceiling (PUE × IT MW ≤ max_mw)."""
    fleet = lv.fleet
    life = sc.chips["life_years"]
    for site, grp in fleet.groupby("site", sort=False):
        pue = float(sc.sites.at[site, "pue"])
        for y in sc.years:
            alive = (grp["year_installed"] <= y) & (
                grp["year_installed"] + grp["chip"].map(life).to_numpy() - 1 >= y)
            need = pue * float(grp.loc[alive, "it_mw"].sum())
            ceiling = float(sc.sites.at[site, "max_mw"])
            if need > ceiling + 1e-9:
                raise InputError(
                    f"the fleet at site '{site}' needs {need:,.1f} MW at the meter in {y} "
                    f"(PUE {pue:g} × IT MW), more than the site's max_mw {ceiling:,.1f}",
                    file=fleet.attrs.get("path") or sc.table_paths.get("fleet"), column="it_mw")


def read_scenario_file(path: Path) -> ScenarioFile:
    """Parse and validate the YAML; errors carry the line of the bad key."""
    raw = read_yaml_mapping(path, "a scenario YAML", "scenario keys")
    try:
        return ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
        err = errors[0]
        loc = tuple(str(p) for p in err["loc"])
        key = ".".join(loc) or "(top level)"
        msg = _pydantic_message(err)
        if err.get("type") == "extra_forbidden":
            msg += _did_you_mean(loc)
        raise InputError(msg, file=path, key=key, line=_yaml_line(path, loc)) from None


def _did_you_mean(loc: tuple[str, ...]) -> str:
    """' (did you mean X?)' for a misspelt key, else ''."""
    model: Any = ScenarioFile
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        ann = getattr(field, "annotation", None)
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return ""
        model = ann
    close = difflib.get_close_matches(loc[-1], list(model.model_fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _pydantic_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key (check the spelling; see the README's scenario schema)"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", "invalid value"))
    msg = msg.removeprefix("Value error, ")
    if "input" in err and kind not in ("model_type",):
        got = err["input"]
        if not isinstance(got, (dict, list)):
            msg += f", got {got!r}"
    return msg
