"""Random and adversarial inputs end in a clean InputError or a valid result.

Never a traceback: any exception other than :class:`grids.tables.InputError`
fails these tests.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grids.regions import REGIONS
from grids.tables import InputError, read_table
from models.chips import CHIPS
from planner.scenario import read_scenario_file
from sites.sites import SITES

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

cells = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["", " ", "nan", "NaN", "inf", "-inf", "1e999", "-1", "0", "true",
                     "FALSE", "None", "null", "'", '"', ",", "\x00", "1,5", "٣", "1e-400"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-10**20, 10**20).map(str),
)


@pytest.mark.parametrize("schema", [REGIONS, SITES, CHIPS], ids=lambda s: s.name)
@FUZZ
@given(data=st.data())
def test_random_tables_never_crash(tmp_path: Path, schema, data: st.DataObject) -> None:
    names = [c.name for c in schema.columns]
    header = data.draw(st.lists(st.sampled_from([*names, "source", "bogus", ""]),
                                min_size=0, max_size=len(names) + 2)
                       | st.just(names))
    rows = data.draw(st.lists(st.lists(cells, min_size=len(header), max_size=len(header)),
                              max_size=4))
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows)
    path = tmp_path / f"{schema.name}.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        df = read_table(path, schema)
    except InputError as exc:
        assert str(exc).startswith(f"{schema.name}.csv")
        assert "\n" not in str(exc)
        return
    assert list(df.columns[: len(names)]) == names


def test_binary_garbage_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError):
        read_table(path, SITES)
    pq = tmp_path / "sites.parquet"
    pq.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError):
        read_table(pq, SITES)


yaml_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 3000), st.floats(allow_nan=True),
              st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)


@FUZZ
@given(mutation=st.dictionaries(
    st.sampled_from(["name", "years", "discount_rate", "utilization", "facility_life_years",
                     "demand", "efficiency", "onsite", "sites", "bogus"]),
    yaml_values, max_size=3))
def test_random_scenario_documents_never_crash(tmp_path: Path, mutation: dict) -> None:
    from planner.scenario import default_scenario_path

    spec = yaml.safe_load(default_scenario_path().read_text(encoding="utf-8"))
    spec.update(mutation)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    try:
        read_scenario_file(path)
    except InputError as exc:
        assert str(exc).startswith("scenario.yaml") and "\n" not in str(exc)


@FUZZ
@given(text=st.text(max_size=200))
def test_arbitrary_yaml_text_never_crashes(tmp_path: Path, text: str) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(InputError):
        read_scenario_file(path)


@FUZZ
@given(doc=st.dictionaries(
    st.sampled_from(["name", "years", "operators", "contracts", "customers", "sites",
                     "shocks", "bogus", "description"]), yaml_values, max_size=4))
def test_random_portfolio_documents_never_crash(tmp_path: Path, doc: dict) -> None:
    from sites.portfolio import read_portfolio_file

    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    try:
        read_portfolio_file(path)
    except InputError as exc:
        assert str(exc).startswith("portfolio.yaml") and "\n" not in str(exc)


@FUZZ
@given(grid=st.dictionaries(
    st.sampled_from(["discount_rate", "efficiency.frontier_growth", "demand.growth",
                     "demand.preset", "regions.PJM.interconnect_lead_years", "nonsense.key",
                     "lead_time_multiplier", "years.end"]),
    yaml_values, max_size=3), section=st.sampled_from(["grid", "distributions", "bogus"]))
def test_random_sweep_grids_never_crash(tmp_path: Path, grid: dict, section: str) -> None:
    from planner.scenario import load_scenario
    from planner.sweep import make_plan, read_grid_file

    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({section: grid}), encoding="utf-8")
    try:
        plan = make_plan(read_grid_file(path), path, _base_scenario(load_scenario),
                         samples=2 if section == "distributions" else None)
    except InputError as exc:
        assert str(exc).startswith("grid.yaml") and "\n" not in str(exc)
        return
    assert plan is not None


_BASE: list = []


def _base_scenario(load):  # loading the default once keeps the fuzz test fast
    if not _BASE:
        _BASE.append(load())
    return _BASE[0]


@FUZZ
@given(text=st.one_of(
    st.text(max_size=300),
    st.sampled_from([
        '{"type": "FeatureCollection", "features": []}',
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"region": "PJM"}, "geometry": {"type": "Point", "coordinates": [0, 0]}}]}',
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"region": "PJM"}, "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], '
        '[1, 0], [0, 1], [0, 0]]]}}]}',
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
        '"geometry": null}]}',
        "not json at all",
    ])))
def test_random_geometry_files_never_crash(tmp_path: Path, text: str) -> None:
    from grids.regions import load_geometry, load_regions

    path = tmp_path / "regions.geojson"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(InputError) as info:
        load_geometry(path, load_regions())
    assert str(info.value).startswith("regions.geojson") and "\n" not in str(info.value)


@pytest.mark.parametrize(("name", "head"), [
    ("regions.gpkg", b"SQLite format 3\x00"), ("regions.gpkg", b""),
    ("regions.parquet", b"PAR1"), ("regions.geojson", b"\xff\xfe"), ("regions.shp", b""),
])
def test_binary_geometry_files_are_a_clean_error(tmp_path: Path, name: str, head: bytes) -> None:
    from grids.regions import load_geometry, load_regions

    path = tmp_path / name
    path.write_bytes(head + bytes(range(256)) * 8)
    with pytest.raises(InputError) as info:
        load_geometry(path, load_regions())
    message = str(info.value)
    assert message.startswith(f"{name}: cannot read region geometries") and "\n" not in message
