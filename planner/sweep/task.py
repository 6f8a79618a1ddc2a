"""One scenario of a sweep as a Dask worker runs it: apply, solve, compact."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from planner.inputs.scenario import Scenario
from planner.optimize.persistent import PersistentSolver
from planner.sweep.apply import apply_params
from planner.sweep.compact_result import PART_FORMAT, compact
from planner.sweep.stress_metrics import scenario_stress_metrics
from sites.portfolio import Portfolio


@dataclass
class SweepBase:
    """What every task needs, sent once to each worker."""

    scenario: Scenario
    portfolio: Portfolio | None
    fingerprint: str


_LOCAL = threading.local()


def worker_solver() -> PersistentSolver:
    """This thread's :class:`PersistentSolver`: one per Dask worker process (one per thread
    when a worker runs several threads, so tasks never share a HiGHS model).

    Inside a Dask worker HiGHS runs on one thread (a worker per core).
    """
    solver = getattr(_LOCAL, "solver", None)
    if solver is None:
        in_worker = False
        try:
            from distributed import get_worker

            get_worker()
            in_worker = True
        except (ImportError, ValueError):
            pass
        solver = _LOCAL.solver = PersistentSolver(in_worker=in_worker)
    return solver


def run_scenario(base: SweepBase, sid: str, params: dict[str, Any],
                 solver: PersistentSolver | None = None) -> dict[str, Any]:
    """Apply, solve, compact; never raises (a failure is returned with its reason).

    Returns
    -------
    dict with ``id``, ``ok``, ``seconds`` and either ``dataset`` (the compact result, see
    :func:`compact`) or ``error`` and ``error_type``.
    """
    t0 = time.perf_counter()
    solver = solver or worker_solver()
    try:
        sc = apply_params(base.scenario, {k: v for k, v in params.items()
                                          if k != "stress.shocks"})
        result = solver.solve(sc)
        ds = compact(result)
        shocks = params.get("stress.shocks") or []
        if shocks:
            ds = ds.merge(scenario_stress_metrics(sc, result, base.portfolio, shocks, solver))
        ds.attrs.update({"scenario_id": sid, "parameters": json.dumps(params, default=str),
                         "part_format": PART_FORMAT})
        return {"id": sid, "ok": True, "dataset": ds, "seconds": time.perf_counter() - t0}
    except Exception as exc:  # reported per scenario; the sweep goes on
        return {"id": sid, "ok": False, "error": one_line(exc),
                "error_type": type(exc).__name__, "seconds": time.perf_counter() - t0}


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:500]
