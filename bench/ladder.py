"""Benchmark ladder: build, hand-off, solve, extraction and peak memory by size.

Run by hand (not part of the test suite)::

    python -m bench.ladder                       # 10, 100, 1,000, 10,000 sites
    python -m bench.ladder --sites 1000 3000 --levers

Each size runs in a fresh subprocess so peak RSS is its own. Synthetic
instances come from ``dcplan synth`` (seed 0, 15 years, 12 chips). Prints one
JSON line per run and a Markdown table at the end (paste into
``docs/benchmarks.md``). ``overhead_over_solve`` is (build + hand-off + extraction)
÷ solve, extraction including ``to_xarray``; times are wall-clock, with the
process's CPU time in ``cpu_s`` (the machine may be shared). ``--levers`` adds every
LP lever (budget, carbon, water, moratoria, regional demand, a forced build).
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

#: Every LP lever, for ``--levers`` (site s00001 exists in every synthetic instance).
LEVERS_YAML = """
budget: {total_usd_per_year: {2030: 5.0e+11}}
carbon: {price_usd_per_t: 20, cap_t_per_year: {2032: 4.0e+7}}
water: {region_limits_m3_per_year: {ERCOT: 3.0e+8}}
moratoria: [{region: PJM, from_year: 2030}]
regional_demand: [{name: east, regions: [PJM, NYISO, ISO-NE], share: 0.1, from_year: 2028}]
forced_builds: [{site: s00001, year: 2028, build_mw: 300}]
"""


def one(scenario: str, solver: str, time_limit: float) -> dict:
    """Solve one instance in this process; return the measurements."""
    import planner

    t0 = time.perf_counter()
    sc = planner.load_scenario(scenario)
    load_s = time.perf_counter() - t0
    # "auto": what planner.solve picks by size; "default": HiGHS's own choice
    options = None if solver == "auto" else {"solver": "choose" if solver == "default"
                                             else solver}
    c0 = time.process_time()
    r = planner.solve(sc, options=options, time_limit_seconds=time_limit)
    t1 = time.perf_counter()
    ds = r.to_xarray()
    xarray_s = time.perf_counter() - t1
    extract = r.lp.extract_seconds + xarray_s
    overhead = r.build_seconds + r.lp.handoff_seconds + extract
    return {
        "sites": len(sc.sites), "levers": ",".join(sc.active_levers()) or "none",
        "solver": solver,
        "variables": r.lp.num_cols, "constraints": r.lp.num_rows,
        "nonzeros": r.lp.num_nonzeros, "load_s": round(load_s, 3),
        "build_s": round(r.build_seconds, 3), "handoff_s": round(r.lp.handoff_seconds, 3),
        "solve_s": round(r.lp.solve_seconds, 2), "extract_s": round(extract, 3),
        "overhead_over_solve": round(overhead / max(r.lp.solve_seconds, 1e-9), 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "cpu_s": round(time.process_time() - c0, 1),
        "objective_usd": r.objective_usd,
        "unserved_share": float(ds["unserved_h100e"].sum() / ds["demand_h100e"].sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, nargs="+", default=[10, 100, 1000, 10000])
    ap.add_argument("--levers", action="store_true", help="add every LP lever")
    ap.add_argument("--solver", default="auto",
                    help="HiGHS solver: default (HiGHS's choice), simplex, ipm, or auto "
                    "(what planner.solve picks by size)")
    ap.add_argument("--time-limit", type=float, default=1800)
    ap.add_argument("--one", nargs=2, metavar=("SCENARIO", "SOLVER"),
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
            if args.levers:
                with open(folder / "scenario.yaml", "a", encoding="utf-8") as f:
                    f.write(LEVERS_YAML)
            proc = subprocess.run(
                [sys.executable, "-m", "bench.ladder", "--time-limit", str(args.time_limit),
                 "--one", str(folder / "scenario.yaml"), args.solver],
                capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"# {n} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(json.dumps(row), flush=True)
    cols = ["sites", "levers", "solver", "variables", "constraints", "nonzeros", "build_s",
            "handoff_s", "solve_s", "extract_s", "overhead_over_solve", "cpu_s", "peak_rss_mib",
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
