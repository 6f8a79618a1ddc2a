"""Constraints in plain words, for infeasibility reports
(:class:`planner.optimize.highs.ConflictError`).

The model carries ``m.describe_row(name, index)`` and ``m.related_rows(rows)``
(attached by :func:`models.model.build_model`).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs
from models.levers.data import Levers

#: Constraints a user sets (directly or through a table); the others are the model's
#: structure. An infeasibility report names these first.
USER_CONSTRAINTS = (
    "Forced_Build", "Capital_Budget", "Capital_Budget_Region", "Capital_Budget_Operator",
    "Carbon_Cap", "Water_Site", "Water_Region", "Regional_Demand", "Facility_Limit",
    "Grid_Headroom", "Build_Blocks", "Grid_Blocks", "Build_Lead", "Accelerator_Supply",
    "Grid_Headroom_National", "Onsite_Supply", "Onsite_Total",
)


def usd_words(v: float) -> str:
    return f"{v / 1e9:,.3g} billion USD" if abs(v) >= 1e8 else f"{v:,.0f} USD"


def describe_row(d: CapacityInputs, name: str, index: Any) -> tuple[str, bool]:
    """A constraint row in plain words, and whether the user set it.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from models.levers.data import ForcedBuild
    >>> lv = Levers(forced_builds=[ForcedBuild("a", 2027, 300.0)])
    >>> d = SimpleNamespace(levers=lv)
    >>> describe_row(d, "Forced_Build", 0)
    ('forced build 1 (site a in 2027: at least 300 MW)', True)
    """
    lv = d.levers or Levers()
    idx = index if isinstance(index, tuple) else (index,)
    user = name in USER_CONSTRAINTS
    if name == "Forced_Build":
        f = lv.forced_builds[idx[0]]
        how = "exactly" if f.exact else "at least"
        return (f"forced build {idx[0] + 1} (site {f.site} in {f.year}: {how} "
                f"{f.build_mw:,g} MW)"), user
    if name == "Facility_Limit":
        s, _ = idx
        return f"ceiling of site {s} (max_mw {float(d.sites.at[s, 'max_mw']):,g} MW)", user
    if name == "Capital_Budget":
        return f"capital budget for {idx[0]} ({usd_words(lv.budget_total_usd[idx[0]])})", user
    if name == "Capital_Budget_Region":
        r, y = idx
        budget = usd_words(lv.budget_region_usd[r, y])
        return f"capital budget of region {r} for {y} ({budget})", user
    if name == "Capital_Budget_Operator":
        o, y = idx
        return (f"capital budget of operator {o} for {y} "
                f"({usd_words(lv.budget_operator_usd[o, y])})"), user
    if name == "Carbon_Cap":
        return f"carbon cap for {idx[0]} ({lv.carbon_cap_t[idx[0]]:,.0f} t CO2)", user
    if name == "Water_Site":
        s, y = idx
        return f"water limit of site {s} ({lv.water_limit_site_m3[s]:,.0f} m3/year) in {y}", user
    if name == "Water_Region":
        r, y = idx
        return (f"water limit of region {r} ({lv.water_limit_region_m3[r]:,.0f} m3/year) "
                f"in {y}"), user
    if name == "Regional_Demand":
        k, y = idx
        req = next(q for q in lv.regional_demand if q.name == k)
        return (f"regional demand '{k}' in {y} ({req.share:.0%} of demand served in "
                f"{', '.join(req.regions)})"), user
    if name == "Grid_Headroom":
        r, y = idx
        lim = float(d.load_limit_mw().at[r, y])
        return f"new-load limit of region {r} ({lim:g} MW/year) in {y}", user
    if name == "Build_Lead":
        s, y = idx
        mw, year = lv.under_construction.get(s, (0.0, None))
        extra = f"; {mw:g} MW under construction complete in {year}" if mw else ""
        return (f"construction lead time at {s}: no new hall completed in {y}{extra}"), user
    if name == "Accelerator_Supply":
        v, y = idx
        return (f"accelerator supply of {v} in {y} "
                f"({lv.accelerator_supply_h100e[v, y]:,.0f} H100e)"), user
    if name == "Grid_Headroom_National":
        y = idx[0]
        return (f"national firm headroom in {y} ({lv.national_headroom_mw[y]:,.0f} MW of new "
                "grid connections)"), user
    if name in ("Onsite_Supply", "Onsite_Total") and lv.onsite_tech is not None:
        t = idx[0]
        table = lv.onsite_tech.table
        if name == "Onsite_Supply":
            return (f"national supply of on-site {t} in {idx[1]} "
                    f"({float(table.at[t, 'supply_limit_mw_per_year']):,.0f} MW/year)"), user
        return (f"one-off on-site {t} ({float(table.at[t, 'total_limit_mw']):,.0f} MW "
                "ever)"), user
    if name == "Build_Blocks":
        s, y = idx
        return f"facility builds at {s} in whole blocks of {lv.build_block_mw[s]:g} MW", user
    if name == "Grid_Blocks":
        s, y = idx
        return f"grid connections at {s} in whole blocks of {lv.grid_block_mw[s]:g} MW", user
    plain = {
        "Fleet_Installed": "chips in service at {0} ({1}, {2}) within what is installed"
        + ("" if getattr(d, "allow_idle", True) else " (allow_idle_chips: false: all must run)"),
        "Facility_Load": "facility capacity at {0} in {1}",
        "Load_Split": "load at {0} in {1} served by grid or on site",
        "Grid_Capacity": "grid connection at {0} in {1}",
        "Onsite_Capacity": "on-site generation at {0} in {1}",
        "Onsite_Tech_Split": "on-site load at {0} in {1} served by the technologies",
        "Onsite_Tech_Output": "output of on-site {1} at {0} in {2}",
        "Onsite_Reserve": "firm on-site capacity with its reserve at {0} in {1}",
        "Compute_Demand": "compute demand in {0}",
        "Carbon_Accounting": "emissions accounting in {0}",
    }
    if name in plain:
        return plain[name].format(*idx), user
    return f"{name}[{', '.join(str(i) for i in idx)}]", user


def related_rows(m: pyo.ConcreteModel, rows: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Whole-block rows (L1) at the sites that ``rows`` (name, index) concern.

    A feasibility relaxation of a MILP names the rows it violates, not the
    integrality behind them; these rows complete the explanation.
    """
    lv = m.inputs.levers
    sites: set[str] = set()
    for name, index in rows:
        if name == "Forced_Build":
            sites.add(lv.forced_builds[index].site)
        elif isinstance(index, tuple) and index and index[0] in m.inputs.sites.index:
            sites.add(index[0])
    out = []
    for block in ("Build_Blocks", "Grid_Blocks"):
        comp = getattr(m, block, None)
        if comp is not None:
            out += [(block, index) for index in comp if index[0] in sites]
    return out
