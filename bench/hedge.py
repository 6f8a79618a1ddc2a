"""Benchmark: hedged plans by extensive form and by progressive hedging.

Run by hand (not part of the test suite)::

    python -m bench.hedge                           # us-base-hedge (4 futures), EF
    python -m bench.hedge --sites 1000              # a synthetic 1,000-site scenario, 4 futures
    python -m bench.hedge --method ph --iterations 50
    python -m bench.hedge --sites 1000 --workers 1   # the single futures one after another

A synthetic instance is ``dcplan synth`` (seed 0, 15 years, 12 chips) with the four demand
presets of the bundled example as its futures. Each run is a fresh subprocess; prints one JSON
line per run (paste the numbers into ``docs/benchmarks.md``); each stage's start goes to
stderr with the seconds elapsed, so a long run shows where it is.
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

FUTURES = """
uncertainty:
  reveal_year: 2029
  scenarios:
    base: {probability: 0.4, overrides: {demand.preset: base}}
    jevons: {probability: 0.2, overrides: {demand.preset: jevons}}
    deflation: {probability: 0.2, overrides: {demand.preset: deflation}}
    capex-retrenchment: {probability: 0.2, overrides: {demand.preset: capex-retrenchment}}
"""


def one(scenario: str, method: str, iterations: int, regret: bool, workers: str) -> dict:
    """Solve one hedged plan in this process; return the measurements."""
    import logging

    import planner
    from planner.hedge.engine import solve_hedge
    from planner.hedge.tree import build_tree

    log = logging.getLogger("planner.hedge.ph")  # PH's bound checks, not every library's log
    log.addHandler(logging.StreamHandler(sys.stderr))
    log.setLevel(logging.INFO)

    t0 = time.perf_counter()

    def progress(label: str) -> None:  # stderr, so the JSON line stays alone on stdout
        print(f"[{time.perf_counter() - t0:7.1f} s] {label}", file=sys.stderr, flush=True)

    progress("building the futures")
    st = build_tree(planner.load_scenario(scenario))
    planner_of = None
    if method == "ph":
        from planner.hedge.ph import progressive_hedging_plan

        def planner_of(s):
            return progressive_hedging_plan(s, max_iterations=iterations)
    r = solve_hedge(st, regret=regret, planner_of=planner_of, progress=progress,
                    label="progressive hedging" if method == "ph" else "extensive form",
                    workers=workers if workers == "auto" else int(workers))
    return {
        "sites": len(st.base.sites), "futures": len(st.names), "method": r.method,
        "wall_s": round(time.perf_counter() - t0, 1),
        **{f"{k}_s": round(v, 1) for k, v in r.seconds.items()},
        "expected_cost_usd": r.expected_cost_usd, "ws_usd": r.ws_usd, "eev_usd": r.eev_usd,
        "workers": r.info["workers"], "info": r.info,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=0, help="0 = the bundled us-base-hedge")
    ap.add_argument("--method", default="ef", choices=["ef", "ph"])
    ap.add_argument("--iterations", type=int, default=300, help="PH iteration limit")
    ap.add_argument("--regret", action="store_true", help="also the n² regret re-solves")
    ap.add_argument("--workers", default="auto", help="processes for the single-future solves")
    ap.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(one(a.one[0], a.one[1], int(a.one[2]), a.one[3] == "1", a.one[4])))
        return
    with tempfile.TemporaryDirectory() as tmp:
        if a.sites:
            folder = Path(tmp) / f"synth{a.sites}"
            subprocess.run([sys.executable, "-m", "planner", "synth", "--sites", str(a.sites),
                            "-o", str(folder)], check=True, capture_output=True)
            path = folder / "scenario.yaml"
            path.write_text(path.read_text(encoding="utf-8") + FUTURES, encoding="utf-8")
            scenario = str(path)
        else:
            from planner.hedge import default_hedge_path

            scenario = str(default_hedge_path())
        out = subprocess.run([sys.executable, "-m", "bench.hedge", "--one", scenario, a.method,
                              str(a.iterations), "1" if a.regret else "0", a.workers],
                             check=True, stdout=subprocess.PIPE, text=True)
        print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
