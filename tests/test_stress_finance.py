"""Capital and financing in stress tests: GPU debt, bullets and refinancing, covenant cures,
interest checks, Monte Carlo default probabilities, the corrected bundled portfolio."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from grids.tables import InputError
from planner.cli.commands import main
from planner.stress import simulate
from planner.stress.montecarlo import draw_shocks, read_risk_factors, run_monte_carlo
from sites.debt import DEBT
from sites.portfolio import default_portfolio_path, load_portfolio
from tests.test_stress import M, hand_market, metric, write_portfolio


def with_debt(path: Path, tranches: list[dict[str, Any]], financing: str | None = None,
              extra_yaml: str = "") -> Path:
    """Add a debt table (and a financing block) to a portfolio written by write_portfolio."""
    with open(path.parent / "debt.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(DEBT.names)
        for t in tranches:
            full = {"instrument": "loan", "security": "unsecured", "draw_year": "", **t}
            w.writerow([full.get(n, "") for n in DEBT.names])
    text = path.read_text() + "debt: debt.csv\n"
    if financing:
        text += f"financing: {financing}\n"
    path.write_text(text + extra_yaml)
    return path


def test_dscr_by_hand_with_gpu_debt(tmp_path: Path) -> None:
    """GPU cloud G starts a 10 IT-MW contract in 2030 at 100 USD/kW-month = 12 M USD/yr.

    GPU capex 2 M USD per IT MW → 20 M USD in 2030, all drawn as a GPU-backed loan at 10 %
    amortizing over the 5-year term (maturity 2034). 2030: interest 2 M, no principal in the
    draw year → DSCR 12 / 2 = 6; cash 0 + 12 + 20 drawn − 20 capex − 2 = 10 M.
    2031: interest 2 M + principal 20 / (2034 − 2031 + 1) = 5 M → DSCR 12 / 7 = 1.714;
    cash 10 + 12 − 7 = 15 M; debt outstanding 15 M.
    """
    path = write_portfolio(
        tmp_path,
        [{"operator": "G", "kind": "gpu_cloud", "fleet_h100e_per_mw": 1000,
          "gpu_capex_usd_per_mw": 2 * M, "gpu_debt_share": 1.0, "gpu_debt_rate": 0.10,
          "covenant_min_dscr": 1.5}],
        [{"contract": "g1", "lessor": "G", "lessee": "c", "mw": 10, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}])
    pf = load_portfolio(path)
    r = simulate(pf, [], hand_market(pf.years))
    assert metric(r, "gpu_capex_usd_per_year", "G", 2030) == pytest.approx(20 * M)
    assert metric(r, "debt_drawn_usd_per_year", "G", 2030) == pytest.approx(20 * M)
    assert metric(r, "interest_usd_per_year", "G", 2030) == pytest.approx(2 * M)
    assert metric(r, "dscr", "G", 2030) == pytest.approx(6.0)
    assert metric(r, "cash_usd", "G", 2030) == pytest.approx(10 * M)
    assert metric(r, "principal_usd_per_year", "G", 2031) == pytest.approx(5 * M)
    assert metric(r, "dscr", "G", 2031) == pytest.approx(12 / 7)
    assert metric(r, "cash_usd", "G", 2031) == pytest.approx(15 * M)
    assert metric(r, "debt_outstanding_usd", "G", 2031) == pytest.approx(15 * M)
    assert np.isnan(float(r.metrics["default_year"].sel(operator="G")))


def bullet_portfolio(tmp_path: Path, amount: float, shocks: list[str] | None = None) -> Path:
    """Landlord L: 10 M USD/yr from customer c, 2030–2031; a bullet at 5 % due 2031."""
    path = write_portfolio(
        tmp_path,
        [{"operator": "L", "covenant_min_dscr": 1.0}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "mw": 10, "total_value_usd": 50 * M,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], shocks=shocks)
    return with_debt(path, [{"tranche": "n", "operator": "L", "security": "facility",
                             "amount_usd": amount, "rate": 0.05, "maturity_year": 2031,
                             "repayment": "bullet"}],
                     "{max_leverage: 6.0, min_dscr: 1.1, term_years: 10}")


def test_bullet_that_cannot_be_refinanced_defaults_in_its_maturity_year(tmp_path: Path) -> None:
    """100 M USD bullet: in 2031 leverage 100 / 10 = 10 > 6, so no refinancing; the
    balloon of 100 M is due with 5 M interest. 2030 left 10 − 5 = 5 M of cash, so L has
    5 + 10 = 15 M against 105 M: default in 2031, recovery 15 / 105; its lenders lose
    105 − 15 = 90 M."""
    pf = load_portfolio(bullet_portfolio(tmp_path, 100 * M))
    r = simulate(pf, [], hand_market(pf.years))
    assert metric(r, "cash_usd", "L", 2030) == pytest.approx(5 * M)
    assert metric(r, "balloon_usd_per_year", "L", 2031) == pytest.approx(100 * M)
    assert metric(r, "refinanced_usd_per_year", "L", 2031) == 0.0
    assert float(r.metrics["default_year"].sel(operator="L")) == 2031
    assert metric(r, "recovery_rate", "L", 2031) == pytest.approx(15 / 105)
    loss = r.lender_losses.set_index("security").loc["facility"]
    assert loss["loss_usd"] == pytest.approx(90 * M)


@pytest.mark.parametrize("shock, refinanced", [(None, True), ("refinancing:+300bp@2031", True),
                                               ("refinancing:+500bp@2031", False)])
def test_refinancing_spread_shock_by_hand(tmp_path: Path, shock: str | None,
                                          refinanced: bool) -> None:
    """50 M USD bullet: leverage 5 ≤ 6. Pro-forma DSCR = 10 / (50 · (rate + 1/10)):
    at 5 % 1.33, at 8 % (+300 bp) 1.11, both ≥ 1.1 → refinanced; at 10 % (+500 bp)
    1.0 < 1.1 → the 50 M balloon is due against 7.5 + 10 M of cash: default in 2031."""
    pf = load_portfolio(bullet_portfolio(tmp_path, 50 * M, [shock] if shock else None))
    r = simulate(pf, list(pf.spec.shocks), hand_market(pf.years))
    dy = float(r.metrics["default_year"].sel(operator="L"))
    if refinanced:
        assert metric(r, "refinanced_usd_per_year", "L", 2031) == pytest.approx(50 * M)
        assert math.isnan(dy)
        rate = float(r.tranches.set_index("tranche").at["n", "rate"])
        assert rate == pytest.approx(0.05 + (0.03 if shock else 0.0))
    else:
        assert metric(r, "balloon_usd_per_year", "L", 2031) == pytest.approx(50 * M)
        assert dy == 2031


def cure_portfolio(tmp_path: Path, second_start: int) -> Path:
    """Landlord L, covenant 1.5 with a 1-year cure; 80 M USD at 0 % amortizing 2030–2033
    (20 M a year). Contract c1 24 M/yr (DSCR 1.2: a breach); c2 adds 6 M/yr (DSCR 1.5)."""
    path = write_portfolio(
        tmp_path,
        [{"operator": "L", "covenant_min_dscr": 1.5, "covenant_cure_years": 1}],
        [{"contract": "c1", "lessor": "L", "lessee": "a", "mw": 10, "total_value_usd": 96 * M,
          "start_year": 2030, "term_years": 4},
         {"contract": "c2", "lessor": "L", "lessee": "b", "mw": 5,
          "total_value_usd": 6 * M * (2034 - second_start), "start_year": second_start,
          "term_years": 2034 - second_start}],
        [{"customer": "a"}, {"customer": "b"}], years=(2030, 2033))
    return with_debt(path, [{"tranche": "t", "operator": "L", "amount_usd": 80 * M,
                             "rate": 0.0, "maturity_year": 2033, "repayment": "amortizing"}])


def test_breach_cured_within_the_period_does_not_default(tmp_path: Path) -> None:
    pf = load_portfolio(cure_portfolio(tmp_path, 2031))
    r = simulate(pf, [], hand_market(pf.years))
    assert metric(r, "breach", "L", 2030) == 1.0
    assert metric(r, "dscr", "L", 2031) == pytest.approx(1.5)
    assert metric(r, "breach", "L", 2031) == 0.0
    assert float(r.metrics["event_of_default"].sum()) == 0.0
    assert math.isnan(float(r.metrics["default_year"].sel(operator="L")))


def test_uncured_breach_accelerates_the_debt_and_defaults(tmp_path: Path) -> None:
    """Breach in 2030 and 2031 (cure period 1 year): event of default at the end of 2031,
    the 40 M USD left is due in 2032. Cash 4 + 4 = 8 M plus 30 M of rent < 40 M: default in
    2032 with recovery 38 / 40."""
    pf = load_portfolio(cure_portfolio(tmp_path, 2032))
    r = simulate(pf, [], hand_market(pf.years))
    assert metric(r, "event_of_default", "L", 2031) == 1.0
    assert metric(r, "accelerated_usd_per_year", "L", 2032) == pytest.approx(40 * M)
    assert float(r.metrics["default_year"].sel(operator="L")) == 2032
    assert metric(r, "recovery_rate", "L", 2032) == pytest.approx(38 / 40)


def test_interest_that_implies_an_impossible_rate_is_one_clear_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The old bundled CoreWeave row: 1.24 B USD of interest on 6 B USD of debt = 20.7 %."""
    path = write_portfolio(
        tmp_path,
        [{"operator": "G", "kind": "gpu_cloud", "fleet_h100e_per_mw": 1000,
          "debt_usd": 6000 * M, "reported_interest_usd_per_year": 1240 * M}],
        [{"contract": "g1", "lessor": "G", "lessee": "c", "mw": 10, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}])
    with pytest.raises(InputError, match=r"implies 20\.7% a year"):
        load_portfolio(path)
    out = tmp_path / "out"
    assert main(["stress", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "operators.csv row 1" in err[0]
    assert "reported_interest_usd_per_year" in err[0] and "Traceback" not in err[0]
    assert not out.exists()


def mc_portfolio(tmp_path: Path) -> Path:
    """Landlord L (cash 0, 10 M/yr flat debt service) on a 12 M/yr lease to customer c;
    c defaults with probability 0.3 a year: L then cannot pay and defaults."""
    path = write_portfolio(
        tmp_path,
        [{"operator": "L", "debt_service_usd_per_year": 10 * M, "covenant_min_dscr": 1.1}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "mw": 10, "total_value_usd": 60 * M,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], years=(2030, 2032),
        re_lease="{delay_years: 5, haircut: 0.25, window_years: 5}")
    path.write_text(path.read_text() + "monte_carlo:\n"
                    "  - {kind: default, target: c, annual_probability: 0.3, "
                    "magnitude: {dist: uniform, low: 0.5, high: 1.0}}\n")
    return path


def test_monte_carlo_equals_the_share_of_sampled_paths_that_default(tmp_path: Path) -> None:
    pf = load_portfolio(mc_portfolio(tmp_path))
    market = hand_market(pf.years)
    n, seed = 60, 7
    mc = run_monte_carlo(pf, market, [], n, seed, workers=0)
    factors = read_risk_factors(pf)
    hits = {y: 0 for y in pf.years}
    for i in range(n):
        r = simulate(pf, draw_shocks(factors, seed, i, pf.years), market)
        dy = float(r.metrics["default_year"].sel(operator="L"))
        for y in pf.years:
            hits[y] += int(not math.isnan(dy) and dy <= y)
    prob = mc.default_probability.set_index("year")
    for y in pf.years:
        p = hits[y] / n
        assert prob.at[y, "p_default"] == pytest.approx(p)
        assert prob.at[y, "p_default_se"] == pytest.approx(math.sqrt(p * (1 - p) / n))
    # exact: L defaults by year k when c defaults in year ≤ k (any LGD ≥ 0.5 leaves 6 M < 10 M)
    assert 0 < prob.at[2032, "p_default"] < 1
    el = mc.expected_loss_by_class.set_index("creditor_class")
    assert el.at["lessors", "expected_loss_usd"] > 0


def test_monte_carlo_converges_within_its_standard_error(tmp_path: Path) -> None:
    """P(c defaults by 2030) = 0.3 exactly; with 400 paths the estimate lies within 3 s.e."""
    pf = load_portfolio(mc_portfolio(tmp_path))
    mc = run_monte_carlo(pf, hand_market(pf.years), [], 400, 1, workers=0)
    row = mc.default_probability.set_index("year").loc[2030]
    assert abs(row["p_default"] - 0.3) < 3 * row["p_default_se"]
    assert row["p_default_se"] == pytest.approx(math.sqrt(0.3 * 0.7 / 400), rel=0.15)
    by3 = mc.default_probability.set_index("year").loc[2032]
    assert abs(by3["p_default"] - (1 - 0.7 ** 3)) < 3 * by3["p_default_se"]


def test_stress_samples_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "mc"
    path = mc_portfolio(tmp_path / "pf")
    assert main(["stress", str(path), "--samples", "20", "--seed", "3", "-o", str(out)]) == 0
    prob = pd.read_csv(out / "default_probability.csv")
    assert {"operator", "year", "p_breach", "p_default", "p_breach_se",
            "p_default_se"} <= set(prob.columns)
    assert len(prob) == 3 and (out / "default_risk.png").stat().st_size > 0
    assert (out / "expected_loss.csv").stat().st_size > 0
    assert (out / "capital_by_year.csv").stat().st_size > 0


def test_bundled_portfolio_reconciles_with_its_sources() -> None:
    """The corrected figures of issue 18, read back from the bundled tables."""
    pf = load_portfolio(default_portfolio_path())
    debt = pf.debt
    cw = debt[debt["operator"] == "coreweave"]
    assert cw["amount_usd"].sum() == pytest.approx(12.92e9, rel=0.01)
    interest = float((cw["amount_usd"] * cw["rate"]).sum())
    assert 1.24e9 * 0.75 < interest < 1.24e9 * 1.25
    ct = pf.contracts
    openai = ct[ct["lessee"] == "openai"]["total_value_usd"].sum()
    assert openai == pytest.approx(22.4e9)
    assert ct.at["cw_meta", "total_value_usd"] == pytest.approx(14.2e9)
    assert ct["start_year"].add(ct["term_years"]).max() - 1 >= 2031
    adi = debt[debt["operator"] == "applied_digital"]
    assert set(adi["repayment"]) == {"bullet"}
    iren = pf.operators.loc["iren"]
    assert iren["gpu_capex_usd_per_mw"] * ct.at["iren_msft", "mw"] == pytest.approx(5.8e9)
    assert ct.at["iren_msft", "prepaid_share"] == pytest.approx(0.2)
    for table in (pf.operators, pf.contracts, pf.customers, debt):
        assert table["source"].astype(str).str.len().min() > 20


def test_corrected_bundled_portfolio_without_shock(tmp_path: Path) -> None:
    """What the corrected example shows with no shock (docs/stress.md states it): CoreWeave
    borrows its 2026 GPU capital (23.3 B USD at the capacity model's GB200 cost), its DSCR
    falls to ~0.7 in 2027 and it defaults there; Applied Digital, its landlord, follows in
    2028; IREN and Cipher survive, Cipher refinancing its 2030 notes."""
    out = tmp_path / "base"
    assert main(["stress", "-o", str(out)]) == 0
    cap = pd.read_csv(out / "capital_by_year.csv").set_index(["operator", "year"])
    assert cap.at[("coreweave", 2026), "gpu_capex_usd_per_year"] == pytest.approx(23.33e9,
                                                                                  rel=0.01)
    assert cap.at[("applied_digital", 2026), "facility_capex_usd_per_year"] == pytest.approx(
        345 * 11.039e6, rel=1e-5)
    summary = pd.read_csv(out / "summary.csv").set_index("operator")
    assert summary.at["coreweave", "default_year"] == 2027
    assert summary.at["applied_digital", "default_year"] == 2028
    assert np.isnan(summary.at["iren", "default_year"])
    assert np.isnan(summary.at["cipher", "default_year"])
    tr = pd.read_csv(out / "debt_tranches.csv").set_index("tranche")
    assert tr.at["cipher_notes_2030", "refinanced_year"] == 2030


def test_cash_above_the_reserve_is_swept_by_hand(tmp_path: Path) -> None:
    """Landlord L: 12 M/yr, cash 30 M, 40 M at 0 % amortizing 2030–2031; reserve one year
    of cash costs, half the excess prepays debt. 2030: 30 + 12 − 20 = 22 M; reserve 20 →
    excess 2: 1 prepaid (debt 40 − 20 − 1 = 19), 1 paid out, cash 20. 2031: service 19,
    cash 20 + 12 − 19 = 13 < reserve 19: no sweep; debt 0."""
    path = write_portfolio(
        tmp_path, [{"operator": "L", "cash_usd": 30 * M, "covenant_min_dscr": 0.5}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "mw": 10, "total_value_usd": 60 * M,
          "start_year": 2030, "term_years": 5}], [{"customer": "c"}])
    with_debt(path, [{"tranche": "t", "operator": "L", "amount_usd": 40 * M, "rate": 0.0,
                      "maturity_year": 2031, "repayment": "amortizing"}],
              "{cash_reserve_years: 1.0, sweep_to_debt: 0.5}")
    pf = load_portfolio(path)
    r = simulate(pf, [], hand_market(pf.years))
    assert metric(r, "prepaid_usd_per_year", "L", 2030) == pytest.approx(1 * M)
    assert metric(r, "distributed_usd_per_year", "L", 2030) == pytest.approx(1 * M)
    assert metric(r, "cash_usd", "L", 2030) == pytest.approx(20 * M)
    assert metric(r, "debt_outstanding_usd", "L", 2030) == pytest.approx(19 * M)
    assert metric(r, "debt_service_usd_per_year", "L", 2031) == pytest.approx(19 * M)
    assert metric(r, "cash_usd", "L", 2031) == pytest.approx(13 * M)
    assert metric(r, "prepaid_usd_per_year", "L", 2031) == 0.0
    assert metric(r, "debt_outstanding_usd", "L", 2031) == pytest.approx(0.0, abs=1e-6)


def test_hedged_plan_hook_revenue_at_risk_by_hand(tmp_path: Path) -> None:
    """Landlord L: 12 M/yr at site s (ERCOT). Two demand scenarios, 0.25 / 0.75; the hedged
    plan strands 40 % of ERCOT's MW in 2031 in the low one and none in the high one:
    RaR 2031 = 0.25 · 0.4 · 12 M = 1.2 M; 2030: nothing stranded, 0."""
    from planner.stress.hedged import revenue_at_risk_from_stranded

    path = write_portfolio(
        tmp_path, [{"operator": "L"}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "site": "s", "mw": 10,
          "usd_per_kw_month": 100, "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], sites=[{"site": "s", "existing_mw": 20, "operator": "L"}])
    pf = load_portfolio(path)
    table = pd.DataFrame({"scenario": ["low", "high"], "probability": [0.25, 0.75],
                          "region": ["ERCOT", "ERCOT"], "year": [2031, 2031],
                          "stranded_share": [0.4, 0.0]})
    rar = revenue_at_risk_from_stranded(pf, table).set_index("year")
    assert rar.at[2031, "revenue_at_risk_usd_per_year"] == pytest.approx(1.2 * M)
    assert rar.at[2030, "revenue_at_risk_usd_per_year"] == 0.0
    with pytest.raises(InputError, match=r"probabilities sum to 0\.5"):
        revenue_at_risk_from_stranded(pf, table.assign(probability=[0.25, 0.25]))


def test_power_is_bought_for_it_mw_times_the_site_pue(tmp_path: Path) -> None:
    """10 IT MW at a site with PUE 1.25: 10 · 1.25 · 0.5 · 8760 h · 50 USD/MWh = 2.7375 M USD
    (2.19 M without PUE). The site's 20 MW at the meter energize 16 IT MW."""
    path = write_portfolio(
        tmp_path, [{"operator": "L", "pays_power": "true", "cash_usd": 100 * M}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "site": "s", "mw": 10,
          "usd_per_kw_month": 100, "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], sites=[{"site": "s", "existing_mw": 20, "operator": "L",
                                     "pue": 1.25}])
    pf = load_portfolio(path)
    r = simulate(pf, [], hand_market(pf.years, sites=["s"]))
    assert metric(r, "power_cost_usd_per_year", "L", 2030) == pytest.approx(2.7375 * M)


def test_fleet_chip_prices_gpu_capex_and_compute_at_the_capacity_model(tmp_path: Path) -> None:
    """Chip x: 50,000 USD and 4 H100e per unit, 2 kW → 25 M USD and 2,000 H100e per IT MW.
    G starts 10 IT MW in 2030: capex 250 M USD (cash 300 M, no loan). Customer c defaults in
    2030 (LGD 1); the MW are re-let in 2031 (no delay) at 2,000 H100e × the compute price
    1,000 USD/H100e-yr × (1 − 0.25) = 1.5 M USD per IT MW → 15 M USD."""
    path = write_portfolio(
        tmp_path, [{"operator": "G", "kind": "gpu_cloud", "fleet_chip": "x",
                    "cash_usd": 300 * M}],
        [{"contract": "g1", "lessor": "G", "lessee": "c", "mw": 10, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], shocks=["default:c@2030"],
        re_lease="{delay_years: 0, haircut: 0.25, window_years: 1}")
    pf = load_portfolio(path)
    market = hand_market(pf.years, compute_price=1000.0)
    market.chips = pd.DataFrame({"it_kw_per_unit": [2.0], "h100e_per_unit": [4.0],
                                 "capex_usd_per_unit": [50_000.0], "life_years": [5]},
                                index=["x"])
    r = simulate(pf, list(pf.spec.shocks), market)
    assert metric(r, "gpu_capex_usd_per_year", "G", 2030) == pytest.approx(250 * M)
    assert metric(r, "re_let_revenue_usd_per_year", "G", 2031) == pytest.approx(15 * M)
    market.chips = market.chips.rename(index={"x": "y"})
    with pytest.raises(InputError, match="fleet_chip 'x' is not a chip"):
        simulate(pf, [], market)


def test_relet_value_is_levelized_and_capped_by_new_build(tmp_path: Path) -> None:
    """A landlord's MW freed in 2030 are re-let from 2031 over a 2-year window. One-year
    values (USD/MW-yr): 2031 0.4 M, 2032 9.0 M (a spike); new build costs 1.2 M. Levelized:
    mean(min(0.4, 1.2), min(9.0, 1.2)) = 0.8 M → × 0.75 × 10 MW = 6 M USD in 2031 (the plain
    window mean would give 35.25 M)."""
    path = write_portfolio(
        tmp_path, [{"operator": "L", "cash_usd": 10 * M}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "mw": 10, "usd_per_kw_month": 100,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], years=(2030, 2032), shocks=["default:c@2030"],
        re_lease="{delay_years: 0, haircut: 0.25, window_years: 2}")
    pf = load_portfolio(path)
    market = hand_market(pf.years)
    market.capacity_value_usd_per_mw_year.loc[:, 2031] = 0.4 * M
    market.capacity_value_usd_per_mw_year.loc[:, 2032] = 9.0 * M
    market.new_build_usd_per_mw_year = pd.Series({"_national": 1.2 * M})
    r = simulate(pf, list(pf.spec.shocks), market)
    assert metric(r, "re_let_revenue_usd_per_year", "L", 2031) == pytest.approx(6 * M)


@pytest.mark.parametrize("factor, extra, expected", [
    ("{kind: demand, magnitude: -0.2}", [], r"portfolio\.yaml line \d+, key monte_carlo\.0: "
     r"demand shocks re-solve the capacity model"),
    ("{kind: default, target: nobody, annual_probability: 0.1}", [],
     r"key monte_carlo\.0: unknown default target 'nobody'"),
    ("{kind: lease_rate, magnitude: {dist: gauss, mean: 0}}", [], r"key monte_carlo\.0: "),
    ("{kind: lease_rate, magnitude: -0.1}", ["--samples", "0"], r"--samples must be >= 1"),
])
def test_bad_monte_carlo_input_is_one_clear_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], factor: str, extra: list[str],
        expected: str) -> None:
    import re

    path = mc_portfolio(tmp_path / "pf")
    text = path.read_text()
    path.write_text(text[:text.index("monte_carlo:")] + f"monte_carlo:\n  - {factor}\n")
    out = tmp_path / "out"
    capsys.readouterr()
    code = main(["stress", str(path), "-o", str(out), *(extra or ["--samples", "5"])])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert re.search(expected, lines[0]), lines[0]
    assert "Traceback" not in err and not out.exists()


def test_uncured_breach_accelerates_flat_debt_too(tmp_path: Path) -> None:
    """A portfolio without a debt table: debt_usd 30 M, 10 M/yr flat service to 2032;
    revenue 8 M/yr (DSCR 0.8 < 1.2). Breach 2030 and 2031 → event of default; in 2032 the
    10 M left is due at once (30 − 10 − 10); cash 100 − 2 − 2 = 96 + 8 pays it: no default,
    no debt left."""
    path = write_portfolio(
        tmp_path, [{"operator": "L", "debt_usd": 30 * M, "debt_service_usd_per_year": 10 * M,
                    "debt_maturity_year": 2032, "cash_usd": 100 * M,
                    "covenant_min_dscr": 1.2}],
        [{"contract": "l1", "lessor": "L", "lessee": "c", "mw": 10, "total_value_usd": 40 * M,
          "start_year": 2030, "term_years": 5}],
        [{"customer": "c"}], years=(2030, 2032))
    pf = load_portfolio(path)
    r = simulate(pf, [], hand_market(pf.years))
    assert metric(r, "event_of_default", "L", 2031) == 1.0
    assert metric(r, "accelerated_usd_per_year", "L", 2032) == pytest.approx(10 * M)
    assert metric(r, "debt_outstanding_usd", "L", 2032) == pytest.approx(0.0, abs=1e-6)
    assert math.isnan(float(r.metrics["default_year"].sel(operator="L")))


def test_monte_carlo_on_dask_equals_in_process(tmp_path: Path) -> None:
    """The same paths on a one-worker Dask LocalCluster as in this process."""
    pf = load_portfolio(mc_portfolio(tmp_path))
    market = hand_market(pf.years)
    here = run_monte_carlo(pf, market, [], 12, 5, workers=0)
    dask = run_monte_carlo(pf, market, [], 12, 5, workers=1)
    pd.testing.assert_frame_equal(here.default_probability, dask.default_probability)
    pd.testing.assert_frame_equal(here.expected_loss_by_counterparty,
                                  dask.expected_loss_by_counterparty)
