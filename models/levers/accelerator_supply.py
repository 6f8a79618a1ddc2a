"""Layer "accelerator supply" (L6b, scenario key ``accelerator_supply``).

The most new compute the US can buy per vendor (or all vendors, ``all``) and year,
from ``models/data/accelerator_supply.csv`` (``us_max_h100e``):

    (L6b) Σ_{s, g: vendor(g) = v} π_g·it[s,g,y] ≤ supply[v,y]   (thousand H100e;
          v = ``all`` sums every chip, synthetic frontier chips included).

Its dual is the value of one more H100e of the vendor's supply in the year
(results: ``gpu_supply_value_usd_per_h100e``).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import COMPUTE_SCALE, CapacityInputs

#: Vendor id of the rows that bound all purchases together (as models.supply.ALL_VENDORS).
ALL = "all"


def active(d: CapacityInputs) -> bool:
    """Whether the scenario limits accelerator supply."""
    return d.levers is not None and bool(d.levers.accelerator_supply_h100e)


def supply_rows(d: CapacityInputs, ix: Any) -> list[tuple[str, int]]:
    """(vendor, year) rows with a limit, a model year and some chip of the vendor on sale."""
    vendor = d.chips["vendor"].astype(str)
    rows = []
    for v, y in d.levers.accelerator_supply_h100e:
        if y not in ix.years:
            continue
        if any(y in ix.chip_years.get(g, []) and (v == ALL or vendor[g] == v)
               for g in ix.chips):
            rows.append((v, y))
    return rows


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``SUPPLY_VY``, ``Bought`` and ``Accelerator_Supply``."""
    ix = m.ix
    vendor = d.chips["vendor"].astype(str)
    rows = supply_rows(d, ix)
    cap = d.levers.accelerator_supply_h100e
    sites_of: dict[tuple[str, int], list[str]] = {}
    for s, g, t in ix.it_sgy:
        sites_of.setdefault((g, t), []).append(s)
    m.SUPPLY_VY = pyo.Set(dimen=2, initialize=rows, ordered=True)
    pi = m.pi_kh100e_per_mw

    def bought(m: Any, v: str, y: int) -> Any:
        """Σ_{s, g of v} π_g·it[s,g,y]: new compute bought from vendor v in y, thousand H100e."""
        return sum(pi[g] * m.IT[s, g, y] for g in ix.chips
                   if (v == ALL or vendor[g] == v) for s in sites_of.get((g, y), []))

    m.Bought = pyo.Expression(m.SUPPLY_VY, rule=bought, doc=bought.__doc__)
    m.report_expressions.append("Bought")

    def supply_rule(m: Any, v: str, y: int) -> Any:
        """(L6b) Σ_{s, g: vendor(g)=v} π_g·it[s,g,y] ≤ supply[v,y]   (thousand H100e)."""
        return m.Bought[v, y].expr <= cap[v, y] / COMPUTE_SCALE

    m.Accelerator_Supply = pyo.Constraint(m.SUPPLY_VY, rule=supply_rule,
                                          doc=supply_rule.__doc__)
