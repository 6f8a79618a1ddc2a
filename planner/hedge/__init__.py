"""Hedged plans: what to commit now when the future is one of several (``dcplan hedge``).

Python API::

    import planner
    from planner.hedge import hedge, write_hedge
    result = hedge(planner.load_scenario("planner/data/us-base-hedge.yaml"))
    result.decisions_due_now()          # what must be committed in the first year
    result.evpi_usd, result.vss_usd     # what perfect information / hedging are worth

The math is in :mod:`models.stochastic`; docs/hedge.md explains how to read the results.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from planner.hedge.engine import HedgeResult, solve_hedge
from planner.hedge.outputs import write_hedge
from planner.hedge.tree import ScenarioTree, build_tree
from planner.inputs.scenario import Scenario

__all__ = ["HedgeResult", "ScenarioTree", "build_tree", "default_hedge_path", "hedge",
           "solve_hedge", "write_hedge"]


def default_hedge_path() -> Path:
    """The bundled example: us-base under the four demand presets."""
    return Path(str(resources.files("planner") / "data" / "us-base-hedge.yaml"))


def hedge(scenario: Scenario, *, progress: Callable[[str], None] | None = None,
          regret: bool = True, method: str = "ef", ranks: int = 1,
          verbose: bool = False, workers: int | str = "auto",
          ph_iterations: int | None = None, ph_gap: float | None = None) -> HedgeResult:
    """The hedged plan of a scenario with an ``uncertainty:`` section.

    ``method`` is ``"ef"`` (the extensive form, solved by HiGHS) or ``"ph"`` (progressive
    hedging with mpi-sppy, ``ranks`` MPI processes, at most ``ph_iterations`` iterations,
    stopping once its plan is proven within ``ph_gap`` of the optimum; None: PH's own
    :data:`planner.hedge.ph.MAX_ITERATIONS` and :data:`~planner.hedge.ph.GAP_RELATIVE`);
    ``workers`` processes solve the single futures (wait and see, recourse, EEV, regret)
    side by side (:func:`planner.hedge.engine.resolve_workers`).
    """
    st = build_tree(scenario)
    if method == "ph":
        from planner.hedge.ph import check_ph

        check_ph(st, ranks)
    if method == "ef":
        return solve_hedge(st, progress=progress, regret=regret, verbose=verbose,
                           workers=workers)
    if method != "ph":
        raise ValueError(f"method must be ef or ph, got {method!r}")
    from planner.hedge.ph import GAP_RELATIVE, MAX_ITERATIONS, progressive_hedging_plan

    iterations = MAX_ITERATIONS if ph_iterations is None else ph_iterations
    gap = GAP_RELATIVE if ph_gap is None else ph_gap
    return solve_hedge(st, progress=progress, regret=regret, verbose=verbose,
                       planner_of=lambda s: progressive_hedging_plan(
                           s, ranks=ranks, verbose=verbose, max_iterations=iterations,
                           gap_relative=gap),
                       label="progressive hedging", workers=workers)
