"""The ``dcplan map`` and ``dcplan report`` commands.

:mod:`planner.cli.commands` calls :func:`register` to add them to the ``dcplan`` app; they
share the guard and consoles of :mod:`planner.cli.app`. Errors follow the CLI's conventions:
one line on stderr, exit code 2.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from grids.tables import InputError

RunDirArg = Annotated[Path, typer.Argument(help="a run folder written by dcplan run",
                                           show_default=False)]


def parse_years(text: str) -> list[int]:
    """``"2030,2035"`` or ``"2030-2040"`` (or a mix) → a list of years.

    Examples
    --------
    >>> parse_years("2030,2035-2037")
    [2030, 2035, 2036, 2037]
    """
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        m = re.fullmatch(r"(\d{4})(?:\s*-\s*(\d{4}))?", part)
        if not m:
            raise InputError(f"--years: expected years like 2030,2035 or 2030-2040, got '{text}'")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise InputError(f"--years: expected a rising range like 2030-2040, got '{part}'")
        out.extend(y for y in range(lo, hi + 1) if y not in out)
    return out


def map_command(
    results_dir: RunDirArg,
    year: Annotated[int | None, typer.Option(help="one year (default: all years for gpkg, "
                                             "geojson, parquet, html; the last year for png)",
                                             show_default=False)] = None,
    years: Annotated[str | None, typer.Option(help="several years, e.g. 2030,2035,2040 or "
                                              "2030-2040 (small multiples in a PNG)",
                                              show_default=False)] = None,
    metric: Annotated[str | None, typer.Option(help="region metric, e.g. load_mw, build_mw, "
                                               "energy_twh (default: all for vector formats, "
                                               "load_mw for png/html)",
                                               show_default=False)] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", help="gpkg, geojson, parquet, png "
                                            "or html (default: from -o's suffix, else png)",
                                            show_default=False)] = None,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="output file (default: "
                                             "RESULTS_DIR/map_<metric>_<years>.<format>)",
                                             show_default=False)] = None,
) -> None:
    """Export a run's regional capacity map (regions as polygons, sites as points)."""
    from planner.cli.app import console, guard, stages
    from planner.outputs.exports import export
    from planner.outputs.maps import SUFFIX

    with guard():
        if year is not None and years is not None:
            raise InputError("--years: give either --year or --years, not both")
        chosen = [year] if year is not None else (parse_years(years) if years else None)
        if fmt is None:
            by_suffix = {v: k for k, v in SUFFIX.items()}
            fmt = by_suffix.get(out.suffix.lower(), "png") if out is not None else "png"
        with stages({"map": f"writing the {fmt} map"}) as step:
            step("map")
            written = export(results_dir, fmt, out, years=chosen, metric=metric)
        console.print("wrote " + ", ".join(str(p) for p in written))


def report_command(
    results_dir: RunDirArg,
    out: Annotated[Path | None, typer.Option("-o", "--out", help="output file (default: "
                                             "RESULTS_DIR/report.html)",
                                             show_default=False)] = None,
) -> None:
    """Write report.html: headline numbers, gap chart, capacity by region, interactive map."""
    from planner.cli.app import console, guard, stages
    from planner.outputs.report import write_report

    with guard():
        with stages({"report": "writing the report"}) as step:
            step("report")
            path = write_report(results_dir, out)
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add the ``map`` and ``report`` commands to ``app`` (once; later calls do nothing)."""
    have = {info.name for info in app.registered_commands}
    if "map" not in have:
        app.command("map")(map_command)
    if "report" not in have:
        app.command("report")(report_command)
