"""How HiGHS solves a capacity model: the one place that picks algorithm, crossover, threads.

:func:`solver_options` is used by :func:`planner.solve` (``dcplan run``), by the
persistent re-solves of sweeps and stress metrics
(:class:`planner.optimize.persistent.PersistentSolver`)
and by ``dcplan validate`` (:func:`algorithm_name`), so that every entry point solves a model
of a given size the same way. The thresholds are measured (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
from typing import Any

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


def solver_options(n_sites: int, *, mip: bool = False, keep_basis: bool = False,
                   in_worker: bool = False) -> dict[str, Any]:
    """The HiGHS options a capacity model with ``n_sites`` sites is solved with.

    Parameters
    ----------
    n_sites : sites in the model.
    mip : the model has integer columns (lumpy builds): branch and bound, which
        needs simplex, at every size.
    keep_basis : the solve must leave a basis for later hot starts (persistent
        re-solves): interior point always runs crossover.
    in_worker : solving inside a Dask worker, one per core: HiGHS uses one thread.

    Returns
    -------
    dict of HiGHS options (``{}`` = HiGHS's defaults: dual simplex).

    Examples
    --------
    >>> solver_options(50)  # HiGHS's default: dual simplex
    {}
    >>> solver_options(1000)
    {'solver': 'ipx'}
    >>> solver_options(10000)["run_crossover"]
    'off'
    >>> solver_options(10000, keep_basis=True)
    {'solver': 'ipx'}
    >>> solver_options(10000, mip=True, in_worker=True)
    {'threads': 1}
    """
    opts: dict[str, Any] = {}
    if in_worker:
        opts["threads"] = 1
    if mip or n_sites < IPM_MIN_SITES:
        return opts
    if n_sites <= CROSSOVER_MAX_SITES or keep_basis:
        return {"solver": "ipx", **opts}
    return {"solver": "hipo" if hipo_available() else "ipx", "run_crossover": "off", **opts}


def algorithm_name(n_sites: int, mip: bool = False) -> str:
    """What :func:`solver_options` picks for a run, in words (``dcplan validate``, benches).

    Examples
    --------
    >>> algorithm_name(50)
    'HiGHS dual simplex'
    >>> algorithm_name(1000)
    'HiGHS IPX interior point with crossover'
    """
    if mip:
        return "HiGHS MILP (branch and bound)"
    opts = solver_options(n_sites)
    if "solver" not in opts:
        return "HiGHS dual simplex"
    name = "HiPO interior point" if opts["solver"] == "hipo" else "IPX interior point"
    return "HiGHS " + name + (" without crossover" if "run_crossover" in opts else
                              " with crossover")
