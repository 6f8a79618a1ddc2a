"""Orchestration: scenario → Pyomo model → HiGHS → :class:`Result`."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from models.capacity import build_model, index_sets
from models.capacity_matrix import build_matrix
from models.levers import active_levers
from planner.inputs.scenario import Scenario
from planner.optimize.highs import solve_lp, solve_standard_form
from planner.outputs.results import Result

#: Above this many sites ``route="auto"`` assembles the LP with NumPy instead of Pyomo.
PYOMO_MAX_SITES = 500
#: From this many sites HiGHS's interior-point solver IPX (with crossover, so the
#: plan and duals are a vertex like simplex's) replaces dual simplex: measured
#: 28.6 s vs 246 s at 1,000 sites, the same objective (docs/benchmarks.md).
IPM_MIN_SITES = 200
#: Above this many sites the interior-point solution is returned without
#: crossover, from HiPO (HiGHS's newer interior-point solver, in highspy-extras)
#: when it is installed, else IPX: 10,000 sites solve in 422 s with HiPO against
#: more than 1,400 s with IPX (3,000 sites: 79 s vs 200 s); the objective agrees
#: to ~1e-6 and duals are interior-point duals (docs/benchmarks.md).
CROSSOVER_MAX_SITES = 2000


@functools.cache
def hipo_available() -> bool:
    """Whether HiGHS's HiPO solver can run: ``highspy-extras`` of this HiGHS's version.

    The extras library is built for one highspy minor version; a mismatched pair loads
    no HiPO (HiGHS then falls back silently), so the versions are compared.
    """
    try:
        import highspy_extras
    except ImportError:
        return False
    from planner.optimize.highs import highs_version

    return str(highspy_extras.__version__).split(".")[:2] == highs_version().split(".")[:2]


def default_options(n_sites: int, mip: bool = False) -> dict | None:
    """The HiGHS options :func:`solve` uses when none are given (measured choices).

    Examples
    --------
    >>> default_options(50) is None  # HiGHS's default: dual simplex
    True
    >>> default_options(1000)
    {'solver': 'ipx'}
    >>> default_options(10000)["run_crossover"]
    'off'
    """
    if mip or n_sites < IPM_MIN_SITES:
        return None  # simplex; branch and bound for a MILP
    if n_sites <= CROSSOVER_MAX_SITES:
        return {"solver": "ipx"}
    return {"solver": "hipo" if hipo_available() else "ipx", "run_crossover": "off"}


def algorithm_name(n_sites: int, mip: bool = False) -> str:
    """What :func:`default_options` picks, in words (for ``dcplan validate`` and benches)."""
    if mip:
        return "HiGHS MILP (branch and bound)"
    opts = default_options(n_sites)
    if opts is None:
        return "HiGHS dual simplex"
    name = "HiPO interior point" if opts["solver"] == "hipo" else "IPX interior point"
    return "HiGHS " + name + (" without crossover" if "run_crossover" in opts else
                              " with crossover")


def solve(
    scenario: Scenario,
    *,
    progress: Callable[[str], None] | None = None,
    verbose: bool = False,
    time_limit_seconds: float | None = None,
    route: str = "auto",
    options: dict | None = None,
    prepare: Callable[[Any], None] | None = None,
) -> Result:
    """Build the capacity model for ``scenario`` and solve it with HiGHS.

    Parameters
    ----------
    scenario : from :func:`planner.load_scenario`.
    progress : called with a short label before each stage ("build", "solve").
    verbose : show the HiGHS log.
    time_limit_seconds : HiGHS time limit; a plan that is not optimal raises
        :class:`planner.optimize.highs.SolveError`.
    route : ``"pyomo"`` (the readable Pyomo model, compiled by Pyomo's
        standard-form compiler), ``"matrix"`` (the same LP assembled with
        vectorized NumPy, for thousands of sites) or ``"auto"`` (Pyomo up to
        :data:`PYOMO_MAX_SITES` sites, else matrix — and always Pyomo when
        the scenario sets a lever, docs/levers.md). Both give the same optimum
        (tested); ``docs/benchmarks.md`` has the measurements. The matrix
        route does not express the levers: forcing it with a lever set raises
        :class:`grids.tables.InputError` ("lever X needs route pyomo").
    prepare : called with the built Pyomo model before it is solved, e.g. to fix the
        commitments of a hedged plan (:mod:`planner.hedge`); implies the Pyomo route.
    options : HiGHS options, e.g. ``{"solver": "ipm"}``; by default
        :func:`default_options`: dual simplex below :data:`IPM_MIN_SITES` sites,
        interior point above (without crossover above :data:`CROSSOVER_MAX_SITES`).

    Examples
    --------
    >>> import planner
    >>> result = planner.solve(planner.load_scenario())
    >>> result.status
    'Optimal'
    """
    step = progress or (lambda _label: None)
    if route not in ("auto", "pyomo", "matrix"):
        raise ValueError(f"route must be auto, pyomo or matrix, got {route!r}")
    step("build")
    t0 = time.perf_counter()
    inputs = scenario.capacity_inputs()
    levers = active_levers(inputs)
    if route == "auto":
        route = ("pyomo" if levers or prepare is not None
                 or len(scenario.sites) <= PYOMO_MAX_SITES else "matrix")
    mip = inputs.levers is not None and inputs.levers.integer
    if options is None:
        options = default_options(len(scenario.sites), mip)
    if route == "pyomo":
        model = build_model(inputs)
        if prepare is not None:
            prepare(model)
        ix = model.ix
        build_seconds = time.perf_counter() - t0
        step("solve")
        lp = solve_lp(model, verbose=verbose, time_limit_seconds=time_limit_seconds,
                      options=options, mip_rel_gap=scenario.spec.mip_rel_gap)
    else:
        matrix = build_matrix(inputs)  # raises InputError when a lever is set
        ix = index_sets(inputs)
        build_seconds = time.perf_counter() - t0
        step("solve")
        lp = solve_standard_form(matrix, verbose=verbose,
                                 time_limit_seconds=time_limit_seconds, options=options)
    return Result(
        scenario_name=scenario.name,
        inputs=inputs,
        ix=ix,
        lp=lp,
        build_seconds=build_seconds,
        attrs={"frontier_growth": scenario.spec.efficiency.frontier_growth
               if scenario.spec.efficiency.frontier_growth is not None else "none",
               "build_route": route,
               **({"levers": ", ".join(levers)} if levers else {})},
    )
