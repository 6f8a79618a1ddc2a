"""Operator stress tests: hand-computed portfolios, shocks, the bundled example, the CLI."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from grids.tables import InputError
from planner.cli.app import app
from planner.cli.commands import main
from planner.cli.stress import register
from planner.stress import (
    NATIONAL,
    Market,
    ShockPlan,
    regional_capacity_value,
    simulate,
    stress,
)
from sites.debt import DEBT
from sites.portfolio import (
    CONTRACTS,
    CUSTOMERS,
    OPERATORS,
    SHOCK_KINDS,
    default_portfolio_path,
    load_portfolio,
    parse_shock,
)
from tests.factory import edit_csv, replace_text

register(app)  # planner.cli.commands adds it itself once the lead wires it in; this is idempotent

M = 1e6  # USD per million USD, for readable hand arithmetic

OPERATOR_DEFAULTS: dict[str, Any] = {
    "name": "", "kind": "landlord", "debt_usd": 0, "debt_service_usd_per_year": 0,
    "debt_maturity_year": "", "cash_usd": 0, "opex_usd_per_year": 0,
    "opex_usd_per_mw_year": 0, "pays_power": "false", "covenant_min_dscr": 1.2,
    "covenant_start_year": "", "merchant_revenue_usd_per_year": "", "merchant_mw": "",
    "fleet_h100e_per_mw": "",
}
CONTRACT_DEFAULTS: dict[str, Any] = {"site": "", "usd_per_kw_month": "", "total_value_usd": ""}
CUSTOMER_DEFAULTS: dict[str, Any] = {"name": "", "investment_grade": "true", "rating": "",
                                     "guarantor": "", "guaranteed_share": ""}


def _write_csv(path: Path, names: list[str], rows: list[dict[str, Any]],
               defaults: dict[str, Any]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(names)
        for r in rows:
            full = {**defaults, **r}
            if "name" in names and not full.get("name"):
                full["name"] = full[names[0]]  # readable name = id
            w.writerow([full.get(n, "") for n in names])


def write_portfolio(
    folder: Path,
    operators: list[dict[str, Any]],
    contracts: list[dict[str, Any]],
    customers: list[dict[str, Any]],
    *,
    years: tuple[int, int] = (2030, 2031),
    shocks: list[str] | None = None,
    re_lease: str = "{delay_years: 1, haircut: 0.25, window_years: 5}",
    sites: list[dict[str, Any]] | None = None,
) -> Path:
    """A portfolio folder from plain rows (missing optional columns left blank)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "operators.csv", OPERATORS.names, operators, OPERATOR_DEFAULTS)
    _write_csv(folder / "contracts.csv", CONTRACTS.names, contracts, CONTRACT_DEFAULTS)
    _write_csv(folder / "customers.csv", CUSTOMERS.names, customers, CUSTOMER_DEFAULTS)
    lines = ["name: hand", f"years: {{start: {years[0]}, end: {years[1]}}}",
             "operators: operators.csv", "contracts: contracts.csv",
             "customers: customers.csv", f"re_lease: {re_lease}",
             f"shocks: {json.dumps(shocks or [])}"]
    if sites is not None:
        names = ["site", "region", "lon", "lat", "max_mw", "existing_mw", "queued_mw",
                 "queue_year", "build_capex_usd_per_mw", "pue", "energy_price_usd_per_mwh",
                 "onsite_allowed", "operator"]
        site_defaults = {"region": "ERCOT", "lon": -100.0, "lat": 32.0, "max_mw": 1000,
                         "queued_mw": 0, "queue_year": "", "build_capex_usd_per_mw": 1e6,
                         "pue": 1.2, "energy_price_usd_per_mwh": "", "onsite_allowed": "false"}
        _write_csv(folder / "sites.csv", names, sites, site_defaults)
        lines.append("sites: sites.csv")
    (folder / "portfolio.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "portfolio.yaml"


def hand_market(years: list[int], *, energy_usd_per_mwh: float = 50.0,
                utilization: float = 0.5, capacity_value: float = 0.0,
                compute_price: float = 0.0, sites: list[str] = (),
                region_values: dict[str, float] | None = None) -> Market:
    """Flat market values, no capacity model: every number is chosen by the test.

    ``capacity_value`` is the value of the ``_national`` and ``ERCOT`` rows;
    ``region_values`` sets (or adds) other rows, e.g. ``{"ERCOT": 2e6, "SPP": 0.8e6}``.
    """
    values = {NATIONAL: capacity_value, "ERCOT": capacity_value, **(region_values or {})}
    return Market(
        scenario="hand",
        utilization=utilization,
        capacity_value_usd_per_mw_year=pd.DataFrame(
            {y: list(values.values()) for y in years}, index=list(values), dtype=float),
        compute_price_usd_per_h100e_year=pd.Series(compute_price, index=years),
        energy_price_usd_per_mwh=pd.DataFrame(energy_usd_per_mwh, index=list(sites),
                                              columns=years),
        national_energy_price_usd_per_mwh=pd.Series(energy_usd_per_mwh, index=years),
    )


def metric(result: Any, name: str, operator: str, year: int) -> float:
    return float(result.metrics[name].sel(operator=operator, year=year))


# ------------------------------------------------------------------------------------
# Hand-computed cases
# ------------------------------------------------------------------------------------
def test_dscr_and_hhi_by_hand(tmp_path: Path) -> None:
    """One landlord L, three customers, no shock, national power 50 USD/MWh, utilization 0.5.

    Contracts: a 10 MW at 100 USD/kW-month = 10·1000·100·12 = 12 M USD/yr; b 5 MW, 60 M USD
    over 3 years = 20 M USD/yr; c 5 MW at 100 USD/kW-month = 6 M USD/yr. Revenue 38 M.
    Opex = 10 M fixed + 0.1 M/MW · 20 MW = 12 M. Power (L pays) = 20 MW · 0.5 · 8760 h ·
    50 USD/MWh = 4.38 M. EBITDA = 38 − 12 − 4.38 = 21.62 M; debt service 20 M, so
    DSCR = 1.081 < covenant 1.5: a breach but no default (cash 0 + 38 ≥ 20 + 12 + 4.38).
    Shares 12/38, 20/38, 6/38: top = 0.5263, HHI = (144 + 400 + 36) / 1444 = 0.40166.
    Cash after 2030 = 38 − 36.38 = 1.62 M, after 2031 3.24 M.
    """
    path = write_portfolio(
        tmp_path,
        [{"operator": "L", "debt_service_usd_per_year": 20 * M, "opex_usd_per_year": 10 * M,
          "opex_usd_per_mw_year": 0.1 * M, "pays_power": "true", "covenant_min_dscr": 1.5}],
        [{"contract": "ca", "lessor": "L", "lessee": "a", "mw": 10, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5},
         {"contract": "cb", "lessor": "L", "lessee": "b", "mw": 5, "total_value_usd": 60 * M,
          "start_year": 2030, "term_years": 3},
         {"contract": "cc", "lessor": "L", "lessee": "c", "mw": 5, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5}],
        [{"customer": k} for k in "abc"],
    )
    pf = load_portfolio(path)
    r = simulate(pf, [], hand_market(pf.years))
    for y in (2030, 2031):
        assert metric(r, "contracted_revenue_usd_per_year", "L", y) == pytest.approx(38 * M)
        assert metric(r, "power_cost_usd_per_year", "L", y) == pytest.approx(4.38 * M)
        assert metric(r, "opex_usd_per_year", "L", y) == pytest.approx(12 * M)
        assert metric(r, "ebitda_usd_per_year", "L", y) == pytest.approx(21.62 * M)
        assert metric(r, "dscr", "L", y) == pytest.approx(1.081)
        assert metric(r, "top_customer_share", "L", y) == pytest.approx(20 / 38)
        assert metric(r, "hhi", "L", y) == pytest.approx(580 / 1444)
        assert metric(r, "breach", "L", y) == 1.0
        assert metric(r, "revenue_at_risk_usd_per_year", "L", y) == pytest.approx(0, abs=1e-3)
    assert metric(r, "cash_usd", "L", 2030) == pytest.approx(1.62 * M)
    assert metric(r, "cash_usd", "L", 2031) == pytest.approx(3.24 * M)
    assert float(r.metrics["first_breach_year"].sel(operator="L")) == 2030
    assert np.isnan(float(r.metrics["default_year"].sel(operator="L")))


def chain(tmp_path: Path, shocks: list[str]) -> Path:
    """Landlord A → GPU cloud B → customer C (amounts in M USD per year).

    A: debt service 30, no cash, no costs. B: debt service 40, cash 20, opex 10.
    A→B 100 MW, 150 over 3 years = 50/yr; B→C 100 MW, 360 over 3 years = 120/yr.
    Market values are 0, so freed MW cannot be re-let.
    """
    return write_portfolio(
        tmp_path,
        [{"operator": "A", "debt_service_usd_per_year": 30 * M},
         {"operator": "B", "kind": "gpu_cloud", "debt_service_usd_per_year": 40 * M,
          "cash_usd": 20 * M, "opex_usd_per_year": 10 * M, "fleet_h100e_per_mw": 1000}],
        [{"contract": "ab", "lessor": "A", "lessee": "B", "mw": 100,
          "total_value_usd": 150 * M, "start_year": 2030, "term_years": 3},
         {"contract": "bc", "lessor": "B", "lessee": "C", "mw": 100,
          "total_value_usd": 360 * M, "start_year": 2030, "term_years": 3}],
        [{"customer": "C", "investment_grade": "false"}],
        years=(2030, 2032), shocks=shocks,
    )


def test_three_link_chain_cascades_as_computed_by_hand(tmp_path: Path) -> None:
    """C defaults in 2031 and pays nothing (loss given default 1).

    2030: all pay. B: 20 + 120 in, 50 + 40 + 10 = 100 out → cash 40; A: 50 in, 30 out →
      cash 20. DSCR A = 50/30, B = (120 − 50 − 10)/40 = 1.5.
    2031: B has only its cash 40 and owes 100 → pays 40 (recovery 0.4) and defaults; its
      lessor A gets 50/100 · 40 = 20, has 20 + 20 = 40 ≥ 30 → pays, cash 10; EBITDA A = 20,
      DSCR 0.667 < 1.2 (breach), revenue at risk 50 − 20 = 30.
    2032: B's lease ended with its default; A earns nothing (re-let worth 0), has 10 and owes
      30 → pays 10 (recovery 1/3) and defaults. Cascade C 2031 → B 2031 → A 2032.
    """
    pf = load_portfolio(chain(tmp_path, ["default:C@2031"]))
    r = simulate(pf, pf.spec.shocks, hand_market(pf.years))
    assert metric(r, "dscr", "A", 2030) == pytest.approx(50 / 30)
    assert metric(r, "dscr", "B", 2030) == pytest.approx(1.5)
    assert metric(r, "cash_usd", "A", 2030) == pytest.approx(20 * M)
    assert metric(r, "cash_usd", "B", 2030) == pytest.approx(40 * M)

    assert metric(r, "payments_made_usd_per_year", "B", 2031) == pytest.approx(40 * M)
    assert metric(r, "recovery_rate", "B", 2031) == pytest.approx(0.4)
    assert metric(r, "contract_revenue_usd_per_year", "A", 2031) == pytest.approx(20 * M)
    assert metric(r, "revenue_at_risk_usd_per_year", "A", 2031) == pytest.approx(30 * M)
    assert metric(r, "revenue_at_risk_usd_per_year", "B", 2031) == pytest.approx(120 * M)
    assert metric(r, "dscr", "A", 2031) == pytest.approx(20 / 30)
    assert metric(r, "dscr", "B", 2031) == pytest.approx(-60 / 40)
    assert metric(r, "cash_usd", "A", 2031) == pytest.approx(10 * M)

    assert metric(r, "revenue_usd_per_year", "A", 2032) == pytest.approx(0.0)
    assert metric(r, "stranded_mw", "A", 2032) == pytest.approx(100.0)
    assert metric(r, "payments_made_usd_per_year", "A", 2032) == pytest.approx(10 * M)
    assert metric(r, "recovery_rate", "A", 2032) == pytest.approx(1 / 3)
    assert np.isnan(metric(r, "dscr", "B", 2032))  # out of the clearing after its default

    ds = r.metrics
    assert float(ds["default_year"].sel(operator="B")) == 2031
    assert float(ds["default_year"].sel(operator="A")) == 2032
    assert float(ds["first_breach_year"].sel(operator="A")) == 2031
    assert ds["in_default"].sel(operator="A").values.tolist() == [0, 0, 1]
    assert ds["in_default"].sel(operator="B").values.tolist() == [0, 1, 1]


def test_chain_without_shock_has_no_default(tmp_path: Path) -> None:
    pf = load_portfolio(chain(tmp_path, []))
    r = simulate(pf, [], hand_market(pf.years))
    assert np.isnan(r.metrics["default_year"].values).all()
    # look-through: A's only counterparty is B, whose only customer is C
    lt = r.exposure[(r.exposure["year"] == 2030) & (r.exposure["operator"] == "A")]
    assert lt.set_index("counterparty")["look_through_share"].to_dict() == \
        pytest.approx({"B": 0.0, "C": 1.0})


def test_guaranteed_customer_default_by_hand(tmp_path: Path) -> None:
    """F defaults in 2031 with loss given default 0.5; G guarantees 40 %.

    Contract L→F: 100 MW, 100 M USD/yr, 2030–2033. 2031: F pays 1 − 0.5 + 0.5 · 0.4 = 0.7
    → 70 M. From 2032 G pays the guaranteed 40 % (40 M) and 60 MW are free: idle in 2032
    (delay 1), re-let in 2033 at 1 M USD/MW-yr · (1 − 0.25) = 0.75 M → 45 M.
    """
    path = write_portfolio(
        tmp_path,
        [{"operator": "L", "debt_service_usd_per_year": 10 * M}],
        [{"contract": "lf", "lessor": "L", "lessee": "F", "mw": 100,
          "total_value_usd": 400 * M, "start_year": 2030, "term_years": 4}],
        [{"customer": "F", "investment_grade": "false", "guarantor": "G",
          "guaranteed_share": 0.4}, {"customer": "G"}],
        years=(2030, 2033), shocks=["default:F:0.5@2031"],
    )
    pf = load_portfolio(path)
    r = simulate(pf, pf.spec.shocks, hand_market(pf.years, capacity_value=1 * M))
    paid = [metric(r, "contract_revenue_usd_per_year", "L", y) for y in pf.years]
    assert paid == pytest.approx([100 * M, 70 * M, 40 * M, 40 * M])
    assert metric(r, "stranded_mw", "L", 2032) == pytest.approx(60)
    assert metric(r, "re_let_mw", "L", 2033) == pytest.approx(60)
    assert metric(r, "re_let_revenue_usd_per_year", "L", 2033) == pytest.approx(45 * M)
    assert metric(r, "top_customer_share", "L", 2032) == pytest.approx(1.0)
    rows = r.contracts.set_index("year")
    assert rows.loc[2032, "payer"] == "G" and rows.loc[2032, "share_in_force"] == 0.4


def slip_portfolio(tmp_path: Path, shocks: list[str]) -> Path:
    """Site s (PUE 1: IT MW = MW at the meter): 50 MW energized, 50 MW queued for 2031.
    Contract la (50 MW, from 2030) and lb (50 MW, from 2031), 10 M USD/yr each."""
    return write_portfolio(
        tmp_path,
        [{"operator": "L", "debt_service_usd_per_year": 1 * M, "cash_usd": 100 * M}],
        [{"contract": "la", "lessor": "L", "lessee": "a", "site": "s", "mw": 50,
          "total_value_usd": 40 * M, "start_year": 2030, "term_years": 4},
         {"contract": "lb", "lessor": "L", "lessee": "b", "site": "s", "mw": 50,
          "total_value_usd": 30 * M, "start_year": 2031, "term_years": 3}],
        [{"customer": "a"}, {"customer": "b"}],
        years=(2030, 2033), shocks=shocks,
        sites=[{"site": "s", "existing_mw": 50, "queued_mw": 50, "queue_year": 2031,
                "operator": "L", "pue": 1.0}],
    )


@pytest.mark.parametrize("shock,lb_due,stranded", [
    ("interconnect:2@2030", [0, 0, 0, 10 * M], [0, 50, 50, 0]),  # queue 2031 → 2033
    ("interconnect:1@2032", [0, 10 * M, 10 * M, 10 * M], [0, 0, 0, 0]),  # already energized
    ("lease_rate:-0.3@2031", [0, 7 * M, 7 * M, 7 * M], [0, 0, 0, 0]),  # lb starts ≥ 2031
    ("lease_rate:-0.3@2032", [0, 10 * M, 10 * M, 10 * M], [0, 0, 0, 0]),  # lb already started
])
def test_slip_and_lease_rate_shocks_by_hand(tmp_path: Path, shock: str, lb_due: list[float],
                                            stranded: list[float]) -> None:
    pf = load_portfolio(slip_portfolio(tmp_path, [shock]))
    r = simulate(pf, pf.spec.shocks, hand_market(pf.years, sites=["s"]))
    rows = r.contracts.pivot(index="year", columns="contract", values="due_usd_per_year")
    assert rows["lb"].tolist() == pytest.approx(lb_due)
    assert rows["la"].tolist() == pytest.approx([10 * M] * 4)
    got = [metric(r, "stranded_mw", "L", y) for y in pf.years]
    assert got == pytest.approx(stranded)


def test_power_price_shock_scales_power_cost(tmp_path: Path) -> None:
    """20 MW · 0.5 · 8760 h · 50 USD/MWh = 4.38 M; +100 % from 2031 → 8.76 M."""
    path = write_portfolio(
        tmp_path,
        [{"operator": "L", "pays_power": "true", "cash_usd": 100 * M}],
        [{"contract": "c", "lessor": "L", "lessee": "a", "mw": 20, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "a"}], shocks=["power_price:+100%@2031"])
    pf = load_portfolio(path)
    r = simulate(pf, pf.spec.shocks, hand_market(pf.years))
    assert metric(r, "power_cost_usd_per_year", "L", 2030) == pytest.approx(4.38 * M)
    assert metric(r, "power_cost_usd_per_year", "L", 2031) == pytest.approx(8.76 * M)


def test_relet_uses_the_regional_value_of_capacity(tmp_path: Path) -> None:
    """Freed MW are re-let at the value of capacity of their site's region.

    Three landlords, no costs, customer a defaults in 2030 with loss given default 1 (site
    PUE 1, so an IT MW is a facility MW):
    LE 40 MW at site se (ERCOT), LS 40 MW at site ss (SPP), LN 20 MW without a site.
    Values (USD/MW-yr, flat): ERCOT 2.0 M, SPP 0.8 M, national 1.2 M; haircut 0.25,
    delay 1. 2031: all MW idle (delay). 2032 (re-let):
    LE 2.0 M · (1 − 0.25) · 40 MW = 60 M; LS 0.8 M · 0.75 · 40 = 24 M;
    LN (no site → national) 1.2 M · 0.75 · 20 = 18 M.
    A national lookup would give LE and LS 36 M each; ERCOT everywhere 60 M each.
    """
    path = write_portfolio(
        tmp_path,
        [{"operator": o, "debt_service_usd_per_year": 1 * M, "cash_usd": 10 * M}
         for o in ("LE", "LS", "LN")],
        [{"contract": "ce", "lessor": "LE", "lessee": "a", "site": "se", "mw": 40,
          "total_value_usd": 30 * M, "start_year": 2030, "term_years": 3},
         {"contract": "cs", "lessor": "LS", "lessee": "a", "site": "ss", "mw": 40,
          "total_value_usd": 30 * M, "start_year": 2030, "term_years": 3},
         {"contract": "cn", "lessor": "LN", "lessee": "a", "mw": 20,
          "total_value_usd": 30 * M, "start_year": 2030, "term_years": 3}],
        [{"customer": "a", "investment_grade": "false"}],
        years=(2030, 2032), shocks=["default:a@2030"],
        sites=[{"site": "se", "region": "ERCOT", "existing_mw": 40, "operator": "LE",
                "pue": 1.0},
               {"site": "ss", "region": "SPP", "lon": -98.5, "lat": 46.0,
                "existing_mw": 40, "operator": "LS", "pue": 1.0}],
    )
    pf = load_portfolio(path)
    assert pf.sites["region"].to_dict() == {"se": "ERCOT", "ss": "SPP"}
    market = hand_market(pf.years, capacity_value=1.2 * M, sites=["se", "ss"],
                         region_values={"ERCOT": 2.0 * M, "SPP": 0.8 * M})
    r = simulate(pf, pf.spec.shocks, market)
    for o, mw, rev in (("LE", 40, 60 * M), ("LS", 40, 24 * M), ("LN", 20, 18 * M)):
        assert metric(r, "contract_revenue_usd_per_year", o, 2030) == pytest.approx(0.0)
        assert metric(r, "re_let_revenue_usd_per_year", o, 2031) == pytest.approx(0.0)
        assert metric(r, "stranded_mw", o, 2031) == pytest.approx(mw)
        assert metric(r, "re_let_mw", o, 2032) == pytest.approx(mw)
        assert metric(r, "stranded_mw", o, 2032) == pytest.approx(0.0)
        assert metric(r, "re_let_revenue_usd_per_year", o, 2032) == pytest.approx(rev)


def test_regional_capacity_value_by_hand() -> None:
    """V_ry = Σ_s F λ ÷ Σ_s F (plain mean without F) + CRF(ρ, ℓ) · μ_ry, on a tiny result.

    Sites s1, s2 in region A, s3, s4 in B; region C has no site. ρ = 0.1, ℓ = 2:
    CRF = 0.1 · 1.1² ÷ (1.1² − 1) = 0.121 ÷ 0.21 = 0.576190.
    λ (USD/MW-yr) 2030: 10, 20, 7, 9; 2031: 30, 50, 5, 15.
    F (MW)        2030: 100, 300, 0, 0; 2031: 0, 0, 50, 150.
    μ (USD/MW)    A: NaN, NaN; B: 1000, 0; C: NaN, 2000.
    2030: A = (100·10 + 300·20) ÷ 400 = 17.5; B has no F → plain mean (7 + 9) ÷ 2 = 8,
      + 0.576190 · 1000 = 584.190; national = 7000 ÷ 400 = 17.5; C = national = 17.5.
    2031: A has no F → (30 + 50) ÷ 2 = 40; B = (50·5 + 150·15) ÷ 200 = 12.5;
      national = 2500 ÷ 200 = 12.5; C = 12.5 + 0.576190 · 2000 = 1164.881.
    The ``_national`` row gets no headroom term: 17.5, 12.5.
    """
    years = [2030, 2031]
    sites = ["s1", "s2", "s3", "s4"]
    ds = xr.Dataset(
        {"facility_value_usd_per_mw_year": (("site", "year"),
                                            [[10.0, 30.0], [20.0, 50.0], [7.0, 5.0],
                                             [9.0, 15.0]]),
         "facility_mw": (("site", "year"), [[100.0, 0.0], [300.0, 0.0], [0.0, 50.0],
                                            [0.0, 150.0]]),
         "headroom_value_usd_per_mw": (("region", "year"),
                                       [[np.nan, np.nan], [1000.0, 0.0], [np.nan, 2000.0]])},
        coords={"site": sites, "year": years, "region": ["A", "B", "C"],
                "site_region": ("site", ["A", "A", "B", "B"])},
    )
    v = regional_capacity_value(ds, 0.1, 2)
    assert list(v.columns) == years
    expected = {"A": [17.5, 40.0], "B": [584.190476, 12.5], "C": [17.5, 1164.880952],
                NATIONAL: [17.5, 12.5]}
    assert sorted(v.index) == sorted(expected)
    for region, row in expected.items():
        assert v.loc[region].tolist() == pytest.approx(row), region


def test_obsolescence_reprices_new_gpu_contracts_and_relets(tmp_path: Path) -> None:
    """obsolescence:0.5@2031 through the simulation (compute price 1000 USD/H100e-yr,
    fleet 1000 H100e/MW → 1 M USD/MW-yr before the haircut 0.25).

    GPU cloud G (amounts M USD/yr): g_old 10 from 2030 (signed before the shock: unchanged);
    g_at 8 from 2031 (k = 0: × 0.5 → 4); g_new 20 from 2032 (k = 1: × 0.5² → 5);
    g_exp 10 MW ended 2030 → idle 2031 (delay 1), re-let 2032 at 1 · 0.75 · 0.5^(2032 −
    2031 + 1) · 10 MW = 1.875, 2033 at 0.75 · 0.5³ · 10 = 0.9375 (7.5 without the shock).
    Landlord L's contract l_new 6 from 2032 is not a GPU contract: unchanged.
    G's book in 2032 is 10 + 8 + 20 = 38, received 10 + 4 + 5 = 19 → revenue at risk 19.
    """
    path = write_portfolio(
        tmp_path,
        [{"operator": "G", "kind": "gpu_cloud", "debt_service_usd_per_year": 1 * M,
          "cash_usd": 100 * M, "fleet_h100e_per_mw": 1000},
         {"operator": "L", "debt_service_usd_per_year": 1 * M, "cash_usd": 10 * M}],
        [{"contract": "g_old", "lessor": "G", "lessee": "a", "mw": 10,
          "total_value_usd": 40 * M, "start_year": 2030, "term_years": 4},
         {"contract": "g_at", "lessor": "G", "lessee": "a", "mw": 10,
          "total_value_usd": 24 * M, "start_year": 2031, "term_years": 3},
         {"contract": "g_new", "lessor": "G", "lessee": "a", "mw": 10,
          "total_value_usd": 40 * M, "start_year": 2032, "term_years": 2},
         {"contract": "g_exp", "lessor": "G", "lessee": "a", "mw": 10,
          "total_value_usd": 30 * M, "start_year": 2028, "term_years": 3},
         {"contract": "l_new", "lessor": "L", "lessee": "a", "mw": 10,
          "total_value_usd": 12 * M, "start_year": 2032, "term_years": 2}],
        [{"customer": "a"}],
        years=(2030, 2033), shocks=["obsolescence:0.5@2031"],
    )
    pf = load_portfolio(path)
    market = hand_market(pf.years, compute_price=1000.0)
    r = simulate(pf, pf.spec.shocks, market)
    due = r.contracts.pivot(index="year", columns="contract", values="due_usd_per_year")
    assert due["g_old"].tolist() == pytest.approx([10 * M] * 4)
    assert due["g_at"].tolist() == pytest.approx([0, 4 * M, 4 * M, 4 * M])
    assert due["g_new"].tolist() == pytest.approx([0, 0, 5 * M, 5 * M])
    assert due["g_exp"].tolist() == pytest.approx([10 * M, 0, 0, 0])
    assert due["l_new"].tolist() == pytest.approx([0, 0, 6 * M, 6 * M])
    relet = [metric(r, "re_let_revenue_usd_per_year", "G", y) for y in pf.years]
    assert relet == pytest.approx([0, 0, 1.875 * M, 0.9375 * M])
    assert metric(r, "stranded_mw", "G", 2031) == pytest.approx(10)
    assert metric(r, "re_let_mw", "G", 2032) == pytest.approx(10)
    assert metric(r, "contracted_revenue_usd_per_year", "G", 2032) == pytest.approx(38 * M)
    assert metric(r, "revenue_at_risk_usd_per_year", "G", 2032) == pytest.approx(19 * M)
    assert metric(r, "revenue_at_risk_usd_per_year", "L", 2032) == pytest.approx(0, abs=1e-3)

    base = simulate(pf, [], market)  # the same portfolio without the shock
    assert metric(base, "re_let_revenue_usd_per_year", "G", 2032) == pytest.approx(7.5 * M)
    assert metric(base, "contract_revenue_usd_per_year", "G", 2032) == pytest.approx(38 * M)


def test_operator_shocked_into_default_by_hand(tmp_path: Path) -> None:
    """The GPU cloud B of the chain A → B → C is itself shocked into default in 2031.

    2030 as without a shock: A cash 20, B cash 40 (M USD).
    default:B:0.5@2031: B leaves the clearing at the start of 2031 and pays half its dues:
      A gets 0.5 · 50 = 25, has 20 + 25 = 45 ≥ 30 → pays, cash 15; DSCR 25/30 (breach < 1.2),
      revenue at risk 50 − 25 = 25. C still pays its 120 to B's estate. B's lease ends:
      A's 100 MW are idle in 2032 (re-let worth 0), A has 15 and owes 30 → pays 15
      (recovery 0.5) and defaults in 2032.
    default:B@2031 (loss given default 1): A gets nothing in 2031, has 20 < 30 → pays 20
      (recovery 2/3) and defaults in 2031 with B.
    """
    pf = load_portfolio(chain(tmp_path, ["default:B:0.5@2031"]))
    r = simulate(pf, pf.spec.shocks, hand_market(pf.years))
    ds = r.metrics
    assert metric(r, "dscr", "B", 2030) == pytest.approx(1.5)
    assert metric(r, "cash_usd", "A", 2030) == pytest.approx(20 * M)
    assert float(ds["default_year"].sel(operator="B")) == 2031
    assert ds["in_default"].sel(operator="B").values.tolist() == [0, 1, 1]
    assert np.isnan(metric(r, "dscr", "B", 2031))  # out of the clearing from the shock year
    paid = r.contracts.pivot(index="year", columns="contract", values="paid_usd_per_year")
    assert paid.loc[2031, "ab"] == pytest.approx(25 * M)
    assert paid.loc[2031, "bc"] == pytest.approx(120 * M)  # to B's estate
    assert paid.loc[2032, "ab"] == pytest.approx(0.0)
    assert metric(r, "contract_revenue_usd_per_year", "A", 2031) == pytest.approx(25 * M)
    assert metric(r, "revenue_at_risk_usd_per_year", "A", 2031) == pytest.approx(25 * M)
    assert metric(r, "dscr", "A", 2031) == pytest.approx(25 / 30)
    assert metric(r, "cash_usd", "A", 2031) == pytest.approx(15 * M)
    assert float(ds["first_breach_year"].sel(operator="A")) == 2031
    assert metric(r, "stranded_mw", "A", 2032) == pytest.approx(100.0)
    assert metric(r, "payments_made_usd_per_year", "A", 2032) == pytest.approx(15 * M)
    assert metric(r, "recovery_rate", "A", 2032) == pytest.approx(0.5)
    assert float(ds["default_year"].sel(operator="A")) == 2032

    full = simulate(pf, [parse_shock("default:B@2031")], hand_market(pf.years))
    assert metric(full, "contract_revenue_usd_per_year", "A", 2031) == pytest.approx(0.0)
    assert metric(full, "payments_made_usd_per_year", "A", 2031) == pytest.approx(20 * M)
    assert metric(full, "recovery_rate", "A", 2031) == pytest.approx(2 / 3)
    assert float(full.metrics["default_year"].sel(operator="A")) == 2031
    assert float(full.metrics["default_year"].sel(operator="B")) == 2031


# ------------------------------------------------------------------------------------
# Shocks: syntax and composition
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text,kind,magnitude,year,target", [
    ("lease_rate:-0.3@2027", "lease_rate", -0.3, 2027, None),
    ("power_price:+50%@2028", "power_price", 0.5, 2028, None),
    (" demand : -0.25 @ 2027 ", "demand", -0.25, 2027, None),
    ("interconnect:2@2026", "interconnect", 2.0, 2026, None),
    ("obsolescence:0.2@2027", "obsolescence", 0.2, 2027, None),
    ("default:microsoft@2028", "default", 1.0, 2028, "microsoft"),
    ("default:openai:0.6@2029", "default", 0.6, 2029, "openai"),
])
def test_shock_syntax(text: str, kind: str, magnitude: float, year: int,
                      target: str | None) -> None:
    s = parse_shock(text)
    assert (s.kind, s.magnitude, s.start_year, s.target) == (kind, pytest.approx(magnitude),
                                                             year, target)
    assert parse_shock(s.text()) == s  # the compact form round-trips


@pytest.mark.parametrize("text,message", [
    ("lease_rate=-0.3", r"expected KIND:MAGNITUDE@YEAR"),
    ("lease_rates:-0.3@2027", r"unknown shock kind 'lease_rates' \(did you mean 'lease_rate'"),
    ("lease_rate:-1.5@2027", r"must be > -1"),
    ("interconnect:1.5@2027", r"whole years"),
    ("obsolescence:1@2027", r"\[0, 1\)"),
    ("default:@2027", r"default:TARGET"),
    ("default:x:2@2027", r"loss given default must be in \[0, 1\]"),
    ("power_price:ERCOT:0.5@2027", r"only default shocks take a target"),
    ("demand:abc@2027", r"magnitude 'abc' is not a number"),
])
def test_bad_shock_syntax(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_shock(text)


def test_shocks_compose() -> None:
    plan = ShockPlan([parse_shock(t) for t in (
        "lease_rate:-0.2@2028", "lease_rate:-0.5@2030", "power_price:0.5@2027",
        "power_price:1.0@2029", "interconnect:2@2027", "interconnect:1@2029",
        "obsolescence:0.5@2028", "demand:-0.5@2027", "demand:-0.5@2030",
        "default:x:0.3@2031", "default:x:0.8@2029", "default:x:1@2029")])
    assert plan.relet_factor(2027, gpu=False) == pytest.approx(1.0)
    assert plan.relet_factor(2031, gpu=False) == pytest.approx(0.8 * 0.5)
    assert plan.relet_factor(2029, gpu=True) == pytest.approx(0.8 * 0.5 ** 2)
    assert plan.contract_factor(2029, 2031, gpu=False) == pytest.approx(0.8)
    assert plan.contract_factor(2030, 2031, gpu=True) == pytest.approx(0.8 * 0.5 * 0.5 ** 3)
    assert plan.contract_factor(2026, 2031, gpu=True) == pytest.approx(1.0)
    assert plan.power_factor(2030) == pytest.approx(1.5 * 2.0)
    assert plan.queue_year(2027.0) == 2030.0  # +2 (2027 ≥ 2027), then 2029 ≥ 2029: +1
    assert plan.queue_year(2026.0) == 2026.0  # energized before any slip
    assert plan.demand_multiplier([2026, 2027, 2030]).tolist() == [1.0, 0.5, 0.25]
    assert plan.defaults() == {"x": (2029, 1.0)}


# ------------------------------------------------------------------------------------
# The bundled example and the command line
# ------------------------------------------------------------------------------------
def test_bundled_example_is_sourced_and_illustrative() -> None:
    pf = load_portfolio()
    assert pf.spec.illustrative and pf.spec.shocks == []
    for name, df in (("operators", pf.operators), ("contracts", pf.contracts),
                     ("customers", pf.customers), ("sites", pf.sites)):
        assert df["source"].map(lambda s: isinstance(s, str) and len(s) > 20).all(), name
    chains = set(zip(pf.contracts["lessor"], pf.contracts["lessee"]))
    assert {("applied_digital", "coreweave"), ("coreweave", "microsoft"),
            ("coreweave", "openai"), ("iren", "microsoft"), ("cipher", "aws"),
            ("cipher", "fluidstack")} <= chains
    assert pf.customers.at["fluidstack", "guarantor"] == "google"
    # $11B over 15 years for 400 MW, $9.7B over 5 years, $5.5B over 15 and $3.8B over 10
    annual = pf.contracts["annual_usd_per_year"]
    assert annual[["adi_cw_eln1", "adi_cw_eln2"]].sum() == pytest.approx(11e9 / 15)
    assert annual["iren_msft"] == pytest.approx(9.7e9 / 5)
    assert annual["cipher_aws"] == pytest.approx(5.5e9 / 15)
    assert annual["cipher_fluidstack"] == pytest.approx(3.8e9 / 10)


def test_docs_show_the_current_schema_and_every_shock() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "stress.md").read_text(encoding="utf-8")
    for schema in (OPERATORS, CONTRACTS, CUSTOMERS, DEBT):
        assert schema.markdown() in doc, f"docs/stress.md: {schema.name} table is stale"
    for kind in SHOCK_KINDS:
        assert f"| `{kind}` |" in doc, kind


@pytest.fixture(scope="module")
def base_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dcplan stress -o DIR``: the bundled portfolio, no shock, bundled us-base."""
    out = tmp_path_factory.mktemp("stress") / "base"
    assert main(["stress", "-o", str(out)]) == 0
    return out


def test_example_without_shocks_defaults_only_where_its_sources_say_it_cannot_pay(
        base_run: Path) -> None:
    """The corrected example without shocks (docs/stress.md): CoreWeave's DSCR falls to
    ~0.70 in 2027 under the debt of its GB200 capital and it defaults; Applied Digital, whose
    only tenant it is, follows; IREN and Cipher do not default."""
    with xr.open_dataset(base_run / "stress.nc") as ds:
        assert float(ds["dscr"].sel(operator="coreweave", year=2027)) == pytest.approx(
            0.70, abs=0.02)
        assert float(ds["default_year"].sel(operator="coreweave")) == 2027
        assert float(ds["default_year"].sel(operator="applied_digital")) == 2028
        assert np.isnan(ds["default_year"].sel(operator=["iren", "cipher"]).values).all()
        assert json.loads(ds.attrs["shocks"]) == []


def test_stress_outputs(base_run: Path) -> None:
    for name in ("stress.nc", "summary.csv", "summary.json", "operators_by_year.csv",
                 "contracts_by_year.csv", "exposure.csv", "capacity_values.csv", "dscr.png",
                 "contract_graph.png"):
        assert (base_run / name).stat().st_size > 0, name
    assert not list(base_run.parent.glob(".base.*"))
    with xr.open_dataset(base_run / "stress.nc") as ds:
        assert set(ds.dims) == {"operator", "year"}
        for name, var in ds.data_vars.items():
            assert "units" in var.attrs, name
        for name in ("contracted_revenue_usd_per_year", "revenue_at_risk_usd_per_year",
                     "ebitda_usd_per_year", "dscr", "top_customer_share", "hhi",
                     "stranded_mw", "first_breach_year", "default_year"):
            assert name in ds, name
        assert ds.attrs["capacity_scenario"] == "us-base" and ds.attrs["illustrative"] == 1
        assert sorted(ds.operator.values) == ["applied_digital", "cipher", "coreweave", "iren"]
    table = pd.read_csv(base_run / "operators_by_year.csv")
    assert len(table) == 4 * 15
    summary = json.loads((base_run / "summary.json").read_text())
    assert summary["portfolio"] == "ai-chains-2026" and summary["shocks"] == []


def test_microsoft_default_cascades_through_the_chain() -> None:
    """Microsoft walks away in 2026: CoreWeave defaults at once (a year before its base-case
    default), and Applied Digital, whose only tenant is CoreWeave, loses its rent; Cipher
    (AWS, Fluidstack) is untouched."""
    r = stress(None, [parse_shock("default:microsoft@2026")])
    ds = r.metrics
    cw = float(ds["default_year"].sel(operator="coreweave"))
    adi = float(ds["default_year"].sel(operator="applied_digital"))
    assert cw == 2026
    assert cw < adi
    assert float(ds["revenue_at_risk_usd_per_year"].sel(operator="applied_digital").sum()) > 0
    assert np.isnan(float(ds["default_year"].sel(operator="cipher")))
    assert float(ds["revenue_at_risk_usd_per_year"].sel(operator="cipher").sum()) == \
        pytest.approx(0.0, abs=1.0)
    lt = r.exposure[(r.exposure["year"] == 2026) & (r.exposure["operator"] == "applied_digital")]
    assert lt.set_index("counterparty").at["microsoft", "look_through_share"] > 0.2


def test_coreweave_shocked_into_default_takes_applied_digital_with_it() -> None:
    """``--shock default:coreweave@2027``: an operator (not an end customer) defaults.

    Applied Digital (M USD, from the bundled tables): rent 11,000 ÷ 15 = 733.33/yr
    (183.33 in 2026, 100 of 400 MW). 2026: cash 2,500 + rent 183.33 + the 1,590 notes drawn
    = 4,273.33 against facility capex 345 MW × 11.039 = 3,808.455, interest
    2,350 × 9 % + 1,590 × 7 % = 322.8 and opex 50 + 0.229 × 100 = 72.9 → cash 69.18.
    2027: CoreWeave leaves the clearing and pays nothing (loss given default 1), so Applied
    Digital has 69.18 against 322.8 + 50 + 0.229 × 400 = 464.4 due → pays 69.18 and defaults
    in 2027. CoreWeave's customers still pay its estate; IREN is untouched.
    """
    r = stress(None, [parse_shock("default:coreweave@2027")])
    ds = r.metrics
    assert float(ds["default_year"].sel(operator="coreweave")) == 2027
    assert np.isnan(float(ds["dscr"].sel(operator="coreweave", year=2027)))
    adi = ds.sel(operator="applied_digital")
    assert float(adi["cash_usd"].sel(year=2026)) == pytest.approx(69.1783 * M, rel=1e-5)
    assert float(adi["contract_revenue_usd_per_year"].sel(year=2027)) == pytest.approx(0.0)
    assert float(adi["payments_due_usd_per_year"].sel(year=2027)) == \
        pytest.approx(464.4 * M, rel=1e-6)
    assert float(adi["payments_made_usd_per_year"].sel(year=2027)) == \
        pytest.approx(69.1783 * M, rel=1e-5)
    assert float(ds["default_year"].sel(operator="applied_digital")) == 2027
    assert np.isnan(ds["default_year"].sel(operator=["iren", "cipher"]).values).all()
    paid = r.contracts[r.contracts["year"] == 2027].set_index("contract")["paid_usd_per_year"]
    assert paid["cw_msft_core"] == pytest.approx(326 * 1000 * 808.33 * 12)  # to the estate


def test_demand_shock_resolves_the_capacity_scenario() -> None:
    """Half the compute demand from 2027: the capacity model is solved again and capacity
    is worth less (lower facility duals); merchant revenue halves."""
    base, low = stress(), stress(None, [parse_shock("demand:-0.5@2027")])
    v0 = base.market.capacity_value_usd_per_mw_year.loc[NATIONAL, 2027:].sum()
    v1 = low.market.capacity_value_usd_per_mw_year.loc[NATIONAL, 2027:].sum()
    assert v1 < v0
    merchant = low.metrics["merchant_revenue_usd_per_year"].sel(operator="iren").values
    assert merchant[:2].tolist() == pytest.approx([400 * M, 200 * M])


# ------------------------------------------------------------------------------------
# Bad input: one line, exit code 2, nothing written
# ------------------------------------------------------------------------------------
BAD: list[tuple[str, Callable[[Path], None], list[str], str]] = [
    ("YAML key typo", lambda d: replace_text(d / "portfolio.yaml", "re_lease:", "re_leese:"), [],
     r"portfolio\.yaml line \d+, key re_leese: unknown key .*did you mean 're_lease'"),
    ("missing table", lambda d: (d / "customers.csv").unlink(), [],
     r"portfolio\.yaml line \d+, key customers: file not found: customers\.csv"),
    ("negative MW", lambda d: edit_csv(d / "contracts.csv", 3, "mw", "-5"), [],
     r"contracts\.csv row 3 \(line 4\), column mw: expected a number > 0, got '-5'"),
    ("unknown lessor", lambda d: edit_csv(d / "contracts.csv", 1, "lessor", "acme"), [],
     r"contracts\.csv row 1 \(line 2\), column lessor: unknown lessor \(an operator id\) 'acme'"),
    ("unknown lessee", lambda d: edit_csv(d / "contracts.csv", 2, "lessee", "nobody"), [],
     r"contracts\.csv row 2 \(line 3\), column lessee: unknown lessee"),
    ("two prices", lambda d: edit_csv(d / "contracts.csv", 1, "usd_per_kw_month", "150"), [],
     r"contracts\.csv row 1 \(line 2\), column total_value_usd: give either usd_per_kw_month "
     r"or total_value_usd, not both"),
    ("no price", lambda d: edit_csv(d / "contracts.csv", 1, "total_value_usd", ""), [],
     r"contracts\.csv row 1 \(line 2\), column usd_per_kw_month: expected a price"),
    ("unknown site", lambda d: edit_csv(d / "contracts.csv", 8, "site", "atlantis"), [],
     r"contracts\.csv row 8 \(line 9\), column site: unknown site 'atlantis'"),
    ("bad kind", lambda d: edit_csv(d / "operators.csv", 2, "kind", "bank"), [],
     r"operators\.csv row 2 \(line 3\), column kind: expected one of landlord, gpu_cloud, "
     r"integrated, got 'bank'"),
    ("GPU owner without fleet", lambda d: edit_csv(d / "operators.csv", 2, "fleet_chip", ""), [],
     r"operators\.csv row 2 \(line 3\), column fleet_h100e_per_mw: expected a number > 0 \(or "
     r"a fleet_chip\) for a gpu_cloud operator"),
    ("not a number", lambda d: edit_csv(d / "operators.csv", 1, "debt_usd", "lots"), [],
     r"operators\.csv row 1 \(line 2\), column debt_usd: expected a number >= 0, got 'lots'"),
    ("duplicate operator", lambda d: edit_csv(d / "operators.csv", 4, "operator", "iren"), [],
     r"operators\.csv row 4 \(line 5\), column operator: duplicate operator 'iren'"),
    ("customer is an operator", lambda d: edit_csv(d / "customers.csv", 1, "customer",
                                                   "coreweave"), [],
     r"customers\.csv row 1 \(line 2\), column customer: 'coreweave' is also an operator id"),
    ("site without operator", lambda d: edit_csv(d / "sites.csv", 1, "operator", ""), [],
     r"sites\.csv row 1 \(line 2\), column operator: expected the operator"),
    ("bad YAML shock", lambda d: replace_text(d / "portfolio.yaml", "shocks: []",
                                              "shocks: ['lease_rate:-3@2027']"), [],
     r"portfolio\.yaml line \d+, key shocks\.0: lease_rate: magnitude must be > -1"),
    ("unknown YAML default target", lambda d: replace_text(
        d / "portfolio.yaml", "shocks: []",
        "shocks:\n  - {kind: default, target: microsfot, start_year: 2028}"), [],
     r"portfolio\.yaml line \d+, key shocks\.0: unknown default target 'microsfot' "
     r"\(did you mean 'microsoft'\?\)"),
    ("years outside the scenario", lambda d: replace_text(
        d / "portfolio.yaml", "end: 2040", "end: 2045"), [],
     r"portfolio\.yaml, key years: portfolio years 2026–2045 are not all inside"),
    ("bad --shock", lambda d: None, ["--shock", "lease_rate=0.3"],
     r"--shock 'lease_rate=0\.3': cannot read shock"),
    ("unknown --shock target", lambda d: None, ["--shock", "default:nobody@2028"],
     r"--shock 'default:nobody:1@2028': unknown default target 'nobody'"),
    ("--shock outside the years", lambda d: None, ["--shock", "demand:-0.2@2050"],
     r"--shock 'demand:-0\.2@2050': start year 2050 is outside the portfolio years"),
    ("missing portfolio", lambda d: (d / "portfolio.yaml").unlink(), [],
     r"portfolio\.yaml: file not found \(expected a portfolio YAML\)"),
]


@pytest.fixture()
def portfolio_dir(tmp_path: Path) -> Path:
    d = tmp_path / "pf"
    shutil.copytree(default_portfolio_path().parent, d)
    return d


@pytest.mark.parametrize("name,mutate,extra,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_portfolio_is_one_clear_line(
    portfolio_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
    mutate: Callable[[Path], None], extra: list[str], expected: str,
) -> None:
    mutate(portfolio_dir)
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["stress", str(portfolio_dir / "portfolio.yaml"), "-o", str(out), *extra])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert re.search(expected, lines[0]), lines[0]
    assert "Traceback" not in err
    assert not out.exists()
