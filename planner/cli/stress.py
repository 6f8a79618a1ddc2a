"""``dcplan stress``: operator exposure stress tests on the command line.

:mod:`planner.cli.commands` calls :func:`register` to add it to the ``dcplan`` app; it shares
the guard and consoles of :mod:`planner.cli.app`. Bad input ends with one line on stderr and
exit code 2, before anything is solved or written.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from sites.portfolio import SHOCK_KINDS

SHOCK_HELP = (
    "a shock KIND:MAGNITUDE@YEAR, repeatable; kinds: "
    + "; ".join(f"{k}" for k in SHOCK_KINDS)
    + ". Examples: lease_rate:-0.3@2027, power_price:+50%@2027, interconnect:2@2026, "
    "obsolescence:0.2@2027, demand:-0.25@2027, default:microsoft@2028 "
    "(default:TARGET:LGD@YEAR for a partial loss). See docs/stress.md."
)


def register(app: typer.Typer) -> None:
    """Add the ``stress`` command to the dcplan Typer ``app`` (once; later calls do nothing)."""
    if "stress" not in {info.name for info in app.registered_commands}:
        app.command("stress")(stress_command)


def stress_command(
    portfolio: Annotated[Path | None, typer.Argument(
        help="portfolio YAML (default: the bundled illustrative ai-chains-2026)",
        show_default=False)] = None,
    shock: Annotated[list[str] | None, typer.Option(
        "--shock", "-s", help=SHOCK_HELP, show_default=False)] = None,
    scenario: Annotated[Path | None, typer.Option(
        "--scenario", help="capacity scenario whose duals value re-let MW "
        "(default: the bundled us-base)", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="output folder (default: runs/stress-<portfolio name>, "
        "plus the --shock texts when given)",
        show_default=False)] = None,
    samples: Annotated[int | None, typer.Option(
        "--samples", help="Monte Carlo: draw N paths from the portfolio's monte_carlo: "
        "risk factors; writes default_probability.csv, expected_loss.csv, default_risk.png",
        show_default=False)] = None,
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo random seed")] = 0,
    workers: Annotated[int | None, typer.Option(
        "--workers", "-w", help="Monte Carlo on a Dask LocalCluster with N worker processes "
        "(default: 0 = in this process)", show_default=False)] = None,
    hedged: Annotated[Path | None, typer.Option(
        "--hedged", help="a folder written by dcplan hedge: the MW its hedged plan strands "
        "in each future put landlords' revenue at risk (revenue_at_risk.csv)",
        show_default=False)] = None,
) -> None:
    """Stress-test datacenter operators: covenants, defaults, contract chains."""
    from planner.cli.app import guard, stages
    from planner.outputs.outdir import check_output_folder
    from planner.stress import stress, write_stress
    from sites.portfolio import parse_shock

    with guard():
        extra = [parse_shock(s) for s in (shock or [])]
        labels = {"load": "loading and validating the portfolio and scenario",
                  "capacity": "solving the capacity scenario for the value of capacity",
                  "simulate": "clearing payments year by year",
                  "write": "writing results"}
        if out is not None:
            check_output_folder(out, "stress")  # a bad -o fails now, not after the solves
        from grids.tables import InputError

        if samples is not None and samples < 1:
            raise InputError(f"--samples must be >= 1, got {samples}")
        if workers is not None and (workers < 0 or samples is None):
            raise InputError(f"--workers must be >= 0 and goes with --samples, got {workers}")
        labels["monte_carlo"] = f"drawing {samples} Monte Carlo paths"
        mc = None
        stranded = read_stranded(hedged) if hedged is not None else None
        with stages(labels) as step:
            result = stress(portfolio, extra, scenario=scenario, progress=step)
            name = result.portfolio.name
            target = out if out is not None else Path("runs") / default_folder(name, extra)
            if samples is not None:
                from planner.stress.montecarlo import read_risk_factors, run_monte_carlo

                read_risk_factors(result.portfolio)
                step("monte_carlo")
                mc = run_monte_carlo(result.portfolio, result.market, result.shocks, samples,
                                     seed, workers=workers or 0)
            rar = None
            if stranded is not None:
                from planner.stress.hedged import revenue_at_risk_from_stranded

                rar = revenue_at_risk_from_stranded(result.portfolio, stranded)
            step("write")
            write_stress(result, target, monte_carlo=mc, revenue_at_risk=rar)
        print_stress(result, target)
        if rar is not None:
            print_revenue_at_risk(rar, hedged)
        if mc is not None:
            print_monte_carlo(mc)


def read_stranded(folder: Path) -> Any:
    """``stranded_by_region.csv`` of a ``dcplan hedge`` folder (one-line error otherwise)."""
    import pandas as pd

    from grids.tables import InputError

    path = Path(folder) / "stranded_by_region.csv"
    if not path.is_file():
        raise InputError("not a folder written by dcplan hedge (expected "
                         "stranded_by_region.csv in it)", file=folder)
    try:
        return pd.read_csv(path)
    except Exception as exc:  # a truncated or edited file
        raise InputError(f"cannot read it: {exc}", file=path) from None


def print_revenue_at_risk(rar: Any, hedged: Path) -> None:
    """Landlords' expected revenue at risk from the hedged plan's stranded MW."""
    from planner.cli.app import console

    t = Table(title=f"landlords' expected revenue at risk from the MW the hedged plan in "
              f"{hedged} strands (million USD/year; revenue_at_risk.csv)")
    t.add_column("operator")
    years = sorted(rar["year"].unique())
    shown = years[:: max(1, len(years) // 6)]
    for y in shown:
        t.add_column(str(int(y)), justify="right")
    for op, g in rar.groupby("operator", sort=False):
        v = g.set_index("year")["revenue_at_risk_usd_per_year"]
        t.add_row(str(op), *(f"{float(v.get(y, 0.0)) / 1e6:,.1f}" for y in shown))
    console.print(t)


def default_folder(portfolio: str, shocks: list) -> str:
    """The default output folder name: ``stress-<portfolio>`` plus the shocks given.

    A stressed run never lands in the folder of the unshocked one. Each shock is
    written in its canonical form (``+50%`` and ``+0.5`` give the same folder), with
    ``:`` and ``@`` as ``-``; a very long name is cut and ends with a hash of the shocks.

    Examples
    --------
    >>> from sites.portfolio import parse_shock
    >>> default_folder("ai-chains-2026", [])
    'stress-ai-chains-2026'
    >>> default_folder("ai-chains-2026", [parse_shock("default:microsoft@2028")])
    'stress-ai-chains-2026_default-microsoft-1-2028'
    """
    name = f"stress-{portfolio}"
    if not shocks:
        return name
    texts = [s.text() for s in shocks]
    parts = [re.sub(r"[^A-Za-z0-9_.+-]", "_", re.sub(r"[:@]", "-", t)) for t in texts]
    name = "_".join([name, *parts])
    if len(name) > 120:
        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:8]
        name = f"{name[:110]}_{digest}"
    return name


def _fmt(v: float, spec: str = ",.2f", blank: str = "–") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return blank
    return format(int(v), spec) if spec == "d" else format(v, spec)


def print_stress(result: object, target: Path) -> None:
    """Rich tables: one row per operator, DSCR by year, end-customer exposure."""
    from planner.cli.app import console
    from planner.stress import StressResult

    assert isinstance(result, StressResult)
    pf = result.portfolio
    ds = result.metrics
    shocks = ", ".join(s.text() for s in result.shocks) or "none"
    tag = " (ILLUSTRATIVE figures)" if pf.spec.illustrative else ""
    summary = result.summary()
    t = Table(title=f"{pf.name}{tag} — shocks: {shocks}; value of capacity from "
              f"'{result.market.scenario}'")
    for c in ("operator", "kind", "covenant", "min tested DSCR (year)", "first breach", "default",
              "revenue at risk, B USD", "top customer", "HHI", "top end customer"):
        t.add_column(c, justify="left" if c in ("operator", "kind", "top end customer")
                     else "right")
    for _, r in summary.iterrows():
        breach = _fmt(r["first_breach_year"], "d")
        dflt = _fmt(r["default_year"], "d")
        style = "red" if dflt != "–" else ("yellow" if breach != "–" else "green")
        t.add_row(
            f"[{style}]{r['name']}[/]", r["kind"], f"{r['covenant_min_dscr']:.2f}",
            f"{_fmt(r['min_dscr'])} ({_fmt(r['min_dscr_year'], 'd')})", breach, dflt,
            _fmt(r["revenue_at_risk_usd"] / 1e9), _fmt(r["top_customer_share_first_year"], ".0%"),
            _fmt(r["hhi_first_year"], ".2f"),
            f"{r['top_end_customer']} {_fmt(r['top_end_customer_share'], '.0%', '')}".strip())
    console.print(t)

    years = [int(y) for y in ds.year.values]
    pick = sorted({years[0], *years[1:5], *years[5::2], years[-1]})
    d = Table(title="DSCR by year (EBITDA ÷ debt service; – = no debt service or in default)")
    d.add_column("operator")
    for y in pick:
        d.add_column(str(y), justify="right")
    for o in ds.operator.values:
        cov = float(ds["covenant_min_dscr"].sel(operator=o))
        cells = []
        for y in pick:
            v = float(ds["dscr"].sel(operator=o, year=y))
            dflt = float(ds["default_year"].sel(operator=o))
            if y > dflt or (y == dflt and math.isnan(v)):
                cells.append("[red]default[/]")
            elif y == dflt:
                cells.append(f"[red]{v:.2f}[/]")
            elif math.isnan(v):
                cells.append("–")
            else:
                cells.append(f"[{'yellow' if v < cov else 'default'}]{v:.2f}[/]")
        d.add_row(str(ds["operator_name"].sel(operator=o).values), *cells)
    console.print(d)
    c = Table(title="capital and debt, billion USD: the first year and every year with capex, "
              "a draw, a maturity or an acceleration (capital_by_year.csv has every year)")
    for col in ("operator", "year", "capex", "drawn", "interest", "principal", "balloon",
                "refinanced", "debt", "leverage"):
        c.add_column(col, justify="left" if col == "operator" else "right")
    for o in ds.operator.values:
        for y in years:
            d = ds.sel(operator=o, year=y)
            capex = float(d["gpu_capex_usd_per_year"] + d["facility_capex_usd_per_year"])
            events = capex + sum(float(d[k]) for k in (
                "debt_drawn_usd_per_year", "balloon_usd_per_year", "refinanced_usd_per_year",
                "accelerated_usd_per_year"))
            if math.isnan(capex) or (y != years[0] and events == 0):
                continue
            c.add_row(str(ds["operator_name"].sel(operator=o).values), str(y),
                      _fmt(capex / 1e9), _fmt(float(d["debt_drawn_usd_per_year"]) / 1e9),
                      _fmt(float(d["interest_usd_per_year"]) / 1e9),
                      _fmt(float(d["principal_usd_per_year"]) / 1e9),
                      _fmt(float(d["balloon_usd_per_year"]) / 1e9),
                      _fmt(float(d["refinanced_usd_per_year"]) / 1e9),
                      _fmt(float(d["debt_outstanding_usd"]) / 1e9),
                      _fmt(float(d["leverage"]), ".1f"))
    console.print(c)
    console.print(f"wrote {target}/ (stress.nc, summary.csv, operators_by_year.csv, "
                  "capital_by_year.csv, debt_tranches.csv, contracts_by_year.csv, exposure.csv, "
                  "dscr.png, contract_graph.png)")


def print_monte_carlo(mc: object) -> None:
    """P(default) by operator and year (± standard error) and the largest expected losses."""
    from planner.cli.app import console

    prob = mc.default_probability  # type: ignore[attr-defined]
    years = sorted(prob["year"].unique())
    pick = sorted({years[0], *years[1:5], *years[5::3], years[-1]})
    t = Table(title=f"P(default by the end of the year) over {mc.samples} paths "  # type: ignore[attr-defined]
              f"(seed {mc.seed}; ± standard error)")  # type: ignore[attr-defined]
    t.add_column("operator")
    for y in pick:
        t.add_column(str(y), justify="right")
    for o, g in prob.groupby("operator", sort=False):
        g = g.set_index("year")
        t.add_row(o, *(f"{g.at[y, 'p_default']:.2f}±{g.at[y, 'p_default_se']:.2f}"
                       for y in pick))
    console.print(t)
    e = Table(title="expected loss, billion USD (± standard error): who loses through whom")
    for col in ("creditor", "through", "class", "expected loss"):
        e.add_column(col, justify="right" if col == "expected loss" else "left")
    for r in mc.expected_loss_by_counterparty.head(10).itertuples():  # type: ignore[attr-defined]
        e.add_row(r.creditor, r.through, r.creditor_class,
                  f"{r.expected_loss_usd / 1e9:,.2f} ± {r.se_usd / 1e9:,.2f}")
    console.print(e)
    console.print("wrote default_probability.csv, expected_loss.csv, mc_paths.csv, "
                  "default_risk.png")
