"""Map files of a run: ``dcplan map`` exports and the map outputs ``dcplan run`` writes.

Kept apart from :mod:`planner.outputs.maps` (the map layers and plots) because it also
writes the HTML pages of :mod:`planner.outputs.report`, which draws from those layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from grids.tables import InputError
from planner.outputs.maps import (
    DEFAULT_METRIC,
    EXCHANGE_CRS,
    FORMATS,
    GPKG_NAME,
    SUFFIX,
    capacity_map,
    check_metric,
    plot_map,
    read_results,
    run_polygons,
    select_years,
    write_vector,
)
from planner.outputs.report import report_from_result, write_map_page

if TYPE_CHECKING:
    from planner.inputs.scenario import Scenario
    from planner.outputs.results import Result


def export(
    folder: str | Path,
    fmt: str,
    out: str | Path | None = None,
    *,
    years: Sequence[int] | None = None,
    metric: str | None = None,
) -> list[Path]:
    """``dcplan map``: write a run's capacity map in one format.

    Parameters
    ----------
    folder : the run folder (results.nc and capacity_map.gpkg).
    fmt : one of :data:`FORMATS`.
    out : the file (default: ``<folder>/map_<metric>_<years>.<fmt>``, a file the
        next run into ``folder`` keeps); an existing folder gets that default name
        inside it.
    years : years to include; vector formats default to all years, PNG and
        HTML to the last year. Several years make small multiples in a PNG.
    metric : a region metric; vector formats default to all metrics, PNG and
        HTML to ``load_mw``.

    Returns
    -------
    The files written.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise InputError(f"--format: unknown format '{fmt}' (known: {', '.join(FORMATS)})")
    if metric is not None:
        check_metric(metric)
    ds = read_results(folder)
    polygons = run_polygons(folder, ds)
    vector = fmt in ("gpkg", "geojson", "parquet")
    if years is None and not vector:
        chosen = select_years(ds, None)
        years = chosen if fmt == "html" else chosen[-1:]
    chosen = select_years(ds, years)
    if out is None or Path(out).is_dir():  # -o DIR: the default name inside DIR
        stem = "map_" + (metric or ("all" if vector else DEFAULT_METRIC))
        span = f"{chosen[0]}" if len(chosen) == 1 else f"{chosen[0]}-{chosen[-1]}"
        out = Path(out if out is not None else folder) / f"{stem}_{span}{SUFFIX[fmt]}"
    out = Path(out)
    if vector:
        cmap = capacity_map(ds, polygons, years=chosen, metrics=[metric] if metric else None)
        return write_vector(cmap, out, fmt)
    if fmt == "png":
        metric = metric or DEFAULT_METRIC
        cmap = capacity_map(ds, polygons, years=chosen, metrics=[metric])
        return [plot_map(cmap, metric, chosen, out)]
    cmap = capacity_map(ds, polygons, years=chosen)
    return [write_map_page(cmap, out, metric=metric or DEFAULT_METRIC)]


def write_map_outputs(result: Result, scenario: Scenario, folder: Path, *,
                      report_data: dict | None = None) -> None:
    """Add ``capacity_map.gpkg`` and ``report.html`` to a run folder.

    Called by ``write_run`` on its temporary folder; needs nothing else in it.

    Parameters
    ----------
    result : the solved plan.
    scenario : the scenario it solved (its region polygons and names).
    folder : the (temporary) run folder.
    report_data : keyword arguments of ``report_from_result`` (summary, schedule, regions).
    """
    folder = Path(folder)
    regions = [str(r) for r in scenario.regions.index]
    shapes = scenario.geometry.set_index(scenario.geometry["region"].astype(str))["geometry"]
    names = (scenario.regions["name"] if "name" in scenario.regions.columns
             else scenario.regions["region"])
    polygons = gpd.GeoDataFrame(  # every region; None where the scenario has no polygon
        {"region": regions, "name": names.fillna(scenario.regions["region"]).astype(str)
         .to_numpy()}, geometry=shapes.reindex(regions).to_numpy(), crs=EXCHANGE_CRS)
    polygons.attrs["path"] = scenario.table_paths.get("geometry", "")
    cmap = capacity_map(result.to_xarray(), polygons)
    write_vector(cmap, folder / GPKG_NAME, "gpkg")
    report_from_result(result, cmap, folder / "report.html", **(report_data or {}))
