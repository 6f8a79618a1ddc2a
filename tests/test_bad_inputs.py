"""Bad input → exit 2, one line naming file/row/column, no traceback, no output."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from planner.cli.commands import main
from tests.factory import edit_csv, replace_text


@pytest.fixture()
def scenario_dir(tmp_path: Path) -> Path:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    return d


def _negative_mw(d: Path) -> None:
    edit_csv(d / "sites.csv", 4, "max_mw", "-5")


def _unknown_region(d: Path) -> None:
    edit_csv(d / "sites.csv", 2, "region", "ATLANTIS")


def _outside_every_region(d: Path) -> None:
    edit_csv(d / "sites.csv", 3, "region", "")
    edit_csv(d / "sites.csv", 3, "lon", "-40.0")  # mid-Atlantic
    edit_csv(d / "sites.csv", 3, "lat", "30.0")


def _named_region_far_from_point(d: Path) -> None:
    edit_csv(d / "sites.csv", 3, "lon", "-40.0")  # region kept, point in the Atlantic
    edit_csv(d / "sites.csv", 3, "lat", "30.0")


def _point_in_another_region(d: Path) -> None:
    edit_csv(d / "sites.csv", 2, "lon", "-122.3")  # Seattle, far from the site's region
    edit_csv(d / "sites.csv", 2, "lat", "47.6")


def _chip_years_reversed(d: Path) -> None:
    edit_csv(d / "chips.csv", 2, "last_year", "2019")


def _yaml_key_typo(d: Path) -> None:
    replace_text(d / "scenario.yaml", "discount_rate:", "discount_rat:")


def _missing_table_file(d: Path) -> None:
    replace_text(d / "scenario.yaml", "sites: sites.csv", "sites: nope.csv")


def _not_a_number(d: Path) -> None:
    edit_csv(d / "sites.csv", 5, "pue", "abc")


def _missing_column(d: Path) -> None:
    text = (d / "regions.csv").read_text(encoding="utf-8")
    (d / "regions.csv").write_text(text.replace("carbon_t_per_mwh", "carbon"), encoding="utf-8")


def _duplicate_site(d: Path) -> None:
    edit_csv(d / "sites.csv", 6, "site", "ashburn_va")


def _invalid_yaml(d: Path) -> None:
    replace_text(d / "scenario.yaml", "utilization: 0.8", "utilization: [0.8")


def _years_reversed(d: Path) -> None:
    replace_text(d / "scenario.yaml", "end: 2040", "end: 2020")


def _existing_above_max(d: Path) -> None:
    edit_csv(d / "sites.csv", 1, "existing_mw", "99999999")


def _queue_without_year(d: Path) -> None:
    edit_csv(d / "sites.csv", 1, "queue_year", "")


def _pue_below_one(d: Path) -> None:
    edit_csv(d / "sites.csv", 7, "pue", "0.9")


def _bad_bool(d: Path) -> None:
    edit_csv(d / "sites.csv", 8, "onsite_allowed", "maybe")


def _wrong_type_in_yaml(d: Path) -> None:
    replace_text(d / "scenario.yaml", "discount_rate: 0.08", "discount_rate: eight")


def _invalid_polygon(d: Path) -> None:
    gj = json.loads((d / "regions.geojson").read_text(encoding="utf-8"))
    bowtie = [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]
    gj["features"][3]["geometry"] = {"type": "Polygon", "coordinates": bowtie}
    (d / "regions.geojson").write_text(json.dumps(gj), encoding="utf-8")


def _elastic_without_reference(d: Path) -> None:
    replace_text(d / "scenario.yaml", "elasticity: null", "elasticity: 1.3")


def _unknown_preset(d: Path) -> None:
    text = (d / "scenario.yaml").read_text(encoding="utf-8")
    start, end = text.index("  base_h100e:"), text.index("  value_of_unserved")
    (d / "scenario.yaml").write_text(text[:start] + "  preset: boom\n" + text[end:],
                                     encoding="utf-8")


def _unknown_column(d: Path) -> None:
    text = (d / "chips.csv").read_text(encoding="utf-8")
    (d / "chips.csv").write_text(text.replace("life_years", "lifetime_years", 1),
                                 encoding="utf-8")


CASES: list[tuple[str, Callable[[Path], None], str]] = [
    ("negative MW", _negative_mw, r"sites\.csv row 4 \(line 5\), column max_mw: expected a "
     r"number >= 0, got '-5'"),
    ("unknown region", _unknown_region, r"sites\.csv row 2 \(line 3\), column region: "
     r"unknown region 'ATLANTIS'"),
    ("site outside every polygon", _outside_every_region,
     r"sites\.csv row 3 \(line 4\), column lon: site '\w+' at lon -40, lat 30 lies outside"),
    ("named region far from the point", _named_region_far_from_point,
     r"sites\.csv row 3 \(line 4\), column lon: site '\w+' at lon -40, lat 30 is more than "
     r"0\.25° outside its region [\w-]+ \(it lies outside every region polygon\)"),
    ("point in another region", _point_in_another_region,
     r"sites\.csv row 2 \(line 3\), column lon: site '\w+' at lon -122\.3, lat 47\.6 is more "
     r"than 0\.25° outside its region [\w-]+ \(it lies in Northwest\): fix lon/lat or region"),
    ("chip last < first", _chip_years_reversed,
     r"chips\.csv row 2 \(line 3\), column last_year: expected last_year >= first_year"),
    ("YAML key typo", _yaml_key_typo,
     r"scenario\.yaml line \d+, key discount_rat: unknown key .*did you mean .discount_rate."),
    ("missing file", _missing_table_file,
     r"scenario\.yaml line \d+, key sites: file not found: nope\.csv"),
    ("not a number", _not_a_number,
     r"sites\.csv row 5 \(line 6\), column pue: expected a number >= 1 <= 3, got 'abc'"),
    ("missing column", _missing_column,
     r"regions\.csv, column carbon: unknown column|regions\.csv, column carbon_t_per_mwh: "
     r"required column is missing"),
    ("duplicate id", _duplicate_site,
     r"sites\.csv row 6 \(line 7\), column site: duplicate site 'ashburn_va'"),
    ("invalid YAML", _invalid_yaml, r"scenario\.yaml line \d+: invalid YAML"),
    ("years reversed", _years_reversed,
     r"scenario\.yaml line \d+, key years: end \(2020\) must be >= start \(2026\)"),
    ("existing above max", _existing_above_max,
     r"sites\.csv row 1 \(line 2\), column existing_mw: expected existing_mw <= max_mw"),
    ("queue without year", _queue_without_year,
     r"sites\.csv row 1 \(line 2\), column queue_year: expected a year because queued_mw > 0"),
    ("PUE below 1", _pue_below_one, r"sites\.csv row 7 \(line 8\), column pue: expected a "
     r"number >= 1"),
    ("bad boolean", _bad_bool,
     r"sites\.csv row 8 \(line 9\), column onsite_allowed: expected true or false, got 'maybe'"),
    ("wrong type in YAML", _wrong_type_in_yaml,
     r"scenario\.yaml line \d+, key discount_rate: .*got 'eight'"),
    ("invalid polygon", _invalid_polygon,
     r"regions\.geojson row 4, column geometry: region '[\w-]+' has an invalid polygon"),
    ("unknown column", _unknown_column, r"chips\.csv, column lifetime_years: unknown column"),
    ("elastic without reference price", _elastic_without_reference,
     r"scenario\.yaml line \d+, key demand: elasticity needs reference_price_usd_per_h100e_year"),
    ("unknown preset", _unknown_preset,
     r"scenario\.yaml line \d+, key demand: unknown preset 'boom' \(known: base, jevons"),
]


@pytest.mark.parametrize("name,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_clear_line(
    scenario_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    name: str, mutate: Callable[[Path], None], expected: str,
) -> None:
    mutate(scenario_dir)
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["run", str(scenario_dir / "scenario.yaml"), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert re.search(expected, lines[0]), lines[0]
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_missing_scenario_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(tmp_path / "none.yaml")])
    err = capsys.readouterr().err
    assert code == 2
    assert "none.yaml: file not found" in err


def test_bad_input_in_a_real_process(scenario_dir: Path, tmp_path: Path) -> None:
    """The console script itself: exit 2, one stderr line, no traceback."""
    _negative_mw(scenario_dir)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "planner", "run", str(scenario_dir / "scenario.yaml"),
         "-o", str(out)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "column max_mw" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not out.exists()


def test_parquet_tables_are_read_and_checked(scenario_dir: Path, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    df = pd.read_csv(scenario_dir / "chips.csv")
    df.loc[1, "it_kw_per_unit"] = -1.0
    df.to_parquet(scenario_dir / "chips.parquet")
    replace_text(scenario_dir / "scenario.yaml", "chips: chips.csv", "chips: chips.parquet")
    assert main(["validate", str(scenario_dir / "scenario.yaml")]) == 2
    err = capsys.readouterr().err
    assert "chips.parquet row 2, column it_kw_per_unit: expected a number > 0, got -1.0" in err
