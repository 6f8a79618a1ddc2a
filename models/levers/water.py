"""Lever "water" (L4a, scenario key ``water``, sites column ``cooling``).

Cooling water per site and year is the named expression ``Water_Use[s,y]``
(w_s·u·H·Σ_g U[s,g,y], thousand m³) for the sites with w_s > 0; ``Water_Site`` and
``Water_Region`` bound it (one limit for every year).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import HOURS_PER_YEAR, CapacityInputs
from models.levers.data import WATER_SCALE


def active(d: CapacityInputs) -> bool:
    """Whether water is accounted."""
    return d.levers is not None and d.levers.water


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``WET_SITES``, ``Water_Use`` and the water limits that are set."""
    lv, ix = d.levers, m.ix
    uh = d.utilization * HOURS_PER_YEAR
    coef = {s: uh * lv.water_m3_per_mwh.get(s, 0.0) / WATER_SCALE for s in ix.sites}
    wet = [s for s in ix.sites if coef[s] > 0]
    region = d.sites["region"]
    m.WET_SITES = pyo.Set(initialize=wet, ordered=True)
    m.water_km3_per_it_mw_year = pyo.Param(m.WET_SITES, initialize={s: coef[s] for s in wet},
                                           doc="w_s·u·H: thousand m³ per IT-MW for a year")

    def water_use(m: Any, s: str, y: int) -> Any:
        """w_s·u·H·Σ_g U[s,g,y]: cooling water used at s in y, thousand m³."""
        return m.water_km3_per_it_mw_year[s] * m.FleetMW[s, y]

    m.Water_Use = pyo.Expression(m.WET_SITES, m.YEARS, rule=water_use, doc=water_use.__doc__)
    m.report_expressions.append("Water_Use")
    site_sy = [(s, y) for s in wet if s in lv.water_limit_site_m3 for y in ix.years]
    sites_in = {r: [s for s in wet if region[s] == r] for r in lv.water_limit_region_m3}
    region_ry = [(r, y) for r in lv.water_limit_region_m3 if sites_in[r] for y in ix.years]
    if site_sy:
        m.WATER_SITE_SY = pyo.Set(dimen=2, initialize=site_sy, ordered=True)

        def water_site_rule(m: Any, s: str, y: int) -> Any:
            """(L4a) w_s·u·H·Σ_g U[s,g,y] ≤ water_limit_s   (thousand m³ a year; w_s = m³ per
            IT-MWh of the site's cooling type)."""
            return m.Water_Use[s, y] <= lv.water_limit_site_m3[s] / WATER_SCALE

        m.Water_Site = pyo.Constraint(m.WATER_SITE_SY, rule=water_site_rule,
                                      doc=water_site_rule.__doc__)
    if region_ry:
        m.WATER_REGION_RY = pyo.Set(dimen=2, initialize=region_ry, ordered=True)

        def water_region_rule(m: Any, r: str, y: int) -> Any:
            """(L4a) Σ_{s∈r} w_s·u·H·Σ_g U[s,g,y] ≤ water_limit_r   (thousand m³ a year)."""
            return sum(m.Water_Use[s, y] for s in sites_in[r]) \
                <= lv.water_limit_region_m3[r] / WATER_SCALE

        m.Water_Region = pyo.Constraint(m.WATER_REGION_RY, rule=water_region_rule,
                                        doc=water_region_rule.__doc__)
