"""Write a run's output folder atomically.

Everything is written into a temporary sibling folder, which is renamed onto
the target only when every file is complete. An error or Ctrl-C leaves the
previous folder (if any) untouched and no partial folder behind.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from grids.tables import InputError
from planner.gap import plot_gap
from planner.headline import run_summary
from planner.interrupts import check, deferred
from planner.maps import write_map_outputs
from planner.results import Result
from planner.scenario import Scenario
from planner.schedule import schedule_from_scenario, write_schedule_xlsx
from planner.states import add_state_layer, state_table
from planner.tidy import tidy_dataset, write_csv

#: Written into every output folder: a folder holding it may be replaced whole by a new run.
MARKER = ".dcplan-output"


def check_output_folder(target: str | Path) -> None:
    """Raise :class:`InputError` unless ``target`` may be replaced by an output folder.

    Allowed: a path that does not exist, an empty folder, or a folder dcplan wrote
    (it holds :data:`MARKER`, or ``summary.json`` from versions before the marker).
    Anything else — a file, a folder of the user's own files — is refused, so a
    mistyped ``-o`` never deletes data. Called before the work starts (a bad target
    fails in a second, not after the solve) and again when the folder is swapped in.
    """
    target = Path(target)
    if not target.exists():
        return
    if not target.is_dir():
        raise InputError("the output path exists and is not a folder (expected a folder "
                         "to write, or a new name)", file=target)
    if (target / MARKER).is_file() or (target / "summary.json").is_file():
        return
    if any(target.iterdir()):
        raise InputError("the output folder is not empty and was not written by dcplan; "
                         "refusing to replace it (choose another -o, or empty it)",
                         file=target)


@contextmanager
def atomic_folder(target: str | Path, *, owned: bool = True) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` on success.

    ``owned`` (the default): ``target`` must pass :func:`check_output_folder` and
    the new folder gets :data:`MARKER`. ``owned=False`` is for a store whose
    name the caller controls inside a folder it already owns (a sweep's Zarr store).
    """
    target = Path(target).resolve()
    if owned:
        check_output_folder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target} exists and is not a folder")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        # Ctrl-C waits until a file is whole (an interrupt inside netCDF's locks can hang
        # the process); pressed while writing, it drops the temporary folder here.
        with deferred(at_end=False):
            yield tmp
            check()
            if owned:
                (tmp / MARKER).write_text("written by dcplan; the next run into this folder "
                                          "replaces it whole\n", encoding="utf-8")
                check_output_folder(target)  # nothing of the user's appeared meanwhile
            old = None
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                os.rename(target, old / "previous")
            os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def input_hashes(scenario: Scenario) -> dict[str, str]:
    out = {}
    for key, p in scenario.table_paths.items():
        if p and Path(p).is_file():
            out[key] = file_sha256(p)
    return out


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN/inf → null, numpy scalars → Python."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item"):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def capacity_by_region(result: Result) -> pd.DataFrame:
    """Tidy per (region, year): MW built, connected, on-site, load, energy."""
    ds = result.to_xarray()
    cols = {
        "build_mw": "region_build_mw",
        "grid_mw": "region_grid_mw",
        "onsite_mw": "region_onsite_mw",
        "load_mw": "region_load_mw",
        "energy_twh": "region_energy_twh",
        "grid_access_value_usd_per_mw_year": "region_grid_access_value_usd_per_mw_year",
        "headroom_value_usd_per_mw": "headroom_value_usd_per_mw",
    }
    frames = {k: ds[v].to_series() for k, v in cols.items()}
    df = pd.DataFrame(frames).reset_index()
    return df.sort_values(["region", "year"]).reset_index(drop=True)


def site_table(result: Result) -> pd.DataFrame:
    """Tidy per (site, year): builds, connections, loads, capacity."""
    ds = result.to_xarray()
    names = ["build_mw", "grid_mw", "onsite_mw", "facility_mw", "grid_capacity_mw",
             "onsite_capacity_mw", "grid_load_mw", "onsite_load_mw", "load_mw",
             "served_h100e_by_site", "facility_value_usd_per_mw_year",
             "grid_access_value_usd_per_mw_year", "site_ceiling_value_usd_per_mw_year"]
    df = pd.DataFrame({n: ds[n].to_series() for n in names}).reset_index()
    df.insert(1, "region", df["site"].map(ds["site_region"].to_series()))
    return df


def write_run(
    result: Result,
    scenario: Scenario,
    out_dir: str | Path,
    *,
    step: Callable[[str], None] | None = None,
) -> Path:
    """Write results.nc, summary.json, gap.csv/png and tidy CSVs atomically."""
    say = step or (lambda _s: None)
    out_dir = Path(out_dir)
    hashes = input_hashes(scenario)
    with atomic_folder(out_dir) as tmp:
        say("results.nc")
        ds = tidy_dataset(result.to_xarray())
        ds.attrs.update({f"sha256_{k}": v for k, v in hashes.items()})
        ds.attrs["scenario_yaml"] = scenario.spec.model_dump_json()
        ds.to_netcdf(tmp / "results.nc", engine="netcdf4")
        say("tables")
        gap = result.gap()
        write_csv(gap, tmp / "gap.csv")
        write_csv(result.cost_breakdown(), tmp / "cost_by_component.csv", index=True)
        write_csv(capacity_by_region(result), tmp / "capacity_by_region.csv")
        write_csv(site_table(result), tmp / "sites.csv")
        it = ds["it_mw"].to_series()
        it = it[it > 0].reset_index()
        write_csv(it, tmp / "chips_installed.csv")
        say("gap.png")
        plot_gap(gap, str(tmp / "gap.png"), title=f"{scenario.name}: demand vs efficiency")
        summary = run_summary(result, scenario, hashes)
        summary["inputs_sha256"] = hashes
        summary["inputs"] = scenario.table_paths
        say("schedule")
        schedule = schedule_from_scenario(ds, scenario)
        write_csv(schedule, tmp / "build_schedule.csv")
        write_schedule_xlsx(schedule, tmp / "build_schedule.xlsx")
        regions = capacity_by_region(result)
        say("states")
        states = state_table(ds)
        write_csv(states, tmp / "capacity_by_state.csv")
        say("maps")
        write_map_outputs(result, scenario, tmp, report_data={
            "summary": _clean(summary), "schedule": schedule, "regions": regions,
            "states": states})
        add_state_layer(states, tmp / "capacity_map.gpkg")
        (tmp / "summary.json").write_text(json.dumps(_clean(summary), indent=2) + "\n")
    return out_dir
