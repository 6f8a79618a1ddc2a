"""The ``dcplan`` commands run, validate, init, synth, gap and chips; the other command groups
(map, stress, sweep) are registered from their own modules.

Bad input ends with one line on stderr (``error: FILE row R, column C: …``)
and exit code 2; no traceback, no output folder. No optimal plan exits 1, Ctrl-C 130, and
an unexpected exception (a bug) one line ``error: internal error: … (please report)`` with
exit code 3.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from grids.regions import default_geometry_path, default_regions_path
from grids.tables import InputError
from models.chips import default_chips_path
from planner.cli.app import (
    INTERNAL_ERROR,
    app,
    console,
    err_console,
    guard,
    internal_error,
    stages,
)
from planner.cli.headroom import register as register_headroom_command
from planner.cli.hedge import register as register_hedge_command
from planner.cli.map import register as register_map_commands
from planner.cli.stress import register as register_stress_command
from planner.cli.sweep import register as register_sweep_command
from planner.optimize.interrupts import deferred
from sites.sites import default_sites_path

ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="scenario YAML (default: the bundled us-base)", show_default=False),
]


@app.command()
def run(
    scenario: ScenarioArg = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="output folder "
                                             "(default: runs/<scenario name>)")] = None,
    demand: Annotated[str | None, typer.Option(
        "--demand", help="demand preset instead of the scenario's path: base, jevons, "
        "deflation, capex-retrenchment")] = None,
    cluster: Annotated[int | None, typer.Option(
        help="merge similar sites within each region into at most K representatives")] = None,
    verbose: Annotated[bool, typer.Option(help="show the HiGHS log")] = False,
) -> None:
    """Solve a scenario and write results.nc, summary.json, gap.csv/png and CSVs."""
    import planner
    from planner.outputs.files import check_output_folder, write_run

    with guard():
        labels = {"load": "loading and validating inputs", "build": "building the model",
                  "solve": "solving with HiGHS", "results.nc": "writing results",
                  "firm-only": "solving again without non-firm connections (for the cost "
                  "they save)"}
        with stages(labels) as step:
            step("load")
            sc = planner.load_scenario(scenario)
            if demand is not None:
                sc = sc.with_demand_preset(demand)
            if cluster is not None:
                from planner.inputs.cluster import cluster_sites

                sc = cluster_sites(sc, cluster)
            target = out if out is not None else Path("runs") / sc.name
            check_output_folder(target, "run")  # a bad -o fails now, not after the solve
            result = planner.solve(sc, progress=step, verbose=verbose)
            if sc.spec.nonfirm is not None:  # what flexibility buys: the same plan without it
                step("firm-only")
                firm = replace(sc, spec=sc.spec.model_copy(
                    update={"nonfirm": None, "hours": None}))
                result.attrs["objective_without_nonfirm_usd"] = planner.solve(
                    firm, verbose=verbose).objective_usd
            step("results.nc")
            write_run(result, sc, target)
        _print_summary(result, target, sc)
        for warning in result.lp.info.get("warnings", []):
            err_console.print(f"warning: {warning}", markup=False, highlight=False,
                              soft_wrap=True)


@app.command()
def validate(scenario: ScenarioArg = None) -> None:
    """Check a scenario and its tables; print what a run would use."""
    import planner
    from planner.optimize.solver_options import algorithm_name

    with guard():
        sc = planner.load_scenario(scenario)
        s = sc.spec
        t = Table(title=f"scenario {sc.name}: valid", show_header=False)
        t.add_row("years", f"{sc.years[0]}–{sc.years[-1]}")
        t.add_row("regions", f"{len(sc.regions)}  ({sc.table_paths['regions']})")
        t.add_row("sites", f"{len(sc.sites)}  ({sc.table_paths['sites']})")
        synth = int(sc.chips["synthetic"].sum())
        t.add_row("chips", f"{len(sc.chips) - synth} announced + {synth} synthetic frontier  "
                  f"({sc.table_paths['chips']})")
        t.add_row("geometry", sc.table_paths["geometry"] or "none: every site names its "
                  "region (maps draw a region without a polygon as its sites)")
        t.add_row("prices", sc.table_paths["prices"] or "none (regional price × escalation)")
        d = sc.demand_h100e
        t.add_row("demand", f"{d.iloc[0]:,.0f} H100e in {d.index[0]} → {d.iloc[-1]:,.0f} "
                  f"in {d.index[-1]}")
        t.add_row("discount rate", f"{s.discount_rate:g}")
        t.add_row("utilization", f"{s.utilization:g}")
        t.add_row("frontier growth", "none" if s.efficiency.frontier_growth is None
                  else f"{s.efficiency.frontier_growth:g} per year")
        t.add_row("on-site", f"lead {s.onsite.lead_years} y, {s.onsite.capex_usd_per_mw:,.0f} "
                  f"USD/MW, {s.onsite.fuel_usd_per_mwh:g} USD/MWh")
        t.add_row("value of unserved",
                  f"{s.demand.value_of_unserved_usd_per_h100e_year:,.0f} USD per H100e-year")
        t.add_row("idle chips", "allowed" if s.allow_idle_chips else "not allowed (must run)")
        levers = sc.active_levers()
        t.add_row("levers", ", ".join(levers) if levers else "none")
        n = len(sc.sites)
        milp = {"build_block_mw", "grid_block_mw"} & set(levers)
        algo = algorithm_name(n, bool(milp))
        t.add_row("a run would use", f"the Pyomo model, {algo}")
        console.print(t)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="new folder for the editable copy")],
    force: Annotated[bool, typer.Option(help="overwrite files in an existing folder")] = False,
) -> None:
    """Write an editable copy of the default scenario and all its tables."""
    from planner.inputs.scenario import default_scenario_path

    with guard():
        if folder.exists() and any(folder.iterdir()) and not force:
            raise InputError("folder exists and is not empty (use --force to overwrite)",
                             file=folder)
        sc_name = scenario_name_for(folder)
        folder.mkdir(parents=True, exist_ok=True)
        text = default_scenario_path().read_text(encoding="utf-8").rstrip("\n")
        text = re.sub(r"^name: .*$", f"name: {sc_name}", text, count=1, flags=re.MULTILINE)
        copies = {
            "regions": (default_regions_path(), "regions.csv"),
            "geometry": (default_geometry_path(), "regions.geojson"),
            "sites": (default_sites_path(), "sites.csv"),
            "chips": (default_chips_path(), "chips.csv"),
        }
        text, layer_tables = _own_layer_tables(text)
        lines = [text, "", "# tables: editable copies of the bundled defaults"]
        for key, (src, name) in copies.items():
            shutil.copyfile(src, folder / name)
            lines.append(f"{key}: {name}")
        for src, name in layer_tables:
            shutil.copyfile(src, folder / name)
        if layer_tables:
            from sites.construction import default_site_facts_path

            shutil.copyfile(default_site_facts_path(), folder / "site_facts.csv")
            lines.append("site_facts: site_facts.csv")
        (folder / "scenario.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        console.print(f"wrote {folder}/scenario.yaml (name: {sc_name}) and its tables; run it "
                      f"with:\n  dcplan run {folder}/scenario.yaml    # writes runs/{sc_name}/")


def _own_layer_tables(text: str) -> tuple[str, list[tuple[Path, str]]]:
    """Point every market-data layer switched on with ``true`` at a copy of its table.

    The bundled per-site tables (installed base, site facts, committed campuses) describe
    the bundled sites; a copy has a sites table of its own, so it gets its own copies of
    them (and of the other layers' tables, to edit). Returns the new text and the
    (bundled table, file name) pairs to copy.
    """
    from grids.headroom import default_headroom_path
    from grids.taxes import default_sales_tax_path
    from models.parameters import default_parameters_path
    from models.supply import default_supply_path
    from sites.campuses import default_campuses_path
    from sites.fleet import default_fleet_path

    tables = {
        "fleet": (default_fleet_path(), "fleet.csv", "fleet: fleet.csv"),
        "accelerator_supply": (default_supply_path(), "accelerator_supply.csv",
                               "accelerator_supply: {path: accelerator_supply.csv}"),
        "firm_headroom": (default_headroom_path(), "headroom.csv",
                          "firm_headroom: {path: headroom.csv}"),
        "committed_campuses": (default_campuses_path(), "committed_campuses.csv",
                               "committed_campuses: {path: committed_campuses.csv}"),
        "market": (default_parameters_path(), "market_parameters.csv",
                   "market: {path: market_parameters.csv}"),
        "sales_tax": (default_sales_tax_path(), "sales_tax.csv",
                      "sales_tax: {path: sales_tax.csv}"),
    }
    copied = []
    for key, (src, name, line) in tables.items():
        text, n = re.subn(rf"^{key}: true\b", line, text, count=1, flags=re.MULTILINE)
        if n:
            copied.append((src, name))
    return text, copied


def scenario_name_for(folder: Path) -> str:
    """The scenario name ``dcplan init`` gives a copy: its folder's name, made a valid id.

    The name picks the default output folder (``runs/<name>``), so a copy never
    writes over the bundled scenario's results.

    Examples
    --------
    >>> scenario_name_for(Path("studies/my folder"))
    'my-folder'
    >>> scenario_name_for(Path("..."))
    'my-scenario'
    """
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", folder.resolve().name if folder.name in
                  ("", ".", "..") else folder.name)
    name = name.strip(".-")
    return name or "my-scenario"


@app.command()
def synth(
    sites: Annotated[int, typer.Option("--sites", help="number of candidate sites")],
    out: Annotated[Path, typer.Option("-o", "--out", help="new scenario folder")],
    years: Annotated[int, typer.Option(help="model years")] = 15,
    chips: Annotated[int, typer.Option(help="chip generations")] = 12,
    seed: Annotated[int, typer.Option(help="random seed")] = 0,
) -> None:
    """Write a synthetic scenario folder (sites scattered in the bundled regions)."""
    from planner.inputs.synth import write_synth

    with guard():
        if sites < 1 or years < 1 or chips < 1:
            raise InputError("--sites, --years and --chips must be at least 1")
        path = write_synth(out, sites, years, chips, seed)
        console.print(f"wrote {path} ({sites} sites, {years} years, {chips} chips, "
                      f"seed {seed}); solve it with:\n  dcplan run {path}")


@app.command()
def gap(
    results_dir: Annotated[Path, typer.Argument(help="a folder written by dcplan run")],
) -> None:
    """Print the demand-versus-efficiency gap of a run and rewrite gap.csv and gap.png."""
    from planner.outputs.gap import gap_from_run

    with guard():
        table = gap_from_run(results_dir)
        _print_gap(table)
        console.print(f"wrote {results_dir}/gap.csv and gap.png")


@app.command()
def chips(
    scenario: ScenarioArg = None,
    plot: Annotated[bool, typer.Option("--plot", help="also draw the efficiency frontier")] = False,
    out: Annotated[Path, typer.Option("-o", "--out", help="PNG file for --plot")] = Path(
        "chips.png"),
) -> None:
    """List chip generations (announced and synthetic frontier) and their efficiency."""
    import planner
    from models.chips import plot_frontier

    with guard():
        sc = planner.load_scenario(scenario)
        c = sc.chips
        t = Table(title=f"chip generations in {sc.name} (frontier growth "
                  f"{sc.spec.efficiency.frontier_growth or 'none'} per year)")
        for col in ("chip", "vendor", "on sale", "kW/unit", "H100e/unit", "H100e per IT-MW",
                    "USD per H100e", "M USD per IT-MW", "life y"):
            t.add_column(col, justify="left" if col in ("chip", "vendor", "on sale") else "right")
        for g, row in c.sort_values(["first_year", "pi_h100e_per_mw"]).iterrows():
            t.add_row(str(g), str(row["vendor"]), f"{row['first_year']}–{row['last_year']}",
                      f"{row['it_kw_per_unit']:.2f}", f"{row['h100e_per_unit']:.2f}",
                      f"{row['pi_h100e_per_mw']:,.0f}",
                      f"{row['capex_usd_per_unit'] / row['h100e_per_unit']:,.0f}",
                      f"{row['kappa_usd_per_mw'] / 1e6:,.1f}", str(row["life_years"]))
        console.print(t)
        if plot:
            plot_frontier(c, sc.years, out, title=f"{sc.name}: accelerator efficiency")
            console.print(f"wrote {out}")


def _print_gap(df: Any) -> None:
    t = Table(title="demand versus efficiency")
    cols = [("year", "year", "{:.0f}"), ("demand M H100e", "demand_h100e", "{:,.2f}"),
            ("served M", "served_h100e", "{:,.2f}"), ("demand ×", "demand_growth", "{:.2f}"),
            ("efficiency ×", "efficiency_growth", "{:.2f}"),
            ("net power ×", "net_power_growth", "{:.2f}"),
            ("load ×", "realized_power_growth", "{:.2f}"),
            ("fleet H100e/MW", "fleet_h100e_per_mw", "{:,.0f}"),
            ("needed GW", "power_needed_mw", "{:,.1f}"),
            ("needed, newest chips GW", "power_needed_at_frontier_mw", "{:,.1f}"),
            ("energized GW", "power_energized_mw", "{:,.1f}"), ("gap %", "gap_pct", "{:.1f}"),
            ("TWh AI/all DC", "energy_twh", "{:,.0f}"),
            ("USD/H100e-yr", "compute_price_usd_per_h100e_year", "{:,.0f}")]
    for label, _, _ in cols:
        t.add_column(label, justify="right")
    scale = {"demand_h100e": 1e-6, "served_h100e": 1e-6, "power_needed_mw": 1e-3,
             "power_energized_mw": 1e-3, "power_needed_at_frontier_mw": 1e-3}
    for _, row in df.iterrows():
        cells = []
        for _, key, fmt in cols:
            v = row[key] if key in row else float("nan")  # a gap.csv of an older run
            cell = "–" if v != v else fmt.format(v * scale.get(key, 1.0))
            if key == "energy_twh":  # AI / all datacenters (AI + the non-AI baseline)
                total = row.get("all_datacenter_energy_twh", float("nan"))
                cell += "/–" if total != total else f"/{total:,.0f}"
            cells.append(cell)
        t.add_row(*cells)
    console.print(t)


def _print_summary(result: Any, target: Path, scenario: Any = None) -> None:
    from planner.outputs.headline import PENALTY_COMPONENTS, TIES_NOTE, levelized_cost, split_cost

    ds = result.to_xarray()
    costs = result.cost_breakdown().sum(axis=1)
    plan, unserved = split_cost(costs.to_dict())
    line = (f"[bold]{result.scenario_name}: optimal plan, plan cost {plan / 1e9:,.1f} billion "
            "USD (present value)[/]")
    if unserved > 0:
        line += (f"; compute left unserved valued at {unserved / 1e9:,.1f} billion USD (not a "
                 f"cost; objective = sum = {result.objective_usd / 1e9:,.1f} billion USD)")
    console.print(line)
    t = Table()
    t.add_column("cost component")
    t.add_column("PV, billion USD", justify="right")
    for k, v in costs.items():
        if abs(v) > 0 and k not in PENALTY_COMPONENTS:
            t.add_row(k, f"{v / 1e9:,.2f}")
    t.add_row("[bold]plan cost[/]", f"[bold]{plan / 1e9:,.2f}[/]")
    if unserved > 0:
        t.add_row("unserved compute (value, not a cost)", f"{unserved / 1e9:,.2f}")
    console.print(t)

    last = int(ds.year.values[-1])
    r = Table(title="by region (MW at the meter; first: ties between sites of a region "
              "leave these totals unchanged)")
    for c in ("region", "built MW", "new grid MW", "on-site MW", f"load {last} MW"):
        r.add_column(c, justify="left" if c == "region" else "right")
    rb = ds["region_build_mw"].sum("year").to_series()
    rg = ds["region_grid_mw"].sum("year").to_series()
    ro = ds["region_onsite_mw"].sum("year").to_series()
    rl = ds["region_load_mw"].sel(year=last).to_series()
    for reg in rl.sort_values(ascending=False).index:
        r.add_row(str(reg), f"{rb[reg]:,.0f}", f"{rg[reg]:,.0f}", f"{ro[reg]:,.0f}",
                  f"{rl[reg]:,.0f}")
    console.print(r)
    if scenario is not None:
        _print_schedule(ds, scenario)
    console.print(f"ties: {TIES_NOTE}", markup=False, highlight=False, soft_wrap=True)

    lev = levelized_cost(ds)
    y = Table(title="by year")
    for c in ("year", "demand, M H100e", "unserved, M H100e", "load GW", "energy TWh",
              "levelized USD/H100e-yr", "marginal USD/H100e-yr"):
        y.add_column(c, justify="right")
    for yr in ds.year.values:
        sel = ds.sel(year=yr)
        lv = float(lev.loc[int(yr)])
        y.add_row(str(int(yr)), f"{float(sel['demand_h100e']) / 1e6:,.2f}",
                  f"{float(sel['unserved_h100e']) / 1e6:,.2f}",
                  f"{float(sel['load_mw'].sum()) / 1e3:,.1f}",
                  f"{float(sel['energy_twh']):,.0f}",
                  "–" if lv != lv else f"{lv:,.0f}",
                  f"{float(sel['compute_price_usd_per_h100e_year']):,.0f}")
    console.print(y)
    console.print("levelized = the fleet in service's yearly cost ÷ H100e served; marginal = "
                  "one more H100e that year (jumps between chip vintages)", markup=False,
                  highlight=False)
    console.print(f"wrote {target}/ (results.nc, summary.json, build_schedule.csv/.xlsx, gap.csv, "
                  "gap.png, capacity_map.gpkg, report.html, CSVs)")


def _print_schedule(ds: Any, scenario: Any) -> None:
    """Per year, what starts or is energized where (largest first, the rest summed), the
    chip mix bought, and the decisions due in the first year."""
    from planner.outputs.schedule import (
        KIND_LABELS,
        decisions_due,
        schedule_from_scenario,
        top_items,
    )

    sched = schedule_from_scenario(ds, scenario)
    t = Table(title="build schedule (MW completed or energized in the year; largest first)")
    for c in ("year", "facilities completed", "grid energized (new; queued)",
              "on-site generation", "chips bought (IT MW)"):
        t.add_column(c, justify="right" if c == "year" else "left", overflow="fold")
    for year, rows in sched.groupby("year", sort=True):
        def cell(kinds: tuple[str, ...], key: str = "site", rows: Any = rows) -> str:
            sub = rows[rows["kind"].isin(kinds)]
            return top_items(sub.groupby(key)["mw"].sum(), n=2)
        grid = cell(("grid",))
        queued = cell(("queued_grid",))
        t.add_row(str(int(year)), cell(("facility",)),
                  "; ".join(x for x in (grid, f"queued: {queued}" if queued else "") if x),
                  cell(("onsite",)), cell(("it",), key="item"))
    console.print(t)
    y0 = int(ds.year.values[0])
    due = decisions_due(sched, y0)
    if len(due):
        def span(g: Any) -> str:
            lo, hi = int(g["year"].min()), int(g["year"].max())
            return str(lo) if lo == hi else f"{lo}–{hi}"

        parts = [f"{KIND_LABELS.get(k, k)} {g['mw'].sum():,.0f} MW for {span(g)} at "
                 f"{g['site'].nunique()} sites" for k, g in due.groupby("kind", sort=False)]
        console.print(f"decisions due now ({y0}): " + "; ".join(parts)
                      + " (build_schedule.csv, commit_year)", markup=False, highlight=False)


register_map_commands(app)
register_stress_command(app)
register_sweep_command(app)
register_headroom_command(app)
register_hedge_command(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv``; return the exit code (for tests)."""
    try:
        with deferred(at_end=False):  # a press after the command's work is done is ignored
            app(args=argv, prog_name="dcplan")
    except SystemExit as exc:
        if exc.code is None:
            return 0
        return exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:  # outside a command's guard (option parsing, registration)
        err_console.print(f"error: {internal_error(exc)}", markup=False, highlight=False,
                          soft_wrap=True)
        return INTERNAL_ERROR
    return 0

