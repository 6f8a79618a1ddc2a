"""Solving a sweep's pending scenarios, in this process or on Dask, writing each part
as its result arrives."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from planner.optimize.interrupts import check, deferred
from planner.optimize.persistent import PersistentSolver
from planner.outputs.outdir import claim_folder
from planner.sweep.cluster import connect, local_cluster
from planner.sweep.outputs import SWEEP_FILES
from planner.sweep.parts import write_part
from planner.sweep.prepare import PreparedSweep
from planner.sweep.task import one_line, run_scenario

Progress = Callable[[dict[str, Any]], None]


def execute(prep: PreparedSweep, *, workers: int | None = None, scheduler: str | None = None,
            client: Any = None, retry_failed: bool = False,
            progress: Progress | None = None, dashboard: bool = False) -> dict[str, int]:
    """Solve every scenario without a part yet; write each part as its result arrives.

    Parameters
    ----------
    workers : LocalCluster worker processes (default: the machine's cores, at most one per
        pending scenario); ``0`` = solve in this process, no Dask.
    scheduler : address of a running Dask scheduler (``tcp://host:8786``) instead.
    client : an existing ``distributed.Client`` (neither cluster is started nor closed).
    retry_failed : solve scenarios again whose earlier attempt failed.
    progress : called with ``{"total", "done", "failed", "skipped"}`` after each scenario.
    dashboard : serve the LocalCluster's Dask dashboard on 127.0.0.1:8787 (needs bokeh);
        without it no HTTP server runs (:mod:`planner.sweep.cluster`).

    Returns
    -------
    ``{"total", "skipped", "computed", "failed", "hot_starts"}``.
    """
    claim_folder(prep.out_dir, "sweep", SWEEP_FILES)  # marked before the first part
    plan = prep.plan
    done = prep.finished(retry_failed)
    todo = [(sid, p) for sid, p in zip(plan.ids, plan.params) if sid not in done]
    state = {"total": len(plan), "done": len(done), "failed": 0, "skipped": len(done),
             "hot_starts": 0}
    tell = progress or (lambda _s: None)
    tell(dict(state))
    params_of = dict(zip(plan.ids, plan.params))

    def record(outcome: dict[str, Any]) -> None:
        prep.parts.mkdir(parents=True, exist_ok=True)
        write_part(prep.parts, outcome, params_of[outcome["id"]])
        state["done"] += 1
        if not outcome["ok"]:
            state["failed"] += 1
        elif float(outcome["dataset"]["hot_start"]) > 0:
            state["hot_starts"] += 1
        tell(dict(state))

    with deferred():  # Ctrl-C stops between scenarios (or cancels a solve), never mid-write
        if todo and workers == 0 and client is None and scheduler is None:
            solver = PersistentSolver()
            for sid, p in todo:
                record(run_scenario(prep.base, sid, p, solver))
                check()
        elif todo:
            _on_dask(prep, todo, workers, scheduler, client, record, dashboard)
    return {"total": len(plan), "skipped": len(done), "computed": len(todo),
            "failed": state["failed"], "hot_starts": state["hot_starts"]}


def _on_dask(prep: PreparedSweep, todo: list[tuple[str, dict[str, Any]]], workers: int | None,
             scheduler: str | None, client: Any, record: Callable[[dict[str, Any]], None],
             dashboard: bool = False) -> None:
    from distributed import as_completed

    cluster = None
    own = client is None
    if own:
        if scheduler:
            client = connect(scheduler)
        else:
            cluster, client = local_cluster(max(1, min(workers or _cores(), len(todo))),
                                            dashboard=dashboard)
    futures = []
    try:
        base_f = client.scatter(prep.base, broadcast=True)
        token = uuid.uuid4().hex[:8]
        key_to_id = {}
        for sid, p in todo:
            key = f"dcplan-sweep-{sid}-{token}"
            key_to_id[key] = sid
            futures.append(client.submit(run_scenario, base_f, sid, p, key=key, pure=False,
                                         retries=0))
        pending = as_completed(futures, loop=client.loop)
        while not pending.is_empty():
            check()
            if not pending.has_ready():
                time.sleep(0.1)  # polled, so that Ctrl-C is seen while the workers solve
                continue
            for fut in pending.next_batch(block=False):
                sid = key_to_id[fut.key]
                try:
                    outcome = fut.result()
                except Exception as exc:  # the worker died, the task was cancelled, …
                    outcome = {"id": sid, "ok": False, "error": one_line(exc) or repr(exc),
                               "error_type": type(exc).__name__, "seconds": float("nan")}
                record(outcome)
                fut.release()
    except BaseException:
        if futures:
            client.cancel(futures)
        raise
    finally:
        if own:
            client.close()
            if cluster is not None:
                cluster.close()


def _cores() -> int:
    """Cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
