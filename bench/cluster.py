"""Clustering benchmark: cost error of ``--cluster K`` against the unclustered solve.

Run by hand (not part of the test suite)::

    python -m bench.cluster                              # 1,000 sites, K = 2 5 10 20 40
    python -m bench.cluster --sites 10000 --k 5 20 50
    python -m bench.cluster --scenario runs/synth-1000/scenario.yaml --k 5 20

The instance is ``dcplan synth --sites N`` (seed 0, 15 years, 12 chips) unless
``--scenario`` names one. It is solved once unclustered and once per K after
:func:`planner.inputs.cluster.cluster_sites`, each with :func:`planner.solve`'s default
route and algorithm for its size (what ``dcplan run --cluster K`` does). Cost
error = (clustered − unclustered objective) ÷ unclustered. "solve" is HiGHS's
``run()``; "whole solve call" is ``cluster_sites`` + ``planner.solve`` (build,
hand-off, HiGHS, extraction). Prints one JSON line per solve and a Markdown
table at the end (paste into ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import planner
from planner.inputs.cluster import cluster_sites
from planner.inputs.synth import write_synth
from planner.optimize.solver_options import algorithm_name


def one(sc: planner.Scenario, k: int | None, time_limit: float | None) -> dict:
    """Solve ``sc`` (clustered to ``k`` when given); return the measurements."""
    t0 = time.perf_counter()
    clustered = cluster_sites(sc, k) if k is not None else sc
    cluster_s = time.perf_counter() - t0
    r = planner.solve(clustered, time_limit_seconds=time_limit)
    whole = time.perf_counter() - t0
    return {
        "sites": len(sc.sites), "k": k, "representatives": len(clustered.sites),
        "algorithm": algorithm_name(len(clustered.sites)).removeprefix("HiGHS "),
        "variables": r.lp.num_cols,
        "cluster_s": round(cluster_s, 3), "build_s": round(r.build_seconds, 3),
        "solve_s": round(r.lp.solve_seconds, 2), "whole_s": round(whole, 2),
        "objective_usd": r.objective_usd, "load_avg_1min": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=1000, help="synthetic sites")
    ap.add_argument("--k", type=int, nargs="+", default=[2, 5, 10, 20, 40],
                    help="representatives per region to try")
    ap.add_argument("--scenario", type=Path, default=None,
                    help="solve this scenario instead of a new synthetic one")
    ap.add_argument("--time-limit", type=float, default=1800)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = args.scenario or write_synth(Path(tmp) / f"synth{args.sites}", args.sites)
        sc = planner.load_scenario(path)
        ref = one(sc, None, args.time_limit)
        print(json.dumps(ref), flush=True)
        for k in args.k:
            row = one(sc, k, args.time_limit)
            row["cost_error"] = (row["objective_usd"] - ref["objective_usd"]) \
                / ref["objective_usd"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    n = f"{ref['sites']:,} sites"
    print("\n| instance | K | representatives | cost error | solve | whole solve call |")
    print("| --- | --- | --- | --- | --- | --- |")
    for i, r in enumerate(rows):
        label = (f"{n} (unclustered: {ref['algorithm']} {ref['solve_s']:.1f} s, whole call "
                 f"{ref['whole_s']:.1f} s)" if i == 0 else n)
        print(f"| {label} | {r['k']} | {r['representatives']:,} | {100 * r['cost_error']:+.2f} % "
              f"| {r['solve_s']:.2f} s | {r['whole_s']:.2f} s |")


if __name__ == "__main__":
    main()
