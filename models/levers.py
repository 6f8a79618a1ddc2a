r"""The planner's levers: optional constraints added to the capacity model.

Each lever is optional; with none set the model is exactly
:func:`models.capacity.build_model`'s LP. Names follow the capacity model:
sets ``UPPER_CASE``, variables ``CamelCase``, constraints
``Capitalised_Words``, each constraint's docstring states its math, and every
sparse index set is precomputed here (:func:`lever_sets`), never filtered
inside a rule.

==========================  =========================================================
lever (scenario key)        adds
==========================  =========================================================
``build_block_mw``          ``NBuild`` (integer) and ``Build_Blocks`` (L1a): a MILP
``grid_block_mw``           ``NGrid`` (integer) and ``Grid_Blocks`` (L1b)
``fleet``                   right-hand side of ``Fleet_Installed`` (index sets, in
                            :mod:`models.capacity`): chips already installed
``budget``                  ``Capital_Budget``, ``Capital_Budget_Region``,
                            ``Capital_Budget_Operator`` (L3a)
``carbon``                  ``Emissions``, ``Carbon_Accounting`` (L3b),
                            ``Carbon_Cap`` (L3c), a carbon price in the objective
``water``                   ``Water_Site``, ``Water_Region`` (L4a)
``moratoria``               ``Grid[s,y]`` left out of ``GRID_SY`` (index sets, in
                            :mod:`models.capacity`): no constraint, no dual
``regional_demand``         ``Regional_Demand`` (L5a)
``forced_builds``           ``Forced_Build`` (L5b)
==========================  =========================================================

Internal scaling follows the capacity model: money in million USD, compute in
thousand H100e; emissions are in kt CO2 (:data:`EMISSIONS_SCALE`) and water
in thousand m³ (:data:`WATER_SCALE`) inside the LP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

if TYPE_CHECKING:
    from models.capacity import CapacityInputs, IndexSets

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
        }
        return [k for k, v in on.items() if v]

    @property
    def integer(self) -> bool:
        """True when the model is a MILP (lumpy builds or connections)."""
        return bool(self.build_block_mw or self.grid_block_mw)


def active_levers(d: CapacityInputs) -> list[str]:
    """The levers set on a model instance (``[]`` without levers)."""
    return d.levers.active() if d.levers is not None else []


# --------------------------------------------------------------------------
# Existing fleet and moratoria (they change the core index sets)
# --------------------------------------------------------------------------
def existing_fleet_mw(d: CapacityInputs, years: list[int]) -> dict[tuple[str, str, int], float]:
    """F[s,g,y]: IT MW of chip g already installed at s still in its life in y.

    A row installed in year τ with life ℓ_g is in service for τ ≤ y ≤ τ + ℓ_g − 1.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fleet = pd.DataFrame({"site": ["s"], "chip": ["g"], "year_installed": [2024],
    ...                       "it_mw": [5.0]})
    >>> chips = pd.DataFrame({"life_years": [3]}, index=["g"])
    >>> d = SimpleNamespace(levers=Levers(fleet=fleet), chips=chips)
    >>> existing_fleet_mw(d, [2026, 2027])
    {('s', 'g', 2026): 5.0}
    """
    lv = d.levers
    if lv is None or lv.fleet is None or not len(lv.fleet):
        return {}
    out: dict[tuple[str, str, int], float] = {}
    y0, yn = years[0], years[-1]
    for s, g, t, mw in zip(lv.fleet["site"], lv.fleet["chip"], lv.fleet["year_installed"],
                           lv.fleet["it_mw"]):
        life = int(d.chips.at[g, "life_years"])
        for y in range(max(int(t), y0), min(int(t) + life - 1, yn) + 1):
            out[(s, g, y)] = out.get((s, g, y), 0.0) + float(mw)
    return out


def moratorium_from(d: CapacityInputs) -> dict[str, int]:
    """Region → first year without new grid connections (empty without the lever)."""
    return dict(d.levers.moratoria) if d.levers is not None else {}


# --------------------------------------------------------------------------
# Index sets of the levers
# --------------------------------------------------------------------------
@dataclass
class LeverSets:
    """Sparse index sets and term lists of the levers, precomputed from the data."""

    build_block_sy: list[tuple[str, int]]
    grid_block_sy: list[tuple[str, int]]
    # budget scope key -> per year: (build sites, grid sites, onsite sites, it (s, g) pairs)
    budget_y: list[int]
    budget_ry: list[tuple[str, int]]
    budget_oy: list[tuple[str, int]]
    capex_terms: dict[tuple[str, str, int], tuple[list, list, list, list]]
    carbon_terms: list[tuple[str, float, float]]  # (s, kt per grid MW-year, kt per onsite)
    carbon_cap_y: list[int]
    water_site_sy: list[tuple[str, int]]
    water_region_ry: list[tuple[str, int]]
    water_sites_in: dict[str, list[str]]  # region -> sites with water use
    water_coef: dict[str, float]  # s -> thousand m³ per IT-MW in service for a year
    regional_ky: list[tuple[str, int]]
    regional_sites: dict[str, list[str]]
    forced_k: list[int]


def lever_sets(d: CapacityInputs, ix: IndexSets) -> LeverSets:
    from models.capacity import HOURS_PER_YEAR

    lv = d.levers
    assert lv is not None
    years = ix.years
    region = d.sites["region"]
    grid_ok = set(ix.grid_sy)
    onsite_ok = set(ix.onsite_sy)
    on_sale = {g: set(ix.chip_years.get(g, [])) for g in ix.chips}
    buy = {y: [g for g in ix.chips if y in on_sale[g]] for y in years}

    def terms(sites: list[str], y: int) -> tuple[list, list, list, list]:
        return (list(sites), [s for s in sites if (s, y) in grid_ok],
                [s for s in sites if (s, y) in onsite_ok],
                [(s, g) for s in sites for g in buy[y]])

    capex_terms: dict[tuple[str, str, int], tuple[list, list, list, list]] = {}
    for y in lv.budget_total_usd:
        capex_terms[("total", "", y)] = terms(ix.sites, y)
    for r, y in lv.budget_region_usd:
        capex_terms[("region", r, y)] = terms([s for s in ix.sites if region[s] == r], y)
    operator = d.sites["operator"] if "operator" in d.sites else pd.Series(None, d.sites.index)
    for o, y in lv.budget_operator_usd:
        capex_terms[("operator", o, y)] = terms([s for s in ix.sites if operator[s] == o], y)

    uh = d.utilization * HOURS_PER_YEAR
    carbon_terms = []
    if lv.carbon:
        ci = d.regions["carbon_t_per_mwh"].astype(float)
        for s in ix.sites:
            carbon_terms.append((s, uh * float(ci[region[s]]) / EMISSIONS_SCALE,
                                 uh * lv.onsite_emission_t_per_mwh / EMISSIONS_SCALE))

    water_coef = {s: uh * lv.water_m3_per_mwh.get(s, 0.0) / WATER_SCALE for s in ix.sites}
    wet = [s for s in ix.sites if water_coef[s] > 0]
    water_sites_in = {r: [s for s in wet if region[s] == r] for r in lv.water_limit_region_m3}
    regional_sites = {
        req.name: [s for s in ix.sites if region[s] in set(req.regions)]
        for req in lv.regional_demand
    }
    return LeverSets(
        build_block_sy=[(s, y) for s in ix.sites if s in lv.build_block_mw for y in years],
        grid_block_sy=[(s, y) for s, y in ix.grid_sy if s in lv.grid_block_mw],
        budget_y=sorted(lv.budget_total_usd),
        budget_ry=sorted(lv.budget_region_usd),
        budget_oy=sorted(lv.budget_operator_usd),
        capex_terms=capex_terms,
        carbon_terms=carbon_terms,
        carbon_cap_y=sorted(lv.carbon_cap_t),
        water_site_sy=[(s, y) for s in wet if s in lv.water_limit_site_m3 for y in years],
        water_region_ry=[(r, y) for r in lv.water_limit_region_m3 if water_sites_in[r]
                         for y in years],
        water_sites_in=water_sites_in,
        water_coef=water_coef,
        regional_ky=[(req.name, y) for req in lv.regional_demand for y in req.years
                     if regional_sites[req.name]],
        regional_sites=regional_sites,
        forced_k=list(range(len(lv.forced_builds))),
    )


# --------------------------------------------------------------------------
# The lever components
# --------------------------------------------------------------------------
def add_levers(m: pyo.ConcreteModel, fleet_mw: Callable[[Any, str, int], Any]) -> Any:
    """Add every lever set on ``m.inputs`` to the capacity model ``m``.

    ``fleet_mw(m, s, y)`` is Σ_g U[s,g,y] (IT MW in service). Returns the
    levers' objective term in million USD (0 when no lever costs money).
    """
    from models.capacity import COMPUTE_SCALE, USD_SCALE, discount_factors

    d, ix = m.inputs, m.ix
    lv: Levers = d.levers
    lx = lever_sets(d, ix)
    m.lx = lx
    nn = pyo.NonNegativeReals
    k = 1.0 / USD_SCALE
    delta = discount_factors(ix.years, d.discount_rate)
    pi_k = (d.chips["pi_h100e_per_mw"] / COMPUTE_SCALE).to_dict()
    objective: Any = 0

    # -- (L1) lumpy builds and connections ------------------------------------------
    if lx.build_block_sy:
        m.BUILD_BLOCK_SY = pyo.Set(dimen=2, initialize=lx.build_block_sy, ordered=True)
        m.NBuild = pyo.Var(m.BUILD_BLOCK_SY, domain=pyo.NonNegativeIntegers,
                           doc="facility blocks completed at s in y (integer)")
        block = lv.build_block_mw

        def build_blocks_rule(m: Any, s: str, y: int) -> Any:
            """(L1a) build[s,y] = block_s · nbuild[s,y], nbuild[s,y] ∈ {0, 1, 2, …}."""
            return m.Build[s, y] - block[s] * m.NBuild[s, y] == 0

        m.Build_Blocks = pyo.Constraint(m.BUILD_BLOCK_SY, rule=build_blocks_rule,
                                        doc=build_blocks_rule.__doc__)
    if lx.grid_block_sy:
        m.GRID_BLOCK_SY = pyo.Set(dimen=2, initialize=lx.grid_block_sy, ordered=True)
        m.NGrid = pyo.Var(m.GRID_BLOCK_SY, domain=pyo.NonNegativeIntegers,
                          doc="grid-connection blocks energized at s in y (integer)")
        gblock = lv.grid_block_mw

        def grid_blocks_rule(m: Any, s: str, y: int) -> Any:
            """(L1b) grid[s,y] = gridblock_s · ngrid[s,y], ngrid[s,y] ∈ {0, 1, 2, …}."""
            return m.Grid[s, y] - gblock[s] * m.NGrid[s, y] == 0

        m.Grid_Blocks = pyo.Constraint(m.GRID_BLOCK_SY, rule=grid_blocks_rule,
                                       doc=grid_blocks_rule.__doc__)

    # -- (L3a) capital budgets -------------------------------------------------------
    if lx.capex_terms:
        bcap = (d.sites["build_capex_usd_per_mw"].astype(float) * k).to_dict()
        gcap = {s: float(d.regions.at[d.sites.at[s, "region"], "interconnect_capex_usd_per_mw"])
                * k for s in ix.sites}
        ocap = d.onsite_capex_usd_per_mw * k
        kappa = (d.chips["kappa_usd_per_mw"].astype(float) * k).to_dict()

        def capex(m: Any, scope: str, key: str, y: int) -> Any:
            """Overnight capex spent in y over the scope's sites, million USD."""
            b, g, o, it = lx.capex_terms[scope, key, y]
            return (sum(bcap[s] * m.Build[s, y] for s in b)
                    + sum(gcap[s] * m.Grid[s, y] for s in g)
                    + sum(ocap * m.Onsite[s, y] for s in o)
                    + sum(kappa[c] * m.IT[s, c, y] for s, c in it))

        def budget_rule(m: Any, y: int) -> Any:
            """(L3a) Σ_s [c^build_s·build[s,y] + c^grid_r(s)·grid[s,y] + c^onsite·onsite[s,y]
            + Σ_g κ_g·it[s,g,y]] ≤ budget[y]   (overnight capex spent in y, undiscounted,
            million USD; chips of the existing fleet cost nothing)."""
            return capex(m, "total", "", y) <= lv.budget_total_usd[y] * k

        def budget_region_rule(m: Any, r: str, y: int) -> Any:
            """(L3a) the same sum over the sites s ∈ r ≤ budget[r,y]."""
            return capex(m, "region", r, y) <= lv.budget_region_usd[r, y] * k

        def budget_operator_rule(m: Any, o: str, y: int) -> Any:
            """(L3a) the same sum over the sites whose operator is o ≤ budget[o,y]."""
            return capex(m, "operator", o, y) <= lv.budget_operator_usd[o, y] * k

        if lx.budget_y:
            m.BUDGET_Y = pyo.Set(initialize=lx.budget_y, ordered=True)
            m.Capital_Budget = pyo.Constraint(m.BUDGET_Y, rule=budget_rule,
                                              doc=budget_rule.__doc__)
        if lx.budget_ry:
            m.BUDGET_RY = pyo.Set(dimen=2, initialize=lx.budget_ry, ordered=True)
            m.Capital_Budget_Region = pyo.Constraint(m.BUDGET_RY, rule=budget_region_rule,
                                                     doc=budget_region_rule.__doc__)
        if lx.budget_oy:
            m.BUDGET_OY = pyo.Set(dimen=2, initialize=lx.budget_oy, ordered=True)
            m.Capital_Budget_Operator = pyo.Constraint(m.BUDGET_OY, rule=budget_operator_rule,
                                                       doc=budget_operator_rule.__doc__)

    # -- (L3b, L3c) carbon -----------------------------------------------------------
    if lv.carbon:
        m.Emissions = pyo.Var(m.YEARS, domain=nn,
                              doc="CO2 from grid energy and on-site fuel in y, kt")
        grid_terms = [(s, cg) for s, cg, _ in lx.carbon_terms if cg > 0]
        onsite_terms = [(s, co) for s, _, co in lx.carbon_terms if co > 0]

        def carbon_accounting_rule(m: Any, y: int) -> Any:
            """(L3b) emissions[y] = Σ_s u·H·(c_r(s)·gridload[s,y] + e_onsite·onsiteload[s,y])
            (kt CO2; c_r = regions.carbon_t_per_mwh, e_onsite = onsite.emission_t_per_mwh)."""
            grid = sum(cg * m.GridLoad[s, y] for s, cg in grid_terms)
            onsite = sum(co * m.OnsiteLoad[s, y] for s, co in onsite_terms)
            return m.Emissions[y] - grid - onsite == 0

        m.Carbon_Accounting = pyo.Constraint(m.YEARS, rule=carbon_accounting_rule,
                                             doc=carbon_accounting_rule.__doc__)
        if lx.carbon_cap_y:
            m.CARBON_CAP_Y = pyo.Set(initialize=lx.carbon_cap_y, ordered=True)

            def carbon_cap_rule(m: Any, y: int) -> Any:
                """(L3c) emissions[y] ≤ cap[y]   (kt CO2)."""
                return m.Emissions[y] <= lv.carbon_cap_t[y] / EMISSIONS_SCALE

            m.Carbon_Cap = pyo.Constraint(m.CARBON_CAP_Y, rule=carbon_cap_rule,
                                          doc=carbon_cap_rule.__doc__)
        objective = objective + sum(
            k * float(delta[y]) * p * EMISSIONS_SCALE * m.Emissions[y]
            for y, p in lv.carbon_price_usd_per_t.items() if p)

    # -- (L4a) water -----------------------------------------------------------------
    wc = lx.water_coef
    if lx.water_site_sy:
        m.WATER_SITE_SY = pyo.Set(dimen=2, initialize=lx.water_site_sy, ordered=True)

        def water_site_rule(m: Any, s: str, y: int) -> Any:
            """(L4a) w_s·u·H·Σ_g U[s,g,y] ≤ water_limit_s   (thousand m³ a year; w_s = m³ per
            IT-MWh of the site's cooling type)."""
            return wc[s] * fleet_mw(m, s, y) <= lv.water_limit_site_m3[s] / WATER_SCALE

        m.Water_Site = pyo.Constraint(m.WATER_SITE_SY, rule=water_site_rule,
                                      doc=water_site_rule.__doc__)
    if lx.water_region_ry:
        m.WATER_REGION_RY = pyo.Set(dimen=2, initialize=lx.water_region_ry, ordered=True)

        def water_region_rule(m: Any, r: str, y: int) -> Any:
            """(L4a) Σ_{s∈r} w_s·u·H·Σ_g U[s,g,y] ≤ water_limit_r   (thousand m³ a year)."""
            return sum(wc[s] * fleet_mw(m, s, y) for s in lx.water_sites_in[r]) \
                <= lv.water_limit_region_m3[r] / WATER_SCALE

        m.Water_Region = pyo.Constraint(m.WATER_REGION_RY, rule=water_region_rule,
                                        doc=water_region_rule.__doc__)

    # -- (L5a) regional demand -------------------------------------------------------
    if lx.regional_ky:
        m.REGIONAL_KY = pyo.Set(dimen=2, initialize=lx.regional_ky, ordered=True)
        share = {req.name: req.share for req in lv.regional_demand}
        demand_k = (d.demand_h100e / COMPUTE_SCALE).to_dict()

        def regional_demand_rule(m: Any, name: str, y: int) -> Any:
            """(L5a) Σ_{s∈R_k} Σ_g π_g·U[s,g,y] ≥ share_k · demand[y]   (thousand H100e;
            demand = the reference path)."""
            served = sum(pi_k[g] * m.Fleet[s, g, y] for s in lx.regional_sites[name]
                         for g in ix.chips_at(s, y))
            return served >= share[name] * demand_k[y]

        m.Regional_Demand = pyo.Constraint(m.REGIONAL_KY, rule=regional_demand_rule,
                                           doc=regional_demand_rule.__doc__)

    # -- (L5b) forced builds ---------------------------------------------------------
    if lx.forced_k:
        m.FORCED_K = pyo.Set(initialize=lx.forced_k, ordered=True)
        forced = lv.forced_builds

        def forced_build_rule(m: Any, i: int) -> Any:
            """(L5b) build[s_i, y_i] ≥ build_mw_i   (= build_mw_i when exact)."""
            f = forced[i]
            if f.exact:
                return m.Build[f.site, f.year] == f.build_mw
            return m.Build[f.site, f.year] >= f.build_mw

        m.Forced_Build = pyo.Constraint(m.FORCED_K, rule=forced_build_rule,
                                        doc=forced_build_rule.__doc__)
    return objective


# --------------------------------------------------------------------------
# Plain words for constraints (infeasibility reports)
# --------------------------------------------------------------------------
#: Constraints a user sets (directly or through a table); the others are the model's
#: structure. An infeasibility report names these first.
USER_CONSTRAINTS = (
    "Forced_Build", "Capital_Budget", "Capital_Budget_Region", "Capital_Budget_Operator",
    "Carbon_Cap", "Water_Site", "Water_Region", "Regional_Demand", "Facility_Limit",
    "Grid_Headroom", "Build_Blocks", "Grid_Blocks",
)


def _usd(v: float) -> str:
    return f"{v / 1e9:,.3g} billion USD" if abs(v) >= 1e8 else f"{v:,.0f} USD"


def describe_row(d: CapacityInputs, name: str, index: Any) -> tuple[str, bool]:
    """A constraint row in plain words, and whether the user set it.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> lv = Levers(forced_builds=[ForcedBuild("a", 2027, 300.0)])
    >>> d = SimpleNamespace(levers=lv)
    >>> describe_row(d, "Forced_Build", 0)
    ('forced build 1 (site a in 2027: at least 300 MW)', True)
    """
    lv = d.levers or Levers()
    idx = index if isinstance(index, tuple) else (index,)
    user = name in USER_CONSTRAINTS
    if name == "Forced_Build":
        f = lv.forced_builds[idx[0]]
        how = "exactly" if f.exact else "at least"
        return (f"forced build {idx[0] + 1} (site {f.site} in {f.year}: {how} "
                f"{f.build_mw:,g} MW)"), user
    if name == "Facility_Limit":
        s, _ = idx
        return f"ceiling of site {s} (max_mw {float(d.sites.at[s, 'max_mw']):,g} MW)", user
    if name == "Capital_Budget":
        return f"capital budget for {idx[0]} ({_usd(lv.budget_total_usd[idx[0]])})", user
    if name == "Capital_Budget_Region":
        r, y = idx
        return f"capital budget of region {r} for {y} ({_usd(lv.budget_region_usd[r, y])})", user
    if name == "Capital_Budget_Operator":
        o, y = idx
        return (f"capital budget of operator {o} for {y} "
                f"({_usd(lv.budget_operator_usd[o, y])})"), user
    if name == "Carbon_Cap":
        return f"carbon cap for {idx[0]} ({lv.carbon_cap_t[idx[0]]:,.0f} t CO2)", user
    if name == "Water_Site":
        s, y = idx
        return f"water limit of site {s} ({lv.water_limit_site_m3[s]:,.0f} m3/year) in {y}", user
    if name == "Water_Region":
        r, y = idx
        return (f"water limit of region {r} ({lv.water_limit_region_m3[r]:,.0f} m3/year) "
                f"in {y}"), user
    if name == "Regional_Demand":
        k, y = idx
        req = next(q for q in lv.regional_demand if q.name == k)
        return (f"regional demand '{k}' in {y} ({req.share:.0%} of demand served in "
                f"{', '.join(req.regions)})"), user
    if name == "Grid_Headroom":
        r, y = idx
        lim = float(d.regions.at[r, "new_load_limit_mw_per_year"])
        return f"new-load limit of region {r} ({lim:g} MW/year) in {y}", user
    if name == "Build_Blocks":
        s, y = idx
        return f"facility builds at {s} in whole blocks of {lv.build_block_mw[s]:g} MW", user
    if name == "Grid_Blocks":
        s, y = idx
        return f"grid connections at {s} in whole blocks of {lv.grid_block_mw[s]:g} MW", user
    plain = {
        "Fleet_Installed": "chips in service at {0} ({1}, {2}) within what is installed"
        + ("" if getattr(d, "allow_idle", True) else " (allow_idle_chips: false: all must run)"),
        "Facility_Load": "facility capacity at {0} in {1}",
        "Load_Split": "load at {0} in {1} served by grid or on site",
        "Grid_Capacity": "grid connection at {0} in {1}",
        "Onsite_Capacity": "on-site generation at {0} in {1}",
        "Compute_Demand": "compute demand in {0}",
        "Carbon_Accounting": "emissions accounting in {0}",
    }
    if name in plain:
        return plain[name].format(*idx), user
    return f"{name}[{', '.join(str(i) for i in idx)}]", user


def related_rows(m: pyo.ConcreteModel, rows: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Whole-block rows (L1) at the sites that ``rows`` (name, index) concern.

    A feasibility relaxation of a MILP names the rows it violates, not the
    integrality behind them; these rows complete the explanation.
    """
    lv = m.inputs.levers
    sites: set[str] = set()
    for name, index in rows:
        if name == "Forced_Build":
            sites.add(lv.forced_builds[index].site)
        elif isinstance(index, tuple) and index and index[0] in m.inputs.sites.index:
            sites.add(index[0])
    out = []
    for block in ("Build_Blocks", "Grid_Blocks"):
        comp = getattr(m, block, None)
        if comp is not None:
            out += [(block, index) for index in comp if index[0] in sites]
    return out


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


def capex_by_year(d: CapacityInputs, values: dict[str, dict[Any, float]],
                  years: list[int]) -> pd.DataFrame:
    """Overnight capex spent per site and year (USD): facility, grid, on-site, chips.

    Rows are sites, columns years (the quantity the budgets bound).
    """
    sites = list(d.sites.index)
    out = pd.DataFrame(0.0, index=sites, columns=years)
    region = d.sites["region"]
    for (s, y), v in values.get("Build", {}).items():
        out.at[s, y] += v * float(d.sites.at[s, "build_capex_usd_per_mw"])
    for (s, y), v in values.get("Grid", {}).items():
        out.at[s, y] += v * float(d.regions.at[region[s], "interconnect_capex_usd_per_mw"])
    for (s, y), v in values.get("Onsite", {}).items():
        out.at[s, y] += v * d.onsite_capex_usd_per_mw
    for (s, g, y), v in values.get("IT", {}).items():
        if v:
            out.at[s, y] += v * float(d.chips.at[g, "kappa_usd_per_mw"])
    return out


def emissions_t(d: CapacityInputs, gridload: np.ndarray, onsiteload: np.ndarray) -> np.ndarray:
    """t CO2 per site and year from grid and on-site load (MW, sites × years)."""
    from models.capacity import HOURS_PER_YEAR

    lv = d.levers or Levers()
    uh = d.utilization * HOURS_PER_YEAR
    ci = d.regions.loc[d.sites["region"].to_numpy(), "carbon_t_per_mwh"].to_numpy(dtype=float)
    return uh * (ci[:, None] * gridload + lv.onsite_emission_t_per_mwh * onsiteload)
