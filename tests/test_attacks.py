"""Attacks on the CLI's loaders, YAML files and sweeps (issue 12, §3), each through the
``dcplan`` front door: bad input is one line on stderr with exit code 2 and nothing
written; a bug is one line ``internal error: … (please report)`` with exit code 3; no
traceback either way.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from planner.cli.commands import main
from tests.factory import edit_csv, replace_text


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("template") / "sc"
    assert main(["init", str(d)]) == 0
    return d


@pytest.fixture()
def scenario_dir(template: Path, tmp_path: Path) -> Path:
    import shutil

    d = tmp_path / "sc"
    shutil.copytree(template, d)
    return d


def _one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def _run_fails(capsys: pytest.CaptureFixture[str], scenario_dir: Path, tmp_path: Path,
               code: int = 2) -> str:
    """``dcplan run`` of the scenario: exit ``code``, one line, no output folder."""
    out = tmp_path / "out"
    capsys.readouterr()
    got = main(["run", str(scenario_dir / "scenario.yaml"), "-o", str(out)])
    err = capsys.readouterr().err
    assert got == code, err
    assert not out.exists()
    return _one_error_line(err)


# --------------------------------------------------------------------------- YAML


def _append(text: str) -> Callable[[Path], None]:
    def mutate(d: Path) -> None:
        with open(d / "scenario.yaml", "a", encoding="utf-8") as fh:
            fh.write(text)
    return mutate


def _deep_nesting(d: Path) -> None:
    _append("description: " + "[" * 500 + "]" * 500 + "\n")(d)


def _bool_for_number(d: Path) -> None:
    replace_text(d / "scenario.yaml", "discount_rate: 0.08", "discount_rate: true")


def _bool_in_a_nested_number(d: Path) -> None:
    replace_text(d / "scenario.yaml", "lead_years: 2", "lead_years: false")


def _symlink_loop_as_table(d: Path) -> None:
    os.symlink("loop.csv", d / "loop.csv")
    replace_text(d / "scenario.yaml", "sites: sites.csv", "sites: loop.csv")


def _alias_bomb(d: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = (d / "scenario.yaml").read_text(encoding="utf-8")
    text = text.replace("description: US AI", "description: &d US AI")
    (d / "scenario.yaml").write_text(text + "x_bomb:\n  " + "\n  ".join(lines) + "\n",
                                     encoding="utf-8")


YAML_CASES = [
    ("nested 500 levels", _deep_nesting,
     r"scenario\.yaml line {end}: lists and mappings nested more than 50 deep"),
    ("key given twice", _append("discount_rate: 0.05\n"),
     r"scenario\.yaml line {end}: key 'discount_rate' appears twice \(first on line {dr}\)"),
    ("bool for a number", _bool_for_number,
     r"scenario\.yaml line {dr}, key discount_rate: .*valid number.*got 'true'"),
    ("bool for a nested number", _bool_in_a_nested_number,
     r"key onsite\.lead_years: .*got 'false'"),
    ("symlink loop as a table path", _symlink_loop_as_table,
     r"scenario\.yaml line \d+, key sites: cannot follow the path 'loop\.csv': a symlink loop"),
    ("alias bomb", _alias_bomb,
     r"scenario\.yaml line \d+: the YAML stands for more than 1,000,000 values .*"
     r"DCPLAN_MAX_YAML_VALUES"),
]


@pytest.mark.parametrize("name,mutate,expected", YAML_CASES, ids=[c[0] for c in YAML_CASES])
def test_yaml_attacks_are_one_line(scenario_dir: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str], name: str,
                                   mutate: Callable[[Path], None], expected: str) -> None:
    # {end}: the line appended after the file; {dr}: the line of discount_rate
    lines = (scenario_dir / "scenario.yaml").read_text(encoding="utf-8").splitlines()
    dr = next(i for i, ln in enumerate(lines, 1) if ln.startswith("discount_rate:"))
    expected = expected.replace("{end}", str(len(lines) + 1)).replace("{dr}", str(dr))
    mutate(scenario_dir)
    t0 = time.perf_counter()
    line = _run_fails(capsys, scenario_dir, tmp_path)
    assert re.search(expected, line), line
    assert time.perf_counter() - t0 < 60  # the alias bomb took 95 s to a MemoryError


def test_yaml_value_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The alias limit is the user's to raise; a grid file with a few aliases is fine."""
    from grids.tables import InputError
    from grids.yamlfile import read_yaml_mapping

    path = tmp_path / "g.yaml"
    path.write_text("v: &v [1, 2, 3]\ngrid: {a: *v, b: *v}\n", encoding="utf-8")
    assert read_yaml_mapping(path, "a grid", "keys")["grid"] == {"a": [1, 2, 3],
                                                                 "b": [1, 2, 3]}
    monkeypatch.setenv("DCPLAN_MAX_YAML_VALUES", "5")
    with pytest.raises(InputError, match="more than 5 values"):
        read_yaml_mapping(path, "a grid", "keys")
    monkeypatch.setenv("DCPLAN_MAX_YAML_VALUES", "50")
    assert read_yaml_mapping(path, "a grid", "keys")["grid"]["b"] == [1, 2, 3]


# ------------------------------------------------------------------------- tables


def _rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def _to_parquet(d: Path, table: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    df = pd.read_csv(d / f"{table}.csv", dtype=str, keep_default_na=False)
    edit(df).to_parquet(d / f"{table}.parquet")
    replace_text(d / "scenario.yaml", f"{table}: {table}.csv", f"{table}: {table}.parquet")


def _nul_in_site_ids(d: Path) -> None:
    rows = _rows(d / "sites.csv")
    rows[1][0], rows[2][0] = "twin\x00a", "twin\x00b"  # netCDF cuts both to 'twin'
    _write_rows(d / "sites.csv", rows)


def _escape_in_a_region_id(d: Path) -> None:
    edit_csv(d / "regions.csv", 3, "name", "New\x1b[31mYork")


def _huge_price(d: Path) -> None:
    edit_csv(d / "regions.csv", 1, "energy_price_usd_per_mwh", "1e308")


def _quoted_newline(d: Path) -> None:
    rows = _rows(d / "sites.csv")
    rows[1][rows[0].index("notes")] = "two\nlines"
    rows[3][rows[0].index("max_mw")] = "-5"
    _write_rows(d / "sites.csv", rows)


def _duplicated_header(d: Path) -> None:
    rows = _rows(d / "sites.csv")
    for r in rows:
        r.insert(2, r[1])
    _write_rows(d / "sites.csv", rows)


def _parquet_lists(d: Path) -> None:
    _to_parquet(d, "sites", lambda df: df.assign(max_mw=[[1.0, 2.0]] * len(df)))


def _parquet_bools_for_numbers(d: Path) -> None:
    _to_parquet(d, "chips", lambda df: df.assign(life_years=[True] * len(df)))


TABLE_CASES = [
    ("NUL in site ids", _nul_in_site_ids,
     r"sites\.csv row 1 \(line 2\), column site: expected text without control characters"
     r".*U\+0000.*got 'twin\\x00a'"),
    ("escape in a name", _escape_in_a_region_id,
     r"regions\.csv row 3 \(line 4\), column name: .*control characters.*U\+001B"),
    ("price of 1e308 USD/MWh", _huge_price,
     r"regions\.csv row 1 \(line 2\), column energy_price_usd_per_mwh: .*at most 1e\+15 "
     r"in magnitude, got '1e308'"),
    ("quoted newline", _quoted_newline,
     r"sites\.csv row 3 \(line 5\), column max_mw: expected a number >= 0, got '-5'"),
    ("duplicated header", _duplicated_header,
     r"^error: sites\.csv, column region: column appears twice$"),
    ("Parquet column of lists", _parquet_lists,
     r"sites\.parquet row 1, column max_mw: expected one value per cell .*got a list"),
    ("Parquet bools for numbers", _parquet_bools_for_numbers,
     r"chips\.parquet row 1, column life_years: expected a whole number.*got True"),
]


@pytest.mark.parametrize("name,mutate,expected", TABLE_CASES, ids=[c[0] for c in TABLE_CASES])
def test_table_attacks_are_one_line(scenario_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str], name: str,
                                    mutate: Callable[[Path], None], expected: str) -> None:
    mutate(scenario_dir)
    line = _run_fails(capsys, scenario_dir, tmp_path)
    assert re.search(expected, line), line


def test_parquet_int64_with_na_in_optional_queue_year_is_read(
        scenario_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A valid Parquet file: ``Int64`` with ``<NA>`` where no MW are queued."""
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        queued = pd.to_numeric(df["queued_mw"]) > 0
        years = pd.array([int(y) if q else None for y, q in zip(df["queue_year"], queued)],
                         dtype="Int64")
        assert (~queued).any()
        return df.assign(queue_year=years)

    _to_parquet(scenario_dir, "sites", edit)
    assert main(["validate", str(scenario_dir / "scenario.yaml")]) == 0, \
        capsys.readouterr().err


def test_row_error_after_a_quoted_newline_names_the_physical_line(scenario_dir: Path) -> None:
    """Cross-checks made after reading (here: queued MW without a year) also count the
    lines a quoted value spans."""
    from grids.tables import InputError
    from planner.inputs.scenario import load_scenario

    rows = _rows(scenario_dir / "sites.csv")
    h = rows[0]
    rows[1][h.index("notes")] = "a\nb\nc"
    rows[2][h.index("queued_mw")], rows[2][h.index("queue_year")] = "100", ""
    _write_rows(scenario_dir / "sites.csv", rows)
    with pytest.raises(InputError) as info:
        load_scenario(scenario_dir / "scenario.yaml")
    assert str(info.value).startswith("sites.csv row 2 (line 5), column queue_year"), \
        str(info.value)


# --------------------------------------------------------------- stress and the guard


def test_huge_shock_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "st"
    assert main(["stress", "--shock", "power_price:+1e308%@2027", "-o", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "power_price: magnitude must be at most 100 (+10,000 %), got 1e+306" in line
    assert not out.exists()


def test_unexpected_exception_is_one_line_with_exit_3(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A bug is told apart from bad input (2) and from no optimal plan (1)."""
    import planner

    def broken(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("float division\nby zero")

    monkeypatch.setattr(planner, "load_scenario", broken)
    assert main(["validate"]) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert line == ("error: internal error: ZeroDivisionError: float division by zero "
                    "(please report)")


def test_unexpected_exception_in_a_real_process_exits_3(tmp_path: Path) -> None:
    """The console script: a RecursionError deep in a loader is one line and exit 3."""
    code = ("import sys, planner\n"
            "def deep(*a, **k):\n    return deep()\n"
            "planner.load_scenario = deep\n"
            "from planner.cli.commands import main\nsys.exit(main(['validate']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().startswith("error: internal error: RecursionError")
    assert proc.stderr.strip().count("\n") == 0
    assert "Traceback" not in proc.stderr + proc.stdout


# ------------------------------------------------------------------------- sweeps


def _grid(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _sweep_fails(capsys: pytest.CaptureFixture[str], argv: list[str], out: Path) -> str:
    capsys.readouterr()
    t0 = time.perf_counter()
    code = main(["sweep", *argv, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert not out.exists()
    assert time.perf_counter() - t0 < 60
    return _one_error_line(err)


def test_billion_scenario_grid_is_refused_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.sweep.prepare as prepare

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("the scenario was loaded")

    monkeypatch.setattr(prepare, "load_scenario", never)
    grid = _grid(tmp_path / "g.yaml", {"grid": {
        "discount_rate": {"start": 0.01, "stop": 0.1, "num": 1000},
        "utilization": {"start": 0.5, "stop": 0.9, "num": 1000},
        "facility_life_years": list(range(10, 1010))}})
    line = _sweep_fails(capsys, ["--grid", str(grid), "--workers", "0"], tmp_path / "o")
    assert "g.yaml: the sweep stands for 1,000,000,000 scenarios" in line
    assert "limit of 100,000" in line and "--max-scenarios N" in line


def test_billion_samples_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = _grid(tmp_path / "g.yaml", {"distributions": {
        "discount_rate": {"dist": "uniform", "low": 0.03, "high": 0.1}}})
    line = _sweep_fails(capsys, ["--grid", str(grid), "--samples", "1000000000",
                                 "--workers", "0"], tmp_path / "o")
    assert "1,000,000,000 scenarios (1,000,000,000 (--samples))" in line
    line = _sweep_fails(capsys, ["--grid", str(grid), "--samples", "20", "--max-scenarios",
                                 "10", "--workers", "0"], tmp_path / "o")
    assert "20 scenarios" in line and "limit of 10:" in line


def test_grid_alias_bomb_is_refused_quickly(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a: &a [0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    grid = tmp_path / "laughs.yaml"
    grid.write_text("\n".join(lines) + "\ngrid:\n  discount_rate: *i\n", encoding="utf-8")
    line = _sweep_fails(capsys, ["--grid", str(grid), "--workers", "0"], tmp_path / "o")
    assert re.search(r"laughs\.yaml line \d+: the YAML stands for more than 1,000,000", line)


@pytest.mark.parametrize("address,expected", [
    ("not a url", "expected PROTOCOL://HOST:PORT"),
    ("tcp://", "expected PROTOCOL://HOST:PORT"),
    ("tcp://host:port", "expected PROTOCOL://HOST:PORT"),
    ("gopher://h:1", "unknown protocol 'gopher'"),
])
def test_bad_scheduler_address_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           address: str, expected: str) -> None:
    grid = _grid(tmp_path / "g.yaml", {"grid": {"discount_rate": [0.05]}})
    line = _sweep_fails(capsys, ["--grid", str(grid), "--scheduler", address], tmp_path / "o")
    assert f"--scheduler {address!r}: {expected}" in line


def test_unreachable_scheduler_is_one_line(tmp_path: Path) -> None:
    from grids.tables import InputError
    from planner.sweep.cluster import connect

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match="cannot connect to a Dask scheduler"):
        connect(f"tcp://127.0.0.1:{port}")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"error": 3}', ""])
def test_corrupt_failure_record_is_one_line_before_any_solve(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        content: str) -> None:
    import planner.sweep.runner as runner
    from planner.outputs.outdir import claim_folder
    from planner.sweep import prepare_sweep
    from planner.sweep.outputs import SWEEP_FILES

    grid = _grid(tmp_path / "g.yaml", {"grid": {"years.end": 2027,
                                                "demand_multiplier": [1.0, 1.1]}})
    out = tmp_path / "o"
    prep = prepare_sweep(None, grid, out)
    claim_folder(out, "sweep", SWEEP_FILES)  # as the interrupted sweep left it: marked
    prep.parts.mkdir(parents=True)
    bad = prep.parts / f"{prep.plan.ids[1]}.failed.json"
    bad.write_text(content, encoding="utf-8")

    def never(*_a: object, **_k: object) -> None:
        raise AssertionError("a scenario was solved")

    monkeypatch.setattr(runner, "run_scenario", never)
    capsys.readouterr()
    assert main(["sweep", "--grid", str(grid), "-o", str(out), "--workers", "0"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {bad.name}: not a failure record dcplan wrote")
    assert "--retry-failed" in line
    assert bad.read_text(encoding="utf-8") == content  # left as it was


def test_local_cluster_refuses_other_processes_and_serves_no_http() -> None:
    """The attack: ``Client("tcp://127.0.0.1:PORT").run_on_scheduler(...)`` from any local
    process ran code inside dcplan, and Dask's HTTP server listened on :8787."""
    psutil = pytest.importorskip("psutil")
    from distributed import Client

    from planner.sweep.cluster import local_cluster

    cluster, client = local_cluster(1)
    try:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        assert client.submit(sum, [1, 2]).result() == 3  # our own client works
        port = address.rsplit(":", 1)[1]
        ran = []
        for scheme in ("tcp", "tls"):
            with pytest.raises(Exception):  # noqa: B017 (any refusal will do)
                intruder = Client(f"{scheme}://127.0.0.1:{port}", timeout="3s",
                                  set_as_default=False)
                intruder.run_on_scheduler(lambda: ran.append(1))
        assert not ran
        me = psutil.Process()
        served = []
        for proc in [me, *me.children(recursive=True)]:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status != psutil.CONN_LISTEN:
                    continue
                assert conn.laddr.ip == "127.0.0.1", conn
                with socket.create_connection(("127.0.0.1", conn.laddr.port), timeout=3) as s:
                    s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
                    try:
                        reply = s.recv(16)
                    except OSError:
                        reply = b""
                if reply.startswith(b"HTTP/"):
                    served.append((proc.pid, conn.laddr.port))
        assert not served
    finally:
        client.close()
        cluster.close()


def test_dashboard_needs_a_local_cluster(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    grid = _grid(tmp_path / "g.yaml", {"grid": {"discount_rate": [0.05]}})
    line = _sweep_fails(capsys, ["--grid", str(grid), "--workers", "0", "--dashboard"],
                        tmp_path / "o")
    assert "--dashboard is for the LocalCluster" in line


def test_corrupt_result_part_is_one_line(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """A truncated ``parts/<id>.nc`` (disk full, a copy cut short) is named, not a
    traceback; the other scenarios' parts are kept."""
    from planner.outputs.outdir import claim_folder
    from planner.sweep import prepare_sweep
    from planner.sweep.outputs import SWEEP_FILES

    grid = _grid(tmp_path / "g.yaml", {"grid": {"years.end": 2027,
                                                "demand_multiplier": [1.0, 1.1]}})
    out = tmp_path / "o"
    prep = prepare_sweep(None, grid, out)
    claim_folder(out, "sweep", SWEEP_FILES)  # as the interrupted sweep left it: marked
    prep.parts.mkdir(parents=True)
    bad = prep.parts / f"{prep.plan.ids[0]}.nc"
    bad.write_bytes(b"\x89HDF\r\n\x1a\n truncated")
    capsys.readouterr()
    assert main(["sweep", "--grid", str(grid), "-o", str(out), "--workers", "0"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line.startswith(f"error: {bad.name}: not a result part dcplan wrote")
    assert (prep.parts / f"{prep.plan.ids[1]}.nc").is_file()  # the solved one is kept


def test_sweep_on_the_tls_local_cluster_through_the_cli(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The front door: ``dcplan sweep -w 1`` solves on the TLS-only LocalCluster."""
    grid = _grid(tmp_path / "g.yaml", {"grid": {"years.end": 2027,
                                                "demand_multiplier": [1.0, 1.1]}})
    capsys.readouterr()
    assert main(["sweep", "--grid", str(grid), "-o", str(tmp_path / "o"), "-w", "1"]) == 0, \
        capsys.readouterr().err
    assert "2 of 2 scenarios solved" in capsys.readouterr().out
    assert len(list((tmp_path / "o" / "parts").glob("*.nc"))) == 2
