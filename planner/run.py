"""Orchestration: scenario → Pyomo model → HiGHS → :class:`Result`."""

from __future__ import annotations

import time
from collections.abc import Callable

from models.capacity import build_model
from planner.highs import solve_lp
from planner.results import Result
from planner.scenario import Scenario


def solve(
    scenario: Scenario,
    *,
    progress: Callable[[str], None] | None = None,
    verbose: bool = False,
    time_limit_seconds: float | None = None,
) -> Result:
    """Build the capacity model for ``scenario`` and solve it with HiGHS.

    Parameters
    ----------
    scenario : from :func:`planner.load_scenario`.
    progress : called with a short label before each stage ("build", "solve").
    verbose : show the HiGHS log.
    time_limit_seconds : HiGHS time limit; a plan that is not optimal raises
        :class:`planner.highs.SolveError`.

    Examples
    --------
    >>> import planner
    >>> result = planner.solve(planner.load_scenario())
    >>> result.status
    'Optimal'
    """
    step = progress or (lambda _label: None)
    step("build")
    t0 = time.perf_counter()
    inputs = scenario.capacity_inputs()
    model = build_model(inputs)
    build_seconds = time.perf_counter() - t0
    step("solve")
    lp = solve_lp(model, verbose=verbose, time_limit_seconds=time_limit_seconds)
    return Result(
        scenario_name=scenario.name,
        inputs=inputs,
        ix=model.ix,
        lp=lp,
        build_seconds=build_seconds,
        attrs={"frontier_growth": scenario.spec.efficiency.frontier_growth
               if scenario.spec.efficiency.frontier_growth is not None else "none"},
    )
