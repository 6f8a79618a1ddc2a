r"""Capital and debt of the operators, year by year: capex, draws, interest, principal,
refinancing at bullet maturities, acceleration after an uncured covenant breach.

Per operator o and year y (USD, USD/year):

- **capex** K_oy: GPU capex of every contract the operator (a GPU owner) starts in y —
  IT MW × GPU capex per IT MW (``gpu_capex_usd_per_mw``, else the capacity model's chip cost
  ``capex_usd_per_unit ÷ it_kw_per_unit × 1000`` of its ``fleet_chip``) — plus facility capex
  of its sites whose queued MW are energized in y + 1: ``queued_mw × build_capex_usd_per_mw``
  (MW at the meter). Capex of contracts or builds before the first year is sunk.
- **GPU-backed draws**: a share ``gpu_debt_share`` of each contract's GPU capex is drawn in
  the same year as a delayed-draw term loan at ``gpu_debt_rate``, amortizing over the
  contract's term (security ``gpu``); tranches of the debt table are drawn in their
  ``draw_year``.
- **interest** r_t · B_t on each tranche's balance at the start of the year (a full year in
  the draw year); **scheduled principal** B_t ÷ (years left to maturity) for amortizing
  tranches from the year after the draw (from the first year for debt outstanding at the
  start); plus the flat ``debt_service_usd_per_year`` of the operators table.
- **bullet maturity**: in the maturity year the balance is refinanced when the lenders'
  tests pass — EBITDA_y > 0, leverage Σ B ÷ EBITDA_y ≤ ``financing.max_leverage`` and the
  pro-forma DSCR EBITDA_y ÷ (the year's other debt service + the new tranche's interest and
  first instalment B_t · (r' + 1 / term)) ≥ ``financing.min_dscr`` —
  into an amortizing tranche over ``financing.term_years`` at r_t + ``spread_bp`` +
  refinancing shocks; otherwise the whole balance is due that year (the **balloon**), in the
  clearing with everything else the operator owes: one that cannot pay it defaults.
- **acceleration**: after an uncured covenant breach the whole outstanding principal is due
  in the next year's clearing.

EBITDA_y for the refinancing test is the year's accrual EBITDA before the clearing (contract
dues, re-let and merchant revenue less lease dues, opex and power).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planner.stress.shocks import ShockPlan
from sites.portfolio import Financing


@dataclass
class Tranche:
    """One debt tranche during the simulation (amounts in USD, rate per year)."""

    tranche: str
    operator: str
    instrument: str
    security: str
    amount_usd: float
    rate: float
    draw_year: int | None  # None = outstanding at the start
    maturity_year: int
    repayment: str  # amortizing | bullet
    balance_usd: float = 0.0
    refinanced_year: int | None = None

    def repays_from(self, first_year: int) -> int:
        """First year of scheduled principal."""
        return first_year if self.draw_year is None or self.draw_year < first_year \
            else self.draw_year + 1


@dataclass
class YearDebt:
    """What one operator's debt asks of it in one year (USD, USD/year)."""

    drawn: float = 0.0
    interest: float = 0.0
    principal: float = 0.0  # scheduled (amortizing) principal
    flat: float = 0.0  # flat debt service of the operators table
    balloon: float = 0.0  # bullet principal not refinanced
    accelerated: float = 0.0  # principal accelerated after an uncured breach
    refinanced: float = 0.0  # bullet principal rolled into a new tranche

    @property
    def service(self) -> float:
        """Scheduled debt service: interest + amortization + flat service (the DSCR
        denominator)."""
        return self.interest + self.principal + self.flat

    @property
    def due(self) -> float:
        """Everything due to lenders this year."""
        return self.service + self.balloon + self.accelerated


class DebtBook:
    """Every operator's tranches; :meth:`open_year` computes what is due, :meth:`settle`
    books what was paid."""

    def __init__(self, debt: pd.DataFrame, operators: pd.DataFrame, first_year: int,
                 financing: Financing, plan: ShockPlan) -> None:
        self.first = first_year
        self.fin = financing
        self.plan = plan
        self.ops = operators
        self.tranches: list[Tranche] = []
        for t, r in debt.iterrows():
            draw = r["draw_year"]
            draw = None if pd.isna(draw) or int(draw) < first_year else int(draw)
            tr = Tranche(str(t), str(r["operator"]), str(r["instrument"]), str(r["security"]),
                         float(r["amount_usd"]), float(r["rate"]), draw,
                         int(r["maturity_year"]), str(r["repayment"]))
            tr.balance_usd = tr.amount_usd if draw is None else 0.0
            self.tranches.append(tr)
        self.years_of: dict[str, dict[int, YearDebt]] = {o: {} for o in operators.index}
        self.accelerate_in: dict[str, int] = {}
        self.flat_left = {o: float(operators.at[o, "debt_usd"]) for o in operators.index}

    def of(self, o: str) -> list[Tranche]:
        return [t for t in self.tranches if t.operator == o]

    def add_gpu_loan(self, contract: str, o: str, amount: float, rate: float, year: int,
                     term_years: int) -> None:
        """A GPU-backed delayed-draw term loan for one contract's GPUs, drawn in ``year``."""
        if amount <= 0:
            return
        self.tranches.append(Tranche(f"{contract}:gpu_loan", o, "ddtl (gpu_debt_share)", "gpu",
                                     amount, rate, year, year + max(1, term_years) - 1,
                                     "amortizing"))

    def outstanding(self, o: str) -> float:
        """Principal outstanding now (tranches + the flat debt_usd still on the books)."""
        return sum(t.balance_usd for t in self.of(o)) + self.flat_left[o]

    def open_year(self, o: str, y: int, ebitda_estimate: float, flat_service: float) -> YearDebt:
        """Draws, interest, principal, refinancing decisions of operator ``o`` in ``y``."""
        yd = YearDebt(flat=flat_service)
        for t in self.of(o):
            if t.draw_year == y:
                t.balance_usd = t.amount_usd
                yd.drawn += t.amount_usd
        if self.accelerate_in.get(o) == y:  # everything falls due, the flat debt too
            yd.flat = 0.0
            yd.accelerated = sum(t.balance_usd for t in self.of(o)) + self.flat_left[o]
            yd.interest = sum(t.rate * t.balance_usd for t in self.of(o))
            self.years_of[o][y] = yd
            return yd
        bullets = []
        for t in self.of(o):
            if t.balance_usd <= 0:
                continue
            yd.interest += t.rate * t.balance_usd
            if t.repayment == "bullet" and y >= t.maturity_year:
                bullets.append(t)
            elif t.repayment == "amortizing" and y >= t.repays_from(self.first):
                yd.principal += t.balance_usd / max(1, t.maturity_year - y + 1)
        for t in bullets:
            new_rate = t.rate + self.fin.spread_bp / 1e4 + self.plan.refinancing_add(y)
            new_service = t.balance_usd * (new_rate + 1.0 / self.fin.term_years)
            debt = self.outstanding(o)
            ok = (ebitda_estimate > 0
                  and debt / ebitda_estimate <= self.fin.max_leverage
                  and ebitda_estimate / (yd.service - t.rate * t.balance_usd + new_service)
                  >= self.fin.min_dscr)
            if ok:
                t.refinanced_year = y
                t.rate = new_rate
                t.maturity_year = y + self.fin.term_years
                t.repayment = "amortizing"
                t.draw_year = y  # principal from y + 1 on
                yd.refinanced += t.balance_usd
            else:
                yd.balloon += t.balance_usd
        self.years_of[o][y] = yd
        return yd

    def settle(self, o: str, y: int, paid_in_full: bool) -> None:
        """Book the year's principal as repaid when the operator paid everything it owed."""
        if not paid_in_full:
            return
        yd = self.years_of[o].get(y)
        if yd is None:
            return
        if yd.accelerated > 0:
            for t in self.of(o):
                t.balance_usd = 0.0
            self.flat_left[o] = 0.0
            return
        for t in self.of(o):
            if t.balance_usd <= 0:
                continue
            if t.repayment == "bullet" and y >= t.maturity_year:
                t.balance_usd = 0.0
            elif t.repayment == "amortizing" and y >= t.repays_from(self.first):
                t.balance_usd -= t.balance_usd / max(1, t.maturity_year - y + 1)
        if yd.flat > 0 and self.flat_left[o] > 0:
            n = self._flat_years_left(o, y)
            self.flat_left[o] -= self.flat_left[o] / max(1, n)

    def prepay(self, o: str, amount: float) -> float:
        """Prepay up to ``amount`` pro rata to the tranches' balances; returns what was
        prepaid (USD)."""
        live = [t for t in self.of(o) if t.balance_usd > 0]
        total = sum(t.balance_usd for t in live)
        pay = min(amount, total)
        for t in live:
            t.balance_usd -= pay * t.balance_usd / total
        return pay

    def _flat_years_left(self, o: str, y: int) -> int:
        m = self.ops.at[o, "debt_maturity_year"]
        return 1 if pd.isna(m) else max(1, int(m) - y + 1)

    def schedule(self) -> pd.DataFrame:
        """Tidy (operator, tranche, year) table of balances, draws, interest, principal."""
        rows = []
        for t in self.tranches:
            rows.append({"operator": t.operator, "tranche": t.tranche,
                         "instrument": t.instrument, "security": t.security,
                         "amount_usd": t.amount_usd, "rate": t.rate,
                         "draw_year": t.draw_year, "maturity_year": t.maturity_year,
                         "repayment": t.repayment, "refinanced_year": t.refinanced_year,
                         "balance_end_usd": t.balance_usd})
        return pd.DataFrame(rows)
