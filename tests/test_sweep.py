"""Sweeps on Dask and the persistent re-solve (planner.sweep, planner.optimize.persistent).

One LocalCluster (two worker processes) is shared by the module; scenarios are the bundled
us-base cut to a few years (``years.end`` in the grid) so each solve takes a fraction of a
second.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

import planner
from planner.cli.app import app
from planner.cli.commands import main
from planner.cli.sweep import register
from planner.optimize.persistent import PersistentSolver
from planner.sweep import (
    apply_params,
    execute,
    make_plan,
    prepare_sweep,
    read_grid_file,
    run_sweep,
    tornado_table,
    write_outputs,
)

register(app)  # until planner.cli.commands registers the command itself (idempotent)

GRID = {
    "grid": {
        "years.end": 2029,
        "demand_multiplier": [0.9, 1.1],
        "onsite.capex_usd_per_mw": ["2.0e6", 3.0e+6],  # YAML 1.1 reads 2.0e6 as text
        "lead_time_multiplier": [1.0, 1.5],
    }
}


def write_yaml(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def base() -> planner.Scenario:
    return planner.load_scenario()


@pytest.fixture(scope="module")
def short(base: planner.Scenario) -> planner.Scenario:
    return apply_params(base, {"years.end": 2030})


@pytest.fixture(scope="module")
def swept(client: object, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    d = tmp_path_factory.mktemp("sweep")
    grid = write_yaml(d / "grid.yaml", GRID)
    out = run_sweep(None, grid, d / "out", client=client)
    return grid, out


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1.0)


# ---------------------------------------------------------------------------------------
# a sweep on two workers
# ---------------------------------------------------------------------------------------


def test_sweep_on_two_workers_equals_solving_each_alone(
        swept: tuple[Path, object], base: planner.Scenario) -> None:
    _grid, out = swept
    ds = out.dataset
    assert out.total == 8 and out.computed == 8 and not len(out.failures)
    assert list(ds["status"].values) == ["ok"] * 8
    assert ds["hot_start"].sum() >= 1  # some worker updated its model in place
    plan = json.loads(ds.attrs["parameters"])
    assert set(plan) == set(GRID["grid"])
    for sid in ds.scenario.values:
        row = ds.sel(scenario=sid)
        params = {k: row[k].item() for k in plan}
        params["years.end"] = int(params["years.end"])
        alone = planner.solve(apply_params(base, params))  # Pyomo route, cold
        assert _rel(float(row["objective_usd"]), alone.objective_usd) < 1e-6, params
        full = alone.to_xarray()
        np.testing.assert_allclose(row["demand_h100e"].values, full["demand_h100e"].values,
                                   rtol=1e-9)
        np.testing.assert_allclose(row["unserved_h100e"].values, full["unserved_h100e"].values,
                                   rtol=1e-6, atol=1e-3)
        np.testing.assert_allclose(row["cost_usd"].sum("year").values,
                                   alone.cost_breakdown().sum(axis=1).values, rtol=1e-6,
                                   atol=1e3)
        assert float(row["cost_usd_per_year"].sum()) == pytest.approx(alone.objective_usd,
                                                                      rel=1e-6)


def test_sweep_dataset_is_labelled(swept: tuple[Path, object]) -> None:
    _grid, out = swept
    with xr.open_dataset(out.out_dir / "sweep.nc") as ds:
        assert ds.sizes["scenario"] == 8 and list(ds.year.values) == [2026, 2027, 2028, 2029]
        assert ds["region_facility_mw"].dims == ("scenario", "region", "year")
        for name in [*ds.data_vars, "demand_multiplier", "onsite.capex_usd_per_mw",
                     "lead_time_multiplier", "years.end"]:
            assert ds[name].attrs.get("units"), name
        assert sorted(set(ds["onsite.capex_usd_per_mw"].values.tolist())) == [2e6, 3e6]
        for name in ("gap_mw", "power_needed_mw", "compute_price_usd_per_h100e_year",
                     "energy_twh", "load_mw", "region_load_mw", "cost_usd"):
            assert name in ds
    for name in ("scenarios.png", "tornado.png"):  # a plain grid: one line per scenario
        assert (out.out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (out.out_dir / "fan.png").exists()  # percentiles of a grid mean nothing
    table = tornado_table(out.dataset, prepare_sweep(None, _grid, out.out_dir).plan)
    assert list(table["swing_usd"]) == sorted(table["swing_usd"], reverse=True)
    assert table.iloc[0]["parameter"] == "demand_multiplier"  # ±10 % demand moves it most
    assert not list(out.out_dir.glob(".*tmp*")) and not list((out.out_dir / "parts").glob(".*"))


def test_sweep_charts_and_summary_show_the_plan_cost_apart_from_the_penalty(
        swept: tuple[Path, object]) -> None:
    """Issue 14: no sweep headline mixes the value of unserved compute into a cost."""
    _grid, out = swept
    ds = out.dataset
    np.testing.assert_allclose(ds["plan_cost_usd"] + ds["unserved_value_usd"],
                               ds["objective_usd"], rtol=1e-9)
    np.testing.assert_allclose(ds["plan_cost_usd_per_year"].sum("year"), ds["plan_cost_usd"],
                               rtol=1e-9)
    table = tornado_table(ds, prepare_sweep(None, _grid, out.out_dir).plan)
    levels = ds["plan_cost_usd"].groupby(ds["demand_multiplier"]).mean()
    row = table.set_index("parameter").loc["demand_multiplier"]
    assert row["swing_usd"] == pytest.approx(float(levels.max() - levels.min()), rel=1e-9)
    summary = json.loads((out.out_dir / "summary.json").read_text())
    assert summary["plan_cost_usd_percentiles"]["50"] == pytest.approx(
        float(np.percentile(ds["plan_cost_usd"].values, 50)))


def test_resume_computes_nothing_new(swept: tuple[Path, object], client: object) -> None:
    grid, out = swept
    first = xr.load_dataset(out.out_dir / "sweep.nc")
    again = run_sweep(None, grid, out.out_dir, client=client)
    assert (again.computed, again.skipped) == (0, 8)
    xr.testing.assert_identical(xr.load_dataset(out.out_dir / "sweep.nc"), first)
    # without a client nothing is started either: no work, no cluster
    prep = prepare_sweep(None, grid, out.out_dir)
    assert execute(prep, workers=None)["computed"] == 0
    # a lost part is solved again, and only that one
    part = next((out.out_dir / "parts").glob("*.nc"))
    part.unlink()
    counts = execute(prep, workers=0)
    assert counts["computed"] == 1
    write_outputs(prep, counts)
    xr.testing.assert_allclose(xr.load_dataset(out.out_dir / "sweep.nc")[["objective_usd"]],
                               first[["objective_usd"]], rtol=1e-9)


def test_failing_scenario_is_reported_and_the_rest_kept(
        client: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = write_yaml(tmp_path / "bad-values.yaml", {"grid": {
        "years.end": 2028, "discount_rate": [0.08, 1.5],
        "regions.PJM.interconnect_lead_years": [7, 2.5]}})
    out = tmp_path / "out"
    code = main(["sweep", "--grid", str(grid), "-o", str(out), "--scheduler",
                 client.scheduler.address])  # type: ignore[attr-defined]
    assert code == 1
    printed = capsys.readouterr().out
    assert "3 scenario(s) failed" in printed
    ds = xr.load_dataset(out / "sweep.nc")
    ok = ds["status"].values == "ok"
    assert ok.sum() == 1 and np.isfinite(ds["objective_usd"].values[ok]).all()
    assert np.isnan(ds["objective_usd"].values[~ok]).all()
    errors = " ".join(ds["error"].values[~ok])
    assert "discount_rate" in errors and "whole number" in errors
    fails = (out / "failures.csv").read_text()
    assert fails.count("\n") == 4 and "InputError" in fails
    # failures count as finished; --retry-failed tries them again (and they fail again)
    assert main(["sweep", "--grid", str(grid), "-o", str(out), "--workers", "0"]) == 1
    assert "0 now, 4 before" in capsys.readouterr().out.replace("\n", " ")
    assert main(["sweep", "--grid", str(grid), "-o", str(out), "--workers", "0",
                 "--retry-failed"]) == 1
    assert "3 now, 1 before" in capsys.readouterr().out.replace("\n", " ")


# ---------------------------------------------------------------------------------------
# the persistent re-solve
# ---------------------------------------------------------------------------------------


def _cold(sc: planner.Scenario) -> float:
    return planner.solve(sc).lp.objective


def test_persistent_re_solve_equals_a_fresh_build(short: planner.Scenario) -> None:
    solver = PersistentSolver()
    steps = [
        ("base", {}, "build"),
        ("row bounds", {"demand_multiplier": 1.1}, "update"),
        ("costs", {"energy_price_multiplier": 1.2, "price_escalation_shift_per_year": 0.01,
                   "onsite.capex_usd_per_mw": 2.0e6}, "update"),
        ("coefficients", {"efficiency.frontier_growth": 1.3}, "update"),
        ("column bounds", {"demand.elasticity": 1.3, "demand.blocks": 4,
                           "demand.reference_price_usd_per_h100e_year": 8000.0}, "build"),
        ("elastic, costs", {"demand.elasticity": 1.3, "demand.blocks": 4,
                            "demand.reference_price_usd_per_h100e_year": 9000.0}, "update"),
        ("new pattern", {"lead_time_multiplier": 0.5}, "build"),
        ("back to the elastic pattern (kept loaded)",
         {"demand.elasticity": 1.3, "demand.blocks": 4, "discount_rate": 0.06,
          "demand.reference_price_usd_per_h100e_year": 8000.0}, "update"),
    ]
    for label, params, mode in steps:
        sc = apply_params(short, params)
        result = solver.solve(sc)
        assert solver.last is not None and solver.last.mode == mode, label
        cold = _cold(sc)
        assert _rel(result.lp.objective, cold) < 1e-6, label
        assert result.cost_breakdown().to_numpy().sum() == pytest.approx(result.objective_usd,
                                                                          rel=1e-6)
    assert solver.counts == {"build": 3, "update": 5}
    assert len(solver._models) == 2  # max_models


def test_persistent_rebuilds_when_too_many_coefficients_change(short: planner.Scenario) -> None:
    solver = PersistentSolver(max_coeff_changes=10)
    solver.solve(short)
    r = solver.solve(apply_params(short, {"efficiency.frontier_growth": 1.3}))
    assert (solver.last.mode, solver.last.reason) == ("build", "coefficients")
    assert _rel(r.lp.objective, _cold(apply_params(short, {"efficiency.frontier_growth": 1.3}))
                ) < 1e-6
    assert r.to_xarray().attrs["persistent_mode"] == "build"


# ---------------------------------------------------------------------------------------
# parameters, plans, stress
# ---------------------------------------------------------------------------------------


def test_apply_params_equals_the_same_scenario_file(base: planner.Scenario, tmp_path: Path
                                                    ) -> None:
    spec = base.spec.model_dump(exclude_none=True)
    spec["years"]["end"] = 2032
    spec["efficiency"]["frontier_growth"] = 1.3
    spec["demand"] = {"preset": "jevons", "value_of_unserved_usd_per_h100e_year": 30000.0}
    spec["onsite"]["capex_usd_per_mw"] = 2.0e6
    path = write_yaml(tmp_path / "s.yaml", spec)
    from_file = planner.load_scenario(path)
    swept = apply_params(base, {"years.end": 2032, "efficiency.frontier_growth": 1.3,
                                "demand.preset": "jevons", "onsite.capex_usd_per_mw": 2.0e6,
                                "demand.value_of_unserved_usd_per_h100e_year": 30000.0})
    assert swept.spec == from_file.spec
    assert swept.chips.equals(from_file.chips)
    assert swept.demand_h100e.equals(from_file.demand_h100e)
    assert swept.years == from_file.years


def test_derived_parameters(base: planner.Scenario) -> None:
    sc = apply_params(base, {"regions.PJM.lead_time_multiplier": 1.5,
                             "lead_time_multiplier": 1.0, "energy_price_multiplier": 2.0,
                             "regions.*.price_escalation_per_year": 0.02,
                             "price_escalation_shift_per_year": 0.01,
                             "demand_multiplier": 0.5, "sites.*.pue": 1.2})
    r0, r1 = base.regions, sc.regions
    assert r1.at["PJM", "interconnect_lead_years"] == 11  # 7 × 1.5 = 10.5, half up
    assert (r1.drop("PJM")["interconnect_lead_years"]
            == r0.drop("PJM")["interconnect_lead_years"]).all()
    assert np.allclose(r1["energy_price_usd_per_mwh"], 2 * r0["energy_price_usd_per_mwh"])
    assert np.allclose(r1["price_escalation_per_year"], 0.03)
    ppa = base.sites["energy_price_usd_per_mwh"].notna()
    assert ppa.any() and np.allclose(sc.sites.loc[ppa, "energy_price_usd_per_mwh"],
                                     2 * base.sites.loc[ppa, "energy_price_usd_per_mwh"])
    assert np.allclose(sc.demand_h100e, 0.5 * base.demand_h100e)
    assert (sc.sites["pue"] == 1.2).all() and (base.sites["pue"] != 1.2).any()
    with pytest.raises(planner.InputError, match="pue: expected <= 3"):
        apply_params(base, {"sites.*.pue": 3.5})


def test_monte_carlo_plan_is_reproducible_and_extends(base: planner.Scenario, tmp_path: Path
                                                      ) -> None:
    path = write_yaml(tmp_path / "mc.yaml", {
        "grid": {"demand.preset": ["base", "jevons"]},
        "distributions": {
            "discount_rate": {"dist": "uniform", "low": 0.05, "high": 0.1},
            "demand_multiplier": {"dist": "lognormal", "median": 1.0, "sigma": 0.2},
            "onsite.capex_usd_per_mw": {"dist": "normal", "mean": 2.9e6, "sd": 1e6,
                                        "low": 1e6},
            "onsite.lead_years": {"dist": "integers", "low": 1, "high": 3},
            "regions.PJM.lead_time_multiplier": {"dist": "triangular", "low": 0.5,
                                                 "mode": 1, "high": 2},
            "stress.shocks": {"dist": "choice", "values": [[], "default:microsoft@2028"],
                              "weights": [3, 1]},
        }})
    grid = read_grid_file(path)
    p3 = make_plan(grid, path, base, samples=3, seed=7)
    p5 = make_plan(grid, path, base, samples=5, seed=7)
    other = make_plan(grid, path, base, samples=3, seed=8)
    assert len(p3) == 6 and len(p5) == 10
    assert set(p3.ids) <= set(p5.ids)  # sample i does not depend on --samples
    assert not set(p3.ids) & set(other.ids)
    assert p3.parameters[0].key == "demand.preset"
    for p in p5.params:
        assert 0.05 <= p["discount_rate"] <= 0.1 and p["onsite.capex_usd_per_mw"] >= 1e6
        assert p["onsite.lead_years"] in (1, 2, 3)
        assert p["stress.shocks"] in ([], ["default:microsoft:1@2028"])


def test_grid_gets_a_line_and_a_row_per_scenario_monte_carlo_a_fan(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 12 §2.8: p5–p95 fans over four hand-picked grid points describe nothing."""
    grid = write_yaml(tmp_path / "g.yaml", {"grid": {"years.end": 2027,
                                                     "demand_multiplier": [1.0, 1.2]}})
    capsys.readouterr()
    assert main(["sweep", "--grid", str(grid), "-o", str(tmp_path / "g"), "--workers",
                 "0"]) == 0
    text = capsys.readouterr().out
    assert (tmp_path / "g" / "scenarios.png").is_file()
    assert not (tmp_path / "g" / "fan.png").exists()
    assert "p95" not in text and "demand_multiplier" in text
    with xr.open_dataset(tmp_path / "g" / "sweep.nc") as ds:
        for sid, cost in zip(ds.scenario.values, ds["objective_usd"].values):
            row = next(line for line in text.splitlines() if str(sid) in line)
            assert f"{cost / 1e9:,.1f}" in row and "ok" in row

    mc = write_yaml(tmp_path / "mc.yaml", {"grid": {"years.end": 2027}, "distributions": {
        "demand_multiplier": {"dist": "uniform", "low": 0.9, "high": 1.1}}})
    assert main(["sweep", "--grid", str(mc), "-o", str(tmp_path / "mc"), "--workers", "0",
                 "--samples", "3"]) == 0
    text = capsys.readouterr().out
    assert (tmp_path / "mc" / "fan.png").is_file()
    assert not (tmp_path / "mc" / "scenarios.png").exists()
    assert "p95" in text


def test_stress_shocks_in_a_sweep(tmp_path: Path) -> None:
    grid = write_yaml(tmp_path / "stress.yaml", {"grid": {
        "stress.shocks": [[], "default:microsoft@2026"]}})
    out = run_sweep(None, grid, tmp_path / "out", workers=0)
    ds = out.dataset.set_index(scenario="stress.shocks")
    hit = ds.sel(scenario='["default:microsoft:1@2026"]')
    calm = ds.sel(scenario="[]")
    # docs/stress.md: without a shock CoreWeave defaults in 2027 and Applied Digital (its only
    # tenant) in 2028; Microsoft walking away in 2026 brings both a year forward (and IREN,
    # whose only customer it is, with them). [] = no stress run.
    assert float(hit["stress_default_year"].sel(operator="coreweave")) == 2026
    assert float(hit["stress_default_year"].sel(operator="applied_digital")) == 2027
    assert float(hit["stress_default_year"].sel(operator="iren")) == 2026
    assert np.isnan(hit["stress_default_year"].sel(operator="cipher"))
    assert np.isnan(calm["stress_default_year"].values).all()
    assert float(calm["objective_usd"]) == float(hit["objective_usd"])  # same capacity plan


# ---------------------------------------------------------------------------------------
# bad grid files: exit 2, one line, nothing run or written
# ---------------------------------------------------------------------------------------

BAD_GRIDS = {
    "typo in a parameter": ("grid:\n  years.end: 2028\n  efficiency.frontier_grwth: [1.3]\n",
                            [], ["line 3", "efficiency.frontier_grwth",
                                 "did you mean 'efficiency.frontier_growth'"]),
    "unknown top-level key": ("grids:\n  discount_rate: [0.05]\n", [], ["line 1", "grids"]),
    "unknown distribution": ("distributions:\n  discount_rate: {dist: gauss, mean: 1}\n",
                             ["--samples", "2"], ["line 2", "gauss"]),
    "distribution without --samples": (
        "distributions:\n  discount_rate: {dist: uniform, low: 0.05, high: 0.1}\n", [],
        ["line 1", "--samples"]),
    "--samples without distributions": ("grid:\n  discount_rate: [0.05]\n",
                                        ["--samples", "3"], ["distributions"]),
    "unknown region": ("grid:\n  regions.PJN.lead_time_multiplier: [1.5]\n", [],
                       ["line 2", "did you mean 'PJM'"]),
    "unknown column": ("grid:\n  sites.*.max_mwh: [10]\n", [], ["line 2", "max_mw"]),
    "bad shock": ("grid:\n  stress.shocks: ['meteor:1@2030']\n", [],
                  ["line 2", "unknown shock kind"]),
    "list parameter given flat": ("grid:\n  demand.growth: [2.0, 1.5]\n", [],
                                  ["line 2", "list of lists"]),
    "uniform low > high": (
        "distributions:\n  discount_rate: {dist: uniform, low: 0.2, high: 0.1}\n",
        ["--samples", "2"], ["line 2", "must be > low"]),
    "numeric distribution on a text parameter": (
        "distributions:\n  demand.preset: {dist: uniform, low: 0, high: 1}\n",
        ["--samples", "2"], ["line 2", "dist: choice"]),
    "empty": ("description: nothing\n", [], ["names no parameter"]),
    "invalid YAML": ("grid: [unclosed\n", [], ["invalid YAML"]),
}


@pytest.mark.parametrize("case", list(BAD_GRIDS))
def test_bad_grid_file_exits_2_with_one_line(case: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    text, extra, expected = BAD_GRIDS[case]
    grid = tmp_path / "bad-grid.yaml"
    grid.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    capsys.readouterr()
    assert main(["sweep", "--grid", str(grid), "-o", str(out), "--workers", "0", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("error: bad-grid.yaml"), err
    for piece in expected:
        assert piece in err, (piece, err)
    assert not out.exists()


def test_missing_grid_and_bad_options_exit_2(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--grid", str(tmp_path / "nope.yaml")]) == 2
    assert "nope.yaml: file not found" in capsys.readouterr().err
    assert main(["sweep"]) == 2
    assert "--grid" in capsys.readouterr().err
    grid = write_yaml(tmp_path / "g.yaml", {"grid": {"discount_rate": [0.05]}})
    assert main(["sweep", "--grid", str(grid), "--format", "parquet"]) == 2
    assert "--format" in capsys.readouterr().err
    assert main(["sweep", "--grid", str(grid), "--workers", "-1"]) == 2
    capsys.readouterr()


def test_persistent_solver_is_used_per_worker_and_results_keep_the_result_api(
        short: planner.Scenario) -> None:
    solver = PersistentSolver()
    a = solver.solve(short)
    b = solver.solve(dataclasses.replace(short, demand_h100e=short.demand_h100e * 1.05))
    assert b.lp.info["persistent_mode"] == "update" and b.lp.info["changed_row_bounds"] == 5
    gap = b.gap()
    assert len(gap) == len(short.years) and (gap["demand_h100e"] > 0).all()
    assert b.objective_usd > a.objective_usd


def test_zarr_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = write_yaml(tmp_path / "g.yaml", {"grid": {"years.end": 2027,
                                                     "demand_multiplier": [1.0, 1.2]}})
    argv = ["sweep", "--grid", str(grid), "-o", str(tmp_path / "z"), "--workers", "0",
            "--format", "zarr"]
    try:
        import zarr  # noqa: F401
    except ImportError:
        assert main(argv) == 2
        assert "needs the zarr package" in capsys.readouterr().err
        return
    assert main(argv) == 0
    ds = xr.open_zarr(tmp_path / "z" / "sweep.zarr")
    assert ds.sizes["scenario"] == 2 and ds["objective_usd"].attrs["units"] == "USD"


def test_resume_solves_again_when_an_input_table_changed(tmp_path: Path) -> None:
    """Every input file is hashed, the demand path too: an edited demand.csv makes the
    finished parts stale, and a rerun into the same folder solves every scenario again."""
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    demand = d / "demand.csv"
    demand.write_text("year,demand_h100e\n2026,1.0e7\n2027,2.0e7\n2028,3.0e7\n")
    scenario = d / "scenario.yaml"
    text = scenario.read_text()
    scenario.write_text(text.replace("  base_h100e:", "  path: demand.csv\n  # base_h100e:")
                        .replace("  growth:", "  # growth:")
                        .replace("end: 2040}", "end: 2028}"))
    grid = write_yaml(tmp_path / "grid.yaml", {"grid": {"discount_rate": [0.05, 0.08]}})
    first = run_sweep(scenario, grid, tmp_path / "out", workers=0)
    assert (first.computed, first.skipped) == (2, 0)
    demand.write_text("year,demand_h100e\n2026,1.0e7\n2027,4.0e7\n2028,9.0e7\n")
    again = run_sweep(scenario, grid, tmp_path / "out", workers=0)
    assert (again.computed, again.skipped) == (2, 0)
    fresh = run_sweep(scenario, grid, tmp_path / "fresh", workers=0)
    from planner.outputs.fileio import file_sha256

    assert again.dataset.attrs["sha256_demand"] == file_sha256(demand)  # provenance recorded
    assert again.dataset.attrs["sha256_grid"] == file_sha256(grid)
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["inputs_sha256"]["demand"] == file_sha256(demand)
    assert "highspy" in summary["versions"]
    np.testing.assert_allclose(again.dataset["objective_usd"].values,
                               fresh.dataset["objective_usd"].values, rtol=1e-9)
    assert (again.dataset["objective_usd"].values > first.dataset["objective_usd"].values).all()
