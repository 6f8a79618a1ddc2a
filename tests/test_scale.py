"""Scale features: synthetic instances, the solver choice by size, site clustering.

Any speed change must leave the optimum unchanged (1e-6 relative): both HiGHS
algorithms are compared on the same instances here, and the bundled objectives in
tests/test_objectives.py.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import planner
import planner.optimize.highs
import planner.optimize.run
import planner.optimize.solver_options
from planner.cli.commands import main
from planner.inputs.cluster import cluster_sites
from planner.inputs.synth import synth_tables, write_synth


@pytest.fixture(scope="module")
def synth60(tmp_path_factory: pytest.TempPathFactory) -> planner.Scenario:
    path = write_synth(tmp_path_factory.mktemp("s") / "synth60", 60, n_years=8, n_chips=5,
                       seed=3)
    return planner.load_scenario(path)


def test_solvers_agree_on_a_synthetic_instance(synth60: planner.Scenario) -> None:
    results = {solver: planner.solve(synth60, options={"solver": solver})
               for solver in ("simplex", "ipm")}
    ref = results["simplex"].objective_usd
    for key, r in results.items():
        assert r.objective_usd == pytest.approx(ref, rel=1e-6), key
        ds = r.to_xarray()
        assert float(r.cost_breakdown().to_numpy().sum()) == pytest.approx(r.objective_usd,
                                                                          rel=1e-6)
        assert float(ds["served_h100e"].sum()) == pytest.approx(
            float(results["simplex"].to_xarray()["served_h100e"].sum()), rel=1e-6)


def test_hipo_is_installed_for_this_highs() -> None:
    """The install brings HiGHS's HiPO (highspy-extras of the same version as highspy), which
    the large instances use; a mismatched pair would silently fall back to IPX."""
    so = planner.optimize.solver_options
    assert so.hipo_available()
    assert so.solver_options(10_000) == {"solver": "hipo", "run_crossover": "off"}
    assert so.algorithm_name(10_000) == "HiGHS HiPO interior point without crossover"


@pytest.mark.parametrize("solver", ["hipo", "ipx"])
def test_interior_point_without_crossover_agrees_with_dual_simplex(
        synth60: planner.Scenario, monkeypatch: pytest.MonkeyPatch, solver: str) -> None:
    """Above CROSSOVER_MAX_SITES the plan is HiPO's (IPX's without highspy-extras), not a
    vertex: the same optimum (1e-6)."""
    ref = planner.solve(synth60, options={"solver": "simplex"})
    so = planner.optimize.solver_options
    monkeypatch.setattr(so, "IPM_MIN_SITES", 10)  # synth60 takes the large path
    monkeypatch.setattr(so, "CROSSOVER_MAX_SITES", 20)
    monkeypatch.setattr(so, "hipo_available", lambda: solver == "hipo")
    seen = []
    run_checked = planner.optimize.highs.run_checked

    def spy(h, ranges, on_infeasible=None):
        status = run_checked(h, ranges, on_infeasible=on_infeasible)
        info = h.getInfo()
        seen.append((h.getOptionValue("solver")[1], info.crossover_iteration_count,
                     info.basis_validity, info.ipm_iteration_count > 0))
        return status

    monkeypatch.setattr(planner.optimize.highs, "run_checked", spy)
    r = planner.solve(synth60)
    assert seen.pop() == (solver, 0, 0, True)  # interior point, no crossover
    assert r.objective_usd == pytest.approx(ref.objective_usd, rel=1e-6)
    assert float(r.cost_breakdown().to_numpy().sum()) == pytest.approx(r.objective_usd,
                                                                      rel=1e-6)
    assert float(r.to_xarray()["served_h100e"].sum()) == pytest.approx(
        float(ref.to_xarray()["served_h100e"].sum()), rel=1e-6)


def test_synth_is_valid_deterministic_and_inside_regions(tmp_path: Path) -> None:
    a = synth_tables(300, seed=7)
    b = synth_tables(300, seed=7)
    pd.testing.assert_frame_equal(a["sites"], b["sites"])
    assert not a["sites"].equals(synth_tables(300, seed=8)["sites"])
    assert len(a["sites"]) == 300 and len(a["chips"]) == 12
    assert main(["synth", "--sites", "40", "--years", "6", "--chips", "4", "-o",
                 str(tmp_path / "s")]) == 0
    sc = planner.load_scenario(tmp_path / "s" / "scenario.yaml")
    assert len(sc.sites) == 40 and len(sc.years) == 6
    pts = gpd.GeoSeries(gpd.points_from_xy(sc.sites["lon"], sc.sites["lat"]), crs=4326)
    polys = sc.geometry.loc[sc.sites["region"].to_numpy()].geometry.reset_index(drop=True)
    assert pts.within(polys).all()
    assert main(["synth", "--sites", "0", "-o", str(tmp_path / "z")]) == 2


def test_clustering_keeps_mw_and_bounds_the_cost_error(synth60: planner.Scenario) -> None:
    full = planner.solve(synth60)
    k = cluster_sites(synth60, 3)
    assert k.sites.groupby("region").size().max() <= 3
    assert cluster_sites(synth60, 1).sites.groupby("region").size().max() <= 2
    for col in ("max_mw", "existing_mw", "queued_mw"):
        assert float(k.sites[col].sum()) == pytest.approx(float(synth60.sites[col].sum()))
    assert int(k.sites["members"].sum()) == len(synth60.sites)
    clustered = planner.solve(k)
    error = abs(clustered.objective_usd - full.objective_usd) / full.objective_usd
    assert error < 0.05, f"clustered cost error {error:.2%}"
    assert main(["validate"]) == 0


def test_clustering_never_mixes_power_contracts(synth60: planner.Scenario) -> None:
    """A contract (site price override) is flat; the regional price escalates."""
    sites = synth60.sites.copy()
    ppa = sites.groupby("region").head(2).index  # two contract sites in every region
    sites["energy_price_usd_per_mwh"] = np.nan
    sites.loc[ppa, "energy_price_usd_per_mwh"] = 30.0
    sc = dataclasses.replace(synth60, sites=sites)
    for k in (1, 3):
        reps = cluster_sites(sc, k).sites
        has = reps["energy_price_usd_per_mwh"].notna()
        assert int(reps.loc[has, "members"].sum()) == len(ppa), k
        assert float(reps.loc[has, "max_mw"].sum()) == pytest.approx(
            float(sites.loc[ppa, "max_mw"].sum()))
        np.testing.assert_allclose(reps.loc[has, "energy_price_usd_per_mwh"], 30.0)
        classes = sites.groupby("region")["onsite_allowed"].nunique() * 2
        assert (reps.groupby("region").size() <= np.maximum(k, classes)).all()
    one = cluster_sites(sc, 1)
    energy = one.capacity_inputs().energy_price_usd_per_mwh
    grid = energy.loc[one.sites["energy_price_usd_per_mwh"].isna().to_numpy()]
    assert (grid.iloc[:, -1] > grid.iloc[:, 0]).all()  # escalation kept

