"""Hand a Pyomo LP to HiGHS in memory and bring values and duals back.

Route (measured in ``../shared/notes/performance.md``): Pyomo's
``LinearStandardFormCompiler(mixed_form=True)`` → SciPy CSC → ``highspy``
``Highs.passModel``. About 9× faster than Pyomo's own HiGHS interfaces; no
LP file is written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler


class SolveError(RuntimeError):
    """HiGHS did not return an optimal solution; never reported as a result."""


@dataclass
class LPSolution:
    """Column values and row duals, keyed back to Pyomo components.

    ``values[name]`` and ``duals[name]`` are dicts from index to value, in the
    model's own scaled units (the planner unscales them).
    """

    status: str
    objective: float
    values: dict[str, dict[Any, float]]
    duals: dict[str, dict[Any, float]]
    num_cols: int
    num_rows: int
    num_nonzeros: int
    handoff_seconds: float
    solve_seconds: float
    extract_seconds: float
    highs_version: str
    info: dict[str, Any] = field(default_factory=dict)


def highs_version() -> str:
    h = highspy.Highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"



def _highs_with(
    cost: np.ndarray, A: Any, col_lower: np.ndarray, col_upper: np.ndarray,
    row_lower: np.ndarray, row_upper: np.ndarray, offset: float, *,
    time_limit_seconds: float | None, threads: int | None, verbose: bool,
    options: dict[str, Any] | None = None,
) -> highspy.Highs:
    """A Highs object holding the LP (column-wise CSC), options set."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(verbose))
    if time_limit_seconds is not None:
        h.setOptionValue("time_limit", float(time_limit_seconds))
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    for key, value in (options or {}).items():
        h.setOptionValue(key, value)
    n_rows, n_cols = A.shape
    lp = highspy.HighsLp()
    lp.num_col_ = n_cols
    lp.num_row_ = n_rows
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.offset_ = offset
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_col_ = n_cols
    lp.a_matrix_.num_row_ = n_rows
    h.passModel(lp)
    return h


def _run(h: highspy.Highs) -> str:
    """Solve; return the status text or raise :class:`SolveError` if not optimal."""
    h.run()
    status = h.getModelStatus()
    status_text = h.modelStatusToString(status)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolveError(f"HiGHS did not find an optimal plan: {status_text}")
    return status_text


def _solution(h: highspy.Highs) -> tuple[np.ndarray, np.ndarray, dict[str, Any], float]:
    """Column values, row duals, solver statistics and objective."""
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    y = np.asarray(sol.row_dual, dtype=float)
    x[np.abs(x) < 1e-9] = 0.0  # solver noise (-1e-13 MW) would print as "-0"
    y[np.abs(y) < 1e-12] = 0.0
    info = h.getInfo()
    stats = {
        "simplex_iterations": int(info.simplex_iteration_count),
        "ipm_iterations": int(info.ipm_iteration_count),
        "max_primal_infeasibility": float(info.max_primal_infeasibility),
        "max_dual_infeasibility": float(info.max_dual_infeasibility),
    }
    return x, y, stats, float(info.objective_function_value)


def solve_lp(
    m: pyo.ConcreteModel,
    *,
    time_limit_seconds: float | None = None,
    threads: int | None = None,
    verbose: bool = False,
    write_back: bool = True,
    options: dict[str, Any] | None = None,
) -> LPSolution:
    """Compile ``m`` to standard form, solve with HiGHS, map the solution back.

    Parameters
    ----------
    m : a linear Pyomo model with one (minimised) objective.
    time_limit_seconds : HiGHS time limit.
    threads : HiGHS threads (default: HiGHS's choice).
    verbose : show the HiGHS log.
    write_back : also set Pyomo variable values and a ``dual`` suffix.
    options : further HiGHS options (e.g. ``{"solver": "ipm"}``).

    Raises
    ------
    SolveError
        When HiGHS's model status is not optimal.
    """
    t0 = time.perf_counter()
    repn = LinearStandardFormCompiler().write(m, mixed_form=True)
    columns, rows = repn.columns, repn.rows
    A = repn.A.tocsc()
    n_cols, n_rows = len(columns), len(rows)
    col_lower = np.array([-np.inf if v.lb is None else v.lb for v in columns], dtype=float)
    col_upper = np.array([np.inf if v.ub is None else v.ub for v in columns], dtype=float)
    sense = np.fromiter((r[1] for r in rows), dtype=np.int8, count=n_rows)
    rhs = np.asarray(repn.rhs, dtype=float)
    row_lower = np.where(sense >= 0, np.where(sense == 0, rhs, -np.inf), rhs)
    row_upper = np.where(sense <= 0, np.where(sense == 0, rhs, np.inf), rhs)
    cost = np.asarray(repn.c.toarray()).ravel() if n_cols else np.zeros(0)
    offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    h = _highs_with(cost, A, col_lower, col_upper, row_lower, row_upper, offset,
                    time_limit_seconds=time_limit_seconds, threads=threads, verbose=verbose,
                    options=options)
    t1 = time.perf_counter()
    status_text = _run(h)
    t2 = time.perf_counter()
    x, y, stats, objective = _solution(h)

    col_pos = {id(v): i for i, v in enumerate(columns)}
    row_pos = {id(r[0]): i for i, r in enumerate(rows)}
    values: dict[str, dict[Any, float]] = {}
    for var in m.component_objects(pyo.Var, active=True):
        idx = np.fromiter((col_pos.get(id(vd), -1) for vd in var.values()), dtype=np.int64,
                          count=len(var))
        vals = np.where(idx >= 0, x[np.maximum(idx, 0)] if n_cols else 0.0, 0.0)
        values[var.local_name] = dict(zip(var.keys(), vals.tolist()))
    duals: dict[str, dict[Any, float]] = {}
    for con in m.component_objects(pyo.Constraint, active=True):
        idx = np.fromiter((row_pos.get(id(cd), -1) for cd in con.values()), dtype=np.int64,
                          count=len(con))
        vals = np.where(idx >= 0, y[np.maximum(idx, 0)] if n_rows else 0.0, 0.0)
        duals[con.local_name] = dict(zip(con.keys(), vals.tolist()))
    if write_back:
        for v, xv in zip(columns, x.tolist()):
            v.set_value(xv, skip_validation=True)
        if not hasattr(m, "dual"):
            m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
        for (con, _), yv in zip(rows, y.tolist()):
            m.dual[con] = yv
    t3 = time.perf_counter()
    return LPSolution(
        status=status_text, objective=objective, values=values, duals=duals,
        num_cols=n_cols, num_rows=n_rows, num_nonzeros=int(A.nnz),
        handoff_seconds=t1 - t0, solve_seconds=t2 - t1, extract_seconds=t3 - t2,
        highs_version=highs_version(), info=stats,
    )


def solve_standard_form(
    lp: Any,
    *,
    time_limit_seconds: float | None = None,
    threads: int | None = None,
    verbose: bool = False,
    options: dict[str, Any] | None = None,
) -> LPSolution:
    """Solve a :class:`models.capacity_matrix.StandardFormLP` (the matrix route)."""
    t0 = time.perf_counter()
    h = _highs_with(lp.c, lp.A, lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper,
                    lp.offset, time_limit_seconds=time_limit_seconds, threads=threads,
                    verbose=verbose, options=options)
    t1 = time.perf_counter()
    status_text = _run(h)
    t2 = time.perf_counter()
    x, y, stats, objective = _solution(h)
    values = {name: dict(zip(keys, x[lp.col_start[name]:lp.col_start[name] + len(keys)]
                             .tolist())) for name, keys in lp.col_blocks.items()}
    duals = {name: dict(zip(keys, y[lp.row_start[name]:lp.row_start[name] + len(keys)]
                            .tolist())) for name, keys in lp.row_blocks.items()}
    t3 = time.perf_counter()
    return LPSolution(
        status=status_text, objective=objective, values=values, duals=duals,
        num_cols=lp.A.shape[1], num_rows=lp.A.shape[0], num_nonzeros=int(lp.A.nnz),
        handoff_seconds=t1 - t0, solve_seconds=t2 - t1, extract_seconds=t3 - t2,
        highs_version=highs_version(), info=stats,
    )
