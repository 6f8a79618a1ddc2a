"""Lever "regional demand" (L5a, scenario key ``regional_demand``).

Compute served inside a requirement's regions is the named expression
``Regional_Served[k,y]`` (thousand H100e); ``Regional_Demand`` requires a share of the
reference demand there in the requirement's years.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import COMPUTE_SCALE, CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario sets a regional requirement."""
    return d.levers is not None and bool(d.levers.regional_demand)


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``REQUIREMENTS``, ``Regional_Served`` and ``Regional_Demand``."""
    lv, ix = d.levers, m.ix
    region = d.sites["region"]
    sites_of = {q.name: [s for s in ix.sites if region[s] in set(q.regions)]
                for q in lv.regional_demand}
    share = {q.name: q.share for q in lv.regional_demand}
    demand_k = (d.demand_h100e / COMPUTE_SCALE).to_dict()
    m.REQUIREMENTS = pyo.Set(initialize=list(sites_of), ordered=True)

    def regional_served(m: Any, k: str, y: int) -> Any:
        """Σ_{s∈R_k} Σ_g π_g·U[s,g,y]: compute served inside the regions, thousand H100e."""
        return sum(m.Site_Served[s, y] for s in sites_of[k])

    m.Regional_Served = pyo.Expression(m.REQUIREMENTS, m.YEARS, rule=regional_served,
                                       doc=regional_served.__doc__)
    m.report_expressions.append("Regional_Served")
    ky = [(q.name, y) for q in lv.regional_demand for y in q.years if sites_of[q.name]]
    if ky:
        m.REGIONAL_KY = pyo.Set(dimen=2, initialize=ky, ordered=True)

        def regional_required(m: Any, k: str, y: int) -> Any:
            """share_k · demand[y]: compute required inside the regions, thousand H100e
            (demand = the reference path)."""
            return share[k] * demand_k[y]

        m.Regional_Required = pyo.Expression(m.REGIONAL_KY, rule=regional_required,
                                             doc=regional_required.__doc__)
        m.report_expressions.append("Regional_Required")

        def regional_demand_rule(m: Any, k: str, y: int) -> Any:
            """(L5a) Σ_{s∈R_k} Σ_g π_g·U[s,g,y] ≥ share_k · demand[y]   (thousand H100e;
            demand = the reference path)."""
            return m.Regional_Served[k, y] >= m.Regional_Required[k, y].expr

        m.Regional_Demand = pyo.Constraint(m.REGIONAL_KY, rule=regional_demand_rule,
                                           doc=regional_demand_rule.__doc__)
