"""Gap report, frontier, demand presets and elastic (Jevons) demand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from models.capacity import CapacityInputs, resolve_prices
from models.chips import with_frontier
from models.demand import PRESETS, elastic_blocks, growth_path
from planner.cli.commands import main
from planner.outputs.gap import gap_table
from tests.factory import REGION_DEFAULTS, SITE_DEFAULTS, solve_inputs, tiny


def frontier_case(
    demand_growth: float, frontier_growth: float, years: list[int], *,
    elasticity: float | None = None, reference_price: float = 2_000.0,
) -> CapacityInputs:
    """One free, unconstrained site; one announced chip sold only in y0 (life 1)
    and synthetic frontier chips every later year; 1 USD/MWh energy."""
    chips = pd.DataFrame([{
        "chip": "ref", "vendor": "v", "first_year": years[0], "last_year": years[0],
        "it_kw_per_unit": 1.0, "h100e_per_unit": 1.0, "capex_usd_per_unit": 1000.0,
        "life_years": 1,
    }]).set_index("chip", drop=False)
    chips = with_frontier(chips, frontier_growth, years[-1])
    regions = pd.DataFrame([{"region": "R", **REGION_DEFAULTS,
                             "energy_price_usd_per_mwh": 1.0}]).set_index("region", drop=False)
    sites = pd.DataFrame([{"site": "s", **SITE_DEFAULTS, "pue": 1.25}]).set_index(
        "site", drop=False)
    energy, capacity = resolve_prices(regions, sites, years)
    demand = growth_path(1000.0, [demand_growth], years)
    blocks = None
    if elasticity is not None:
        blocks = elastic_blocks(demand, elasticity, reference_price, 20_000.0,
                                reference_price / 10, n_blocks=12)
    return CapacityInputs(
        years=years, discount_rate=0.0, utilization=0.8, facility_life_years=30,
        regions=regions, sites=sites, chips=chips, demand_h100e=demand,
        energy_price_usd_per_mwh=energy, capacity_price_usd_per_mw_year=capacity,
        onsite_lead_years=0, onsite_capex_usd_per_mw=0.0, onsite_life_years=20,
        onsite_fuel_usd_per_mwh=0.0, value_of_unserved_usd_per_h100e_year=20_000.0,
        demand_blocks=blocks,
    )


def test_net_power_growth_is_demand_over_efficiency() -> None:
    """Demand ×4.5 a year, frontier efficiency ×1.35 a year, one-year chip
    lives (the fleet is the frontier): power grows 4.5/1.35 = 3.33× a year."""
    years = list(range(2026, 2031))
    r = solve_inputs(frontier_case(4.5, 1.35, years))
    gap = r.gap()
    assert gap["demand_growth"].iloc[1:].to_numpy() == pytest.approx(4.5, rel=1e-9)
    assert gap["efficiency_growth"].iloc[1:].to_numpy() == pytest.approx(1.35, rel=1e-9)
    assert gap["net_power_growth"].iloc[1:].to_numpy() == pytest.approx(4.5 / 1.35, rel=5e-3)
    energized = gap["power_energized_mw"].to_numpy()
    assert energized[1:] / energized[:-1] == pytest.approx(4.5 / 1.35, rel=5e-3)
    assert gap["cum_net_power_growth"].iloc[-1] == pytest.approx((4.5 / 1.35) ** 4, rel=5e-3)
    assert gap["gap_mw"].abs().max() < 1e-6
    assert gap["fleet_pue"].to_numpy() == pytest.approx(1.25)


def test_gap_agrees_with_results_and_energy_is_load_times_hours() -> None:
    """A site capped at 2 MW: the rest of demand is unserved and shows as a gap."""
    r = solve_inputs(tiny(
        years=[2026, 2027, 2028], demand_h100e=[1000, 3000, 9000], utilization=0.7,
        regions={"R": {"energy_price_usd_per_mwh": 10.0}},
        sites={"s": {"max_mw": 2.0, "pue": 1.0}}, value_of_unserved_usd_per_h100e_year=1e5,
    ))
    ds, gap = r.to_xarray(), r.gap()
    np.testing.assert_allclose(gap["served_h100e"], ds["served_h100e"])
    np.testing.assert_allclose(gap["unserved_h100e"], ds["unserved_h100e"])
    load = ds["load_mw"].sum("site").values
    np.testing.assert_allclose(gap["power_energized_mw"], load)
    np.testing.assert_allclose(gap["energy_twh"], load * 0.7 * 8760 / 1e6)
    np.testing.assert_allclose(gap["power_needed_mw"], [1, 3, 9])
    np.testing.assert_allclose(gap["gap_mw"], [0, 1, 7], atol=1e-9)
    np.testing.assert_allclose(gap["gap_pct"], [0, 100 / 3, 700 / 9], atol=1e-9)
    np.testing.assert_allclose(gap["compute_price_usd_per_h100e_year"][1:], 1e5)


def test_elasticity_zero_equals_the_inelastic_model() -> None:
    years = [2026, 2027, 2028]
    base = frontier_case(3.0, 1.3, years)
    r0 = solve_inputs(base)
    blocks = elastic_blocks(base.demand_h100e, 0.0, 2_000.0, 20_000.0, 200.0)
    base.demand_blocks = blocks
    r1 = solve_inputs(base)
    assert r1.objective_usd == pytest.approx(r0.objective_usd, rel=1e-9)
    np.testing.assert_allclose(r1.to_xarray()["served_h100e"], r0.to_xarray()["served_h100e"])


def test_jevons_cheaper_compute_raises_served_demand_and_spend() -> None:
    """Elasticity 1.5 > 1: a faster frontier (cheaper compute) raises both the
    compute served and the money spent on it (resource cost, excluding the
    value of unserved demand)."""
    years = list(range(2026, 2031))
    slow = solve_inputs(frontier_case(1.5, 1.1, years, elasticity=1.5))
    fast = solve_inputs(frontier_case(1.5, 1.6, years, elasticity=1.5))

    def spend(r) -> float:
        c = r.cost_breakdown().sum(axis=1)
        return float(c.drop("unserved").sum())

    served_slow = slow.to_xarray()["served_h100e"].values
    served_fast = fast.to_xarray()["served_h100e"].values
    assert served_fast[-1] > 2 * served_slow[-1]
    assert served_fast.sum() > served_slow.sum()
    assert spend(fast) > spend(slow)
    # blocks worth more than the marginal cost are served, cheaper ones are not
    ds = slow.to_xarray()
    assert float(ds["demand_curve_h100e"][-1]) > float(ds["served_h100e"][-1])


def test_presets_are_documented_and_match_their_story() -> None:
    assert set(PRESETS) == {"base", "jevons", "deflation", "capex-retrenchment"}
    for p in PRESETS.values():
        assert len(p.sources) > 30 and len(p.description) > 20
    assert 4.0 <= PRESETS["jevons"].growth[0] <= 5.0
    assert PRESETS["capex-retrenchment"].growth[1] < PRESETS["base"].growth[1]
    assert max(PRESETS["deflation"].growth[3:]) < 1.35


def test_run_with_a_preset_gap_and_chips_commands(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "j"
    assert main(["run", "--demand", "capex-retrenchment", "-o", str(out)]) == 0
    with xr.open_dataset(out / "results.nc") as ds:
        assert ds.attrs["scenario"] == "us-base-capex-retrenchment"
        assert float(ds["demand_h100e"].sel(year=2027)) == pytest.approx(1.2e7 * 2.2)
        expected = gap_table(ds.load())
    before = pd.read_csv(out / "gap.csv")
    (out / "gap.csv").unlink()
    capsys.readouterr()
    assert main(["gap", str(out)]) == 0
    assert "net power" in capsys.readouterr().out
    after = pd.read_csv(out / "gap.csv")
    pd.testing.assert_frame_equal(before, after)
    assert list(after.columns) == list(expected.columns)
    assert main(["run", "--demand", "nonsense", "-o", str(tmp_path / "x")]) == 2
    assert "unknown demand preset" in capsys.readouterr().err
    png = tmp_path / "chips.png"
    assert main(["chips", "--plot", "-o", str(png)]) == 0
    text = capsys.readouterr().out
    assert "rubin" in text and "frontier-2040" in text
    assert png.stat().st_size > 10_000
    assert main(["gap", str(tmp_path / "nowhere")]) == 2


def test_elastic_scenario_from_yaml(tmp_path: Path) -> None:
    import planner

    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    text = (d / "scenario.yaml").read_text()
    text = text.replace("elasticity: null", "elasticity: 1.3\n"
                        "  reference_price_usd_per_h100e_year: 8000\n  blocks: 6")
    (d / "scenario.yaml").write_text(text)
    # the default's value of unserved compute is indexed to the frontier, which needs
    # inelastic demand: one line says so, and the flat value makes the curve's top price
    with pytest.raises(planner.InputError, match="set index_unserved: false"):
        planner.load_scenario(d / "scenario.yaml")
    assert "market: {path: market_parameters.csv}" in text
    text = text.replace("market: {path: market_parameters.csv}",
                        "market: {path: market_parameters.csv, index_unserved: false}")
    (d / "scenario.yaml").write_text(text)
    sc = planner.load_scenario(d / "scenario.yaml")
    blocks = sc.demand_blocks()
    assert blocks is not None and len(blocks) == 6 * len(sc.years)
    r = planner.solve(sc)
    ds = r.to_xarray()
    assert (ds["demand_curve_h100e"] > ds["demand_h100e"]).all()
    assert float(r.cost_breakdown().to_numpy().sum()) == pytest.approx(r.objective_usd, rel=1e-6)


def test_gap_csv_has_all_datacenter_energy_and_the_ai_share(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A scenario folder through dcplan run, 2040–2041: 1,000 H100e on a chip of 1,000
    H100e per IT-MW at PUE 1 and utilization 1 is 1 MW, 8,760 MWh = 0.00876 TWh of AI
    energy a year. gap.csv adds the bundled non-AI baseline (334.8 TWh in 2040; no row
    for 2041 → blank): all datacenters 334.80876 TWh, AI share 0.00876 / 334.80876."""
    from tests.scenario_folders import write_scenario_folder

    d = tiny(years=[2040, 2041], demand_h100e=[1000, 1000])
    folder = write_scenario_folder(d, tmp_path / "case")
    out = tmp_path / "out"
    assert main(["run", str(folder / "scenario.yaml"), "-o", str(out)]) == 0
    gap = pd.read_csv(out / "gap.csv").set_index("year")
    assert gap.at[2040, "energy_twh"] == pytest.approx(0.00876)
    assert gap.at[2040, "non_ai_datacenter_energy_twh"] == pytest.approx(334.8)
    assert gap.at[2040, "all_datacenter_energy_twh"] == pytest.approx(334.80876)
    assert gap.at[2040, "ai_share_of_datacenter_energy_pct"] \
        == pytest.approx(0.00876 / 334.80876 * 100)
    assert np.isnan(gap.at[2041, "non_ai_datacenter_energy_twh"])
    assert np.isnan(gap.at[2041, "all_datacenter_energy_twh"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "All datacenters (TWh)" in html and "AI share (%)" in html
    capsys.readouterr()
    assert main(["gap", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "0/335" in printed and "AI/all DC" in printed


def test_gap_table_takes_a_baseline_of_its_own() -> None:
    """gap_table(ds, baseline): all-datacenter energy = AI energy + the given baseline."""
    r = solve_inputs(tiny(years=[2026, 2027], demand_h100e=[1000, 2000]))
    gap = gap_table(r.to_xarray(), pd.Series([10.0, 20.0], index=[2026, 2027]))
    assert gap["all_datacenter_energy_twh"].tolist() == pytest.approx(
        [10 + 0.00876, 20 + 0.01752])
    assert gap["ai_share_of_datacenter_energy_pct"].tolist() == pytest.approx(
        [0.00876 / 10.00876 * 100, 0.01752 / 20.01752 * 100])
