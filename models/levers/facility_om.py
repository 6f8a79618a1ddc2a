"""Layer "facility fixed O&M" (scenario key ``market``): idle halls cost money.

Every facility MW standing (existing and built) pays a fixed O&M a year, whether
or not it holds chips — cost component ``facility_om``:

    Cost_Facility_OM[y] = δ_y · om · Σ_s (existing_mw_s + Σ_{τ≤y} build[s,τ]).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import USD_SCALE, CapacityInputs, add_cost_component


def active(d: CapacityInputs) -> bool:
    """Whether halls carry a fixed O&M."""
    return d.levers is not None and d.levers.facility_om_usd_per_mw_year > 0


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add the cost component ``facility_om`` (``Cost_Facility_OM``)."""
    om = d.levers.facility_om_usd_per_mw_year / USD_SCALE

    def cost_facility_om(m: Any, y: int) -> Any:
        """δ_y·om·Σ_s FacilityMW[s,y]: fixed O&M of every standing hall, million USD."""
        return om * m.discount_factor[y] * sum(m.FacilityMW[s, y].expr for s in m.SITES)

    m.Cost_Facility_OM = pyo.Expression(m.YEARS, rule=cost_facility_om,
                                        doc=cost_facility_om.__doc__)
    add_cost_component(m, "facility_om", "Cost_Facility_OM")
