"""The planner's levers as plain data: what a scenario sets (validated by the planner).

Money is in USD, energy in MWh, water in m³, emissions in t CO2. The levers' model
components live in one module each (:mod:`models.levers`); inside the LP money is
in million USD, compute in thousand H100e, emissions in kt CO2
(:data:`EMISSIONS_SCALE`) and water in thousand m³ (:data:`WATER_SCALE`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

EMISSIONS_SCALE = 1e3  # emissions unit inside the LP: kt CO2
WATER_SCALE = 1e3  # water unit inside the LP: thousand m³

#: t CO2 per MWh generated on site by a gas turbine: 53.06 kg CO2/MMBtu (natural gas,
#: EPA GHG Emission Factors Hub, Table 1) × 9.447 MMBtu/MWh (aeroderivative combustion
#: turbine heat rate, EIA Assumptions to AEO2026 EMM Table 3 — the heat rate behind
#: ``onsite.fuel_usd_per_mwh`` in docs/data-sources.md) = 501.3 kg/MWh.
ONSITE_GAS_T_PER_MWH = round(53.06 * 9.447 / 1000.0, 4)

#: Cooling water consumed per MWh of IT energy (m³/MWh = L/kWh, The Green Grid's WUE),
#: by cooling type, with sources.
COOLING_WATER: dict[str, tuple[float, str]] = {
    "evaporative": (1.8, "cooling towers / evaporative: WUE 1.8 L/kWh, the commonly cited "
                    "industry average for water-cooled sites (Sunbird DCIM glossary after The "
                    "Green Grid) and the top of the 1.0-1.8 L/kWh range for evaporative "
                    "hyperscale sites (Milton Roy data-center WUE benchmarks)"),
    "average": (0.36, "US fleet average site WUE 0.36 L/kWh in 2023 (LBNL 2024 United States "
                "Data Center Energy Usage Report, via Vertiv)"),
    "air": (0.125, "air-cooled chillers / dry coolers: 0.05-0.20 L/kWh for air-cooled "
            "hyperscale sites, midpoint (Milton Roy data-center WUE benchmarks)"),
    "closed-loop": (0.0, "closed-loop chip-level liquid cooling with no evaporation: WUE "
                    "'near zero' (Microsoft zero-water-evaporation design, Aug 2024, "
                    "DatacenterDynamics); domestic water not counted"),
}


@dataclass(frozen=True)
class ForcedBuild:
    """A build the user fixes: at least (or exactly) ``build_mw`` at ``site`` in ``year``."""

    site: str
    year: int
    build_mw: float
    exact: bool = False


@dataclass(frozen=True)
class RegionalRequirement:
    """A share of compute demand that must be served inside ``regions``."""

    name: str
    regions: tuple[str, ...]
    share: float
    years: tuple[int, ...]


@dataclass(frozen=True)
class NonFirm:
    """Non-firm (curtailable) grid connections: the scenario's ``nonfirm:`` as plain data.

    Regional figures come from the hourly record at the scenario's curtailment rate
    (:mod:`planner.inputs.headroom`); money in USD, energy in MWh, power in MW.

    Attributes
    ----------
    lead_years : years from y0 until a non-firm connection can be energized.
    capex_usd_per_mw, life_years : connection capex per region and its annuity life.
    flexible_share : φ, share of a site's load that can pause in curtailed hours.
    lost_compute_usd_per_h100e_year : value of compute lost by shedding, USD per
        H100e-year.
    battery_usd_per_mw, battery_usd_per_mwh, battery_life_years : battery capex (power
        and energy) and its annuity life.
    headroom_mw : (region, year) → H_r,y, most non-firm MW connected in the region.
    rate : region → ρ_r, curtailed share of a non-firm MW's energy at the cap
        (from the hourly record: the scenario's rate, or the record's rate at an
        override).
    curtailed_hours : region → h_r, hours a year with any curtailment at the cap.
    events_per_year : region → n_r, curtailment events (runs of hours) a year.
    max_event_hours : region → the longest event of the record (reported only).
    peak_share_avoided : region → a_r, share of the non-firm draw curtailed in the hours
        that set capacity charges (the region's coincident-peak rule); that share of the
        capacity price is not paid on non-firm draw.
    """

    lead_years: int
    capex_usd_per_mw: dict[str, float]
    life_years: int
    flexible_share: float
    lost_compute_usd_per_h100e_year: float
    battery_usd_per_mw: float
    battery_usd_per_mwh: float
    battery_life_years: int
    battery_lead_years: int
    headroom_mw: dict[tuple[str, int], float]
    rate: dict[str, float]
    curtailed_hours: dict[str, float]
    events_per_year: dict[str, float]
    max_event_hours: dict[str, float] = field(default_factory=dict)
    peak_share_avoided: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class OnsiteTech:
    """On-site technologies a campus can build (the layer ``onsite_technologies``), as
    plain data: the rows of ``models/data/onsite_technologies.csv`` allowed, their fuel
    path and the reserve rule.

    Attributes
    ----------
    table : indexed by technology; columns of ``models.onsite.ONSITE_TECHNOLOGIES``
        (storage rows never included: a battery is not an energy source for a 24/7 load).
    fuel_usd_per_mwh : (technology, year) → gas price × heat rate + variable O&M, USD/MWh.
    reserve_fraction : r, firm on-site capacity ≥ (1 + r) × on-site load (N+1 as a
        fraction: r = 1/N for N running units).
    solar_capacity_factor : energy a MW of solar + storage delivers, as a share of
        8,760 MWh a year.
    """

    table: pd.DataFrame
    fuel_usd_per_mwh: dict[tuple[str, int], float]
    reserve_fraction: float
    solar_capacity_factor: float


@dataclass(frozen=True)
class Hours:
    """Hourly operations on representative days: the scenario's ``hours:`` as plain data.

    Attributes
    ----------
    dispatch : ``"region"`` (zonal: one hourly draw, battery and shed per region, the
        sites' cover pooled) or ``"site"`` (one per site).
    weight_days : period → days of the model year it stands for (sums to 365).
    headroom_mw : (region, period, hour) → hourly headroom max(0, T_r,p − L_r,p,h) in
        the first model year, MW: the seasonal threshold (the record's highest summer or
        winter load; weighted by the days of each season the period stands for) less the
        representative day's background load. Regions without hourly load are absent.
    peak_days : name (``system_summer``, ``system_winter``) → (period, ISO date).
    """

    dispatch: str
    weight_days: dict[int, float]
    headroom_mw: dict[tuple[str, int, int], float]
    peak_days: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def periods(self) -> list[int]:
        """The representative days, in order."""
        return sorted(self.weight_days)


@dataclass
class Levers:
    """The levers of one model instance, as plain data (validated by the planner).

    Money is in USD, energy in MWh, water in m³, emissions in t CO2; per-year
    values are dicts keyed by model year (a year not listed has no limit).
    """

    build_block_mw: dict[str, float] = field(default_factory=dict)  # site -> MW per block
    grid_block_mw: dict[str, float] = field(default_factory=dict)
    mip_rel_gap: float = 1e-4
    fleet: pd.DataFrame | None = None  # site, chip, year_installed, it_mw
    budget_total_usd: dict[int, float] = field(default_factory=dict)
    budget_region_usd: dict[tuple[str, int], float] = field(default_factory=dict)
    budget_operator_usd: dict[tuple[str, int], float] = field(default_factory=dict)
    carbon: bool = False  # emissions accounted (and reported)
    carbon_price_usd_per_t: dict[int, float] = field(default_factory=dict)
    carbon_cap_t: dict[int, float] = field(default_factory=dict)
    onsite_emission_t_per_mwh: float = ONSITE_GAS_T_PER_MWH
    water: bool = False  # water accounted (and reported)
    water_m3_per_mwh: dict[str, float] = field(default_factory=dict)  # site -> per IT-MWh
    water_limit_site_m3: dict[str, float] = field(default_factory=dict)
    water_limit_region_m3: dict[str, float] = field(default_factory=dict)
    moratoria: dict[str, int] = field(default_factory=dict)  # region -> first year
    regional_demand: list[RegionalRequirement] = field(default_factory=list)
    forced_builds: list[ForcedBuild] = field(default_factory=list)
    nonfirm: NonFirm | None = None
    hours: Hours | None = None  # hourly operations of the non-firm connections
    # construction lead per site (years from y0; overrides the inputs' facility_lead_years)
    # and halls under construction: site -> (facility MW, year they complete)
    site_lead_years: dict[str, int] = field(default_factory=dict)
    under_construction: dict[str, tuple[float, int]] = field(default_factory=dict)
    # most new H100e bought in the US per (vendor or "all", year)
    accelerator_supply_h100e: dict[tuple[str, int], float] = field(default_factory=dict)
    # most new grid MW energized over all regions together per year (national headroom)
    national_headroom_mw: dict[int, float] = field(default_factory=dict)
    # fixed O&M of every facility MW standing, with or without chips, USD per MW-year
    facility_om_usd_per_mw_year: float = 0.0
    # per-technology on-site power (replaces the scenario's generic onsite: option)
    onsite_tech: OnsiteTech | None = None

    def active(self) -> list[str]:
        """Names of the levers that are set (scenario keys)."""
        on = {
            "build_block_mw": bool(self.build_block_mw),
            "grid_block_mw": bool(self.grid_block_mw),
            "fleet": self.fleet is not None and len(self.fleet) > 0,
            "budget": bool(self.budget_total_usd or self.budget_region_usd
                           or self.budget_operator_usd),
            "carbon": self.carbon,
            "water": self.water,
            "moratoria": bool(self.moratoria),
            "regional_demand": bool(self.regional_demand),
            "forced_builds": bool(self.forced_builds),
            "nonfirm": self.nonfirm is not None,
            "hours": self.hours is not None,
            "construction": bool(self.site_lead_years or self.under_construction),
            "accelerator_supply": bool(self.accelerator_supply_h100e),
            "national_headroom": bool(self.national_headroom_mw),
            "facility_om": self.facility_om_usd_per_mw_year > 0,
            "onsite_technologies": self.onsite_tech is not None,
        }
        return [k for k, v in on.items() if v]

    @property
    def integer(self) -> bool:
        """True when the model is a MILP (lumpy builds or connections)."""
        return bool(self.build_block_mw or self.grid_block_mw)


def per_year(value: float | dict[int, float] | None, years: list[int]) -> dict[int, float]:
    """A scalar for every year, or the listed years of a mapping; ``{}`` for ``None``.

    Examples
    --------
    >>> per_year(5.0, [2026, 2027])
    {2026: 5.0, 2027: 5.0}
    >>> per_year({2027: 1.0}, [2026, 2027])
    {2027: 1.0}
    """
    if value is None:
        return {}
    if isinstance(value, dict):
        return {int(y): float(v) for y, v in value.items()}
    return {y: float(value) for y in years}


def water_per_mwh(cooling: pd.Series, table: dict[str, float], default: str) -> dict[str, float]:
    """m³ per IT-MWh per site from its cooling type (blank = ``default``)."""
    out = {}
    for s, c in cooling.items():
        kind = c if isinstance(c, str) and c else default
        out[s] = float(table[kind])
    return out


