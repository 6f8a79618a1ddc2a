"""Lever "carbon" (L3b, L3c, scenario keys ``carbon``, ``onsite.emission_t_per_mwh``).

Emissions per site and year are the named expression ``Site_Emissions[s,y]``;
``Carbon_Accounting`` defines the variable ``Emissions[y]`` as their sum,
``Carbon_Cap`` bounds it and a carbon price adds the cost component ``carbon``
(``Cost_Carbon[y]``). Inside the LP emissions are in kt CO2.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import HOURS_PER_YEAR, USD_SCALE, CapacityInputs, add_cost_component
from models.levers.data import EMISSIONS_SCALE

#: The cost component a carbon price adds (reported after the capacity model's).
CARBON_COMPONENT = "carbon"


def active(d: CapacityInputs) -> bool:
    """Whether emissions are accounted."""
    return d.levers is not None and d.levers.carbon


def priced(d: CapacityInputs) -> bool:
    """Whether a carbon price is set (a cost component ``carbon``)."""
    return active(d) and any(d.levers.carbon_price_usd_per_t.values())


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``Site_Emissions``, ``Emissions``, ``Carbon_Accounting``, ``Carbon_Cap`` (when
    capped) and ``Cost_Carbon`` (when priced)."""
    lv, ix = d.levers, m.ix
    uh = d.utilization * HOURS_PER_YEAR
    region = d.sites["region"]
    m.grid_carbon_kt_per_mw_year = pyo.Param(
        m.SITES, initialize={s: uh * float(d.regions.at[region[s], "carbon_t_per_mwh"])
                             / EMISSIONS_SCALE for s in ix.sites},
        doc="u·H·c_r(s): kt CO2 per MW of grid load for a year")
    onsite_kt = uh * lv.onsite_emission_t_per_mwh / EMISSIONS_SCALE

    def site_emissions(m: Any, s: str, y: int) -> Any:
        """u·H·(c_r(s)·gridload[s,y] + e_onsite·onsiteload[s,y]), kt CO2."""
        e = 0.0
        cg = m.grid_carbon_kt_per_mw_year[s]
        if cg > 0:
            e = cg * m.GridLoad[s, y]
        if onsite_kt > 0:
            e = e + onsite_kt * m.OnsiteLoad[s, y]
        return e

    m.Site_Emissions = pyo.Expression(m.SITES, m.YEARS, rule=site_emissions,
                                      doc=site_emissions.__doc__)
    m.report_expressions.append("Site_Emissions")
    m.Emissions = pyo.Var(m.YEARS, domain=pyo.NonNegativeReals,
                          doc="CO2 from grid energy and on-site fuel in y, kt")

    def carbon_accounting_rule(m: Any, y: int) -> Any:
        """(L3b) emissions[y] = Σ_s u·H·(c_r(s)·gridload[s,y] + e_onsite·onsiteload[s,y])
        (kt CO2; c_r = regions.carbon_t_per_mwh, e_onsite = onsite.emission_t_per_mwh)."""
        return m.Emissions[y] - sum(m.Site_Emissions[s, y] for s in ix.sites) == 0

    m.Carbon_Accounting = pyo.Constraint(m.YEARS, rule=carbon_accounting_rule,
                                         doc=carbon_accounting_rule.__doc__)
    if lv.carbon_cap_t:
        m.CARBON_CAP_Y = pyo.Set(initialize=sorted(lv.carbon_cap_t), ordered=True)

        def carbon_cap_rule(m: Any, y: int) -> Any:
            """(L3c) emissions[y] ≤ cap[y]   (kt CO2)."""
            return m.Emissions[y] <= lv.carbon_cap_t[y] / EMISSIONS_SCALE

        m.Carbon_Cap = pyo.Constraint(m.CARBON_CAP_Y, rule=carbon_cap_rule,
                                      doc=carbon_cap_rule.__doc__)
    if priced(d):
        price = lv.carbon_price_usd_per_t

        def cost_carbon(m: Any, y: int) -> Any:
            """δ_y·carbon_price[y]·emissions[y], million USD."""
            p = price.get(y, 0.0)
            if not p:
                return 0.0
            return m.discount_factor[y] * p * EMISSIONS_SCALE / USD_SCALE * m.Emissions[y]

        m.Cost_Carbon = pyo.Expression(m.YEARS, rule=cost_carbon, doc=cost_carbon.__doc__)
        add_cost_component(m, CARBON_COMPONENT, "Cost_Carbon")
