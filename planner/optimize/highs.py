"""Hand a Pyomo LP to HiGHS in memory and bring values and duals back.

Route (measured in ``../shared/notes/performance.md``): Pyomo's
``LinearStandardFormCompiler(mixed_form=True)`` → SciPy CSC → ``highspy``
``Highs.passModel``. About 9× faster than Pyomo's own HiGHS interfaces; no
LP file is written.

Integer variables (Pyomo domains ``Integers``, ``NonNegativeIntegers``,
``Binary``) are passed to HiGHS as integer columns (``HighsLp.integrality_``)
and the model is solved as a MILP (:func:`solve_lp`). A MILP has no duals, so
the integer columns are then fixed at their optimum and the LP that remains is
re-solved: its duals are the prices reported (the value of one more unit of a
constraint *with the discrete choices held fixed*). The LP relaxation is solved
as well and reported as the bound that lumpiness is measured against.

When the model is infeasible — only the planner's levers can make it so —
:func:`solve_lp` asks HiGHS for an irreducible infeasible subset (IIS,
``iis_strategy`` 6) and raises :class:`ConflictError` naming its constraints in
plain words; if HiGHS finds no IIS it falls back to a feasibility relaxation in
which only the user's constraints may be violated (penalised slacks), and names
those it had to violate.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from models.highs_quiet import quiet_highs
from planner.optimize.interrupts import check, deferred, requested
from planner.optimize.numerics import coefficient_ranges, scaling_warnings


class SolveError(RuntimeError):
    """HiGHS did not return an optimal solution; never reported as a result."""


class ConflictError(SolveError):
    """The scenario's own constraints contradict each other: no plan satisfies them all.

    The message is one line naming the constraints in plain words (the CLI
    shows it with exit code 2). ``conflicts`` lists them; ``method`` says how
    they were found: ``"iis"`` (HiGHS's irreducible infeasible subset) or
    ``"relaxation"`` (the user constraints a penalised relaxation violates).
    """

    def __init__(self, conflicts: list[str], method: str, context: list[str] | None = None):
        self.conflicts = conflicts
        self.method = method
        self.context = context or []
        if method == "iis":
            msg = ("no plan satisfies all the scenario's constraints; these contradict each "
                   "other: " + "; ".join(conflicts))
            if self.context:
                msg += " (linked through: " + "; ".join(self.context) + ")"
            msg += " — relax or remove one of them (found by HiGHS's IIS)"
        else:
            msg = ("no plan satisfies all the scenario's constraints; the smallest relaxation "
                   "that allows one violates: " + "; ".join(conflicts))
            if self.context:
                msg += " (together with: " + "; ".join(self.context) + ")"
            msg += (" — relax or remove one of them (found by a feasibility relaxation with "
                    "penalised slacks; HiGHS found no IIS)")
        super().__init__(msg)


@dataclass
class LPSolution:
    """Column values and row duals, keyed back to Pyomo components.

    ``values[name]`` and ``duals[name]`` are dicts from index to value, in the
    model's own scaled units (the planner unscales them). ``cost_components`` maps
    each cost component's name to its ``Expression`` (present value by year).
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
    expressions: dict[str, dict[Any, float]] = field(default_factory=dict)
    cost_components: dict[str, str] = field(default_factory=dict)
    #: With ``solve_lp(m, blocks=...)``: each named sub-block's own solution, read from the
    #: whole model's (see :func:`block_solution`).
    blocks: dict[str, LPSolution] = field(default_factory=dict)

    def scaled_duals(self, factor: float) -> LPSolution:
        """A copy whose duals are multiplied by ``factor`` (a block's 1 / weight)."""
        return dataclasses.replace(self, duals={
            name: {i: v * factor for i, v in d.items()} for name, d in self.duals.items()})


@functools.cache
def highs_version() -> str:
    """HiGHS's version, e.g. ``"1.15.1"`` (asked once per process)."""
    h = quiet_highs()
    return f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"



def highs_with(
    cost: np.ndarray, A: Any, col_lower: np.ndarray, col_upper: np.ndarray,
    row_lower: np.ndarray, row_upper: np.ndarray, offset: float, *,
    time_limit_seconds: float | None, threads: int | None, verbose: bool,
    options: dict[str, Any] | None = None, integrality: np.ndarray | None = None,
) -> highspy.Highs:
    """A Highs object holding the LP (column-wise CSC), options set.

    ``integrality``: boolean per column, True = integer (a MILP).
    """
    h = quiet_highs(bool(verbose))
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
    if integrality is not None and integrality.any():
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in integrality]
    h.passModel(lp)
    return h


@dataclass
class StandardForm:
    """A Pyomo model compiled to HiGHS's column-wise form (min c·x + offset).

    ``row_lower ≤ A·x ≤ row_upper``, ``col_lower ≤ x ≤ col_upper``; ``columns`` and
    ``rows`` are the Pyomo variable and (constraint, sense) objects in column and row
    order, ``integer`` flags integer columns. Everything is in the model's own
    (scaled) units.
    """

    c: np.ndarray
    A: Any  # scipy.sparse.csc_matrix, sorted indices
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    offset: float
    integer: np.ndarray
    columns: list
    rows: list

    @property
    def n_cols(self) -> int:
        return len(self.columns)

    @property
    def n_rows(self) -> int:
        return len(self.rows)


def compile_model(m: pyo.ConcreteModel) -> StandardForm:
    """Compile ``m`` with Pyomo's ``LinearStandardFormCompiler(mixed_form=True)``.

    The model is built in the same order every time, so two models of the same
    shape compile to the same column and row order (what persistent re-solves
    rely on to diff them).
    """
    repn = LinearStandardFormCompiler().write(m, mixed_form=True)
    columns, rows = repn.columns, repn.rows
    A = repn.A.tocsc()
    if not A.has_sorted_indices:
        A.sort_indices()
    n_cols, n_rows = len(columns), len(rows)
    col_lower = np.array([-np.inf if v.lb is None else v.lb for v in columns], dtype=float)
    col_upper = np.array([np.inf if v.ub is None else v.ub for v in columns], dtype=float)
    integer = np.fromiter((v.is_integer() for v in columns), dtype=bool, count=n_cols)
    sense = np.fromiter((r[1] for r in rows), dtype=np.int8, count=n_rows)
    rhs = np.asarray(repn.rhs, dtype=float)
    row_lower = np.where(sense >= 0, np.where(sense == 0, rhs, -np.inf), rhs)
    row_upper = np.where(sense <= 0, np.where(sense == 0, rhs, np.inf), rhs)
    cost = np.asarray(repn.c.toarray()).ravel() if n_cols else np.zeros(0)
    offset = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    return StandardForm(c=cost, A=A, col_lower=col_lower, col_upper=col_upper,
                        row_lower=row_lower, row_upper=row_upper, offset=offset,
                        integer=integer, columns=columns, rows=rows)


def by_component(m: pyo.ConcreteModel, sf: StandardForm, x: np.ndarray, y: np.ndarray
                 ) -> tuple[dict[str, dict[Any, float]], dict[str, dict[Any, float]]]:
    """Column values and row duals keyed by Pyomo component name and index.

    A variable the compiler left out is its fixed value when fixed (a hedged plan's
    commitments, :mod:`planner.hedge`), else 0 (it appears in no row); a constraint
    without a row (trivial) has dual 0.
    """
    col_pos = {id(v): i for i, v in enumerate(sf.columns)}
    row_pos = {id(r[0]): i for i, r in enumerate(sf.rows)}
    values: dict[str, dict[Any, float]] = {}
    for var in m.component_objects(pyo.Var, active=True):
        idx = np.fromiter((col_pos.get(id(vd), -1) for vd in var.values()), dtype=np.int64,
                          count=len(var))
        fixed = np.fromiter(((vd.value or 0.0) if vd.fixed else 0.0 for vd in var.values()),
                            dtype=float, count=len(var))
        vals = np.where(idx >= 0, x[np.maximum(idx, 0)] if sf.n_cols else 0.0, fixed)
        values[var.local_name] = dict(zip(var.keys(), vals.tolist()))
    duals: dict[str, dict[Any, float]] = {}
    for con in m.component_objects(pyo.Constraint, active=True):
        idx = np.fromiter((row_pos.get(id(cd), -1) for cd in con.values()), dtype=np.int64,
                          count=len(con))
        vals = np.where(idx >= 0, y[np.maximum(idx, 0)] if sf.n_rows else 0.0, 0.0)
        duals[con.local_name] = dict(zip(con.keys(), vals.tolist()))
    return values, duals


def expression_values(m: pyo.ConcreteModel, sf: StandardForm, x: np.ndarray
                      ) -> dict[str, dict[Any, float]]:
    """Set the variables to the solution ``x`` and evaluate the named expressions that
    results are read from: ``m.report_expressions`` and every cost component
    (``m.cost_components``), keyed by component name and index.
    """
    for v, xv in zip(sf.columns, x.tolist()):
        v.set_value(xv, skip_validation=True)
    return named_expressions(m)


def named_expressions(m: pyo.Block) -> dict[str, dict[Any, float]]:
    """The named expressions of ``m`` (``m.report_expressions`` and every cost component)
    at the variables' current values; a variable without a value (in no row) is set to 0."""
    names = list(getattr(m, "report_expressions", []))
    names += list(getattr(m, "cost_components", {}).values())
    out: dict[str, dict[Any, float]] = {}
    for name in names:
        comp = getattr(m, name)
        vals = {k: pyo.value(e, exception=False) for k, e in comp.items()}
        if any(v is None for v in vals.values()):  # a variable in no row: it is 0
            for var in m.component_data_objects(pyo.Var):
                if var.value is None:
                    var.set_value(0.0, skip_validation=True)
            vals = {k: pyo.value(e) for k, e in comp.items()}
        out[name] = {k: float(v) for k, v in vals.items()}
    return out


def block_solution(whole: LPSolution, block: pyo.Block, sf: StandardForm, x: np.ndarray,
                   y: np.ndarray) -> LPSolution:
    """The solution of one sub-block of a solved model, as if the block had been solved alone.

    Values, duals and named expressions (cost components, ``report_expressions``) are read
    from the whole model's columns ``x`` and row duals ``y``; ``objective`` is the value of
    the block's own objective (which the whole model deactivated, e.g. a scenario of
    :func:`models.stochastic.extensive_form`). The duals are the whole model's: a block whose
    cost enters the whole objective with weight w has duals w times its own, for the
    caller to divide (:meth:`LPSolution.scaled_duals`). ``expression_values`` must have set
    the variables to ``x`` first. Sizes, timings and statistics are the whole model's.
    """
    values, duals = by_component(block, sf, x, y)
    objectives = list(block.component_data_objects(pyo.Objective, active=None,
                                                   descend_into=False))
    if len(objectives) != 1:
        raise ValueError(f"block {block.name} needs one objective, has {len(objectives)}")
    return LPSolution(
        status=whole.status, objective=float(pyo.value(objectives[0].expr)), values=values,
        duals=duals, num_cols=whole.num_cols, num_rows=whole.num_rows,
        num_nonzeros=whole.num_nonzeros, handoff_seconds=whole.handoff_seconds,
        solve_seconds=whole.solve_seconds, extract_seconds=whole.extract_seconds,
        highs_version=whole.highs_version, info={**whole.info, "read_from_block": block.name},
        expressions=named_expressions(block),
        cost_components=dict(getattr(block, "cost_components", {})),
    )


def run_interruptibly(h: highspy.Highs, poll_seconds: float = 0.1) -> None:
    """``h.run()`` in HiGHS's solver thread, so Ctrl-C stops a long solve.

    A plain ``run()`` holds the interpreter until HiGHS returns, so Ctrl-C
    would only act minutes later. Here the main thread waits in short polls
    with Ctrl-C deferred (:mod:`planner.optimize.interrupts`: an interrupt landing
    inside highspy's own lock handling could leave its lock held and the wait
    endless); once Ctrl-C is pressed it asks HiGHS to stop (its interrupt
    callbacks), waits until the solver thread has ended and raises
    ``KeyboardInterrupt``, so callers leave no half-written output.
    """
    h.HandleUserInterrupt = True
    with deferred():
        h.startSolve()
        while not h.wait(poll_seconds)[0]:
            if requested():
                h.cancelSolve()
                while not h.wait(poll_seconds)[0]:
                    pass
                check()


def run_checked(h: highspy.Highs, ranges: dict[str, Any], on_infeasible: Any = None) -> str:
    """:func:`_run`, with scaling warnings recorded on ``h`` and added to a
    :class:`SolveError`'s message (bad scaling is a common cause of failure)."""
    warnings = scaling_warnings(ranges)
    h.dcplan_numerics = {"ranges": ranges, "warnings": warnings}
    try:
        return _run(h, on_infeasible=on_infeasible)
    except SolveError as exc:
        if warnings and not isinstance(exc, ConflictError):
            raise SolveError(f"{exc}; {warnings[0]}") from None
        raise


def _run(h: highspy.Highs, on_infeasible: Any = None) -> str:
    """Solve; return the status text or raise :class:`SolveError` if not optimal.

    ``on_infeasible(h)``, when given, is called for an infeasible model and
    should raise a more helpful error (:class:`ConflictError`).
    """
    run_interruptibly(h)
    status = h.getModelStatus()
    status_text = h.modelStatusToString(status)
    infeasible = (highspy.HighsModelStatus.kInfeasible,
                  highspy.HighsModelStatus.kUnboundedOrInfeasible)
    if status in infeasible and on_infeasible is not None:
        on_infeasible(h)
    if status != highspy.HighsModelStatus.kOptimal:
        raise SolveError(f"HiGHS did not find an optimal plan: {status_text}")
    return status_text


def solution_arrays(h: highspy.Highs) -> tuple[np.ndarray, np.ndarray, dict[str, Any], float]:
    """Column values, row duals, solver statistics and objective."""
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float)
    y = np.asarray(sol.row_dual, dtype=float)
    x[(x < 0) & (x > -1e-9)] = 0.0  # solver noise (-1e-13 MW) would print as "-0"
    y[np.abs(y) < 1e-12] = 0.0
    info = h.getInfo()
    stats: dict[str, Any] = {
        **getattr(h, "dcplan_numerics", {}),
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
    mip_rel_gap: float | None = None,
    blocks: dict[str, pyo.Block] | None = None,
) -> LPSolution:
    """Compile ``m`` to standard form, solve with HiGHS, map the solution back.

    Parameters
    ----------
    m : a linear Pyomo model with one (minimised) objective; integer variables
        make it a MILP.
    time_limit_seconds : HiGHS time limit.
    threads : HiGHS threads (default: HiGHS's choice).
    verbose : show the HiGHS log.
    write_back : also import a ``dual`` suffix (variable values are always set).
    options : further HiGHS options (e.g. ``{"solver": "ipm"}``).
    mip_rel_gap : relative MIP gap at which a MILP counts as solved (HiGHS
        ``mip_rel_gap``; default 1e-4).
    blocks : named sub-blocks of ``m`` whose own solutions to return in ``.blocks``
        (:func:`block_solution`), e.g. the scenarios of an extensive form.

    With integer columns the result's values and duals are those of the LP
    with the integers fixed at the MILP optimum (see the module docstring) and
    ``info["mip"]`` holds: ``mip_rel_gap`` (the option), ``mip_gap`` (the gap
    achieved, HiGHS ``info.mip_gap``), ``mip_objective`` and ``mip_dual_bound``
    (HiGHS's best bound, ``info.mip_dual_bound``), ``lp_relaxation_objective``
    (the LP relaxation solved separately), ``fixed_lp_objective``,
    ``mip_node_count`` and ``integer_columns`` — objectives in model units.

    Raises
    ------
    ConflictError
        When the model is infeasible (its message names the contradicting
        constraints, via ``m.describe_row`` when the model has one).
    SolveError
        When HiGHS's model status is otherwise not optimal.
    """
    t0 = time.perf_counter()
    sf = compile_model(m)
    A, rows, integer = sf.A, sf.rows, sf.integer
    cost, col_lower, col_upper = sf.c, sf.col_lower, sf.col_upper
    row_lower, row_upper, offset = sf.row_lower, sf.row_upper, sf.offset
    n_cols, n_rows = sf.n_cols, sf.n_rows
    is_mip = bool(integer.any())
    opts = dict(options or {})
    if is_mip:
        opts["mip_rel_gap"] = float(1e-4 if mip_rel_gap is None else mip_rel_gap)
        if opts.get("solver") in ("ipm", "ipx", "hipo"):  # branch and bound needs simplex
            opts.pop("solver")
            opts.pop("run_crossover", None)
    ranges = coefficient_ranges(cost, A, col_lower, col_upper, row_lower, row_upper)
    h = highs_with(cost, A, col_lower, col_upper, row_lower, row_upper, offset,
                    time_limit_seconds=time_limit_seconds, threads=threads, verbose=verbose,
                    options=opts, integrality=integer if is_mip else None)
    t1 = time.perf_counter()

    def explain(hh: highspy.Highs) -> None:
        raise _conflict(hh, m, rows, row_lower, row_upper)

    status_text = run_checked(h, ranges, on_infeasible=explain)
    mip: dict[str, Any] = {}
    if is_mip:
        mip = _fix_integers_and_resolve(h, integer, float(opts["mip_rel_gap"]))
    t2 = time.perf_counter()
    x, y, stats, objective = solution_arrays(h)
    if is_mip:
        mip["fixed_lp_objective"] = objective
        mip["lp_relaxation_objective"] = _relaxation_objective(h, integer, col_lower, col_upper)
        stats["mip"] = mip

    values, duals = by_component(m, sf, x, y)
    expressions = expression_values(m, sf, x)
    if write_back:
        if not hasattr(m, "dual"):
            m.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
        for (con, _), yv in zip(rows, y.tolist()):
            m.dual[con] = yv
    t3 = time.perf_counter()
    whole = LPSolution(
        status=status_text, objective=objective, values=values, duals=duals,
        num_cols=n_cols, num_rows=n_rows, num_nonzeros=int(A.nnz),
        handoff_seconds=t1 - t0, solve_seconds=t2 - t1, extract_seconds=t3 - t2,
        highs_version=highs_version(), info=stats, expressions=expressions,
        cost_components=dict(getattr(m, "cost_components", {})),
    )
    for name, block in (blocks or {}).items():
        whole.blocks[name] = block_solution(whole, block, sf, x, y)
    return whole


_CONTINUOUS = 0  # HighsVarType.kContinuous as the uint8 changeColsIntegrality expects


def _fix_integers_and_resolve(h: highspy.Highs, integer: np.ndarray,
                              gap_option: float) -> dict[str, Any]:
    """After a MILP solve: record its statistics, fix the integer columns at their
    optimum, make them continuous and re-solve the LP (for duals)."""
    info = h.getInfo()
    mip = {
        "mip_rel_gap": gap_option,
        "mip_gap": float(info.mip_gap),
        "mip_objective": float(info.objective_function_value),
        "mip_dual_bound": float(info.mip_dual_bound),
        "mip_node_count": int(info.mip_node_count),
        "integer_columns": int(integer.sum()),
    }
    x = np.asarray(h.getSolution().col_value, dtype=float)
    idx = np.flatnonzero(integer).astype(np.int32)
    fixed = np.round(x[idx])
    h.changeColsIntegrality(len(idx), idx, np.full(len(idx), _CONTINUOUS, dtype=np.uint8))
    h.changeColsBounds(len(idx), idx, fixed, fixed)
    _run(h)
    return mip


def _relaxation_objective(h: highspy.Highs, integer: np.ndarray, col_lower: np.ndarray,
                          col_upper: np.ndarray) -> float:
    """Objective of the LP relaxation (integer columns continuous, bounds restored)."""
    idx = np.flatnonzero(integer).astype(np.int32)
    h.changeColsBounds(len(idx), idx, col_lower[idx], col_upper[idx])
    run_interruptibly(h)
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return float("nan")
    return float(h.getInfo().objective_function_value)


def _conflict(h: highspy.Highs, m: Any, rows: list, row_lower: np.ndarray,
              row_upper: np.ndarray) -> SolveError:
    """The error for an infeasible model: its contradicting constraints in plain words."""
    describe = getattr(m, "describe_row", None)

    def words(i: int) -> tuple[str, bool]:
        con = rows[i][0]
        name, index = con.parent_component().local_name, con.index()
        if describe is not None:
            return describe(name, index)
        return f"{name}[{index}]", True

    method = "iis"
    found: list[int] = []
    try:
        h.setOptionValue("iis_strategy", 6)  # strategy 0 returned empty IISs (performance.md)
        status, iis = h.getIis()
        if status == highspy.HighsStatus.kOk and iis.valid_:
            found = [int(i) for i in iis.row_index_]
    except Exception:  # pragma: no cover - older HiGHS without getIis
        found = []
    if not found:
        method = "relaxation"
        found = _relaxation_violations(h, rows, row_lower, row_upper, words)
    if not found:
        return SolveError("HiGHS found the plan infeasible but could not say which constraints "
                          "contradict each other")
    user: list[str] = []
    context: list[str] = []
    for i in found:
        text, is_user = words(i)
        target = user if is_user else context
        if text not in target:
            target.append(text)
    related = getattr(m, "related_rows", None)
    if method == "relaxation" and related is not None:
        # e.g. a MILP whose LP relaxation is feasible: the whole-block rules at the
        # sites involved are part of the contradiction
        named = [(rows[i][0].parent_component().local_name, rows[i][0].index()) for i in found]
        for name, index in related(named):
            text = describe(name, index)[0] if describe is not None else f"{name}[{index}]"
            if text not in context:
                context.append(text)
    if not user:
        user, context = context, []
    return ConflictError(user[:8], method, context[:4])


def _relaxation_violations(h: highspy.Highs, rows: list, row_lower: np.ndarray,
                           row_upper: np.ndarray, words: Any) -> list[int]:
    """Rows violated by HiGHS's feasibility relaxation in which only user constraints
    may be violated (penalty 1 per unit, every other row and bound fixed)."""
    flag: dict[str, bool] = {}  # user or structure is a property of the constraint family
    for i, (con, _) in enumerate(rows):
        name = con.parent_component().local_name
        if name not in flag:
            flag[name] = words(i)[1]
    user = np.fromiter((flag[con.parent_component().local_name] for con, _ in rows),
                       dtype=bool, count=len(rows))
    penalty = np.where(user, 1.0, -1.0)
    try:
        status = h.feasibilityRelaxation(-1.0, -1.0, -1.0, None, None, penalty)
    except Exception:  # pragma: no cover
        return []
    if status == highspy.HighsStatus.kError:
        return []
    act = np.asarray(h.getSolution().row_value, dtype=float)
    if len(act) != len(rows):
        return []
    scale = 1.0 + np.abs(np.where(np.isfinite(row_lower), row_lower, 0.0))
    violation = np.maximum(row_lower - act, act - row_upper)
    return [int(i) for i in np.flatnonzero(violation > 1e-6 * scale)]
