"""Calibration: the default scenario's AI datacenter energy against published projections.

Run by hand (not part of the test suite; about 20 s on 2 cores)::

    python -m bench.calibration                 # Markdown tables (docs/calibration.md)
    python -m bench.calibration --json          # the same numbers as JSON
    python -m bench.calibration --png docs/calibration.png   # also draw every published point

It solves ``us-base`` under every demand preset (``models.demand.PRESETS``)
and a few one-at-a-time sensitivities, and compares each path's US AI
datacenter energy (``result.to_xarray()["energy_twh"]``: facility load ×
utilization × 8760 h) with the published projections below. The model covers
AI accelerator demand only; every projection below covers *all* US
datacenters, so the model's energy should sit below them (its share of the
projection is printed). Each path's **all-datacenter energy** — AI plus the
sourced non-AI baseline ``models/data/dc_baseline.csv`` — is compared with
every point of ``models/data/calibration_points.csv`` (the table is the one
source of the published figures; ``--png`` draws them all).

Published projections (all US datacenters):

* LBNL, 2024 United States Data Center Energy Usage Report (Shehabi et al.,
  Dec 2024): 176 TWh in 2023 (4.4 % of US electricity); 325–580 TWh in 2028
  (6.7–12 %) — via shared/data/market_facts.md.
* IEA, Energy and AI (2025): United States 183 TWh in 2024 → 426 TWh in 2030
  (base case).
* EPRI, Powering Intelligence (May 2024): 4.6–9.1 % of US electricity in 2030
  (four scenarios: 3.7, 5, 10, 15 % a year growth from ~4 % in 2023). Turned
  into TWh with a US load of 4,000 TWh: EIA, US electricity end use in 2023
  (retail sales 3,861 TWh, Electric Power Monthly Table 5.1, plus direct use),
  held flat to 2030 — **a dcplan assumption** (EPRI's own 2030 denominator is
  not restated here; US load is forecast to grow, which would raise the range).
  EPRI's Feb 2026 update raised the range to 9–17 % by 2030.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

#: Published projections, TWh (all US datacenters). See the module docstring.
LBNL_2023_TWH = 176.0
LBNL_2028_TWH = (325.0, 580.0)
IEA_2024_TWH = 183.0
IEA_2030_TWH = 426.0
EPRI_2030_SHARE = (0.046, 0.091)
US_LOAD_TWH = 4000.0  # EIA 2023 end use, held flat (dcplan assumption)
EPRI_2030_TWH = (EPRI_2030_SHARE[0] * US_LOAD_TWH, EPRI_2030_SHARE[1] * US_LOAD_TWH)

YEARS_SHOWN = (2026, 2028, 2030, 2035, 2040)

def _path(result: Any) -> dict[str, Any]:
    """Energy path and its drivers from a solved result."""
    ds = result.to_xarray()
    gap = result.gap().set_index("year")
    energy = {int(y): float(v) for y, v in ds["energy_twh"].to_series().items()}
    drivers = {}
    for y in (2028, 2030):
        drivers[y] = {
            "demand_m_h100e": float(gap.at[y, "demand_h100e"]) / 1e6,
            "served_m_h100e": float(gap.at[y, "served_h100e"]) / 1e6,
            "fleet_h100e_per_it_mw": float(gap.at[y, "fleet_h100e_per_mw"]),
            "fleet_pue": float(gap.at[y, "fleet_pue"]),
            "load_gw": float(gap.at[y, "power_energized_mw"]) / 1e3,
        }
    unserved = float(ds["unserved_h100e"].sum()) / max(float(ds["demand_h100e"].sum()), 1.0)
    from planner.outputs.calibration_chart import path_from_gap

    paths = path_from_gap(result.gap(), float(result.inputs.utilization))
    return {"energy_twh": energy,
            "all_datacenter_energy_twh": paths["all_datacenter_energy_twh"],
            "load_gw": paths["load_gw"], "all_datacenter_load_gw": paths["all_datacenter_load_gw"],
            "drivers": drivers, "unserved_share": unserved,
            "peak_load_gw": float(ds["load_mw"].sum("site").max()) / 1e3,
            "objective_busd": result.objective_usd / 1e9}


def run(verbose: bool = False) -> dict[str, Any]:
    """Solve the presets and sensitivities; return every number shown."""
    import planner
    from models.demand import PRESETS

    base = planner.load_scenario()
    out: dict[str, Any] = {"presets": {}, "sensitivities": {}}
    t0 = time.perf_counter()
    out["presets"]["us-base (scenario)"] = _path(planner.solve(base))
    for name in PRESETS:
        out["presets"][name] = _path(planner.solve(base.with_demand_preset(name)))
        if verbose:
            print(f"  {name}: {time.perf_counter() - t0:.1f} s")

    def variant(label: str, **update: Any) -> None:
        spec = base.spec.model_copy(update=update)
        sc = replace(base, spec=spec)
        if "efficiency" in update:  # the frontier chips follow the growth rate
            from models.chips import load_chips, with_frontier

            raw = load_chips(base.table_paths["chips"] or None)
            sc = replace(sc, chips=with_frontier(raw, update["efficiency"].frontier_growth,
                                                 base.years[-1]))
        out["sensitivities"][label] = _path(planner.solve(sc))
        if verbose:
            print(f"  {label}: {time.perf_counter() - t0:.1f} s")

    eff = base.spec.efficiency
    variant("utilization 0.7 (base 0.8)", utilization=0.7)
    variant("utilization 0.9", utilization=0.9)
    variant("frontier growth 1.25/yr (base 1.35)",
            efficiency=eff.model_copy(update={"frontier_growth": 1.25}))
    variant("frontier growth 1.45/yr", efficiency=eff.model_copy(update={"frontier_growth": 1.45}))
    variant("no idle chips (allow_idle_chips: false)", allow_idle_chips=False)
    out["seconds"] = time.perf_counter() - t0
    out["published"] = {
        "lbnl_2023_twh": LBNL_2023_TWH, "lbnl_2028_twh": LBNL_2028_TWH,
        "iea_2024_twh": IEA_2024_TWH, "iea_2030_twh": IEA_2030_TWH,
        "epri_2030_share": EPRI_2030_SHARE, "us_load_twh": US_LOAD_TWH,
        "epri_2030_twh": EPRI_2030_TWH,
    }
    return out


def _position(value: float, lo: float, hi: float) -> str:
    if value < lo:
        return f"below ({value / lo:.0%} of low)"
    if value > hi:
        return f"above ({value / hi:.0%} of high)"
    return "inside"


def markdown(res: dict[str, Any]) -> str:
    """The tables of docs/calibration.md."""
    lines = ["| path | " + " | ".join(f"{y} TWh" for y in YEARS_SHOWN)
             + " | peak GW | unserved | 2028 vs LBNL 325–580 | 2030 vs IEA 426 "
             f"| 2030 vs EPRI {EPRI_2030_TWH[0]:.0f}–{EPRI_2030_TWH[1]:.0f} |",
             "| --- |" + " ---: |" * (len(YEARS_SHOWN) + 2) + " --- | ---: | --- |"]
    for group in ("presets", "sensitivities"):
        for name, p in res[group].items():
            e = p["energy_twh"]
            lines.append(
                f"| {name} | " + " | ".join(f"{e.get(y, float('nan')):,.0f}" for y in YEARS_SHOWN)
                + f" | {p['peak_load_gw']:,.1f} | {p['unserved_share']:.1%} "
                f"| {_position(e[2028], *LBNL_2028_TWH)} | {e[2030] / IEA_2030_TWH:.0%} "
                f"| {_position(e[2030], *EPRI_2030_TWH)} |")
    lines += ["", "Drivers (energy = served H100e ÷ fleet H100e per IT-MW × PUE × "
              "utilization × 8760 h):", "",
              "| path | year | demand M H100e | served M H100e | fleet H100e/IT-MW | PUE "
              "| load GW |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, p in res["presets"].items():
        for y, dr in p["drivers"].items():
            lines.append(f"| {name} | {y} | {dr['demand_m_h100e']:,.1f} "
                         f"| {dr['served_m_h100e']:,.1f} | {dr['fleet_h100e_per_it_mw']:,.0f} "
                         f"| {dr['fleet_pue']:.3f} | {dr['load_gw']:,.1f} |")
    lines += ["", "All-datacenter energy and load (AI + non-AI baseline, "
              "models/data/dc_baseline.csv; load: the baseline's TWh ÷ (utilization × 8.76)) "
              "against every published US point from the first model year "
              f"(models/data/calibration_points.csv; shares × {US_LOAD_TWH:,.0f} TWh):", ""]
    pts = _us_points()
    first = min(res["presets"]["us-base (scenario)"]["energy_twh"])
    pts = pts[pts["year"] >= first]  # earlier points are history, drawn in the PNG only
    for metric, key, unit in (("energy_twh", "all_datacenter_energy_twh", "TWh"),
                              ("load_gw", "all_datacenter_load_gw", "GW")):
        mp = pts[pts["metric"] == metric]
        lines += ["| path | " + " | ".join(f"{y} {unit}" for y in YEARS_SHOWN) + " | "
                  + " | ".join(mp.index) + " |",
                  "| --- |" + " ---: |" * len(YEARS_SHOWN) + " --- |" * len(mp)]
        for name, p in res["presets"].items():
            e = p[key]
            cells = [_against(e[int(pt["year"])], pt) for _, pt in mp.iterrows()]
            lines.append(f"| {name} | " + " | ".join(f"{e.get(y, float('nan')):,.0f}"
                                                     for y in YEARS_SHOWN) + " | "
                         + " | ".join(cells) + " |")
        lines.append("")
    lines += ["", f"Solved in {res['seconds']:.0f} s."]
    return "\n".join(lines)


def _us_points() -> pd.DataFrame:
    """Every US point of the calibration table; shares turned into TWh."""
    from planner.outputs.calibration_chart import us_points

    return us_points(US_LOAD_TWH)


def _against(value: float, pt: pd.Series) -> str:
    """Where ``value`` lies against one point: inside a range or its ratio to the figure."""
    lo, c, hi = pt["low"], pt["central"], pt["high"]
    if pd.notna(lo) and pd.notna(hi):
        return _position(value, lo, hi)
    return f"{value / c:.0%} of {c:,.0f}"


def plot(res: dict[str, Any], path: str | Path) -> None:
    """Draw each path's all-datacenter energy and load against every published US point
    (:func:`planner.outputs.calibration_chart.calibration_figure`, as in the report)."""
    import matplotlib.pyplot as plt

    from planner.outputs.calibration_chart import calibration_figure

    paths = {k: v for k, v in res["presets"].items() if k != "base"}  # base = the scenario
    fig = calibration_figure(
        paths, ai_only="us-base (scenario)",
        title="dcplan default and presets vs every published US datacenter projection "
              "(models/data/calibration_points.csv)")
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--png", type=Path, help="also draw the paths against every published "
                        "point into this PNG (docs/calibration.png)")
    args = parser.parse_args()
    res = run(verbose=not args.json)
    if args.png:
        plot(res, args.png)
    print(json.dumps(res, indent=2, default=float) if args.json else markdown(res))


if __name__ == "__main__":
    main()
