"""Benchmark ladder: build, hand-off, solve, extraction and peak memory by size.

Run by hand (not part of the test suite)::

    python -m bench.ladder                       # 10, 100, 1,000, 10,000 sites
    python -m bench.ladder --sites 10 100 --routes pyomo matrix

Each (size, route) runs in a fresh subprocess so peak RSS is its own. Synthetic
instances come from ``dcplan synth`` (seed 0, 15 years, 12 chips). Prints one
JSON line per run and a Markdown table at the end (paste into
``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(scenario: str, route: str, solver: str, time_limit: float) -> dict:
    """Solve one instance in this process; return the measurements."""
    import planner

    t0 = time.perf_counter()
    sc = planner.load_scenario(scenario)
    load_s = time.perf_counter() - t0
    # "auto": what planner.solve picks by size; "default": HiGHS's own choice
    options = None if solver == "auto" else {"solver": "choose" if solver == "default"
                                             else solver}
    r = planner.solve(sc, route=route, options=options, time_limit_seconds=time_limit)
    t1 = time.perf_counter()
    ds = r.to_xarray()
    xarray_s = time.perf_counter() - t1
    extract = r.lp.extract_seconds + xarray_s
    overhead = r.build_seconds + r.lp.handoff_seconds + extract
    return {
        "sites": len(sc.sites), "route": route, "solver": solver,
        "variables": r.lp.num_cols, "constraints": r.lp.num_rows,
        "nonzeros": r.lp.num_nonzeros, "load_s": round(load_s, 3),
        "build_s": round(r.build_seconds, 3), "handoff_s": round(r.lp.handoff_seconds, 3),
        "solve_s": round(r.lp.solve_seconds, 2), "extract_s": round(extract, 3),
        "overhead_over_solve": round(overhead / max(r.lp.solve_seconds, 1e-9), 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "objective_usd": r.objective_usd,
        "unserved_share": float(ds["unserved_h100e"].sum() / ds["demand_h100e"].sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, nargs="+", default=[10, 100, 1000, 10000])
    ap.add_argument("--routes", nargs="+", default=["pyomo", "matrix"])
    ap.add_argument("--solver", default="auto",
                    help="HiGHS solver: default (HiGHS's choice), simplex, ipm, or auto "
                    "(what planner.solve picks by size)")
    ap.add_argument("--max-pyomo-sites", type=int, default=1000)
    ap.add_argument("--time-limit", type=float, default=1800)
    ap.add_argument("--one", nargs=3, metavar=("SCENARIO", "ROUTE", "SOLVER"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(*args.one, time_limit=args.time_limit)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sites:
            folder = Path(tmp) / f"synth{n}"
            subprocess.run([sys.executable, "-m", "planner", "synth", "--sites", str(n),
                            "-o", str(folder)], check=True, capture_output=True)
            for route in args.routes:
                if route == "pyomo" and n > args.max_pyomo_sites:
                    continue
                proc = subprocess.run(
                    [sys.executable, "-m", "bench.ladder", "--time-limit",
                     str(args.time_limit), "--one", str(folder / "scenario.yaml"), route,
                     args.solver],
                    capture_output=True, text=True)
                if proc.returncode != 0:
                    print(f"# {n} {route} failed: {proc.stderr.strip().splitlines()[-1:]}")
                    continue
                row = json.loads(proc.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(json.dumps(row), flush=True)
    cols = ["sites", "route", "solver", "variables", "constraints", "nonzeros", "build_s",
            "handoff_s", "solve_s", "extract_s", "overhead_over_solve", "peak_rss_mib",
            "objective_usd"]
    print("\n| " + " | ".join(cols) + " |")
    print("|" + " --- |" * len(cols))
    for r in rows:
        cells = [f"{r[c]:,.0f}" if c in ("variables", "constraints", "nonzeros",
                                          "peak_rss_mib") else
                 f"{r[c]:.6e}" if c == "objective_usd" else str(r[c]) for c in cols]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
