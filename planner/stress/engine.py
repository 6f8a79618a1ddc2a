"""The yearly cash-flow engine: contract dues, re-lets, the Eisenberg–Noe clearing
(:func:`models.exposure.clearing_lp`), defaults and terminations, year by year."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from grids.tables import InputError
from models.capacity import HOURS_PER_YEAR
from models.exposure import clearing_lp
from planner.stress.financing import DebtBook, YearDebt
from planner.stress.market import NATIONAL, Market
from planner.stress.result import METRICS, StressResult, blank_values, build_dataset
from planner.stress.shocks import ShockPlan
from sites.portfolio import GPU_OWNERS, Portfolio, Shock


@dataclass
class _Vacancy:
    lessor: str
    site: str | None
    mw: float  # IT MW
    idle_from: int
    relet_from: int
    pue: float = 1.0


def simulate(portfolio: Portfolio, shocks: list[Shock], market: Market) -> StressResult:
    """Run the yearly cash-flow and clearing engine (see the :mod:`planner.stress` docstring).

    Parameters
    ----------
    portfolio : from :func:`sites.portfolio.load_portfolio`.
    shocks : every shock of the run (YAML and command line).
    market : market values for the run; with demand shocks it should come from the
        demand-shocked scenario (:func:`planner.stress.stress` takes care of that).

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
    metrics = build_dataset(portfolio, market, engine.plan, years, engine.out, engine.default_year)
    return StressResult(portfolio=portfolio, shocks=list(shocks), market=market,
                        metrics=metrics, contracts=pd.DataFrame(engine.contract_rows),
                        exposure=_look_through(pd.DataFrame(engine.exposure_rows), portfolio),
                        tranches=engine.debt.schedule(),
                        lender_losses=pd.DataFrame(engine.lender_loss_rows,
                                                   columns=["operator", "year", "security",
                                                            "exposure_usd", "paid_usd",
                                                            "loss_usd"]))


@dataclass
class _Year:
    """Per-contract amounts of one year (dicts keyed by contract id)."""

    book: dict[str, float]  # scheduled payment, no shock, USD/year
    due: dict[str, float]  # payment due after shocks and terminations, USD/year
    delivered: dict[str, float]  # MW in force and energized
    unenergized: dict[str, float]  # MW in force but not energized (slip)
    paid: dict[str, float] = field(default_factory=dict)  # after clearing, USD/year
    deferred: dict[str, float] = field(default_factory=dict)  # prepaid revenue recognized


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
        self.pue = {c: self._contract_pue(c) for c in self.cids}
        self.prepaid = ct["prepaid_share"].astype(float).fillna(0.0).to_dict()
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
        self.out["event_of_default"][:] = 0.0
        self.contract_rows: list[dict[str, Any]] = []
        self.exposure_rows: list[dict[str, Any]] = []
        self.lender_loss_rows: list[dict[str, Any]] = []
        self.debt = DebtBook(portfolio.debt, self.ops, self.years[0], portfolio.spec.financing,
                             plan)
        self.h100e_per_mw, self.gpu_capex_per_mw = self._fleets()
        self.capex = self._capex_schedule()
        self.breach_run = {o: 0 for o in self.op_ids}
        self.year_debt: dict[str, YearDebt] = {}

    # -- capital -----------------------------------------------------------------------
    def _fleets(self) -> tuple[dict[str, float], dict[str, float]]:
        """H100e and GPU capex (USD) per IT MW of each GPU owner's fleet."""
        h, k = {}, {}
        chips = self.market.chips
        for o in self.op_ids:
            row = self.ops.loc[o]
            chip = row.get("fleet_chip")
            spec = None
            if isinstance(chip, str):
                if chips is None or chip not in chips.index:
                    known = "" if chips is None else ", ".join(sorted(map(str, chips.index))[:12])
                    raise InputError(f"operator '{o}': fleet_chip '{chip}' is not a chip of the "
                                     f"capacity scenario ({known})",
                                     file=self.pf.table_paths.get("operators"),
                                     column="fleet_chip")
                spec = chips.loc[chip]
            fh = row.get("fleet_h100e_per_mw")
            if not blank_values(fh):
                h[o] = float(fh)
            elif spec is not None:
                h[o] = float(spec["h100e_per_unit"]) / float(spec["it_kw_per_unit"]) * 1000.0
            gk = row.get("gpu_capex_usd_per_mw")
            if not blank_values(gk):
                k[o] = float(gk)
            elif spec is not None:
                k[o] = float(spec["capex_usd_per_unit"]) / float(spec["it_kw_per_unit"]) * 1000.0
        return h, k

    def _capex_schedule(self) -> dict[tuple[str, int], dict[str, float]]:
        """(operator, year) → {"gpu", "facility"} capex in USD; adds the GPU-backed loans."""
        out: dict[tuple[str, int], dict[str, float]] = {}
        first, last = self.years[0], self.years[-1]
        for c in self.cids:
            o = self.lessor[c]
            if not self.gpu[o] or o not in self.gpu_capex_per_mw:
                continue
            y = self.start[c]
            if not first <= y <= last:
                continue
            amount = self.mw[c] * self.gpu_capex_per_mw[o]
            out.setdefault((o, y), {"gpu": 0.0, "facility": 0.0})["gpu"] += amount
            share = self.ops.at[o, "gpu_debt_share"]
            rate = self.ops.at[o, "gpu_debt_rate"]
            if not blank_values(share) and float(share) > 0 and not blank_values(rate):
                self.debt.add_gpu_loan(c, o, amount * float(share), float(rate), y,
                                       self.end[c] - y + 1)
        for _s, row in self.pf.sites.iterrows():
            q = row["queue_year"]
            if blank_values(q) or float(row["queued_mw"]) <= 0:
                continue
            y = int(q) - 1
            if first <= y <= last:
                amount = float(row["queued_mw"]) * float(row["build_capex_usd_per_mw"])
                out.setdefault((row["operator"], y), {"gpu": 0.0, "facility": 0.0})[
                    "facility"] += amount
        return out

    def _contract_pue(self, c: str) -> float:
        s = self.csite[c]
        if s is not None and "pue" in self.pf.sites.columns and not blank_values(
                self.pf.sites.at[s, "pue"]):
            return float(self.pf.sites.at[s, "pue"])
        return float(self.ops.at[self.lessor[c], "pue"])

    # -- static inputs ---------------------------------------------------------------
    def _energized_mw(self, site: str, year: int, slipped: bool) -> float:
        """IT MW energized: (existing_mw + queued_mw once the (slipped) queue year is
        reached) ÷ the site's PUE (site MW are at the meter, contracts in IT MW)."""
        row = self.pf.sites.loc[site]
        q = self.plan.queue_year(row["queue_year"]) if slipped else row["queue_year"]
        on = not blank_values(q) and year >= q
        pue = float(row["pue"]) if "pue" in row.index and not blank_values(row["pue"]) else 1.0
        return (float(row["existing_mw"]) + (float(row["queued_mw"]) if on else 0.0)) / pue

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

    def relet_rate(self, o: str, site: str | None, year: int, pue: float = 1.0) -> float:
        """USD per IT MW-year a freed MW of ``o`` earns when re-let in ``year`` (before any
        power pass-through): (1 − haircut) × shock factors × the levelized value — H100e per
        IT MW × the levelized compute price (GPU owners), or PUE × the levelized regional
        value of a facility MW (landlords); see :meth:`Market.levelized_capacity_value`."""
        w = self.rl.window_years
        if self.gpu[o]:
            base = self.h100e_per_mw[o] * self.market.levelized_compute_price(year, w)
        else:
            region = self.site_region.get(site, NATIONAL) if site is not None else NATIONAL
            base = pue * self.market.levelized_capacity_value(region, year, w)
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
        for c in self.cids:  # prepayments from customers in the contract's start year
            lo, p = self.lessor[c], self.payer[c]
            if (self.prepaid[c] > 0 and self.start[c] == y and lo in ni and p not in self.oi
                    and self.share[c] > 0 and self._exogenous_rate(p, y) > 0):
                e[ni[lo]] += self.prepaid[c] * self.annual[c] * (self.end[c] - self.start[c] + 1)
        flows = {o: self._flows(o, y, yr) for o in net}
        for o, f in flows.items():
            est = self._ebitda_estimate(o, y, yr, f)
            yd = self.debt.open_year(o, y, est, f["flat_service"])
            f["debt"] = yd
            b[ni[o]] += yd.due + f["opex"] + f["power"] + f["capex_gpu"] + f["capex_facility"]
            e[ni[o]] += f["merchant"] + f["relet_rev"] + yd.drawn

        clearing = clearing_lp(L, e, b)
        for c in self.cids:
            if yr.due[c] > 0 and self.payer[c] in ni:
                yr.paid[c] = yr.due[c] * float(clearing.recovery[ni[self.payer[c]]])
        self._record(y, net, ni, yr, flows, clearing)
        for o in net:
            k = ni[o]
            yd = flows[o]["debt"]
            defaulted = bool(clearing.defaulted[k])
            if defaulted:
                self.default_year[o] = y
                self.out["in_default"][self.oi[o], self.years.index(y)] = 1.0
                self._lender_loss(o, y, yd, float(clearing.recovery[k]))
            self.debt.settle(o, y, not defaulted)
            self.out["debt_outstanding_usd"][self.oi[o], self.years.index(y)] = \
                self.debt.outstanding(o)
            if not defaulted:
                self._sweep(o, y, flows[o])
                self.out["debt_outstanding_usd"][self.oi[o], self.years.index(y)] = \
                    self.debt.outstanding(o)
                self._covenant(o, y)
        for o, (fy, _lgd) in self.forced.items():
            if fy == y and o in self.oi and o not in net:
                self._lender_loss(o, y, YearDebt(), 1.0 - self.forced[o][1])
        self._terminate(y)

    def _sweep(self, o: str, y: int, f: dict[str, Any]) -> None:
        """Cash above the reserve (``financing.cash_reserve_years`` × the year's cash costs)
        is swept: ``sweep_to_debt`` of it prepays debt, the rest is paid out to equity."""
        fin = self.pf.spec.financing
        j = self.years.index(y)
        self.out["prepaid_usd_per_year"][self.oi[o], j] = 0.0
        self.out["distributed_usd_per_year"][self.oi[o], j] = 0.0
        if fin.cash_reserve_years is None:
            return
        lease = self.out["lease_cost_usd_per_year"][self.oi[o], j]
        costs = f["debt"].service + lease + f["opex"] + f["power"]
        excess = self.cash[o] - fin.cash_reserve_years * costs
        if excess <= 0:
            return
        prepaid = self.debt.prepay(o, excess * fin.sweep_to_debt)
        paid_out = excess - prepaid
        self.cash[o] -= excess
        self.out["prepaid_usd_per_year"][self.oi[o], j] = prepaid
        self.out["distributed_usd_per_year"][self.oi[o], j] = paid_out
        self.out["cash_usd"][self.oi[o], j] = self.cash[o]

    def _ebitda_estimate(self, o: str, y: int, yr: _Year, f: dict[str, Any]) -> float:
        """Accrual EBITDA before the clearing (dues as if paid): the refinancing test."""
        own = self.own[o]
        revenue = sum(yr.due[c] + yr.deferred.get(c, 0.0) for c in own) + f["relet_rev"] \
            + f["merchant"]
        lease = sum(yr.due[c] for c in self.cids if self.payer[c] == o)
        return revenue - lease - f["opex"] - f["power"]

    def _covenant(self, o: str, y: int) -> None:
        """A breach starts a cure period of ``covenant_cure_years``; a breach in every year
        of it is an event of default: the debt is accelerated (due next year)."""
        j = self.years.index(y)
        if self.out["breach"][self.oi[o], j] > 0:
            self.breach_run[o] += 1
        else:
            self.breach_run[o] = 0
        cure = self.ops.at[o, "covenant_cure_years"]
        cure = 1 if blank_values(cure) else int(cure)
        if self.breach_run[o] > cure and self.debt.outstanding(o) > 0:
            self.out["event_of_default"][self.oi[o], j] = 1.0
            self.debt.accelerate_in[o] = y + 1
            self.breach_run[o] = 0

    def _lender_loss(self, o: str, y: int, yd: YearDebt, recovery: float) -> None:
        """Lenders' loss when ``o`` defaults in ``y``: every tranche's balance plus the
        year's interest, less the pari-passu share paid that year (before collateral)."""
        by_sec: dict[str, float] = {}
        for t in self.debt.of(o):
            if t.balance_usd > 0:
                by_sec[t.security] = by_sec.get(t.security, 0.0) + t.balance_usd * (1 + t.rate)
        flat = self.debt.flat_left[o]
        if flat > 0:
            by_sec["unsecured"] = by_sec.get("unsecured", 0.0) + flat
        due_share = {k: v for k, v in by_sec.items()}
        total_due = sum(due_share.values())
        paid_total = recovery * yd.due if yd.due > 0 else recovery * total_due
        for sec, exp in by_sec.items():
            paid = paid_total * exp / total_due if total_due > 0 else 0.0
            paid = min(paid, exp)
            self.lender_loss_rows.append({"operator": o, "year": y, "security": sec,
                                          "exposure_usd": exp, "paid_usd": paid,
                                          "loss_usd": exp - paid})

    def _expire(self, y: int) -> None:
        """Contracts that ended last year free their MW (re-let after the delay)."""
        for c in self.cids:
            if y == self.end[c] + 1 and self.share[c] > 0 and self.end[c] >= self.years[0]:
                self.vacancies.append(_Vacancy(self.lessor[c], self.csite[c],
                                               self.mw[c] * self.share[c], y,
                                               y + self.rl.delay_years, self.pue[c]))
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
                yr.due[c] = (self.annual[c] * (1.0 - self.prepaid[c]) * self.share[c] * f
                             * self.plan.contract_factor(self.start[c], y,
                                                         self.gpu[self.lessor[c]]))
                yr.deferred[c] = self.annual[c] * self.prepaid[c] * self.share[c] * f
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
                rate = self.relet_rate(o, v.site, y, v.pue)
                power_mw = (self.u_hours * v.pue * self.energy_price(v.site, y) * power_factor
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
                sum(yr.delivered[c] * self.pue[c] * self.energy_price(self.csite[c], y)
                    for c in own)
                + float(row["merchant_mw"]) * self._operator_price(o, y))
        maturity = row["debt_maturity_year"]
        capex = self.capex.get((o, y), {"gpu": 0.0, "facility": 0.0})
        return {
            "capex_gpu": capex["gpu"],
            "capex_facility": capex["facility"],
            "deferred": sum(yr.deferred.get(c, 0.0) for c in own),
            "relet_rev": relet_rev,
            "relet_mw": relet_mw,
            "merchant": float(row["merchant_revenue_usd_per_year"]) * self.plan.demand_factor(y),
            "power": power,
            "opex": float(row["opex_usd_per_year"]) + var_cost * (delivered + relet_mw),
            "flat_service": float(row["debt_service_usd_per_year"])
            if blank_values(maturity) or y <= maturity else 0.0,
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
            contract_rev = sum(yr.paid[c] + yr.deferred.get(c, 0.0) for c in own)
            contracted = sum(yr.book[c] for c in own)
            lease_cost = sum(yr.due[c] for c in self.cids if self.payer[c] == o)
            revenue = contract_rev + f["relet_rev"] + f["merchant"]
            ebitda = revenue - lease_cost - f["opex"] - f["power"]
            yd: YearDebt = f["debt"]
            dscr = ebitda / yd.service if yd.service > 0 else np.nan
            cov_start = self.ops.at[o, "covenant_start_year"]
            tested = blank_values(cov_start) or y >= cov_start
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
                "debt_service_usd_per_year": yd.service,
                "interest_usd_per_year": yd.interest,
                "principal_usd_per_year": yd.principal,
                "balloon_usd_per_year": yd.balloon,
                "refinanced_usd_per_year": yd.refinanced,
                "accelerated_usd_per_year": yd.accelerated,
                "debt_drawn_usd_per_year": yd.drawn,
                "gpu_capex_usd_per_year": f["capex_gpu"],
                "facility_capex_usd_per_year": f["capex_facility"],
                "leverage": self.debt.outstanding(o) / ebitda if ebitda > 0 else np.nan,
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
                "due_usd_per_year": yr.due[c], "paid_usd_per_year": yr.paid[c],
                "prepaid_recognized_usd_per_year": yr.deferred.get(c, 0.0)})

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
                    max(y + 1 + self.rl.delay_years, self.start[c]), self.pue[c]))
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
