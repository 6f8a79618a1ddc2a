"""Docs generated from the schema registry stay in step; package data ships."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from planner.inputs.schema_docs import render

ROOT = Path(__file__).resolve().parents[1]


def test_schema_doc_is_current() -> None:
    assert (ROOT / "docs" / "schema.md").read_text(encoding="utf-8") == render(), (
        "docs/schema.md is stale: python -m planner.inputs.schema_docs > docs/schema.md")


def test_installed_distribution_carries_the_bundled_data() -> None:
    try:
        files = {str(f) for f in (metadata.files("dcplan") or [])}
    except metadata.PackageNotFoundError:
        pytest.fail("dcplan is not installed: pip install '.[test]'")
    for name in ("planner/data/us-base.yaml", "grids/data/regions.csv",
                 "grids/data/regions.geojson", "sites/data/sites.csv", "models/data/chips.csv",
                 "sites/data/portfolio/portfolio.yaml", "sites/data/portfolio/contracts.csv",
                 "planner/data/leaflet/leaflet.js",
                 "grids/data/hourly/region_load_2016_2024.parquet",
                 "grids/data/hourly/README.md"):
        assert any(f.endswith(name) for f in files) or _editable(files), name


def _editable(files: set[str]) -> bool:
    """An editable install lists a path hook instead of the files themselves."""
    return any("__editable__" in f or f.endswith(".pth") for f in files)
