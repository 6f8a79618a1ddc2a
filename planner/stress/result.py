"""The outcome of a stress run: the operator × year dataset, its summary and tidy table."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from planner.outputs.results import package_versions
from planner.stress.market import Market
from planner.stress.shocks import ShockPlan
from sites.debt import opening_debt_usd
from sites.portfolio import Portfolio, Shock

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
    ("debt_service_usd_per_year", "USD/year",
     "scheduled debt service: interest + amortization + flat service (DSCR denominator)"),
    ("interest_usd_per_year", "USD/year", "interest on the tranches' balances"),
    ("principal_usd_per_year", "USD/year", "scheduled (amortizing) principal"),
    ("balloon_usd_per_year", "USD/year", "bullet principal due and not refinanced"),
    ("refinanced_usd_per_year", "USD/year", "bullet principal refinanced into a new tranche"),
    ("accelerated_usd_per_year", "USD/year",
     "principal accelerated after an uncured covenant breach"),
    ("debt_drawn_usd_per_year", "USD/year", "debt drawn (cash in)"),
    ("gpu_capex_usd_per_year", "USD/year", "GPU capex of contracts starting in the year"),
    ("facility_capex_usd_per_year", "USD/year",
     "facility capex of builds energized the next year"),
    ("debt_outstanding_usd", "USD", "principal outstanding at the end of the year"),
    ("prepaid_usd_per_year", "USD/year", "debt prepaid from cash above the reserve (sweep)"),
    ("distributed_usd_per_year", "USD/year",
     "cash above the reserve paid out to equity (sweep)"),
    ("leverage", "1", "debt outstanding in the year (opening balance + draws) ÷ EBITDA "
     "(NaN when EBITDA ≤ 0)"),
    ("dscr", "1", "EBITDA ÷ debt service (NaN without debt service)"),
    ("breach", "1", "1 when DSCR < the covenant minimum in a tested year"),
    ("event_of_default", "1", "1 in the year a breach is left uncured past the cure period "
     "(the debt is accelerated the next year)"),
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
class StressResult:
    """The outcome of one stress run."""

    portfolio: Portfolio
    shocks: list[Shock]
    market: Market
    metrics: xr.Dataset
    contracts: pd.DataFrame
    exposure: pd.DataFrame
    tranches: pd.DataFrame = field(default_factory=pd.DataFrame)
    lender_losses: pd.DataFrame = field(default_factory=pd.DataFrame)
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
            tested = dscr[dscr.index >= (y0 if blank_values(start) else int(start))].dropna()
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
                "debt_start_usd": float(d["debt_usd"]),
                "max_debt_usd": float(d["debt_outstanding_usd"].max()),
                "capex_usd": float((d["gpu_capex_usd_per_year"]
                                    + d["facility_capex_usd_per_year"]).sum()),
            })
        return pd.DataFrame(rows)


def blank_values(v: Any) -> bool:
    """An optional table value left blank (None or NaN)."""
    return v is None or (isinstance(v, float) and math.isnan(v))


def _nan_int(v: xr.DataArray) -> float:
    f = float(v)
    return f if math.isnan(f) else int(f)


def build_dataset(portfolio: Portfolio, market: Market, plan: ShockPlan, years: list[int],
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
        np.array([float(ops.at[o, "debt_usd"])
                  + opening_debt_usd(portfolio.debt, o, years[0])[0] for o in op_ids]),
        dims=("operator",),
        attrs={"units": "USD", "long_name": "debt outstanding at the start (tranches drawn by "
               "the first year + flat debt_usd)"})
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


def operators_by_year(result: StressResult) -> pd.DataFrame:
    """Tidy (operator, year) table of every metric."""
    ds = result.metrics
    names = [m for m, _u, _d in METRICS]
    df = ds[names].to_dataframe().reset_index()
    df.insert(1, "kind", df["operator"].map(result.portfolio.operators["kind"]))
    return df.drop(columns=["operator_name", "operator_kind"], errors="ignore")


#: The capital and debt columns of :func:`capital_schedule`.
CAPITAL = ("gpu_capex_usd_per_year", "facility_capex_usd_per_year", "debt_drawn_usd_per_year",
           "interest_usd_per_year", "principal_usd_per_year", "balloon_usd_per_year",
           "refinanced_usd_per_year", "accelerated_usd_per_year", "prepaid_usd_per_year",
           "distributed_usd_per_year", "debt_outstanding_usd",
           "ebitda_usd_per_year", "dscr", "leverage", "breach", "event_of_default",
           "in_default", "cash_usd")


def capital_schedule(result: StressResult) -> pd.DataFrame:
    """Tidy (operator, year) capital and debt schedule: capex, draws, interest, principal,
    balloons, refinancing, acceleration, debt outstanding (``capital_by_year.csv``)."""
    df = result.metrics[list(CAPITAL)].to_dataframe().reset_index()
    return df.drop(columns=["operator_name", "operator_kind"], errors="ignore")
