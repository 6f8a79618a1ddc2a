"""Lever "capital budgets" (L3a, scenario key ``budget``).

Overnight capex spent at a site in a year is the named expression ``Capex_Spend[s,y]``
(million USD, undiscounted); budgets bound its sum over all sites
(``Capital_Budget``), a region's sites (``Capital_Budget_Region``) or an operator's
sites (``Capital_Budget_Operator``). Chips of the existing fleet cost nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyomo.environ as pyo

from models.capacity import USD_SCALE, CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario sets a capital budget."""
    lv = d.levers
    return lv is not None and bool(lv.budget_total_usd or lv.budget_region_usd
                                   or lv.budget_operator_usd)


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``Capex_Spend`` and the budget rows that are set."""
    lv, ix = d.levers, m.ix
    k = 1.0 / USD_SCALE
    grid_ok, onsite_ok = set(ix.grid_sy), set(ix.onsite_sy)
    buy = {y: [g for g in ix.chips if y in set(ix.chip_years.get(g, []))] for y in ix.years}
    region = d.sites["region"]
    operator = d.sites["operator"] if "operator" in d.sites else pd.Series(None, d.sites.index)

    def capex_spend(m: Any, s: str, y: int) -> Any:
        """c^build_s·build[s,y] + c^grid_r(s)·grid[s,y] + c^onsite·onsite[s,y]
        + Σ_g κ_g·it[s,g,y]: overnight capex spent at s in y, million USD."""
        e = k * m.build_capex_usd_per_mw[s] * m.Build[s, y]
        if (s, y) in grid_ok:
            e = e + k * m.grid_capex_usd_per_mw[s] * m.Grid[s, y]
        if (s, y) in onsite_ok:
            e = e + k * d.onsite_capex_usd_per_mw * m.Onsite[s, y]
        return e + sum(k * m.kappa_usd_per_mw[g] * m.IT[s, g, y] for g in buy[y])

    m.Capex_Spend = pyo.Expression(m.SITES, m.YEARS, rule=capex_spend, doc=capex_spend.__doc__)
    m.report_expressions.append("Capex_Spend")
    region_sites = {r: [s for s in ix.sites if region[s] == r] for r, _ in lv.budget_region_usd}
    operator_sites = {o: [s for s in ix.sites if operator[s] == o]
                      for o, _ in lv.budget_operator_usd}

    def budget_rule(m: Any, y: int) -> Any:
        """(L3a) Σ_s [c^build_s·build[s,y] + c^grid_r(s)·grid[s,y] + c^onsite·onsite[s,y]
        + Σ_g κ_g·it[s,g,y]] ≤ budget[y]   (overnight capex spent in y, undiscounted,
        million USD; chips of the existing fleet cost nothing)."""
        return sum(m.Capex_Spend[s, y] for s in ix.sites) <= lv.budget_total_usd[y] * k

    def budget_region_rule(m: Any, r: str, y: int) -> Any:
        """(L3a) the same sum over the sites s ∈ r ≤ budget[r,y]."""
        return sum(m.Capex_Spend[s, y] for s in region_sites[r]) \
            <= lv.budget_region_usd[r, y] * k

    def budget_operator_rule(m: Any, o: str, y: int) -> Any:
        """(L3a) the same sum over the sites whose operator is o ≤ budget[o,y]."""
        return sum(m.Capex_Spend[s, y] for s in operator_sites[o]) \
            <= lv.budget_operator_usd[o, y] * k

    if lv.budget_total_usd:
        m.BUDGET_Y = pyo.Set(initialize=sorted(lv.budget_total_usd), ordered=True)
        m.Capital_Budget = pyo.Constraint(m.BUDGET_Y, rule=budget_rule, doc=budget_rule.__doc__)
    if lv.budget_region_usd:
        m.BUDGET_RY = pyo.Set(dimen=2, initialize=sorted(lv.budget_region_usd), ordered=True)
        m.Capital_Budget_Region = pyo.Constraint(m.BUDGET_RY, rule=budget_region_rule,
                                                 doc=budget_region_rule.__doc__)
    if lv.budget_operator_usd:
        m.BUDGET_OY = pyo.Set(dimen=2, initialize=sorted(lv.budget_operator_usd), ordered=True)
        m.Capital_Budget_Operator = pyo.Constraint(m.BUDGET_OY, rule=budget_operator_rule,
                                                   doc=budget_operator_rule.__doc__)
