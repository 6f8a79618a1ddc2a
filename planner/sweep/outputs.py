"""Writing a sweep's files: the Dataset, plan.csv, failures.csv, summary.json and
the charts."""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from planner.outputs.files import json_ready
from planner.outputs.outdir import atomic_folder, claim_folder
from planner.sweep.assembly import assemble, plan_table
from planner.sweep.charts import (
    PERCENTILES,
    is_monte_carlo,
    plot_fans,
    plot_scenario_lines,
    plot_tornado,
)
from planner.sweep.parts import atomic_text
from planner.sweep.prepare import PreparedSweep

#: Every name a sweep writes in its folder (its marker lists them; a rerun resumes).
SWEEP_FILES = {"sweep.nc", "sweep.zarr", "plan.csv", "failures.csv", "summary.json",
               "fan.png", "scenarios.png", "tornado.png", "parts"}


@dataclass
class SweepOutcome:
    """What a sweep did and wrote."""

    dataset: xr.Dataset
    failures: pd.DataFrame  # scenario, error_type, error, parameters
    out_dir: Path
    files: list[Path]
    total: int
    computed: int
    skipped: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def write_outputs(prep: PreparedSweep, counts: dict[str, int] | None = None,
                  seconds: float = 0.0) -> SweepOutcome:
    """Assemble and write the Dataset, plan.csv, failures.csv, summary.json and charts
    (``fan.png`` for Monte Carlo, ``scenarios.png`` with one line per scenario for a grid,
    ``tornado.png``).

    Each file is written to a temporary name and renamed into place (a Zarr store through
    :func:`planner.outputs.files.atomic_folder`).
    """
    out = claim_folder(prep.out_dir, "sweep", SWEEP_FILES)
    ds, failures = assemble(prep)
    files: list[Path] = []
    if prep.fmt == "zarr":
        target = out / "sweep.zarr"
        with atomic_folder(target, owned=False) as tmp:
            shutil.rmtree(tmp)
            with warnings.catch_warnings():
                # zarr 3 warns that text coordinates and consolidated metadata are not yet in
                # the V3 spec; xarray reads them back (tested), so the warning adds nothing
                warnings.filterwarnings("ignore", message="The data type", category=FutureWarning)
                warnings.filterwarnings("ignore", message="Consolidated metadata")
                ds.to_zarr(tmp, mode="w")
    else:
        target = out / "sweep.nc"
        tmp = out / f".sweep.nc.{uuid.uuid4().hex[:6]}.tmp"
        try:
            ds.to_netcdf(tmp, engine="netcdf4")
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
    files.append(target)
    atomic_text(out / "plan.csv", plan_table(ds, prep.plan).to_csv(index=False))
    atomic_text(out / "failures.csv", failures.to_csv(index=False))
    files += [out / "plan.csv", out / "failures.csv"]
    ok = ds.isel(scenario=np.flatnonzero(ds["status"].values == "ok")) \
        if "objective_usd" in ds else None
    if ok is not None and ok.sizes["scenario"]:
        by_year = ("fan.png", plot_fans) if is_monte_carlo(prep.plan) else \
            ("scenarios.png", plot_scenario_lines)
        for name, draw in (by_year, ("tornado.png", plot_tornado)):
            tmp = out / f".{name}.{uuid.uuid4().hex[:6]}.png"
            try:
                if draw(ok, tmp, prep.plan):
                    os.replace(tmp, out / name)
                    files.append(out / name)
            finally:
                tmp.unlink(missing_ok=True)
    counts = dict(counts or {})
    obj = ok["objective_usd"].values if ok is not None and ok.sizes["scenario"] else np.array([])
    plan_cost = ok["plan_cost_usd"].values if ok is not None and ok.sizes["scenario"] \
        and "plan_cost_usd" in ok else np.array([])
    summary = {
        "scenario": prep.base.scenario.name,
        "grid_file": str(prep.grid_path),
        "scenarios": len(prep.plan),
        "ok": int((ds["status"] == "ok").sum()),
        "failed": int((ds["status"] == "failed").sum()),
        "missing": int((ds["status"] == "missing").sum()),
        "this_run": counts,
        "seconds": round(seconds, 3),
        "parameters": {i.key: {"units": i.units, "kind": i.kind} for i in prep.plan.parameters},
        "objective_usd_percentiles": {str(p): float(np.percentile(obj, p)) for p in PERCENTILES}
        if len(obj) else {},
        "plan_cost_usd_percentiles": {str(p): float(np.percentile(plan_cost, p))
                                      for p in PERCENTILES} if len(plan_cost) else {},
        "inputs_sha256": prep.input_hashes,
        "versions": {k.removeprefix("version_"): v for k, v in ds.attrs.items()
                     if k.startswith("version_")},
    }
    atomic_text(out / "summary.json", json.dumps(json_ready(summary), indent=2) + "\n")
    files.append(out / "summary.json")
    return SweepOutcome(dataset=ds, failures=failures, out_dir=out, files=files,
                        total=len(prep.plan), computed=counts.get("computed", 0),
                        skipped=counts.get("skipped", 0), seconds=seconds, counts=counts)
