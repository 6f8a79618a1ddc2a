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

The planner's levers (:mod:`models.levers`, docs/levers.md) are optional: with
``CapacityInputs.levers`` set, :func:`build_model` adds their components
(integer ``NBuild``/``NGrid`` make it a MILP), a moratorium removes Grid[s,y]
from ``GRID_SY`` and an existing fleet enters ``Fleet_Installed``'s right-hand
side; without levers the model is exactly the LP above.

Internal scaling (so HiGHS sees well-conditioned numbers): the objective is in
millions of USD (:data:`USD_SCALE`) and compute in thousands of H100e
(:data:`COMPUTE_SCALE`); the planner converts results and duals back to USD
and H100e.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

if TYPE_CHECKING:
    from models.levers import Levers

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
    levers: Levers | None = None

    def blocks(self) -> pd.DataFrame:
        """The demand blocks per year (one block per year when inelastic)."""
        if self.demand_blocks is not None:
            return self.demand_blocks
        return pd.DataFrame({
            "year": list(self.years),
            "block": 0,
            "size_h100e": self.demand_h100e.loc[list(self.years)].to_numpy(dtype=float),
            "value_usd_per_h100e_year": self.value_of_unserved_usd_per_h100e_year,
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


def annual_capex_share(t: int, life_years: int, years: list[int], rate: float) -> pd.Series:
    """PV per USD of capex installed in t that falls in each model year."""
    delta = discount_factors(years, rate)
    a = crf(rate, life_years)
    return pd.Series(
        [a * delta[y] if t <= y <= t + life_years - 1 else 0.0 for y in years], index=years
    )


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
    # lever "fleet": IT MW already installed (s, g, y) and chips in service at (s, y)
    # only through that fleet (not in chips_in[y])
    existing_fleet: dict[tuple[str, str, int], float] = field(default_factory=dict)
    fleet_extra: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def chips_at(self, s: str, y: int) -> list[str]:
        """Chips with IT MW in service (a U variable) at s in y."""
        extra = self.fleet_extra.get((s, y))
        return self.chips_in[y] + extra if extra else self.chips_in[y]


def index_sets(d: CapacityInputs) -> IndexSets:
    """The sparse index sets of ``d``.

    Two levers change them (``models.levers``): a moratorium drops Grid[s,y] for
    the region's sites from its first year, and an existing fleet adds U[s,g,y]
    where those chips are in service.
    """
    from models.levers import existing_fleet_mw, moratorium_from

    years = list(d.years)
    y0, yn = years[0], years[-1]
    sites = list(d.sites.index)
    regions = list(d.regions.index)
    chips = list(d.chips.index)
    site_region = d.sites["region"]

    moratoria = moratorium_from(d)
    grid_years: dict[str, list[int]] = {}
    for s in sites:
        first = y0 + int(d.regions.at[site_region[s], "interconnect_lead_years"])
        stop = moratoria.get(site_region[s], yn + 1)  # lever: no new connections from here
        grid_years[s] = [y for y in years if first <= y < stop]
    onsite_years = {
        s: ([y for y in years if y >= y0 + d.onsite_lead_years]
            if bool(d.sites.at[s, "onsite_allowed"]) else [])
        for s in sites
    }
    chip_years = {
        g: [y for y in years
            if int(d.chips.at[g, "first_year"]) <= y <= int(d.chips.at[g, "last_year"])]
        for g in chips
    }
    chip_years = {g: ys for g, ys in chip_years.items() if ys}
    existing = existing_fleet_mw(d, years)
    in_fleet = {g for _, g, _ in existing}
    chips = [g for g in chips if g in chip_years or g in in_fleet]
    operating: dict[int, list[tuple[str, int]]] = {y: [] for y in years}
    for g in chips:
        life = int(d.chips.at[g, "life_years"])
        for t in chip_years.get(g, []):
            for y in range(t, min(t + life - 1, yn) + 1):
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

    limits = d.regions["new_load_limit_mw_per_year"]
    grid_sites_in: dict[tuple[str, int], list[str]] = {}
    for s in sites:
        for y in grid_years[s]:
            grid_sites_in.setdefault((site_region[s], y), []).append(s)
    headroom_ry = [
        (r, y) for r in regions for y in years
        if not np.isnan(limits[r]) and (r, y) in grid_sites_in
    ]
    blocks = d.blocks()
    unserved_yb = [(int(y), int(b)) for y, b in zip(blocks["year"], blocks["block"])]
    blocks_of: dict[int, list[int]] = {y: [] for y in years}
    for y, b in unserved_yb:
        blocks_of[y].append(b)
    return IndexSets(
        years=years, sites=sites, regions=regions, chips=chips,
        grid_sy=[(s, y) for s in sites for y in grid_years[s]],
        onsite_sy=[(s, y) for s in sites for y in onsite_years[s]],
        it_sgy=[(s, g, t) for s in sites for g in chips for t in chip_years.get(g, [])],
        chip_years=chip_years, operating=operating,
        fleet_sgy=fleet_sgy, chips_in=chips_in, vintages=vintages,
        grid_years=grid_years, onsite_years=onsite_years,
        headroom_ry=headroom_ry, grid_sites_in=grid_sites_in,
        unserved_yb=unserved_yb, blocks_of=blocks_of,
        existing_fleet=existing, fleet_extra=fleet_extra,
    )


# --------------------------------------------------------------------------
# Objective coefficients
# --------------------------------------------------------------------------
@dataclass
class Coefficients:
    """Present-value cost per unit of each variable, in USD (not scaled)."""

    build: dict[tuple[str, int], float]
    grid: dict[tuple[str, int], float]
    onsite: dict[tuple[str, int], float]
    it: dict[tuple[str, str, int], float]
    gridload: dict[tuple[str, int], float]
    onsiteload: dict[tuple[str, int], float]
    unserved: dict[tuple[int, int], float]  # (y, block) -> USD per H100e


def coefficients(d: CapacityInputs, ix: IndexSets) -> Coefficients:
    years, rate = ix.years, d.discount_rate
    delta = discount_factors(years, rate)
    fac_life = d.facility_life_years
    ann_fac = {t: annuity_pv_factor(t, fac_life, years, rate) for t in years}
    ann_onsite = {t: annuity_pv_factor(t, d.onsite_life_years, years, rate) for t in years}
    ann_chip: dict[tuple[int, int], float] = {}
    uh = d.utilization * HOURS_PER_YEAR
    site_region = d.sites["region"]
    build_capex = d.sites["build_capex_usd_per_mw"]
    grid_capex = d.regions["interconnect_capex_usd_per_mw"]
    kappa = d.chips["kappa_usd_per_mw"]
    life = d.chips["life_years"]

    def chip_factor(g: str, t: int) -> float:
        key = (int(life[g]), t)
        if key not in ann_chip:
            ann_chip[key] = annuity_pv_factor(t, key[0], years, rate)
        return ann_chip[key]

    energy = d.energy_price_usd_per_mwh
    cap = d.capacity_price_usd_per_mw_year
    blocks = d.blocks()
    return Coefficients(
        build={(s, t): float(build_capex[s]) * ann_fac[t] for s in ix.sites for t in years},
        grid={(s, t): float(grid_capex[site_region[s]]) * ann_fac[t] for s, t in ix.grid_sy},
        onsite={(s, t): d.onsite_capex_usd_per_mw * ann_onsite[t] for s, t in ix.onsite_sy},
        it={(s, g, t): float(kappa[g]) * chip_factor(g, t) for s, g, t in ix.it_sgy},
        gridload={
            (s, y): float(delta[y]) * (uh * float(energy.at[s, y])
                                       + float(cap.at[site_region[s], y]))
            for s in ix.sites for y in years
        },
        onsiteload={
            (s, y): float(delta[y]) * uh * d.onsite_fuel_usd_per_mwh
            for s in ix.sites for y in years
        },
        unserved={
            (int(y), int(b)): float(delta[int(y)]) * float(v)
            for y, b, v in zip(blocks["year"], blocks["block"], blocks["value_usd_per_h100e_year"])
        },
    )


# --------------------------------------------------------------------------
# The Pyomo model
# --------------------------------------------------------------------------
def build_model(d: CapacityInputs) -> pyo.ConcreteModel:
    """Build the capacity-expansion LP as a Pyomo ``ConcreteModel``.

    The returned model carries ``m.inputs`` (the :class:`CapacityInputs`),
    ``m.ix`` (:class:`IndexSets`) and ``m.cost`` (:class:`Coefficients`).
    With levers set (``d.levers``) it also has their components
    (:func:`models.levers.add_levers`, a MILP with lumpy builds) and
    ``m.describe_row(name, index)``, a constraint in plain words.
    """
    from models.levers import add_levers, describe_row, related_rows

    ix = index_sets(d)
    cost = coefficients(d, ix)
    m = pyo.ConcreteModel(name="dcplan capacity")
    m.inputs, m.ix, m.cost = d, ix, cost

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

    nn = pyo.NonNegativeReals
    m.Build = pyo.Var(m.SITES, m.YEARS, domain=nn, doc="facility MW completed at s in y")
    m.Grid = pyo.Var(m.GRID_SY, domain=nn, doc="new grid connection MW energized at s in y")
    m.Onsite = pyo.Var(m.ONSITE_SY, domain=nn, doc="on-site generation MW completed at s in y")
    m.IT = pyo.Var(m.IT_SGY, domain=nn, doc="IT MW of chip g installed at s in y")
    m.Fleet = pyo.Var(m.FLEET_SGY, domain=nn, doc="IT MW of chip g in service at s in y")
    m.GridLoad = pyo.Var(m.SITES, m.YEARS, domain=nn, doc="facility load served by grid, MW")
    m.OnsiteLoad = pyo.Var(m.SITES, m.YEARS, domain=nn, doc="facility load served on site, MW")
    blocks = d.blocks()
    block_size_k = {
        (int(y), int(b)): float(q) / COMPUTE_SCALE
        for y, b, q in zip(blocks["year"], blocks["block"], blocks["size_h100e"])
    }
    elastic = d.demand_blocks is not None

    def unserved_bounds(m: Any, y: int, b: int) -> tuple[float, float | None]:
        return (0.0, block_size_k[y, b] if elastic else None)

    m.Unserved = pyo.Var(m.UNSERVED_YB, domain=nn, bounds=unserved_bounds,
                         doc="compute demand not served per demand block, thousand H100e")

    sites, regions = d.sites, d.regions
    pue = sites["pue"].astype(float).to_dict()
    existing = sites["existing_mw"].astype(float).to_dict()
    max_mw = sites["max_mw"].astype(float).to_dict()
    queued = sites["queued_mw"].astype(float).to_dict()
    queue_year = sites["queue_year"].to_dict()
    pi_k = (d.chips["pi_h100e_per_mw"] / COMPUTE_SCALE).to_dict()
    limit = regions["new_load_limit_mw_per_year"].to_dict()
    demand_k = {y: sum(block_size_k[y, b] for b in ix.blocks_of[y]) for y in ix.years}
    years_upto = {y: [t for t in ix.years if t <= y] for y in ix.years}
    onsite_life = d.onsite_life_years
    onsite_window = {
        (s, y): [t for t in ix.onsite_years[s] if y - onsite_life < t <= y]
        for s in ix.sites for y in ix.years
    }
    grid_upto = {(s, y): [t for t in ix.grid_years[s] if t <= y]
                 for s in ix.sites for y in ix.years}

    existing_fleet = ix.existing_fleet
    no_vintage: list[int] = []

    def fleet_mw(m: Any, s: str, y: int) -> Any:
        """Σ_g U[s,g,y]: IT MW in service at s in y."""
        return sum(m.Fleet[s, g, y] for g in ix.chips_at(s, y))

    def fleet_installed_rule(m: Any, s: str, g: str, y: int) -> Any:
        """(0) U[s,g,y] ≤ Σ it[s,g,τ] over y − life_g < τ ≤ y  + F[s,g,y]
        (= with allow_idle off; F = the existing fleet still in its life, lever "fleet")."""
        installed = sum(m.IT[s, g, t] for t in ix.vintages.get((g, y), no_vintage))
        rhs = existing_fleet.get((s, g, y), 0.0)
        if d.allow_idle:
            return m.Fleet[s, g, y] - installed <= rhs
        return m.Fleet[s, g, y] - installed == rhs

    def facility_load_rule(m: Any, s: str, y: int) -> Any:
        """(1a) PUE_s · Σ_g U[s,g,y] ≤ existing_mw_s + Σ_{τ≤y} build[s,τ]."""
        return pue[s] * fleet_mw(m, s, y) - sum(m.Build[s, t] for t in years_upto[y]) \
            <= existing[s]

    def facility_limit_rule(m: Any, s: str, y: int) -> Any:
        """(1b) existing_mw_s + Σ_{τ≤y} build[s,τ] ≤ max_mw_s."""
        return sum(m.Build[s, t] for t in years_upto[y]) <= max_mw[s] - existing[s]

    def split_rule(m: Any, s: str, y: int) -> Any:
        """(2) gridload[s,y] + onsiteload[s,y] = PUE_s · Σ_g U[s,g,y]."""
        return m.GridLoad[s, y] + m.OnsiteLoad[s, y] - pue[s] * fleet_mw(m, s, y) == 0

    def grid_rule(m: Any, s: str, y: int) -> Any:
        """(3) gridload[s,y] ≤ existing_mw_s + queued_mw_s·[y ≥ queue_year_s]
        + Σ_{τ≤y} grid[s,τ]."""
        rhs = existing[s]
        if queued[s] > 0 and y >= queue_year[s]:
            rhs += queued[s]
        return m.GridLoad[s, y] - sum(m.Grid[s, t] for t in grid_upto[s, y]) <= rhs

    def onsite_rule(m: Any, s: str, y: int) -> Any:
        """(4) onsiteload[s,y] ≤ Σ onsite[s,τ] over y − onsite.life_years < τ ≤ y."""
        return m.OnsiteLoad[s, y] - sum(m.Onsite[s, t] for t in onsite_window[s, y]) <= 0

    def headroom_rule(m: Any, r: str, y: int) -> Any:
        """(5) Σ_{s∈r} grid[s,y] ≤ new_load_limit_mw_per_year(r)."""
        return sum(m.Grid[s, y] for s in ix.grid_sites_in[r, y]) <= limit[r]

    def compute_rule(m: Any, y: int) -> Any:
        """(6) Σ_{s,g} π_g · U[s,g,y] + Σ_b unserved[y,b] ≥ Σ_b demand[y,b]  (thousand H100e).

        Inelastic demand has one block, demand[y]; elastic demand has the
        blocks of its demand curve, each unserved block priced at its
        willingness to pay."""
        served = sum(pi_k[g] * m.Fleet[s, g, y] for s in ix.sites for g in ix.chips_at(s, y))
        return served + sum(m.Unserved[y, b] for b in ix.blocks_of[y]) >= demand_k[y]

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

    lever_cost: Any = 0
    if d.levers is not None:
        lever_cost = add_levers(m, fleet_mw)
        m.describe_row = lambda name, index: describe_row(d, name, index)
        m.related_rows = lambda rows: related_rows(m, rows)

    k = 1.0 / USD_SCALE
    uk = COMPUTE_SCALE / USD_SCALE

    def objective_rule(m: Any) -> Any:
        """min PV = Σ annuitized capex (facility, grid, on-site, chips)
        + Σ_y δ_y (energy + capacity + fuel + unserved)
        + Σ_y δ_y · carbon_price[y] · emissions[y] (lever "carbon")   [million USD]."""
        return lever_cost + (
            sum(k * c * m.Build[i] for i, c in cost.build.items())
            + sum(k * c * m.Grid[i] for i, c in cost.grid.items())
            + sum(k * c * m.Onsite[i] for i, c in cost.onsite.items())
            + sum(k * c * m.IT[i] for i, c in cost.it.items())
            + sum(k * c * m.GridLoad[i] for i, c in cost.gridload.items())
            + sum(k * c * m.OnsiteLoad[i] for i, c in cost.onsiteload.items())
            + sum(uk * c * m.Unserved[i] for i, c in cost.unserved.items())
        )

    m.Total_Cost = pyo.Objective(rule=objective_rule, sense=pyo.minimize,
                                 doc=objective_rule.__doc__)
    return m
