"""Render the input schema (tables and scenario keys) as Markdown.

The tables' documentation is generated from their one registry
(:class:`grids.tables.TableSchema`); ``docs/schema.md`` is this output, and a
test keeps it in step. Regenerate with ``python -m planner.schema_docs > docs/schema.md``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from grids.regions import PRICES, REGIONS
from models.chips import CHIPS
from models.demand import DEMAND
from planner.scenario import ScenarioFile
from sites.portfolio import CONTRACTS, CUSTOMERS, OPERATORS
from sites.sites import SITES


def _scenario_rows(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = []
    for name, field in model.model_fields.items():
        ann: Any = field.annotation
        key = f"{prefix}{name}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            rows.extend(_scenario_rows(ann, key + "."))
            continue
        required = "yes" if field.is_required() else "no"
        default = "" if field.is_required() else repr(field.default)
        type_name = str(ann) if not isinstance(ann, type) else ann.__name__
        type_name = type_name.replace("typing.", "").replace(" | ", " or ")
        rows.append(f"| `{key}` | {type_name} | {required} | {default} | "
                    f"{field.description or ''} |")
    return rows


def render() -> str:
    parts = [
        "# Input schema",
        "",
        "Generated from the schema registry by `python -m planner.schema_docs`; do not edit.",
        "Every table may also carry `source` and `notes` columns (kept, not used by the model).",
        "Tables are CSV or Parquet. Unknown columns and unknown scenario keys are errors.",
        "",
        "## Scenario YAML",
        "",
        "| key | type | required | default | description |",
        "| --- | --- | --- | --- | --- |",
        *_scenario_rows(ScenarioFile),
        "",
        "Table keys (`regions`, `geometry`, `prices`, `sites`, `chips`, `demand.path`) are paths",
        "relative to the scenario file; an omitted table comes from the bundled default.",
        "",
        "## Tables",
    ]
    for schema in (REGIONS, PRICES, SITES, CHIPS, DEMAND):
        parts += ["", schema.markdown()]
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
