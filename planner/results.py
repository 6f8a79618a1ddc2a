"""Solution → labelled results (xarray), cost breakdown, summary.

Everything here is in real USD and H100e (the LP's internal scaling is undone),
with a ``units`` attribute on every variable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from models.capacity import (
    COMPUTE_SCALE,
    HOURS_PER_YEAR,
    USD_SCALE,
    CapacityInputs,
    IndexSets,
    annual_capex_share,
    discount_factors,
)
from planner.highs import LPSolution

COST_COMPONENTS = ("facility", "grid", "onsite", "chips", "energy", "capacity", "fuel", "unserved")


def package_versions() -> dict[str, str]:
    out = {}
    for name in ("dcplan", "pyomo", "highspy", "pandas", "xarray", "numpy", "geopandas"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class Result:
    """A solved plan. Build with :func:`planner.solve`.

    Attributes
    ----------
    scenario_name : str
    inputs : the :class:`~models.capacity.CapacityInputs` that were solved.
    ix : the index sets of the model.
    lp : the raw :class:`~planner.highs.LPSolution` (scaled units).
    build_seconds : Pyomo model construction time.
    """

    scenario_name: str
    inputs: CapacityInputs
    ix: IndexSets
    lp: LPSolution
    build_seconds: float
    attrs: dict[str, Any] = field(default_factory=dict)
    _ds: xr.Dataset | None = None

    # -- raw values in model units -------------------------------------------------
    @property
    def objective_usd(self) -> float:
        """Present value of all costs, USD."""
        return self.lp.objective * USD_SCALE

    @property
    def status(self) -> str:
        return self.lp.status

    def _site_year(self, name: str) -> np.ndarray:
        ix = self.ix
        out = np.zeros((len(ix.sites), len(ix.years)))
        si = {s: i for i, s in enumerate(ix.sites)}
        yi = {y: j for j, y in enumerate(ix.years)}
        for (s, y), v in self.lp.values[name].items():
            out[si[s], yi[y]] = v
        return out

    def _it(self) -> np.ndarray:
        ix = self.ix
        out = np.zeros((len(ix.sites), len(ix.chips), len(ix.years)))
        si = {s: i for i, s in enumerate(ix.sites)}
        gi = {g: i for i, g in enumerate(ix.chips)}
        yi = {y: j for j, y in enumerate(ix.years)}
        for (s, g, y), v in self.lp.values["IT"].items():
            out[si[s], gi[g], yi[y]] = v
        return out

    def _in_service(self) -> np.ndarray:
        """U[s,g,y]: IT MW in service (the ``Fleet`` variable)."""
        ix = self.ix
        out = np.zeros((len(ix.sites), len(ix.chips), len(ix.years)))
        si = {s: i for i, s in enumerate(ix.sites)}
        gi = {g: i for i, g in enumerate(ix.chips)}
        yi = {y: j for j, y in enumerate(ix.years)}
        for (s, g, y), v in self.lp.values["Fleet"].items():
            out[si[s], gi[g], yi[y]] = v
        return out

    def _installed(self, it: np.ndarray) -> np.ndarray:
        """U[s,g,y] = Σ it[s,g,τ] over y − life_g < τ ≤ y."""
        ix = self.ix
        fleet = np.zeros_like(it)
        gi = {g: i for i, g in enumerate(ix.chips)}
        yi = {y: j for j, y in enumerate(ix.years)}
        for y, vintages in ix.operating.items():
            for g, t in vintages:
                fleet[:, gi[g], yi[y]] += it[:, gi[g], yi[t]]
        return fleet

    # -- labelled results --------------------------------------------------------------
    def to_xarray(self) -> xr.Dataset:
        """All results as one Dataset with dims ``year, region, site, chip``.

        Examples
        --------
        >>> import planner
        >>> ds = planner.solve(planner.load_scenario()).to_xarray()  # doctest: +SKIP
        >>> ds["build_mw"].attrs["units"]  # doctest: +SKIP
        'MW'
        """
        if self._ds is not None:
            return self._ds
        d, ix = self.inputs, self.ix
        years, sites, chips, regions = ix.years, ix.sites, ix.chips, ix.regions
        delta = discount_factors(years, d.discount_rate).to_numpy()
        build = self._site_year("Build")
        grid = self._site_year("Grid")
        onsite = self._site_year("Onsite")
        gridload = self._site_year("GridLoad")
        onsiteload = self._site_year("OnsiteLoad")
        it = self._it()
        installed = self._installed(it)
        fleet = self._in_service()
        blocks = d.blocks()
        unserved_by_year = pd.Series(0.0, index=years)
        for (y, _b), v in self.lp.values["Unserved"].items():
            unserved_by_year[y] += v * COMPUTE_SCALE
        curve_total = blocks.groupby("year")["size_h100e"].sum().reindex(years).to_numpy()
        served = curve_total - unserved_by_year.to_numpy()
        demand = d.demand_h100e.loc[years].to_numpy(dtype=float)
        unserved = np.maximum(demand - served, 0.0)
        pi = d.chips.loc[chips, "pi_h100e_per_mw"].to_numpy(dtype=float)
        served_by_site = np.einsum("sgy,g->sy", fleet, pi)

        site_region = d.sites.loc[sites, "region"].to_numpy()
        existing = d.sites.loc[sites, "existing_mw"].to_numpy(dtype=float)
        queued = d.sites.loc[sites, "queued_mw"].to_numpy(dtype=float)
        qyear = d.sites.loc[sites, "queue_year"].to_numpy(dtype=float)
        yarr = np.array(years)
        queued_on = queued[:, None] * (yarr[None, :] >= np.nan_to_num(qyear, nan=np.inf)[:, None])
        facility_cap = existing[:, None] + np.cumsum(build, axis=1)
        grid_cap = existing[:, None] + queued_on + np.cumsum(grid, axis=1)
        life_on = self.inputs.onsite_life_years
        onsite_cap = np.zeros_like(onsite)
        for j in range(len(years)):
            lo = max(0, j - life_on + 1)
            onsite_cap[:, j] = onsite[:, lo:j + 1].sum(axis=1)

        dual = self.lp.duals
        compute_price = np.array([dual["Compute_Demand"][y] for y in years]) \
            * USD_SCALE / COMPUTE_SCALE / delta
        facility_value = -self._dual_site_year("Facility_Load") * USD_SCALE / delta[None, :]
        headroom = np.full((len(regions), len(years)), np.nan)
        ri = {r: i for i, r in enumerate(regions)}
        yi = {y: j for j, y in enumerate(years)}
        for (r, y), v in dual["Grid_Headroom"].items():
            headroom[ri[r], yi[y]] = -v * USD_SCALE / delta[yi[y]]

        costs = self.cost_breakdown()
        load = gridload + onsiteload
        u = d.utilization
        region_of = pd.Index(regions)
        onehot = (site_region[:, None] == np.array(regions)[None, :]).astype(float)  # s × r

        def sy(values: np.ndarray, units: str, long: str) -> xr.DataArray:
            return xr.DataArray(values, dims=("site", "year"),
                                attrs={"units": units, "long_name": long})

        def ry(values: np.ndarray, units: str, long: str) -> xr.DataArray:
            return xr.DataArray(values, dims=("region", "year"),
                                attrs={"units": units, "long_name": long})

        def yv(values: np.ndarray, units: str, long: str) -> xr.DataArray:
            return xr.DataArray(values, dims=("year",), attrs={"units": units, "long_name": long})

        ds = xr.Dataset(
            {
                "build_mw": sy(build, "MW", "facility MW completed in the year"),
                "grid_mw": sy(grid, "MW", "new grid connection MW energized in the year"),
                "onsite_mw": sy(onsite, "MW", "on-site generation MW completed in the year"),
                "it_mw": xr.DataArray(it, dims=("site", "chip", "year"),
                                      attrs={"units": "MW", "long_name":
                                             "IT MW of chip installed in the year"}),
                "fleet_it_mw": xr.DataArray(fleet, dims=("site", "chip", "year"),
                                            attrs={"units": "MW", "long_name":
                                                   "IT MW of chip in service"}),
                "idle_it_mw": xr.DataArray(np.maximum(installed - fleet, 0.0),
                                           dims=("site", "chip", "year"),
                                           attrs={"units": "MW", "long_name":
                                                  "IT MW installed, within its life, but idle "
                                                  "or retired early"}),
                "facility_mw": sy(facility_cap, "MW", "facility capacity in service"),
                "grid_capacity_mw": sy(grid_cap, "MW",
                                       "grid connection energized (existing, queued, new)"),
                "onsite_capacity_mw": sy(onsite_cap, "MW", "on-site generation in service"),
                "grid_load_mw": sy(gridload, "MW", "facility load served by the grid"),
                "onsite_load_mw": sy(onsiteload, "MW", "facility load served on site"),
                "load_mw": sy(load, "MW", "facility load (grid + on-site)"),
                "served_h100e_by_site": sy(served_by_site, "H100e", "compute served at the site"),
                "facility_value_usd_per_mw_year": sy(
                    facility_value, "USD/(MW·year)",
                    "value of one more MW of facility at the site for one year (dual of 1)"),
                "region_load_mw": ry(onehot.T @ load, "MW", "facility load in the region"),
                "region_build_mw": ry(onehot.T @ build, "MW", "facility MW completed"),
                "region_grid_mw": ry(onehot.T @ grid, "MW", "new grid connections energized"),
                "region_onsite_mw": ry(onehot.T @ onsite, "MW", "on-site generation completed"),
                "region_energy_twh": ry(onehot.T @ load * u * HOURS_PER_YEAR / 1e6, "TWh",
                                        "facility energy use"),
                "headroom_value_usd_per_mw": ry(
                    headroom, "USD/MW",
                    "value of one more MW of new grid connection in the year (dual of 5); "
                    "NaN where no limit"),
                "demand_h100e": yv(demand, "H100e", "compute demand"),
                "served_h100e": yv(served, "H100e", "compute demand served"),
                "unserved_h100e": yv(unserved, "H100e",
                                     "reference compute demand not served"),
                "demand_curve_h100e": yv(curve_total, "H100e",
                                         "all demand on the demand curve (= demand when "
                                         "inelastic)"),
                "compute_price_usd_per_h100e_year": yv(
                    compute_price, "USD/(H100e·year)",
                    "marginal cost of compute in the year (dual of 6, undiscounted)"),
                "energy_twh": yv(load.sum(axis=0) * u * HOURS_PER_YEAR / 1e6, "TWh",
                                 "facility energy use"),
                "discount_factor": yv(delta, "1", "δ_y = (1+ρ)^-(y−y0+1)"),
                "cost_usd": xr.DataArray(
                    costs.to_numpy(), dims=("component", "year"),
                    attrs={"units": "USD", "long_name":
                           "present value of costs by component and year (sums to the objective)"}),
                "pi_h100e_per_mw": xr.DataArray(
                    pi, dims=("chip",), attrs={"units": "H100e/MW", "long_name":
                                               "chip efficiency per IT-MW"}),
                "kappa_usd_per_mw": xr.DataArray(
                    d.chips.loc[chips, "kappa_usd_per_mw"].to_numpy(dtype=float), dims=("chip",),
                    attrs={"units": "USD/MW", "long_name": "chip capital cost per IT-MW"}),
                "pue": xr.DataArray(d.sites.loc[sites, "pue"].to_numpy(dtype=float),
                                    dims=("site",), attrs={"units": "1", "long_name": "PUE"}),
            },
            coords={
                "year": ("year", np.array(years), {"units": "year"}),
                "site": ("site", np.array(sites, dtype=object)),
                "chip": ("chip", np.array(chips, dtype=object)),
                "region": ("region", np.array(region_of, dtype=object)),
                "component": ("component", np.array(COST_COMPONENTS, dtype=object)),
                "site_region": ("site", site_region.astype(object)),
                "lon": ("site", d.sites.loc[sites, "lon"].to_numpy(dtype=float),
                        {"units": "degrees_east"}),
                "lat": ("site", d.sites.loc[sites, "lat"].to_numpy(dtype=float),
                        {"units": "degrees_north"}),
                "chip_first_year": ("chip", d.chips.loc[chips, "first_year"].to_numpy(int)),
                "chip_last_year": ("chip", d.chips.loc[chips, "last_year"].to_numpy(int)),
                "chip_synthetic": ("chip", d.chips.loc[chips].get(
                    "synthetic", pd.Series(False, index=chips)).to_numpy(bool).astype(np.int8)),
            },
            attrs={
                "title": f"dcplan results: {self.scenario_name}",
                "scenario": self.scenario_name,
                "status": self.status,
                "objective_usd": self.objective_usd,
                "highs_version": self.lp.highs_version,
                **{f"version_{k}": v for k, v in package_versions().items()},
                **self.attrs,
            },
        )
        self._ds = ds
        return ds

    def _dual_site_year(self, name: str) -> np.ndarray:
        ix = self.ix
        out = np.zeros((len(ix.sites), len(ix.years)))
        si = {s: i for i, s in enumerate(ix.sites)}
        yi = {y: j for j, y in enumerate(ix.years)}
        for (s, y), v in self.lp.duals[name].items():
            out[si[s], yi[y]] = v
        return out

    def cost_breakdown(self) -> pd.DataFrame:
        """PV cost in USD by component (rows) and year (columns).

        Capital is counted as the annuities that fall in each year; the table
        sums to :attr:`objective_usd`.
        """
        d, ix = self.inputs, self.ix
        years = ix.years
        rate = d.discount_rate
        delta = discount_factors(years, rate)
        out = pd.DataFrame(0.0, index=list(COST_COMPONENTS), columns=years)
        shares: dict[tuple[int, int], pd.Series] = {}

        def share(t: int, life: int) -> pd.Series:
            if (t, life) not in shares:
                shares[(t, life)] = annual_capex_share(t, life, years, rate)
            return shares[(t, life)]

        region = d.sites["region"]
        for (s, t), v in self.lp.values["Build"].items():
            if v:
                out.loc["facility"] += v * d.sites.at[s, "build_capex_usd_per_mw"] \
                    * share(t, d.facility_life_years)
        for (s, t), v in self.lp.values["Grid"].items():
            if v:
                out.loc["grid"] += v * d.regions.at[region[s], "interconnect_capex_usd_per_mw"] \
                    * share(t, d.facility_life_years)
        for (_s, t), v in self.lp.values["Onsite"].items():
            if v:
                out.loc["onsite"] += v * d.onsite_capex_usd_per_mw * share(t, d.onsite_life_years)
        for (_s, g, t), v in self.lp.values["IT"].items():
            if v:
                out.loc["chips"] += v * d.chips.at[g, "kappa_usd_per_mw"] \
                    * share(t, int(d.chips.at[g, "life_years"]))
        uh = d.utilization * HOURS_PER_YEAR
        gl = pd.DataFrame(self._site_year("GridLoad"), index=ix.sites, columns=years)
        ol = pd.DataFrame(self._site_year("OnsiteLoad"), index=ix.sites, columns=years)
        energy = d.energy_price_usd_per_mwh.loc[ix.sites, years]
        capacity = d.capacity_price_usd_per_mw_year.loc[region[ix.sites].to_numpy(), years]
        capacity.index = ix.sites
        out.loc["energy"] = (gl * energy).sum() * uh * delta
        out.loc["capacity"] = (gl * capacity).sum() * delta
        out.loc["fuel"] = ol.sum() * uh * d.onsite_fuel_usd_per_mwh * delta
        value = {
            (int(y), int(b)): float(v) for y, b, v in
            zip(*(d.blocks()[c] for c in ("year", "block", "value_usd_per_h100e_year")))
        }
        for (y, b), v in self.lp.values["Unserved"].items():
            out.loc["unserved", y] += v * COMPUTE_SCALE * value[y, b] * delta[y]
        out.index.name, out.columns.name = "component", "year"
        return out

    def gap(self) -> pd.DataFrame:
        """The demand-versus-efficiency gap per year (see :mod:`planner.gap`)."""
        from planner.gap import gap_table

        return gap_table(self.to_xarray())

    def summary(self) -> dict[str, Any]:
        """Headline numbers for ``summary.json``."""
        ds = self.to_xarray()
        costs = self.cost_breakdown()
        region_build = ds["region_build_mw"].sum("year").to_series()
        total_build = float(ds["build_mw"].sum())
        last = ds.year.values[-1]
        return {
            "scenario": self.scenario_name,
            "status": self.status,
            "objective_usd": self.objective_usd,
            "build_seconds": round(self.build_seconds, 4),
            "handoff_seconds": round(self.lp.handoff_seconds, 4),
            "solve_seconds": round(self.lp.solve_seconds, 4),
            "extract_seconds": round(self.lp.extract_seconds, 4),
            "variables": self.lp.num_cols,
            "constraints": self.lp.num_rows,
            "nonzeros": self.lp.num_nonzeros,
            "years": [int(ds.year.values[0]), int(last)],
            "cost_usd_by_component": {k: float(v) for k, v in costs.sum(axis=1).items()},
            "facility_built_mw": total_build,
            "grid_connected_mw": float(ds["grid_mw"].sum()),
            "onsite_built_mw": float(ds["onsite_mw"].sum()),
            "it_installed_mw": float(ds["it_mw"].sum()),
            "facility_built_mw_by_region": {k: float(v) for k, v in region_build.items()},
            "load_mw_final_year": float(ds["load_mw"].sel(year=last).sum()),
            "energy_twh_by_year": {int(y): float(v) for y, v in
                                   ds["energy_twh"].to_series().items()},
            "demand_h100e_total": float(ds["demand_h100e"].sum()),
            "unserved_h100e_total": float(ds["unserved_h100e"].sum()),
            "unserved_share": float(ds["unserved_h100e"].sum() / ds["demand_h100e"].sum())
            if float(ds["demand_h100e"].sum()) > 0 else 0.0,
            "compute_price_usd_per_h100e_year": {
                int(y): float(v) for y, v in
                ds["compute_price_usd_per_h100e_year"].to_series().items()},
            "highs": self.lp.info,
            **self.attrs,
        }
