"""Stacking a sweep's parts on a ``scenario`` dimension, and the plan table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from grids.tables import InputError
from planner.outputs.results import package_versions
from planner.sweep.compact_result import PART_FORMAT
from planner.sweep.parameters import DERIVED, ParamInfo
from planner.sweep.parts import read_failure
from planner.sweep.plan import SweepPlan
from planner.sweep.prepare import PreparedSweep


def _coord_values(values: list[Any]) -> np.ndarray:
    """Numbers (NaN for null) when every value is a number, else text (JSON for lists)."""
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))
           for v in values):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int8)
    return np.array([v if isinstance(v, str) else json.dumps(v) for v in values], dtype=object)


def _read_part(path: Path) -> xr.Dataset:
    """One scenario's result part, loaded; an unreadable one is an :class:`InputError`
    naming it."""
    try:
        with xr.open_dataset(path, engine="netcdf4") as part:
            return part.load()
    except (OSError, ValueError, KeyError) as exc:
        why = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise InputError(f"not a result part dcplan wrote ({why}); delete it to solve that "
                         "scenario again", file=path) from None


def assemble(prep: PreparedSweep) -> tuple[xr.Dataset, pd.DataFrame]:
    """Stack the parts on a ``scenario`` dimension; parameters become coordinates.

    Failed scenarios keep their row (NaN data) with ``status = "failed"`` and ``error``.
    """
    plan = prep.plan
    parts: list[xr.Dataset] = []
    ok_ids: list[str] = []
    failures = []
    status, errors = [], []
    for sid, params in zip(plan.ids, plan.params):
        nc = prep.parts / f"{sid}.nc"
        failed = prep.parts / f"{sid}.failed.json"
        if nc.is_file():
            parts.append(_read_part(nc))
            ok_ids.append(sid)
            status.append("ok")
            errors.append("")
        elif failed.is_file():
            rec = read_failure(failed)
            failures.append({"scenario": sid, "error_type": rec.get("error_type", ""),
                             "error": rec.get("error", ""),
                             "parameters": json.dumps(params, default=str)})
            status.append("failed")
            errors.append(f"{rec.get('error_type', '')}: {rec.get('error', '')}")
        else:
            status.append("missing")
            errors.append("not solved (interrupted?)")
    if parts:
        ds = xr.concat(parts, dim="scenario", join="outer", data_vars="all",
                       coords="minimal", compat="override", combine_attrs="drop")
        ds = ds.assign_coords(scenario=("scenario", np.array(ok_ids, dtype=object)))
        ds = ds.reindex(scenario=np.array(plan.ids, dtype=object))
        for name, first in ((n, next(p[n] for p in parts if n in p)) for n in ds.data_vars):
            ds[name].attrs = dict(first.attrs)
    else:
        ds = xr.Dataset(coords={"scenario": ("scenario", np.array(plan.ids, dtype=object))})
    coords: dict[str, Any] = {
        "scenario_index": ("scenario", np.arange(len(plan)), {"units": "1"}),
        "sample": ("scenario", np.array(plan.samples, dtype=np.int64),
                   {"units": "1", "long_name": "Monte Carlo sample index (-1 = grid point)"}),
        "status": ("scenario", np.array(status, dtype=object),
                   {"long_name": "ok, failed, or missing (not solved yet)"}),
        "error": ("scenario", np.array(errors, dtype=object),
                  {"long_name": "why the scenario failed (empty when ok)"}),
    }
    for info in plan.parameters:
        values = [p.get(info.key) for p in plan.params]
        coords[info.key] = ("scenario", _coord_values(values),
                            {"units": info.units, "long_name": _param_long_name(info)})
    ds = ds.assign_coords(coords)
    if "year" in ds.coords:
        ds["year"].attrs["units"] = "year"
    ds.attrs = {
        "title": f"dcplan sweep: {prep.base.scenario.name} × {prep.grid_path.name}",
        "scenario": prep.base.scenario.name,
        "scenario_path": str(prep.base.scenario.path),
        "grid_file": prep.grid_path.name,
        "parameters": json.dumps([i.key for i in plan.parameters]),
        "samples": int(max(plan.samples) + 1) if plan.samples and max(plan.samples) >= 0 else 0,
        "seed": -1 if plan.seed is None else int(plan.seed),
        "fingerprint": plan.fingerprint,
        "part_format": PART_FORMAT,
        **{f"sha256_{k}": v for k, v in prep.input_hashes.items()},
        **{f"version_{k}": v for k, v in package_versions().items()},
    }
    fail_df = pd.DataFrame(failures, columns=["scenario", "error_type", "error", "parameters"])
    return ds, fail_df


def _param_long_name(info: ParamInfo) -> str:
    if info.kind == "derived":
        return f"sweep parameter ({DERIVED.get(info.name, ('', ''))[1]})"
    return f"sweep parameter ({info.kind})"


def plan_table(ds: xr.Dataset, plan: SweepPlan) -> pd.DataFrame:
    """One row per scenario: id, parameters, status, objective (``plan.csv``)."""
    df = pd.DataFrame({"scenario": plan.ids, "sample": plan.samples})
    for info in plan.parameters:
        df[info.key] = [json.dumps(p[info.key]) if isinstance(p.get(info.key), list)
                        else p.get(info.key) for p in plan.params]
    df["status"] = ds["status"].values
    df["objective_usd"] = ds["objective_usd"].values if "objective_usd" in ds else np.nan
    df["error"] = ds["error"].values
    return df
