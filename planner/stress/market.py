"""The market a stress run sees: values taken from the capacity model's solution and duals.

The value of a facility MW by region and year (facility and headroom duals), the marginal
cost of compute (dual of the compute balance) and the energy prices at the portfolio's sites.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from models.capacity import crf, resolve_prices
from planner.inputs.scenario import Scenario
from planner.optimize.run import solve
from planner.outputs.results import Result
from sites.portfolio import Portfolio

NATIONAL = "_national"  # capacity-value row used for contracts without a site


@dataclass
class Market:
    """Market values from one capacity scenario, as plain tables.

    Attributes
    ----------
    scenario : scenario name.
    utilization : average IT load ÷ installed IT capacity (for energy use).
    capacity_value_usd_per_mw_year : region × year value of one facility MW for a year
        (row ``_national`` = all regions); see :func:`regional_capacity_value`.
    compute_price_usd_per_h100e_year : year → marginal cost of compute (dual of 6).
    energy_price_usd_per_mwh : portfolio site × year energy price.
    national_energy_price_usd_per_mwh : year → mean regional energy price (contracts
        without a site).
    chips : the scenario's chips (``it_kw_per_unit``, ``h100e_per_unit``,
        ``capex_usd_per_unit``, ``life_years``), for GPU capex; None = no chip costs.
    new_build_usd_per_mw_year : region → cost of building a new facility MW, annuitized
        (caps landlord re-let values); None = no cap.
    new_compute_usd_per_h100e_year : year → cost of new compute per H100e-year (caps GPU
        re-let values); None = no cap.
    """

    scenario: str
    utilization: float
    capacity_value_usd_per_mw_year: pd.DataFrame
    compute_price_usd_per_h100e_year: pd.Series
    energy_price_usd_per_mwh: pd.DataFrame
    national_energy_price_usd_per_mwh: pd.Series
    chips: pd.DataFrame | None = None
    new_build_usd_per_mw_year: pd.Series | None = None
    new_compute_usd_per_h100e_year: pd.Series | None = None

    def levelized_capacity_value(self, region: str, year: int, window: int) -> float:
        r"""Re-let value of a facility MW, USD/(MW·year): the mean over the lease window
        y … y + W − 1 (inside the horizon) of min(V_{r,t}, C_r), V the regional value of
        capacity, C_r the annuitized cost of a new facility MW in the region."""
        cap = self.capacity_value_usd_per_mw_year
        row = cap.loc[region if region in cap.index else NATIONAL]
        if self.new_build_usd_per_mw_year is not None:
            nb = self.new_build_usd_per_mw_year
            bound = float(nb.get(region, nb.get(NATIONAL, np.inf)))
            row = row.clip(upper=bound)
        return _window_mean(row, year, window)

    def levelized_compute_price(self, year: int, window: int) -> float:
        """Re-let value of an H100e, USD/(H100e·year): the window mean of the compute price
        capped each year by the cost of new compute."""
        price = self.compute_price_usd_per_h100e_year
        if self.new_compute_usd_per_h100e_year is not None:
            price = np.minimum(price, self.new_compute_usd_per_h100e_year.reindex(
                price.index).fillna(np.inf))
        return _window_mean(price, year, window)

    @property
    def years(self) -> list[int]:
        return [int(y) for y in self.compute_price_usd_per_h100e_year.index]

    def table(self) -> pd.DataFrame:
        """Tidy (region, year) capacity value and compute price (``capacity_values.csv``)."""
        cv = self.capacity_value_usd_per_mw_year.copy()
        cv.index.name, cv.columns.name = "region", "year"
        df = cv.stack().rename("capacity_value_usd_per_mw_year").reset_index()
        df["capacity_value_usd_per_kw_month"] = df["capacity_value_usd_per_mw_year"] / 12e3
        price = self.compute_price_usd_per_h100e_year
        df["compute_price_usd_per_h100e_year"] = df["year"].map(price)
        if self.new_build_usd_per_mw_year is not None:
            nb = self.new_build_usd_per_mw_year
            df["new_build_usd_per_mw_year"] = df["region"].map(
                lambda r: nb.get(r, nb.get(NATIONAL, np.nan)))
        if self.new_compute_usd_per_h100e_year is not None:
            df["new_compute_usd_per_h100e_year"] = df["year"].map(
                self.new_compute_usd_per_h100e_year)
        return df


def _window_mean(series: pd.Series, year: int, window: int) -> float:
    ys = [t for t in range(year, year + window) if t in series.index]
    return float(series.loc[ys].mean()) if ys else float(series.iloc[-1])


def new_build_costs(scenario: Scenario, national_energy: pd.Series,
                    pue: float = 1.2) -> tuple[pd.Series, pd.Series]:
    r"""The cost of new capacity that bounds re-let values.

    Returns ``(region → USD/(MW·year), year → USD/(H100e·year))``:

    - a facility MW: CRF(ρ, ℓ) × (mean ``build_capex_usd_per_mw`` of the region's scenario
      sites + the region's ``interconnect_capex_usd_per_mw``) + CRF(ρ, on-site life) ×
      ``onsite.capex_usd_per_mw`` — a new hall with its own power plant, what a tenant could
      build instead when the grid queue is full; row ``_national`` = all sites;
    - an H100e-year of new compute in year y: the cheapest chip available in y of
      capex ÷ H100e × CRF(ρ, chip life) + IT kW per H100e ÷ 1000 × ``pue`` ×
      (the national facility cost above + utilization × 8760 h × national energy price).
    """
    spec = scenario.spec
    rho, life = spec.discount_rate, spec.facility_life_years
    sites = scenario.sites
    regions = scenario.regions
    inter = (regions["interconnect_capex_usd_per_mw"].astype(float)
             if "interconnect_capex_usd_per_mw" in regions.columns
             else pd.Series(0.0, index=regions.index))
    build = sites.groupby("region")["build_capex_usd_per_mw"].mean()
    power = crf(rho, int(spec.onsite.life_years)) * float(spec.onsite.capex_usd_per_mw)
    nat = crf(rho, life) * (float(sites["build_capex_usd_per_mw"].mean())
                            + float(inter.mean())) + power
    rows = {str(r): crf(rho, life) * (float(build.get(r, sites["build_capex_usd_per_mw"].mean()))
                                      + float(inter.get(r, 0.0))) + power
            for r in regions.index}
    rows[NATIONAL] = nat
    facility = pd.Series(rows)
    chips = scenario.chips
    out = {}
    for y in scenario.years:
        avail = chips[(chips["first_year"] <= y) & (chips["last_year"] >= y)]
        if avail.empty:
            continue
        per = [float(c["capex_usd_per_unit"]) / float(c["h100e_per_unit"])
               * crf(rho, int(c["life_years"]))
               + float(c["it_kw_per_unit"]) / float(c["h100e_per_unit"]) / 1000.0 * pue
               * (nat + spec.utilization * 8760.0
                  * float(national_energy.get(y, national_energy.iloc[-1])))
               for _, c in avail.iterrows()]
        out[y] = min(per)
    return facility, pd.Series(out, dtype=float)


def regional_capacity_value(ds: xr.Dataset, discount_rate: float,
                            facility_life_years: int) -> pd.DataFrame:
    r"""Value of one facility MW for one year per region, USD/(MW·year).

    .. math::

        V_{r,y} = \frac{\sum_{s \in r} F_{s,y}\, \lambda_{s,y}}{\sum_{s \in r} F_{s,y}}
                  + \mathrm{CRF}(\rho, \ell)\; \mu_{r,y}

    with λ the facility dual (``facility_value_usd_per_mw_year``, constraint 1), F the
    facility MW in service (the plan's weights; a plain mean where the region has none),
    μ the headroom dual (``headroom_value_usd_per_mw``, constraint 5, a one-off value per MW
    of new connection, NaN = no limit = 0) annuitized over the facility life ℓ at the
    discount rate ρ. Row ``_national`` weights all sites. Regions without sites get it too.
    """
    lam = ds["facility_value_usd_per_mw_year"].to_pandas()  # site × year
    fmw = ds["facility_mw"].to_pandas()
    region = ds["site_region"].to_series()
    years = [int(y) for y in ds["year"].values]

    def weighted(idx: pd.Index) -> pd.Series:
        w, v = fmw.loc[idx], lam.loc[idx]
        tot = w.sum()
        plain = v.mean()
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (w * v).sum() / tot
        return out.where(tot > 0, plain).fillna(0.0)

    national = weighted(lam.index)
    rows = {}
    for r in ds["region"].values:
        idx = region.index[region == r]
        rows[str(r)] = weighted(idx) if len(idx) else national
    value = pd.DataFrame(rows).T
    value.loc[NATIONAL] = national
    head = ds["headroom_value_usd_per_mw"].to_pandas().fillna(0.0)
    head.loc[NATIONAL] = 0.0
    value = value + crf(discount_rate, facility_life_years) * head.reindex(value.index).fillna(0.0)
    value.columns = years
    return value.clip(lower=0.0)


_VALUES_CACHE: dict[tuple, tuple[pd.DataFrame, pd.Series]] = {}


def scenario_values(
    scenario: Scenario,
    demand_multiplier: pd.Series | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Solve the capacity scenario (demand × multiplier) and return its market values.

    Returns ``(capacity value region × year, compute price by year)``. Results are
    cached per scenario file and demand path within the process.
    """
    years = scenario.years
    mult = (pd.Series(1.0, index=years) if demand_multiplier is None
            else demand_multiplier.reindex(years).fillna(1.0))
    try:
        stamp = scenario.path.stat().st_mtime_ns if scenario.path else 0
    except OSError:
        stamp = 0
    key = (str(scenario.path), stamp, scenario.name, tuple(np.round(mult.to_numpy(), 12)))
    if key in _VALUES_CACHE:
        return _VALUES_CACHE[key]
    sc = scenario
    if not np.allclose(mult.to_numpy(), 1.0):
        sc = dataclasses.replace(scenario, demand_h100e=scenario.demand_h100e * mult)
    _VALUES_CACHE[key] = result_values(scenario, solve(sc, progress=progress))
    return _VALUES_CACHE[key]


def result_values(scenario: Scenario, result: Result) -> tuple[pd.DataFrame, pd.Series]:
    """``(capacity value region × year, compute price by year)`` of a solved scenario."""
    ds = result.to_xarray()
    spec = scenario.spec
    value = regional_capacity_value(ds, spec.discount_rate, spec.facility_life_years)
    price = ds["compute_price_usd_per_h100e_year"].to_series()
    price.index = [int(y) for y in price.index]
    return value, price


def market_from_scenario(
    scenario: Scenario,
    portfolio: Portfolio,
    demand_multiplier: pd.Series | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> Market:
    """The :class:`Market` for a portfolio under a (possibly demand-shocked) scenario."""
    value, price = scenario_values(scenario, demand_multiplier, progress=progress)
    return market_from_values(scenario, portfolio, value, price)


def market_from_values(scenario: Scenario, portfolio: Portfolio, value: pd.DataFrame,
                       price: pd.Series) -> Market:
    """The :class:`Market` from a scenario's values (:func:`result_values`)."""
    years = scenario.years
    sites = portfolio.sites
    pseudo = pd.DataFrame({"region": list(scenario.regions.index),
                           "energy_price_usd_per_mwh": np.nan},
                          index=[f"__region__{r}" for r in scenario.regions.index])
    table = pd.concat([sites[["region", "energy_price_usd_per_mwh"]].astype(
        {"energy_price_usd_per_mwh": float}), pseudo]) if len(sites) else pseudo
    energy, _cap = resolve_prices(scenario.regions, table, years, scenario.prices)
    national = energy.loc[pseudo.index].mean()
    national.index = [int(y) for y in national.index]
    site_energy = energy.loc[list(sites.index)] if len(sites) else energy.iloc[:0]
    facility, compute = new_build_costs(scenario, national)
    return Market(
        scenario=scenario.name,
        utilization=float(scenario.spec.utilization),
        capacity_value_usd_per_mw_year=value,
        compute_price_usd_per_h100e_year=price,
        energy_price_usd_per_mwh=site_energy,
        national_energy_price_usd_per_mwh=national,
        chips=scenario.chips,
        new_build_usd_per_mw_year=facility,
        new_compute_usd_per_h100e_year=compute,
    )
