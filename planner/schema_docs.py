"""Render the input schema (tables and scenario keys) as Markdown.

The tables' documentation is generated from their one registry
(:class:`grids.tables.TableSchema`); ``docs/schema.md`` is this output, and a
test keeps it in step. Regenerate with ``python -m planner.schema_docs > docs/schema.md``.
"""

from __future__ import annotations

from typing import Any, get_args, get_origin

from pydantic import BaseModel

from grids.regions import PRICES, REGIONS
from grids.tables import MAX_MAGNITUDE
from models.chips import CHIPS
from models.demand import DEMAND
from models.levers import COOLING_WATER
from planner.scenario import ScenarioFile
from sites.fleet import FLEET
from sites.portfolio import CONTRACTS, CUSTOMERS, OPERATORS
from sites.sites import SITES


def _nested(ann: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside ``M``, ``M | None``, ``list[M]`` or ``list[M] | None``, and
    whether it is a list."""
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
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
    name = name.replace("typing.", "").replace("planner.scenario.", "")
    return name.replace(" | ", " or ")


def _scenario_rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        ann: Any = field.annotation
        key = f"{prefix}{name}"
        required = "yes" if field.is_required() else "no"
        default = "" if field.is_required() else repr(field.default)
        inner, is_list = _nested(ann)
        if inner is not None and ann is inner:
            rows.extend(_scenario_rows(ann, key + "."))
            continue
        if inner is not None:  # an optional section or a list of entries
            what = f"list of {inner.__name__}" if is_list else f"{inner.__name__} or None"
            rows.append(f"| `{key}` | {what} | {required} | {default} | "
                        f"{field.description or ''} |")
            rows.extend(_scenario_rows(inner, key + ("[]." if is_list else ".")))
            continue
        rows.append(f"| `{key}` | {_type_name(ann)} | {required} | {default} | "
                    f"{field.description or ''} |")
    return rows


def render() -> str:
    parts = [
        "# Input schema",
        "",
        "Generated from the schema registry by `python -m planner.schema_docs`; do not edit.",
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
        "`fleet`) are paths relative to the scenario file; an omitted table comes from the",
        "bundled default.",
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
    parts += ["", "## Stress-test portfolio tables (`dcplan stress`, see docs/stress.md)"]
    for schema in (OPERATORS, CONTRACTS, CUSTOMERS):
        parts += ["", schema.markdown()]
    parts += [
        "",
        "**geometry** — one Polygon or MultiPolygon per region with a `region` attribute, in",
        "any CRS (reprojected to EPSG:4326); GeoJSON, GeoPackage or GeoParquet.",
        "",
    ]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
