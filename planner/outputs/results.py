"""Solution → labelled results (xarray), cost breakdown, summary.

Every quantity is read from the solved model: its variables, its named
expressions (``m.report_expressions`` and the cost components, evaluated by
:func:`planner.optimize.highs.expression_values`) and its constraints' duals; nothing here
restates a constraint. Everything is in real USD and H100e (the LP's internal
scaling is undone), with a ``units`` attribute on every variable.
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
    CORE_COST_COMPONENTS,
    HOURS_PER_YEAR,
    USD_SCALE,
    CapacityInputs,
    IndexSets,
    discount_factors,
)
from models.levers import EMISSIONS_SCALE, WATER_SCALE
from models.levers.carbon import CARBON_COMPONENT
from models.levers.hours import curtailable_hours
from planner.optimize.highs import LPSolution
from planner.outputs.dual_trust import region_max, trusted, usable_grid_mw
from planner.outputs.hourly import hourly_results

#: The capacity model's cost components (``cost_usd``'s ``component``), in order;
#: a layer may register more (the lever "carbon" adds :data:`CARBON_COMPONENT`).
COST_COMPONENTS = tuple(name for name, _ in CORE_COST_COMPONENTS)
__all__ = ["CARBON_COMPONENT", "COST_COMPONENTS", "Result", "package_versions"]


def package_versions() -> dict[str, str]:
    out = {}
    for name in ("dcplan", "pyomo", "highspy", "numpy", "scipy", "pandas", "xarray", "netCDF4",
                 "geopandas", "pydantic", "dask", "distributed"):
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
    lp : the raw :class:`~planner.optimize.highs.LPSolution` (scaled units).
    build_seconds : Pyomo model construction time.
    """

    scenario_name: str
    inputs: CapacityInputs
    ix: IndexSets
    lp: LPSolution
    build_seconds: float
    attrs: dict[str, Any] = field(default_factory=dict)
    #: curtailment-enabled headroom (region, year) → MW at ``curtailment_pct`` (maps)
    curtailment_headroom_mw: dict[tuple[str, int], float] = field(default_factory=dict)
    curtailment_pct: float | None = None
    _ds: xr.Dataset | None = None
    _cache: dict[Any, np.ndarray] = field(default_factory=dict, repr=False)

    # -- raw values in model units -------------------------------------------------
    @property
    def objective_usd(self) -> float:
        """Present value of all costs, USD."""
        return self.lp.objective * USD_SCALE

    @property
    def status(self) -> str:
        return self.lp.status

    def _dense(self, name: str, axes: tuple[list, ...], source: str = "values") -> np.ndarray:
        """A solution (or dual) component as a dense array over ``axes`` (vectorized).

        Keys absent from the component (variables not defined there) are 0.
        """
        key = (name, source, tuple(len(a) for a in axes))
        if key in self._cache:
            return self._cache[key]
        table = {"values": self.lp.values, "duals": self.lp.duals,
                 "expressions": self.lp.expressions}[source]
        comp = table.get(name, {})
        out = np.zeros(tuple(len(a) for a in axes))
        if comp:
            keys = list(comp.keys())
            vals = np.fromiter(comp.values(), dtype=float, count=len(comp))
            if len(axes) == 1:
                idx: tuple[np.ndarray, ...] = (pd.Index(axes[0]).get_indexer(keys),)
            else:
                idx = tuple(pd.Index(axes[k]).get_indexer([kk[k] for kk in keys])
                            for k in range(len(axes)))
            ok = np.logical_and.reduce([i >= 0 for i in idx])
            out[tuple(i[ok] for i in idx)] = vals[ok]
        self._cache[key] = out
        return out

    def _site_year(self, name: str) -> np.ndarray:
        return self._dense(name, (self.ix.sites, self.ix.years))

    def _it(self) -> np.ndarray:
        return self._dense("IT", (self.ix.sites, self.ix.chips, self.ix.years))

    def _in_service(self) -> np.ndarray:
        """U[s,g,y]: IT MW in service (the ``Fleet`` variable)."""
        return self._dense("Fleet", (self.ix.sites, self.ix.chips, self.ix.years))

    def _expression(self, name: str, axes: tuple[list, ...]) -> np.ndarray:
        """The values of the model's named expression ``name`` over ``axes`` (0 where it
        has no index), in model units."""
        return self._dense(name, axes, source="expressions")

    def _existing_fleet(self) -> np.ndarray:
        """F[s,g,y]: IT MW of the existing fleet in its life (lever "fleet"; else zeros)."""
        ix = self.ix
        out = np.zeros((len(ix.sites), len(ix.chips), len(ix.years)))
        si = {s: i for i, s in enumerate(ix.sites)}
        gi = {g: i for i, g in enumerate(ix.chips)}
        yi = {y: j for j, y in enumerate(ix.years)}
        for (s, g, y), v in ix.existing_fleet.items():
            out[si[s], gi[g], yi[y]] += v
        return out

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
        if d.levers is not None and d.levers.onsite_tech is not None:  # per technology
            onsite = self._onsite_tech("OnsiteTech").sum(axis=1)
        gridload = self._site_year("GridLoad")
        onsiteload = self._site_year("OnsiteLoad")
        it = self._it()
        installed = self._expression("Installed", (sites, chips, years))
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
        served_by_site = self._expression("Site_Served", (sites, years)) * COMPUTE_SCALE

        site_region = d.sites.loc[sites, "region"].to_numpy()
        facility_cap = self._expression("FacilityMW", (sites, years))
        grid_cap = self._expression("GridCapacityMW", (sites, years))
        onsite_cap = self._expression("OnsiteCapacityMW", (sites, years))

        dual = self.lp.duals
        compute_price = np.array([dual["Compute_Demand"][y] for y in years]) \
            * USD_SCALE / COMPUTE_SCALE / delta
        def site_value(name: str) -> np.ndarray:
            """USD per MW-year of one more MW of a ≤ row: −dual, undiscounted (0.0 − …
            keeps a zero dual from printing as −0)."""
            return 0.0 - self._dual_site_year(name) * USD_SCALE / delta[None, :]

        facility_value = site_value("Facility_Load")
        ceiling_value = site_value("Facility_Limit")
        # a dual from a degenerate vertex is not a value: blank where the MW cannot be used
        max_mw = d.sites.loc[sites, "max_mw"].to_numpy(dtype=float)
        grid_access = trusted(site_value("Grid_Capacity"),
                              usable_grid_mw(gridload, onsiteload, facility_cap, max_mw,
                                             grid_cap))
        region_grid_access = region_max(grid_access, site_region, regions)
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
                "site_ceiling_value_usd_per_mw_year": sy(
                    ceiling_value, "USD/(MW·year)",
                    "value of one more MW of the site's ceiling max_mw in the year (dual of "
                    "1b); 0 where the ceiling does not bind"),
                "grid_access_value_usd_per_mw_year": sy(
                    grid_access, "USD/(MW·year)",
                    "value of one more MW of grid connection at the site in the year (dual "
                    "of 3): what grid power is worth over its next-best source; blank where "
                    "the site could not use the MW (the dual is then not a value)"),
                "region_grid_access_value_usd_per_mw_year": ry(
                    region_grid_access, "USD/(MW·year)",
                    "value of one more MW of grid connection in the region in the year: the "
                    "largest trusted dual of 3 over the region's sites; blank where none"),
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
                "component": ("component", np.array(list(costs.index), dtype=object)),
                "site_region": ("site", site_region.astype(object)),
                "lon": ("site", d.sites.loc[sites, "lon"].to_numpy(dtype=float),
                        {"units": "degrees_east"}),
                "lat": ("site", d.sites.loc[sites, "lat"].to_numpy(dtype=float),
                        {"units": "degrees_north"}),
                "chip_first_year": ("chip", d.chips.loc[chips, "first_year"].to_numpy(int),
                                    {"units": "year"}),
                "chip_last_year": ("chip", d.chips.loc[chips, "last_year"].to_numpy(int),
                                   {"units": "year"}),
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
        if d.levers is not None:
            ds = self._with_levers(ds, gridload, onsiteload, fleet, delta, onehot)
        if self.curtailment_headroom_mw:
            head = self.curtailment_headroom_mw
            ds["region_curtailment_headroom_mw"] = xr.DataArray(
                np.array([[head.get((r, y), np.nan) for y in years] for r in regions]),
                dims=("region", "year"), attrs={
                    "units": "MW", "curtailment_pct": float(self.curtailment_pct or 0.0),
                    "long_name": f"curtailment-enabled headroom at {self.curtailment_pct:g} % "
                    "curtailment (hourly record; the non-firm cap with nonfirm:); NaN = no "
                    "hourly load for the region"})
        self._ds = ds
        return ds

    def _dual_vector(self, name: str, keys: list, scale: float) -> np.ndarray:
        """Duals of constraint ``name`` at ``keys`` × scale (NaN where it has no row).

        A negative ``scale`` flips the sign (a binding ≤ limit then has a positive
        value); zeros are returned as +0.0, never −0.0.
        """
        duals = self.lp.duals.get(name, {})
        out = np.array([duals[k] * scale if k in duals else np.nan for k in keys], dtype=float)
        return out + 0.0

    def _with_levers(self, ds: xr.Dataset, gridload: np.ndarray, onsiteload: np.ndarray,
                     fleet: np.ndarray, delta: np.ndarray, onehot: np.ndarray) -> xr.Dataset:
        """Add the levers' results: quantities they bound and their duals (docs/levers.md).

        Duals are undiscounted (÷ δ_y) like the capacity model's, with signs such
        that a binding limit has a positive value.
        """
        d, ix = self.inputs, self.ix
        lv = d.levers
        years, sites, regions = ix.years, ix.sites, ix.regions
        yi = {y: j for j, y in enumerate(years)}
        new: dict[str, xr.DataArray] = {}
        coords: dict[str, Any] = {}

        def attrs(units: str, long: str) -> dict[str, str]:
            return {"units": units, "long_name": long}

        active = lv.active()
        if "fleet" in active:
            new["existing_fleet_it_mw"] = xr.DataArray(
                self._existing_fleet(), dims=("site", "chip", "year"),
                attrs=attrs("MW", "IT MW of the existing fleet within its life (no capex)"))
        if lv.integer:
            for key, blocks in (("build_block_mw", lv.build_block_mw),
                                ("grid_block_mw", lv.grid_block_mw)):
                new[key] = xr.DataArray(
                    np.array([blocks.get(s, np.nan) for s in sites], dtype=float),
                    dims=("site",), attrs=attrs("MW", f"{key.split('_')[0]} block size "
                                                "(NaN = continuous)"))
        if "budget" in active:
            capex = self._expression("Capex_Spend", (sites, years)) * USD_SCALE
            new["capex_usd"] = xr.DataArray(capex.sum(axis=0), dims=("year",), attrs=attrs(
                "USD", "overnight capex spent in the year (facility + grid + on-site + chips), "
                "undiscounted"))
            new["region_capex_usd"] = xr.DataArray(onehot.T @ capex, dims=("region", "year"),
                                                   attrs=attrs("USD", "overnight capex spent"))
            inv = 1.0  # budget rows and the objective are both in million USD: dual in USD/USD
            new["capital_shadow_price_usd_per_usd"] = xr.DataArray(
                self._dual_vector("Capital_Budget", years, -inv) / delta, dims=("year",),
                attrs=attrs("USD/USD", "value of one more USD of capital budget in the year "
                            "(dual of Capital_Budget, in that year's USD); NaN = no budget"))
            keys = [(r, y) for r in regions for y in years]
            new["region_capital_shadow_price_usd_per_usd"] = xr.DataArray(
                (self._dual_vector("Capital_Budget_Region", keys, -inv)
                 .reshape(len(regions), len(years)) / delta[None, :]),
                dims=("region", "year"), attrs=attrs(
                    "USD/USD", "value of one more USD of the region's capital budget "
                    "(dual of Capital_Budget_Region); NaN = no budget"))
            operators = sorted({o for o, _ in lv.budget_operator_usd})
            if operators:
                op = d.sites.loc[sites, "operator"].to_numpy()
                mask = (op[:, None] == np.array(operators, dtype=object)[None, :]).astype(float)
                keys = [(o, y) for o in operators for y in years]
                coords["operator"] = ("operator", np.array(operators, dtype=object))
                new["operator_capex_usd"] = xr.DataArray(
                    mask.T @ capex, dims=("operator", "year"),
                    attrs=attrs("USD", "overnight capex spent at the operator's sites"))
                new["operator_capital_shadow_price_usd_per_usd"] = xr.DataArray(
                    (self._dual_vector("Capital_Budget_Operator", keys, -inv)
                     .reshape(len(operators), len(years)) / delta[None, :]),
                    dims=("operator", "year"), attrs=attrs(
                        "USD/USD", "value of one more USD of the operator's capital budget "
                        "(dual of Capital_Budget_Operator); NaN = no budget"))
        if lv.carbon:
            em = self._expression("Site_Emissions", (sites, years)) * EMISSIONS_SCALE
            emissions = self._dense("Emissions", (years,)) * EMISSIONS_SCALE
            new["emissions_t"] = xr.DataArray(emissions, dims=("year",), attrs=attrs(
                "t CO2", "CO2 from grid energy (regional intensity) and on-site fuel"))
            new["region_emissions_t"] = xr.DataArray(onehot.T @ em, dims=("region", "year"),
                                                     attrs=attrs("t CO2", "CO2 emitted"))
            new["carbon_price_usd_per_t"] = xr.DataArray(
                np.array([lv.carbon_price_usd_per_t.get(y, 0.0) for y in years]),
                dims=("year",), attrs=attrs("USD/t", "carbon price (input)"))
            new["carbon_shadow_price_usd_per_t"] = xr.DataArray(
                self._dual_vector("Carbon_Cap", years, -USD_SCALE / EMISSIONS_SCALE) / delta,
                dims=("year",), attrs=attrs(
                    "USD/t", "value of emitting one more t under the cap (dual of Carbon_Cap: "
                    "the carbon price the cap implies, on top of any carbon price); NaN = no cap"))
        if lv.water:
            wue = np.array([lv.water_m3_per_mwh.get(s, 0.0) for s in sites])
            water = self._expression("Water_Use", (sites, years)) * WATER_SCALE
            new["water_m3"] = xr.DataArray(water, dims=("site", "year"), attrs=attrs(
                "m3", "cooling water used in the year (m3 per IT-MWh of the cooling type)"))
            new["region_water_m3"] = xr.DataArray(onehot.T @ water, dims=("region", "year"),
                                                  attrs=attrs("m3", "cooling water used"))
            new["water_m3_per_mwh"] = xr.DataArray(wue, dims=("site",), attrs=attrs(
                "m3/MWh", "cooling water per MWh of IT energy (WUE, L/kWh)"))
            scale = USD_SCALE / WATER_SCALE
            keys = [(s, y) for s in sites for y in years]
            new["water_value_usd_per_m3"] = xr.DataArray(
                self._dual_vector("Water_Site", keys, -scale).reshape(len(sites), len(years))
                / delta[None, :], dims=("site", "year"), attrs=attrs(
                    "USD/m3", "value of one more m3 of the site's water limit (dual of "
                    "Water_Site); NaN = no limit"))
            keys = [(r, y) for r in regions for y in years]
            new["region_water_value_usd_per_m3"] = xr.DataArray(
                self._dual_vector("Water_Region", keys, -scale).reshape(len(regions), len(years))
                / delta[None, :], dims=("region", "year"), attrs=attrs(
                    "USD/m3", "value of one more m3 of the region's water limit (dual of "
                    "Water_Region); NaN = no limit"))
        if lv.moratoria:
            new["moratorium_from_year"] = xr.DataArray(
                np.array([lv.moratoria.get(r, np.nan) for r in regions], dtype=float),
                dims=("region",), attrs=attrs("year", "first year without new grid "
                                              "connections (NaN = none)"))
        if lv.regional_demand:
            names = [q.name for q in lv.regional_demand]
            coords["requirement"] = ("requirement", np.array(names, dtype=object))
            served = self._expression("Regional_Served", (names, years)) * COMPUTE_SCALE
            required = np.full((len(names), len(years)), np.nan)
            for (k, y), v in self.lp.expressions.get("Regional_Required", {}).items():
                required[names.index(k), yi[y]] = v * COMPUTE_SCALE
            keys = [(n, y) for n in names for y in years]
            new["regional_served_h100e"] = xr.DataArray(served, dims=("requirement", "year"),
                                                        attrs=attrs("H100e", "compute served "
                                                                    "inside the regions"))
            new["regional_required_h100e"] = xr.DataArray(
                required, dims=("requirement", "year"),
                attrs=attrs("H100e", "share × demand that must be served inside them"))
            new["regional_demand_value_usd_per_h100e_year"] = xr.DataArray(
                self._dual_vector("Regional_Demand", keys, USD_SCALE / COMPUTE_SCALE)
                .reshape(len(names), len(years)) / delta[None, :],
                dims=("requirement", "year"), attrs=attrs(
                    "USD/(H100e·year)", "cost of one more H100e required inside the regions "
                    "(dual of Regional_Demand); NaN = not required that year"))
        if lv.forced_builds:
            fb = lv.forced_builds
            coords["forced_build"] = ("forced_build", np.arange(1, len(fb) + 1))
            coords["forced_build_site"] = ("forced_build", np.array([f.site for f in fb],
                                                                    dtype=object))
            coords["forced_build_year"] = ("forced_build", np.array([f.year for f in fb]))
            new["forced_build_mw"] = xr.DataArray(
                np.array([f.build_mw for f in fb]), dims=("forced_build",),
                attrs=attrs("MW", "forced facility MW (at least, or exactly when exact)"))
            new["forced_build_exact"] = xr.DataArray(
                np.array([int(f.exact) for f in fb], dtype=np.int8), dims=("forced_build",),
                attrs=attrs("1", "1 = exactly build_mw, 0 = at least"))
            dual = self._dual_vector("Forced_Build", list(range(len(fb))), USD_SCALE)
            new["forced_build_cost_usd_per_mw"] = xr.DataArray(
                dual / np.array([delta[yi[f.year]] for f in fb]), dims=("forced_build",),
                attrs=attrs("USD/MW", "cost of forcing one more MW (dual of Forced_Build, in "
                            "the build year's USD); 0 = the plan would build it anyway"))
        if lv.nonfirm is not None:
            new.update(self._nonfirm(onehot))
        if lv.nonfirm is not None and lv.hours is not None:
            more, arrays = hourly_results(self.inputs, self.lp.values, list(regions),
                                          list(sites))
            coords.update(more)
            new.update(arrays)
        if "construction" in active or "Build_Lead" in self.lp.duals:
            keys = [(s, y) for s in sites for y in years]
            new["lead_time_value_usd_per_mw"] = xr.DataArray(
                self._dual_vector("Build_Lead", keys, -USD_SCALE).reshape(len(sites), len(years))
                / delta[None, :], dims=("site", "year"), attrs=attrs(
                    "USD/MW", "value of one more MW of hall completed in the year before the "
                    "site's construction lead (dual of Build_Lead, in that year's USD); NaN = "
                    "after the lead"))
        if lv.accelerator_supply_h100e:
            vendors = sorted({v for v, _ in lv.accelerator_supply_h100e})
            coords["vendor"] = ("vendor", np.array(vendors, dtype=object))
            keys = [(v, y) for v in vendors for y in years]
            limit = np.array([lv.accelerator_supply_h100e.get(k, np.nan) for k in keys])
            new["gpu_supply_h100e"] = xr.DataArray(
                limit.reshape(len(vendors), len(years)), dims=("vendor", "year"),
                attrs=attrs("H100e", "most new H100e bought in the US (input); NaN = none"))
            bought = np.full(len(keys), np.nan)
            got = self.lp.expressions.get("Bought", {})
            for i, k in enumerate(keys):
                if k in got:
                    bought[i] = got[k] * COMPUTE_SCALE
            new["gpu_bought_h100e"] = xr.DataArray(
                bought.reshape(len(vendors), len(years)), dims=("vendor", "year"),
                attrs=attrs("H100e", "new H100e bought from the vendor (all = every chip)"))
            new["gpu_supply_value_usd_per_h100e"] = xr.DataArray(
                self._dual_vector("Accelerator_Supply", keys, -USD_SCALE / COMPUTE_SCALE)
                .reshape(len(vendors), len(years)) / delta[None, :],
                dims=("vendor", "year"), attrs=attrs(
                    "USD/H100e", "value of one more H100e of the vendor's supply in the year "
                    "(dual of Accelerator_Supply, in that year's USD); NaN = no limit"))
        if lv.onsite_tech is not None:
            more, more_coords = self._onsite_results(delta)
            new.update(more)
            coords.update(more_coords)
            ds.attrs["onsite_reserve_fraction"] = lv.onsite_tech.reserve_fraction
            ds.attrs["onsite_solar_capacity_factor"] = lv.onsite_tech.solar_capacity_factor
        if lv.national_headroom_mw:
            new["national_headroom_mw"] = xr.DataArray(
                np.array([lv.national_headroom_mw.get(y, np.nan) for y in years]),
                dims=("year",), attrs=attrs("MW", "most new grid MW over all regions (input)"))
            new["national_headroom_value_usd_per_mw"] = xr.DataArray(
                self._dual_vector("Grid_Headroom_National", years, -USD_SCALE) / delta,
                dims=("year",), attrs=attrs(
                    "USD/MW", "value of one more MW of national firm grid access in the year "
                    "(dual of Grid_Headroom_National); NaN = no limit"))
        ds = ds.assign_coords(coords).assign(new)
        ds.attrs["levers"] = ", ".join(active)
        return ds

    def _onsite_tech(self, name: str, source: str = "values") -> np.ndarray:
        """A (site, technology, year) component of the layer ``onsite_technologies`` as a
        dense array (0 where it has no index)."""
        techs = list(self.inputs.levers.onsite_tech.table.index)
        return self._dense(name, (self.ix.sites, techs, self.ix.years), source)

    def _onsite_results(self, delta: np.ndarray) -> tuple[dict[str, xr.DataArray],
                                                          dict[str, Any]]:
        """The layer ``onsite_technologies``' results (:mod:`models.levers.onsite_tech`):
        MW per site, technology and year, the limits and the duals of (O4) and (O5)."""
        ot, ix = self.inputs.levers.onsite_tech, self.ix
        techs, years = list(ot.table.index), ix.years
        stY = ("site", "technology", "year")

        def da(values: np.ndarray, dims: tuple[str, ...], units: str, long: str) -> xr.DataArray:
            return xr.DataArray(values, dims=dims, attrs={"units": units, "long_name": long})

        keys = [(t, y) for t in techs for y in years]
        supply = ot.table["supply_limit_mw_per_year"].astype(float).to_numpy()
        total = ot.table["total_limit_mw"].astype(float).to_numpy()
        fuel = np.array([[ot.fuel_usd_per_mwh[t, y] for y in years] for t in techs])
        new = {
            "onsite_tech_mw": da(self._onsite_tech("OnsiteTech"), stY, "MW",
                                 "on-site MW of the technology completed in the year"),
            "onsite_tech_capacity_mw": da(self._onsite_tech("OnsiteTechMW", "expressions"),
                                          stY, "MW", "on-site MW of the technology in service"),
            "onsite_gen_mw": da(self._onsite_tech("OnsiteGen"), stY, "MW",
                                "facility load MW served by the technology (energy = u × "
                                "8,760 h × MW)"),
            "onsite_fuel_usd_per_mwh": da(fuel, ("technology", "year"), "USD/MWh",
                                          "fuel (gas price × heat rate) + variable O&M"),
            "onsite_supply_limit_mw": da(np.repeat(supply[:, None], len(years), 1),
                                         ("technology", "year"), "MW",
                                         "most MW of the technology completed in the US in "
                                         "a year (input); NaN = no limit"),
            "onsite_supply_value_usd_per_mw": da(
                self._dual_vector("Onsite_Supply", keys, -USD_SCALE)
                .reshape(len(techs), len(years)) / delta[None, :], ("technology", "year"),
                "USD/MW", "value of one more MW of the technology's national supply in the "
                "year (dual of Onsite_Supply, in that year's USD); NaN = no limit"),
            "onsite_total_limit_mw": da(total, ("technology",), "MW",
                                        "most MW of the technology ever (a one-off such as a "
                                        "restart; input); NaN = no limit"),
            "onsite_total_value_usd_per_mw": da(
                self._dual_vector("Onsite_Total", techs, -USD_SCALE), ("technology",), "USD/MW",
                "value of one more MW of the one-off (dual of Onsite_Total, present value at "
                "the start of the first year); NaN = no limit"),
        }
        coords = {"technology": ("technology", np.array(techs, dtype=object)),
                  "technology_kind": ("technology", ot.table["kind"].to_numpy(dtype=object)),
                  "technology_lead_years": ("technology",
                                            ot.table["lead_years"].to_numpy(dtype=int))}
        return new, coords

    def _nonfirm(self, onehot: np.ndarray) -> dict[str, xr.DataArray]:
        """The non-firm layer's results (:mod:`models.levers.nonfirm`) per site or region
        and year."""
        nf, ix = self.inputs.levers.nonfirm, self.ix
        sites, regions, years = ix.sites, ix.regions, ix.years
        region = self.inputs.sites.loc[sites, "region"].to_numpy()
        sy = ("site", "year")

        def da(values: np.ndarray, dims: tuple[str, ...], units: str, long: str) -> xr.DataArray:
            return xr.DataArray(values, dims=dims, attrs={"units": units, "long_name": long})

        load = self._site_year("NonFirmLoad")
        if self.inputs.levers.hours is not None:  # the representative days' hours
            per = {r: curtailable_hours(self.inputs, r) for r in set(region)
                   if nf.headroom_mw.get((r, years[0]), 0.0) > 0}
            hours = np.array([per.get(r, 0.0) for r in region])
        else:
            hours = np.array([nf.curtailed_hours.get(r, 0.0) for r in region])
        headroom = np.array([[nf.headroom_mw.get((r, y), 0.0) for y in years] for r in regions])
        by_region = {c: np.array([getattr(nf, c).get(r, np.nan) for r in regions])
                     for c in ("rate", "curtailed_hours", "events_per_year", "max_event_hours",
                               "peak_share_avoided")}
        return {
            "nonfirm_mw": da(self._site_year("NonFirm"), sy, "MW",
                             "non-firm (curtailable) connection MW energized in the year"),
            "nonfirm_capacity_mw": da(self._expression("NonFirmMW", (sites, years)), sy, "MW",
                                      "non-firm connection MW in place"),
            "nonfirm_load_mw": da(load, sy, "MW", "facility MW drawn on non-firm connections "
                                  "(above the firm capacity)"),
            "curtailed_mwh": da(self._expression("Curtailed_MWh", (sites, years)), sy, "MWh",
                                "energy a year the grid curtails at the site (rate × 8,760 h × "
                                "non-firm MW drawn), covered on site"),
            "curtailed_hours": da(np.where(load > 1e-6, hours[:, None], 0.0), sy, "h",
                                  "hours a year with curtailment (the region's, where the site "
                                  "draws non-firm)"),
            "onsite_cover_mwh": da(self._site_year("OnsiteCover"), sy, "MWh",
                                   "curtailed energy covered by spare on-site generation"),
            "battery_cover_mwh": da(self._site_year("BatteryCover"), sy, "MWh",
                                    "curtailed energy covered by battery discharge"),
            "shed_mwh": da(self._site_year("Shed"), sy, "MWh",
                           "curtailed energy covered by pausing flexible compute"),
            "compute_shed_h100e": da(self._expression("Compute_Shed", (sites, years))
                                     * COMPUTE_SCALE, sy, "H100e",
                                     "compute lost by pausing, H100e-years (valued at the best "
                                     "chip in service)"),
            "battery_mw": da(self._expression("Battery_MW", (sites, years)), sy, "MW",
                             "battery power in service"),
            "battery_mwh": da(self._expression("Battery_MWh", (sites, years)), sy, "MWh",
                              "battery energy in service"),
            "battery_new_mw": da(self._site_year("BatteryPower"), sy, "MW",
                                 "battery power completed in the year"),
            "battery_new_mwh": da(self._site_year("BatteryEnergy"), sy, "MWh",
                                  "battery energy completed in the year"),
            "region_nonfirm_mw": da(onehot.T @ self._expression("NonFirmMW", (sites, years)),
                                    ("region", "year"), "MW", "non-firm connection MW in place"),
            "region_nonfirm_headroom_mw": da(headroom, ("region", "year"), "MW",
                                             "cap on non-firm MW: curtailment-enabled headroom "
                                             "at the scenario's rate (hourly record)"),
            "region_curtailment_rate": da(by_region["rate"], ("region",), "1",
                                          "curtailed share of a non-firm MW's energy at the cap"),
            "region_curtailed_hours": da(by_region["curtailed_hours"], ("region",), "h",
                                         "hours a year with curtailment at the cap"),
            "region_curtailment_events": da(by_region["events_per_year"], ("region",), "1/year",
                                            "curtailment events (runs of hours) a year"),
            "region_max_event_hours": da(by_region["max_event_hours"], ("region",), "h",
                                         "longest curtailment event of the record at the cap"),
            "region_peak_share_avoided": da(by_region["peak_share_avoided"], ("region",), "1",
                                            "share of non-firm draw curtailed in the hours that "
                                            "set capacity charges (its capacity price not "
                                            "paid): ERCOT 4CP, PJM 5CP, else the year's peak "
                                            "hour"),
        }

    def _dual_site_year(self, name: str) -> np.ndarray:
        return self._dense(name, (self.ix.sites, self.ix.years), source="duals")

    def cost_breakdown(self) -> pd.DataFrame:
        """PV cost in USD by component (rows) and year (columns).

        Each row is the value of one of the model's cost expressions (registered
        cost components, e.g. ``Cost_Facility[y]``; capital counted as the
        annuities that fall in each year); their sum is the objective.
        """
        years = self.ix.years
        components = self.lp.cost_components
        out = pd.DataFrame(0.0, index=list(components), columns=years)
        for name, expression in components.items():
            out.loc[name] = self._expression(expression, (years,)) * USD_SCALE
        out.index.name, out.columns.name = "component", "year"
        return out

    def gap(self) -> pd.DataFrame:
        """The demand-versus-efficiency gap per year (see :mod:`planner.outputs.gap`)."""
        from planner.outputs.gap import gap_table

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
            "versions": {**package_versions(), "highs": self.lp.highs_version},
            **self.attrs,
            **self._lever_summary(ds),
        }

    def _lever_summary(self, ds: xr.Dataset) -> dict[str, Any]:
        """Lever totals for ``summary.json`` (empty without levers)."""
        lv = self.inputs.levers
        if lv is None:
            return {}
        out: dict[str, Any] = {"levers": lv.active()}
        mip = self.lp.info.get("mip")
        if mip:
            out["mip"] = {
                "mip_rel_gap_option": mip["mip_rel_gap"],
                "mip_gap": mip["mip_gap"],
                "mip_objective_usd": mip["mip_objective"] * USD_SCALE,
                "mip_dual_bound_usd": mip["mip_dual_bound"] * USD_SCALE,
                "lp_relaxation_usd": mip["lp_relaxation_objective"] * USD_SCALE,
                "lumpiness_cost_usd": (mip["mip_objective"] - mip["lp_relaxation_objective"])
                * USD_SCALE,
                "mip_node_count": mip["mip_node_count"],
                "integer_columns": mip["integer_columns"],
                "note": "mip_dual_bound_usd is HiGHS's branch-and-bound bound "
                        "(info.mip_dual_bound); lp_relaxation_usd is the LP relaxation solved "
                        "separately; values and duals are from the LP with the integers fixed",
            }

        def by_year(name: str) -> dict[int, float]:
            return {int(y): float(v) for y, v in ds[name].to_series().items()}

        for name in ("capex_usd", "capital_shadow_price_usd_per_usd", "emissions_t",
                     "carbon_shadow_price_usd_per_t"):
            if name in ds:
                out[f"{name}_by_year"] = by_year(name)
        if "water_m3" in ds:
            out["water_m3_by_year"] = {int(y): float(v) for y, v in
                                       ds["water_m3"].sum("site").to_series().items()}
        if lv.nonfirm is not None:
            out["nonfirm"] = self._nonfirm_summary(ds)
        return out

    def _nonfirm_summary(self, ds: xr.Dataset) -> dict[str, Any]:
        """Where flexibility buys years: per region with non-firm MW, the most non-firm MW
        in place, the first year one is energized, the first year a new firm connection can
        be, and the years between; the cost saved against the same scenario without
        ``nonfirm:`` when the run solved it too (``attrs["objective_without_nonfirm_usd"]``)."""
        d = self.inputs
        y0 = int(ds.year.values[0])
        regions = {}
        mw = ds["region_nonfirm_mw"]
        for r in ds.region.values:
            series = mw.sel(region=r).to_series()
            on = series[series > 1e-3]
            if on.empty:
                continue
            firm = y0 + int(d.regions.at[r, "interconnect_lead_years"])
            first = int(on.index[0])
            regions[str(r)] = {"nonfirm_mw_max": float(on.max()), "first_year": first,
                               "firm_first_year": firm, "years_earlier": max(firm - first, 0),
                               "curtailment_rate": float(ds["region_curtailment_rate"]
                                                         .sel(region=r)),
                               "curtailed_hours_per_year": float(ds["region_curtailed_hours"]
                                                                 .sel(region=r))}
        out: dict[str, Any] = {
            "regions": regions,
            "battery_mwh_max": float(ds["battery_mwh"].sum("site").max()),
            "compute_shed_h100e_total": float(ds["compute_shed_h100e"].sum()),
        }
        without = self.attrs.get("objective_without_nonfirm_usd")
        if without is not None:
            out["objective_without_nonfirm_usd"] = float(without)
            out["cost_saved_usd"] = float(without) - self.objective_usd
        return out
