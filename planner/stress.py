r"""Operator exposure stress tests: shocks, yearly cash flows, clearing, metrics, outputs.

The flow (DESIGN.md, "Stress tests (investors)")::

    portfolio (sites.portfolio) + shocks ─┐
    capacity scenario → planner.solve ────┴→ Market (value of capacity, compute price,
                                              energy prices)
                                           → simulate: year by year, contract dues →
                                              Eisenberg–Noe clearing (models.exposure) →
                                              defaults → terminations → re-lets
                                           → StressResult (xarray operator × year) → files

Year y, operator i (all amounts USD per year unless marked):

- contracted revenue   C_iy = Σ_{c: lessor i, start ≤ y ≤ end} A_c  (A_c the full annual
  payment, no shock: the book);
- due on contract c    D_cy = A_c · share_c · slip_cy · rate_cy  (share: part still in force
  after defaults; slip: part of the MW energized after an interconnection slip; rate: the
  lease-rate / obsolescence factor for contracts starting after a shock);
- clearing: payments among operators cleared by the Eisenberg–Noe LP, with each operator's
  obligations p̄_i = leases due + debt service + opex + power (pari passu) and external assets
  e_i = cash + customer payments + re-let + merchant revenue; i defaults when p_i < p̄_i;
- revenue              R_iy = contract payments received + re-let + merchant;
- EBITDA               E_iy = R_iy − leases due − opex − power;
- DSCR                 E_iy / debt service (NaN without debt service);
- revenue at risk      C_iy − contract payments received;
- top-customer share   max_k D_ik / Σ_k D_ik and HHI Σ_k (D_ik / Σ D_i)² over the payers k of
  i's contracts in force;
- stranded MW          contracted MW not energized (slip) + freed MW not (yet) re-let.

Defaults propagate: a defaulted lessee's contracts end after its default year (a guaranteed
share passes to the guarantor); the lessor re-lets the freed MW after ``delay_years`` at the
market value of capacity less ``haircut`` — for landlords the regional value of a facility MW
(capacity-model duals), for GPU owners the marginal cost of compute times their fleet's H100e
per MW — when that beats its variable cost per MW. Contract expiries free MW the same way.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from grids.tables import InputError
from models.capacity import HOURS_PER_YEAR, crf, resolve_prices
from models.exposure import clearing_lp
from planner.output import _clean, atomic_folder, file_sha256
from planner.results import package_versions
from planner.run import solve
from planner.scenario import Scenario, load_scenario
from sites.portfolio import (
    GPU_OWNERS,
    Portfolio,
    Shock,
    check_shock_targets,
    load_portfolio,
)

NATIONAL = "_national"  # capacity-value row used for contracts without a site

# ==========================================================================
# The market: what the stress engine takes from the capacity scenario
# ==========================================================================


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
    """

    scenario: str
    utilization: float
    capacity_value_usd_per_mw_year: pd.DataFrame
    compute_price_usd_per_h100e_year: pd.Series
    energy_price_usd_per_mwh: pd.DataFrame
    national_energy_price_usd_per_mwh: pd.Series

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
        return df


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
    result = solve(sc, progress=progress)
    ds = result.to_xarray()
    spec = scenario.spec
    value = regional_capacity_value(ds, spec.discount_rate, spec.facility_life_years)
    price = ds["compute_price_usd_per_h100e_year"].to_series()
    price.index = [int(y) for y in price.index]
    _VALUES_CACHE[key] = (value, price)
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
    return Market(
        scenario=scenario.name,
        utilization=float(scenario.spec.utilization),
        capacity_value_usd_per_mw_year=value,
        compute_price_usd_per_h100e_year=price,
        energy_price_usd_per_mwh=site_energy,
        national_energy_price_usd_per_mwh=national,
    )


# ==========================================================================
# Shocks: composed into per-year factors
# ==========================================================================


@dataclass
class ShockPlan:
    """All shocks of a run, composed. Same-kind shocks compound (factors multiply,
    slips add); a party named in several default shocks defaults at the earliest."""

    shocks: list[Shock]

    def _of(self, kind: str) -> list[Shock]:
        return sorted((s for s in self.shocks if s.kind == kind), key=lambda s: s.start_year)

    def demand_factor(self, year: int) -> float:
        """Π (1 + m) over demand shocks started by ``year``."""
        return float(np.prod([1.0 + s.magnitude for s in self._of("demand")
                              if year >= s.start_year]))

    def demand_multiplier(self, years: list[int]) -> pd.Series | None:
        """Demand multiplier by year for re-solving the capacity scenario (None = no shock)."""
        if not self._of("demand"):
            return None
        return pd.Series([self.demand_factor(y) for y in years], index=years)

    def power_factor(self, year: int) -> float:
        """Π (1 + m) over power-price shocks started by ``year``."""
        return float(np.prod([1.0 + s.magnitude for s in self._of("power_price")
                              if year >= s.start_year]))

    def contract_factor(self, contract_start: int, year: int, gpu: bool) -> float:
        """Price factor of a contract signed in ``contract_start``, paid in ``year``.

        Lease-rate shocks reprice contracts that start in or after the shock year
        (× (1 + m)); obsolescence prices a GPU owner's contract signed k ≥ 0 years after
        the shock at (1 − m)^(k + 1), fixed for its term.
        """
        f = 1.0
        for s in self._of("lease_rate"):
            if contract_start >= s.start_year and year >= s.start_year:
                f *= 1.0 + s.magnitude
        if gpu:
            for s in self._of("obsolescence"):
                if contract_start >= s.start_year:
                    f *= (1.0 - s.magnitude) ** (contract_start - s.start_year + 1)
        return f

    def relet_factor(self, year: int, gpu: bool) -> float:
        """Factor on re-let rates: × (1 + m) for lease-rate shocks started by ``year``;
        for GPU owners × (1 − m)^(year − start + 1) for obsolescence shocks."""
        f = 1.0
        for s in self._of("lease_rate"):
            if year >= s.start_year:
                f *= 1.0 + s.magnitude
        if gpu:
            for s in self._of("obsolescence"):
                if year >= s.start_year:
                    f *= (1.0 - s.magnitude) ** (year - s.start_year + 1)
        return f

    def queue_year(self, queue_year: float) -> float:
        """A site's grid energization year after interconnection slips: each slip with
        start ≤ the (slipped) queue year adds its years."""
        if queue_year is None or (isinstance(queue_year, float) and math.isnan(queue_year)):
            return queue_year
        q = float(queue_year)
        for s in self._of("interconnect"):
            if q >= s.start_year:
                q += s.magnitude
        return q

    def defaults(self) -> dict[str, tuple[int, float]]:
        """target → (default year, loss given default)."""
        out: dict[str, tuple[int, float]] = {}
        for s in self._of("default"):
            t = str(s.target)
            if t not in out or s.start_year < out[t][0]:
                out[t] = (s.start_year, s.magnitude)
            elif s.start_year == out[t][0]:
                out[t] = (s.start_year, max(out[t][1], s.magnitude))
        return out


# ==========================================================================
# The yearly cash-flow engine
# ==========================================================================

#: (name, units, description) of every operator × year variable in stress.nc.
METRICS: tuple[tuple[str, str, str], ...] = (
    ("contracted_revenue_usd_per_year", "USD/year",
     "contract payments scheduled in the year, no shock (the book)"),
    ("contract_revenue_usd_per_year", "USD/year", "contract payments received after clearing"),
    ("re_let_revenue_usd_per_year", "USD/year", "revenue from re-let MW"),
    ("merchant_revenue_usd_per_year", "USD/year", "uncontracted revenue"),
    ("revenue_usd_per_year", "USD/year", "contract + re-let + merchant revenue"),
    ("revenue_at_risk_usd_per_year", "USD/year",
     "contracted revenue minus contract payments received"),
    ("lease_cost_usd_per_year", "USD/year", "contract payments due to lessors"),
    ("opex_usd_per_year", "USD/year", "fixed plus per-MW operating cost"),
    ("power_cost_usd_per_year", "USD/year", "electricity bought"),
    ("ebitda_usd_per_year", "USD/year", "revenue − lease cost − opex − power cost"),
    ("debt_service_usd_per_year", "USD/year", "interest and principal due"),
    ("dscr", "1", "EBITDA ÷ debt service (NaN without debt service)"),
    ("breach", "1", "1 when DSCR < the covenant minimum in a tested year"),
    ("in_default", "1", "1 from the default year on"),
    ("top_customer_share", "1", "largest payer's share of contract payments due"),
    ("hhi", "1", "Herfindahl–Hirschman index of payers' shares of contract payments due (0–1)"),
    ("contracted_mw", "MW", "MW under contracts in their term, no shock"),
    ("delivered_mw", "MW", "contracted MW in force and energized"),
    ("re_let_mw", "MW", "freed MW let again"),
    ("stranded_mw", "MW", "contracted MW not energized + freed MW not let again"),
    ("payments_due_usd_per_year", "USD/year",
     "all obligations in the clearing: leases, debt service, opex, power"),
    ("payments_made_usd_per_year", "USD/year", "clearing payment"),
    ("recovery_rate", "1", "payments made ÷ payments due"),
    ("cash_usd", "USD", "cash at the end of the year"),
)


@dataclass
class _Vacancy:
    lessor: str
    site: str | None
    mw: float
    idle_from: int
    relet_from: int


@dataclass
class StressResult:
    """The outcome of one stress run."""

    portfolio: Portfolio
    shocks: list[Shock]
    market: Market
    metrics: xr.Dataset
    contracts: pd.DataFrame
    exposure: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        """One row per operator: covenant, worst DSCR in a tested year, first breach, default,
        totals over the years; concentration and the largest end customer (look-through) in
        the first year with contract payments due."""
        ds = self.metrics
        ops = self.portfolio.operators
        y0 = int(ds.year.values[0])
        rows = []
        exp = self.exposure[self.exposure["look_through_share"] > 0]
        for o in ops.index:
            d = ds.sel(operator=o)
            dscr = d["dscr"].to_series()
            start = ops.at[o, "covenant_start_year"]
            tested = dscr[dscr.index >= (y0 if _blank(start) else int(start))].dropna()
            lt = exp[exp["operator"] == o]  # the first year with contract payments due
            lt = lt[lt["year"] == lt["year"].min()].sort_values("look_through_share",
                                                                ascending=False)
            top = d["top_customer_share"].to_series().dropna()
            hhi = d["hhi"].to_series().dropna()
            rows.append({
                "operator": o,
                "name": ops.at[o, "name"],
                "kind": ops.at[o, "kind"],
                "covenant_min_dscr": float(ops.at[o, "covenant_min_dscr"]),
                "min_dscr": float(tested.min()) if len(tested) else np.nan,
                "min_dscr_year": int(tested.idxmin()) if len(tested) else np.nan,
                "first_breach_year": _nan_int(ds["first_breach_year"].sel(operator=o)),
                "default_year": _nan_int(ds["default_year"].sel(operator=o)),
                "revenue_at_risk_usd": float(d["revenue_at_risk_usd_per_year"].sum()),
                "contracted_revenue_usd": float(d["contracted_revenue_usd_per_year"].sum()),
                "top_customer_share_first_year": float(top.iloc[0]) if len(top) else np.nan,
                "hhi_first_year": float(hhi.iloc[0]) if len(hhi) else np.nan,
                "top_end_customer": lt["counterparty"].iloc[0] if len(lt) else "",
                "top_end_customer_share": float(lt["look_through_share"].iloc[0])
                if len(lt) else np.nan,
                "max_stranded_mw": float(d["stranded_mw"].max()),
            })
        return pd.DataFrame(rows)


def _blank(v: Any) -> bool:
    """An optional table value left blank (None or NaN)."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def _nan_int(v: xr.DataArray) -> float:
    f = float(v)
    return f if math.isnan(f) else int(f)


def simulate(portfolio: Portfolio, shocks: list[Shock], market: Market) -> StressResult:
    """Run the yearly cash-flow and clearing engine (see the module docstring).

    Parameters
    ----------
    portfolio : from :func:`sites.portfolio.load_portfolio`.
    shocks : every shock of the run (YAML and command line).
    market : market values for the run; with demand shocks it should come from the
        demand-shocked scenario (:func:`stress` takes care of that).

    Each year: (1) operators shocked into default leave the clearing; (2) expiring
    contracts free their MW; (3) contract dues; (4) each operator's re-lets, merchant
    revenue, opex, power and debt service; (5) the Eisenberg–Noe clearing; (6) metrics;
    (7) this year's defaulters' contracts end and their MW are freed for re-letting.
    """
    years = portfolio.years
    if any(y not in market.years for y in years):
        raise InputError(f"portfolio years {years[0]}–{years[-1]} are not all inside the "
                         f"capacity scenario years {market.years[0]}–{market.years[-1]} "
                         f"(scenario '{market.scenario}')", file=portfolio.path, key="years")
    engine = _Engine(portfolio, ShockPlan(list(shocks)), market)
    for y in years:
        engine.step(y)
    metrics = _dataset(portfolio, market, engine.plan, years, engine.out, engine.default_year)
    return StressResult(portfolio=portfolio, shocks=list(shocks), market=market,
                        metrics=metrics, contracts=pd.DataFrame(engine.contract_rows),
                        exposure=_look_through(pd.DataFrame(engine.exposure_rows), portfolio))


@dataclass
class _Year:
    """Per-contract amounts of one year (dicts keyed by contract id)."""

    book: dict[str, float]  # scheduled payment, no shock, USD/year
    due: dict[str, float]  # payment due after shocks and terminations, USD/year
    delivered: dict[str, float]  # MW in force and energized
    unenergized: dict[str, float]  # MW in force but not energized (slip)
    paid: dict[str, float] = field(default_factory=dict)  # after clearing, USD/year


class _Engine:
    """State of the yearly simulation; :meth:`step` advances one year."""

    def __init__(self, portfolio: Portfolio, plan: ShockPlan, market: Market) -> None:
        self.pf, self.plan, self.market = portfolio, plan, market
        self.ops = portfolio.operators
        self.op_ids = list(self.ops.index)
        self.oi = {o: i for i, o in enumerate(self.op_ids)}
        self.years = portfolio.years
        self.rl = portfolio.spec.re_lease
        self.customers = portfolio.customers
        self.u_hours = market.utilization * HOURS_PER_YEAR
        ct = portfolio.contracts
        self.cids = list(ct.index)
        self.lessor = ct["lessor"].to_dict()
        self.csite = {c: (s if isinstance(s, str) else None) for c, s in ct["site"].items()}
        self.mw = ct["mw"].astype(float).to_dict()
        self.annual = ct["annual_usd_per_year"].astype(float).to_dict()
        self.start = ct["start_year"].astype(int).to_dict()
        self.end = {c: self.start[c] + int(ct.at[c, "term_years"]) - 1 for c in self.cids}
        self.own = {o: [c for c in self.cids if self.lessor[c] == o] for o in self.op_ids}
        self.gpu = {o: self.ops.at[o, "kind"] in GPU_OWNERS for o in self.op_ids}
        self.share = {c: 1.0 for c in self.cids}  # part of the contract still in force
        self.payer = ct["lessee"].to_dict()  # lessee, or its guarantor after its default
        sites = portfolio.sites
        self.site_region = sites["region"].to_dict() if len(sites) else {}
        self.op_sites = {o: list(sites.index[sites["operator"] == o]) if len(sites) else []
                         for o in self.op_ids}
        self.slip = self._slip_factors()
        shocked = plan.defaults()
        self.cust_default = {k: v for k, v in shocked.items() if k in self.customers.index}
        self.forced = {k: v for k, v in shocked.items() if k in self.oi}
        self.default_year: dict[str, int] = {}
        self.cash = self.ops["cash_usd"].astype(float).to_dict()
        self.vacancies: list[_Vacancy] = []
        shape = (len(self.op_ids), len(self.years))
        self.out = {name: np.full(shape, np.nan) for name, _u, _d in METRICS}
        self.out["breach"][:] = 0.0
        self.out["in_default"][:] = 0.0
        self.contract_rows: list[dict[str, Any]] = []
        self.exposure_rows: list[dict[str, Any]] = []

    # -- static inputs ---------------------------------------------------------------
    def _energized_mw(self, site: str, year: int, slipped: bool) -> float:
        """existing_mw + queued_mw once the (slipped) queue year is reached."""
        row = self.pf.sites.loc[site]
        q = self.plan.queue_year(row["queue_year"]) if slipped else row["queue_year"]
        on = not _blank(q) and year >= q
        return float(row["existing_mw"]) + (float(row["queued_mw"]) if on else 0.0)

    def _slip_factors(self) -> dict[tuple[str, int], float]:
        """Share of each contract's MW energized after slips relative to without them.

        At a site, each lessor's contracts in their term take the energized MW in order of
        start year (then id); the factor is (MW covered with slips) ÷ (MW covered without);
        1 where nothing slips.
        """
        slip = {(c, y): 1.0 for c in self.cids for y in self.years}
        for y in self.years:
            groups: dict[tuple[str, str], list[str]] = {}
            for c in self.cids:
                if self.csite[c] is not None and self.start[c] <= y <= self.end[c]:
                    groups.setdefault((self.lessor[c], self.csite[c]), []).append(c)
            for (_o, s), members in groups.items():
                e0, e1 = self._energized_mw(s, y, False), self._energized_mw(s, y, True)
                if e1 >= e0:
                    continue
                used = 0.0
                for c in sorted(members, key=lambda c: (self.start[c], c)):
                    f0 = min(1.0, max(0.0, (e0 - used) / self.mw[c]))
                    f1 = min(1.0, max(0.0, (e1 - used) / self.mw[c]))
                    slip[(c, y)] = f1 / f0 if f0 > 0 else 1.0
                    used += self.mw[c]
        return slip

    def energy_price(self, site: str | None, year: int) -> float:
        """USD/MWh before power shocks: the site's, else the national mean."""
        table = self.market.energy_price_usd_per_mwh
        if site is not None and site in table.index:
            return float(table.at[site, year])
        return float(self.market.national_energy_price_usd_per_mwh[year])

    def _window_mean(self, series: pd.Series, year: int) -> float:
        ys = [t for t in range(year, year + self.rl.window_years) if t in series.index]
        return float(series.loc[ys].mean()) if ys else float(series.iloc[-1])

    def relet_rate(self, o: str, site: str | None, year: int) -> float:
        """USD per MW-year a freed MW of ``o`` earns when re-let in ``year`` (before any
        power pass-through): (1 − haircut) × shock factors × the window mean of
        fleet_h100e_per_mw × compute price (GPU owners) or of the regional capacity value."""
        if self.gpu[o]:
            base = float(self.ops.at[o, "fleet_h100e_per_mw"]) * self._window_mean(
                self.market.compute_price_usd_per_h100e_year, year)
        else:
            cap = self.market.capacity_value_usd_per_mw_year
            region = self.site_region.get(site, NATIONAL) if site is not None else NATIONAL
            base = self._window_mean(cap.loc[region if region in cap.index else NATIONAL],
                                     year)
        return base * (1.0 - self.rl.haircut) * self.plan.relet_factor(year, self.gpu[o])

    # -- defaults ----------------------------------------------------------------------
    def _defaulted_by(self, k: str, year: int) -> bool:
        if k in self.oi:
            return k in self.default_year and self.default_year[k] <= year
        return k in self.cust_default and self.cust_default[k][0] <= year

    def guarantee(self, k: str, year: int) -> tuple[str | None, float]:
        """(guarantor, share it takes over) when customer ``k`` defaults in ``year``."""
        if k not in self.customers.index:
            return None, 0.0
        g = self.customers.at[k, "guarantor"]
        g_share = float(self.customers.at[k, "guaranteed_share"])
        if not isinstance(g, str) or g_share <= 0 or self._defaulted_by(g, year):
            return None, 0.0
        return g, g_share

    def _exogenous_rate(self, p: str, y: int) -> float:
        """Share of its dues a payer outside the clearing pays in ``y``."""
        if p in self.forced and self.forced[p][0] == y:
            return 1.0 - self.forced[p][1]
        if p in self.cust_default and self.cust_default[p][0] == y:
            lgd = self.cust_default[p][1]
            return 1.0 - lgd + lgd * self.guarantee(p, y)[1]
        return 0.0 if p in self.oi else 1.0  # a defaulted operator's contracts have ended

    # -- one year ----------------------------------------------------------------------
    def step(self, y: int) -> None:
        for o, (fy, _lgd) in self.forced.items():
            if fy == y and o not in self.default_year:
                self.default_year[o] = y
        net = [o for o in self.op_ids if o not in self.default_year]
        ni = {o: k for k, o in enumerate(net)}
        self._expire(y)
        yr = self._dues(y)

        n = len(net)
        L, b = np.zeros((n, n)), np.zeros(n)
        e = np.array([self.cash[o] for o in net], dtype=float)
        for c in self.cids:
            d, p, lo = yr.due[c], self.payer[c], self.lessor[c]
            if d <= 0:
                yr.paid[c] = 0.0
            elif p in ni:
                if lo in ni:
                    L[ni[p], ni[lo]] += d
                else:  # the estate of a defaulted lessor collects outside the network
                    b[ni[p]] += d
            else:
                yr.paid[c] = d * self._exogenous_rate(p, y)
                if lo in ni:
                    e[ni[lo]] += yr.paid[c]
        flows = {o: self._flows(o, y, yr) for o in net}
        for o, f in flows.items():
            b[ni[o]] += f["debt_service"] + f["opex"] + f["power"]
            e[ni[o]] += f["merchant"] + f["relet_rev"]

        clearing = clearing_lp(L, e, b)
        for c in self.cids:
            if yr.due[c] > 0 and self.payer[c] in ni:
                yr.paid[c] = yr.due[c] * float(clearing.recovery[ni[self.payer[c]]])
        self._record(y, net, ni, yr, flows, clearing)
        for o in net:
            if bool(clearing.defaulted[ni[o]]):
                self.default_year[o] = y
                self.out["in_default"][self.oi[o], self.years.index(y)] = 1.0
        self._terminate(y)

    def _expire(self, y: int) -> None:
        """Contracts that ended last year free their MW (re-let after the delay)."""
        for c in self.cids:
            if y == self.end[c] + 1 and self.share[c] > 0 and self.end[c] >= self.years[0]:
                self.vacancies.append(_Vacancy(self.lessor[c], self.csite[c],
                                               self.mw[c] * self.share[c], y,
                                               y + self.rl.delay_years))
                self.share[c] = 0.0

    def _dues(self, y: int) -> _Year:
        """D_cy = A_c · share_c · slip_cy · rate_cy for contracts in their term."""
        yr = _Year(book={}, due={}, delivered={}, unenergized={})
        for c in self.cids:
            active = self.start[c] <= y <= self.end[c]
            yr.book[c] = self.annual[c] if active else 0.0
            yr.due[c] = yr.delivered[c] = yr.unenergized[c] = 0.0
            if active and self.share[c] > 0:
                f = self.slip[(c, y)]
                yr.due[c] = self.annual[c] * self.share[c] * f * self.plan.contract_factor(
                    self.start[c], y, self.gpu[self.lessor[c]])
                yr.delivered[c] = self.mw[c] * self.share[c] * f
                yr.unenergized[c] = self.mw[c] * self.share[c] * (1.0 - f)
        return yr

    def _flows(self, o: str, y: int, yr: _Year) -> dict[str, float]:
        """Operator ``o``'s own flows in ``y``: re-lets, merchant, opex, power, debt service.

        A freed MW is re-let when its rate beats the variable cost per MW (opex per MW, and
        power when the operator buys it); the capacity value excludes energy, so a landlord
        that buys the power passes it through at cost, while the compute price includes it.
        """
        row = self.ops.loc[o]
        pays = bool(row["pays_power"])
        power_factor = self.plan.power_factor(y)
        var_cost = float(row["opex_usd_per_mw_year"])
        occupancy = min(1.0, max(0.0, self.plan.demand_factor(y)))
        relet_rev = relet_mw = idle = power = 0.0
        for v in self.vacancies:
            if v.lessor != o or y < v.idle_from:
                continue
            operated = 0.0
            if y >= v.relet_from:
                rate = self.relet_rate(o, v.site, y)
                power_mw = (self.u_hours * self.energy_price(v.site, y) * power_factor
                            if pays else 0.0)
                passed = 0.0 if self.gpu[o] else power_mw
                if rate + passed > var_cost + power_mw:
                    operated = v.mw * occupancy
                    relet_rev += operated * (rate + passed)
                    power += operated * power_mw
            relet_mw += operated
            idle += v.mw - operated
        own = self.own[o]
        delivered = sum(yr.delivered[c] for c in own)
        if pays:
            power += power_factor * self.u_hours * (
                sum(yr.delivered[c] * self.energy_price(self.csite[c], y) for c in own)
                + float(row["merchant_mw"]) * self._operator_price(o, y))
        maturity = row["debt_maturity_year"]
        return {
            "relet_rev": relet_rev,
            "relet_mw": relet_mw,
            "merchant": float(row["merchant_revenue_usd_per_year"]) * self.plan.demand_factor(y),
            "power": power,
            "opex": float(row["opex_usd_per_year"]) + var_cost * (delivered + relet_mw),
            "debt_service": float(row["debt_service_usd_per_year"])
            if _blank(maturity) or y <= maturity else 0.0,
            "delivered_mw": delivered,
            "stranded_mw": idle + sum(yr.unenergized[c] for c in own),
        }

    def _operator_price(self, o: str, y: int) -> float:
        """Mean energy price over the operator's sites (national mean without sites)."""
        if self.op_sites[o]:
            return float(np.mean([self.energy_price(s, y) for s in self.op_sites[o]]))
        return self.energy_price(None, y)

    def _record(self, y: int, net: list[str], ni: dict[str, int], yr: _Year,
                flows: dict[str, dict[str, float]], clearing: Any) -> None:
        """Metrics of every operator in the clearing, contract rows, direct exposures."""
        j = self.years.index(y)
        for o in self.op_ids:
            if o in self.default_year and self.default_year[o] <= y:
                self.out["in_default"][self.oi[o], j] = 1.0
        for o in net:
            k, f, own = ni[o], flows[o], self.own[o]
            contract_rev = sum(yr.paid[c] for c in own)
            contracted = sum(yr.book[c] for c in own)
            lease_cost = sum(yr.due[c] for c in self.cids if self.payer[c] == o)
            revenue = contract_rev + f["relet_rev"] + f["merchant"]
            ebitda = revenue - lease_cost - f["opex"] - f["power"]
            dscr = ebitda / f["debt_service"] if f["debt_service"] > 0 else np.nan
            cov_start = self.ops.at[o, "covenant_start_year"]
            tested = _blank(cov_start) or y >= cov_start
            by_payer: dict[str, float] = {}
            for c in own:
                if yr.due[c] > 0:
                    by_payer[self.payer[c]] = by_payer.get(self.payer[c], 0.0) + yr.due[c]
            total = sum(by_payer.values())
            shares = np.array(list(by_payer.values())) / total if total > 0 else None
            values = {
                "contracted_revenue_usd_per_year": contracted,
                "contract_revenue_usd_per_year": contract_rev,
                "re_let_revenue_usd_per_year": f["relet_rev"],
                "merchant_revenue_usd_per_year": f["merchant"],
                "revenue_usd_per_year": revenue,
                "revenue_at_risk_usd_per_year": contracted - contract_rev,
                "lease_cost_usd_per_year": lease_cost,
                "opex_usd_per_year": f["opex"],
                "power_cost_usd_per_year": f["power"],
                "ebitda_usd_per_year": ebitda,
                "debt_service_usd_per_year": f["debt_service"],
                "dscr": dscr,
                "breach": float(tested and not np.isnan(dscr)
                                and dscr < float(self.ops.at[o, "covenant_min_dscr"])),
                "top_customer_share": float(shares.max()) if shares is not None else np.nan,
                "hhi": float((shares ** 2).sum()) if shares is not None else np.nan,
                "contracted_mw": sum(self.mw[c] for c in own if yr.book[c] > 0),
                "delivered_mw": f["delivered_mw"],
                "re_let_mw": f["relet_mw"],
                "stranded_mw": f["stranded_mw"],
                "payments_due_usd_per_year": float(clearing.due[k]),
                "payments_made_usd_per_year": float(clearing.payments[k]),
                "recovery_rate": float(clearing.recovery[k]),
                "cash_usd": float(clearing.equity[k]),
            }
            for name, v in values.items():
                self.out[name][self.oi[o], j] = v
            self.cash[o] = float(clearing.equity[k])
            for p, v in by_payer.items():
                self.exposure_rows.append({"year": y, "operator": o, "counterparty": p,
                                           "due_usd_per_year": v, "direct_share": v / total})
        for c in self.cids:
            self.contract_rows.append({
                "contract": c, "year": y, "lessor": self.lessor[c],
                "lessee": self.pf.contracts.at[c, "lessee"], "payer": self.payer[c],
                "site": self.csite[c] or "", "share_in_force": self.share[c],
                "delivered_mw": yr.delivered[c], "contracted_usd_per_year": yr.book[c],
                "due_usd_per_year": yr.due[c], "paid_usd_per_year": yr.paid[c]})

    def _terminate(self, y: int) -> None:
        """Contracts of this year's defaulters end; a guaranteed share passes to the
        guarantor; freed MW can be re-let after the delay (not before the contract's start)."""
        for c in self.cids:
            p = self.payer[c]
            if self.share[c] <= 0 or y > self.end[c]:
                continue
            ends = self.default_year.get(p) == y or (
                p in self.cust_default and self.cust_default[p][0] == y)
            if not ends:
                continue
            g, g_share = self.guarantee(p, y)
            new_share = self.share[c] * g_share if g is not None else 0.0
            freed = self.mw[c] * (self.share[c] - new_share)
            if freed > 0 and self.lessor[c] not in self.default_year:
                self.vacancies.append(_Vacancy(
                    self.lessor[c], self.csite[c], freed, max(y + 1, self.start[c]),
                    max(y + 1 + self.rl.delay_years, self.start[c])))
            self.share[c] = new_share
            if g is not None:
                self.payer[c] = g
        self.vacancies = [v for v in self.vacancies if v.lessor not in self.default_year]


def _look_through(direct: pd.DataFrame, portfolio: Portfolio) -> pd.DataFrame:
    r"""Add end-customer exposure through chains: X = S_c + S_o X, X = (I − S_o)⁻¹ S_c.

    S_o[i, j] is the share of operator i's contract payments due from operator j, S_c[i, k]
    from end customer k; X[i, k] is i's exposure to end customer k through every chain.
    """
    cols = ["year", "operator", "counterparty", "counterparty_kind", "due_usd_per_year",
            "direct_share", "look_through_share"]
    if direct.empty:
        return pd.DataFrame(columns=cols)
    ops = list(portfolio.operators.index)
    custs = list(portfolio.customers.index)
    oi, ci = {o: i for i, o in enumerate(ops)}, {k: i for i, k in enumerate(custs)}
    frames = []
    for year, d in direct.groupby("year"):
        so, sc = np.zeros((len(ops), len(ops))), np.zeros((len(ops), len(custs)))
        for o, k, s in zip(d["operator"], d["counterparty"], d["direct_share"]):
            if k in oi:
                so[oi[o], oi[k]] += s
            else:
                sc[oi[o], ci[k]] += s
        x = np.linalg.lstsq(np.eye(len(ops)) - so, sc, rcond=None)[0]
        d = d.copy()
        d["counterparty_kind"] = ["operator" if k in oi else "customer" for k in d["counterparty"]]
        d["look_through_share"] = 0.0
        extra = []
        for o in d["operator"].unique():
            for k in custs:
                v = float(x[oi[o], ci[k]])
                if v <= 1e-12:
                    continue
                hit = (d["operator"] == o) & (d["counterparty"] == k)
                if hit.any():
                    d.loc[hit, "look_through_share"] = v
                else:
                    extra.append({"year": year, "operator": o, "counterparty": k,
                                  "counterparty_kind": "customer", "due_usd_per_year": 0.0,
                                  "direct_share": 0.0, "look_through_share": v})
        frames.append(pd.concat([d, pd.DataFrame(extra)], ignore_index=True) if extra else d)
    df = pd.concat(frames, ignore_index=True)
    return df[cols].sort_values(["year", "operator", "counterparty"]).reset_index(drop=True)


def _dataset(portfolio: Portfolio, market: Market, plan: ShockPlan, years: list[int],
             out: dict[str, np.ndarray], default_year: dict[str, int]) -> xr.Dataset:
    ops = portfolio.operators
    op_ids = list(ops.index)
    data: dict[str, xr.DataArray] = {}
    for name, units, desc in METRICS:
        data[name] = xr.DataArray(out[name], dims=("operator", "year"),
                                  attrs={"units": units, "long_name": desc})
    breach_year, dflt = [], []
    for i, o in enumerate(op_ids):
        hits = np.flatnonzero(out["breach"][i] > 0)
        breach_year.append(float(years[hits[0]]) if len(hits) else np.nan)
        dflt.append(float(default_year[o]) if o in default_year else np.nan)
    data["first_breach_year"] = xr.DataArray(
        np.array(breach_year), dims=("operator",),
        attrs={"units": "year", "long_name": "first year DSCR < covenant (NaN = never)"})
    data["default_year"] = xr.DataArray(
        np.array(dflt), dims=("operator",),
        attrs={"units": "year", "long_name": "year the operator could not pay all it owed "
               "or was shocked into default (NaN = never)"})
    data["covenant_min_dscr"] = xr.DataArray(
        ops["covenant_min_dscr"].to_numpy(float), dims=("operator",),
        attrs={"units": "1", "long_name": "minimum DSCR in the loan documents"})
    data["debt_usd"] = xr.DataArray(
        ops["debt_usd"].to_numpy(float), dims=("operator",),
        attrs={"units": "USD", "long_name": "debt outstanding at the start"})
    spec = portfolio.spec
    return xr.Dataset(
        data,
        coords={
            "operator": ("operator", np.array(op_ids, dtype=object)),
            "year": ("year", np.array(years), {"units": "year"}),
            "operator_name": ("operator", ops["name"].to_numpy(dtype=object)),
            "operator_kind": ("operator", ops["kind"].to_numpy(dtype=object)),
        },
        attrs={
            "title": f"dcplan stress test: {portfolio.name}",
            "portfolio": portfolio.name,
            "illustrative": int(spec.illustrative),
            "capacity_scenario": market.scenario,
            "shocks": json.dumps([s.text() for s in plan.shocks]),
            "re_lease": spec.re_lease.model_dump_json(),
            "utilization": market.utilization,
            **{f"version_{k}": v for k, v in package_versions().items()},
        },
    )


# ==========================================================================
# Orchestration
# ==========================================================================


def stress(
    portfolio: str | Path | Portfolio | None = None,
    shocks: list[Shock] | None = None,
    *,
    scenario: str | Path | Scenario | None = None,
    progress: Callable[[str], None] | None = None,
) -> StressResult:
    """Load, link and simulate: the Python twin of ``dcplan stress``.

    Parameters
    ----------
    portfolio : portfolio YAML (``None`` = bundled example) or a loaded :class:`Portfolio`.
    shocks : extra shocks (e.g. from ``--shock``), added to the portfolio's own.
    scenario : capacity scenario YAML (``None`` = bundled us-base) or a loaded one.
    progress : called with a stage label ("load", "capacity", "simulate").

    Examples
    --------
    >>> from planner.stress import stress
    >>> r = stress()  # doctest: +SKIP
    >>> r.metrics["dscr"].sel(operator="cipher", year=2030).item()  # doctest: +SKIP
    """
    step = progress or (lambda _s: None)
    t0 = time.perf_counter()
    step("load")
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    pf = portfolio if isinstance(portfolio, Portfolio) else \
        load_portfolio(portfolio, sc.regions, sc.geometry)
    extra = list(shocks or [])
    check_shock_targets(extra, pf.operators, pf.customers, pf.spec.years)
    all_shocks = list(pf.spec.shocks) + extra
    missing = [y for y in pf.years if y not in sc.years]
    if missing:
        raise InputError(f"portfolio years {pf.years[0]}–{pf.years[-1]} are not all inside "
                         f"the capacity scenario '{sc.name}' years {sc.years[0]}–{sc.years[-1]}",
                         file=pf.path, key="years")
    t1 = time.perf_counter()
    step("capacity")
    plan = ShockPlan(all_shocks)
    market = market_from_scenario(sc, pf, plan.demand_multiplier(sc.years))
    t2 = time.perf_counter()
    step("simulate")
    result = simulate(pf, all_shocks, market)
    result.seconds = {"load": t1 - t0, "capacity": t2 - t1,
                      "simulate": time.perf_counter() - t2}
    result.metrics.attrs["capacity_scenario_path"] = str(sc.path)
    return result


# ==========================================================================
# Outputs
# ==========================================================================


def operators_by_year(result: StressResult) -> pd.DataFrame:
    """Tidy (operator, year) table of every metric."""
    ds = result.metrics
    names = [m for m, _u, _d in METRICS]
    df = ds[names].to_dataframe().reset_index()
    df.insert(1, "kind", df["operator"].map(result.portfolio.operators["kind"]))
    return df.drop(columns=["operator_name", "operator_kind"], errors="ignore")


def write_stress(result: StressResult, out_dir: str | Path) -> Path:
    """Write stress.nc, CSVs, summary.json and the two PNGs atomically."""
    out_dir = Path(out_dir)
    pf = result.portfolio
    with atomic_folder(out_dir) as tmp:
        ds = result.metrics.copy()
        hashes = {k: file_sha256(p) for k, p in pf.table_paths.items() if p and Path(p).is_file()}
        ds.attrs.update({f"sha256_{k}": v for k, v in hashes.items()})
        ds.to_netcdf(tmp / "stress.nc", engine="netcdf4")
        operators_by_year(result).to_csv(tmp / "operators_by_year.csv", index=False,
                                         float_format="%.6g")
        summary = result.summary()
        summary.to_csv(tmp / "summary.csv", index=False, float_format="%.6g")
        result.contracts.to_csv(tmp / "contracts_by_year.csv", index=False, float_format="%.6g")
        result.exposure.to_csv(tmp / "exposure.csv", index=False, float_format="%.6g")
        result.market.table().to_csv(tmp / "capacity_values.csv", index=False,
                                     float_format="%.6g")
        plot_dscr(result, tmp / "dscr.png")
        plot_contract_graph(result, tmp / "contract_graph.png")
        info = {
            "portfolio": pf.name,
            "illustrative": pf.spec.illustrative,
            "capacity_scenario": result.market.scenario,
            "years": [pf.years[0], pf.years[-1]],
            "shocks": [s.text() for s in result.shocks],
            "re_lease": pf.spec.re_lease.model_dump(),
            "operators": summary.set_index("operator").to_dict(orient="index"),
            "seconds": result.seconds,
            "inputs": pf.table_paths,
            "inputs_sha256": hashes,
        }
        (tmp / "summary.json").write_text(json.dumps(_clean(info), indent=2) + "\n")
    return out_dir


_KIND_COLOR = {"landlord": "#4c72b0", "gpu_cloud": "#55a868", "integrated": "#8172b2"}


def plot_dscr(result: StressResult, path: str | Path) -> None:
    """DSCR per operator and year, each with its covenant minimum (dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = result.metrics
    years = ds.year.values
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=110)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    top = 1.0
    for n, o in enumerate(ds.operator.values):
        c = colors[n % len(colors)]
        d = ds["dscr"].sel(operator=o).values
        name = str(ds["operator_name"].sel(operator=o).values)
        ax.plot(years, d, "o-", color=c, label=name, ms=4)
        cov = float(ds["covenant_min_dscr"].sel(operator=o))
        start = result.portfolio.operators.at[o, "covenant_start_year"]
        x0 = years[0] if _blank(start) else max(years[0], int(start))
        ax.hlines(cov, x0, years[-1], colors=c, linestyles="--", lw=1, alpha=0.8)
        dy = float(ds["default_year"].sel(operator=o))
        if not math.isnan(dy):
            ax.axvline(dy, color=c, lw=1, ls=":", alpha=0.9)
            ax.annotate(f"{name} default", (dy, 0), rotation=90, va="bottom", ha="right",
                        fontsize=8, color=c)
        finite = d[np.isfinite(d)]
        if finite.size:
            top = max(top, float(np.nanmax(finite)), cov)
    finite_all = ds["dscr"].values[np.isfinite(ds["dscr"].values)]
    low = min(0.0, float(finite_all.min())) if finite_all.size else 0.0
    ax.set_ylim(max(low, -3.0) - 0.15, min(top * 1.1, 8.0))
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xlabel("year")
    ax.set_ylabel("DSCR = EBITDA ÷ debt service")
    shocks = ", ".join(s.text() for s in result.shocks) or "no shock"
    ax.set_title(f"{result.portfolio.name}: DSCR by operator (dashed: its covenant minimum, "
                 f"from the first tested year)\nshocks: {shocks}",
                 fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _layers(pf: Portfolio) -> dict[str, int]:
    """Column of each party: end customers 0, an operator 1 + the deepest of its lessees."""
    ct = pf.contracts
    depth: dict[str, int] = {k: 0 for k in pf.customers.index}
    ops = list(pf.operators.index)
    for o in ops:
        depth.setdefault(o, 1)
    for _ in range(len(ops) + 1):  # longest path, bounded (cycles stop growing)
        for lo, le in zip(ct["lessor"], ct["lessee"]):
            depth[lo] = min(len(ops) + 1, max(depth[lo], depth.get(le, 0) + 1))
    return depth


def _label_spots(edges: list[tuple[float, float, float, float]]) -> list[tuple[float, float]]:
    """A point on each edge for its label, moved along the edge so labels do not overlap
    (greedy start, then a few rounds of local improvement)."""
    fractions = (0.45, 0.3, 0.6, 0.22, 0.7, 0.38, 0.52)

    def spot(e: tuple[float, float, float, float], f: float) -> tuple[float, float]:
        return e[0] + f * (e[2] - e[0]), e[1] + f * (e[3] - e[1])

    def clashes(k: int, xy: tuple[float, float], chosen: list[tuple[float, float]]) -> int:
        return sum(1 for m, (px, py) in enumerate(chosen) if m != k
                   and abs(px - xy[0]) < 0.95 and abs(py - xy[1]) < 0.4)

    chosen: list[tuple[float, float]] = []
    for k, e in enumerate(edges):
        chosen.append(min((spot(e, f) for f in fractions),
                          key=lambda xy, k=k: clashes(k, xy, chosen)))
    for _ in range(4):
        for k, e in enumerate(edges):
            chosen[k] = min((spot(e, f) for f in fractions),
                            key=lambda xy, k=k: clashes(k, xy, chosen))
    return chosen


def plot_contract_graph(result: StressResult, path: str | Path) -> None:
    """The contract graph: lessors left, end customers right; defaults red, breaches orange.

    Contracts between the same lessor and lessee are drawn as one arrow labelled with their
    ids, total MW and total annual payment; dashed arrows are guarantees.
    """
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pf = result.portfolio
    ds = result.metrics
    depth = _layers(pf)
    cols: dict[int, list[str]] = {}
    for k, dpt in depth.items():
        cols.setdefault(dpt, []).append(k)
    max_d = max(cols)
    pos = {}
    for dpt, members in cols.items():
        members.sort()
        for r, k in enumerate(members):
            pos[k] = (float(max_d - dpt) * 3.0, -(r - (len(members) - 1) / 2.0) * 1.3)
    cust_default = ShockPlan(result.shocks).defaults()
    op_default = {o: float(ds["default_year"].sel(operator=o)) for o in pf.operators.index}
    op_breach = {o: float(ds["first_breach_year"].sel(operator=o)) for o in pf.operators.index}

    height = max(len(m) for m in cols.values())
    fig, ax = plt.subplots(figsize=(3.6 * (max_d + 1) + 1.0, 1.25 * height + 1.6), dpi=110)
    boxes = {}
    for k, (x, yv) in pos.items():
        if k in pf.operators.index:
            dflt, br = op_default[k], op_breach[k]
            name, kind = str(pf.operators.at[k, "name"]), str(pf.operators.at[k, "kind"])
            face = "#d62728" if not math.isnan(dflt) else _KIND_COLOR.get(kind, "#4c72b0")
            edge = "#ff7f0e" if not math.isnan(br) and math.isnan(dflt) else "black"
            note = (f"default {int(dflt)}" if not math.isnan(dflt)
                    else f"breach {int(br)}" if not math.isnan(br) else "")
            text = "\n".join(t for t in (textwrap.fill(name, 16), kind, note) if t)
            style = {"boxstyle": "square,pad=0.5", "fc": face, "ec": edge,
                     "lw": 3 if edge != "black" else 1}
            color = "white"
        else:
            name = str(pf.customers.at[k, "name"])
            dflt = cust_default.get(k, (math.nan, 0))[0]
            ig = bool(pf.customers.at[k, "investment_grade"])
            face = "#d62728" if not math.isnan(dflt) else ("#dddddd" if ig else "#f2e6c9")
            note = f"default {int(dflt)}" if not math.isnan(dflt) else ""
            text = "\n".join(t for t in (textwrap.fill(name, 18),
                                           "investment grade" if ig else "non-IG", note) if t)
            style = {"boxstyle": "round,pad=0.5", "fc": face, "ec": "black", "lw": 1}
            color = "white" if face == "#d62728" else "black"
        boxes[k] = ax.text(x, yv, text, ha="center", va="center", fontsize=7.5, color=color,
                           bbox=style, zorder=3)

    ct = pf.contracts
    groups = list(ct.groupby(["lessor", "lessee"], sort=True))
    spots = _label_spots([(*pos[lo], *pos[le]) for (lo, le), _g in groups])
    for ((lo, le), grp), (lx, ly) in zip(groups, spots):
        (x0, y0), (x1, y1) = pos[lo], pos[le]
        ax.annotate("", (x1, y1), (x0, y0), zorder=2,
                    arrowprops={"arrowstyle": "-|>", "color": "#555555", "lw": 1.3,
                                "patchA": boxes[lo].get_bbox_patch(),
                                "patchB": boxes[le].get_bbox_patch(), "shrinkA": 2,
                                "shrinkB": 2, "mutation_scale": 14})
        ids = textwrap.fill(", ".join(grp.index), 34)
        label = (f"{ids}\n{grp['mw'].sum():,.0f} MW, "
                 f"{grp['annual_usd_per_year'].sum() / 1e9:,.2f} B USD/yr")
        ax.text(lx, ly, label, ha="center", va="center",
                fontsize=6.3, color="#222222", zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#cccccc",
                      "alpha": 0.9})
    for k in pf.customers.index:
        g = pf.customers.at[k, "guarantor"]
        if isinstance(g, str) and g in pos:
            ax.annotate("", pos[k], pos[g], zorder=2,
                        arrowprops={"arrowstyle": "-|>", "ls": "--", "color": "#888888",
                                    "patchA": boxes[g].get_bbox_patch(),
                                    "patchB": boxes[k].get_bbox_patch()})
            gx, gy = (pos[k][0] + pos[g][0]) / 2, (pos[k][1] + pos[g][1]) / 2
            ax.text(gx + 0.15, gy, f"guarantees\n{pf.customers.at[k, 'guaranteed_share']:.0%}",
                    fontsize=6.3, color="#666666", va="center")
    ax.set_xlim(-1.0, max_d * 3.0 + 1.0)
    ax.set_ylim(-(height / 2.0) * 1.3 - 0.3, (height / 2.0) * 1.3 + 0.3)
    ax.axis("off")
    shocks = ", ".join(s.text() for s in result.shocks) or "no shock"
    ax.set_title(f"{pf.name}: contracts (arrow lessor → lessee; payments flow back)\n"
                 f"shocks: {shocks}. Red: default; orange border: covenant breach",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
