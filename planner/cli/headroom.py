"""``dcplan headroom``: curtailment-enabled headroom per region from hourly load.

:mod:`planner.cli.commands` calls :func:`register` to add it to the ``dcplan`` app; it shares
the guard and consoles of :mod:`planner.cli.app`. Bad input ends with
one line on stderr and exit code 2, before anything is written.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from grids.tables import InputError
from planner.inputs.headroom import DEFAULT_RATES_PCT


def register(app: typer.Typer) -> None:
    """Add the ``headroom`` command to the dcplan Typer ``app`` (once; later calls do nothing)."""
    if "headroom" not in {info.name for info in app.registered_commands}:
        app.command("headroom")(headroom_command)


def parse_rates(text: str) -> list[float]:
    """``"0.25,0.5,1,5"`` → curtailment limits in percent, each in (0, 100).

    >>> parse_rates("0.25, 0.5,1,5")
    [0.25, 0.5, 1.0, 5.0]
    """
    out: list[float] = []
    for part in (p.strip() for p in text.split(",")):
        try:
            value = float(part.removesuffix("%"))
        except ValueError:
            value = float("nan")
        if not 0 < value < 100:  # NaN fails too
            raise InputError(f"--rates: expected curtailment limits in percent, each above 0 "
                             f"and below 100, like 0.25,0.5,1,5, got '{part}'")
        if value not in out:
            out.append(value)
    return out


def parse_year_span(text: str) -> list[int]:
    """``"2016-2024"`` or ``"2018,2020-2022"`` → a list of years.

    >>> parse_year_span("2018,2020-2022")
    [2018, 2020, 2021, 2022]
    """
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r"(\d{4})(?:\s*-\s*(\d{4}))?", part)
        if not m or int(m.group(2) or m.group(1)) < int(m.group(1)):
            raise InputError(f"--years: expected years like 2016-2024 or 2018,2020, got '{part}'")
        out.extend(y for y in range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1)
                   if y not in out)
    return sorted(out)


def headroom_command(
    scenario: Annotated[Path | None, typer.Argument(
        help="scenario YAML whose hourly_load (default: the bundled 2016–2024 record) and "
        "regions to use (default: the bundled us-base)", show_default=False)] = None,
    rates: Annotated[str, typer.Option(
        help="curtailment limits, percent of the added load's energy")] = ",".join(
            f"{r:g}" for r in DEFAULT_RATES_PCT),
    years: Annotated[str | None, typer.Option(
        help="years of the hourly record to analyse, e.g. 2016-2024 or 2019,2021-2023 "
        "(default: all)", show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "-o", "--out", help="CSV file; the chart goes beside it as .png (default: "
        "runs/headroom-<scenario name>.csv)", show_default=False)] = None,
) -> None:
    """Curtailment-enabled headroom per region (Duke "Rethinking Load Growth" method)."""
    import planner
    from grids.hourly import BUNDLED_SOURCE, load_hourly, record_years, select_years
    from planner.cli.app import console, guard, stages
    from planner.inputs.headroom import headroom_table, region_curves
    from planner.outputs.headroom_files import (
        check_output_file,
        plot_curves,
        png_path_for,
        write_csv,
    )

    with guard():
        limits = parse_rates(rates)
        chosen = parse_year_span(years) if years is not None else None
        labels = {"load": "loading the scenario and its hourly load",
                  "solve": "solving for the headroom at each limit",
                  "write": "writing the table and the chart"}
        with stages(labels) as step:
            step("load")
            sc = planner.load_scenario(scenario)
            target = out if out is not None else Path("runs") / f"headroom-{sc.name}.csv"
            if target.suffix.lower() != ".csv":
                raise InputError("-o: expected a file name ending in .csv (the chart is "
                                 "written beside it as .png)", file=target)
            png = png_path_for(target)
            check_output_file(target)  # both refused before any work, nothing written
            check_output_file(png)
            own = sc.table_paths.get("hourly_load")
            load = load_hourly(own, regions=list(sc.regions.index))
            if chosen is not None:
                load = select_years(load, chosen)
            step("solve")
            curves = region_curves(load)
            table = headroom_table(curves, limits)
            step("write")
            span = record_years(load)
            source = f"user file {Path(own).name}" if own else BUNDLED_SOURCE
            provenance = (f"scenario {sc.name}; years {span[0]}-{span[-1]} ({len(span)}); "
                          "method: Norris et al., Rethinking Load Growth, Nicholas Institute, "
                          f"Duke University, NI R 25-01 (2025); hourly load: {source}")
            target.parent.mkdir(parents=True, exist_ok=True)
            write_csv(table, target, provenance)
            plot_curves(curves, table, png, f"{sc.name}: curtailment-enabled headroom, "
                        f"{span[0]}–{span[-1]} (hourly load: "
                        f"{Path(own).name if own else 'EIA-930, Ruggles et al. 2020'})")
        print_headroom(table, limits)
        console.print(f"wrote {target} and {png}")


def print_headroom(table: object, limits: list[float]) -> None:
    """A rich table: headroom GW per region at each limit, curtailed hours and events."""
    import pandas as pd

    from planner.cli.app import console
    from planner.inputs.headroom import totals

    assert isinstance(table, pd.DataFrame)
    top = min(limits, key=lambda r: (abs(r - 0.5), r))  # the study's headline limit
    t = Table(title="curtailment-enabled headroom (GW) at each curtailment limit; share of "
              f"peak, curtailed hours a year and mean / longest event (h) at {top:g} %")
    t.add_column("region")
    for r in limits:
        t.add_column(f"{r:g} %", justify="right")
    t.add_column("% of peak", justify="right")
    t.add_column("hours/yr", justify="right")
    t.add_column("event h", justify="right")
    for region, rows in table.groupby("region", sort=False):
        by = rows.set_index("curtailment_pct")
        last = by.loc[top]
        t.add_row(str(region), *(f"{by.at[r, 'headroom_mw'] / 1e3:,.1f}" for r in limits),
                  f"{last['headroom_pct_of_peak']:.1f}",
                  f"{last['curtailed_hours_per_year']:,.0f}",
                  f"{last['mean_event_hours']:.1f} / {last['max_event_hours']:.0f}")
    tot = totals(table).set_index("curtailment_pct")
    t.add_section()
    t.add_row("[bold]total[/] (GW; h: mean)", *(f"[bold]{tot.at[r, 'headroom_mw'] / 1e3:,.1f}[/]"
                                  for r in limits), "",
              f"{tot.at[top, 'curtailed_hours_per_year']:,.0f}",
              f"{tot.at[top, 'mean_event_hours']:.1f}")
    console.print(t)
