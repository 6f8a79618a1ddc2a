r"""Layer "hours" (scenario key ``hours``): non-firm connections operated hour by hour.

With ``hours: {days: K}`` the non-firm layer's annual curtailment cover (N3–N7 of
:mod:`models.levers.nonfirm`: a rate ρ_r, hours h_r and events n_r per region) is
replaced by explicit hours on K representative days of the region's hourly record
(:mod:`grids.repdays`, tsam, the system's summer and winter peak days kept whole; weights
w_p in days summing to 365). In every representative hour the non-firm draw may not
exceed the hourly headroom, and the rest of the non-firm load is covered by battery
discharge (with a state of charge, chronological and cyclic within each day), spare
on-site generation or paused flexible compute.

Dispatch is per *unit* u: a region (``dispatch: region``, the default, zonal as
PyPSA, GenX and ReEDS operate: the region's sites' cover pooled) or a site
(``dispatch: site``). S_u are its sites, r(u) its region.

Math (y ≥ y0 + nonfirm.lead_years; p a representative day of r(u) that has a curtailable
hour; t = 0 … 23; MW unless stated; all variables ≥ 0)::

    q_r,p,t = max(0, T_r,p − L_r,p,t)   hourly headroom at y0 (threshold less background load)
    f_r,y   = H_r,y / H_r,y0            growth of the headroom (nonfirm.headroom_growth_per_year)
    P_r     = {p : min_t q_r,p,t < H_r,y0}   days with an hour that curtails the cap
              (on other days a load at the cap is never curtailed: their hours are left out)
    NL[u,y] = Σ_{s∈S_u} nfload[s,y]

    d[u,y,p,t]   HourlyDraw       non-firm MW drawn in the hour
    b[u,y,p,t],  Discharge,       battery discharge and charge, MW
    c[u,y,p,t]   Charge
    e[u,y,p,t]   StateOfCharge    battery energy stored at the end of the hour, MWh
    x[u,y,p,t]   HourlyShed       flexible compute paused, MW (only with φ > 0)
    o[u,y,p,t]   HourlyOnsite     spare on-site generation run, MW (only where S_u has some)

    (H1) d ≤ NL[u,y]                                                      Hourly_Draw
    (H2) Σ_{u∈r} (d + c) ≤ f_r,y·q_r,p,t                                  Hourly_Headroom
    (H3) NL[u,y] − d ≤ b + o + x                                          Hourly_Cover
    (H4) o ≤ Σ_{s∈S_u} (OnsiteCapacityMW[s,y] − onsiteload[s,y])          Hourly_Onsite
    (H5) x ≤ φ·Σ_{s∈S_u} PUE_s·Σ_g U[s,g,y]                               Hourly_Shed
    (H6) b ≤ Σ_{s∈S_u} BMW[s,y],  c ≤ Σ_{s∈S_u} BMW[s,y]          Discharge_Power, Charge_Power
    (H7) e[t] = e[t−1] + c[t] − b[t],  e[−1] ≡ e[23] (cyclic per day)     Battery_State
    (H8) e ≤ Σ_{s∈S_u} BMWh[s,y]                                          Battery_Stored
    (H9) Σ_{s∈S_u} sh[s,y] = Σ_p w_p·Σ_t x[u,y,p,t]                      Shed_Year
         Σ_{s∈S_u} bc[s,y] = Σ_p w_p·Σ_t b[u,y,p,t]                      Battery_Year
         Σ_{s∈S_u} oc[s,y] = Σ_p w_p·Σ_t o[u,y,p,t]                      Onsite_Year
    (H10) with several sites in u (zonal), each site's share of the pooled cover is
          bounded by its own means over the region's curtailable hours ĥ_r =
          Σ_{p∈P_r} w_p·#{t : q_r,p,t < H_r,y0}:
          sh[s,y] ≤ ĥ_r·φ·PUE_s·Σ_g U[s,g,y]                             Shed_Share
          oc[s,y] ≤ ĥ_r·(OnsiteCapacityMW[s,y] − onsiteload[s,y])         Onsite_Share

Every hourly row references the unit's yearly quantities through one column each
(``UnitNonFirmLoad`` = NL, ``UnitBatteryMW`` = Σ BMW, ``UnitBatteryMWh`` = Σ BMWh,
``UnitFlexibleMW`` = φ·Σ PUE·Σ_g U, ``UnitSpareMW`` = Σ spare on-site MW; defined by the
rows ``Unit_NonFirm_Load``, ``Unit_Battery_MW``, … once per (u, y)) rather than every site,
vintage and chip: on ``us-base`` this cut the nonzeros from 2.2 M to a fraction and the
solve time with them (docs/benchmarks.md).

The yearly totals sh, bc, oc are the non-firm layer's variables (``Shed``,
``BatteryCover``, ``OnsiteCover``), so the compute lost and the on-site fuel are costed
by its cost components ``lost_compute`` and ``onsite_cover``; this layer has no cost
component of its own. Battery charging is lossless and its energy is not priced (as in
the annual layer: the energy is small), but it must fit under the hourly headroom (H2).

Decisions where the issue is silent (README "Hourly operations", docs/headroom.md):

- The cap N2 (Σ NF ≤ H_r,y, the headroom at the scenario's rate) stays: it is what the
  grid grants. So an hour whose headroom is at least the cap never curtails, and a day
  without such an hour is left out exactly (its cover is 0 and the battery idles).
- The thresholds T_r,p are the record's seasonal maxima (:mod:`planner.inputs.headroom`),
  averaged over the days a representative day stands for by their season; the background
  load grows as the cap does, so q scales with f_r,y (the method is scale-invariant).
- Zonal pooling (the default) is a relaxation of per-site dispatch: a region's batteries
  and flexible compute cover its non-firm draw wherever it is curtailed. Measured on
  ``us-base`` (docs/headroom.md), per-site dispatch is larger and slower for no change
  that matters.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs
from models.levers.nonfirm import nonfirm_sites

#: Hours of a representative day.
DAY_HOURS = tuple(range(24))


def active(d: CapacityInputs) -> bool:
    """Whether the scenario operates its non-firm connections hour by hour."""
    return (d.levers is not None and d.levers.hours is not None
            and d.levers.nonfirm is not None)


def units(d: CapacityInputs) -> dict[str, list[str]]:
    """Dispatch units → their non-firm sites: one per region (zonal) or per site."""
    region = d.sites["region"].to_dict()
    sites = nonfirm_sites(d)
    if d.levers.hours.dispatch == "site":
        return {s: [s] for s in sites}
    out: dict[str, list[str]] = {}
    for s in sites:
        out.setdefault(region[s], []).append(s)
    return out


def curtailable_days(d: CapacityInputs, r: str) -> list[int]:
    """P_r: representative days of region ``r`` with an hour whose headroom is below
    the cap H_r,y0 (no other day can curtail a load within the cap)."""
    hr, nf = d.levers.hours, d.levers.nonfirm
    cap = nf.headroom_mw.get((r, d.years[0]), 0.0)
    return [p for p in hr.periods
            if min(hr.headroom_mw.get((r, p, t), 0.0) for t in DAY_HOURS) < cap]


def curtailable_hours(d: CapacityInputs, r: str) -> float:
    """ĥ_r: hours a year (weighted) whose headroom is below the cap H_r,y0."""
    hr, nf = d.levers.hours, d.levers.nonfirm
    cap = nf.headroom_mw.get((r, d.years[0]), 0.0)
    return sum(hr.weight_days[p] * sum(hr.headroom_mw.get((r, p, t), 0.0) < cap
                                       for t in DAY_HOURS)
               for p in curtailable_days(d, r))


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add the hourly sets, variables, constraints and the links to the yearly cover."""
    nf, hr, ix = d.levers.nonfirm, d.levers.hours, m.ix
    years = ix.years
    y0 = years[0]
    first = y0 + nf.lead_years
    region = d.sites["region"].to_dict()
    group = units(d)
    unit_region = {u: region[ss[0]] for u, ss in group.items()}
    regions = sorted(set(unit_region.values()))
    days = {r: curtailable_days(d, r) for r in regions}
    growth = {(r, y): nf.headroom_mw.get((r, y), 0.0) / nf.headroom_mw[(r, y0)]
              for r in regions for y in years}
    phi = nf.flexible_share
    weight = hr.weight_days
    op_years = [y for y in years if y >= first]
    uypt = [(u, y, p, t) for u in group for y in op_years for p in days[unit_region[u]]
            for t in DAY_HOURS]
    rypt = [(r, y, p, t) for r in regions for y in op_years for p in days[r]
            for t in DAY_HOURS]
    uy = [(u, y) for u in group for y in op_years]
    onsite_units = {u for u, ss in group.items() if any(ix.onsite_years[s] for s in ss)}
    units_in = {r: [u for u in group if unit_region[u] == r] for r in regions}

    m.HOUR_UNITS = pyo.Set(initialize=list(group), ordered=True)
    m.HOURS_UYPT = pyo.Set(dimen=4, initialize=uypt, ordered=True)
    m.HOURS_RYPT = pyo.Set(dimen=4, initialize=rypt, ordered=True)
    m.HOURS_UY = pyo.Set(dimen=2, initialize=uy, ordered=True)
    m.HOURS_ONSITE_UYPT = pyo.Set(dimen=4, initialize=[k for k in uypt if k[0] in onsite_units],
                                  ordered=True)
    m.hourly_headroom_mw = pyo.Param(
        m.HOURS_RYPT, initialize={(r, y, p, t): growth[r, y] * hr.headroom_mw.get((r, p, t), 0.0)
                                  for r, y, p, t in rypt},
        doc="f_r,y·q_r,p,t: hourly headroom for non-firm draw, MW")
    m.weight_days = pyo.Param(pyo.Set(initialize=hr.periods), initialize=dict(weight),
                              doc="w_p: days of the model year a representative day stands for")
    nn = pyo.NonNegativeReals
    m.HourlyDraw = pyo.Var(m.HOURS_UYPT, domain=nn, doc="non-firm MW drawn in the hour")
    m.Discharge = pyo.Var(m.HOURS_UYPT, domain=nn, doc="battery discharge in the hour, MW")
    m.Charge = pyo.Var(m.HOURS_UYPT, domain=nn, doc="battery charge in the hour, MW")
    m.StateOfCharge = pyo.Var(m.HOURS_UYPT, domain=nn,
                              doc="battery energy stored at the end of the hour, MWh")
    if phi > 0:
        m.HourlyShed = pyo.Var(m.HOURS_UYPT, domain=nn,
                               doc="flexible compute paused in the hour, MW at the meter")
    m.HourlyOnsite = pyo.Var(m.HOURS_ONSITE_UYPT, domain=nn,
                             doc="spare on-site generation run in the hour, MW")

    # the unit's yearly quantities, each a variable defined once per (u, y) so that every
    # hourly row references one column instead of every site, vintage and chip (nonzeros)
    m.UnitNonFirmLoad = pyo.Var(m.HOURS_UY, domain=nn, doc="NL[u,y]: non-firm MW drawn, MW")
    m.UnitBatteryMW = pyo.Var(m.HOURS_UY, domain=nn, doc="battery MW in service in u")
    m.UnitBatteryMWh = pyo.Var(m.HOURS_UY, domain=nn, doc="battery MWh in service in u")
    if phi > 0:
        m.UnitFlexibleMW = pyo.Var(m.HOURS_UY, domain=nn,
                                   doc="φ·Σ PUE·Σ_g U: MW of flexible compute in u")
    onsite_uy = [k for k in uy if k[0] in onsite_units]
    m.UnitSpareMW = pyo.Var(onsite_uy, domain=pyo.Reals,
                            doc="Σ (OnsiteCapacityMW − onsiteload): spare on-site MW in u")

    def unit_rule(var: str, body: Any) -> Any:
        def rule(m: Any, u: str, y: int) -> Any:
            return getattr(m, var)[u, y] == body(u, y)
        return rule

    defs = {
        "Unit_NonFirm_Load": ("UnitNonFirmLoad", lambda u, y: sum(
            m.NonFirmLoad[s, y] for s in group[u]), "NL[u,y] = Σ_{s∈S_u} nfload[s,y]"),
        "Unit_Battery_MW": ("UnitBatteryMW", lambda u, y: sum(
            m.Battery_MW[s, y].expr for s in group[u]), "Σ_{s∈S_u} BMW[s,y]"),
        "Unit_Battery_MWh": ("UnitBatteryMWh", lambda u, y: sum(
            m.Battery_MWh[s, y].expr for s in group[u]), "Σ_{s∈S_u} BMWh[s,y]"),
    }
    if phi > 0:
        defs["Unit_Flexible_MW"] = ("UnitFlexibleMW", lambda u, y: sum(
            phi * float(m.pue[s]) * m.FleetMW[s, y].expr for s in group[u]),
            "φ·Σ_{s∈S_u} PUE_s·Σ_g U[s,g,y]")
    for name, (var, body, math) in defs.items():
        m.add_component(name, pyo.Constraint(m.HOURS_UY, rule=unit_rule(var, body),
                                             doc=f"{var}[u,y] = {math}"))
    m.Unit_Spare_MW = pyo.Constraint(
        onsite_uy, rule=unit_rule("UnitSpareMW", lambda u, y: sum(
            m.OnsiteCapacityMW[s, y].expr - m.OnsiteLoad[s, y] for s in group[u]
            if ix.onsite_years[s])),
        doc="UnitSpareMW[u,y] = Σ_{s∈S_u} (OnsiteCapacityMW[s,y] − onsiteload[s,y])")

    def nonfirm_load(u: str, y: int) -> Any:
        return m.UnitNonFirmLoad[u, y]

    def shed(u: str, y: int, p: int, t: int) -> Any:
        return m.HourlyShed[u, y, p, t] if phi > 0 else 0.0

    def onsite(u: str, y: int, p: int, t: int) -> Any:
        return m.HourlyOnsite[u, y, p, t] if u in onsite_units else 0.0

    def draw_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H1) d[u,y,p,t] ≤ Σ_{s∈S_u} nfload[s,y]   (MW)."""
        return m.HourlyDraw[u, y, p, t] <= nonfirm_load(u, y)

    def headroom_rule(m: Any, r: str, y: int, p: int, t: int) -> Any:
        """(H2) Σ_{u∈r} (d[u,y,p,t] + c[u,y,p,t]) ≤ f_r,y·q_r,p,t   (MW)."""
        return sum(m.HourlyDraw[u, y, p, t] + m.Charge[u, y, p, t] for u in units_in[r]) \
            <= m.hourly_headroom_mw[r, y, p, t]

    def cover_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H3) Σ_{s∈S_u} nfload[s,y] − d ≤ b + o + x   (MW: the curtailed draw covered)."""
        return nonfirm_load(u, y) - m.HourlyDraw[u, y, p, t] <= (
            m.Discharge[u, y, p, t] + onsite(u, y, p, t) + shed(u, y, p, t))

    def onsite_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H4) o[u,y,p,t] ≤ Σ_{s∈S_u} (OnsiteCapacityMW[s,y] − onsiteload[s,y])   (MW)."""
        return m.HourlyOnsite[u, y, p, t] <= m.UnitSpareMW[u, y]

    def shed_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H5) x[u,y,p,t] ≤ φ·Σ_{s∈S_u} PUE_s·Σ_g U[s,g,y]   (MW)."""
        return m.HourlyShed[u, y, p, t] <= m.UnitFlexibleMW[u, y]

    def discharge_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H6a) b[u,y,p,t] ≤ Σ_{s∈S_u} BMW[s,y]   (MW)."""
        return m.Discharge[u, y, p, t] <= m.UnitBatteryMW[u, y]

    def charge_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H6b) c[u,y,p,t] ≤ Σ_{s∈S_u} BMW[s,y]   (MW)."""
        return m.Charge[u, y, p, t] <= m.UnitBatteryMW[u, y]

    def state_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H7) e[u,y,p,t] = e[u,y,p,t−1] + c[u,y,p,t] − b[u,y,p,t], e[·,−1] ≡ e[·,23]
        (MWh over a one-hour step; cyclic within each representative day)."""
        prev = m.StateOfCharge[u, y, p, (t - 1) % 24]
        return m.StateOfCharge[u, y, p, t] == prev + m.Charge[u, y, p, t] \
            - m.Discharge[u, y, p, t]

    def stored_rule(m: Any, u: str, y: int, p: int, t: int) -> Any:
        """(H8) e[u,y,p,t] ≤ Σ_{s∈S_u} BMWh[s,y]   (MWh)."""
        return m.StateOfCharge[u, y, p, t] <= m.UnitBatteryMWh[u, y]

    def weighted(var: Any, u: str, y: int) -> Any:
        r = unit_region[u]
        return sum(weight[p] * var[u, y, p, t] for p in days[r] for t in DAY_HOURS)

    def shed_year_rule(m: Any, u: str, y: int) -> Any:
        """(H9a) Σ_{s∈S_u} sh[s,y] = Σ_p w_p·Σ_t x[u,y,p,t]   (MWh a year)."""
        total = weighted(m.HourlyShed, u, y) if phi > 0 else 0.0
        return sum(m.Shed[s, y] for s in group[u]) == total

    def battery_year_rule(m: Any, u: str, y: int) -> Any:
        """(H9b) Σ_{s∈S_u} bc[s,y] = Σ_p w_p·Σ_t b[u,y,p,t]   (MWh a year)."""
        return sum(m.BatteryCover[s, y] for s in group[u]) == weighted(m.Discharge, u, y)

    def onsite_year_rule(m: Any, u: str, y: int) -> Any:
        """(H9c) Σ_{s∈S_u} oc[s,y] = Σ_p w_p·Σ_t o[u,y,p,t]   (MWh a year)."""
        return sum(m.OnsiteCover[s, y] for s in group[u] if ix.onsite_years[s]) \
            == weighted(m.HourlyOnsite, u, y)

    U, C = m.HOURS_UYPT, pyo.Constraint
    m.Hourly_Draw = C(U, rule=draw_rule, doc=draw_rule.__doc__)
    m.Hourly_Headroom = C(m.HOURS_RYPT, rule=headroom_rule, doc=headroom_rule.__doc__)
    m.Hourly_Cover = C(U, rule=cover_rule, doc=cover_rule.__doc__)
    m.Hourly_Onsite = C(m.HOURS_ONSITE_UYPT, rule=onsite_rule, doc=onsite_rule.__doc__)
    if phi > 0:
        m.Hourly_Shed = C(U, rule=shed_rule, doc=shed_rule.__doc__)
    m.Discharge_Power = C(U, rule=discharge_rule, doc=discharge_rule.__doc__)
    m.Charge_Power = C(U, rule=charge_rule, doc=charge_rule.__doc__)
    m.Battery_State = C(U, rule=state_rule, doc=state_rule.__doc__)
    m.Battery_Stored = C(U, rule=stored_rule, doc=stored_rule.__doc__)
    m.Shed_Year = C(m.HOURS_UY, rule=shed_year_rule, doc=shed_year_rule.__doc__)
    m.Battery_Year = C(m.HOURS_UY, rule=battery_year_rule, doc=battery_year_rule.__doc__)
    m.Onsite_Year = C([k for k in uy if k[0] in onsite_units], rule=onsite_year_rule,
                      doc=onsite_year_rule.__doc__)
    _fix_idle_years(m, d, group, op_years)
    _add_shares(m, d, group, unit_region, op_years)


def _fix_idle_years(m: pyo.ConcreteModel, d: CapacityInputs, group: dict[str, list[str]],
                    op_years: list[int]) -> None:
    """Before the first non-firm year nothing is drawn non-firm, so nothing is covered:
    sh = bc = oc = 0 there (the yearly cover variables exist for every year)."""
    ix = m.ix
    for ss in group.values():
        for s in ss:
            for y in ix.years:
                if y in op_years:
                    continue
                m.Shed[s, y].fix(0.0)
                m.BatteryCover[s, y].fix(0.0)
                if ix.onsite_years[s]:
                    m.OnsiteCover[s, y].fix(0.0)


def _add_shares(m: pyo.ConcreteModel, d: CapacityInputs, group: dict[str, list[str]],
                unit_region: dict[str, str], op_years: list[int]) -> None:
    """(H10) each site's share of a pooled (zonal) cover, bounded by its own flexible
    compute and spare on-site generation over the region's curtailable hours."""
    nf, ix = d.levers.nonfirm, m.ix
    pooled = [(s, y, unit_region[u]) for u, ss in group.items() if len(ss) > 1
              for s in ss for y in op_years]
    if not pooled:
        return
    hours = {r: curtailable_hours(d, r) for r in set(unit_region.values())}
    phi = nf.flexible_share

    def shed_share_rule(m: Any, s: str, y: int, r: str) -> Any:
        """(H10a) sh[s,y] ≤ ĥ_r·φ·PUE_s·Σ_g U[s,g,y]   (MWh a year)."""
        return m.Shed[s, y] <= hours[r] * phi * float(m.pue[s]) * m.FleetMW[s, y].expr

    def onsite_share_rule(m: Any, s: str, y: int, r: str) -> Any:
        """(H10b) oc[s,y] ≤ ĥ_r·(OnsiteCapacityMW[s,y] − onsiteload[s,y])   (MWh a year)."""
        return m.OnsiteCover[s, y] <= hours[r] * (m.OnsiteCapacityMW[s, y].expr
                                                  - m.OnsiteLoad[s, y])

    m.HOURS_SHARE_SYR = pyo.Set(dimen=3, initialize=pooled, ordered=True)
    m.Shed_Share = pyo.Constraint(m.HOURS_SHARE_SYR, rule=shed_share_rule,
                                  doc=shed_share_rule.__doc__)
    onsite_keys = [k for k in pooled if ix.onsite_years[k[0]]]
    m.Onsite_Share = pyo.Constraint(onsite_keys, rule=onsite_share_rule,
                                    doc=onsite_share_rule.__doc__)
