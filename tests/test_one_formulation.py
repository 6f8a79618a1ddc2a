"""One formulation: results are the model's expressions; levers scale and hot-start.

* statistics equal the model's expressions (PyPSA's test): every cost component
  reported is the value of the model's named cost expression, their sum is the
  objective, and the capacities reported are the expressions the constraints bound;
* the planner's levers build at 3,000 sites (the size where the removed NumPy route
  used to take over) and a sweep over a lever parameter hot-starts.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest
import xarray as xr
import yaml

import planner
from models.capacity import USD_SCALE
from models.model import build_model
from planner.cli.commands import main
from planner.inputs.synth import write_synth
from planner.optimize.highs import compile_model, solve_lp
from planner.optimize.persistent import PersistentSolver
from planner.outputs.results import COST_COMPONENTS, Result
from planner.sweep.apply import apply_params
from tests.objectives import FLEET_CSV, LP_LEVERS_YAML
from tests.scenario_folders import without_market_layers

LP_LEVERS_SYNTH = """
budget: {total_usd_per_year: {2030: 5.0e+11}}
carbon: {price_usd_per_t: 20, cap_t_per_year: {2032: 4.0e+7}}
water: {region_limits_m3_per_year: {ERCOT: 3.0e+8}}
moratoria: [{region: PJM, from_year: 2030}]
regional_demand: [{name: east, regions: [PJM, NYISO, ISO-NE], share: 0.1, from_year: 2028}]
forced_builds: [{site: s00001, year: 2028, build_mw: 300}]
"""


@pytest.fixture(scope="module")
def lever_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("levers") / "sc"
    assert main(["init", str(d)]) == 0
    # us-base without its market-data layers (the plain LP) plus every LP lever
    text = without_market_layers((d / "scenario.yaml").read_text(encoding="utf-8"))
    (d / "scenario.yaml").write_text(text + LP_LEVERS_YAML, encoding="utf-8")
    (d / "fleet.csv").write_text(FLEET_CSV, encoding="utf-8")
    return d / "scenario.yaml"


def test_statistics_equal_the_models_expressions(lever_scenario: Path) -> None:
    """us-base with every LP lever, built and solved as ``dcplan run`` does: the reported
    cost of each component and year is the value of its expression in the solved model,
    the objective is their sum, and reported capacities are the constraints' expressions."""
    sc = planner.load_scenario(lever_scenario)
    m = build_model(sc.capacity_inputs())
    lp = solve_lp(m)
    r = Result(scenario_name=sc.name, inputs=m.inputs, ix=m.ix, lp=lp, build_seconds=0.0)
    costs = r.cost_breakdown()
    assert list(costs.index) == [*COST_COMPONENTS, "carbon"]
    assert m.cost_components["carbon"] == "Cost_Carbon"
    for name, expression in m.cost_components.items():
        for y in m.YEARS:
            want = pyo.value(getattr(m, expression)[y]) * USD_SCALE
            assert costs.at[name, y] == pytest.approx(want, rel=1e-12, abs=1e-3), (name, y)
    # the objective IS the sum of the registered components
    assert pyo.value(m.Total_Cost) * USD_SCALE == pytest.approx(r.objective_usd, rel=1e-9)
    assert float(costs.to_numpy().sum()) == pytest.approx(r.objective_usd, rel=1e-9)
    parts = {id(e) for comp in m.cost_components.values() for e in getattr(m, comp).values()}
    assert {id(a) for a in m.Total_Cost.expr.args} == parts

    ds = r.to_xarray()
    for var, expression in (("facility_mw", "FacilityMW"), ("grid_capacity_mw", "GridCapacityMW"),
                            ("onsite_capacity_mw", "OnsiteCapacityMW")):
        comp = getattr(m, expression)
        for s in ("abilene_tx", "ashburn_va"):
            for y in (2026, 2030, 2040):
                assert float(ds[var].sel(site=s, year=y)) == pytest.approx(
                    pyo.value(comp[s, y]), abs=1e-6), (var, s, y)
    # constraint 3 in the results: grid load within the grid capacity the model reports
    assert (ds["grid_load_mw"] <= ds["grid_capacity_mw"] + 1e-6).all()
    # lever quantities are the lever modules' expressions and variables
    assert ds["emissions_t"].values == pytest.approx(
        [pyo.value(m.Emissions[y]) * 1e3 for y in m.YEARS], rel=1e-9, abs=1e-3)
    assert float(ds["capex_usd"].sel(year=2027)) == pytest.approx(
        sum(pyo.value(m.Capex_Spend[s, 2027]) for s in m.SITES) * USD_SCALE, rel=1e-9)


def test_levers_build_at_3000_sites(tmp_path: Path) -> None:
    """Every LP lever on a 3,000-site synthetic instance: the model builds (no second
    route needed) with each lever's rows, and compiles to HiGHS's standard form."""
    path = write_synth(tmp_path / "synth3000", 3000)
    with open(path, "a", encoding="utf-8") as f:
        f.write(LP_LEVERS_SYNTH)
    sc = planner.load_scenario(path)
    assert set(sc.active_levers()) == {"budget", "carbon", "water", "moratoria",
                                       "regional_demand", "forced_builds"}
    m = build_model(sc.capacity_inputs())
    for name in ("Capital_Budget", "Carbon_Accounting", "Carbon_Cap", "Regional_Demand",
                 "Forced_Build", "Cost_Carbon"):
        assert hasattr(m, name), name
    assert not any(s_y[1] >= 2030 and sc.sites.at[s_y[0], "region"] == "PJM"
                   for s_y in m.GRID_SY)
    sf = compile_model(m)
    assert sf.n_cols > 400_000 and sf.A.nnz > 2_000_000


def test_a_lever_sweep_hot_starts(lever_scenario: Path) -> None:
    """Changing a number with levers set (a carbon price, demand) updates the loaded HiGHS model
    in place and hot-starts; each optimum equals a cold solve of the same scenario."""
    base = planner.load_scenario(lever_scenario)
    solver = PersistentSolver()
    first = solver.solve(base)
    assert solver.last.mode == "build"
    assert first.objective_usd == pytest.approx(planner.solve(base).objective_usd, rel=1e-6)
    for params in ({"carbon.price_usd_per_t": 60.0},
                   {"carbon.price_usd_per_t": 60.0, "demand_multiplier": 1.05}):
        sc = apply_params(base, params)
        r = solver.solve(sc)
        assert solver.last.mode == "update", params
        assert r.attrs["persistent_mode"] == "update"
        assert r.objective_usd == pytest.approx(planner.solve(sc).objective_usd, rel=1e-6)
        assert float(r.cost_breakdown().to_numpy().sum()) == pytest.approx(r.objective_usd,
                                                                          rel=1e-9)


def test_a_lever_sweep_through_the_cli_hot_starts(lever_scenario: Path, tmp_path: Path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"grid": {"carbon.price_usd_per_t": [10, 30, 90]}}),
                    encoding="utf-8")
    out = tmp_path / "sweep"
    assert main(["sweep", str(lever_scenario), "--grid", str(grid), "-o", str(out),
                 "--workers", "0"]) == 0
    with xr.open_dataset(out / "sweep.nc") as ds:
        assert int(ds["hot_start"].sum()) == 2
        cold = planner.solve(apply_params(planner.load_scenario(lever_scenario),
                                          {"carbon.price_usd_per_t": 90})).objective_usd
        assert np.isclose(float(ds["objective_usd"].max()), cold, rtol=1e-6)
