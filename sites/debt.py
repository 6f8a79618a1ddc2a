"""Debt tranches of a portfolio's operators: the ``debt`` table and its checks.

One row per tranche (a loan, a delayed-draw term loan, a note, a convertible): who owes
it, how much, at what rate, when it is drawn, when it matures, whether it amortizes or is
repaid in one bullet, and what secures it. :func:`check_interest` compares the interest
an operator reports with the interest its tranches imply and rejects a portfolio whose
interest and debt imply an impossible rate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, TableSchema, check_references, row_error

#: How a tranche is repaid.
REPAYMENTS = {
    "amortizing": "equal principal instalments from the year after the draw (or from the "
                  "first year for debt outstanding at the start) to the maturity year",
    "bullet": "interest only; the whole principal is due in the maturity year, where the "
              "operator refinances or repays it (docs/stress.md, Maturities and refinancing)",
}
#: What secures a tranche: its lenders form one creditor class each.
SECURITIES = {
    "gpu": "GPU-backed (delayed-draw term loans secured by the GPUs and their contracts)",
    "facility": "secured by a datacenter facility (project notes)",
    "unsecured": "senior unsecured notes, revolvers and convertibles",
}
#: Highest interest rate an operator's reported interest may imply on its debt (1/year).
#: dcplan assumption: the AI-infrastructure debt in the bundled sources costs 6–15 %
#: (CoreWeave 10-Q, June 2025: effective rates 7–15 %); an implied rate above this says
#: that the debt or the interest in the portfolio is wrong.
MAX_IMPLIED_RATE = 0.15
#: Largest relative gap between reported interest and the interest the tranches imply.
INTEREST_TOLERANCE = 0.25

DEBT = TableSchema(
    name="debt",
    description="Debt tranches: amount, rate, draw, maturity, repayment, security.",
    key=("tranche",),
    columns=(
        Column("tranche", "str", "-", "tranche id"),
        Column("operator", "str", "-", "operator that owes it"),
        Column("instrument", "str", "-", "loan, ddtl, notes, convertible, revolver (text, "
               "shown in outputs)"),
        Column("security", "str", "-", "gpu, facility or unsecured (the creditor class)"),
        Column("amount_usd", "float", "USD", "principal (outstanding at the start, or drawn "
               "in draw_year)", minimum=0, exclusive_minimum=True),
        Column("rate", "float", "1/year", "interest rate per year (0.09 = 9 %)", minimum=0,
               maximum=1),
        Column("draw_year", "int", "year", "year the principal is drawn (cash in); blank = "
               "outstanding before the first year", required=False, minimum=1900,
               maximum=2300),
        Column("maturity_year", "int", "year", "year the last principal is due", minimum=1900,
               maximum=2300),
        Column("repayment", "str", "-", "amortizing or bullet"),
    ),
)


def check_debt(df: pd.DataFrame, path: str | Path, operators: pd.DataFrame,
               first_year: int) -> pd.DataFrame:
    """Cross-check the debt table against the operators; raises :class:`InputError`."""
    check_references(df, "operator", operators["operator"], "operator", path)
    for col, allowed in (("repayment", REPAYMENTS), ("security", SECURITIES)):
        bad = np.flatnonzero(~df[col].isin(list(allowed)))
        if len(bad):
            i = int(bad[0])
            raise row_error(df, i, col, f"expected one of {', '.join(allowed)}, got "
                            f"'{df.at[i, col]}'", path)
    draw = df["draw_year"].astype(float).fillna(first_year - 1)
    early = np.flatnonzero(df["maturity_year"].astype(float) < np.maximum(draw, first_year))
    if len(early):
        i = int(early[0])
        raise row_error(df, i, "maturity_year", f"expected a year >= the draw year and >= the "
                        f"first portfolio year {first_year}, got {df.at[i, 'maturity_year']}",
                        path)
    return df


def opening_debt_usd(debt: pd.DataFrame, operator: str, first_year: int) -> tuple[float, float]:
    """(principal outstanding at the start, its interest for the first year), USD and USD/year.

    Tranches drawn before or in the first year count.
    """
    d = debt[debt["operator"] == operator]
    on = d["draw_year"].isna() | (d["draw_year"].astype(float) <= first_year)
    amount = float(d.loc[on, "amount_usd"].sum())
    interest = float((d.loc[on, "amount_usd"] * d.loc[on, "rate"]).sum())
    return amount, interest


def check_interest(operators: pd.DataFrame, debt: pd.DataFrame, path: str | Path,
                   first_year: int) -> None:
    """Reported interest must fit the debt: implied rate ≤ :data:`MAX_IMPLIED_RATE` and,
    where the operator has tranches, within :data:`INTEREST_TOLERANCE` of their interest.

    The debt is the tranches outstanding at the start plus the flat ``debt_usd``.
    """
    ops = operators.reset_index(drop=True)
    for i, row in ops.iterrows():
        reported = row.get("reported_interest_usd_per_year", np.nan)
        if reported is None or not np.isfinite(float(reported)) or float(reported) <= 0:
            continue
        reported = float(reported)
        amount, modelled = opening_debt_usd(debt, row["operator"], first_year)
        total = amount + float(row["debt_usd"])
        if total <= 0:
            raise row_error(ops, int(i), "reported_interest_usd_per_year",
                            f"interest of {reported:,.0f} USD/year but no debt (debt_usd 0 and "
                            "no tranche in the debt table)", path)
        rate = reported / total
        if rate > MAX_IMPLIED_RATE:
            raise row_error(ops, int(i), "reported_interest_usd_per_year",
                            f"{reported:,.0f} USD/year of interest on {total:,.0f} USD of debt "
                            f"implies {rate:.1%} a year; expected at most "
                            f"{MAX_IMPLIED_RATE:.0%} (is debt missing?)", path)
        if amount > 0:
            modelled += float(row["debt_usd"]) * rate
            gap = abs(modelled - reported) / reported
            if gap > INTEREST_TOLERANCE:
                raise row_error(ops, int(i), "reported_interest_usd_per_year",
                                f"{reported:,.0f} USD/year reported, but the tranches imply "
                                f"{modelled:,.0f} USD/year ({gap:.0%} apart; expected within "
                                f"{INTEREST_TOLERANCE:.0%})", path)
