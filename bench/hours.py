"""Benchmark of the hourly layer (``hours:``) against the annual non-firm cover.

Run by hand (not part of the test suite)::

    python -m bench.hours                       # us-base, 12 days: annual, zonal, per site
    python -m bench.hours --sites 1000 --variants annual,region

Every variant is the same scenario with ``nonfirm: {curtailment_pct: 0.5,
flexible_share: 0.25}``; ``annual`` has no ``hours:``, ``region`` and ``site`` add
``hours: {days: K, dispatch: …}``. ``--sites 0`` (the default) is the bundled
``us-base``; ``--sites N`` a synthetic instance from ``dcplan synth`` (seed 0). Each
run is a fresh subprocess (:func:`bench.ladder.one`: load, build, hand-off, solve,
extraction, peak memory); prints one JSON line per run and a Markdown table whose last
column is the objective's difference from ``annual``. Times are wall clock with the
process's CPU time beside them (the machine may be shared).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import resources
from pathlib import Path

NONFIRM_YAML = "nonfirm: {curtailment_pct: 0.5, flexible_share: 0.25}\n"


def scenario_for(folder: Path, sites: int, variant: str, days: int) -> Path:
    """Write the variant's scenario under ``folder``; its path."""
    base = folder / (f"synth{sites}" if sites else "us-base")
    if not base.exists():
        if sites:
            subprocess.run([sys.executable, "-m", "planner", "synth", "--sites", str(sites),
                            "-o", str(base)], check=True, capture_output=True)
        else:
            base.mkdir()
            shutil.copy(Path(str(resources.files("planner") / "data" / "us-base.yaml")),
                        base / "scenario.yaml")
    text = (base / "scenario.yaml").read_text(encoding="utf-8") + NONFIRM_YAML
    if variant != "annual":
        text += f"hours: {{days: {days}, dispatch: {variant}}}\n"
    path = base / f"{variant}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=0, help="0 = us-base, else synthetic sites")
    ap.add_argument("--days", type=int, default=12)
    ap.add_argument("--variants", default="annual,region,site")
    ap.add_argument("--time-limit", type=float, default=1800)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for variant in args.variants.split(","):
            path = scenario_for(Path(tmp), args.sites, variant, args.days)
            proc = subprocess.run(
                [sys.executable, "-m", "bench.ladder", "--time-limit", str(args.time_limit),
                 "--one", str(path), "auto"], capture_output=True, text=True)
            if proc.returncode != 0:
                print(f"# {variant} failed: {proc.stderr.strip().splitlines()[-1:]}")
                continue
            row = {"variant": variant, "days": args.days if variant != "annual" else None,
                   **json.loads(proc.stdout.strip().splitlines()[-1])}
            rows.append(row)
            print(json.dumps(row), flush=True)
    base = next((r["objective_usd"] for r in rows if r["variant"] == "annual"), None)
    cols = ["variant", "sites", "variables", "constraints", "nonzeros", "load_s", "build_s",
            "handoff_s", "solve_s", "extract_s", "cpu_s", "peak_rss_mib", "objective_usd"]
    print("\n| " + " | ".join(cols) + " | vs annual |")
    print("|" + " --- |" * (len(cols) + 1))
    for r in rows:
        cells = [f"{r[c]:,.0f}" if c in ("variables", "constraints", "nonzeros",
                                          "peak_rss_mib") else
                 f"{r[c]:.6e}" if c == "objective_usd" else str(r[c]) for c in cols]
        diff = f"{100 * (r['objective_usd'] / base - 1):+.4f} %" if base else ""
        print("| " + " | ".join(cells) + f" | {diff} |")


if __name__ == "__main__":
    main()
