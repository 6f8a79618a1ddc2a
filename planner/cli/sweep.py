"""The ``dcplan sweep`` command: scenario grids and Monte Carlo on Dask.

:mod:`planner.cli.commands` calls :func:`register` to add it to the ``dcplan`` app; it shares
the guard and consoles of :mod:`planner.cli.app`. Bad input —
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
    max_scenarios: Annotated[int | None, typer.Option(
        "--max-scenarios", help="refuse a sweep of more scenarios (grid points × samples) "
        "than this, before any work (default 100,000)", show_default=False)] = None,
    dashboard: Annotated[bool, typer.Option(
        "--dashboard", help="serve the LocalCluster's Dask dashboard on 127.0.0.1:8787 "
        "(needs bokeh; off: no HTTP server)")] = False,
) -> None:
    """Sweep a parameter grid or Monte Carlo over a scenario on Dask; resumable."""
    from planner.cli.app import console, guard, stages
    from planner.optimize.interrupts import exit_code
    from planner.sweep import execute, prepare_sweep, write_outputs
    from planner.sweep.plan import MAX_SCENARIOS

    with guard():
        if grid is None:
            raise InputError("--grid: give the grid file (GRID.yaml); see docs/sweep.md")
        if workers is not None and workers < 0:
            raise InputError(f"--workers must be >= 0, got {workers}")
        if workers is not None and scheduler is not None:
            raise InputError("--workers and --scheduler: give one (a running cluster has its "
                             "own workers)")
        if dashboard and (scheduler is not None or workers == 0):
            raise InputError("--dashboard is for the LocalCluster dcplan starts (a running "
                             "scheduler serves its own; --workers 0 has none)")
        if scheduler is not None:
            from planner.sweep.cluster import check_scheduler_address

            check_scheduler_address(scheduler)
        with stages({"load": "loading the scenario and checking the grid"}) as step:
            step("load")
            prep = prepare_sweep(scenario, grid, out, samples=samples, seed=seed, fmt=fmt,
                                 max_scenarios=MAX_SCENARIOS if max_scenarios is None
                                 else max_scenarios)
        names = ", ".join(i.key for i in prep.plan.parameters)
        console.print(f"{len(prep.plan)} scenarios over {names}")
        import time

        t0 = time.perf_counter()
        bar = _ProgressBar(console)
        try:
            with bar:
                counts = execute(prep, workers=workers, scheduler=scheduler,
                                 retry_failed=retry_failed, progress=bar.update,
                                 dashboard=dashboard)
        except KeyboardInterrupt:
            console.print(f"interrupted: finished scenarios are kept in {prep.parts}; run the "
                          "same command again to resume")
            raise typer.Exit(exit_code()) from None
        with stages({"write": "assembling and writing the sweep"}) as step:
            step("write")
            outcome = write_outputs(prep, counts, time.perf_counter() - t0)
        _print_outcome(outcome, console, prep.plan)
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


#: Most scenarios the terminal table of a grid sweep lists (all are in plan.csv).
MAX_TABLE_ROWS = 40


def _print_outcome(outcome: Any, console: Any, plan: Any = None) -> None:
    """Percentiles of the cost for Monte Carlo; one row per scenario for a plain grid."""
    import numpy as np

    from planner.sweep.charts import format_value, is_monte_carlo

    ds = outcome.dataset
    ok = int((ds["status"] == "ok").sum())
    title = (f"sweep of {ds.attrs.get('scenario', '')}: {ok} of {outcome.total} "
             f"scenarios solved ({outcome.computed} now, {outcome.skipped} before)")
    if ok and "objective_usd" in ds and is_monte_carlo(plan):
        t = Table(title=title)
        t.add_column("present value, billion USD")
        for p in (5, 25, 50, 75, 95):
            t.add_column(f"p{p}", justify="right")
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
    elif ok and "objective_usd" in ds:
        keys = [i.key for i in plan.parameters] if plan is not None else []
        n = ds.sizes["scenario"]
        more = f"; first {MAX_TABLE_ROWS} of {n}, all in plan.csv" if n > MAX_TABLE_ROWS else ""
        t = Table(title=title + more)
        t.add_column("scenario")
        for k in keys:
            t.add_column(k, justify="right")
        cost_name = "plan_cost_usd" if "plan_cost_usd" in ds else "objective_usd"
        t.add_column("plan cost, billion USD" if cost_name == "plan_cost_usd"
                     else "present value, billion USD", justify="right")
        t.add_column("status")
        obj = ds[cost_name].values
        for i in range(min(n, MAX_TABLE_ROWS)):
            cells = [format_value(ds[k].values[i]) for k in keys]
            cost = f"{obj[i] / 1e9:,.1f}" if np.isfinite(obj[i]) else "–"
            t.add_row(str(ds["scenario"].values[i]), *cells, cost, str(ds["status"].values[i]))
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
