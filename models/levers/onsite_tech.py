r"""Layer "on-site technologies" (O1–O5, scenario key ``onsite_technologies``).

On-site power is built per technology of ``models/data/onsite_technologies.csv``
(turbines, combined cycle, engines, fuel cells, solar + storage, SMRs, nuclear
restarts) instead of the scenario's one generic ``onsite:`` option: the index sets
then hold no generic ``Onsite[s,y]`` (:func:`models.model.index_sets`), constraint (4)
``Onsite_Capacity`` is replaced by the reserve row (O3), and the capacity model's cost
components ``onsite`` (capex) and ``fuel`` are re-stated per technology, so nothing
is counted twice. Index letters: ``s`` site, ``t`` technology, ``y``/``τ`` year.

Sets and parameters:

- ``ONSITE_TECH`` — technologies allowed (storage rows never: a 4-hour battery is
  not an energy source for a 24/7 campus load);
- ``ONSITE_BUILD_STY`` — (s, t, y) with onsite_allowed(s) and
  y ≥ max(first_year_t, y0 + lead_t);
- ``ONSITE_GEN_STY`` — (s, t, y) where some build of t at s is within its life;
- c_t ``capex_usd_per_kw``·1000, f_t ``fixed_om``·1000 (USD/MW-yr), v_{t,y} fuel +
  VOM (gas price[y] × heat rate + VOM, USD/MWh), e_t CO2 (t/MWh), ℓ_t life;
- a_t = 1 for a dispatchable (firm) row, cf/u for the others (solar + storage:
  a MW delivers cf·8,760 MWh a year; load MW run u·8,760 h);
- r ``reserve_fraction``.

Variables: ``OnsiteTech[s,t,y]`` MW of t completed at s in y; ``OnsiteGen[s,t,y]``
facility load MW served by t (the same MW basis as ``OnsiteLoad``).

    cap[s,t,y] = Σ OnsiteTech[s,t,τ] over y − ℓ_t < τ ≤ y              (OnsiteTechMW)
    (O1) onsiteload[s,y] = Σ_t OnsiteGen[s,t,y]                        Onsite_Tech_Split
    (O2) OnsiteGen[s,t,y] ≤ a_t·cap[s,t,y]                             Onsite_Tech_Output
    (O3) (1 + r)·onsiteload[s,y] ≤ Σ_{t firm} cap[s,t,y]
              + (GridCapacityMW[s,y] − gridload[s,y] + nfload[s,y])  Onsite_Reserve
    (O4) Σ_s OnsiteTech[s,t,y] ≤ supply_limit_t                        Onsite_Supply
    (O5) Σ_{s,y} OnsiteTech[s,t,y] ≤ total_limit_t                      Onsite_Total

(O3) is the linear stand-in for N+1 redundancy: an islanded campus whose load needs
N running units holds one more, so firm capacity is (N+1)/N = 1 + r times the load;
r is one number for every site (an assumption, README). The spare firm grid
connection at the site (connected MW not carrying grid load, ≥ 0 by constraint 3)
counts as backup, so only a campus without one carries the whole reserve in
generators; with the layer ``nonfirm`` (added before this one) the non-firm draw
nfload is not firm, so only the firm draw gridload − nfload uses up the connection.
(O3) is written only where on-site power can run (elsewhere onsiteload = 0). With
``nonfirm`` the curtailed hours are covered by batteries and flexible compute; spare
on-site MW per technology do not count as cover (the generic ``OnsiteCover``
has no technology; a stated simplification). Solar + storage serves energy but never
counts as firm capacity. The dual of (O4) is the value of one more MW of the
technology's national supply in the year (results ``onsite_supply_value_usd_per_mw``).

Costs (million USD; capex annuitized as the capacity model's ``Cost_Onsite``):

    Cost_Onsite[y]    = Σ_{t,τ} CRF(ℓ_t)·δ_y·c_t·Σ_s OnsiteTech[s,t,τ]  over τ ≤ y < τ + ℓ_t
    Cost_Onsite_OM[y] = δ_y·Σ_{s,t} f_t·cap[s,t,y]                       (component onsite_om)
    Cost_Fuel[y]      = δ_y·u·H·Σ_{s,t} v_{t,y}·OnsiteGen[s,t,y]

With the carbon layer, ``Site_Emissions`` counts u·H·Σ_t e_t·OnsiteGen[s,t,y] instead
of the generic ``onsite.emission_t_per_mwh``; with capital budgets, ``Capex_Spend``
counts c_t·OnsiteTech[s,t,y].
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models.capacity import HOURS_PER_YEAR, USD_SCALE, CapacityInputs, add_cost_component, crf
from models.levers.data import EMISSIONS_SCALE

#: The cost component of the technologies' fixed O&M.
OM_COMPONENT = "onsite_om"


def active(d: CapacityInputs) -> bool:
    """Whether on-site power is built per technology."""
    return d.levers is not None and d.levers.onsite_tech is not None


def build_rows(d: CapacityInputs) -> list[tuple[str, str, int]]:
    """(s, t, y): technology t can be completed at site s in year y — the site allows
    on-site power and y ≥ max(first_year_t, y0 + lead_t).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from models.levers.data import Levers, OnsiteTech
    >>> table = pd.DataFrame({"first_year": [2027], "lead_years": [0]}, index=["ct"])
    >>> tech = OnsiteTech(table, {}, 0.0, 0.25)
    >>> d = SimpleNamespace(years=[2026, 2027], levers=Levers(onsite_tech=tech),
    ...     sites=pd.DataFrame({"onsite_allowed": [True, False]}, index=["a", "b"]))
    >>> build_rows(d)
    [('a', 'ct', 2027)]
    """
    table = d.levers.onsite_tech.table
    y0 = d.years[0]
    allowed = d.sites["onsite_allowed"].astype(bool)
    first = {t: max(int(table.at[t, "first_year"]), y0 + int(table.at[t, "lead_years"]))
             for t in table.index}
    return [(s, t, y) for s in d.sites.index if allowed[s] for t in table.index
            for y in d.years if y >= first[t]]


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add the sets, variables, (O1)–(O5), the cost component ``onsite_om`` and re-state
    ``Cost_Onsite``, ``Onsite_Spend``, ``Cost_Fuel``, ``OnsiteCapacityMW`` (and
    ``Site_Emissions``, ``Capex_Spend`` when those layers are on) per technology."""
    ot, ix = d.levers.onsite_tech, m.ix
    table = ot.table
    techs = list(table.index)
    years = ix.years
    k = 1.0 / USD_SCALE
    uh = d.utilization * HOURS_PER_YEAR
    life = {t: int(table.at[t, "life_years"]) for t in techs}
    firm = {t: bool(table.at[t, "dispatchable"]) for t in techs}
    capex = {t: float(table.at[t, "capex_usd_per_kw"]) * 1000.0 for t in techs}
    fom = {t: float(table.at[t, "fixed_om_usd_per_kw_year"]) * 1000.0 for t in techs}
    co2 = {t: float(table.at[t, "co2_t_per_mwh"]) for t in techs}
    share = {t: 1.0 if firm[t] else ot.solar_capacity_factor / d.utilization for t in techs}

    rows = build_rows(d)
    built: dict[tuple[str, str], list[int]] = {}
    for s, t, y in rows:
        built.setdefault((s, t), []).append(y)
    vintages = {(s, t, y): [τ for τ in ts if y - life[t] < τ <= y]
                for (s, t), ts in built.items() for y in years}
    gen = [key for key, ts in vintages.items() if ts]
    techs_at: dict[tuple[str, int], list[str]] = {}
    for s, t, y in gen:
        techs_at.setdefault((s, y), []).append(t)
    in_year: dict[tuple[str, int], list[str]] = {}
    for s, t, y in rows:
        in_year.setdefault((t, y), []).append(s)
    gen_in: dict[int, list[tuple[str, str]]] = {y: [] for y in years}
    for s, t, y in gen:
        gen_in[y].append((s, t))
    rows_of: dict[str, list[tuple[str, int]]] = {t: [] for t in techs}
    for s, t, y in rows:
        rows_of[t].append((s, y))
    supply = [(t, y) for t in techs for y in years
              if pd.notna(table.at[t, "supply_limit_mw_per_year"]) and in_year.get((t, y))]
    total = [t for t in techs if pd.notna(table.at[t, "total_limit_mw"]) and rows_of[t]]

    m.ONSITE_TECH = pyo.Set(initialize=techs, ordered=True)
    m.ONSITE_BUILD_STY = pyo.Set(dimen=3, initialize=rows, ordered=True)
    m.ONSITE_GEN_STY = pyo.Set(dimen=3, initialize=gen, ordered=True)
    m.ONSITE_SUPPLY_TY = pyo.Set(dimen=2, initialize=supply, ordered=True)
    m.ONSITE_TOTAL_T = pyo.Set(initialize=total, ordered=True)
    m.onsite_capex_usd_per_mw = pyo.Param(m.ONSITE_TECH, initialize=capex,
                                          doc="overnight capex of technology t, USD/MW")
    m.onsite_fixed_om_usd_per_mw_year = pyo.Param(m.ONSITE_TECH, initialize=fom,
                                                  doc="fixed O&M of t, USD per MW-year")
    m.onsite_fuel_usd_per_mwh = pyo.Param(
        m.ONSITE_TECH, m.YEARS, initialize={(t, y): ot.fuel_usd_per_mwh[t, y]
                                            for t in techs for y in years},
        doc="gas price[y] × heat rate_t + variable O&M_t, USD/MWh")
    m.onsite_co2_t_per_mwh = pyo.Param(m.ONSITE_TECH, initialize=co2,
                                       doc="direct CO2 of t per MWh generated, t/MWh")
    m.onsite_output_share = pyo.Param(m.ONSITE_TECH, initialize=share,
                                      doc="a_t: load MW a MW of t serves (1 firm, cf/u not)")
    m.onsite_reserve_fraction = pyo.Param(initialize=ot.reserve_fraction,
                                          doc="r: firm on-site MW ≥ (1 + r) × on-site load")

    nn = pyo.NonNegativeReals
    m.OnsiteTech = pyo.Var(m.ONSITE_BUILD_STY, domain=nn,
                           doc="on-site MW of technology t completed at s in y")
    m.OnsiteGen = pyo.Var(m.ONSITE_GEN_STY, domain=nn,
                          doc="facility load MW served by technology t at s in y")

    def tech_mw(m: Any, s: str, t: str, y: int) -> Any:
        """Σ OnsiteTech[s,t,τ] over y − life_t < τ ≤ y: MW of t in service at s in y."""
        return sum(m.OnsiteTech[s, t, τ] for τ in vintages[s, t, y])

    m.OnsiteTechMW = pyo.Expression(m.ONSITE_GEN_STY, rule=tech_mw, doc=tech_mw.__doc__)
    m.report_expressions.append("OnsiteTechMW")

    def split_rule(m: Any, s: str, y: int) -> Any:
        """(O1) onsiteload[s,y] = Σ_t OnsiteGen[s,t,y]."""
        return m.OnsiteLoad[s, y] - sum(m.OnsiteGen[s, t, y]
                                        for t in techs_at.get((s, y), [])) == 0

    def output_rule(m: Any, s: str, t: str, y: int) -> Any:
        """(O2) OnsiteGen[s,t,y] ≤ a_t·Σ OnsiteTech[s,t,τ] over y − life_t < τ ≤ y."""
        return m.OnsiteGen[s, t, y] <= share[t] * m.OnsiteTechMW[s, t, y].expr

    nonfirm_load = getattr(m, "NonFirmLoad", None)  # the layer nonfirm, added before this

    def reserve_rule(m: Any, s: str, y: int) -> Any:
        """(O3) (1 + r)·onsiteload[s,y] ≤ Σ_{t firm} Σ OnsiteTech[s,t,τ] over its life
        + (GridCapacityMW[s,y] − (gridload[s,y] − nfload[s,y])): the spare firm grid
        connection (what the firm draw leaves; nfload only with the layer nonfirm) backs
        up. Only where on-site power can run: elsewhere onsiteload = 0 (O1) and the row
        would only repeat constraint (3)."""
        if not techs_at.get((s, y)):
            return pyo.Constraint.Skip
        firm_mw = sum(m.OnsiteTechMW[s, t, y].expr for t in techs_at.get((s, y), [])
                      if firm[t])
        spare_grid = m.GridCapacityMW[s, y].expr - m.GridLoad[s, y]
        if nonfirm_load is not None and (s, y) in nonfirm_load:
            spare_grid = spare_grid + nonfirm_load[s, y]
        return (1.0 + ot.reserve_fraction) * m.OnsiteLoad[s, y] - firm_mw - spare_grid <= 0

    def supply_rule(m: Any, t: str, y: int) -> Any:
        """(O4) Σ_s OnsiteTech[s,t,y] ≤ supply_limit_mw_per_year_t."""
        return sum(m.OnsiteTech[s, t, y] for s in in_year[t, y]) \
            <= float(table.at[t, "supply_limit_mw_per_year"])

    def total_rule(m: Any, t: str) -> Any:
        """(O5) Σ_{s,y} OnsiteTech[s,t,y] ≤ total_limit_mw_t."""
        return sum(m.OnsiteTech[s, t, y] for s, y in rows_of[t]) \
            <= float(table.at[t, "total_limit_mw"])

    m.del_component("Onsite_Capacity")  # (4) has no generic Onsite left; (O3) replaces it
    m.Onsite_Tech_Split = pyo.Constraint(m.SITES, m.YEARS, rule=split_rule,
                                         doc=split_rule.__doc__)
    m.Onsite_Tech_Output = pyo.Constraint(m.ONSITE_GEN_STY, rule=output_rule,
                                          doc=output_rule.__doc__)
    m.Onsite_Reserve = pyo.Constraint(m.SITES, m.YEARS, rule=reserve_rule,
                                      doc=reserve_rule.__doc__)
    m.Onsite_Supply = pyo.Constraint(m.ONSITE_SUPPLY_TY, rule=supply_rule,
                                     doc=supply_rule.__doc__)
    m.Onsite_Total = pyo.Constraint(m.ONSITE_TOTAL_T, rule=total_rule, doc=total_rule.__doc__)

    # --- the capacity model's on-site quantities and costs, re-stated per technology ---
    for s in ix.sites:
        for y in years:
            m.OnsiteCapacityMW[s, y].set_value(sum(
                m.OnsiteTechMW[s, t, y].expr for t in techs_at.get((s, y), [])))
    spend = {y: sum(k * capex[t] * m.OnsiteTech[s, t, y] for t in techs
                    for s in in_year.get((t, y), [])) for y in years}
    for y in years:
        m.Onsite_Spend[y].set_value(spend[y])
        # CRF(ℓ_t)·δ_y·c_t·OnsiteTech[s,t,τ] over the vintages τ in service in y
        annuity = [crf(d.discount_rate, life[t]) * m.discount_factor[y] * k * capex[t]
                   * m.OnsiteTech[s, t, τ] for s, t in gen_in[y] for τ in vintages[s, t, y]]
        m.Cost_Onsite[y].set_value(sum(annuity))
        m.Cost_Fuel[y].set_value(sum(
            k * m.discount_factor[y] * uh * ot.fuel_usd_per_mwh[t, y] * m.OnsiteGen[s, t, y]
            for s, t in gen_in[y] if ot.fuel_usd_per_mwh[t, y]))

    def cost_onsite_om(m: Any, y: int) -> Any:
        """δ_y·Σ_{s,t} f_t·cap[s,t,y]: fixed O&M of on-site technologies, million USD."""
        return sum(k * m.discount_factor[y] * fom[t] * m.OnsiteTechMW[s, t, y].expr
                   for s, t in gen_in[y] if fom[t])

    m.Cost_Onsite_OM = pyo.Expression(m.YEARS, rule=cost_onsite_om, doc=cost_onsite_om.__doc__)
    add_cost_component(m, OM_COMPONENT, "Cost_Onsite_OM")

    if hasattr(m, "Site_Emissions"):  # the carbon layer: per-technology CO2
        for s in ix.sites:
            for y in years:
                grid = m.grid_carbon_kt_per_mw_year[s] * m.GridLoad[s, y]
                onsite = sum(uh * co2[t] / EMISSIONS_SCALE * m.OnsiteGen[s, t, y]
                             for t in techs_at.get((s, y), []) if co2[t])
                m.Site_Emissions[s, y].set_value(grid + onsite)
    if hasattr(m, "Capex_Spend"):  # capital budgets: per-technology capex
        for s, t, y in rows:
            m.Capex_Spend[s, y].set_value(m.Capex_Spend[s, y].expr
                                          + k * capex[t] * m.OnsiteTech[s, t, y])
