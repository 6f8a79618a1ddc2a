r"""Landlords' revenue at risk from the MW a hedged capacity plan strands.

A hedged plan serves several demand scenarios s (probabilities q_s) with one set of builds;
in a scenario with less demand some of the built MW stand idle. Given, per scenario, region
and year, the **stranded share** σ_sry of the region's facility MW (0–1), a landlord's
expected contract revenue at risk in year y is

.. math::

    \mathrm{RaR}_{oy} = \sum_s q_s \sum_{c:\ \mathrm{lessor}(c) = o,\ y \in c}
                        \sigma_{s, r(c), y}\, A_c

with A_c the contract's annual payment and r(c) the region of its site (contracts without a
site use the row ``_national`` when given, else nothing is at risk): a tenant whose MW are
stranded is assumed to walk away from that share of its lease.

``dcplan hedge`` writes that table as ``stranded_by_region.csv`` (per future, region and
year under the hedged plan); ``dcplan stress --hedged DIR`` reads it and writes the result
as ``revenue_at_risk.csv``.
"""

from __future__ import annotations

import pandas as pd

from grids.tables import InputError
from planner.stress.market import NATIONAL
from sites.portfolio import Portfolio


def revenue_at_risk_from_stranded(portfolio: Portfolio, stranded: pd.DataFrame) -> pd.DataFrame:
    """Expected contract revenue at risk per landlord and year, USD/year.

    Parameters
    ----------
    portfolio : the portfolio (its landlords' contracts and sites).
    stranded : columns ``scenario``, ``probability`` (1, summing to 1 over scenarios),
        ``region`` (or ``_national``), ``year``, ``stranded_share`` (1, 0–1).

    Returns
    -------
    DataFrame ``operator, year, revenue_at_risk_usd_per_year``.
    """
    need = {"scenario", "probability", "region", "year", "stranded_share"}
    missing = need - set(stranded.columns)
    if missing:
        raise InputError(f"stranded MW table: missing column(s) {', '.join(sorted(missing))}")
    probs = stranded.groupby("scenario")["probability"].first()
    if abs(float(probs.sum()) - 1.0) > 1e-6:
        raise InputError(f"stranded MW table: scenario probabilities sum to {probs.sum():g}, "
                         "expected 1")
    share = stranded.set_index(["scenario", "region", "year"])["stranded_share"]
    ops = portfolio.operators
    ct = portfolio.contracts
    region_of = portfolio.sites["region"].to_dict() if len(portfolio.sites) else {}
    rows = []
    for o in ops.index[ops["kind"] == "landlord"]:
        mine = ct[ct["lessor"] == o]
        for y in portfolio.years:
            total = 0.0
            for _, c in mine.iterrows():
                start = int(c["start_year"])
                if not start <= y < start + int(c["term_years"]):
                    continue
                site = c["site"]
                region = region_of.get(site, NATIONAL) if isinstance(site, str) else NATIONAL
                for s, q in probs.items():
                    sigma = float(share.get((s, region, y), 0.0))
                    total += float(q) * sigma * float(c["annual_usd_per_year"])
            rows.append({"operator": o, "year": y, "revenue_at_risk_usd_per_year": total})
    return pd.DataFrame(rows, columns=["operator", "year", "revenue_at_risk_usd_per_year"])
