"""Progressive hedging with mpi-sppy: the hedged commitments of trees too large for one model.

Each future is the capacity model as ``dcplan run`` builds it (:func:`scenario_creator`),
plus one variable per first-stage commitment (``Commit``) tied to the future's own
variable (``Commit_Link``); mpi-sppy's PH prices the disagreement between futures
(W) and pulls them to their probability-weighted mean (x̄) with a proximal term of
weight ρ, one HiGHS solve per future and iteration. ρ is set per commitment in
proportion to its cost (cost-proportional ρ, Watson & Woodruff 2011), so a MW of
grid and a MW of chips converge alike.

Every few iterations x̄ is priced from above (fixed in every future, each solved: a plan
that can be carried out, an upper bound on the extensive form's optimum) and below (the
Lagrangian of W) by :class:`BoundsCheck`; the plan is the cheapest x̄ priced. HiGHS takes
no quadratic objective through Pyomo, so the proximal term is mpi-sppy's outer
approximation by tangent cuts, and :func:`prune_cuts` keeps their number bounded.

With ``ranks`` > 1 the futures are spread over MPI processes (``mpiexec``, needs
``mpi4py``: ``pip install 'dcplan[mpi]'`` and Debian's ``openmpi-bin``); one process runs
them in turn. Two-stage trees only (one reveal year); multi-stage trees use the
extensive form.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import math
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyomo.environ as pyo

from grids.tables import InputError
from models.capacity import USD_SCALE
from models.model import build_model, index_sets
from models.stochastic import CommitKey, commit_index
from planner.hedge.engine import FirstStage
from planner.hedge.tree import ScenarioTree
from planner.optimize.highs import SolveError

#: Each bound check is logged here (INFO), e.g. for ``python -m bench.hedge --method ph``.
LOG = logging.getLogger(__name__)
#: ρ per commitment = this × its overnight capex (million USD/MW), at least RHO_FLOOR.
#: Measured on us-base (docs/benchmarks.md, cuts 0.32 MW apart, not pruned): 0.05 priced
#: its plan 3.7e-4 above the extensive form after 30 iterations, 0.1 4.9e-4. With the
#: defaults below, 0.05 is within 8.7e-5 of it after 120 iterations, and on the
#: hand-solved case within 2.5e-5 after 300.
RHO_FACTOR = 0.05
RHO_FLOOR = 1e-3
#: mpi-sppy's ``proximal_linearization_tolerance`` (MW²): the proximal term's tangent cuts
#: are placed at least its square root apart (here 0.032 MW). Before cuts were pruned
#: (:func:`prune_cuts`) 1e-3 grew each of us-base's futures by ~2,000 cuts an iteration for good and
#: 1e-2 (0.1 MW) was the default; on the hand-solved case, pruned, 1e-2 ended 1.0e-4 above
#: its optimum after 300 iterations and 1e-3 2.5e-5 (0.1, mpi-sppy's default, stuck 2e-4
#: above it: the futures' solves stick at the kink the cuts make at x̄). docs/benchmarks.md.
PROX_CUT_TOLERANCE_MW2 = 1e-3
#: PH iterations at most. PH stops earlier only on a proven gap (:class:`BoundsCheck`):
#: the futures' agreeing on x̄ (mpi-sppy's ``convthresh``) is no stop, as with the
#: linearised proximal term they can agree at x̄'s kink well before x̄ is optimal.
MAX_ITERATIONS = 300


def first_stage_keys(st: ScenarioTree) -> list[CommitKey]:
    """The union of the futures' first-stage commitments, in one order on every rank."""
    keys: set[CommitKey] = set()
    for sc in st.scenarios.values():
        d = sc.capacity_inputs()
        keys.update(k for k in commit_index(d, index_sets(d)) if st.tree.stage(k[3]) == 0)
    return sorted(keys, key=lambda k: (k[0], k[1], k[2], k[3]))


def scenario_creator(name: str, st: ScenarioTree | None = None,
                     keys: list[CommitKey] | None = None) -> pyo.ConcreteModel:
    """Future ``name`` as mpi-sppy wants it: the capacity model with its commitments."""
    from mpisppy.utils import sputils

    if st is None or keys is None:
        raise ValueError("scenario_creator needs the tree and the first-stage keys")
    m = build_model(st.scenarios[name].capacity_inputs())
    idx = commit_index(m.inputs, m.ix)
    m.FIRST_STAGE = pyo.Set(initialize=range(len(keys)), ordered=True)
    m.Commit = pyo.Var(m.FIRST_STAGE, domain=pyo.NonNegativeReals,
                       doc="first-stage commitment, MW (one per commitment of the tree)")
    linked = [i for i, k in enumerate(keys) if k in idx]
    m.LINKED = pyo.Set(initialize=linked, ordered=True)

    def commit_link(m: Any, i: int) -> Any:
        """Commit[i] = the future's own variable of commitment i."""
        var, index = idx[keys[i]]
        return m.Commit[i] - getattr(m, var)[index] == 0

    m.Commit_Link = pyo.Constraint(m.LINKED, rule=commit_link, doc=commit_link.__doc__)
    m.First_Stage_Cost = pyo.Expression(expr=0.0)
    sputils.attach_root_node(m, m.First_Stage_Cost, [m.Commit])
    m._mpisppy_probability = st.tree.probability[name]
    m.rho_of = {i: max(RHO_FACTOR * capex_usd_per_mw(m.inputs, keys[i]) / USD_SCALE,
                       RHO_FLOOR) for i in linked}
    return m


def capex_usd_per_mw(d: Any, key: CommitKey) -> float:
    """The overnight capital cost of one MW of a commitment, USD (ρ is proportional to it)."""
    kind, s, g, _ = key
    if kind == "onsite" and g:  # per technology (layer onsite_technologies)
        return 1000.0 * float(d.levers.onsite_tech.table.at[g, "capex_usd_per_kw"])
    if kind == "facility":
        return float(d.sites.at[s, "build_capex_usd_per_mw"])
    if kind == "grid":
        return float(d.regions.at[d.sites.at[s, "region"], "interconnect_capex_usd_per_mw"])
    if kind == "onsite":
        return float(d.onsite_capex_usd_per_mw)
    return float(d.chips.at[g, "kappa_usd_per_mw"])


def rho_setter(m: pyo.ConcreteModel) -> list[tuple[int, float]]:
    """Cost-proportional ρ for every commitment of a future."""
    return [(id(m.Commit[i]), m.rho_of.get(i, RHO_FLOOR)) for i in m.FIRST_STAGE]


#: What Pyomo's persistent HiGHS interface (appsi) re-reads of a future before each solve.
#: Between PH iterations only the objective (W, x̄, ρ: mutable parameters, which mpi-sppy
#: hands over itself) and the proximal cuts (new constraints) change, so appsi's scans of
#: every variable's bounds, every constraint's coefficients and the named expressions are
#: skipped: measured on us-base, a PH iteration of the four futures took ~40 s with them
#: and ~14 s without (docs/benchmarks.md).
APPSI_SKIPPED_CHECKS = ("check_for_new_or_removed_vars", "check_for_new_or_removed_params",
                        "update_constraints", "update_vars", "update_named_expressions")


def _lean_updates_extension() -> type:
    """An mpi-sppy extension that, after iteration 0, switches off
    :data:`APPSI_SKIPPED_CHECKS` in every future's persistent solver."""
    from mpisppy.extensions.extension import Extension

    class LeanUpdates(Extension):
        def post_iter0(self) -> None:
            for s in self.opt.local_scenarios.values():
                config = s._solver_plugin.update_config
                for check in APPSI_SKIPPED_CHECKS:
                    setattr(config, check, False)

    return LeanUpdates


#: Every this many iterations the proximal cuts far from x̄ are dropped (:func:`prune_cuts`).
PRUNE_EVERY = 10
#: A future's cut at a is kept when |a − x̄| ≤ this × |x − x̄| (x: the future's last value),
#: or ≤ :data:`PRUNE_MIN_RADIUS_MW`; the nearest cut beyond on either side is kept too.
PRUNE_RADIUS_FACTOR = 4.0
PRUNE_MIN_RADIUS_MW = 1.0


def prune_cuts_extension() -> type:
    """An mpi-sppy extension that drops proximal cuts far from x̄ (:func:`prune_cuts`)."""
    from mpisppy.extensions.extension import Extension

    class PruneCuts(Extension):
        """Every :data:`PRUNE_EVERY` iterations, before the futures are solved, each
        drops its proximal cuts far from the new x̄; ``dropped`` counts them."""

        def __init__(self, opt: Any) -> None:
            super().__init__(opt)
            self.dropped = 0

        def miditer(self) -> None:  # x̄ and W are updated, the futures not yet solved
            if self.opt._PHIter % PRUNE_EVERY == 0:
                for s in self.opt.local_scenarios.values():
                    self.dropped += prune_cuts(s)

    return PruneCuts


def prune_cuts(s: Any) -> int:
    """Drop the proximal cuts of future ``s`` that lie far from x̄; return how many.

    mpi-sppy replaces ρ/2·(x − x̄)² by ρ/2·(q − 2x̄x + x̄²) with q ≥ 2a·x − a² for every
    point a it has visited (a tangent of x² at a), and keeps them all: on us-base the four
    futures (~20 k rows each) gained ~10 k cuts an iteration (1.2 M by iteration 120 at that rate);
    pruned every 10 iterations they stay between ~60 k and ~160 k. Every cut is valid for
    x² anywhere, so dropping one only loosens the proximal term away from x̄; a future that
    moves there gets a new cut at its new value on its next solve, as PH always does. Kept:
    the cuts within max(:data:`PRUNE_RADIUS_FACTOR` · |x − x̄|, :data:`PRUNE_MIN_RADIUS_MW`)
    of x̄, and the nearest one beyond on each side (so the term stays bounded); a commitment
    with two cuts or fewer keeps them.
    """
    solver = s._solver_plugin
    cuts = s._mpisppy_model.xsqvar_cuts
    by_var: dict[tuple, list[tuple]] = {}  # Pyomo flattens (node, i) with the cut's number
    for key in cuts:
        by_var.setdefault(key[:-1], []).append(key)
    dropped: list[Any] = []
    for mgr in s._mpisppy_data.xsqvar_prox_approx.values():
        if mgr.xvar.is_integer():  # mpi-sppy's cuts of an integer commitment: left alone
            continue
        xbar = float(mgr.xbar.value)
        x = float(mgr.xvar.value) if mgr.xvar.value is not None else xbar
        radius = max(PRUNE_RADIUS_FACTOR * abs(x - xbar), PRUNE_MIN_RADIUS_MW)
        index = mgr.var_index if isinstance(mgr.var_index, tuple) else (mgr.var_index,)
        points = [(cut_point(cuts[key], mgr.xvar), key) for key in by_var.get(index, [])]
        if len(points) <= 2:  # two cuts or fewer: nothing worth dropping
            continue
        below = [p for p in points if p[0] < xbar - radius]
        above = [p for p in points if p[0] > xbar + radius]
        keep = {max(below)[1]} if below else set()
        if above:
            keep.add(min(above)[1])
        drop = [key for a, key in below + above if key not in keep]
        if not drop:
            continue
        kept = sorted([0.0] + [a for a, key in points if key not in drop])
        mgr.cut_values[:] = type(mgr.cut_values)("d", kept)
        dropped.extend(drop)
    if dropped:
        with _keeping_variables(solver):
            solver.remove_constraints([cuts[key] for key in dropped])
        for key in dropped:
            del cuts[key]
    return len(dropped)


@contextlib.contextmanager
def _keeping_variables(solver: Any) -> Iterator[None]:
    """Pyomo's persistent HiGHS interface, after each constraint it removes, looks for
    variables no constraint uses any more and rebuilds its whole column map even when there
    is none: ~0.5 ms a cut on a 20 k-column future, 4 min for one pruning of us-base. A cut's
    variables (x and q) stay in the model, so that look is switched off meanwhile
    (appsi's ``only_child_vars``: the variables are the model's own)."""
    before = getattr(solver, "_only_child_vars", None)
    if before is None:
        yield
        return
    solver._only_child_vars = True
    try:
        yield
    finally:
        solver._only_child_vars = before


def cut_point(con: Any, xvar: Any) -> float:
    """The point a of the tangent cut q − 2a·x + a² ≥ 0 on ``xvar``."""
    for arg in con.body.args:
        if getattr(arg, "args", None) and arg.args[1] is xvar:
            return -float(arg.args[0]) / 2.0
    raise ValueError(f"{con.name} is not a proximal cut on {xvar.name}")


#: PH stops once its plan is proven this close to the optimum (relative): the expected cost
#: of x̄ fixed in every future (an upper bound on the extensive form's) against the
#: Lagrangian bound of the current prices W (a lower bound). The issue's target is 1e-4.
GAP_RELATIVE = 1e-4
#: The bounds are computed every this many iterations (2 solves per future each time).
CHECK_EVERY = 10


def lagrangian_usd(sc: Any, prices: dict[CommitKey, float]) -> float:
    """min_x [C(x) + Σ_i W_i·x_i] of one future, USD; −∞ when prices make a commitment
    worth more than any cost (the relaxation is unbounded, no bound), or when a price on a
    commitment the future does not have is negative (PH's ``Commit`` ≥ 0 is free there)."""
    from planner.hedge.engine import solve_plan

    try:
        plan = solve_plan(sc, prices=prices)
    except SolveError:
        return -math.inf
    if any(v < 0 for k, v in prices.items() if k not in plan.values):
        return -math.inf
    return plan.cost_usd


class BoundsCheck:
    """mpi-sppy's converger here: PH's plan priced from above and below every few iterations.

    Every ``every`` iterations (and once more after the last), with x̄ and W just updated,
    each future k this rank holds is solved twice:

    * with x̄ fixed: Σ_k p_k C_k(x̄) is the expected cost of a plan that can be carried
      out, an upper bound (UB) on the extensive form's optimum;
    * with W_k added to the cost of its commitments and nothing fixed:
      Σ_k p_k min_x [C_k(x) + W_k·x] is the Lagrangian relaxation of non-anticipativity, a
      lower bound (LB) whenever Σ_k p_k W_k = 0, which PH's update keeps
      (:func:`lagrangian_usd`; the wait-and-see cost, W = 0, is one too).

    An x̄ that some future cannot carry out is no plan (seen on us-base at iteration 90:
    x̄'s combined-cycle builds broke a future's 2033 national supply limit, which every
    future's own solve met): its UB is +∞ and PH goes on. The plan kept is the x̄ with the
    lowest UB so far (``best``: UB, x̄, and this rank's futures solved with it, so its
    recourse need not be solved again). PH stops when
    (best UB − best LB)/best UB ≤ ``gap_relative``: the plan is then proven that close to
    the optimum without the extensive form. Each check is appended to ``history``.
    """

    def __init__(self, ph: Any, st: ScenarioTree, keys: list[CommitKey],
                 gap_relative: float = GAP_RELATIVE, every: int = CHECK_EVERY) -> None:
        self.ph, self.st, self.keys = ph, st, keys
        self.gap_relative, self.every = gap_relative, every
        self.history: list[dict[str, Any]] = []
        self.best: tuple[float, list[float], dict[str, Any]] | None = None
        self.lower = -math.inf
        self.conv: float | None = None

    def is_converged(self) -> bool:
        if self.ph._PHIter % self.every:
            return False
        return self.check() <= self.gap_relative

    def check(self) -> float:
        """Price the current x̄ and W; return the proven relative gap."""
        import numpy as np
        from mpisppy import MPI

        from planner.hedge.engine import solve_plan

        ph, keys = self.ph, self.keys
        local = np.zeros(2)
        plans: dict[str, Any] = {}
        xbars = next(iter(ph.local_scenarios.values()))._mpisppy_model.xbars  # one x̄
        xbar_list = [float(xbars["ROOT", i].value) for i in range(len(keys))]
        xbar = dict(zip(keys, xbar_list))
        for name, s in ph.local_scenarios.items():
            w = {k: float(s._mpisppy_model.W["ROOT", i].value) for i, k in enumerate(keys)}
            sc, p = self.st.scenarios[name], float(s._mpisppy_probability)
            if math.isfinite(local[0]):  # once x̄ is no plan, its other futures need no price
                try:
                    plans[name] = solve_plan(sc, xbar)
                    local[0] += p * plans[name].cost_usd
                except SolveError:  # x̄ breaks a limit of this future: no plan
                    local[0] = math.inf
            local[1] += p * lagrangian_usd(sc, w)
        total = np.zeros(2)
        ph.comms["ROOT"].Allreduce(local, total, op=MPI.SUM)
        ub, lb = float(total[0]), float(total[1])
        trivial = getattr(ph, "trivial_bound", None)
        self.lower = max(self.lower, lb, -math.inf if trivial is None else
                         float(trivial) * USD_SCALE)
        if math.isfinite(ub) and (self.best is None or ub < self.best[0]):
            self.best = (ub, xbar_list, plans)
        best = math.inf if self.best is None else self.best[0]
        gap = (best - self.lower) / max(abs(best), 1.0) if math.isfinite(best) else math.inf
        self.history.append({"iteration": int(ph._PHIter), "upper_bound_usd": _finite(ub),
                             "lagrangian_bound_usd": _finite(lb),
                             "best_upper_bound_usd": _finite(best),
                             "best_lower_bound_usd": _finite(self.lower),
                             "gap_relative": _finite(gap)})
        self.conv = gap
        LOG.info("PH iteration %d: x̄ costs %s (best %s), Lagrangian bound %s, "
                 "proven gap %s", ph._PHIter,
                 f"{ub:.6e} USD" if math.isfinite(ub) else "— (infeasible in a future)",
                 f"{best:.6e} USD" if math.isfinite(best) else "none yet",
                 f"{lb:.6e} USD" if math.isfinite(lb) else "none",
                 f"{gap:.2e}" if math.isfinite(gap) else "none")
        return gap


def _finite(v: float) -> float | None:
    """``v``, or None for ±∞ and NaN (JSON has no infinity: "no bound")."""
    return v if math.isfinite(v) else None


def run_ph(st: ScenarioTree, keys: list[CommitKey], *, verbose: bool = False,
           max_iterations: int = MAX_ITERATIONS,
           gap_relative: float = GAP_RELATIVE) -> dict[str, Any]:
    """Run mpi-sppy's PH on the futures of ``st`` (this process's MPI world).

    ρ is cost-proportional (:func:`rho_setter`) throughout: mpi-sppy's adaptive
    ``PrimalDualRho`` reached 2.7e-4 of the extensive form on us-base in 40 iterations
    against 3.8e-4, but on the hand-solved case it forced the futures together early and
    stalled 5 % above the optimum (docs/benchmarks.md). Returns the
    best x̄ found (:class:`BoundsCheck`), how PH stopped (``stopped_by``: ``"gap"`` or
    ``"iterations"``), the bounds' history and, under ``"plans"``,
    this rank's futures solved with that x̄ fixed.
    """
    options = {
        "solver_name": "appsi_highs", "PHIterLimit": max_iterations,
        "defaultPHrho": 1.0, "convthresh": 0.0, "verbose": False,
        "display_progress": verbose, "display_timing": False,
        "iter0_solver_options": {}, "iterk_solver_options": {},
        # HiGHS through Pyomo takes no quadratic objective: the proximal term ρ/2·(x − x̄)²
        # is replaced by mpi-sppy's piecewise-linear outer approximation
        "linearize_proximal_terms": True,
        "proximal_linearization_tolerance": PROX_CUT_TOLERANCE_MW2,
    }
    made: list[BoundsCheck] = []

    def converger(ph: Any) -> BoundsCheck:
        made.append(BoundsCheck(ph, st, keys, gap_relative))
        return made[-1]

    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:  # mpi-sppy prints its progress (and a line when imported) to stdout
        from mpisppy.extensions.extension import MultiExtension
        from mpisppy.opt.ph import PH

        ph = PH(options, list(st.names), scenario_creator,
                scenario_creator_kwargs={"st": st, "keys": keys}, rho_setter=rho_setter,
                extensions=MultiExtension,
                extension_kwargs={"ext_classes": [_lean_updates_extension(),
                                                  prune_cuts_extension()]},
                ph_converger=converger)
        conv, _, trivial_bound = ph.ph_main()
        bounds = made[0]
        iterations = int(ph._PHIter)
        on_gap = bool(bounds.history) and bounds.history[-1]["iteration"] == iterations \
            and bounds.conv is not None and bounds.conv <= gap_relative
        if not on_gap:  # the last iterate has not been priced yet
            ph.Compute_Xbar(verbose)
            bounds.check()
    if bounds.best is None:
        raise SolveError("progressive hedging found no plan that every future can carry out "
                         "(each x̄ priced broke a limit of some future); raise --iterations")
    stopped_by = "gap" if on_gap else "iterations"
    return {"xbar": bounds.best[1], "convergence": float(conv), "iterations": iterations,
            "trivial_bound_usd": float(trivial_bound) * USD_SCALE,
            "upper_bound_usd": bounds.best[0], "lower_bound_usd": _finite(bounds.lower),
            "gap_relative": bounds.history[-1]["gap_relative"],
            "stopped_by": stopped_by, "bounds": bounds.history,
            "plans": bounds.best[2], "rank": int(ph.cylinder_rank)}


def check_ph(st: ScenarioTree, ranks: int = 1) -> None:
    """Raise :class:`InputError` when PH cannot solve ``st`` (before anything is solved)."""
    if len(st.tree.reveal_years) != 1:
        raise InputError("progressive hedging handles one reveal year; use --method ef "
                         "for a multi-stage tree")
    if st.spec.risk.weight > 0:
        raise InputError("progressive hedging is risk-neutral here; use --method ef with "
                         "uncertainty.risk.weight > 0")
    if importlib.util.find_spec("mpisppy") is None:
        raise InputError("--method ph needs mpi-sppy (pip install mpi-sppy)")
    if ranks > 1:
        if shutil.which("mpiexec") is None:
            raise InputError("--ranks needs mpiexec on the PATH (Debian: apt-get install "
                             "openmpi-bin) and mpi4py (pip install 'dcplan[mpi]')")
        if importlib.util.find_spec("mpi4py") is None:
            raise InputError("--ranks needs mpi4py (pip install 'dcplan[mpi]')")
        if st.base.path is None:
            raise InputError("--ranks needs a scenario file (the MPI processes read it)")


def progressive_hedging_plan(st: ScenarioTree, *, ranks: int = 1, verbose: bool = False,
                             max_iterations: int = MAX_ITERATIONS,
                             gap_relative: float = GAP_RELATIVE) -> FirstStage:
    """The hedged commitments by progressive hedging (in this process, or over MPI)."""
    check_ph(st, ranks)
    keys = first_stage_keys(st)
    if ranks == 1:
        out = run_ph(st, keys, verbose=verbose, max_iterations=max_iterations,
                     gap_relative=gap_relative)
    else:
        out = _run_mpi(st, ranks, verbose, max_iterations, gap_relative)
    xbar = dict(zip(keys, out["xbar"]))
    values = {k: dict(xbar) for k in st.names}
    plans = out.get("plans") or {}  # stopped on the gap: the futures solved with x̄ fixed
    return FirstStage(method="progressive hedging", values=values, objective_usd=float("nan"),
                      recourse=plans if set(plans) == set(st.names) else None,
                      info={k: v for k, v in out.items() if k not in ("xbar", "plans")})


def _run_mpi(st: ScenarioTree, ranks: int, verbose: bool, max_iterations: int,
             gap_relative: float) -> dict:
    mpiexec = shutil.which("mpiexec") or "mpiexec"
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
    with tempfile.TemporaryDirectory(prefix="dcplan-ph-") as tmp:
        out = Path(tmp) / "xbar.json"
        cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "planner.hedge.ph",
               str(st.base.path), str(out), str(max_iterations), repr(gap_relative)]
        proc = subprocess.run(cmd, env=env, capture_output=not verbose, text=True,
                              check=False)
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or "").strip().splitlines()[-1:] if not verbose else []
            raise SolveError("progressive hedging over MPI failed"
                             + (f": {tail[0]}" if tail else ""))
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    """One MPI rank: ``python -m planner.hedge.ph SCENARIO OUT.json ITERATIONS GAP``."""
    import planner
    from planner.hedge.tree import build_tree

    path, out, iterations, gap = argv[0], Path(argv[1]), int(argv[2]), float(argv[3])
    st = build_tree(planner.load_scenario(path))
    result = run_ph(st, first_stage_keys(st), max_iterations=iterations, gap_relative=gap)
    result.pop("plans")  # solved plans stay in their rank; the caller re-solves x̄
    if result["rank"] == 0:
        out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
