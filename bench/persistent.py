"""Measure the persistent re-solve (planner.optimize.persistent) against cold solves.

For each instance (the bundled ``us-base`` and ``dcplan synth --sites N``) and each
parameter change, the script solves the changed scenario twice:

* cold: :func:`planner.solve` (build the Pyomo model, compile it, pass it to a new
  ``Highs``, solve with the default algorithm: dual simplex below 200 sites, interior point
  with crossover from 200);
* hot: :class:`planner.optimize.persistent.PersistentSolver` that has just solved the base scenario
  (diff the new LP against the loaded one, push the changes, simplex from the old basis).

It checks that both objectives agree (1e-6 relative) and prints a Markdown table of wall
times (whole ``solve`` call: build + hand-off + HiGHS + extraction) and HiGHS times.
Usage::

    python -m bench.persistent [--sites 300] [--repeats 2]

Not a test: timings depend on the machine and its load (quote the ratios).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import planner
from planner.inputs.scenario import Scenario
from planner.inputs.synth import write_synth
from planner.optimize.persistent import PersistentSolver
from planner.sweep import apply_params

#: name → parameters (planner.sweep keys) of each change measured
CHANGES: dict[str, dict[str, object]] = {
    "demand growth ×1.1 (row bounds)": {"demand_multiplier": 1.1},
    "energy price ×1.2, escalation +1 %/yr (costs)": {
        "energy_price_multiplier": 1.2, "price_escalation_shift_per_year": 0.01},
    "on-site capex −20 % (costs)": {"onsite.capex_usd_per_mw": 0.8},
    "frontier growth 1.35 → 1.30 (coefficients)": {"efficiency.frontier_growth": 1.30},
}


def _variant(base: Scenario, change: dict[str, object]) -> Scenario | None:
    """The changed scenario, or ``None`` when the change does not apply to ``base``."""
    params = dict(change)
    if "onsite.capex_usd_per_mw" in params:  # relative in the table above
        params["onsite.capex_usd_per_mw"] = base.spec.onsite.capex_usd_per_mw * float(
            params["onsite.capex_usd_per_mw"])  # type: ignore[arg-type]
    if "efficiency.frontier_growth" in params and base.spec.efficiency.frontier_growth is None:
        return None  # synthetic instances have no frontier chips
    return apply_params(base, params)


def _timed(fn: Callable[[], planner.Result]) -> tuple[float, planner.Result]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def measure(base: Scenario, label: str, repeats: int) -> list[dict[str, object]]:
    """One row per change: cold and hot wall/HiGHS seconds (medians over ``repeats``)."""
    rows = []
    solver = PersistentSolver()
    t_first, first = _timed(lambda: solver.solve(base))
    lp = first.lp
    label = (f"{label}: {lp.num_cols:,} columns, {lp.num_rows:,} rows, "
             f"{lp.num_nonzeros:,} nonzeros")
    for name, change in CHANGES.items():
        sc = _variant(base, change)
        if sc is None:
            continue
        cold_wall, cold_highs, hot_wall, hot_highs, iters = [], [], [], [], []
        for _ in range(repeats):
            w, cold = _timed(lambda sc=sc: planner.solve(sc))
            cold_wall.append(w)
            cold_highs.append(cold.lp.solve_seconds)
            solver.solve(base)  # back to the base basis
            w, hot = _timed(lambda sc=sc: solver.solve(sc))
            assert solver.last is not None and solver.last.mode == "update", solver.last
            hot_wall.append(w)
            hot_highs.append(hot.lp.solve_seconds)
            iters.append(hot.lp.info["simplex_iterations"])
            rel = abs(hot.objective_usd - cold.objective_usd) / abs(cold.objective_usd)
            assert rel < 1e-6, (name, hot.objective_usd, cold.objective_usd)
        last = solver.last
        rows.append({
            "instance": label, "change": name,
            "pushed": f"{last.costs} costs, {last.row_bounds} row bounds, "
                      f"{last.coefficients} coefficients",
            "cold_s": statistics.median(cold_wall), "cold_highs_s": statistics.median(cold_highs),
            "hot_s": statistics.median(hot_wall), "hot_highs_s": statistics.median(hot_highs),
            "hot_iterations": int(statistics.median(iters)),
            "speedup": statistics.median(cold_wall) / statistics.median(hot_wall),
            "first_s": t_first,
        })
    return rows


def sweep_speedup(base: Scenario, n: int) -> dict[str, float]:
    """A small n × n sweep (demand × on-site capex) in one process: persistent vs cold."""
    grid = [{"demand_multiplier": float(m), "onsite.capex_usd_per_mw": float(c)}
            for m in np.linspace(0.8, 1.2, n) for c in np.linspace(2.0e6, 4.0e6, n)]
    t = time.perf_counter()
    cold = [planner.solve(apply_params(base, p)).objective_usd for p in grid]
    t_cold = time.perf_counter() - t
    solver = PersistentSolver()
    t = time.perf_counter()
    hot = [solver.solve(apply_params(base, p)).objective_usd for p in grid]
    t_hot = time.perf_counter() - t
    assert all(abs(a - b) <= 1e-6 * abs(b) for a, b in zip(hot, cold))
    return {"scenarios": len(grid), "cold_s": t_cold, "persistent_s": t_hot,
            "speedup": t_cold / t_hot}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=300, help="synthetic sites (0 = skip)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--sweep", type=int, default=4,
                    help="also time an N × N sweep of us-base in one process (0 = skip)")
    args = ap.parse_args()
    rows = []
    base = planner.load_scenario()
    rows += measure(base, f"us-base ({len(base.sites)} sites, {len(base.years)} years)",
                    args.repeats)
    if args.sites:
        with tempfile.TemporaryDirectory() as tmp:
            path = write_synth(Path(tmp) / "synth", args.sites)
            synth = planner.load_scenario(path)
            rows += measure(synth, f"synth --sites {args.sites}", args.repeats)
    print("| instance | change | pushed | cold solve, s (HiGHS) | persistent, s (HiGHS) "
          "| simplex iterations | speed-up |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['instance']} | {r['change']} | {r['pushed']} | {r['cold_s']:.2f} "
              f"({r['cold_highs_s']:.2f}) | {r['hot_s']:.2f} ({r['hot_highs_s']:.2f}) "
              f"| {r['hot_iterations']:,} | {r['speedup']:.1f}× |")
    if args.sweep:
        sw = sweep_speedup(base, args.sweep)
        print(f"\nus-base sweep of {sw['scenarios']:.0f} scenarios (demand × on-site capex), one "
              f"process: cold {sw['cold_s']:.1f} s, persistent {sw['persistent_s']:.1f} s, "
              f"{sw['speedup']:.1f}× faster")


if __name__ == "__main__":
    main()
