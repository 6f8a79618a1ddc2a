r"""Layer "nonfirm" (scenario key ``nonfirm``): non-firm (curtailable) grid connections.

A non-firm MW is energized after a short lead (``nonfirm.lead_years``) and may be
drawn in every hour except the few a year when the region's grid is near its
seasonal threshold; in those hours the site covers the curtailed energy with
spare on-site generation, a battery (charged from the grid outside those hours)
or by pausing flexible compute. The regional figures come from the hourly record
(:mod:`planner.inputs.headroom`, docs/headroom.md) at the scenario's curtailment
rate: the cap H_r,y (MW), the curtailed share ρ_r of a non-firm MW's energy at the
cap, the curtailed hours h_r and the events n_r a year.

Math (s site, r = r(s), y year; H = 8,760 h; all variables ≥ 0)::

    nonfirm[s,y]      NonFirm        MW energized at s in y   (y ≥ y0 + nonfirm.lead_years)
    nfload[s,y]       NonFirmLoad    MW drawn above the firm capacity
    bp[s,y], be[s,y]  BatteryPower,  battery MW / MWh completed at s in y
                      BatteryEnergy  (y ≥ y0 + nonfirm.battery_lead_years)
    oc[s,y], bc[s,y], OnsiteCover,   MWh a year of curtailed energy covered by spare on-site
    sh[s,y]           BatteryCover,  generation, by battery discharge, by pausing compute
                      Shed

    NF[s,y] = Σ_{τ≤y} nonfirm[s,τ]                                     (NonFirmMW)
    BMW[s,y] = Σ_{y−ℓb<τ≤y} bp[s,τ],  BMWh[s,y] = Σ_{y−ℓb<τ≤y} be[s,τ]   (Battery_MW, _MWh)

    (3')  gridload[s,y] ≤ GridCapacityMW[s,y] + nfload[s,y]   (constraint (3) extended)
    (N1)  nfload[s,y] ≤ NF[s,y]                                           NonFirm_Draw
    (N2)  Σ_{s∈r} NF[s,y] ≤ H_r,y                                         NonFirm_Headroom
    (N3)  oc + bc + sh ≥ ρ_r·H·nfload[s,y]                                Curtailment_Cover
    (N4)  oc ≤ h_r·(OnsiteCapacityMW[s,y] − onsiteload[s,y])              Onsite_Cover
    (N5)  bc ≤ h_r·BMW[s,y],  bc ≤ n_r·BMWh[s,y]                Battery_Power, Battery_Energy
    (N6)  sh ≤ φ·h_r·PUE_s·Σ_g U[s,g,y]                                   Flexible_Shed
    (N7)  BMW + (OnsiteCapacityMW − onsiteload) + φ·PUE_s·Σ_g U ≥ nfload  Cover_Power
    (N8)  nfload[s,y] ≤ gridload[s,y]                                     NonFirm_Within_Load

Costs (million USD inside the LP): ``nonfirm`` = Σ_τ CRF(ℓn)·δ_y·c_nf·nonfirm[s,τ]
over the connection's life; ``battery`` = the same for c_bp·bp + c_be·be over ℓb;
``lost_compute`` = δ_y·v_lost·π̄_s,y·sh[s,y]/(PUE_s·H) with π̄_s,y the most H100e per
IT-MW of the chips in service at s in y (a conservative price: a shed MWh is
valued at the best chip's compute); ``onsite_cover`` = δ_y·fuel·oc;
``capacity_credit`` = −δ_y·capacity_price[r,y]·a_r·nfload[s,y]: the non-firm draw is
curtailed a share a_r of the hours that set capacity charges (the region's
coincident-peak rule, :func:`planner.inputs.headroom.peak_rule`: ERCOT 4CP, PJM 5CP,
else the year's peak hour), so it does not pay that share of the capacity price.

Decisions where the issue is silent (docs/headroom.md, README "Non-firm connections"):

- With ``hours:`` (:mod:`models.levers.hours`) N3–N7 are not added: the hourly layer
  covers the curtailment hour by hour on representative days and sets oc, bc and sh
  to its weighted hourly totals; ``Curtailed_MWh`` is then oc + bc + sh.
- The cover (N3) is linear and conservative: every non-firm MW drawn is curtailed
  ρ_r of its energy, the rate at the region's cap (the rate is non-decreasing in the
  region's non-firm MW, so it is exact when the cap binds and an over-estimate below
  it). (N7) asks the full non-firm draw be covered in a full-curtailment hour.
- A battery is charged outside the curtailed hours at no extra cost (the energy is
  small: ρ of the non-firm energy) and discharges at most once per event (N5).
- A non-firm MW may be replaced by firm: a firm connection (``Grid``) adds to
  GridCapacityMW and the plan then draws less non-firm (nfload falls, and with it
  the cover); the non-firm MW stay connected and their capex stays paid.
- Non-firm draw pays the region's energy price like firm draw, and its capacity price
  less the coincident-peak credit. (N8) keeps the draw labelled non-firm within the
  site's grid draw; a site with firm capacity may still run part of it as non-firm
  (curtailable) to earn the credit, paying its cover.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import (
    COMPUTE_SCALE,
    HOURS_PER_YEAR,
    USD_SCALE,
    CapacityInputs,
    add_cost_component,
    crf,
)

#: Cost components of the layer: (name in results, Pyomo Expression).
COST_COMPONENTS = (("nonfirm", "Cost_NonFirm"), ("battery", "Cost_Battery"),
                   ("lost_compute", "Cost_Lost_Compute"), ("onsite_cover", "Cost_Onsite_Cover"),
                   ("capacity_credit", "Cost_Capacity_Credit"))


def active(d: CapacityInputs) -> bool:
    """Whether the scenario allows non-firm connections."""
    return d.levers is not None and d.levers.nonfirm is not None


def nonfirm_sites(d: CapacityInputs) -> list[str]:
    """Sites in a region with some non-firm headroom in some year."""
    nf = d.levers.nonfirm
    open_regions = {r for (r, _), h in nf.headroom_mw.items() if h > 0}
    return [s for s, r in zip(d.sites.index, d.sites["region"]) if r in open_regions]


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add the non-firm sets, variables, expressions, constraints and cost components."""
    nf, ix = d.levers.nonfirm, m.ix
    years = ix.years
    sites = nonfirm_sites(d)
    region = d.sites["region"].to_dict()
    first = years[0] + nf.lead_years
    build_sy = [(s, y) for s in sites for y in years if y >= first]
    sy = [(s, y) for s in sites for y in years]
    onsite_sy = [(s, y) for s, y in sy if ix.onsite_years[s]]
    regions = sorted({region[s] for s in sites})
    cap_ry = [(r, y) for r in regions for y in years if y >= first]
    sites_in = {r: [s for s in sites if region[s] == r] for r in regions}
    H = HOURS_PER_YEAR
    rho = {s: nf.rate[region[s]] for s in sites}
    hours = {s: nf.curtailed_hours[region[s]] for s in sites}
    events = {s: nf.events_per_year[region[s]] for s in sites}
    phi = nf.flexible_share
    hourly = d.levers.hours is not None  # the hourly layer replaces N3–N7

    m.NONFIRM_SY = pyo.Set(dimen=2, initialize=build_sy, ordered=True)
    m.NONFIRM_SITE_YEARS = pyo.Set(dimen=2, initialize=sy, ordered=True)
    m.NONFIRM_ONSITE_SY = pyo.Set(dimen=2, initialize=onsite_sy, ordered=True)
    m.NONFIRM_RY = pyo.Set(dimen=2, initialize=cap_ry, ordered=True)
    nn = pyo.NonNegativeReals
    m.NonFirm = pyo.Var(m.NONFIRM_SY, domain=nn, doc="non-firm connection MW energized at s in y")
    m.NonFirmLoad = pyo.Var(m.NONFIRM_SITE_YEARS, domain=nn,
                            doc="facility MW drawn on non-firm connections (above firm)")
    battery_sy = [(s, y) for s, y in sy if y >= years[0] + nf.battery_lead_years]
    m.BATTERY_SY = pyo.Set(dimen=2, initialize=battery_sy, ordered=True)
    m.BatteryPower = pyo.Var(m.BATTERY_SY, domain=nn, doc="battery MW completed at s in y")
    m.BatteryEnergy = pyo.Var(m.BATTERY_SY, domain=nn, doc="battery MWh completed at s in y")
    m.BatteryCover = pyo.Var(m.NONFIRM_SITE_YEARS, domain=nn,
                             doc="curtailed MWh a year covered by battery discharge")
    m.Shed = pyo.Var(m.NONFIRM_SITE_YEARS, domain=nn,
                     doc="curtailed MWh a year covered by pausing flexible compute")
    m.OnsiteCover = pyo.Var(m.NONFIRM_ONSITE_SY, domain=nn,
                            doc="curtailed MWh a year covered by spare on-site generation")

    bl = nf.battery_life_years
    battery_first = years[0] + nf.battery_lead_years

    def nonfirm_mw(m: Any, s: str, y: int) -> Any:
        """NF[s,y] = Σ_{τ≤y} nonfirm[s,τ]: non-firm MW connected at s in y."""
        return sum((m.NonFirm[s, t] for t in years if first <= t <= y), 0.0)

    def battery_mw(m: Any, s: str, y: int) -> Any:
        """BMW[s,y] = Σ bp[s,τ] over y − ℓb < τ ≤ y: battery MW in service."""
        return sum((m.BatteryPower[s, t] for t in years
                    if y - bl < t <= y and t >= battery_first), 0.0)

    def battery_mwh(m: Any, s: str, y: int) -> Any:
        """BMWh[s,y] = Σ be[s,τ] over y − ℓb < τ ≤ y: battery MWh in service."""
        return sum((m.BatteryEnergy[s, t] for t in years
                    if y - bl < t <= y and t >= battery_first), 0.0)

    def curtailed_mwh(m: Any, s: str, y: int) -> Any:
        """ρ_r·H·nfload[s,y]: MWh a year the grid curtails at s (to be covered)."""
        return rho[s] * H * m.NonFirmLoad[s, y]

    def covered_mwh(m: Any, s: str, y: int) -> Any:
        """oc[s,y] + bc[s,y] + sh[s,y]: MWh a year of curtailment covered at s (with
        ``hours:``, the hourly layer's cover, :mod:`models.levers.hours`)."""
        oc = m.OnsiteCover[s, y] if ix.onsite_years[s] else 0.0
        return oc + m.BatteryCover[s, y] + m.Shed[s, y]

    def spare_onsite(s: str, y: int) -> Any:
        """On-site MW not serving load at s in y (0 without on-site generation)."""
        if not ix.onsite_years[s]:
            return 0.0
        return m.OnsiteCapacityMW[s, y].expr - m.OnsiteLoad[s, y]

    def pi_max(s: str, y: int) -> float:
        """π̄_s,y: the most thousand H100e per IT-MW of the chips in service at s in y."""
        gs = ix.chips_at(s, y)
        return max((float(m.pi_kh100e_per_mw[g]) for g in gs), default=0.0)

    def compute_shed(m: Any, s: str, y: int) -> Any:
        """π̄_s,y·sh[s,y]/(PUE_s·H): compute lost by pausing, thousand H100e-years."""
        return pi_max(s, y) / (float(m.pue[s]) * H) * m.Shed[s, y]

    S = m.NONFIRM_SITE_YEARS
    m.NonFirmMW = pyo.Expression(S, rule=nonfirm_mw, doc=nonfirm_mw.__doc__)
    m.Battery_MW = pyo.Expression(S, rule=battery_mw, doc=battery_mw.__doc__)
    m.Battery_MWh = pyo.Expression(S, rule=battery_mwh, doc=battery_mwh.__doc__)
    curtailed = covered_mwh if hourly else curtailed_mwh
    m.Curtailed_MWh = pyo.Expression(S, rule=curtailed, doc=curtailed.__doc__)
    m.Compute_Shed = pyo.Expression(S, rule=compute_shed, doc=compute_shed.__doc__)
    m.report_expressions += ["NonFirmMW", "Battery_MW", "Battery_MWh", "Curtailed_MWh",
                             "Compute_Shed"]

    # (3') the core's Grid_Capacity row gets the non-firm draw on its right-hand side
    for s in sites:
        for y in years:
            m.Grid_Capacity[s, y].set_value(
                m.GridLoad[s, y] <= m.GridCapacityMW[s, y].expr + m.NonFirmLoad[s, y])

    def draw_rule(m: Any, s: str, y: int) -> Any:
        """(N1) nfload[s,y] ≤ Σ_{τ≤y} nonfirm[s,τ]   (MW)."""
        return m.NonFirmLoad[s, y] <= m.NonFirmMW[s, y].expr

    def headroom_rule(m: Any, r: str, y: int) -> Any:
        """(N2) Σ_{s∈r} Σ_{τ≤y} nonfirm[s,τ] ≤ H_r,y   (MW; the curtailment-enabled
        headroom at the scenario's rate, from the hourly record)."""
        return sum(m.NonFirmMW[s, y].expr for s in sites_in[r]) \
            <= nf.headroom_mw.get((r, y), 0.0)

    def cover_rule(m: Any, s: str, y: int) -> Any:
        """(N3) oc[s,y] + bc[s,y] + sh[s,y] ≥ ρ_r·H·nfload[s,y]   (MWh a year)."""
        oc = m.OnsiteCover[s, y] if ix.onsite_years[s] else 0.0
        return oc + m.BatteryCover[s, y] + m.Shed[s, y] >= m.Curtailed_MWh[s, y].expr

    def onsite_cover_rule(m: Any, s: str, y: int) -> Any:
        """(N4) oc[s,y] ≤ h_r·(Σ onsite[s,τ] − onsiteload[s,y])   (MWh a year: spare
        on-site MW over the curtailed hours)."""
        return m.OnsiteCover[s, y] <= hours[s] * spare_onsite(s, y)

    def battery_power_rule(m: Any, s: str, y: int) -> Any:
        """(N5a) bc[s,y] ≤ h_r·BMW[s,y]   (MWh a year: at most full power in every
        curtailed hour)."""
        return m.BatteryCover[s, y] <= hours[s] * m.Battery_MW[s, y].expr

    def battery_energy_rule(m: Any, s: str, y: int) -> Any:
        """(N5b) bc[s,y] ≤ n_r·BMWh[s,y]   (MWh a year: one full discharge per event,
        recharged from the grid between events)."""
        return m.BatteryCover[s, y] <= events[s] * m.Battery_MWh[s, y].expr

    def shed_rule(m: Any, s: str, y: int) -> Any:
        """(N6) sh[s,y] ≤ φ·h_r·PUE_s·Σ_g U[s,g,y]   (MWh a year: the flexible share of
        the load over the curtailed hours)."""
        return m.Shed[s, y] <= phi * hours[s] * float(m.pue[s]) * m.FleetMW[s, y].expr

    def power_rule(m: Any, s: str, y: int) -> Any:
        """(N7) BMW[s,y] + (Σ onsite[s,τ] − onsiteload[s,y]) + φ·PUE_s·Σ_g U[s,g,y]
        ≥ nfload[s,y]   (MW: the whole non-firm draw covered in a full-curtailment hour)."""
        return (m.Battery_MW[s, y].expr + spare_onsite(s, y)
                + phi * float(m.pue[s]) * m.FleetMW[s, y].expr >= m.NonFirmLoad[s, y])

    m.NonFirm_Draw = pyo.Constraint(S, rule=draw_rule, doc=draw_rule.__doc__)
    m.NonFirm_Headroom = pyo.Constraint(m.NONFIRM_RY, rule=headroom_rule,
                                        doc=headroom_rule.__doc__)
    if not hourly:  # the annual cover (N3–N7); with hours: models.levers.hours
        _add_annual_cover(m, S, (cover_rule, onsite_cover_rule, battery_power_rule,
                                 battery_energy_rule, shed_rule, power_rule))

    def within_load_rule(m: Any, s: str, y: int) -> Any:
        """(N8) nfload[s,y] ≤ gridload[s,y]   (MW)."""
        return m.NonFirmLoad[s, y] <= m.GridLoad[s, y]

    m.NonFirm_Within_Load = pyo.Constraint(S, rule=within_load_rule,
                                           doc=within_load_rule.__doc__)
    _add_costs(m, d, sites, build_sy)


def _add_annual_cover(m: pyo.ConcreteModel, S: Any, rules: tuple[Any, ...]) -> None:
    """The annual curtailment cover N3–N7 (rules in that order: N3, N4, N5a, N5b, N6, N7)."""
    cover_rule, onsite_cover_rule, battery_power_rule, battery_energy_rule, shed_rule, \
        power_rule = rules
    m.Curtailment_Cover = pyo.Constraint(S, rule=cover_rule, doc=cover_rule.__doc__)
    m.Onsite_Cover = pyo.Constraint(m.NONFIRM_ONSITE_SY, rule=onsite_cover_rule,
                                    doc=onsite_cover_rule.__doc__)
    m.Battery_Power = pyo.Constraint(S, rule=battery_power_rule, doc=battery_power_rule.__doc__)
    m.Battery_Energy = pyo.Constraint(S, rule=battery_energy_rule,
                                      doc=battery_energy_rule.__doc__)
    m.Flexible_Shed = pyo.Constraint(S, rule=shed_rule, doc=shed_rule.__doc__)
    m.Cover_Power = pyo.Constraint(S, rule=power_rule, doc=power_rule.__doc__)


def _add_costs(m: pyo.ConcreteModel, d: CapacityInputs, sites: list[str],
               build_sy: list[tuple[str, int]]) -> None:
    """The layer's cost components (million USD, present value by year)."""
    nf, years = d.levers.nonfirm, m.ix.years
    k = 1.0 / USD_SCALE
    delta = m.discount_factor
    uk = COMPUTE_SCALE / USD_SCALE
    nl, bl = nf.life_years, nf.battery_life_years
    a_n, a_b = crf(d.discount_rate, nl), crf(d.discount_rate, bl)
    built = {y: [s for s, t in build_sy if t == y] for y in years}
    batteries = {y: [s for s in sites if y >= years[0] + nf.battery_lead_years] for y in years}
    capex = {s: nf.capex_usd_per_mw[r] for s, r in zip(d.sites.index, d.sites["region"])
             if s in set(sites)}

    def cost_nonfirm(m: Any, y: int) -> Any:
        """Σ_{s,τ} CRF(ℓn)·δ_y·c_nf,r(s)·nonfirm[s,τ] over τ ≤ y < τ + ℓn."""
        return sum((a_n * delta[y] * k * capex[s] * m.NonFirm[s, t]
                    for t in years if t <= y < t + nl for s in built[t]), 0.0)

    def cost_battery(m: Any, y: int) -> Any:
        """Σ_{s,τ} CRF(ℓb)·δ_y·(c_bp·bp[s,τ] + c_be·be[s,τ]) over τ ≤ y < τ + ℓb."""
        return sum((a_b * delta[y] * k * (nf.battery_usd_per_mw * m.BatteryPower[s, t]
                                          + nf.battery_usd_per_mwh * m.BatteryEnergy[s, t])
                    for t in years if t <= y < t + bl for s in batteries[t]), 0.0)

    def cost_lost_compute(m: Any, y: int) -> Any:
        """δ_y·v_lost·Σ_s π̄_s,y·sh[s,y]/(PUE_s·H)."""
        return sum((uk * delta[y] * nf.lost_compute_usd_per_h100e_year
                    * m.Compute_Shed[s, y].expr for s in sites), 0.0)

    def cost_onsite_cover(m: Any, y: int) -> Any:
        """δ_y·fuel·Σ_s oc[s,y]."""
        return sum((k * delta[y] * d.onsite_fuel_usd_per_mwh * m.OnsiteCover[s, y]
                    for s in sites if m.ix.onsite_years[s]), 0.0)

    credit = {s: nf.peak_share_avoided.get(r, 0.0) for s, r in zip(d.sites.index,
                                                                  d.sites["region"])}
    cap = m.capacity_price_usd_per_mw_year

    def cost_capacity_credit(m: Any, y: int) -> Any:
        """−δ_y·Σ_s capacity_price[r(s),y]·a_r(s)·nfload[s,y]: the capacity charge the
        non-firm draw avoids by stepping down in the coincident-peak hours."""
        return sum((-k * delta[y] * cap[s, y] * credit[s] * m.NonFirmLoad[s, y]
                    for s in sites if credit[s] * cap[s, y] != 0), 0.0)

    rules = {"Cost_NonFirm": cost_nonfirm, "Cost_Battery": cost_battery,
             "Cost_Lost_Compute": cost_lost_compute, "Cost_Onsite_Cover": cost_onsite_cover,
             "Cost_Capacity_Credit": cost_capacity_credit}
    for name, component in COST_COMPONENTS:
        rule = rules[component]
        m.add_component(component, pyo.Expression(m.YEARS, rule=rule, doc=rule.__doc__))
        add_cost_component(m, name, component)
