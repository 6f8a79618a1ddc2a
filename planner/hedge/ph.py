"""Progressive hedging with mpi-sppy: the hedged commitments of trees too large for one model.

Each future is the capacity model as ``dcplan run`` builds it (:func:`scenario_creator`),
plus one variable per first-stage commitment (``Commit``) tied to the future's own
variable (``Commit_Link``); mpi-sppy's PH prices the disagreement between futures
(W) and pulls them to their probability-weighted mean (x̄) with a proximal term of
weight ρ, one HiGHS solve per future and iteration. ρ is set per commitment in
proportion to its cost (cost-proportional ρ, Watson & Woodruff 2011), so a MW of
grid and a MW of chips converge alike.

When PH stops (converged, or at its iteration limit) the consensus x̄ is the plan: it is
fixed in every future and each is re-solved (:func:`planner.hedge.engine.solve_hedge`),
so the expected cost reported is that of a plan that can be carried out, an upper
bound on the extensive form's.

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
import os
import shutil
import subprocess
import sys
import tempfile
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

#: PH stops when the mean distance of the futures' commitments from x̄ (MW) is below this.
CONVERGENCE_MW = 1e-3
#: PH iterations at most.
MAX_ITERATIONS = 300
#: ρ per commitment = this × its overnight capex (million USD/MW), at least RHO_FLOOR.
RHO_FACTOR = 0.1
RHO_FLOOR = 1e-3


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


def run_ph(st: ScenarioTree, keys: list[CommitKey], *, verbose: bool = False,
           max_iterations: int = MAX_ITERATIONS) -> dict[str, Any]:
    """Run mpi-sppy's PH on the futures of ``st`` (this process's MPI world)."""
    options = {
        "solver_name": "appsi_highs", "PHIterLimit": max_iterations,
        "defaultPHrho": 1.0, "convthresh": CONVERGENCE_MW, "verbose": False,
        "display_progress": verbose, "display_timing": False,
        "iter0_solver_options": {}, "iterk_solver_options": {},
        # HiGHS through Pyomo takes no quadratic objective: the proximal term ρ/2·(x − x̄)²
        # is replaced by mpi-sppy's piecewise-linear outer approximation
        "linearize_proximal_terms": True, "proximal_linearization_tolerance": 1e-3,
    }
    quiet = contextlib.nullcontext() if verbose else contextlib.redirect_stdout(io.StringIO())
    with quiet:  # mpi-sppy prints its progress (and a line when imported) to stdout
        from mpisppy.opt.ph import PH

        ph = PH(options, list(st.names), scenario_creator,
                scenario_creator_kwargs={"st": st, "keys": keys}, rho_setter=rho_setter)
        conv, _, trivial_bound = ph.ph_main()
    scenario = next(iter(ph.local_scenarios.values()))
    xbar = [float(scenario._mpisppy_model.xbars["ROOT", i].value) for i in range(len(keys))]
    return {"xbar": xbar, "convergence": float(conv), "iterations": int(ph._PHIter),
            "trivial_bound_usd": float(trivial_bound) * USD_SCALE,
            "rank": int(ph.cylinder_rank)}


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
                             max_iterations: int = MAX_ITERATIONS) -> FirstStage:
    """The hedged commitments by progressive hedging (in this process, or over MPI)."""
    check_ph(st, ranks)
    keys = first_stage_keys(st)
    if ranks == 1:
        out = run_ph(st, keys, verbose=verbose, max_iterations=max_iterations)
    else:
        out = _run_mpi(st, ranks, verbose, max_iterations)
    xbar = dict(zip(keys, out["xbar"]))
    values = {k: dict(xbar) for k in st.names}
    return FirstStage(method="progressive hedging", values=values, objective_usd=float("nan"),
                      info={k: v for k, v in out.items() if k != "xbar"})


def _run_mpi(st: ScenarioTree, ranks: int, verbose: bool, max_iterations: int) -> dict:
    mpiexec = shutil.which("mpiexec") or "mpiexec"
    env = {**os.environ, "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
           "OMPI_MCA_rmaps_base_oversubscribe": "1"}
    with tempfile.TemporaryDirectory(prefix="dcplan-ph-") as tmp:
        out = Path(tmp) / "xbar.json"
        cmd = [mpiexec, "-n", str(ranks), sys.executable, "-m", "planner.hedge.ph",
               str(st.base.path), str(out), str(max_iterations)]
        proc = subprocess.run(cmd, env=env, capture_output=not verbose, text=True,
                              check=False)
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr or "").strip().splitlines()[-1:] if not verbose else []
            raise SolveError("progressive hedging over MPI failed"
                             + (f": {tail[0]}" if tail else ""))
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    """One MPI rank: ``python -m planner.hedge.ph SCENARIO OUT.json ITERATIONS``."""
    import planner
    from planner.hedge.tree import build_tree

    path, out, iterations = argv[0], Path(argv[1]), int(argv[2])
    st = build_tree(planner.load_scenario(path))
    result = run_ph(st, first_stage_keys(st), max_iterations=iterations)
    if result["rank"] == 0:
        out.write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
