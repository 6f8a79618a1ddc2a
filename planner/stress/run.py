"""Load, link and simulate: :func:`stress`, the Python twin of ``dcplan stress``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from grids.tables import InputError
from planner.inputs.scenario import Scenario, load_scenario
from planner.stress.engine import simulate
from planner.stress.market import market_from_scenario
from planner.stress.result import StressResult
from planner.stress.shocks import ShockPlan
from sites.portfolio import Portfolio, Shock, check_shock_targets, load_portfolio


def stress(
    portfolio: str | Path | Portfolio | None = None,
    shocks: list[Shock] | None = None,
    *,
    scenario: str | Path | Scenario | None = None,
    progress: Callable[[str], None] | None = None,
) -> StressResult:
    """Load, link and simulate: the Python twin of ``dcplan stress``.

    Parameters
    ----------
    portfolio : portfolio YAML (``None`` = bundled example) or a loaded :class:`Portfolio`.
    shocks : extra shocks (e.g. from ``--shock``), added to the portfolio's own.
    scenario : capacity scenario YAML (``None`` = bundled us-base) or a loaded one.
    progress : called with a stage label ("load", "capacity", "simulate").

    Examples
    --------
    >>> from planner.stress import stress
    >>> r = stress()  # doctest: +SKIP
    >>> r.metrics["dscr"].sel(operator="cipher", year=2030).item()  # doctest: +SKIP
    """
    step = progress or (lambda _s: None)
    t0 = time.perf_counter()
    step("load")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    pf = portfolio if isinstance(portfolio, Portfolio) else \
        load_portfolio(portfolio, sc.regions, sc.geometry)
    extra = list(shocks or [])
    check_shock_targets(extra, pf.operators, pf.customers, pf.spec.years)
    all_shocks = list(pf.spec.shocks) + extra
    missing = [y for y in pf.years if y not in sc.years]
    if missing:
        raise InputError(f"portfolio years {pf.years[0]}–{pf.years[-1]} are not all inside "
                         f"the capacity scenario '{sc.name}' years {sc.years[0]}–{sc.years[-1]}",
                         file=pf.path, key="years")
    t1 = time.perf_counter()
    step("capacity")
    plan = ShockPlan(all_shocks)
    market = market_from_scenario(sc, pf, plan.demand_multiplier(sc.years))
    t2 = time.perf_counter()
    step("simulate")
    result = simulate(pf, all_shocks, market)
    result.seconds = {"load": t1 - t0, "capacity": t2 - t1,
                      "simulate": time.perf_counter() - t2}
    result.metrics.attrs["capacity_scenario_path"] = str(sc.path)
    return result
