"""Render the input schema (tables and scenario keys) as Markdown.

The tables' documentation is generated from their one registry
(:class:`grids.tables.TableSchema`); ``docs/schema.md`` is this output, and a
test keeps it in step. Regenerate with ``python -m planner.inputs.schema_docs > docs/schema.md``.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from grids.headroom import HEADROOM
from grids.hourly import SCHEMA_MARKDOWN as HOURLY_LOAD
from grids.regions import PRICES, REGIONS
from grids.tables import MAX_MAGNITUDE
from grids.taxes import SALES_TAX
from models.calibration import CALIBRATION_POINTS, DC_BASELINE
from models.chips import CHIPS
from models.demand import DEMAND
from models.levers import COOLING_WATER
from models.onsite import GAS_PRICE, ONSITE_TECHNOLOGIES
from models.parameters import MARKET_PARAMETERS
from models.supply import ACCELERATOR_SUPPLY
from planner.inputs.scenario import ScenarioFile
from sites.campuses import COMMITTED_CAMPUSES
from sites.construction import SITE_FACTS
from sites.fleet import FLEET
from sites.portfolio import CONTRACTS, CUSTOMERS, OPERATORS
from sites.sites import SITES


def _nested(ann: Any) -> tuple[type[BaseModel] | None, bool | str]:
    """The model inside ``M``, ``M | None``, ``list[M]``, ``list[M] | None`` or
    ``dict[str, M]``, and whether it is a list (``"dict"`` for a mapping)."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
    if get_origin(ann) is dict:
        inner = get_args(ann)[1]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, "dict"
    for arg in get_args(ann):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg, False
        if get_origin(arg) is list:
            inner = get_args(arg)[0]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner, True
    if get_origin(ann) is list:
        inner = get_args(ann)[0]
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, True
    return None, False


def _type_name(ann: Any) -> str:
    name = str(ann) if not isinstance(ann, type) else ann.__name__
    name = name.replace("typing.", "").replace("planner.inputs.scenario.", "")
    return name.replace(" | ", " or ")


def _scenario_rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        ann: Any = field.annotation
        key = f"{prefix}{name}"
        required = "yes" if field.is_required() else "no"
        default = ("" if field.is_required() else repr(field.default)
                   if field.default_factory is None else repr(field.default_factory()))
        inner, is_list = _nested(ann)
        if inner is not None and ann is inner:
            rows.extend(_scenario_rows(ann, key + "."))
            continue
        if inner is not None:  # an optional section, a list or a mapping of entries
            what = {True: f"list of {inner.__name__}", False: f"{inner.__name__} or None",
                    "dict": f"mapping of name → {inner.__name__}"}[is_list]
            rows.append(f"| `{key}` | {what} | {required} | {default} | "
                        f"{field.description or ''} |")
            sub = {True: "[].", False: ".", "dict": ".<name>."}[is_list]
            rows.extend(_scenario_rows(inner, key + sub))
            continue
        rows.append(f"| `{key}` | {_type_name(ann)} | {required} | {default} | "
                    f"{field.description or ''} |")
    return rows


def render() -> str:
    parts = [
        "# Input schema",
        "",
        "Generated from the schema registry by `python -m planner.inputs.schema_docs`; "
        "do not edit.",
        "Every table may also carry `source` and `notes` columns (kept, not used by the model).",
        "Tables are CSV or Parquet. Unknown columns and unknown scenario keys are errors.",
        "A column named twice is an error; a cell holds one value (not a Parquet list);",
        "text holds no control characters (NUL, tab, escape: netCDF would cut ids at a NUL);",
        f"every number is finite and at most {MAX_MAGNITUDE:.0e} in magnitude (so no cost",
        "overflows to inf). A YAML key given twice is an error, and `true`/`false` is not a",
        "number.",
        "",
        "## Scenario YAML",
        "",
        "| key | type | required | default | description |",
        "| --- | --- | --- | --- | --- |",
        *_scenario_rows(ScenarioFile),
        "",
        "Table keys (`regions`, `geometry`, `prices`, `sites`, `chips`, `demand.path`,",
        "`fleet`, `hourly_load`) are paths relative to the scenario file; an omitted table",
        "comes from the bundled default.",
        "The levers (`build_block_mw` … `forced_builds`) are explained in docs/levers.md.",
        "",
        "## Tables",
    ]
    for schema in (REGIONS, PRICES, SITES, CHIPS, DEMAND, FLEET):
        parts += ["", schema.markdown()]
    parts += [
        "",
        "**cooling water** (bundled, lever `water`; `water.cooling_m3_per_mwh` adds or replaces",
        "types) — cooling water consumed per MWh of IT energy (m3/MWh = L/kWh, WUE).",
        "",
        "| cooling | m3/MWh | source |",
        "| --- | --- | --- |",
        *[f"| `{k}` | {v:g} | {src} |" for k, (v, src) in COOLING_WATER.items()],
    ]
    parts += [
        "",
        "## Bundled market data (read by `dcplan run` through the market-data keys)",
        "",
        "Package data with a `source` on every row, loaded by plain functions that take a path",
        "(default: the bundled file) and read by the scenario keys `fleet: true`,",
        "`construction`, `accelerator_supply`, `firm_headroom`, `committed_campuses`, `market`,",
        "`sales_tax` and `onsite_technologies` (the technology table and the gas price path).",
        "docs/data-sources.md gives the arithmetic and, in \"Wiring into the model\", the",
        "constraint each table feeds.",
        "The bundled installed base `sites/data/fleet.csv` (loader `sites.fleet.load_fleet`)",
        "uses the `fleet` schema above.",
    ]
    bundled = (
        (HEADROOM, "grids/data/headroom.csv", "grids.headroom.load_headroom"),
        (SALES_TAX, "grids/data/sales_tax.csv", "grids.taxes.load_sales_tax"),
        (SITE_FACTS, "sites/data/site_facts.csv", "sites.construction.load_site_facts"),
        (COMMITTED_CAMPUSES, "sites/data/committed_campuses.csv", "sites.campuses.load_campuses"),
        (ACCELERATOR_SUPPLY, "models/data/accelerator_supply.csv", "models.supply.load_supply"),
        (ONSITE_TECHNOLOGIES, "models/data/onsite_technologies.csv",
         "models.onsite.load_onsite"),
        (GAS_PRICE, "models/data/gas_price.csv", "models.onsite.load_gas_price"),
        (CALIBRATION_POINTS, "models/data/calibration_points.csv",
         "models.calibration.load_points"),
        (DC_BASELINE, "models/data/dc_baseline.csv", "models.calibration.load_baseline"),
        (MARKET_PARAMETERS, "models/data/market_parameters.csv",
         "models.parameters.load_parameters"),
    )
    for schema, file, loader in bundled:
        parts += ["", f"`{file}` — loader `{loader}`", "", schema.markdown()]
    parts += ["", "## Stress-test portfolio tables (`dcplan stress`, see docs/stress.md)"]
    for schema in (OPERATORS, CONTRACTS, CUSTOMERS):
        parts += ["", schema.markdown()]
    parts += [
        "",
        "**geometry** — at most one Polygon or MultiPolygon per region with a `region`",
        "attribute, in any CRS (reprojected to EPSG:4326); GeoJSON, GeoPackage or GeoParquet.",
        "Optional, also per region: polygons only place sites without a `region` and draw",
        "regions on maps. The bundled polygons go with the bundled regions only; a regions",
        "table of your own has no polygons unless the scenario names a geometry file.",
        "",
        HOURLY_LOAD,
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
