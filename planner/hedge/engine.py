"""Solve a hedged plan: the extensive form, each future's recourse, WS, EEV and regrets.

Every number here comes from a solve of the capacity model as ``dcplan run`` builds it:

* **SP** — the extensive form (:func:`models.stochastic.extensive_form`) through the same
  standard-form hand-off to HiGHS as a single run;
* **recourse** — each future's block of the extensive form (:func:`block_plans`: the plan
  and cost a re-solve with the hedged commitments fixed finds, which the tests check); with
  progressive hedging, each future re-solved alone with the hedged commitments fixed;
* **WS** (wait and see) — each future solved alone, Σ_k p_k z*_k;
* **EEV** — the mean future solved alone, its first-stage commitments fixed in every future,
  Σ_k p_k (cost of k);
* **regret** — each future's own first-stage plan fixed and re-solved in every other future.

The single-future solves (WS, EEV, regret; recourse with PH) are independent of one
another. With ``workers`` > 1 they run in processes (:class:`Solves`), one HiGHS solve each:
WS and the mean future in ``workers − 1`` of them while this process solves the extensive
form (which keeps a core of its own), the rest (EEV, regrets; PH's recourse) in ``workers``
after it. ``seconds`` holds ``before_hedge`` (WS
and the mean future, or their start), ``hedge``, ``after_hedge`` (waiting for the rest)
and ``regret_table``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.capacity import USD_SCALE
from models.model import build_model
from models.stochastic import (
    KINDS,
    CommitKey,
    commitments,
    cvar,
    energize_years,
    extensive_form,
    scenario_objective,
)
from planner.hedge.tree import ScenarioTree
from planner.inputs.scenario import Scenario
from planner.optimize.highs import LPSolution, SolveError, solve_lp
from planner.optimize.run import result_of, solve
from planner.optimize.solver_options import solver_options
from planner.outputs.results import Result

#: Commitments smaller than this many MW are reported as none.
MW_TOLERANCE = 1e-6
#: ``workers="auto"`` solves futures in parallel from this many sites (below it a solve
#: takes a second or less and starting a process, ~3 s to import, costs more than it saves).
PARALLEL_MIN_SITES = 20


@dataclass
class ScenarioPlan:
    """One future solved: its result, and its commitments' values."""

    result: Result
    values: dict[CommitKey, float]
    energize: dict[CommitKey, int]

    @property
    def cost_usd(self) -> float:
        return float(self.result.objective_usd)


@dataclass
class HedgeResult:
    """A hedged plan and the measures that say what hedging is worth (USD)."""

    tree: ScenarioTree
    method: str
    objective_usd: float  # the extensive form's objective: expected cost + λ·CVaR
    scenario_cost_usd: dict[str, float]  # each future's cost under the hedged plan
    commitments: pd.DataFrame  # every non-anticipative commitment of the hedged plan
    recourse: dict[str, ScenarioPlan]
    wait_and_see: dict[str, ScenarioPlan]
    eev_cost_usd: dict[str, float]
    regret: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def probability(self) -> Mapping[str, float]:
        return self.tree.tree.probability

    def expectation(self, values: Mapping[str, float]) -> float:
        return math.fsum(self.probability[k] * values[k] for k in self.tree.names)

    @property
    def expected_cost_usd(self) -> float:
        """SP: the expected cost of the hedged plan."""
        return self.expectation(self.scenario_cost_usd)

    @property
    def ws_usd(self) -> float:
        """Wait and see: the expectation of every future's own optimum."""
        return self.expectation({k: p.cost_usd for k, p in self.wait_and_see.items()})

    @property
    def eev_usd(self) -> float:
        """The expected cost of committing to the plan optimal for the mean future."""
        return self.expectation(self.eev_cost_usd)

    @property
    def evpi_usd(self) -> float:
        """Expected value of perfect information, SP − WS (≥ 0)."""
        return self.expected_cost_usd - self.ws_usd

    @property
    def vss_usd(self) -> float:
        """Value of the stochastic solution, EEV − SP (≥ 0 when risk-neutral)."""
        return self.eev_usd - self.expected_cost_usd

    def cvar_usd(self) -> float:
        """CVaR_α of the hedged plan's scenario costs."""
        return cvar(self.scenario_cost_usd, self.probability, self.tree.spec.risk.cvar_alpha)

    def decisions_due_now(self) -> pd.DataFrame:
        """Commitments that must be made in the first model year (or were due before it)."""
        y0 = self.tree.base.years[0]
        c = self.commitments
        return c[(c["commit_year"] <= y0) & (c["stage"] == 0)].reset_index(drop=True)


def _fixer(fixed: Mapping[CommitKey, float], holder: list,
           prices: Mapping[CommitKey, float] | None = None) -> Callable[[Any], None]:
    def prepare(m: Any) -> None:
        holder.append(m)
        commits = commitments(m)
        for key, var in commits.items():
            v = fixed.get(key)
            if v is not None:
                var.fix(max(float(v), 0.0))
        if prices:
            objective = scenario_objective(m)
            objective.expr = objective.expr + sum(
                p * commits[key] for key, p in prices.items() if key in commits)
    return prepare


def solve_plan(sc: Scenario, fixed: Mapping[CommitKey, float] | None = None,
               verbose: bool = False,
               prices: Mapping[CommitKey, float] | None = None) -> ScenarioPlan:
    """Solve one future, with some commitments fixed; keep the commitments' values.

    ``prices`` (model units: million USD per MW) are added to the objective per
    commitment: the Lagrangian relaxation of non-anticipativity that bounds a hedged plan
    from below (:mod:`planner.hedge.ph`); the result's objective then includes them.
    """
    holder: list = []
    result = solve(sc, prepare=_fixer(fixed or {}, holder, prices), verbose=verbose)
    return plan_of(holder[0], result)


def plan_of(m: Any, result: Result) -> ScenarioPlan:
    """The plan of the solved capacity model ``m``: its result and its commitments."""
    values = {k: float(v.value or 0.0) for k, v in commitments(m).items()}
    return ScenarioPlan(result=result, values=values, energize=energize_years(m))


#: One independent solve: a future, the commitments fixed in it (or none), and whether a
#: plan the commitments leave infeasible is reported as ``None`` rather than raised.
Job = tuple[Scenario, Mapping[CommitKey, float] | None, bool]


def _solve_job(job: Job, verbose: bool = False) -> ScenarioPlan | SolveError | None:
    sc, fixed, may_fail = job
    try:
        return solve_plan(sc, fixed, verbose)
    except SolveError as e:
        if may_fail:
            return None
        return SolveError(str(e))  # returned, not raised: raised in the caller's process


def resolve_workers(workers: int | str, st: ScenarioTree) -> int:
    """Processes for the independent solves: ``"auto"`` is one per core (at most one per
    future) from :data:`PARALLEL_MIN_SITES` sites, else 1; an int is taken as it is."""
    if workers != "auto":
        return max(int(workers), 1)
    if len(st.base.sites) < PARALLEL_MIN_SITES:
        return 1
    return max(1, min(os.cpu_count() or 1, len(st.names)))


class Solves:
    """Independent single-future solves, run at once or in pools of processes.

    With one worker :meth:`submit` solves the jobs there and then. With more it hands them
    to a pool and returns at once: ``background`` jobs, submitted while this process solves
    the extensive form (itself one core's work), go to a pool of ``workers − 1``
    processes, so the extensive form keeps a core of its own; the others to a pool of
    ``workers``. :meth:`gather` waits for a submission's plans, in job order. Each process
    is started fresh (``spawn``: HiGHS's threads are never forked) and gets its future and
    fixed commitments by pickle, returning the solved plan the same way. Use as a context
    manager; leaving it shuts the pools down.
    """

    def __init__(self, workers: int = 1, verbose: bool = False) -> None:
        self.workers, self.verbose = workers, verbose
        self.pools: dict[bool, ProcessPoolExecutor] = {}

    def __enter__(self) -> Solves:
        return self

    def __exit__(self, *exc: object) -> None:
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    def _pool(self, background: bool) -> ProcessPoolExecutor:
        if background not in self.pools:
            size = max(self.workers - 1, 1) if background else self.workers
            self.pools[background] = ProcessPoolExecutor(
                max_workers=size, mp_context=multiprocessing.get_context("spawn"))
        return self.pools[background]

    def submit(self, jobs: list[Job], background: bool = False) -> list[Any]:
        """Start ``jobs``; a handle for :meth:`gather`."""
        if self.workers <= 1:
            return [_solve_job(j, self.verbose) for j in jobs]
        pool = self._pool(background)
        return [pool.submit(_solve_job, j, self.verbose) for j in jobs]

    def gather(self, handle: list[Any]) -> list[ScenarioPlan | None]:
        """The plans of a submission, in job order.

        Raises
        ------
        SolveError
            When a job that may not fail has no optimal plan.
        """
        out = [h.result() if self.workers > 1 else h for h in handle]
        for r in out:
            if isinstance(r, SolveError):
                raise r
        return out


def first_stage(plan: ScenarioPlan, st: ScenarioTree) -> dict[CommitKey, float]:
    """The commitments a plan makes before the first reveal year."""
    return {k: v for k, v in plan.values.items() if st.tree.stage(k[3]) == 0}


def stranded_mw(result: Result) -> dict[str, float]:
    """Committed MW that never carries load: per kind, summed over sites.

    Facility: min(MW built, max(0, peak capacity − peak load)) per site; grid and on-site
    likewise against the load each carries.
    """
    ds = result.to_xarray()
    out = {}
    for kind, built, cap, load in (
            ("facility", "build_mw", "facility_mw", "load_mw"),
            ("grid", "grid_mw", "grid_capacity_mw", "grid_load_mw"),
            ("onsite", "onsite_mw", "onsite_capacity_mw", "onsite_load_mw")):
        idle = np.maximum(ds[cap].max("year") - ds[load].max("year"), 0.0)
        out[kind] = float(np.minimum(ds[built].sum("year"), idle).sum())
    return out


@dataclass
class FirstStage:
    """What a hedging method decides: each future's non-anticipative commitments."""

    method: str
    values: dict[str, dict[CommitKey, float]]  # future → commitment → MW
    objective_usd: float  # the method's own objective (expected cost + λ·CVaR)
    info: dict[str, Any] = field(default_factory=dict)
    recourse: dict[str, ScenarioPlan] | None = None  # each future's plan, when the method has it


def extensive_form_plan(st: ScenarioTree, verbose: bool = False) -> FirstStage:
    """The hedged commitments from the extensive form, solved by HiGHS, with each future's
    recourse plan read from its block (:func:`block_plans`)."""
    names, tree = st.names, st.tree
    t0 = time.perf_counter()
    models = {k: build_model(st.scenarios[k].capacity_inputs()) for k in names}
    risk = st.spec.risk
    ef = extensive_form(models, tree, cvar_alpha=risk.cvar_alpha, cvar_weight=risk.weight)
    build_seconds = time.perf_counter() - t0
    lv = st.base.capacity_inputs().levers
    mip = lv is not None and lv.integer
    n_sites = sum(len(sc.sites) for sc in st.scenarios.values())
    lp = solve_lp(ef, verbose=verbose, options=solver_options(n_sites, mip=mip),
                  mip_rel_gap=st.base.spec.mip_rel_gap, blocks=ef.scenario_block)
    values = {k: {key: float(v.value or 0.0) for key, v in commitments(models[k]).items()
                  if not tree.is_recourse(key[3])} for k in names}
    return FirstStage(
        method="extensive form", values=values,
        objective_usd=float(lp.objective) * USD_SCALE,
        recourse=block_plans(st, models, lp, build_seconds),
        info={"columns": lp.num_cols, "rows": lp.num_rows, "nonzeros": lp.num_nonzeros,
              "non_anticipativity_rows": len(ef.NONANT), "solve_seconds": lp.solve_seconds,
              "highs_version": lp.highs_version})


def block_weight(st: ScenarioTree, lp: LPSolution, k: str) -> float:
    """w_k, the weight of future k's cost C_k in the extensive form's objective at its
    optimum: p_k, plus with CVaR the dual μ_k ≥ 0 of ``Cvar_Excess[k]`` (z_k ≥ C_k − η)."""
    return st.tree.probability[k] + float(lp.duals.get("Cvar_Excess", {}).get(k, 0.0))


def block_plans(st: ScenarioTree, models: Mapping[str, Any], lp: LPSolution,
                build_seconds: float) -> dict[str, ScenarioPlan]:
    """Each future's recourse plan, read from its block of the solved extensive form.

    Given the hedged commitments, the extensive form's objective rises with every C_k
    (weight w_k > 0, :func:`block_weight`), so block k is an optimal plan of future k with
    those commitments fixed: the plan a re-solve would find (up to ties), at its cost. Its
    row duals are w_k times the future's own (the stationarity of block k's columns is
    w_k c_k − A_kᵀ y_k ≥ 0), so they are divided by w_k.
    """
    out = {}
    for k in st.names:
        block = lp.blocks[k].scaled_duals(1.0 / block_weight(st, lp, k))
        out[k] = plan_of(models[k], result_of(st.scenarios[k], models[k], block,
                                              build_seconds))
    return out


def solve_hedge(
    st: ScenarioTree,
    *,
    progress: Callable[[str], None] | None = None,
    regret: bool = True,
    verbose: bool = False,
    planner_of: Callable[[ScenarioTree], FirstStage] | None = None,
    label: str = "extensive form",
    workers: int | str = 1,
) -> HedgeResult:
    """The hedged plan of a scenario tree, with WS, EEV and regrets.

    Parameters
    ----------
    st : the tree (:func:`planner.hedge.tree.build_tree`).
    progress : called with a label before each stage.
    regret : also re-solve every future's own first-stage plan in every other future
        (n² solves).
    planner_of : the hedging method (default: :func:`extensive_form_plan`;
        :func:`planner.hedge.ph.progressive_hedging_plan` is the other).
    label : the progress label of the hedging stage.
    workers : processes for the single-future solves (:func:`resolve_workers`;
        ``"auto"``: one per core on large trees).
    """
    step = progress or (lambda _label: None)
    names, tree = st.names, st.tree
    seconds: dict[str, float] = {}
    n_workers = resolve_workers(workers, st)
    with Solves(n_workers, verbose) as solves:
        # everything that does not need the hedged plan is started first: with workers > 1
        # it runs in the pool while this process solves the extensive form
        t = time.perf_counter()
        step("wait and see")
        h_ws = solves.submit([(st.scenarios[k], None, False) for k in names], background=True)
        step("expected value plan")
        h_ev = solves.submit([(st.expected_value_scenario(), None, False)], background=True)
        seconds["before_hedge"] = time.perf_counter() - t

        t = time.perf_counter()
        step(label)
        first = (planner_of or (lambda s: extensive_form_plan(s, verbose)))(st)
        seconds["hedge"] = time.perf_counter() - t

        t = time.perf_counter()
        step("recourse")
        # the extensive form's blocks, or PH's futures solved with its plan fixed, are the
        # recourse plans; otherwise (PH over MPI) each future is re-solved with them fixed
        h_rec = None if first.recourse is not None else solves.submit(
            [(st.scenarios[k], first.values[k], False) for k in names])
        ev = solves.gather(h_ev)[0]
        # every commitment before the last reveal: one plan in all futures, as a hedged
        # plan's first stages are (fixing only the first would let later stages see it)
        ev_first = {k: v for k, v in ev.values.items() if not tree.is_recourse(k[3])}
        h_eev = solves.submit([(st.scenarios[k], ev_first, True) for k in names])
        ws = dict(zip(names, solves.gather(h_ws)))
        cross = [(own, k) for own in names for k in names if own != k] if regret else []
        h_cross = solves.submit([(st.scenarios[k], first_stage(ws[own], st), True)
                                 for own, k in cross])
        recourse = first.recourse if h_rec is None else dict(zip(names, solves.gather(h_rec)))
        eev_result = {k: None if p is None else p.result
                      for k, p in zip(names, solves.gather(h_eev))}
        solved = dict(zip(cross, solves.gather(h_cross)))
        seconds["after_hedge"] = time.perf_counter() - t

    cost = {k: recourse[k].cost_usd for k in names}
    info: dict[str, Any] = {first.method.replace(" ", "_"): first.info,
                            "workers": n_workers}
    info["recourse"] = "re-solved with the commitments fixed" if h_rec is not None else (
        "read from the extensive form's blocks" if first.method == "extensive form" else
        f"read from {first.method}'s pricing of its plan")
    eev = {k: math.inf if r is None else float(r.objective_usd) for k, r in eev_result.items()}

    rows = []
    if regret:
        t = time.perf_counter()
        step("regret table")
        plans = {"hedged": None, **{f"{j} plan": j for j in names}, "mean-future plan": None}
        for plan_label, own in plans.items():
            for k in names:
                # solved already: the hedged plan's recourse, the mean-future plan's EEV
                # solves and a future's own plan in itself (its wait-and-see optimum)
                if plan_label == "hedged":
                    res: Result | None = recourse[k].result
                elif plan_label == "mean-future plan":
                    res = eev_result[k]
                elif own == k:
                    res = ws[k].result
                else:
                    plan = solved[(own, k)]
                    res = None if plan is None else plan.result
                c = math.inf if res is None else float(res.objective_usd)
                strand = stranded_mw(res) if res is not None else {}
                rows.append({"plan": plan_label, "future": k,
                             "probability": tree.probability[k],
                             "cost_usd": c, "regret_usd": c - ws[k].cost_usd,
                             **{f"stranded_{kind}_mw": strand.get(kind, math.nan)
                                for kind in ("facility", "grid", "onsite")}})
        seconds["regret_table"] = time.perf_counter() - t

    objective = first.objective_usd
    if not math.isfinite(objective):  # PH: the plan's own expected cost
        objective = math.fsum(tree.probability[k] * cost[k] for k in names)
    return HedgeResult(
        tree=st, method=first.method, objective_usd=objective,
        scenario_cost_usd=cost, commitments=_commitment_table(st, recourse),
        recourse=recourse, wait_and_see=ws, eev_cost_usd=eev,
        regret=pd.DataFrame(rows), seconds=seconds, info=info,
    )


def _commitment_table(st: ScenarioTree, plans: Mapping[str, ScenarioPlan]) -> pd.DataFrame:
    """Every non-anticipative commitment of the hedged plan, one row per group."""
    tree, rows, seen = st.tree, [], set()
    for k in st.names:
        plan, sc = plans[k], st.scenarios[k]
        region = sc.sites["region"]
        pi = sc.chips["pi_h100e_per_mw"]
        for key, mw in plan.values.items():
            kind, s, g, c = key
            if tree.is_recourse(c) or mw <= MW_TOLERANCE:
                continue
            group = tree.group(k, c)
            if (key, group) in seen:
                continue
            seen.add((key, group))
            rows.append({
                "kind": kind, "site": s, "region": region[s],
                "chip": g if kind == "chips" else "",
                "technology": g if kind == "onsite" else "",
                "commit_year": c, "energize_year": plan.energize[key],
                "stage": tree.stage(c), "futures": "all" if not group else "/".join(group),
                "mw": mw, "h100e": mw * float(pi[g]) if kind == "chips" else math.nan,
            })
    cols = ["kind", "site", "region", "chip", "technology", "commit_year", "energize_year", "stage",
            "futures", "mw", "h100e"]
    df = pd.DataFrame(rows, columns=cols)
    order = {k: i for i, k in enumerate(KINDS)}
    return df.sort_values(["stage", "commit_year", "kind", "mw"],
                          key=lambda s: s.map(order) if s.name == "kind" else (
                              -s if s.name == "mw" else s)).reset_index(drop=True)
