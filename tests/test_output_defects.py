"""Issue 12, section 2: defects a new user met in the outputs (4, 5, 6, 9, 10).

Each test failed before its fix.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

import planner
from models.chips import frontier_figure
from planner.cli.commands import main
from planner.inputs.cluster import group_labels
from planner.outputs.gap import gap_figure
from tests.factory import solve_inputs, tiny

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default scenario through the front door: ``dcplan run -o DIR``."""
    out = tmp_path_factory.mktemp("defects") / "us-base"
    proc = subprocess.run([sys.executable, "-m", "planner", "run", "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


# -- 4. no library warning from --cluster ------------------------------------------------------


def test_group_labels_with_fewer_distinct_sites_than_groups_warns_nothing() -> None:
    feats = np.array([[1.0, 2.0]] * 4 + [[5.0, 1.0]] * 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels = group_labels(feats, 3)
    assert sorted(set(labels.tolist())) == [0, 1]  # two groups, none empty
    assert len(set(labels[:4])) == 1 and len(set(labels[4:])) == 1


def test_cluster_run_shows_no_library_warning(tmp_path: Path) -> None:
    """``--cluster`` on us-base without its per-site market-data layers runs with no
    library warning; on the default itself (the layers name the bundled sites) it stops
    with one line naming the key, exit 2, nothing written."""
    from planner.inputs.scenario import default_scenario_path
    from tests.scenario_folders import without_market_layers

    plain = tmp_path / "plain.yaml"
    plain.write_text(without_market_layers(default_scenario_path().read_text(encoding="utf-8")),
                     encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "planner", "run", str(plain), "--cluster", "3",
                           "-o", str(tmp_path / "k3")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr and "warn" not in proc.stderr.lower(), proc.stderr
    proc = subprocess.run([sys.executable, "-m", "planner", "run", "--cluster", "3",
                           "-o", str(tmp_path / "default-k3")], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "were the sites clustered" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "default-k3").exists()


# -- 5. integer years, no negative zeros -------------------------------------------------------


def test_no_negative_zero_in_any_csv(default_run: Path) -> None:
    for csv in sorted(default_run.glob("*.csv")):
        text = csv.read_text(encoding="utf-8")
        assert not re.search(r"(^|,)-0(\.0*)?(,|$)", text, flags=re.M), csv.name


def test_years_are_integers_in_csvs_and_report(default_run: Path) -> None:
    for csv in sorted(default_run.glob("*.csv")):
        df = pd.read_csv(csv, dtype=str)  # the text as written
        for col in ("year", "commit_year"):
            if col in df.columns:
                assert df[col].dropna().str.fullmatch(r"\d{4}").all(), (csv.name, col)
    report = (default_run / "report.html").read_text(encoding="utf-8")
    cells = re.findall(r"<td[^>]*>(20\d\d(?:\.0)?)</td>", report)
    assert cells and not [c for c in cells if c.endswith(".0")]
    assert not re.search(r">-0<", report)


def test_results_nc_has_no_negative_zero(default_run: Path) -> None:
    import xarray as xr

    with xr.open_dataset(default_run / "results.nc") as ds:
        for name, var in ds.data_vars.items():
            if var.dtype.kind == "f":
                v = var.values
                assert not np.any((v == 0) & np.signbit(v)), name


# -- 6. charts readable at a glance -------------------------------------------------------------


def _texts_overlap(fig, texts) -> list[tuple[str, str]]:
    renderer = fig.canvas.get_renderer()
    from matplotlib.text import Text

    # the text itself (an annotation's own extent includes its leader line)
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in texts]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1:]
            if ba.overlaps(bb)]


def test_gap_chart_shows_needed_above_energized_from_zero() -> None:
    result = solve_inputs(tiny(years=[2026, 2027, 2028], demand_h100e=[1000, 2000, 4000],
                               sites={"s": {"existing_mw": 1.0}}))
    fig = gap_figure(result.gap())
    _, power = fig.axes
    assert power.get_ylim()[0] == 0
    lines = {ln.get_label(): ln for ln in power.get_lines()}
    needed = lines["needed for all demand (fleet chips)"]
    energized = lines["energized (served load)"]
    assert needed.get_zorder() > energized.get_zorder()  # drawn on top, dashed
    assert needed.get_linestyle() == "--"
    legend = [t.get_text() for t in power.get_legend().get_texts()]
    assert "demand not served (needed − energized)" not in legend  # nothing to hatch
    assert "new power the plan must find" in legend
    ticks = [t.get_text() for t in power.get_xticklabels() if t.get_text()]
    assert all(re.fullmatch(r"20\d\d", t) for t in ticks), ticks


def test_chips_chart_has_year_ticks_and_labels_apart() -> None:
    scenario = planner.load_scenario()
    fig = frontier_figure(scenario.chips, scenario.years, "chips")
    ax = fig.axes[0]
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert ticks and all(re.fullmatch(r"\d{4}", t) for t in ticks), ticks
    labels = [t for t in ax.texts if t.get_text()]
    assert len(labels) == int((~scenario.chips["synthetic"]).sum())
    assert not _texts_overlap(fig, labels)


# -- 9. a dual from a degenerate vertex is not a value --------------------------------------------


def _two_sites(queued_b: float = 0.0) -> planner.Result:
    """A has cheap grid and serves all demand; B has no hall (ceiling 0) and no load."""
    return solve_inputs(tiny(
        years=[2026], demand_h100e=[2000], discount_rate=0.05, facility_life_years=1,
        regions={"R": {"interconnect_capex_usd_per_mw": 1e5}},
        sites={"A": {}, "B": {"max_mw": 0.0, "queued_mw": queued_b, "queue_year": 2026}},
    ))


def test_grid_access_value_is_blank_where_the_site_cannot_use_grid() -> None:
    r = _two_sites()
    ds = r.to_xarray()
    value_a = float(ds["grid_access_value_usd_per_mw_year"].sel(site="A", year=2026))
    assert value_a == pytest.approx(1.05e5, rel=1e-9)
    assert np.isnan(float(ds["grid_access_value_usd_per_mw_year"].sel(site="B", year=2026)))
    assert float(ds["region_grid_access_value_usd_per_mw_year"].sel(region="R", year=2026)) \
        == pytest.approx(value_a)
    # the finite difference agrees that B's grid is worth nothing
    assert r.objective_usd - _two_sites(queued_b=10.0).objective_usd == pytest.approx(0, abs=1e-6)


def test_default_degenerate_grid_access_value_is_blank() -> None:
    """chesterfield_va (no hall, no load) showed ~27 M USD/MW-yr and set PJM's figure."""
    ds = planner.solve(planner.load_scenario()).to_xarray()
    site = ds["grid_access_value_usd_per_mw_year"].sel(site="chesterfield_va")
    assert float(ds["load_mw"].sel(site="chesterfield_va").sum()) == 0
    assert site.isnull().all()
    pjm = ds["region_grid_access_value_usd_per_mw_year"].sel(region="PJM", year=2030)
    assert not float(pjm) > 1e6


# -- 10. --version, flags without <bool> -------------------------------------------------------


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert re.fullmatch(r"dcplan \d+\.\d+\S*\n", capsys.readouterr().out)


@pytest.mark.parametrize("command", [[], ["run"], ["init"], ["chips"], ["sweep"], ["map"]])
def test_help_shows_no_bool_type(command: list[str]) -> None:
    proc = subprocess.run([sys.executable, "-m", "planner", *command, "--help"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "--help" in proc.stdout
    assert "<bool>" not in proc.stdout and "BOOLEAN" not in proc.stdout, proc.stdout
