r"""The capacity-expansion model (DESIGN.md, "The capacity model").

Index letters: ``s`` site, ``r`` region, ``g`` chip generation, ``y``/``t``
year (``t`` for a vintage τ). Sets are ``UPPER_CASE``, variables
``CamelCase``, constraints ``Capitalised_Words``; every sparse index set is
precomputed from the data, never filtered inside a rule.

Variables (all continuous, ≥ 0):

============  ==================  ==========================================
math          Pyomo               allowed when
============  ==================  ==========================================
build[s,y]    ``Build``           always
grid[s,y]     ``Grid``            y ≥ y0 + interconnect_lead_years(r(s))
onsite[s,y]   ``Onsite``          onsite_allowed(s) and y ≥ y0 + onsite lead
it[s,g,y]     ``IT``              first_year(g) ≤ y ≤ last_year(g)
U[s,g,y]      ``Fleet``           some vintage of g is within its life in y
gridload      ``GridLoad``        always
onsiteload    ``OnsiteLoad``      always
unserved      ``Unserved``        always (one block per year, or the
                                  blocks of an elastic demand curve)
============  ==================  ==========================================

The operating fleet U is a variable bounded by what is installed
(``Fleet_Installed``: U[s,g,y] ≤ Σ it[s,g,τ] over y − life_g < τ ≤ y): chips may
be idled or retired early and then draw no power. ``allow_idle=False`` makes it
an equality, DESIGN.md's original definition (every installed chip runs).

This module is the capacity model only: index sets (:func:`index_sets`),
parameters, variables, named expressions, constraints (0)–(6) and the cost
components (:func:`create_model`), and the objective as the sum of every
registered cost component (:func:`add_cost_component`, :func:`add_objective`).
It never imports a layer: :func:`models.model.build_model` assembles it with the
planner's levers (:mod:`models.levers`, one module each with ``add(model, data)``)
and later layers. Constraints are written on the named expressions' bodies
(``m.GridCapacityMW[s, y].expr``), so the reported capacities are exactly what the
constraints bound, with no named-expression overhead in Pyomo's compiler.

Internal scaling (so HiGHS sees well-conditioned numbers): the objective is in
millions of USD (:data:`USD_SCALE`) and compute in thousands of H100e
(:data:`COMPUTE_SCALE`); the planner converts results and duals back to USD
and H100e.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression, MonomialTermExpression

HOURS_PER_YEAR = 8760.0
USD_SCALE = 1e6  # objective unit: million USD
COMPUTE_SCALE = 1e3  # compute unit inside the LP: thousand H100e


@dataclass
class CapacityInputs:
    """Validated plain tables and parameters for one model instance.

    Attributes
    ----------
    years : model years y0 … yN (consecutive).
    regions : indexed by region; columns of ``grids.regions.REGIONS``.
    sites : indexed by site; columns of ``sites.sites.SITES`` (region filled).
    chips : indexed by chip; columns of ``models.chips.CHIPS`` plus
        ``pi_h100e_per_mw`` and ``kappa_usd_per_mw`` (see ``with_frontier``).
    demand_h100e : reference compute demand by year, H100e.
    demand_blocks : optional elastic demand curve (see
        ``models.demand.elastic_blocks``): columns ``year, block, size_h100e,
        value_usd_per_h100e_year``. ``None`` = inelastic: one block per year of
        size ``demand_h100e`` valued at ``value_of_unserved_usd_per_h100e_year``.
    energy_price_usd_per_mwh : site × year energy price (already resolved).
    capacity_price_usd_per_mw_year : region × year capacity price.
    levers : optional planner's levers (:class:`models.levers.Levers`); ``None``
        = none, the plain capacity model.
    facility_lead_years : years from y0 until a new hall can be complete at any site
        (the layer :mod:`models.levers.construction`; a site's own lead in the levers
        overrides it); 0 = no lead time. The hedge reads it as Build's commitment lead.
    new_load_limit_mw : optional region × year table of the most new grid MW energized
        in a year (firm headroom, NaN = none); constraint (5) takes the smaller of it
        and the region's ``new_load_limit_mw_per_year``.
    server_tax_rate : optional site → sales tax on chip capex (fraction, 0.0625 = 6.25 %);
        chip capex at s is κ_g·(1 + tax_s). ``None`` = no tax.
    value_of_unserved_by_year : optional year → USD per H100e-year of an unserved
        inelastic block (indexed to frontier compute); ``None`` = the flat
        ``value_of_unserved_usd_per_h100e_year``.
    """

    years: list[int]
    discount_rate: float
    utilization: float
    facility_life_years: int
    regions: pd.DataFrame
    sites: pd.DataFrame
    chips: pd.DataFrame
    demand_h100e: pd.Series
    energy_price_usd_per_mwh: pd.DataFrame
    capacity_price_usd_per_mw_year: pd.DataFrame
    onsite_lead_years: int
    onsite_capex_usd_per_mw: float
    onsite_life_years: int
    onsite_fuel_usd_per_mwh: float
    value_of_unserved_usd_per_h100e_year: float
    demand_blocks: pd.DataFrame | None = None
    allow_idle: bool = True
    levers: Any = None  # models.levers.Levers (data only; never imported here)
    facility_lead_years: int = 0
    new_load_limit_mw: pd.DataFrame | None = None  # region × year, MW/year (NaN = none)
    server_tax_rate: dict[str, float] | None = None  # site -> fraction of chip capex
    value_of_unserved_by_year: dict[int, float] | None = None  # year -> USD/(H100e·year)

    def load_limit_mw(self) -> pd.DataFrame:
        """Most new grid MW energized per region and year (NaN = none): the smaller of
        the region's ``new_load_limit_mw_per_year`` and ``new_load_limit_mw``.

        Examples
        --------
        >>> regions = pd.DataFrame({"new_load_limit_mw_per_year": [5.0, np.nan]},
        ...                        index=["A", "B"])
        >>> table = pd.DataFrame({2026: [9.0, 3.0], 2027: [2.0, np.nan]}, index=["A", "B"])
        >>> d = CapacityInputs.__new__(CapacityInputs)
        >>> d.regions, d.years, d.new_load_limit_mw = regions, [2026, 2027], table
        >>> d.load_limit_mw().values.tolist()
        [[5.0, 2.0], [3.0, nan]]
        """
        scalar = self.regions["new_load_limit_mw_per_year"].astype(float).to_numpy()
        out = pd.DataFrame(np.repeat(scalar[:, None], len(self.years), 1),
                           index=self.regions.index, columns=list(self.years))
        if self.new_load_limit_mw is not None:
            table = self.new_load_limit_mw.reindex(index=out.index, columns=out.columns)
            out = pd.DataFrame(np.fmin(out.to_numpy(), table.to_numpy(dtype=float)),
                               index=out.index, columns=out.columns)
        return out

    def blocks(self) -> pd.DataFrame:
        """The demand blocks per year (one block per year when inelastic)."""
        if self.demand_blocks is not None:
            return self.demand_blocks
        by_year = self.value_of_unserved_by_year or {}
        return pd.DataFrame({
            "year": list(self.years),
            "block": 0,
            "size_h100e": self.demand_h100e.loc[list(self.years)].to_numpy(dtype=float),
            "value_usd_per_h100e_year": [
                float(by_year.get(y, self.value_of_unserved_usd_per_h100e_year))
                for y in self.years],
        })


# --------------------------------------------------------------------------
# Discounting
# --------------------------------------------------------------------------
def discount_factors(years: list[int], rate: float) -> pd.Series:
    """δ_y = (1+ρ)^-(y−y0+1): every annual flow falls at the end of its year.

    Examples
    --------
    >>> discount_factors([2026, 2027], 0.1).round(4).tolist()
    [0.9091, 0.8264]
    """
    y0 = years[0]
    return pd.Series([(1.0 + rate) ** -(y - y0 + 1) for y in years], index=years)


def crf(rate: float, life_years: int) -> float:
    """Capital recovery factor ρ(1+ρ)^ℓ / ((1+ρ)^ℓ − 1); 1/ℓ when ρ = 0.

    Examples
    --------
    >>> round(crf(0.08, 20), 6)
    0.101852
    >>> crf(0.0, 4)
    0.25
    """
    if abs(rate) < 1e-9:  # also avoids 0/0 for denormal rates
        return 1.0 / life_years
    q = (1.0 + rate) ** life_years
    return rate * q / (q - 1.0)


def annuity_pv_factor(t: int, life_years: int, years: list[int], rate: float) -> float:
    """PV per USD of capex installed in year t: CRF(ℓ)·Σ_{y=t}^{min(t+ℓ−1, yN)} δ_y.

    Over a whole life inside the horizon this is exactly 1 USD discounted to
    the start of year t (δ_{t−1}); past the horizon end the later annuities
    are not counted.

    Examples
    --------
    >>> round(annuity_pv_factor(2026, 3, [2026, 2027, 2028], 0.08), 12)
    1.0
    >>> round(annuity_pv_factor(2028, 3, [2026, 2027, 2028], 0.0), 6)
    0.333333
    """
    delta = discount_factors(years, rate)
    last = min(t + life_years - 1, years[-1])
    return crf(rate, life_years) * float(delta.loc[t:last].sum())


# --------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------
def resolve_prices(
    regions: pd.DataFrame,
    sites: pd.DataFrame,
    years: list[int],
    prices: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Energy price per (site, year) and capacity price per (region, year).

    Energy: the site's override, else the prices table for (region, year),
    else ``energy_price · (1 + escalation)^(y − y0)``. Capacity: the prices
    table, else the region's capacity price (flat).

    Examples
    --------
    >>> regions = pd.DataFrame({"energy_price_usd_per_mwh": [50.0],
    ...     "price_escalation_per_year": [0.1], "capacity_price_usd_per_mw_year": [7.0]},
    ...     index=pd.Index(["R"], name="region"))
    >>> sites = pd.DataFrame({"region": ["R", "R"], "energy_price_usd_per_mwh": [np.nan, 20.0]},
    ...     index=pd.Index(["a", "b"], name="site"))
    >>> e, c = resolve_prices(regions, sites, [2026, 2027])
    >>> e.round(2).values.tolist(), c.values.tolist()
    ([[50.0, 55.0], [20.0, 20.0]], [[7.0, 7.0]])
    """
    y0 = years[0]
    esc = regions["price_escalation_per_year"].to_numpy()[:, None]
    steps = np.array([y - y0 for y in years])[None, :]
    regional_energy = pd.DataFrame(
        regions["energy_price_usd_per_mwh"].to_numpy()[:, None] * (1.0 + esc) ** steps,
        index=regions.index, columns=years,
    )
    capacity = pd.DataFrame(
        np.repeat(regions["capacity_price_usd_per_mw_year"].to_numpy()[:, None], len(years), 1),
        index=regions.index, columns=years,
    )
    if prices is not None and len(prices):
        p = prices[prices["year"].isin(years)]
        for r, y, e, c in zip(p["region"], p["year"], p["energy_price_usd_per_mwh"],
                              p["capacity_price_usd_per_mw_year"]):
            regional_energy.loc[r, int(y)] = e
            capacity.loc[r, int(y)] = c
    energy = regional_energy.loc[sites["region"].to_numpy()].set_axis(sites.index, axis=0)
    override = sites["energy_price_usd_per_mwh"].to_numpy()
    has = ~np.isnan(override.astype(float))
    if has.any():
        energy.loc[has, :] = np.repeat(override[has, None].astype(float), len(years), 1)
    energy.index.name, capacity.index.name = "site", "region"
    energy.columns.name = capacity.columns.name = "year"
    return energy, capacity


# --------------------------------------------------------------------------
# Index sets
# --------------------------------------------------------------------------
@dataclass
class IndexSets:
    """Sparse index sets and lookups precomputed from the data."""

    years: list[int]
    sites: list[str]
    regions: list[str]
    chips: list[str]
    grid_sy: list[tuple[str, int]]
    onsite_sy: list[tuple[str, int]]
    it_sgy: list[tuple[str, str, int]]
    chip_years: dict[str, list[int]]  # years chip g can be bought
    operating: dict[int, list[tuple[str, int]]]  # y -> (g, t) vintages operating in y
    fleet_sgy: list[tuple[str, str, int]]  # (s, g, y) with some vintage of g in service
    chips_in: dict[int, list[str]]  # y -> chips with a vintage within its life
    vintages: dict[tuple[str, int], list[int]]  # (g, y) -> vintages t within life in y
    grid_years: dict[str, list[int]]  # s -> years with a Grid variable
    onsite_years: dict[str, list[int]]
    headroom_ry: list[tuple[str, int]]
    grid_sites_in: dict[tuple[str, int], list[str]]  # (r, y) -> sites with Grid[s, y]
    unserved_yb: list[tuple[int, int]]  # (y, block) of the demand curve
    blocks_of: dict[int, list[int]]  # y -> blocks
    # IT MW already installed (s, g, y) (lever "fleet") and chips in service at (s, y)
    # only through that fleet (not in chips_in[y])
    existing_fleet: dict[tuple[str, str, int], float] = field(default_factory=dict)
    fleet_extra: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def chips_at(self, s: str, y: int) -> list[str]:
        """Chips with IT MW in service (a U variable) at s in y."""
        extra = self.fleet_extra.get((s, y))
        return self.chips_in[y] + extra if extra else self.chips_in[y]


def index_sets(
    d: CapacityInputs,
    existing_fleet: dict[tuple[str, str, int], float] | None = None,
    grid_closed_from: dict[str, int] | None = None,
    generic_onsite: bool = True,
) -> IndexSets:
    """The sparse index sets of ``d``.

    Parameters
    ----------
    d : the model's inputs.
    existing_fleet : F[s,g,y], IT MW already installed and still in its life (the
        lever "fleet", :func:`models.levers.fleet.existing_fleet_mw`): adds U[s,g,y]
        where those chips are in service.
    grid_closed_from : region → first year without new grid connections (the lever
        "moratoria"): Grid[s,y] is left out for the region's sites from that year.
    generic_onsite : False when on-site power is built per technology (the layer
        :mod:`models.levers.onsite_tech`): no generic Onsite[s,y] variable at all.
    """
    years = list(d.years)
    y0, yn = years[0], years[-1]
    sites = list(d.sites.index)
    regions = list(d.regions.index)
    chips = list(d.chips.index)
    site_region = d.sites["region"].to_numpy()
    closed = grid_closed_from or {}
    existing = existing_fleet or {}

    lead = d.regions["interconnect_lead_years"].astype(int)
    first = y0 + lead.reindex(site_region).to_numpy()
    stop = np.array([closed.get(r, yn + 1) for r in site_region])
    grid_years = {s: [y for y in years if f <= y < e] for s, f, e in zip(sites, first, stop)}
    onsite_open = [y for y in years if y >= y0 + d.onsite_lead_years]
    allowed = d.sites["onsite_allowed"].astype(bool).to_numpy()
    onsite_years = {s: (onsite_open if ok and generic_onsite else [])
                    for s, ok in zip(sites, allowed)}
    chip_years = {
        g: [y for y in years if int(f) <= y <= int(last)]
        for g, f, last in zip(chips, d.chips["first_year"], d.chips["last_year"])
    }
    chip_years = {g: ys for g, ys in chip_years.items() if ys}
    in_fleet = {g for _, g, _ in existing}
    chips = [g for g in chips if g in chip_years or g in in_fleet]
    life = d.chips["life_years"].astype(int).to_dict()
    operating: dict[int, list[tuple[str, int]]] = {y: [] for y in years}
    for g in chips:
        for t in chip_years.get(g, []):
            for y in range(t, min(t + life[g] - 1, yn) + 1):
                operating[y].append((g, t))

    vintages: dict[tuple[str, int], list[int]] = {}
    for y, pairs in operating.items():
        for g, t in pairs:
            vintages.setdefault((g, y), []).append(t)
    chips_in = {y: [g for g in chips if (g, y) in vintages] for y in years}
    fleet_extra: dict[tuple[str, int], list[str]] = {}
    for s, g, y in existing:
        if g not in chips_in[y] and g not in fleet_extra.get((s, y), []):
            fleet_extra.setdefault((s, y), []).append(g)
    fleet_sgy = [(s, g, y) for s in sites for y in years
                 for g in chips_in[y] + fleet_extra.get((s, y), [])]

    limits = d.load_limit_mw()
    grid_sites_in: dict[tuple[str, int], list[str]] = {}
    for s, r in zip(sites, site_region):
        for y in grid_years[s]:
            grid_sites_in.setdefault((r, y), []).append(s)
    headroom_ry = [
        (r, y) for r in regions for y in years
        if not np.isnan(limits.at[r, y]) and (r, y) in grid_sites_in
    ]
    blocks = d.blocks()
    unserved_yb = [(int(y), int(b)) for y, b in zip(blocks["year"], blocks["block"])]
    blocks_of: dict[int, list[int]] = {y: [] for y in years}
    for y, b in unserved_yb:
        blocks_of[y].append(b)
    buy = [(g, t) for g in chips for t in chip_years.get(g, [])]
    return IndexSets(
        years=years, sites=sites, regions=regions, chips=chips,
        grid_sy=[(s, y) for s in sites for y in grid_years[s]],
        onsite_sy=[(s, y) for s in sites for y in onsite_years[s]],
        it_sgy=[(s, g, t) for s in sites for g, t in buy],
        chip_years=chip_years, operating=operating,
        fleet_sgy=fleet_sgy, chips_in=chips_in, vintages=vintages,
        grid_years=grid_years, onsite_years=onsite_years,
        headroom_ry=headroom_ry, grid_sites_in=grid_sites_in,
        unserved_yb=unserved_yb, blocks_of=blocks_of,
        existing_fleet=dict(existing), fleet_extra=fleet_extra,
    )


# --------------------------------------------------------------------------
# Cost components (Switch's Cost_Components_Per_Period)
# --------------------------------------------------------------------------
#: The capacity model's cost components, in reporting order: (name in results,
#: Pyomo ``Expression`` indexed by YEARS, present value in million USD).
CORE_COST_COMPONENTS = (
    ("facility", "Cost_Facility"), ("grid", "Cost_Grid"), ("onsite", "Cost_Onsite"),
    ("chips", "Cost_Chips"), ("energy", "Cost_Energy"), ("capacity", "Cost_Capacity"),
    ("fuel", "Cost_Fuel"), ("unserved", "Cost_Unserved"),
)


def add_cost_component(m: pyo.ConcreteModel, name: str, expression: str) -> None:
    """Register a cost component: ``m.<expression>[y]`` is its present value in year y
    (million USD). The objective ``Total_Cost`` is the sum of every registered
    component over the years (:func:`add_objective`); results report each by name.
    """
    m.cost_components[name] = expression


def _linear(coefs: list[float], variables: list, constant: float = 0.0) -> Any:
    """Σ coefs·variables + constant as one flat Pyomo ``LinearExpression`` (a variable
    with coefficient 1 enters as itself: no monomial object to build or walk)."""
    args: list = [constant] if constant else []
    args += [v if c == 1.0 else MonomialTermExpression((c, v)) for c, v in zip(coefs, variables)]
    return LinearExpression(args)


# --------------------------------------------------------------------------
# The Pyomo model
# --------------------------------------------------------------------------
def create_model(d: CapacityInputs, ix: IndexSets) -> pyo.ConcreteModel:
    """The capacity model's sets, parameters, variables, named expressions,
    constraints and cost components (no objective yet: :func:`add_objective`).

    ``m.inputs`` is the :class:`CapacityInputs`, ``m.ix`` the :class:`IndexSets`,
    ``m.cost_components`` the registry of cost components
    (:func:`add_cost_component`), ``m.report_expressions`` the named expressions
    results are read from.
    """
    m = pyo.ConcreteModel(name="dcplan capacity")
    m.inputs, m.ix = d, ix
    m.cost_components = {}
    m.report_expressions = []
    add_sets_and_params(m, d, ix)
    add_variables(m, d, ix)
    add_expressions(m, ix)
    add_constraints(m, d, ix)
    add_costs(m, d, ix)
    return m


def add_sets_and_params(m: pyo.ConcreteModel, d: CapacityInputs, ix: IndexSets) -> None:
    """Index sets (``UPPER_CASE``) and parameters (``snake_case`` with units)."""
    m.YEARS = pyo.Set(initialize=ix.years, ordered=True)
    m.SITES = pyo.Set(initialize=ix.sites, ordered=True)
    m.REGIONS = pyo.Set(initialize=ix.regions, ordered=True)
    m.CHIPS = pyo.Set(initialize=ix.chips, ordered=True)
    m.GRID_SY = pyo.Set(dimen=2, initialize=ix.grid_sy, ordered=True)
    m.ONSITE_SY = pyo.Set(dimen=2, initialize=ix.onsite_sy, ordered=True)
    m.IT_SGY = pyo.Set(dimen=3, initialize=ix.it_sgy, ordered=True)
    m.FLEET_SGY = pyo.Set(dimen=3, initialize=ix.fleet_sgy, ordered=True)
    m.HEADROOM_RY = pyo.Set(dimen=2, initialize=ix.headroom_ry, ordered=True)
    m.UNSERVED_YB = pyo.Set(dimen=2, initialize=ix.unserved_yb, ordered=True)

    sites, regions, chips = d.sites, d.regions, d.chips.loc[ix.chips]
    region = sites["region"]
    fl = d.sites.index

    def by_site(col: str) -> dict:
        return dict(zip(fl, sites[col].astype(float).to_numpy()))

    def param(index: Any, values: dict, doc: str) -> pyo.Param:
        return pyo.Param(*index, initialize=values, within=pyo.Any, doc=doc)

    S = (m.SITES,)
    m.pue = param(S, by_site("pue"), "PUE_s, facility load / IT load")
    m.existing_mw = param(S, by_site("existing_mw"), "facility and grid MW already in place")
    m.max_mw = param(S, by_site("max_mw"), "site ceiling, MW")
    m.queued_mw = param(S, by_site("queued_mw"), "queued grid connection, MW")
    m.queue_year = param(S, dict(zip(fl, sites["queue_year"].to_numpy())),
                         "year the queued connection arrives (NaN = none)")
    m.build_capex_usd_per_mw = param(S, by_site("build_capex_usd_per_mw"),
                                     "facility capex, USD per MW")
    m.grid_capex_usd_per_mw = param(S, dict(zip(fl, regions.loc[region.to_numpy(),
                                    "interconnect_capex_usd_per_mw"].astype(float).to_numpy())),
                                    "grid-connection capex of the site's region, USD per MW")
    m.pi_kh100e_per_mw = param((m.CHIPS,), dict(zip(ix.chips, (
        chips["pi_h100e_per_mw"].astype(float) / COMPUTE_SCALE).to_numpy())),
        "π_g, thousand H100e per IT-MW")
    m.kappa_usd_per_mw = param((m.CHIPS,), dict(zip(ix.chips, chips[
        "kappa_usd_per_mw"].astype(float).to_numpy())), "κ_g, chip capex, USD per IT-MW")
    m.life_years = param((m.CHIPS,), dict(zip(ix.chips, chips["life_years"].astype(int)
                                              .tolist())), "chip life, years")
    m.new_load_limit_mw = param((m.HEADROOM_RY,), {
        (r, y): float(d.load_limit_mw().at[r, y]) for r, y in ix.headroom_ry},
        "most new grid MW energized in region r in year y")
    m.discount_factor = param((m.YEARS,), discount_factors(ix.years, d.discount_rate)
                              .to_dict(), "δ_y = (1+ρ)^-(y−y0+1)")
    energy = d.energy_price_usd_per_mwh.loc[ix.sites, ix.years].to_numpy(dtype=float)
    capacity = d.capacity_price_usd_per_mw_year.loc[region.loc[ix.sites].to_numpy(),
                                                    ix.years].to_numpy(dtype=float)
    sy = [(s, y) for s in ix.sites for y in ix.years]
    m.energy_price_usd_per_mwh = param((*S, m.YEARS), dict(zip(sy, energy.ravel().tolist())),
                                       "energy price at s in y, USD per MWh")
    m.capacity_price_usd_per_mw_year = param((*S, m.YEARS), dict(zip(
        sy, capacity.ravel().tolist())), "capacity price of the site's region, USD per MW-year")
    blocks = d.blocks()
    yb = [(int(y), int(b)) for y, b in zip(blocks["year"], blocks["block"])]
    m.block_kh100e = param((m.UNSERVED_YB,), dict(zip(yb, (blocks["size_h100e"].astype(float)
                           / COMPUTE_SCALE).tolist())), "demand block size, thousand H100e")
    m.block_value_usd_per_h100e_year = param((m.UNSERVED_YB,), dict(zip(yb, blocks[
        "value_usd_per_h100e_year"].astype(float).tolist())), "value of a block's compute")


def add_variables(m: pyo.ConcreteModel, d: CapacityInputs, ix: IndexSets) -> None:
    """The variables (``CamelCase``), all continuous and ≥ 0."""
    nn = pyo.NonNegativeReals
    m.Build = pyo.Var(m.SITES, m.YEARS, domain=nn, doc="facility MW completed at s in y")
    m.Grid = pyo.Var(m.GRID_SY, domain=nn, doc="new grid connection MW energized at s in y")
    m.Onsite = pyo.Var(m.ONSITE_SY, domain=nn, doc="on-site generation MW completed at s in y")
    m.IT = pyo.Var(m.IT_SGY, domain=nn, doc="IT MW of chip g installed at s in y")
    m.Fleet = pyo.Var(m.FLEET_SGY, domain=nn, doc="IT MW of chip g in service at s in y")
    m.GridLoad = pyo.Var(m.SITES, m.YEARS, domain=nn, doc="facility load served by grid, MW")
    m.OnsiteLoad = pyo.Var(m.SITES, m.YEARS, domain=nn, doc="facility load served on site, MW")
    elastic = d.demand_blocks is not None
    size = m.block_kh100e
    m.Unserved = pyo.Var(m.UNSERVED_YB, domain=nn,
                         bounds=lambda m, y, b: (0.0, size[y, b] if elastic else None),
                         doc="compute demand not served per demand block, thousand H100e")


def add_expressions(m: pyo.ConcreteModel, ix: IndexSets) -> None:
    """Named expressions: the quantities the constraints bound and results report."""
    years = ix.years
    existing, queued, qyear = m.existing_mw, m.queued_mw, m.queue_year
    Build, Grid, Onsite, IT, Fleet = m.Build, m.Grid, m.Onsite, m.IT, m.Fleet
    onsite_life = m.inputs.onsite_life_years
    fleet_f = ix.existing_fleet
    no_vintage: list[int] = []

    def installed(m: Any, s: str, g: str, y: int) -> Any:
        """Σ it[s,g,τ] over y − life_g < τ ≤ y, + F[s,g,y] (existing fleet), IT MW."""
        ts = ix.vintages.get((g, y), no_vintage)
        return _linear([1.0] * len(ts), [IT[s, g, t] for t in ts], fleet_f.get((s, g, y), 0.0))

    def fleet_mw(m: Any, s: str, y: int) -> Any:
        """Σ_g U[s,g,y]: IT MW in service at s in y."""
        gs = ix.chips_at(s, y)
        return _linear([1.0] * len(gs), [Fleet[s, g, y] for g in gs])

    def facility_mw(m: Any, s: str, y: int) -> Any:
        """existing_mw_s + Σ_{τ≤y} build[s,τ], MW."""
        ts = [t for t in years if t <= y]
        return _linear([1.0] * len(ts), [Build[s, t] for t in ts], existing[s])

    def grid_capacity_mw(m: Any, s: str, y: int) -> Any:
        """existing_mw_s + queued_mw_s·[y ≥ queue_year_s] + Σ_{τ≤y} grid[s,τ], MW."""
        ts = [t for t in ix.grid_years[s] if t <= y]
        q = queued[s] if queued[s] > 0 and y >= qyear[s] else 0.0
        return _linear([1.0] * len(ts), [Grid[s, t] for t in ts], existing[s] + q)

    def onsite_capacity_mw(m: Any, s: str, y: int) -> Any:
        """Σ onsite[s,τ] over y − onsite.life_years < τ ≤ y, MW."""
        ts = [t for t in ix.onsite_years[s] if y - onsite_life < t <= y]
        return _linear([1.0] * len(ts), [Onsite[s, t] for t in ts])

    pi = m.pi_kh100e_per_mw

    def site_served(m: Any, s: str, y: int) -> Any:
        """Σ_g π_g·U[s,g,y]: compute served at s in y, thousand H100e."""
        gs = ix.chips_at(s, y)
        return _linear([pi[g] for g in gs], [Fleet[s, g, y] for g in gs])

    def served(m: Any, y: int) -> Any:
        """Σ_{s,g} π_g·U[s,g,y], thousand H100e."""
        return sum(m.Site_Served[s, y] for s in ix.sites)

    m.Installed = pyo.Expression(m.FLEET_SGY, rule=installed, doc=installed.__doc__)
    m.FleetMW = pyo.Expression(m.SITES, m.YEARS, rule=fleet_mw, doc=fleet_mw.__doc__)
    m.FacilityMW = pyo.Expression(m.SITES, m.YEARS, rule=facility_mw, doc=facility_mw.__doc__)
    m.GridCapacityMW = pyo.Expression(m.SITES, m.YEARS, rule=grid_capacity_mw,
                                      doc=grid_capacity_mw.__doc__)
    m.OnsiteCapacityMW = pyo.Expression(m.SITES, m.YEARS, rule=onsite_capacity_mw,
                                        doc=onsite_capacity_mw.__doc__)
    m.Site_Served = pyo.Expression(m.SITES, m.YEARS, rule=site_served, doc=site_served.__doc__)
    m.Served = pyo.Expression(m.YEARS, rule=served, doc=served.__doc__)
    m.report_expressions += ["Installed", "FacilityMW", "GridCapacityMW", "OnsiteCapacityMW",
                             "Site_Served"]


def add_constraints(m: pyo.ConcreteModel, d: CapacityInputs, ix: IndexSets) -> None:
    """Constraints (0)–(6) of the capacity model (``Capitalised_Words``)."""
    pue, max_mw, limit = m.pue, m.max_mw, m.new_load_limit_mw
    allow_idle = d.allow_idle

    def fleet_installed_rule(m: Any, s: str, g: str, y: int) -> Any:
        """(0) U[s,g,y] ≤ Σ it[s,g,τ] over y − life_g < τ ≤ y  + F[s,g,y]
        (= with allow_idle off; F = the existing fleet still in its life, lever "fleet")."""
        if allow_idle:
            return m.Fleet[s, g, y] <= m.Installed[s, g, y].expr
        return m.Fleet[s, g, y] == m.Installed[s, g, y].expr

    def facility_load_rule(m: Any, s: str, y: int) -> Any:
        """(1a) PUE_s · Σ_g U[s,g,y] ≤ existing_mw_s + Σ_{τ≤y} build[s,τ]."""
        return pue[s] * m.FleetMW[s, y].expr <= m.FacilityMW[s, y].expr

    def facility_limit_rule(m: Any, s: str, y: int) -> Any:
        """(1b) existing_mw_s + Σ_{τ≤y} build[s,τ] ≤ max_mw_s."""
        return m.FacilityMW[s, y].expr <= max_mw[s]

    def split_rule(m: Any, s: str, y: int) -> Any:
        """(2) gridload[s,y] + onsiteload[s,y] = PUE_s · Σ_g U[s,g,y]."""
        return m.GridLoad[s, y] + m.OnsiteLoad[s, y] - pue[s] * m.FleetMW[s, y].expr == 0

    def grid_rule(m: Any, s: str, y: int) -> Any:
        """(3) gridload[s,y] ≤ existing_mw_s + queued_mw_s·[y ≥ queue_year_s]
        + Σ_{τ≤y} grid[s,τ]."""
        return m.GridLoad[s, y] <= m.GridCapacityMW[s, y].expr

    def onsite_rule(m: Any, s: str, y: int) -> Any:
        """(4) onsiteload[s,y] ≤ Σ onsite[s,τ] over y − onsite.life_years < τ ≤ y."""
        return m.OnsiteLoad[s, y] <= m.OnsiteCapacityMW[s, y].expr

    def headroom_rule(m: Any, r: str, y: int) -> Any:
        """(5) Σ_{s∈r} grid[s,y] ≤ limit[r,y] = min(new_load_limit_mw_per_year(r),
        firm headroom[r,y])."""
        ss = ix.grid_sites_in[r, y]
        return _linear([1.0] * len(ss), [m.Grid[s, y] for s in ss]) <= limit[r, y]

    def compute_rule(m: Any, y: int) -> Any:
        """(6) Σ_{s,g} π_g · U[s,g,y] + Σ_b unserved[y,b] ≥ Σ_b demand[y,b]  (thousand H100e).

        Inelastic demand has one block, demand[y]; elastic demand has the
        blocks of its demand curve, each unserved block priced at its
        willingness to pay."""
        bs = ix.blocks_of[y]
        demand = sum(m.block_kh100e[y, b] for b in bs)
        return m.Served[y] + _linear([1.0] * len(bs), [m.Unserved[y, b] for b in bs]) >= demand

    m.Fleet_Installed = pyo.Constraint(m.FLEET_SGY, rule=fleet_installed_rule,
                                       doc=fleet_installed_rule.__doc__)
    m.Facility_Load = pyo.Constraint(m.SITES, m.YEARS, rule=facility_load_rule,
                                     doc=facility_load_rule.__doc__)
    m.Facility_Limit = pyo.Constraint(m.SITES, m.YEARS, rule=facility_limit_rule,
                                      doc=facility_limit_rule.__doc__)
    m.Load_Split = pyo.Constraint(m.SITES, m.YEARS, rule=split_rule, doc=split_rule.__doc__)
    m.Grid_Capacity = pyo.Constraint(m.SITES, m.YEARS, rule=grid_rule, doc=grid_rule.__doc__)
    m.Onsite_Capacity = pyo.Constraint(m.SITES, m.YEARS, rule=onsite_rule,
                                       doc=onsite_rule.__doc__)
    m.Grid_Headroom = pyo.Constraint(m.HEADROOM_RY, rule=headroom_rule,
                                     doc=headroom_rule.__doc__)
    m.Compute_Demand = pyo.Constraint(m.YEARS, rule=compute_rule, doc=compute_rule.__doc__)


def add_costs(m: pyo.ConcreteModel, d: CapacityInputs, ix: IndexSets) -> None:
    """Overnight capex spent per year and the present value of each cost component
    per year (million USD), registered with :func:`add_cost_component`.

    Capex K with life ℓ installed in τ costs K·CRF(ℓ)·δ_y in each year y of
    τ ≤ y ≤ min(τ+ℓ−1, yN); flows cost δ_y times their yearly amount.
    """
    years, rate = ix.years, d.discount_rate
    k = 1.0 / USD_SCALE
    delta = m.discount_factor
    bcap, gcap, kappa = m.build_capex_usd_per_mw, m.grid_capex_usd_per_mw, m.kappa_usd_per_mw
    grid_in: dict[int, list[str]] = {y: [] for y in years}
    for s, y in ix.grid_sy:
        grid_in[y].append(s)
    onsite_in: dict[int, list[str]] = {y: [] for y in years}
    for s, y in ix.onsite_sy:
        onsite_in[y].append(s)
    it_in: dict[tuple[str, int], list[str]] = {}
    for s, g, t in ix.it_sgy:
        it_in.setdefault((g, t), []).append(s)
    buy = list(it_in)

    def facility_spend(m: Any, y: int) -> Any:
        """Σ_s c^build_s·build[s,y]: facility capex spent in y, million USD."""
        return _linear([k * bcap[s] for s in ix.sites], [m.Build[s, y] for s in ix.sites])

    def grid_spend(m: Any, y: int) -> Any:
        """Σ_s c^grid_r(s)·grid[s,y]: grid-connection capex spent in y, million USD."""
        ss = grid_in[y]
        return _linear([k * gcap[s] for s in ss], [m.Grid[s, y] for s in ss])

    def onsite_spend(m: Any, y: int) -> Any:
        """Σ_s c^onsite·onsite[s,y]: on-site generation capex spent in y, million USD."""
        ss = onsite_in[y]
        return _linear([k * d.onsite_capex_usd_per_mw] * len(ss), [m.Onsite[s, y] for s in ss])

    tax = d.server_tax_rate or {}

    def chip_spend(m: Any, g: str, t: int) -> Any:
        """Σ_s κ_g·(1 + tax_s)·it[s,g,t]: capex on chip g spent in t with the site's sales
        tax on servers (0 without the layer), million USD."""
        ss = it_in[g, t]
        return _linear([k * kappa[g] * (1.0 + tax.get(s, 0.0)) for s in ss],
                       [m.IT[s, g, t] for s in ss])

    m.BUY_GT = pyo.Set(dimen=2, initialize=buy, ordered=True)
    m.Facility_Spend = pyo.Expression(m.YEARS, rule=facility_spend, doc=facility_spend.__doc__)
    m.Grid_Spend = pyo.Expression(m.YEARS, rule=grid_spend, doc=grid_spend.__doc__)
    m.Onsite_Spend = pyo.Expression(m.YEARS, rule=onsite_spend, doc=onsite_spend.__doc__)
    m.Chip_Spend = pyo.Expression(m.BUY_GT, rule=chip_spend, doc=chip_spend.__doc__)

    def annuities(spend: Any, life: int, y: int, keys: list) -> Any:
        """Σ over the vintages τ of ``keys`` whose life covers y: CRF(ℓ)·δ_y·spend[τ]."""
        a = crf(rate, life) * delta[y]
        terms = [spend[key] for key in keys
                 if (key[-1] if isinstance(key, tuple) else key) <= y
                 < (key[-1] if isinstance(key, tuple) else key) + life]
        return a * sum(terms) if terms else 0.0

    fac_life, on_life = d.facility_life_years, d.onsite_life_years
    life = m.life_years
    uh = d.utilization * HOURS_PER_YEAR
    price, cap = m.energy_price_usd_per_mwh, m.capacity_price_usd_per_mw_year
    fuel = d.onsite_fuel_usd_per_mwh
    uk = COMPUTE_SCALE / USD_SCALE

    def cost_facility(m: Any, y: int) -> Any:
        """Σ_τ CRF(facility_life)·δ_y·facility capex spent in τ, over τ ≤ y < τ + life."""
        return annuities(m.Facility_Spend, fac_life, y, years)

    def cost_grid(m: Any, y: int) -> Any:
        """Σ_τ CRF(facility_life)·δ_y·grid capex spent in τ, over τ ≤ y < τ + life."""
        return annuities(m.Grid_Spend, fac_life, y, years)

    def cost_onsite(m: Any, y: int) -> Any:
        """Σ_τ CRF(onsite.life_years)·δ_y·on-site capex spent in τ, over its life."""
        return annuities(m.Onsite_Spend, on_life, y, years)

    def cost_chips(m: Any, y: int) -> Any:
        """Σ_{g,τ} CRF(life_g)·δ_y·capex on chip g spent in τ, over τ ≤ y < τ + life_g."""
        by_life: dict[int, list] = {}
        for g, t in buy:
            by_life.setdefault(int(life[g]), []).append((g, t))
        return sum(annuities(m.Chip_Spend, ell, y, keys) for ell, keys in by_life.items())

    def cost_energy(m: Any, y: int) -> Any:
        """δ_y·u·H·Σ_s price[s,y]·gridload[s,y]."""
        c = k * delta[y] * uh
        return _linear([c * price[s, y] for s in ix.sites], [m.GridLoad[s, y] for s in ix.sites])

    def cost_capacity(m: Any, y: int) -> Any:
        """δ_y·Σ_s capacity_price[r(s),y]·gridload[s,y]."""
        c = k * delta[y]
        return _linear([c * cap[s, y] for s in ix.sites], [m.GridLoad[s, y] for s in ix.sites])

    def cost_fuel(m: Any, y: int) -> Any:
        """δ_y·u·H·fuel·Σ_s onsiteload[s,y]."""
        c = k * delta[y] * uh * fuel
        return _linear([c] * len(ix.sites), [m.OnsiteLoad[s, y] for s in ix.sites])

    def cost_unserved(m: Any, y: int) -> Any:
        """δ_y·Σ_b value_b·unserved[y,b]."""
        bs = ix.blocks_of[y]
        return _linear([uk * delta[y] * m.block_value_usd_per_h100e_year[y, b] for b in bs],
                       [m.Unserved[y, b] for b in bs])

    rules = {"Cost_Facility": cost_facility, "Cost_Grid": cost_grid,
             "Cost_Onsite": cost_onsite, "Cost_Chips": cost_chips, "Cost_Energy": cost_energy,
             "Cost_Capacity": cost_capacity, "Cost_Fuel": cost_fuel,
             "Cost_Unserved": cost_unserved}
    for name, component in CORE_COST_COMPONENTS:
        rule = rules[component]
        m.add_component(component, pyo.Expression(m.YEARS, rule=rule, doc=rule.__doc__))
        add_cost_component(m, name, component)


def add_objective(m: pyo.ConcreteModel) -> None:
    """``Total_Cost``: the sum over the years of every registered cost component."""

    def objective_rule(m: Any) -> Any:
        """min PV = Σ_y Σ_c Cost_c[y] over the registered cost components  [million USD]."""
        return sum(getattr(m, comp)[y] for comp in m.cost_components.values() for y in m.YEARS)

    m.Total_Cost = pyo.Objective(rule=objective_rule, sense=pyo.minimize,
                                 doc=objective_rule.__doc__)
