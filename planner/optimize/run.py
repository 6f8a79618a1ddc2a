"""Orchestration: scenario → Pyomo model → HiGHS → :class:`Result`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from models.levers import active_levers
from models.model import build_model
from planner.inputs.scenario import Scenario, curtailment_headroom
from planner.optimize.highs import LPSolution, solve_lp
from planner.optimize.solver_options import solver_options
from planner.outputs.results import Result


def solve(
    scenario: Scenario,
    *,
    progress: Callable[[str], None] | None = None,
    verbose: bool = False,
    time_limit_seconds: float | None = None,
    options: dict | None = None,
    prepare: Callable[[Any], None] | None = None,
) -> Result:
    """Build the model for ``scenario`` (:func:`models.model.build_model`) and solve it
    with HiGHS.

    Parameters
    ----------
    scenario : from :func:`planner.load_scenario`.
    progress : called with a short label before each stage ("build", "solve").
    verbose : show the HiGHS log.
    time_limit_seconds : HiGHS time limit; a plan that is not optimal raises
        :class:`planner.optimize.highs.SolveError`.
    options : HiGHS options, e.g. ``{"solver": "ipm"}``; by default
        :func:`planner.optimize.solver_options.solver_options` for the scenario's size.
    prepare : called with the built Pyomo model before it is solved, e.g. to fix the
        commitments of a hedged plan (:mod:`planner.hedge`).

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
    mip = inputs.levers is not None and inputs.levers.integer
    if options is None:
        options = solver_options(len(scenario.sites), mip=mip)
    model = build_model(inputs)
    if prepare is not None:
        prepare(model)
    build_seconds = time.perf_counter() - t0
    step("solve")
    lp = solve_lp(model, verbose=verbose, time_limit_seconds=time_limit_seconds,
                  options=options, mip_rel_gap=scenario.spec.mip_rel_gap)
    return result_of(scenario, model, lp, build_seconds)


def result_of(scenario: Scenario, model: Any, lp: LPSolution, build_seconds: float) -> Result:
    """The :class:`Result` of ``scenario`` from its solved capacity model ``model``: its
    own solve's ``lp``, or its block's solution of a larger model (a hedged plan's
    extensive form, :attr:`planner.optimize.highs.LPSolution.blocks`)."""
    inputs = model.inputs
    levers = active_levers(inputs)
    pct, headroom = curtailment_headroom(scenario, inputs.levers)
    return Result(
        scenario_name=scenario.name,
        inputs=inputs,
        ix=model.ix,
        lp=lp,
        build_seconds=build_seconds,
        curtailment_headroom_mw=headroom,
        curtailment_pct=pct,
        attrs={"frontier_growth": scenario.spec.efficiency.frontier_growth
               if scenario.spec.efficiency.frontier_growth is not None else "none",
               **({"levers": ", ".join(levers)} if levers else {})},
    )
