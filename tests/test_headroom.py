"""``dcplan headroom``: the Duke curtailment-enabled headroom, its inputs and its outputs."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grids.hourly import load_hourly
from grids.tables import InputError
from planner.cli.commands import main
from planner.inputs.headroom import COLUMNS, RegionCurve, headroom_table, region_curves
from planner.outputs.headroom_files import CSV_MARKER

# The synthetic record (see synthetic_load): base load, a daily 4-hour peak block E below the
# seasonal record, and one record hour per season in 2023 only.
BASE_SUMMER, BASE_WINTER = 1000.0, 800.0
PEAK_ABOVE_BASE, RECORD_ABOVE_PEAK = 500.0, 200.0
PEAK_HOURS = (17, 18, 19, 20)  # UTC
YEARS = (2023, 2024)


def synthetic_load(region: str = "ERCOT") -> pd.DataFrame:
    """Hourly load, 2023–2024, whose headroom is known in closed form.

    April–October: 1,000 MW, except 17:00–20:59 every day at 1,500 MW; November–March: 800 MW
    and 1,300 MW. One hour of 2023 in each season is the record, 200 MW above the peak
    block: 2023-07-15 18:00 (1,700 MW) and 2023-01-15 18:00 (1,500 MW). So the summer
    threshold (June–August maximum) is 1,700 MW, the winter one (December–February) 1,500 MW,
    and the margin x_h = T_h − L_h is 0 in the two record hours, E = 200 MW in every other
    peak-block hour and D + E = 700 MW otherwise — in both seasons, which only holds if each
    threshold is applied in its own months (one annual threshold would leave the winter peak
    blocks 400 MW below it).

    For E < ΔL ≤ D + E the curtailment in hour h is ΔL (record hours), ΔL − E (peak blocks)
    or 0, so a year's rate is (a_y + n_y·(1 − E/ΔL)) / N_y, with a_2023 = 2 record hours,
    n_2023 = 4·365 − 2 = 1,458 and n_2024 = 4·366 = 1,464 block hours, N = 8,760 and 8,784.
    Averaged: R(ΔL) = a + b·(1 − E/ΔL), a = (2/8,760)/2, b = (1,458/8,760 + 1,464/8,784)/2,
    hence the headroom at rate r is ΔL = E / (1 − (r − a)/b) (:func:`closed_form_mw`).
    Every peak block is then a 4-hour event: 1,462 curtailed hours and 365.5 events a year.
    Below a (r ≤ 0.0114 %) any added load is curtailed at least at a: the headroom is 0.
    """
    idx = pd.date_range(f"{YEARS[0]}-01-01", f"{YEARS[-1]}-12-31 23:00", freq="h")
    summer = np.isin(idx.month, range(4, 11))
    base = np.where(summer, BASE_SUMMER, BASE_WINTER)
    load = base + np.where(np.isin(idx.hour, PEAK_HOURS), PEAK_ABOVE_BASE, 0.0)
    s = pd.Series(load, index=idx)
    s[pd.Timestamp("2023-07-15 18:00")] += RECORD_ABOVE_PEAK
    s[pd.Timestamp("2023-01-15 18:00")] += RECORD_ABOVE_PEAK
    return pd.DataFrame({region: s}).rename_axis("utc_time")


A = (2 / 8760) / 2
B = (1458 / 8760 + 1464 / 8784) / 2


def closed_form_mw(rate: float) -> float:
    """Headroom (MW) of :func:`synthetic_load` at ``rate`` (a fraction), valid for r > A."""
    return RECORD_ABOVE_PEAK / (1 - (rate - A) / B)


def test_synthetic_headroom_is_the_closed_form() -> None:
    curve = RegionCurve.from_load("ERCOT", synthetic_load()["ERCOT"])
    assert curve.summer_threshold_mw == 1700.0 and curve.winter_threshold_mw == 1500.0
    assert curve.floor_rate == pytest.approx(A, abs=1e-15)
    for pct in (0.25, 0.5, 1.0, 5.0):
        expected = closed_form_mw(pct / 100)
        assert RECORD_ABOVE_PEAK < expected <= PEAK_ABOVE_BASE + RECORD_ABOVE_PEAK
        assert curve.headroom_mw(pct / 100) == pytest.approx(expected, abs=1e-6)
        ev = curve.events(expected)
        assert ev["curtailed_hours_per_year"] == pytest.approx((1460 + 1464) / 2)
        assert ev["mean_event_hours"] == 4 and ev["max_event_hours"] == 4
        assert ev["events_per_year"] == pytest.approx((365 + 366) / 2)
        mwh = (2 * expected + (1458 + 1464) * (expected - RECORD_ABOVE_PEAK)) / 2
        assert ev["curtailed_mwh_per_year"] == pytest.approx(mwh, rel=1e-12)
    assert curve.headroom_mw(0.0001) == 0.0  # 0.01 % is below the floor A = 0.0114 %


def test_rate_matches_the_definition_hour_by_hour() -> None:
    """The sorted-margin evaluation equals the method's formula applied to every hour."""
    load = load_hourly()["ISO-NE"]
    curve = RegionCurve.from_load("ISO-NE", load)
    t = np.where(np.isin(load.index.month, range(4, 11)), curve.summer_threshold_mw,
                 curve.winter_threshold_mw)
    years = load.index.year
    for added in (50.0, 1234.5, 4000.0, 20000.0):
        cut = np.minimum(added, np.maximum(0.0, load.to_numpy() + added - t))
        per_year = [cut[years == y].sum() / (added * (years == y).sum())
                    for y in np.unique(years)]
        assert curve.rate(added)[0] == pytest.approx(np.mean(per_year), rel=1e-12)
    d = np.linspace(0, 20000, 500)
    assert np.all(np.diff(curve.rate(d)) >= -1e-15)  # monotone: brentq's bracket is sound


def test_headroom_hits_each_rate_on_the_bundled_record() -> None:
    curves = region_curves(load_hourly())
    table = headroom_table(curves, [0.25, 1.0])
    assert list(table.columns) == list(COLUMNS)
    for _, row in table.iterrows():
        got = curves[row["region"]].rate(row["headroom_mw"])[0]
        assert got == pytest.approx(row["curtailment_pct"] / 100, rel=1e-9)


# -- through the command line --------------------------------------------------------------


@pytest.fixture()
def scenario_dir(tmp_path: Path) -> Path:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    return d


def with_hourly(d: Path, frame: pd.DataFrame, name: str = "load.csv") -> Path:
    """Write ``frame`` as the scenario's hourly_load file; return the scenario YAML."""
    path = d / name
    frame.reset_index().to_csv(path, index=False)
    yaml = d / "scenario.yaml"
    yaml.write_text(yaml.read_text() + f"hourly_load: {name}\n")
    return yaml


def read_out(path: Path) -> pd.DataFrame:
    assert path.read_text().startswith(CSV_MARKER)
    return pd.read_csv(path, comment="#")


def test_cli_on_a_scenario_folder_gives_the_closed_form(scenario_dir: Path,
                                                        tmp_path: Path) -> None:
    yaml = with_hourly(scenario_dir, synthetic_load())
    out = tmp_path / "res" / "h.csv"
    assert main(["headroom", str(yaml), "--rates", "0.01,0.5,5", "-o", str(out)]) == 0
    df = read_out(out).set_index("curtailment_pct")
    assert df.loc[0.5, "headroom_mw"] == pytest.approx(closed_form_mw(0.005), abs=1e-3)
    assert df.loc[5.0, "headroom_mw"] == pytest.approx(closed_form_mw(0.05), abs=1e-3)
    assert df.loc[0.01, "headroom_mw"] == 0.0
    assert df.loc[0.01, "curtailed_hours_per_year"] == 1.0  # the two record hours in 2 years
    assert (df.loc[[0.5, 5.0], "max_event_hours"] == 4).all()
    assert (df["first_year"] == 2023).all() and (df["last_year"] == 2024).all()
    assert out.with_suffix(".png").is_file()
    # --years narrows the record: 2024 alone has no record hour, so its thresholds are the
    # peak blocks (margin 0 in 1,464 of 8,784 hours): every rate below 16.7 % has no headroom.
    assert main(["headroom", str(yaml), "--years", "2024", "-o", str(out)]) == 0
    assert (read_out(out)["headroom_mw"] == 0).all()


def test_cli_end_to_end_on_the_bundled_record(tmp_path: Path) -> None:
    out = tmp_path / "headroom.csv"
    proc = subprocess.run([sys.executable, "-m", "planner", "headroom", "-o", str(out)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "curtailment-enabled headroom" in proc.stdout and "total" in proc.stdout
    df = read_out(out)
    assert set(COLUMNS) <= set(df.columns)
    assert len(df) == 11 * 4 and df["region"].nunique() == 11
    # The published totals over 22 balancing authorities (Norris et al. 2025): 76, 98, 126
    # and 215 GW. The bundled eleven regions land within 2 % of each (docs/headroom.md).
    totals = df.groupby("curtailment_pct")["headroom_mw"].sum() / 1e3
    for pct, published in {0.25: 76, 0.5: 98, 1.0: 126, 5.0: 215}.items():
        assert totals[pct] == pytest.approx(published, rel=0.02)
    by = df.pivot(index="region", columns="curtailment_pct", values="headroom_mw")
    assert (by.diff(axis=1).iloc[:, 1:] > 0).all().all()  # more curtailment, more headroom
    from PIL import Image

    with Image.open(out.with_suffix(".png")) as im:
        assert im.info.get("Software") == "dcplan headroom" and im.size[0] > 800


# -- bad input: one line, exit 2, nothing written ---------------------------------------------


def _rename_time(f: pd.DataFrame) -> pd.DataFrame:
    return f.rename_axis("time")


def _gap(f: pd.DataFrame) -> pd.DataFrame:
    return f.drop(pd.Timestamp("2023-03-01 05:00"))


def _text_value(f: pd.DataFrame) -> pd.DataFrame:
    f = f.astype(object)
    f.iloc[10, 0] = "n/a"
    return f


def _negative(f: pd.DataFrame) -> pd.DataFrame:
    f = f.copy()
    f.iloc[3, 0] = -5.0
    return f


def _unknown_region(f: pd.DataFrame) -> pd.DataFrame:
    return f.rename(columns={"ERCOT": "Texas"})


def _partial_year(f: pd.DataFrame) -> pd.DataFrame:
    return f.iloc[:-24]


BAD_FILES = [
    ("missing time column", _rename_time, [],
     r"load\.csv, column utc_time: required column is missing"),
    ("gap in the hours", _gap, [],
     r"load\.csv row 1422 \(line 1423\), column utc_time: expected 2023-03-01 05:00:00 "),
    ("text as a load", _text_value, [],
     r"load\.csv row 11 \(line 12\), column ERCOT: expected a load in MW >= 0, got 'n/a'"),
    ("negative load", _negative, [],
     r"load\.csv row 4 \(line 5\), column ERCOT: expected a load in MW >= 0, got '-5\.0'"),
    ("unknown region", _unknown_region, [],
     r"load\.csv, column Texas: unknown region \(expected region columns from: PJM"),
    ("partial year", _partial_year, [],
     r"load\.csv row 17520 \(line 17521\), column utc_time: expected whole calendar years "
     r"ending at 2024-12-31 23:00"),
    ("rate zero", None, ["--rates", "0,1"], r"--rates: expected curtailment limits in percent"),
    ("rate not a number", None, ["--rates", "half"], r"--rates: .* got 'half'"),
    ("rate 100", None, ["--rates", "100"], r"--rates: .* below 100"),
    ("years outside the record", None, ["--years", "2015-2023"],
     r"--years: 2015–2022 outside the hourly record load\.csv \(expected years within 2023–2024\)"),
    ("years malformed", None, ["--years", "2024-2023"], r"--years: expected years like"),
    ("not a csv name", None, ["-o", "{tmp}/h.txt"], r"h\.txt: -o: expected a file name ending"),
]


@pytest.mark.parametrize("name,mutate,args,expected", BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_input_is_one_clear_line(scenario_dir: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str], name: str,
                                     mutate: object, args: list[str], expected: str) -> None:
    frame = synthetic_load()
    if mutate is not None:
        frame = mutate(frame)  # type: ignore[operator]
    yaml = with_hourly(scenario_dir, frame)
    out = tmp_path / "out" / "h.csv"
    args = [a.replace("{tmp}", str(tmp_path / "out")) for a in args]
    if "-o" not in args:
        args += ["-o", str(out)]
    capsys.readouterr()
    code = main(["headroom", str(yaml), *args])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert re.search(expected, lines[0]), lines[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_missing_hourly_file_names_the_key(scenario_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    yaml = scenario_dir / "scenario.yaml"
    yaml.write_text(yaml.read_text() + "hourly_load: nowhere.csv\n")
    assert main(["headroom", str(yaml), "-o", str(tmp_path / "h.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"error: scenario\.yaml line \d+, key hourly_load: file not found: "
                        r"nowhere\.csv", err), err


def test_bad_input_in_a_real_process(scenario_dir: Path, tmp_path: Path) -> None:
    yaml = with_hourly(scenario_dir, _gap(synthetic_load()))
    proc = subprocess.run([sys.executable, "-m", "planner", "headroom", str(yaml), "-o",
                           str(tmp_path / "h.csv")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "column utc_time" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "h.csv").exists()


# -- outputs never replace a user's file --------------------------------------------------------


@pytest.mark.parametrize("which", ["csv", "png"])
def test_a_users_file_is_never_overwritten(scenario_dir: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str],
                                           which: str) -> None:
    yaml = with_hourly(scenario_dir, synthetic_load())
    out = tmp_path / "mine.csv"
    users = out if which == "csv" else out.with_suffix(".png")
    users.write_bytes(b"region,my numbers\nERCOT,42\n")
    other = out.with_suffix(".png") if which == "csv" else out
    capsys.readouterr()
    assert main(["headroom", str(yaml), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {users.name}: the output file exists and was not written by dcplan "
                   "headroom; refusing to replace it (choose another -o, or move it)")
    assert users.read_bytes() == b"region,my numbers\nERCOT,42\n"
    assert not other.exists()  # nothing written when either target is refused


def test_its_own_outputs_are_replaced(scenario_dir: Path, tmp_path: Path) -> None:
    yaml = with_hourly(scenario_dir, synthetic_load())
    out = tmp_path / "h.csv"
    assert main(["headroom", str(yaml), "--rates", "1", "-o", str(out)]) == 0
    assert main(["headroom", str(yaml), "--rates", "0.5,5", "-o", str(out)]) == 0
    assert sorted(read_out(out)["curtailment_pct"]) == [0.5, 5.0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("h")) == ["h.csv",
                                                                                   "h.png"]
    assert not list(tmp_path.glob(".h.tmp-*"))


def test_hourly_load_is_a_table_path_not_a_sweep_parameter() -> None:
    from planner.sweep.parameters import spec_parameters

    assert "hourly_load" not in spec_parameters()


# -- fuzzing the hourly loader: InputError or a valid table, never another exception ---------

_ONE_YEAR = synthetic_load().loc["2023"].assign(PJM=1.0).reset_index()
_ONE_YEAR["utc_time"] = _ONE_YEAR["utc_time"].dt.strftime("%Y-%m-%d %H:%M")
_CELLS = st.one_of(
    st.text(alphabet=string.printable, max_size=12),
    st.sampled_from(["", " ", "nan", "inf", "-1", "1e999", "2023-13-01 00:00", "2023-01-01",
                     "2023-01-01T00:00Z", "2023-01-01 00:30", "\x00", "٣", "utc_time", "PJM"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(row=st.integers(-1, len(_ONE_YEAR) - 1), col=st.integers(0, 2), cell=_CELLS,
       suffix=st.sampled_from([".csv", ".csv.gz", ".parquet"]))
def test_hourly_loader_fuzz(tmp_path: Path, row: int, col: int, cell: str,
                            suffix: str) -> None:
    frame = _ONE_YEAR.astype(object).copy()
    if row < 0:
        frame = frame.rename(columns={frame.columns[col]: cell})  # a mangled header
    else:
        frame.iat[row, col] = cell
    path = tmp_path / f"fuzz{suffix}"
    try:
        if suffix == ".parquet":
            frame.astype(str).to_parquet(path)
        else:
            frame.to_csv(path, index=False)
    except (ValueError, UnicodeEncodeError):
        return  # not writable in that format: nothing to read
    try:
        df = load_hourly(path, regions=["ERCOT", "PJM"])
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    assert len(df) == 8760 and np.isfinite(df.to_numpy()).all()


def test_random_bytes_are_one_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for suffix in (".csv", ".csv.gz", ".parquet"):
        path = tmp_path / f"noise{suffix}"
        path.write_bytes(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
        with pytest.raises(InputError) as info:
            load_hourly(path)
        assert "\n" not in str(info.value) and path.name in str(info.value)
