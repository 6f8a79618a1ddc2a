"""Write a run's output folder atomically.

Everything is written into a temporary sibling folder, which replaces the target
only when every file is complete (:mod:`planner.outputs.outdir`: the rules for a folder
that also holds the user's files). An error, Ctrl-C or SIGTERM leaves the
previous folder (if any) untouched and no partial folder behind.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from planner.inputs.scenario import Scenario
from planner.outputs.exports import write_map_outputs
from planner.outputs.fileio import file_sha256
from planner.outputs.gap import plot_gap
from planner.outputs.headline import run_summary
from planner.outputs.outdir import MARKER, atomic_folder, check_output_folder
from planner.outputs.results import Result
from planner.outputs.schedule import schedule_from_scenario, write_schedule_xlsx
from planner.outputs.states import add_state_layer, state_table
from planner.outputs.tidy import tidy_dataset, write_csv

__all__ = ["MARKER", "atomic_folder", "capacity_by_region", "check_output_folder",
           "file_sha256", "input_hashes", "site_table", "write_run"]

def input_hashes(scenario: Scenario) -> dict[str, str]:
    out = {}
    for key, p in scenario.table_paths.items():
        if p and Path(p).is_file():
            out[key] = file_sha256(p)
    return out


def json_ready(obj: Any) -> Any:
    """JSON-safe: NaN/inf → null, numpy scalars → Python."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
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
    with atomic_folder(out_dir, kind="run") as tmp:
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
            "summary": json_ready(summary), "schedule": schedule, "regions": regions,
            "states": states})
        add_state_layer(states, tmp / "capacity_map.gpkg")
        (tmp / "summary.json").write_text(json.dumps(json_ready(summary), indent=2) + "\n")
    return out_dir
