"""Ctrl-C is deferred to safe points: never inside a file write, a lock or HiGHS's wait."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from planner.optimize.interrupts import check, deferred, requested
from planner.sweep import execute, prepare_sweep


def _press() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs at the next bytecode boundary


def test_a_press_waits_for_check() -> None:
    before = signal.getsignal(signal.SIGINT)
    reached = False
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            _press()
            reached = True
            assert requested()
            check()
    assert reached
    assert not requested()
    assert signal.getsignal(signal.SIGINT) is before


def test_leaving_the_block_is_a_stopping_point_unless_told_otherwise() -> None:
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            _press()
    with deferred(at_end=False):
        _press()
    assert not requested()
    with deferred():  # nothing pressed: no interrupt
        check()


def test_nested_blocks_keep_one_handler() -> None:
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        with deferred():
            with deferred(at_end=False):
                _press()
            assert requested()  # left for the outer block's next stopping point
            check()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_second_press_stops_at_once() -> None:
    code = ("import os, signal, time\n"
            "from planner.optimize.interrupts import deferred\n"
            "with deferred():\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    time.sleep(0.2)\n"
            "    os.kill(os.getpid(), signal.SIGINT)\n"
            "    time.sleep(30)\n")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert time.perf_counter() - t0 < 20
    assert proc.returncode == -signal.SIGINT
    assert "Ctrl-C again to stop at once" in proc.stderr


def test_a_press_while_a_part_is_written_lets_the_file_finish(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hang CI met: SIGINT inside netCDF's locks. Now the part is whole, then it stops."""
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  efficiency.frontier_growth: [1.3, 1.4, 1.5]\n"
                    "  years.end: [2030]\n", encoding="utf-8")
    prep = prepare_sweep(None, grid, tmp_path / "out")
    original = xr.Dataset.to_netcdf

    def pressed_mid_write(self: xr.Dataset, *args: object, **kwargs: object) -> object:
        _press()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", pressed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        execute(prep, workers=0)
    monkeypatch.undo()
    parts = sorted(prep.parts.iterdir())
    assert [p.suffix for p in parts] == [".nc"]  # one whole part, no temporary file
    with xr.open_dataset(parts[0]) as ds:
        assert float(ds["objective_usd"]) > 0
    counts = execute(prep, workers=0)  # resume
    assert counts["skipped"] == 1 and counts["computed"] == 2


def test_ctrl_c_in_a_terminal_stops_a_dask_sweep_quietly(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches the whole process group, Dask's workers included:
    the sweep stops (exit 130, finished parts kept) without a worker's traceback."""
    grid = tmp_path / "grid.yaml"
    growth = [round(1.2 + 0.025 * i, 3) for i in range(12)]
    grid.write_text(f"grid:\n  efficiency.frontier_growth: {growth}\n  years.end: [2033]\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "planner", "sweep", "--grid", str(grid),
                             "--workers", "2", "-o", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.perf_counter() + 180
    while time.perf_counter() < deadline and len(list(out.glob("parts/*.nc"))) < 1:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    assert 0 < len(list(out.glob("parts/*.nc"))) < 12
    assert not (out / "sweep.nc").exists()


@pytest.mark.parametrize("stage", ["build", "write"])
def test_ctrl_c_during_build_or_writing_leaves_no_output(
        stage: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A real SIGINT while the model is built (or while results.nc is written) lets that
    step finish, then stops: exit 130, the one-line message, no folder, no temporary."""
    import planner.optimize.run
    import planner.outputs.files
    from planner.cli.commands import main

    target = (planner.optimize.run, "build_model") if stage == "build" else (planner.outputs.files,
                                                                     "plot_gap")
    original = getattr(*target)
    finished = []

    def pressed_inside(*args, **kwargs):
        _press()
        out = original(*args, **kwargs)
        finished.append(stage)  # the step ran to its end despite the press
        return out

    monkeypatch.setattr(*target, pressed_inside)
    out = tmp_path / "out"
    assert main(["run", "-o", str(out)]) == 130
    assert finished == [stage]
    assert capsys.readouterr().err.strip().splitlines()[-1] == \
        "error: interrupted; no output was written"
    assert not out.exists()
    assert not list(tmp_path.glob(".out.*"))
