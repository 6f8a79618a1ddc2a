"""run_sweep: the Python twin of ``dcplan sweep``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from planner.sweep.outputs import SweepOutcome, write_outputs
from planner.sweep.plan import MAX_SCENARIOS
from planner.sweep.prepare import prepare_sweep
from planner.sweep.runner import Progress, execute


def run_sweep(scenario: str | Path | None, grid: str | Path, out_dir: str | Path | None = None,
              *, samples: int | None = None, seed: int = 0, workers: int | None = None,
              scheduler: str | None = None, client: Any = None, retry_failed: bool = False,
              fmt: str = "netcdf", progress: Progress | None = None,
              max_scenarios: int = MAX_SCENARIOS, dashboard: bool = False) -> SweepOutcome:
    """The Python twin of ``dcplan sweep`` (see :func:`execute` for the options;
    ``max_scenarios`` as in :func:`~planner.sweep.plan.plan_size`).

    Examples
    --------
    >>> from planner.sweep import run_sweep
    >>> out = run_sweep(None, "grid.yaml", "runs/sweep", workers=2)  # doctest: +SKIP
    >>> out.dataset["objective_usd"].to_series()                        # doctest: +SKIP
    """
    t0 = time.perf_counter()
    prep = prepare_sweep(scenario, grid, out_dir, samples=samples, seed=seed, fmt=fmt,
                         max_scenarios=max_scenarios)
    counts = execute(prep, workers=workers, scheduler=scheduler, client=client,
                     retry_failed=retry_failed, progress=progress, dashboard=dashboard)
    return write_outputs(prep, counts, time.perf_counter() - t0)
