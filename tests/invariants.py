"""Check every model constraint on a reported (unscaled) solution."""

from __future__ import annotations

import numpy as np

from models.capacity import COMPUTE_SCALE
from planner.outputs.results import Result


def assert_constraints_hold(r: Result, tol: float = 1e-6) -> None:
    """Constraints 1–6 of DESIGN.md, recomputed from ``to_xarray()``."""
    ds, d = r.to_xarray(), r.inputs
    years = ds.year.values
    sites = list(ds.site.values)
    scale = max(1.0, float(np.abs(ds["load_mw"]).max()))
    pue = d.sites.loc[sites, "pue"].to_numpy(float)[:, None]
    existing = d.sites.loc[sites, "existing_mw"].to_numpy(float)[:, None]
    max_mw = d.sites.loc[sites, "max_mw"].to_numpy(float)[:, None]
    fleet = ds["fleet_it_mw"].sum("chip").values
    facility = existing + np.cumsum(ds["build_mw"].values, axis=1)
    t = tol * scale
    for name in ("build_mw", "grid_mw", "onsite_mw", "it_mw", "grid_load_mw", "onsite_load_mw",
                 "unserved_h100e"):
        assert ds[name].size == 0 or float(ds[name].min()) >= -t, name
    assert np.all(pue * fleet <= facility + t), "facility (1a)"
    assert np.all(facility <= max_mw + t), "facility limit (1b)"
    assert np.allclose(ds["grid_load_mw"] + ds["onsite_load_mw"], pue * fleet, atol=t), "split (2)"
    assert np.all(ds["grid_load_mw"].values <= ds["grid_capacity_mw"].values + t), "grid (3)"
    assert np.all(ds["onsite_load_mw"].values <= ds["onsite_capacity_mw"].values + t), "onsite (4)"
    lead = d.regions["interconnect_lead_years"]
    for s in sites:
        first = years[0] + int(lead[d.sites.at[s, "region"]])
        early = ds["grid_mw"].sel(site=s).values[years < first]
        assert np.all(np.abs(early) <= t), "grid before its lead time"
        if not bool(d.sites.at[s, "onsite_allowed"]):
            assert float(np.abs(ds["onsite_mw"].sel(site=s)).max()) <= t, "onsite not allowed"
    limits = d.regions["new_load_limit_mw_per_year"]
    for reg, lim in limits.items():
        if not np.isnan(lim):
            assert np.all(ds["region_grid_mw"].sel(region=reg).values <= lim + t), "headroom (5)"
    it = ds["it_mw"].values
    # the installed base (layer fleet) is in service without being bought
    base = (ds["existing_fleet_it_mw"].values if "existing_fleet_it_mw" in ds
            else np.zeros_like(ds["fleet_it_mw"].values))
    life = d.chips.loc[list(ds.chip.values), "life_years"].to_numpy(int)
    for j, y in enumerate(years):
        for k, _g in enumerate(ds.chip.values):
            window = (years > y - life[k]) & (years <= y)
            installed = it[:, k, window].sum(axis=1) + base[:, k, j]
            in_service = ds["fleet_it_mw"].values[:, k, j]
            assert np.all(in_service <= installed + t), "fleet within installed (0)"
            if not d.allow_idle:
                assert np.allclose(in_service, installed, atol=t), "must-run fleet (0)"
    pi = ds["pi_h100e_per_mw"].values
    served = np.einsum("sgy,g->y", ds["fleet_it_mw"].values, pi)
    demand = ds["demand_h100e"].values
    # HiGHS's primal feasibility tolerance (1e-7) applies in the LP's thousand-H100e units
    slack = max(tol * max(1.0, float(demand.max())), 1e-6 * COMPUTE_SCALE)
    assert np.all(served + ds["unserved_h100e"].values >= demand - slack), "compute (6)"
    for g in ds.chip.values:
        first, last = int(d.chips.at[g, "first_year"]), int(d.chips.at[g, "last_year"])
        off = ds["it_mw"].sel(chip=g).values[:, (years < first) | (years > last)]
        assert np.all(np.abs(off) <= t), f"chip {g} bought outside its sale years"
