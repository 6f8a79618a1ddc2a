"""``dcplan hedge``: one plan to act on under several futures.

:mod:`planner.cli.commands` calls :func:`register` to add it to the ``dcplan`` app; it shares
the guard and consoles of :mod:`planner.cli.app`. Bad input ends with one line on stderr and
exit code 2, before anything is solved or written.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table


def register(app: typer.Typer) -> None:
    """Add the ``hedge`` command to the dcplan Typer ``app`` (once)."""
    if "hedge" not in {info.name for info in app.registered_commands}:
        app.command("hedge")(hedge_command)


def hedge_command(
    scenario: Annotated[Path | None, typer.Argument(
        help="scenario YAML with an uncertainty: section (default: the bundled "
        "us-base-hedge, us-base under the four demand presets)", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="output folder (default: runs/<scenario name>)",
        show_default=False)] = None,
    method: Annotated[str, typer.Option(
        help="ef (the extensive form, HiGHS) or ph (progressive hedging, mpi-sppy)")] = "ef",
    ranks: Annotated[int, typer.Option(
        help="with --method ph: MPI processes (needs mpi4py and mpiexec)")] = 1,
    workers: Annotated[str, typer.Option(
        help="processes that solve the single futures side by side (wait and see, "
        "recourse, EEV, regret): a number, or auto = one per core from 20 sites")] = "auto",
    # the two defaults are planner.hedge.ph's MAX_ITERATIONS and GAP_RELATIVE (that module
    # is not imported before the command runs; a test keeps them equal)
    iterations: Annotated[int, typer.Option(
        help="with --method ph: iterations at most")] = 300,
    gap: Annotated[float, typer.Option(
        help="with --method ph: stop once the plan is proven this close to the optimum "
        "(relative: its plan's expected cost against the higher of the Lagrangian "
        "bound and wait-and-see)")] = 1e-4,
    regret: Annotated[bool, typer.Option(
        "--regret/--no-regret", help="re-solve every future's own first-stage plan in "
        "every other future (n² solves)")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", help="show the HiGHS log")] = False,
) -> None:
    """Plan once for several futures: what to commit now, EVPI, VSS and regrets."""
    import planner
    from grids.tables import InputError
    from planner.cli.app import console, guard, stages
    from planner.hedge import default_hedge_path, hedge, write_hedge
    from planner.outputs.files import check_output_folder

    with guard():
        if method not in ("ef", "ph"):
            raise InputError(f"--method must be ef or ph, got '{method}'")
        if ranks < 1:
            raise InputError(f"--ranks must be at least 1, got {ranks}")
        if iterations < 1:
            raise InputError(f"--iterations must be at least 1, got {iterations}")
        if not 0 <= gap < 1:
            raise InputError(f"--gap must be at least 0 and below 1, got {gap}")
        if workers != "auto" and not (workers.isdigit() and int(workers) >= 1):
            raise InputError(f"--workers must be auto or a whole number of at least 1, "
                             f"got '{workers}'")
        labels = {"load": "loading and validating the scenario and its futures",
                  "wait and see": "solving each future alone (wait and see; alongside the "
                                  "extensive form when --workers > 1)",
                  "extensive form": "solving the extensive form (all futures at once)",
                  "progressive hedging": "progressive hedging (mpi-sppy)",
                  "recourse": "each future's recourse plan (read from the extensive "
                              "form or from PH's pricing), then the EEV and regret solves",
                  "expected value plan": "solving the mean future (EEV; likewise)",
                  "regret table": "tabulating every future's plan in every other future",
                  "write": "writing results"}
        with stages(labels) as step:
            step("load")
            sc = planner.load_scenario(scenario if scenario is not None
                                       else default_hedge_path())
            from planner.hedge.tree import build_tree

            build_tree(sc)  # every future checked before anything is solved
            target = out if out is not None else Path("runs") / sc.name
            check_output_folder(target, "hedge")
            result = hedge(sc, progress=step, regret=regret, method=method, ranks=ranks,
                           verbose=verbose, ph_iterations=iterations, ph_gap=gap,
                           workers=workers if workers == "auto" else int(workers))
            step("write")
            write_hedge(result, target)
        print_hedge(result, target, console)


def _bn(v: float) -> str:
    return "–" if not math.isfinite(v) else f"{round(v / 1e9, 1) + 0.0:,.1f}"


def print_hedge(r: Any, target: Path, console: Any) -> None:
    """The commitments due now, the measures and the regret table."""
    from planner.hedge.outputs import KIND_LABEL

    st = r.tree
    y0 = st.base.years[0]
    console.print(f"[bold]{st.base.name}: hedged plan for {len(st.names)} futures revealed in "
                  f"{', '.join(map(str, st.tree.reveal_years))} ({r.method})[/]")
    due = r.decisions_due_now()
    t = Table(title=f"decisions due now (committed in {y0} or earlier)")
    for c in ("what", "region", "sites", "MW", "in service"):
        t.add_column(c, justify="right" if c in ("MW", "sites") else "left")
    for (kind, region), g in due.groupby(["kind", "region"], sort=False):
        t.add_row(KIND_LABEL[kind], str(region), str(g["site"].nunique()),
                  f"{g['mw'].sum():,.0f}",
                  f"{int(g['energize_year'].min())}–{int(g['energize_year'].max())}")
    console.print(t if len(due) else f"decisions due now: none in {y0}")
    m = Table(title="what hedging is worth (present value, billion USD)")
    m.add_column("measure")
    m.add_column("billion USD", justify="right")
    for label, v in (("expected cost of the hedged plan (SP)", r.expected_cost_usd),
                     ("wait and see (WS)", r.ws_usd),
                     ("mean-future plan, expected (EEV)", r.eev_usd),
                     ("EVPI = SP − WS", r.evpi_usd), ("VSS = EEV − SP", r.vss_usd)):
        m.add_row(label, _bn(v))
    console.print(m)
    ph = r.info.get("progressive_hedging")
    if ph:
        gap = ph.get("gap_relative")
        proven = (f"proven within {gap:.1e} of the optimum (against the higher of the "
                  "Lagrangian bound and wait-and-see)" if gap is not None else
                  "not proven: no x̄ priced could be carried out in every future")
        console.print(f"progressive hedging: {ph['iterations']} iterations, stopped by "
                      f"{ph['stopped_by']}; the best plan priced is {proven}")
    if len(r.regret):
        g = Table(title="regret: cost above each future's own optimum, billion USD "
                  "(a plan's first stage fixed, re-solved in every future)")
        g.add_column("plan")
        for k in st.names:
            g.add_column(f"{k} (p={st.tree.probability[k]:g})", justify="right")
        g.add_column("stranded facility MW, worst", justify="right")
        for plan, rows in r.regret.groupby("plan", sort=False):
            cells = [_bn(float(rows.loc[rows["future"] == k, "regret_usd"].iloc[0]))
                     for k in st.names]
            g.add_row(str(plan), *cells, f"{rows['stranded_facility_mw'].max():,.0f}")
        console.print(g)
    console.print(f"wrote {target}/ (summary.json, commitments.csv, decisions_due_now.csv, "
                  "regret.csv, futures/, fan.png, report.html)")
