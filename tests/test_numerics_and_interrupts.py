"""Numerical hygiene, non-optimal statuses, Ctrl-C and reproducibility."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import planner
from models.demand import PRESETS
from planner.cli.commands import main
from planner.inputs.synth import write_synth


@pytest.mark.parametrize("preset", [None, *PRESETS])
def test_bundled_scenarios_are_well_scaled(preset: str | None) -> None:
    sc = planner.load_scenario()
    if preset:
        sc = sc.with_demand_preset(preset)
    info = planner.solve(sc).lp.info
    assert info["warnings"] == []
    low, high = info["ranges"]["matrix"]
    assert high / low < 1e5
    low, high = info["ranges"]["cost"]
    assert high / low < 1e7


def test_synthetic_ladder_is_well_scaled(tmp_path: Path) -> None:
    for n in (10, 100):
        sc = planner.load_scenario(write_synth(tmp_path / f"s{n}", n, n_years=6, n_chips=4))
        info = planner.solve(sc).lp.info
        assert info["warnings"] == [], n


def test_a_unit_slip_is_warned_in_plain_words(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    chips = pd.read_csv(d / "chips.csv")
    chips.loc[chips["chip"] == "h100", "it_kw_per_unit"] = 1.275e-6  # kW typed as GW
    chips.to_csv(d / "chips.csv", index=False)
    capsys.readouterr()
    assert main(["run", str(d / "scenario.yaml"), "-o", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: the LP is badly scaled: constraint coefficients span" in err
    assert "check the units" in err


def test_a_non_optimal_status_is_never_a_result(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    sc = planner.load_scenario()
    with pytest.raises(planner.SolveError, match="did not find an optimal plan"):
        planner.solve(sc, options={"time_limit": 1e-6, "presolve": "off"})


def test_ctrl_c_during_the_solve_leaves_no_output(tmp_path: Path) -> None:
    """A 1,000-site instance solves for ~20 s; SIGINT a few seconds in stops it at once."""
    scenario = write_synth(tmp_path / "big", 1000)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "planner", "run", str(scenario), "-o",
                             str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(6)
    assert proc.poll() is None, "the solve finished before the interrupt"
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert time.perf_counter() - sent < 10
    assert proc.returncode == 130
    assert "stopping at the next safe point" in err
    assert err.strip().splitlines()[-1] == "error: interrupted; no output was written"
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))


def test_same_inputs_give_identical_outputs(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["run", "-o", str(a)]) == 0
    assert main(["run", "-o", str(b)]) == 0
    for name in ("gap.csv", "capacity_by_region.csv", "sites.csv", "cost_by_component.csv",
                 "chips_installed.csv", "build_schedule.csv", "capacity_by_state.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    with xr.open_dataset(a / "results.nc") as da, xr.open_dataset(b / "results.nc") as db:
        for var in da.data_vars:
            np.testing.assert_array_equal(da[var].values, db[var].values, err_msg=var)
        assert da.attrs["sha256_scenario"] == db.attrs["sha256_scenario"]


def test_a_sweep_interrupted_and_resumed_gives_the_same_dataset(tmp_path: Path) -> None:
    """SIGINT a sweep part-way, run it again: the Dataset equals an uninterrupted sweep."""
    grid = tmp_path / "grid.yaml"
    growth = [round(1.2 + 0.025 * i, 3) for i in range(12)]
    grid.write_text(f"grid:\n  efficiency.frontier_growth: {growth}\n"
                    "  years.end: [2033]\n", encoding="utf-8")
    cmd = [sys.executable, "-m", "planner", "sweep", "--grid", str(grid), "--workers", "0"]
    once, twice = tmp_path / "once", tmp_path / "twice"
    proc = subprocess.Popen([*cmd, "-o", str(twice)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    parts = twice / "parts"
    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline and len(list(parts.glob("*"))) < 2:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert not (twice / "sweep.nc").exists()
    done_before = len(list(parts.glob("*")))
    assert 0 < done_before < 12
    assert subprocess.run([*cmd, "-o", str(twice)], capture_output=True).returncode == 0
    assert subprocess.run([*cmd, "-o", str(once)], capture_output=True).returncode == 0
    with xr.open_dataset(once / "sweep.nc") as a, xr.open_dataset(twice / "sweep.nc") as b:
        assert a.sizes["scenario"] == b.sizes["scenario"] == 12
        # unique across alternative optima (regional MW splits are not): costs, demand
        unique = [v for v in a.data_vars
                  if any(k in v for k in ("cost", "objective", "demand", "unserved"))
                  and a[v].dtype.kind == "f"]
        assert unique
        for var in unique:
            scale = float(np.nanmax(np.abs(a[var].values))) or 1.0
            np.testing.assert_allclose(a[var].values, b[var].values, rtol=1e-6,
                                       atol=1e-6 * scale, err_msg=var)
        np.testing.assert_array_equal(a["scenario"].values, b["scenario"].values)
