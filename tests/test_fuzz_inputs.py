"""Random and adversarial inputs end in a clean InputError or a valid result.

Never a traceback: any exception other than :class:`grids.tables.InputError`
fails these tests.
"""

from __future__ import annotations

import csv
import string
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grids.regions import REGIONS
from grids.tables import InputError, read_table
from models.chips import CHIPS
from planner.inputs.scenario import read_scenario_file
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
    from planner.inputs.scenario import default_scenario_path

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
    from planner.inputs.scenario import load_scenario
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


# --------------------------------------------------------------------------
# Valid tables mutated cell by cell, through the loaders that cross-check them
# --------------------------------------------------------------------------
def _read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def _write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8", errors="surrogatepass") as f:
        csv.writer(f).writerows([header, *rows])


#: Names a loader looks up: each table's ids, plus near misses and strangers.
REFERENCES = ["PJM", "ERCOT", "ashburn_va", "abilene_tx", "h100", "gb200", "frontier-2035",
              "microsoft", "coreweave", "iren", "ellendale_nd", "childress_tx", "pjm",
              " PJM ", "PJM\u200b", "ATLANTIS", "h900", "nobody", "ашбурн", "2030", "2026",
              "2040", "2041", "1899", "2024.0", "1e3", "-0", "0.5"]
ref_cells = st.one_of(cells, st.sampled_from(REFERENCES))


@st.composite
def mutated_table(draw, header: list[str], rows: list[list[str]]):
    """A valid table with one to three mutations: a cell, a column, a row, the shape."""
    header, rows = list(header), [list(r) for r in rows]
    for op in draw(st.lists(st.sampled_from(
            ["cell", "cell", "cell", "cell", "drop_column", "extra_column", "rename_column",
             "duplicate_row", "drop_row", "no_rows", "ragged"]), min_size=1, max_size=3)):
        if op == "cell" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            c = draw(st.integers(0, max(len(rows[r]) - 1, 0)))
            rows[r][c:c + 1] = [draw(ref_cells)]
        elif op == "drop_column" and header:
            c = draw(st.integers(0, len(header) - 1))
            del header[c]
            for row in rows:
                del row[c:c + 1]  # a ragged row may be shorter
        elif op == "extra_column":
            header.append(draw(st.sampled_from(["bogus", "source", "notes", "", *header])))
            for row in rows:
                row.append(draw(ref_cells))
        elif op == "rename_column" and header:
            c = draw(st.integers(0, len(header) - 1))
            header[c] = draw(st.sampled_from([header[c].upper(), f" {header[c]} ",
                                              header[c][:-1], "x"]))
        elif op == "duplicate_row" and rows:
            rows.append(list(draw(st.sampled_from(rows))))
        elif op == "drop_row" and rows:
            del rows[draw(st.integers(0, len(rows) - 1))]
        elif op == "no_rows":
            rows = []
        elif op == "ragged" and rows:
            r = draw(st.integers(0, len(rows) - 1))
            rows[r] = rows[r] + [draw(ref_cells)] if draw(st.booleans()) else rows[r][:-1]
    return header, rows


def _assert_clean(exc: InputError, *files: str) -> None:
    """One line that starts with the name of one of ``files``."""
    message = str(exc)
    assert len(message.splitlines()) == 1, message
    assert message.startswith(files), message


SCENARIO_TABLES = {  # valid tables a scenario may name, beside the bundled ones
    "prices.csv": ("region,year,energy_price_usd_per_mwh,capacity_price_usd_per_mw_year\n"
                   "PJM,2026,90,120000\nPJM,2027,91.5,125000\nERCOT,2030,60,0\n"),
    "fleet.csv": ("site,chip,year_installed,it_mw\nashburn_va,h100,2024,500\n"
                  "abilene_tx,gb200,2025,200\nashburn_va,h100,2025,0\n"),
    "demand.csv": "year,demand_h100e\n" + "".join(
        f"{y},{1.2e7 * 1.3 ** (y - 2026):.6g}\n" for y in range(2024, 2042)),
}


def _scenario_dir(tmp_path: Path, extra: dict | None = None) -> Path:
    """us-base beside valid prices, fleet and demand tables; ``extra`` updates its keys."""
    from planner.inputs.scenario import default_scenario_path

    for name, text in SCENARIO_TABLES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    spec = yaml.safe_load(default_scenario_path().read_text(encoding="utf-8"))
    spec.update(extra or {})
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _check_loaded(sc) -> None:
    """What a loaded scenario promises: demand and fleet usable, levers resolved."""
    assert list(sc.demand_h100e.index) == sc.years
    assert np.isfinite(sc.demand_h100e.to_numpy(dtype=float)).all()
    assert (sc.demand_h100e.to_numpy(dtype=float) >= 0).all()
    if sc.fleet is not None:
        assert set(sc.fleet["site"]) <= set(sc.sites.index)
        assert set(sc.fleet["chip"]) <= set(sc.chips.index)
    sc.levers()


@pytest.mark.parametrize("table", sorted(SCENARIO_TABLES))
@FUZZ
@given(data=st.data())
def test_mutated_scenario_tables_never_crash(tmp_path: Path, table: str,
                                             data: st.DataObject) -> None:
    """prices, fleet and demand.path tables with bad cells, columns and rows, loaded and
    cross-checked by the full ``load_scenario``."""
    from planner.inputs.scenario import load_scenario

    path = _scenario_dir(tmp_path, {"prices": "prices.csv", "fleet": "fleet.csv"})
    if table == "demand.csv":
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec["demand"] = {"path": "demand.csv", "value_of_unserved_usd_per_h100e_year": 20586}
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    header, rows = data.draw(mutated_table(*_read_rows(tmp_path / table)))
    _write_rows(tmp_path / table, header, rows)
    try:
        sc = load_scenario(path)
    except InputError as exc:
        _assert_clean(exc, *SCENARIO_TABLES, "scenario.yaml")
        return
    _check_loaded(sc)


# --------------------------------------------------------------------------
# Lever and table keys of a scenario, through the full load_scenario
# --------------------------------------------------------------------------
def _names(*known: str) -> st.SearchStrategy:
    return st.one_of(st.sampled_from([*known, "ATLANTIS", "", " ", "pjm", "ашбурн"]),
                     st.text(max_size=6), st.integers(-3, 3))


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**13),
    st.sampled_from([0, -1, 1e300, -1e-300, "1e9", "abc", "", None, True, [], {}]))
years_any = st.one_of(st.sampled_from([2026, 2030, 2040]), st.integers(1800, 2400),
                      st.sampled_from(["2030", "x", 2030.5, True, None]))
per_year = st.one_of(numbers, st.dictionaries(years_any, numbers, max_size=3))
region_names = _names("PJM", "ERCOT", "CAISO", "ISO-NE")
site_names = _names("ashburn_va", "abilene_tx", "new_albany_oh")


def _section(required: dict, optional: dict) -> st.SearchStrategy:
    """A lever's mapping with fields drawn near-valid, sometimes a stray key, or garbage."""
    return st.one_of(
        st.fixed_dictionaries(required, optional={**optional, "bogus": yaml_values}),
        yaml_values)


table_files = st.one_of(
    st.sampled_from(["fleet.csv", "prices.csv", "demand.csv", "scenario.yaml", "missing.csv",
                     ".", "", "..", "fleet.CSV", "/dev/null", "prices.csv/x"]),
    st.sampled_from(["regions.csv", "sites.csv", "chips.csv", "regions.geojson"]).map(
        lambda name: str(_bundled(name))),
    yaml_values)


def _bundled(name: str) -> Path:
    from grids.regions import default_geometry_path, default_regions_path
    from models.chips import default_chips_path
    from sites.sites import default_sites_path

    return {"regions.csv": default_regions_path, "sites.csv": default_sites_path,
            "chips.csv": default_chips_path, "regions.geojson": default_geometry_path}[name]()


LEVERS = {
    "build_block_mw": numbers,
    "grid_block_mw": numbers,
    "mip_rel_gap": numbers,
    "allow_idle_chips": st.one_of(st.booleans(), numbers),
    "fleet": table_files,
    "budget": _section({}, {
        "total_usd_per_year": per_year,
        "by_region_usd_per_year": st.dictionaries(region_names, per_year, max_size=2),
        "by_operator_usd_per_year": st.dictionaries(_names("Meta", "AWS"), per_year,
                                                    max_size=2)}),
    "carbon": _section({}, {"price_usd_per_t": per_year, "cap_t_per_year": per_year}),
    "water": _section({}, {
        "cooling_m3_per_mwh": st.dictionaries(_names("air", "evaporative", "dry"), numbers,
                                              max_size=2),
        "default_cooling": _names("average", "air", "dry"),
        "site_limits_m3_per_year": st.dictionaries(site_names, numbers, max_size=2),
        "region_limits_m3_per_year": st.dictionaries(region_names, numbers, max_size=2)}),
    "moratoria": st.one_of(st.lists(_section({"region": region_names, "from_year": years_any},
                                             {}), max_size=3), yaml_values),
    "regional_demand": st.one_of(st.lists(_section(
        {"name": _names("east", "west"), "regions": st.one_of(st.lists(region_names, max_size=3),
                                                              region_names),
         "share": numbers},
        {"from_year": years_any, "to_year": years_any}), max_size=3), yaml_values),
    "forced_builds": st.one_of(st.lists(_section(
        {"site": site_names, "year": years_any, "build_mw": numbers},
        {"exact": st.one_of(st.booleans(), numbers)}), max_size=3), yaml_values),
    **{key: table_files for key in ("regions", "geometry", "prices", "sites", "chips")},
    "years": st.one_of(st.fixed_dictionaries({"start": years_any, "end": years_any}),
                       yaml_values),
    "demand": st.one_of(
        st.fixed_dictionaries({"path": table_files,
                               "value_of_unserved_usd_per_h100e_year": numbers}),
        st.fixed_dictionaries({"preset": _names("base", "jevons"),
                               "value_of_unserved_usd_per_h100e_year": numbers},
                              optional={"elasticity": numbers, "blocks": numbers,
                                        "reference_price_usd_per_h100e_year": numbers})),
}


@settings(FUZZ, max_examples=200)  # the widest input space of the file; still ~4 s
@given(data=st.data())
def test_random_lever_and_table_keys_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    """Lever sections and table keys, near-valid or garbage, through ``load_scenario``."""
    from planner.inputs.scenario import load_scenario

    keys = data.draw(st.lists(st.sampled_from(sorted(LEVERS)), min_size=1, max_size=4,
                              unique=True))
    path = _scenario_dir(tmp_path, {k: data.draw(LEVERS[k], label=k) for k in keys})
    try:
        sc = load_scenario(path)
    except InputError as exc:
        _assert_clean(exc, "scenario.yaml", *SCENARIO_TABLES, "regions.csv", "sites.csv",
                      "chips.csv", "regions.geojson")
        return
    _check_loaded(sc)


# --------------------------------------------------------------------------
# Portfolio tables, through the portfolio loader
# --------------------------------------------------------------------------
PORTFOLIO_TABLES = ("operators.csv", "contracts.csv", "customers.csv", "sites.csv", "debt.csv")


@pytest.mark.parametrize("table", PORTFOLIO_TABLES)
@FUZZ
@given(data=st.data())
def test_mutated_portfolio_tables_never_crash(tmp_path: Path, table: str,
                                              data: st.DataObject) -> None:
    """The bundled portfolio with one of its tables mutated, through ``load_portfolio``."""
    import shutil

    from sites.portfolio import default_portfolio_path, load_portfolio

    bundled = default_portfolio_path().parent
    for name in (*PORTFOLIO_TABLES, "portfolio.yaml"):
        shutil.copyfile(bundled / name, tmp_path / name)
    header, rows = data.draw(mutated_table(*_read_rows(bundled / table)))
    _write_rows(tmp_path / table, header, rows)
    try:
        p = load_portfolio(tmp_path / "portfolio.yaml", *_default_regions())
    except InputError as exc:
        _assert_clean(exc, *PORTFOLIO_TABLES, "portfolio.yaml")
        return
    assert np.isfinite(p.contracts["annual_usd_per_year"].to_numpy(dtype=float)).all()
    assert set(p.contracts["lessor"]) <= set(p.operators.index)


_REGIONS: list = []


def _default_regions():  # the bundled regions and polygons, loaded once
    if not _REGIONS:
        from grids.regions import load_geometry, load_regions

        regions = load_regions()
        _REGIONS.extend([regions, load_geometry(None, regions)])
    return _REGIONS


shock_kinds = st.sampled_from(["demand", "lease_rate", "power_price", "interconnect",
                               "obsolescence", "default", "bogus", "Demand", ""])
shocks = st.one_of(
    st.builds(lambda kind, body, year: f"{kind}:{body}@{year}", shock_kinds,
              st.one_of(st.sampled_from(["microsoft", "microsoft:0.6", "nobody", "iren:2",
                                         "-30%", "+50%", "-1", "1e999", "nan", "inf", "",
                                         "x%", "coreweave:nan", "1:2:3"]),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr)),
              st.sampled_from([2026, 2030, 2040, 2041, 1999, 9999, "20x6"])),
    st.fixed_dictionaries({"kind": shock_kinds, "start_year": years_any},
                          optional={"magnitude": numbers,
                                    "target": _names("microsoft", "iren", "coreweave"),
                                    "bogus": yaml_values}),
    yaml_values)

PORTFOLIO_KEYS = {
    "years": LEVERS["years"],
    "re_lease": _section({}, {"delay_years": numbers, "haircut": numbers,
                              "window_years": numbers}),
    "shocks": st.one_of(st.lists(shocks, max_size=3), yaml_values),
    **{key: st.one_of(st.sampled_from([*PORTFOLIO_TABLES, "portfolio.yaml", "missing.csv",
                                       ".", ""]), yaml_values)
       for key in ("operators", "contracts", "customers", "sites")},
    "sites_absent": st.none(),
}


@FUZZ
@given(data=st.data())
def test_random_portfolio_keys_never_crash(tmp_path: Path, data: st.DataObject) -> None:
    """Nested portfolio keys (years, re_lease, shocks, table names) through
    ``load_portfolio``, which also cross-checks shocks against the tables."""
    import shutil

    from sites.portfolio import default_portfolio_path, load_portfolio

    bundled = default_portfolio_path().parent
    for name in PORTFOLIO_TABLES:
        shutil.copyfile(bundled / name, tmp_path / name)
    spec = yaml.safe_load((bundled / "portfolio.yaml").read_text(encoding="utf-8"))
    for key in data.draw(st.lists(st.sampled_from(sorted(PORTFOLIO_KEYS)), min_size=1,
                                  max_size=3, unique=True)):
        if key == "sites_absent":
            spec.pop("sites", None)
        else:
            spec[key] = data.draw(PORTFOLIO_KEYS[key], label=key)
    path = tmp_path / "portfolio.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    try:
        p = load_portfolio(path, *_default_regions())
    except InputError as exc:
        _assert_clean(exc, *PORTFOLIO_TABLES, "portfolio.yaml")
        return
    for s in p.spec.shocks:
        assert p.years[0] <= s.start_year <= p.years[-1]


# Found by the fuzz tests above: NaN or infinite numbers and unbounded growth once ran into
# HiGHS ("did not find an optimal plan", exit 1) or an OverflowError in models/chips.py; every
# YAML schema now refuses non-finite numbers and bounds growth, naming the key.
NON_FINITE = {
    "frontier_growth_overflow": {"efficiency": {"frontier_growth": 1e300}},
    "frontier_growth_inf": {"efficiency": {"frontier_growth": float("inf")}},
    "base_h100e_inf": {"demand": {"base_h100e": float("inf"), "growth": [1.2],
                                  "value_of_unserved_usd_per_h100e_year": 20586}},
    "growth_overflow": {"demand": {"base_h100e": 1e300, "growth": [1e300],
                                   "value_of_unserved_usd_per_h100e_year": 20586}},
    "value_of_unserved_inf": {"demand": {"preset": "base",
                                         "value_of_unserved_usd_per_h100e_year": float("inf")}},
    "carbon_price_nan": {"carbon": {"price_usd_per_t": float("nan")}},
    "carbon_cap_nan": {"carbon": {"cap_t_per_year": {2030: float("nan")}}},
    "budget_nan": {"budget": {"total_usd_per_year": float("nan")}},
    "water_limit_nan": {"water": {"region_limits_m3_per_year": {"PJM": float("nan")}}},
    "cooling_nan": {"water": {"cooling_m3_per_mwh": {"air": float("nan")}}},
    "forced_build_inf": {"forced_builds": [{"site": "ashburn_va", "year": 2030,
                                            "build_mw": float("inf")}]},
    "build_block_inf": {"build_block_mw": float("inf")},
}


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
@pytest.mark.parametrize("extra", NON_FINITE.values(), ids=NON_FINITE.keys())
def test_non_finite_scenario_numbers_are_input_errors(tmp_path: Path, extra: dict) -> None:
    from planner.inputs.scenario import load_scenario

    with pytest.raises(InputError) as info:
        load_scenario(_scenario_dir(tmp_path, extra))
    _assert_clean(info.value, "scenario.yaml")


def test_attribute_only_geometry_file_is_a_clean_error(tmp_path: Path) -> None:
    """GDAL reads a CSV as a layer without geometries (found by the table-key fuzz)."""
    from grids.regions import load_geometry, load_regions

    path = tmp_path / "prices.csv"
    path.write_text(SCENARIO_TABLES["prices.csv"], encoding="utf-8")
    with pytest.raises(InputError, match=r"^prices\.csv, column geometry: geometry file has no "
                                         r"geometries"):
        load_geometry(path, load_regions())


def test_line_breaks_in_keys_and_values_stay_on_one_line(tmp_path: Path) -> None:
    """A YAML key or CSV cell holding a line break is escaped in the message (found by the
    lever fuzz: ``moratoria: [{"\\n": null}]``)."""
    from planner.inputs.scenario import load_scenario

    path = _scenario_dir(tmp_path, {"moratoria": [{"region": "PJM", "from_year": 2030,
                                                   "\n": None}]})
    with pytest.raises(InputError) as info:
        read_scenario_file(path)
    _assert_clean(info.value, "scenario.yaml")
    assert "key moratoria.0.\\n: unknown key" in str(info.value)

    path = _scenario_dir(tmp_path, {"fleet": "fleet.csv"})
    (tmp_path / "fleet.csv").write_text('site,chip,year_installed,it_mw\n"ash\nburn",h100,2024,'
                                        '5\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    _assert_clean(info.value, "fleet.csv")
    # a line break is a control character: refused in any id, shown escaped
    assert "column site: expected text without control characters" in str(info.value)
    assert "got 'ash\\nburn'" in str(info.value)
