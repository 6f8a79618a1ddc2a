"""Headline numbers a reader can act on: the plan's cost apart from the value of
unserved compute, the levelized cost of compute, the assumptions, the answer.

Everything here reads the results Dataset, the cost breakdown and the scenario;
nothing reads the LP.

* ``plan_cost_usd`` — present value of what would be spent: capital (facility,
  grid, on-site, chips), energy, capacity, fuel and carbon.
* ``unserved_value_usd`` — present value of the compute demand the plan does
  not serve (the ``unserved`` component: every block of the demand curve left
  unserved, elastic or not), valued at its willingness to pay. It is a penalty,
  not a cost anyone pays. ``plan_cost_usd + unserved_value_usd = objective_usd``.
* ``levelized_cost_usd_per_h100e_year`` — per year, the annualized capital plus
  operating cost of the fleet in service (every cost component but ``unserved``
  that falls in the year, undiscounted) ÷ H100e served.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

#: Cost components that are not spending: the value of compute not served.
PENALTY_COMPONENTS = ("unserved",)

#: Why the levelized and the marginal cost of compute differ (one sentence, for every output).
LEVELIZED_VS_MARGINAL = (
    "The marginal cost is what one more H100e would cost in that year given everything "
    "already built, so it jumps when the cheapest next source changes (a new chip vintage, "
    "on-site power instead of grid); the levelized cost spreads the whole fleet in service "
    "over the compute it serves, so it moves smoothly.")

#: The ties caveat shown next to site-level results.
TIES_NOTE = (
    "the plan is one of several with the same cost: sites with identical costs can trade MW "
    "at no cost, so per-site MW (and site-level values) may differ between solver versions; "
    "the plan cost, the cost breakdown, the yearly totals and the marginal cost of compute are "
    "the same for every optimum, and region totals change only where tied sites lie in "
    "different regions.")


def split_cost(cost_usd_by_component: dict[str, float]) -> tuple[float, float]:
    """(plan cost, value of unserved compute), USD, from the cost by component.

    Examples
    --------
    >>> split_cost({"chips": 10.0, "energy": 5.0, "unserved": 100.0})
    (15.0, 100.0)
    """
    penalty = sum(float(v) for k, v in cost_usd_by_component.items() if k in PENALTY_COMPONENTS)
    spend = sum(float(v) for k, v in cost_usd_by_component.items()
                if k not in PENALTY_COMPONENTS)
    return spend, penalty


def plan_cost_by_year(ds: xr.Dataset) -> pd.DataFrame:
    """Per year: ``plan_cost_usd`` and ``unserved_value_usd`` (present values)."""
    cost = ds["cost_usd"]
    penalty = cost.sel(component=[c for c in cost.component.values
                                  if c in PENALTY_COMPONENTS]).sum("component")
    total = cost.sum("component")
    return pd.DataFrame({"plan_cost_usd": (total - penalty).values,
                         "unserved_value_usd": penalty.values},
                        index=pd.Index(ds.year.values.astype(int), name="year"))


def levelized_cost(ds: xr.Dataset) -> pd.Series:
    """USD per H100e-year of the fleet in service, by year (NaN where nothing is served).

    The cost breakdown counts each year's capital annuities and operating costs at their
    present value; ÷ the discount factor gives the year's own (undiscounted) cost.
    """
    by_year = plan_cost_by_year(ds)["plan_cost_usd"].to_numpy() / ds["discount_factor"].values
    served = ds["served_h100e"].values
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(served > 0, by_year / served, np.nan)
    return pd.Series(value, index=pd.Index(ds.year.values.astype(int), name="year"),
                     name="levelized_cost_usd_per_h100e_year")


def _lead_times(scenario: Any) -> dict[str, int]:
    return {str(r): int(v) for r, v in
            scenario.regions["interconnect_lead_years"].items()}


def assumptions(scenario: Any, hashes: dict[str, str] | None = None) -> dict[str, Any]:
    """What a reader needs to judge the numbers: demand, efficiency, money, power, levers.

    Parameters
    ----------
    scenario : the loaded :class:`~planner.inputs.scenario.Scenario` that was solved.
    hashes : SHA-256 of every input file (``planner.outputs.files.input_hashes``).
    """
    spec = scenario.spec
    d = spec.demand
    demand = scenario.demand_h100e
    if d.preset:
        source = f"preset '{d.preset}'"
    elif d.path:
        source = f"path file {d.path}"
    else:
        source = "base × yearly growth"
    sites = scenario.sites
    onsite_sites = int(sites["onsite_allowed"].astype(bool).sum()) if len(sites) else 0
    levers = scenario.active_levers()
    lever_keys = ("build_block_mw", "grid_block_mw", "fleet", "budget", "carbon", "water",
                  "moratoria", "regional_demand", "forced_builds", "nonfirm", "hours")
    dumped = spec.model_dump(mode="json")
    return {
        "demand": {
            "source": source,
            "preset": d.preset,
            "first_year_h100e": float(demand.iloc[0]),
            "last_year_h100e": float(demand.iloc[-1]),
            "growth": list(d.growth) if d.growth else None,
            "path_h100e": {int(y): float(v) for y, v in demand.items()},
            "value_of_unserved_usd_per_h100e_year": d.value_of_unserved_usd_per_h100e_year,
            "elasticity": d.elasticity,
        },
        "efficiency": {"frontier_growth_per_year": spec.efficiency.frontier_growth,
                       "chips": len(scenario.chips),
                       "synthetic_frontier_chips": int(scenario.chips["synthetic"].sum())},
        "years": [int(scenario.years[0]), int(scenario.years[-1])],
        "discount_rate": spec.discount_rate,
        "utilization": spec.utilization,
        "facility_life_years": spec.facility_life_years,
        "allow_idle_chips": spec.allow_idle_chips,
        "onsite": {**dumped["onsite"], "sites_allowed": onsite_sites,
                   "sites": len(sites),
                   "used": dumped.get("onsite_technologies") is None},
        "onsite_technologies": _onsite_technologies(scenario, dumped),
        "interconnect_lead_years_by_region": _lead_times(scenario),
        "levers": {k: dumped.get(k) for k in lever_keys if dumped.get(k) is not None},
        "levers_active": list(levers),
        "inputs": dict(scenario.table_paths),
        "inputs_sha256": dict(hashes or {}),
    }


def _onsite_technologies(scenario: Any, dumped: dict[str, Any]) -> dict[str, Any] | None:
    """The layer ``onsite_technologies`` as set, with the reserve fraction it uses."""
    spec = dumped.get("onsite_technologies")
    if spec is None:
        return None
    tables = getattr(scenario, "onsite_tables", None)
    if spec.get("reserve_fraction") is None and tables is not None:
        spec = {**spec, "reserve_fraction": tables[2]}
    return spec


def answer(summary: dict[str, Any], schedule: pd.DataFrame, regions: pd.DataFrame) -> list[str]:
    """The answer in three sentences: where and how much, when, at what cost and what binds.

    Parameters
    ----------
    summary : ``summary.json`` of the run (with ``plan_cost_usd``).
    schedule : ``build_schedule.csv``.
    regions : per region and year ``capacity_by_region.csv``.
    """
    years = summary.get("years") or [int(regions["year"].min()), int(regions["year"].max())]
    y0, y1 = int(years[0]), int(years[-1])
    built = regions.groupby("region")["build_mw"].sum().sort_values(ascending=False)
    total = float(built.sum())
    new_power = float(regions["grid_mw"].sum() + regions["onsite_mw"].sum())
    top = built[built > 0.5].iloc[:2]
    if total > 0.5:
        where = " and ".join(f"{r} ({v / 1e3:,.1f} GW)" for r, v in top.items())
        share = float(top.sum()) / total * 100
        first = (f"Build {total / 1e3:,.1f} GW of new facilities over {y0}–{y1}, "
                 f"{share:.0f} % of it in {where}, and add {new_power / 1e3:,.1f} GW of new "
                 "power (grid connections and on-site generation).")
    else:
        first = (f"No new facilities are needed over {y0}–{y1}: the existing halls hold "
                 f"the load, with {new_power / 1e3:,.1f} GW of new power.")
    due = schedule[(schedule["lead_years"] > 0) & (schedule["commit_year"] == y0)
                   & (schedule["kind"] != "queued_grid")]
    load = summary.get("peak_load_mw")
    peak = summary.get("peak_load_year")
    second = (f"Facility load peaks at {load / 1e3:,.1f} GW in {peak}; "
              if load is not None else "")
    if len(due):
        second += (f"{due['mw'].sum():,.0f} MW of grid and on-site power must be committed "
                   f"now ({y0}) to arrive by {int(due['year'].max())}.")
    else:
        second += f"nothing with a lead time has to be committed in {y0}."
    plan = summary.get("plan_cost_usd")
    unserved = summary.get("unserved_value_usd") or 0.0
    comp = summary.get("cost_usd_by_component") or {}
    spend = {k: v for k, v in comp.items() if k not in PENALTY_COMPONENTS}
    biggest = max(spend, key=lambda k: spend[k]) if spend else None
    third = f"The plan costs {plan / 1e9:,.1f} billion USD in present value" if plan is not None \
        else "The plan's cost is not recorded"
    if biggest and plan:
        third += f" ({spend[biggest] / plan * 100:.0f} % {biggest})"
    share = summary.get("unserved_share") or 0.0
    if unserved > 0 and share > 1e-6:
        third += (f"; {share * 100:.1f} % of compute demand is left unserved (valued at "
                  f"{unserved / 1e9:,.1f} billion USD, not part of the cost): power, not money, "
                  "binds.")
    else:
        third += "; all compute demand is served, so cost, not power, binds."
    return [first, second, third]


def run_summary(result: Any, scenario: Any, hashes: dict[str, str] | None = None
                ) -> dict[str, Any]:
    """``summary.json``: :meth:`Result.summary` plus the honest headline numbers.

    Adds ``plan_cost_usd``, ``unserved_value_usd`` (their sum is ``objective_usd``),
    both by year, ``levelized_cost_usd_per_h100e_year``, the peak load, the
    ``assumptions`` block and the ``notes`` a reader needs next to the numbers.
    """
    summary = result.summary()
    ds = result.to_xarray()
    plan, unserved = split_cost(summary["cost_usd_by_component"])
    by_year = plan_cost_by_year(ds)
    load = ds["load_mw"].sum("site").to_series()
    summary.update({
        "plan_cost_usd": plan,
        "unserved_value_usd": unserved,
        "plan_cost_usd_by_year": {int(y): float(v) for y, v in
                                  by_year["plan_cost_usd"].items()},
        "unserved_value_usd_by_year": {int(y): float(v) for y, v in
                                       by_year["unserved_value_usd"].items()},
        "levelized_cost_usd_per_h100e_year": {int(y): float(v) for y, v in
                                              levelized_cost(ds).items()},
        "peak_load_mw": float(load.max()),
        "peak_load_year": int(load.idxmax()),
        "assumptions": assumptions(scenario, hashes),
        "notes": {
            "cost": "plan_cost_usd is what the plan would spend (capital, energy, capacity, "
                    "fuel, carbon); unserved_value_usd is the value of compute demand left "
                    "unserved, a penalty in the objective, not a cost; objective_usd is "
                    "their sum",
            "levelized_vs_marginal": LEVELIZED_VS_MARGINAL,
            "ties": TIES_NOTE,
            "duals": "grid_access_value_usd_per_mw_year is blank where the site could not use "
                     "one more MW of grid (a dual from a degenerate vertex is not a value)",
        },
    })
    return summary
