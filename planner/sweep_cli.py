"""The ``dcplan sweep`` command: scenario grids and Monte Carlo on Dask.

``planner.cli`` calls :func:`register` to add it to the ``dcplan`` app (the command imports
``planner.cli`` only when it runs, so either module may be imported first). Bad input —
scenario, grid file, options — ends with one line on stderr and exit code 2 before any
scenario is solved; scenarios that fail are reported and the others kept (exit code 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from grids.tables import InputError


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` command to the dcplan Typer ``app`` (once; later calls do nothing)."""
    if "sweep" not in {info.name for info in app.registered_commands}:
        app.command("sweep")(sweep_command)


def sweep_command(
    scenario: Annotated[Path | None, typer.Argument(
        help="scenario YAML (default: the bundled us-base)", show_default=False)] = None,
    grid: Annotated[Path | None, typer.Option(
        "--grid", "-g", help="grid file: parameters and their values or distributions "
        "(docs/sweep.md)", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="output folder (default: runs/sweep-<scenario>-<grid name>); "
        "rerunning into the same folder resumes", show_default=False)] = None,
    samples: Annotated[int | None, typer.Option(
        "--samples", help="Monte Carlo: draw N samples from the grid file's distributions",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo random seed")] = 0,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", help="LocalCluster worker processes (default: one per core); "
        "0 = solve in this process without Dask", show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="address of a running Dask scheduler, e.g. tcp://host:8786, "
        "instead of a LocalCluster", show_default=False)] = None,
    retry_failed: Annotated[bool, typer.Option(
        "--retry-failed", help="solve scenarios again whose earlier attempt failed")] = False,
    fmt: Annotated[str, typer.Option(
        "--format", help="netcdf (sweep.nc) or zarr (sweep.zarr, needs zarr)")] = "netcdf",
) -> None:
    """Sweep a parameter grid or Monte Carlo over a scenario on Dask; resumable."""
    from planner.cli import _guard, _stages, console
    from planner.sweep import execute, prepare_sweep, write_outputs

    with _guard():
        if grid is None:
            raise InputError("--grid: give the grid file (GRID.yaml); see docs/sweep.md")
        if workers is not None and workers < 0:
            raise InputError(f"--workers must be >= 0, got {workers}")
        if workers is not None and scheduler is not None:
            raise InputError("--workers and --scheduler: give one (a running cluster has its "
                             "own workers)")
        with _stages({"load": "loading the scenario and checking the grid"}) as step:
            step("load")
            prep = prepare_sweep(scenario, grid, out, samples=samples, seed=seed, fmt=fmt)
        names = ", ".join(i.key for i in prep.plan.parameters)
        console.print(f"{len(prep.plan)} scenarios over {names}")
        import time

        t0 = time.perf_counter()
        bar = _ProgressBar(console)
        try:
            with bar:
                counts = execute(prep, workers=workers, scheduler=scheduler,
                                 retry_failed=retry_failed, progress=bar.update)
        except KeyboardInterrupt:
            console.print(f"interrupted: finished scenarios are kept in {prep.parts}; run the "
                          "same command again to resume")
            raise typer.Exit(130) from None
        with _stages({"write": "assembling and writing the sweep"}) as step:
            step("write")
            outcome = write_outputs(prep, counts, time.perf_counter() - t0)
        _print_outcome(outcome, console)
        if len(outcome.failures):
            raise typer.Exit(1)


class _ProgressBar:
    """A rich progress bar: done / total, failed, elapsed, ETA."""

    def __init__(self, console: Any) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("solving"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[red]{task.fields[failed]} failed[/]"),
            TextColumn("{task.fields[note]}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), console=console, transient=False)
        self.task: Any = None

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, state: dict[str, Any]) -> None:
        note = f"({state['skipped']} done before)" if state["skipped"] else ""
        if self.task is None:
            self.task = self.progress.add_task("sweep", total=state["total"],
                                               completed=state["skipped"],
                                               failed=state["failed"], note=note)
        self.progress.update(self.task, completed=state["done"], failed=state["failed"],
                             note=note)


def _print_outcome(outcome: Any, console: Any) -> None:
    ds = outcome.dataset
    ok = int((ds["status"] == "ok").sum())
    t = Table(title=f"sweep of {ds.attrs.get('scenario', '')}: {ok} of {outcome.total} "
              f"scenarios solved ({outcome.computed} now, {outcome.skipped} before)")
    t.add_column("present value, billion USD")
    for p in (5, 25, 50, 75, 95):
        t.add_column(f"p{p}", justify="right")
    if ok and "objective_usd" in ds:
        import numpy as np

        rows = [("plan cost", "plan_cost_usd"),
                ("unserved compute (value, not a cost)", "unserved_value_usd")] \
            if "plan_cost_usd" in ds else [("total cost", "objective_usd")]
        for label, name in rows:
            v = ds[name].values
            v = v[np.isfinite(v)] / 1e9
            if name == "unserved_value_usd" and not (v > 0).any():
                continue
            t.add_row(label, *(f"{np.percentile(v, p):,.1f}" for p in (5, 25, 50, 75, 95)))
        console.print(t)
    fails = outcome.failures
    if len(fails):
        f = Table(title=f"{len(fails)} scenario(s) failed (all in failures.csv; "
                  "--retry-failed solves them again)")
        for c in ("scenario", "parameters", "why"):
            f.add_column(c, overflow="fold")
        for _, row in fails.head(20).iterrows():
            f.add_row(row["scenario"], row["parameters"], f"{row['error_type']}: {row['error']}")
        console.print(f)
    shown = ", ".join(p.name for p in outcome.files)
    console.print(f"wrote {outcome.out_dir}/ ({shown}, parts/)")
