"""Persistent re-solve: keep HiGHS models loaded, change only the numbers that moved.

A sweep solves many scenarios that differ in a few parameters (demand, prices, capex,
levers). The expensive part is the cold HiGHS solve. So :class:`PersistentSolver`
builds each scenario's model exactly as :func:`planner.solve` does
(:func:`models.model.build_model`, levers included), compiles it to standard form
(:func:`planner.optimize.highs.compile_model`) and compares it with a model it already holds:

* same shape and sparsity pattern → push only what differs (``changeColsCost``,
  ``changeColsBounds``, ``changeRowsBounds``, ``changeCoeff``, ``changeObjectiveOffset``)
  and ``run()`` again with dual simplex, which hot-starts from the stored basis;
* otherwise → build a new ``Highs`` (a cold solve with
  :func:`planner.optimize.solver_options.solver_options`, crossover on so a basis is left).

A MILP (lumpy builds) is solved cold by :func:`planner.solve`.

Every differing number is pushed, so the updated model *is* the new LP: the result equals
a cold solve (tested to 1e-6 relative on the objective). Several models can be kept
(``max_models``, least recently used dropped) so that a sweep alternating between, say,
two interconnection lead times still hot-starts each time. Measurements: ``docs/sweep.md``
("Measured") and ``bench/persistent.py``.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

from models.model import build_model
from planner.inputs.scenario import Scenario
from planner.optimize.highs import (
    LPSolution,
    StandardForm,
    by_component,
    compile_model,
    expression_values,
    highs_version,
    highs_with,
    run_checked,
    solution_arrays,
)
from planner.optimize.numerics import coefficient_ranges
from planner.optimize.solver_options import solver_options
from planner.outputs.results import Result

#: Above this many changed matrix coefficients a rebuild is cheaper than ``changeCoeff``
#: one by one (each call costs a few µs in Python plus HiGHS's own bookkeeping).
MAX_COEFF_CHANGES = 20_000


@dataclass
class UpdateStats:
    """What the last :meth:`PersistentSolver.solve_lp` did.

    Attributes
    ----------
    mode : ``"build"`` (a new Highs model, cold solve) or ``"update"`` (changed in place,
        hot start).
    reason : why a model was built (``"first"``, ``"pattern"``, ``"coefficients"``,
        ``"failed"``) or ``""`` for an update.
    costs, col_bounds, row_bounds, coefficients : numbers of changed entries pushed.
    seconds : diffing and pushing (update) or ``passModel`` (build), with the
        coefficient-range scan (:func:`planner.optimize.numerics.coefficient_ranges`), s.
    """

    mode: str
    reason: str = ""
    costs: int = 0
    col_bounds: int = 0
    row_bounds: int = 0
    coefficients: int = 0
    seconds: float = 0.0

    def as_info(self) -> dict[str, Any]:
        """Flat keys for :attr:`planner.optimize.highs.LPSolution.info`."""
        return {"persistent_mode": self.mode, "persistent_reason": self.reason,
                "changed_costs": self.costs, "changed_col_bounds": self.col_bounds,
                "changed_row_bounds": self.row_bounds, "changed_coefficients": self.coefficients}


@dataclass
class _Loaded:
    """A Highs object and a copy of the numbers it currently holds."""

    h: highspy.Highs
    c: np.ndarray
    data: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float
    uses: int = field(default=0)


def pattern_key(lp: StandardForm) -> str:
    """A digest of the matrix's shape and sparsity pattern (not its values)."""
    A = lp.A
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(A.shape, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(A.indptr, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(A.indices, dtype=np.int64).tobytes())
    return h.hexdigest()


def _changed(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Positions where two equally long float arrays differ (inf == inf; NaN never occurs)."""
    return np.flatnonzero(new != old)


class PersistentSolver:
    """Solve a sequence of capacity LPs, updating loaded HiGHS models in place.

    Parameters
    ----------
    options : HiGHS options for cold solves; by default
        :func:`planner.optimize.solver_options.solver_options` with ``keep_basis=True`` (interior
        point always with crossover, so a basis is left for the next hot start). Hot
        starts always use simplex.
    time_limit_seconds, verbose : as in :func:`planner.optimize.highs.solve_lp`.
    in_worker : solving inside a Dask worker (one HiGHS thread, chosen by
        :func:`~planner.optimize.solver_options.solver_options`).
    max_models : models kept loaded (different sparsity patterns), least recently used
        dropped first.
    max_coeff_changes : above this many changed matrix coefficients, rebuild instead.

    Examples
    --------
    >>> import planner
    >>> solver = PersistentSolver()
    >>> sc = planner.load_scenario()
    >>> a = solver.solve(sc)                                                # doctest: +SKIP
    >>> b = solver.solve(dataclasses.replace(sc, demand_h100e=sc.demand_h100e * 1.1))
    ... # doctest: +SKIP
    >>> solver.last.mode                                                    # doctest: +SKIP
    'update'
    """

    def __init__(
        self,
        *,
        options: dict[str, Any] | None = None,
        time_limit_seconds: float | None = None,
        verbose: bool = False,
        in_worker: bool = False,
        max_models: int = 2,
        max_coeff_changes: int = MAX_COEFF_CHANGES,
    ) -> None:
        if max_models < 1:
            raise ValueError("max_models must be at least 1")
        self.options = options
        self.time_limit_seconds = time_limit_seconds
        self.in_worker = in_worker
        self.verbose = verbose
        self.max_models = max_models
        self.max_coeff_changes = max_coeff_changes
        self._models: OrderedDict[str, _Loaded] = OrderedDict()
        self.last: UpdateStats | None = None
        self.counts = {"build": 0, "update": 0}

    # -- the LP level ----------------------------------------------------------------
    def solve_lp(self, lp: StandardForm, *, cold_options: dict[str, Any] | None = None,
                 model: Any = None) -> LPSolution:
        """Solve ``lp``, hot-starting a loaded model with the same pattern when there is one.

        Parameters
        ----------
        lp : from :func:`planner.optimize.highs.compile_model`.
        cold_options : HiGHS options for a cold build (default: the solver's ``options``).
        model : the Pyomo model ``lp`` was compiled from; when given, the result's
            ``values``, ``duals`` and ``expressions`` are keyed by its components.

        The result's ``info`` holds the LP's coefficient ranges and scaling warnings
        (``"ranges"``, ``"warnings"``), as :func:`planner.optimize.highs.solve_lp` records
        them; the scan takes ~2 ms at 1,000 sites.

        Raises
        ------
        planner.optimize.highs.SolveError
            When HiGHS's model status is not optimal (the model is then dropped); its
            message names the first scaling warning, if any.
        """
        A = lp.A
        t0 = time.perf_counter()
        ranges = coefficient_ranges(lp.c, A, lp.col_lower, lp.col_upper, lp.row_lower,
                                    lp.row_upper)
        key = pattern_key(lp)
        loaded = self._models.get(key)
        stats: UpdateStats
        if loaded is not None and np.array_equal(loaded.indptr, A.indptr) \
                and np.array_equal(loaded.indices, A.indices):
            stats = self._update(loaded, lp)
            if stats.mode == "build":
                del self._models[key]
                loaded = None
        else:
            stats = UpdateStats(mode="build", reason="first" if not self._models else "pattern")
        if loaded is None:
            loaded = self._build(lp, cold_options if cold_options is not None else self.options)
            self._models[key] = loaded
            while len(self._models) > self.max_models:
                self._models.popitem(last=False)
        self._models.move_to_end(key)
        t1 = time.perf_counter()
        stats.seconds = t1 - t0
        self.last = stats
        self.counts[stats.mode] += 1
        try:
            status_text = run_checked(loaded.h, ranges)
        except Exception:
            self._models.pop(key, None)  # its basis may be anything now
            raise
        t2 = time.perf_counter()
        x, y, info, objective = solution_arrays(loaded.h)
        loaded.uses += 1
        values: dict[str, dict[Any, float]] = {}
        duals: dict[str, dict[Any, float]] = {}
        expressions: dict[str, dict[Any, float]] = {}
        if model is not None:
            values, duals = by_component(model, lp, x, y)
            expressions = expression_values(model, lp, x)
        t3 = time.perf_counter()
        return LPSolution(
            status=status_text, objective=objective, values=values, duals=duals,
            num_cols=A.shape[1], num_rows=A.shape[0], num_nonzeros=int(A.nnz),
            handoff_seconds=t1 - t0, solve_seconds=t2 - t1, extract_seconds=t3 - t2,
            highs_version=highs_version(), info={**info, **stats.as_info()},
            expressions=expressions,
            cost_components=dict(getattr(model, "cost_components", {})),
        )

    def _build(self, lp: StandardForm, options: dict[str, Any] | None) -> _Loaded:
        h = highs_with(lp.c, lp.A, lp.col_lower, lp.col_upper, lp.row_lower, lp.row_upper,
                       lp.offset, time_limit_seconds=self.time_limit_seconds, threads=None,
                       verbose=self.verbose, options=options)
        A = lp.A
        return _Loaded(h=h, c=lp.c.copy(), data=A.data.copy(), indptr=A.indptr.copy(),
                       indices=A.indices.copy(), col_lower=lp.col_lower.copy(),
                       col_upper=lp.col_upper.copy(), row_lower=lp.row_lower.copy(),
                       row_upper=lp.row_upper.copy(), offset=float(lp.offset))

    def _update(self, m: _Loaded, lp: StandardForm) -> UpdateStats:
        """Push every number of ``lp`` that differs from ``m`` (same pattern)."""
        A = lp.A
        coef = _changed(A.data, m.data)
        if len(coef) > self.max_coeff_changes:
            return UpdateStats(mode="build", reason="coefficients")
        h = m.h
        cost = _changed(lp.c, m.c)
        if len(cost):
            h.changeColsCost(len(cost), cost.astype(np.int32), lp.c[cost])
        cb = np.flatnonzero((lp.col_lower != m.col_lower) | (lp.col_upper != m.col_upper))
        if len(cb):
            h.changeColsBounds(len(cb), cb.astype(np.int32), lp.col_lower[cb], lp.col_upper[cb])
        rb = np.flatnonzero((lp.row_lower != m.row_lower) | (lp.row_upper != m.row_upper))
        if len(rb):
            h.changeRowsBounds(len(rb), rb.astype(np.int32), lp.row_lower[rb], lp.row_upper[rb])
        if len(coef):
            cols = np.searchsorted(A.indptr, coef, side="right") - 1
            rows = A.indices[coef]
            for r, c, v in zip(rows.tolist(), cols.tolist(), A.data[coef].tolist()):
                h.changeCoeff(r, c, v)
        if float(lp.offset) != m.offset:
            h.changeObjectiveOffset(float(lp.offset))
        h.setOptionValue("solver", "simplex")  # hot start from the stored basis
        m.c[cost] = lp.c[cost]
        m.col_lower[cb], m.col_upper[cb] = lp.col_lower[cb], lp.col_upper[cb]
        m.row_lower[rb], m.row_upper[rb] = lp.row_lower[rb], lp.row_upper[rb]
        m.data[coef] = A.data[coef]
        m.offset = float(lp.offset)
        return UpdateStats(mode="update", costs=len(cost), col_bounds=len(cb),
                           row_bounds=len(rb), coefficients=len(coef))

    # -- the scenario level ------------------------------------------------------------
    def solve(self, scenario: Scenario) -> Result:
        """Build and solve ``scenario`` as :func:`planner.solve` does, hot-starting when it
        can.

        Returns a :class:`planner.outputs.results.Result`, so ``to_xarray()``, ``gap()`` and
        ``cost_breakdown()`` work unchanged; ``result.attrs["persistent_mode"]`` says
        whether the model was updated in place or built. Levers are part of the model
        and hot-start like any other parameter; a MILP (lumpy builds) is handed to
        :func:`planner.solve` instead (``persistent_mode`` ``"cold"``).
        """
        t0 = time.perf_counter()
        inputs = scenario.capacity_inputs()
        if inputs.levers is not None and inputs.levers.integer:
            from planner.optimize.run import solve as cold_solve

            result = cold_solve(scenario, options=self.options,
                                time_limit_seconds=self.time_limit_seconds)
            result.lp.info["persistent_mode"] = "cold"
            result.attrs["persistent_mode"] = "cold"
            self.counts["build"] += 1
            return result
        model = build_model(inputs)
        lp = compile_model(model)
        build_seconds = time.perf_counter() - t0
        cold = self.options
        if cold is None:
            cold = solver_options(len(scenario.sites), keep_basis=True, in_worker=self.in_worker)
        sol = self.solve_lp(lp, cold_options=cold, model=model)
        growth = scenario.spec.efficiency.frontier_growth
        levers = inputs.levers.active() if inputs.levers is not None else []
        return Result(
            scenario_name=scenario.name, inputs=inputs, ix=model.ix, lp=sol,
            build_seconds=build_seconds,
            attrs={"frontier_growth": growth if growth is not None else "none",
                   "persistent_mode": sol.info["persistent_mode"],
                   **({"levers": ", ".join(levers)} if levers else {})},
        )

    def clear(self) -> None:
        """Drop every loaded model."""
        self._models.clear()
