"""The default plan's story: every figure the README's "What the plan says and why" quotes.

Run by hand after any change to the default (about 1–2 minutes on 2 shared cores)::

    python -m bench.default_story            # the figures, as Markdown
    python -m bench.default_story --json     # the same numbers as JSON

It solves the bundled ``us-base`` once and prints: the present value (the plan's cost
and the value of compute left unserved, by component); the installed base's share of
the first year; halls by year against the construction lead; what binds, each with its
dual **and a finite difference that confirms it** (the objective re-solved with the
constraint's right-hand side moved by a small step; a dual the finite difference does
not confirm, at a degenerate vertex, is listed as such and not quoted); all-datacenter
energy and load in 2028, 2030 and 2035 against every published range
(``models/data/calibration_points.csv``); on-site generation; and the regional split.

Duals are reported undiscounted (USD in the year they accrue, like ``results.nc``); the
finite difference of the present-value objective is divided by that year's discount
factor to compare like with like.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

#: Years whose all-datacenter energy and load are compared with the published points.
CHECK_YEARS = (2028, 2030, 2035)
#: Relative step of a finite difference, and how close it must come to the dual.
FD_STEP = 1e-3
FD_RTOL = 0.02
#: How many of the largest supply and lead-time duals are checked.
TOP = 3


def _solve(sc: Any) -> Any:
    import planner

    return planner.solve(sc)


def _fd(sc: Any, base_obj: float, step: float, discount: float, perturb: Any) -> float:
    """(objective − objective with the right-hand side raised by ``step``) / step /
    discount: the undiscounted value of one more unit, by re-solving."""
    other = _solve(perturb(sc, step))
    return (base_obj - other.objective_usd) / step / discount


def _check(label: str, dual: float, fd: float) -> dict[str, Any]:
    ok = bool(np.isclose(fd, dual, rtol=FD_RTOL, atol=1e-6 * max(abs(dual), 1.0)))
    return {"what": label, "dual": dual, "finite_difference": fd, "confirmed": ok}


def _with_supply(key: tuple[str, int]) -> Any:
    def perturb(sc: Any, step: float) -> Any:
        supply = dict(sc.market.accelerator_supply_h100e)
        supply[key] += step
        return replace(sc, market=replace(sc.market, accelerator_supply_h100e=supply))
    return perturb


def _with_national(year: int) -> Any:
    def perturb(sc: Any, step: float) -> Any:
        nat = dict(sc.market.national_headroom_mw)
        nat[year] += step
        return replace(sc, market=replace(sc.market, national_headroom_mw=nat))
    return perturb


def _with_regional(region: str, year: int) -> Any:
    def perturb(sc: Any, step: float) -> Any:
        table = sc.market.regional_headroom_mw.copy()
        table.loc[region, year] += step
        return replace(sc, market=replace(sc.market, regional_headroom_mw=table))
    return perturb


def _with_under_construction(site: str) -> Any:
    def perturb(sc: Any, step: float) -> Any:
        uc = dict(sc.market.under_construction)
        mw, year = uc[site]
        uc[site] = (mw + step, year)
        return replace(sc, market=replace(sc.market, under_construction=uc))
    return perturb


def _with_onsite_supply(tech: str) -> Any:
    def perturb(sc: Any, step: float) -> Any:
        table, gas, reserve = sc.onsite_tables
        table = table.copy()
        table.loc[tech, "supply_limit_mw_per_year"] += step
        return replace(sc, onsite_tables=(table, gas, reserve))
    return perturb


def _with_demand(year: int) -> Any:
    def perturb(sc: Any, step: float) -> Any:
        demand = sc.demand_h100e.copy()
        demand[year] -= step  # one unit less to serve: the objective falls by the price
        return replace(sc, demand_h100e=demand)
    return perturb


def binding(sc: Any, r: Any, ds: Any) -> list[dict[str, Any]]:
    """The binding constraints' duals, each checked by a finite difference."""
    obj = r.objective_usd
    disc = ds["discount_factor"].to_series()
    out = []
    value = ds["gpu_supply_value_usd_per_h100e"].to_series().dropna()
    for (vendor, year), v in value[value > 1.0].sort_values(ascending=False)[:TOP].items():
        limit = float(ds["gpu_supply_h100e"].sel(vendor=vendor, year=year))
        fd = _fd(sc, obj, FD_STEP * limit, float(disc[year]), _with_supply((vendor, int(year))))
        out.append(_check(f"vendor supply {vendor} {year} (USD per H100e)", float(v), fd)
                   | {"limit_h100e": limit})
    nat = ds["national_headroom_value_usd_per_mw"].to_series().dropna()
    for year, v in nat[nat > 1.0].sort_values(ascending=False)[:TOP].items():
        limit = float(ds["national_headroom_mw"].sel(year=year))
        fd = _fd(sc, obj, FD_STEP * limit, float(disc[year]), _with_national(int(year)))
        out.append(_check(f"national firm headroom {year} (USD per MW)", float(v), fd))
    reg = ds["headroom_value_usd_per_mw"].to_series().dropna()
    for (region, year), v in reg[reg > 1.0].sort_values(ascending=False)[:TOP].items():
        limit = float(sc.market.regional_headroom_mw.loc[region, year])
        fd = _fd(sc, obj, max(FD_STEP * limit, 1.0), float(disc[year]),
                 _with_regional(str(region), int(year)))
        out.append(_check(f"firm headroom {region} {year} (USD per MW)", float(v), fd))
    lead = ds["lead_time_value_usd_per_mw"].to_series().dropna()
    uc = {s: y for s, (_, y) in sc.market.under_construction.items()}
    at_uc = lead[[uc.get(s) == y for s, y in lead.index]]
    for (site, year), v in at_uc[at_uc > 1.0].sort_values(ascending=False)[:TOP].items():
        mw = sc.market.under_construction[site][0]
        fd = _fd(sc, obj, max(FD_STEP * mw, 0.1), float(disc[year]),
                 _with_under_construction(str(site)))
        out.append(_check(f"hall under construction at {site} in {year} (USD per MW)",
                          float(v), fd))
    if "onsite_supply_value_usd_per_mw" in ds:
        # the table's limit is one number for every year: one more MW a year of a
        # technology's national supply, in every year, is worth Σ_y dual_y·δ_y (present value)
        onsite = ds["onsite_supply_value_usd_per_mw"].to_series().dropna()
        pv = (onsite * disc.reindex(onsite.index.get_level_values("year")).to_numpy())
        pv = pv.groupby(level="technology").sum()
        for tech, v in pv[pv > 1.0].sort_values(ascending=False)[:TOP].items():
            fd = _fd(sc, obj, 1.0, 1.0, _with_onsite_supply(str(tech)))
            out.append(_check(f"on-site supply {tech}, one more MW a year in every year "
                              "(USD, present value)", float(v), fd))
    unserved = ds["unserved_h100e"].to_series()
    price = ds["compute_price_usd_per_h100e_year"].to_series()
    for year in unserved[unserved > 1.0].index[:TOP]:
        step = FD_STEP * float(unserved[year])
        fd = _fd(sc, obj, step, float(disc[year]), _with_demand(int(year)))
        out.append(_check(f"compute demand {year} (USD per H100e-year)", float(price[year]),
                          fd) | {"unserved_h100e": float(unserved[year])})
    return out


def against_points(gap: pd.DataFrame, utilization: float) -> list[dict[str, Any]]:
    """All-datacenter energy (TWh) and load (GW) in CHECK_YEARS against every US point."""
    from models.calibration import load_points, points_twh

    points = load_points()
    twh = points_twh(points)
    gw = points[points["metric"] == "load_gw"]
    pts = pd.concat([twh, gw])
    pts = pts[pts["scope"] == "us_all_datacenters"]
    g = gap.set_index("year")
    out = []
    for year in CHECK_YEARS:
        if year not in g.index:
            continue
        energy = float(g.at[year, "all_datacenter_energy_twh"])
        load = (float(g.at[year, "power_energized_mw"]) / 1e3
                + float(g.at[year, "non_ai_datacenter_energy_twh"]) / (utilization * 8.76))
        for _, p in pts[pts["year"] == year].iterrows():
            value = energy if p["metric"] == "energy_twh" else load
            lo, c, hi = p["low"], p["central"], p["high"]
            if pd.notna(lo) and pd.notna(hi) and lo != hi:
                if lo <= value <= hi:
                    where = "inside"
                elif value < lo:
                    where = f"below ({value / lo:.0%} of low)"
                else:
                    where = f"above ({value / hi:.0%} of high)"
                published = f"{lo:,.0f}–{hi:,.0f}"
            else:
                ref = c if pd.notna(c) else lo
                where = f"{value / ref:.0%} of it"
                published = f"{ref:,.0f}"
            out.append({"year": year, "point": p["point"], "unit": "TWh" if p["metric"] ==
                        "energy_twh" else "GW", "plan": value, "published": published,
                        "where": where})
    return out


def story(sc: Any = None, check_duals: bool = True) -> dict[str, Any]:
    """Solve the default (or ``sc``) and gather every figure of the story."""
    import planner
    from planner.outputs.headline import run_summary

    t0 = time.perf_counter()
    sc = sc if sc is not None else planner.load_scenario()
    r = _solve(sc)
    ds = r.to_xarray()
    s = run_summary(r, sc)
    gap = r.gap()
    years = [int(y) for y in ds.year.values]
    y0 = years[0]
    pi = ds["pi_h100e_per_mw"]
    base_h100e = float((ds["existing_fleet_it_mw"].sel(year=y0).sum("site") * pi).sum())
    bought = (ds["it_mw"].sum("site") * pi).sum("chip").to_series()
    build = ds["build_mw"].sum("site").to_series()
    region_build = ds["region_build_mw"].sum("year").to_series()
    region_load = ds["region_load_mw"].to_series().unstack("year")
    onsite_load = ds["onsite_load_mw"].sum("site").to_series()
    load = ds["load_mw"].sum("site").to_series()
    lead_first = y0 + int(sc.market.facility_lead_years)
    uc_mw = sum(mw for mw, _ in sc.market.under_construction.values())
    supply = ds["gpu_supply_h100e"].to_series()
    got = ds["gpu_bought_h100e"].to_series()
    binds = got[(supply > 0) & (got >= supply * (1 - 1e-6))]
    forced = ds["forced_build_cost_usd_per_mw"].to_series() if "forced_build" in ds.dims \
        else pd.Series(dtype=float)
    out: dict[str, Any] = {
        "scenario": sc.name,
        "present_value": {
            "plan_cost_usd": s["plan_cost_usd"], "unserved_value_usd": s["unserved_value_usd"],
            "objective_usd": s["objective_usd"],
            "by_component_usd": {k: v for k, v in sorted(
                s["cost_usd_by_component"].items(), key=lambda kv: -kv[1]) if abs(v) > 0},
        },
        "installed_base": {
            "year": y0, "installed_h100e": base_h100e,
            "demand_h100e": float(ds["demand_h100e"].sel(year=y0)),
            "share_of_first_year_demand": base_h100e / float(ds["demand_h100e"].sel(year=y0)),
            "bought_first_year_h100e": float(bought[y0]),
        },
        "halls": {
            "built_mw_by_year": {int(y): float(v) for y, v in build.items()},
            "total_mw": float(build.sum()), "lead_first_year": lead_first,
            "under_construction_mw": uc_mw,
            "before_lead_mw": float(build[build.index < lead_first].sum()),
        },
        "supply_binds": [{"vendor": str(v), "year": int(y), "bought_h100e": float(b)}
                         for (v, y), b in binds.items()],
        "committed_campuses": {"forced_builds": len(forced),
                               "cost_above_plan_usd_per_mw_max": float(forced.max())
                               if len(forced) else 0.0},
        "unserved": {int(y): float(v) for y, v in ds["unserved_h100e"].to_series().items()
                     if v > 1.0},
        "fully_unserved_years": [int(y) for y, v in ds["served_h100e"].to_series().items()
                                 if v <= 1e-6 * max(float(ds["demand_h100e"].sel(year=y)), 1)],
        "energy": {int(row["year"]): {"ai_twh": float(row["energy_twh"]),
                            "all_datacenter_twh": float(row["all_datacenter_energy_twh"]),
                            "ai_share_pct": float(row["ai_share_of_datacenter_energy_pct"]),
                            "ai_load_gw": float(row["power_energized_mw"]) / 1e3}
                   for _, row in gap.iterrows() if int(row["year"]) in (y0, *CHECK_YEARS,
                                                                        years[-1])},
        "against_published": against_points(gap, float(sc.spec.utilization)),
        "onsite": {"built_mw": s["onsite_built_mw"],
                   "peak_load_mw": float(onsite_load.max()),
                   "peak_year": int(onsite_load.idxmax()),
                   "share_of_load_pct": {int(y): float(onsite_load[y] / load[y] * 100)
                                         for y in (*CHECK_YEARS, years[-1]) if load[y] > 0}},
        "regions": {
            "halls_share_pct": {str(k): float(v / region_build.sum() * 100) for k, v in
                                region_build.sort_values(ascending=False).items() if v > 0},
            "load_share_pct_final_year": {
                str(k): float(v / region_load[years[-1]].sum() * 100) for k, v in
                region_load[years[-1]].sort_values(ascending=False).items() if v > 0},
        },
        "compute_price_usd_per_h100e_year": {int(y): float(v) for y, v in
                                             ds["compute_price_usd_per_h100e_year"]
                                             .to_series().items()},
    }
    if check_duals:
        out["binding"] = binding(sc, r, ds)
    out["seconds"] = time.perf_counter() - t0
    return out


def markdown(st: dict[str, Any]) -> str:
    """The story's figures as Markdown lines (what the README quotes)."""
    b = 1e9
    pv = st["present_value"]
    comp = ", ".join(f"{k} {v / b:,.0f}" for k, v in pv["by_component_usd"].items()
                     if k != "unserved")
    ib = st["installed_base"]
    h = st["halls"]
    lines = [
        f"# {st['scenario']}: the figures of \"What the plan says and why\"", "",
        f"- present value: plan cost {pv['plan_cost_usd'] / b:,.0f} B USD ({comp}); value "
        f"of compute left unserved {pv['unserved_value_usd'] / b:,.0f} B USD; objective "
        f"{pv['objective_usd'] / b:,.0f} B USD",
        f"- installed base {ib['year']}: {ib['installed_h100e'] / 1e6:,.2f} M H100e = "
        f"{ib['share_of_first_year_demand']:.0%} of the {ib['demand_h100e'] / 1e6:,.1f} M "
        f"demanded; {ib['bought_first_year_h100e'] / 1e6:,.2f} M H100e bought in {ib['year']}",
        f"- halls: {h['total_mw'] / 1e3:,.1f} GW built in all; before the lead year "
        f"{h['lead_first_year']}: {h['before_lead_mw']:,.0f} MW (under construction: "
        f"{h['under_construction_mw']:,.0f} MW); by year: "
        + ", ".join(f"{y} {v:,.0f}" for y, v in h["built_mw_by_year"].items() if v > 0.5),
        "- vendor supply binds (bought = limit): "
        + (", ".join(f"{x['vendor']} {x['year']} ({x['bought_h100e'] / 1e6:,.1f} M H100e)"
                     for x in st["supply_binds"]) or "nowhere"),
        f"- committed campuses: {st['committed_campuses']['forced_builds']} forced builds, "
        f"up to {st['committed_campuses']['cost_above_plan_usd_per_mw_max'] / 1e6:,.2f} M "
        "USD/MW above what the plan would build",
        "- unserved: " + (", ".join(f"{y} {v / 1e6:,.2f} M H100e" for y, v in
                                    st["unserved"].items()) or "none")
        + f"; years fully unserved: {st['fully_unserved_years'] or 'none'}",
        "- energy (AI TWh / all datacenters TWh / AI share / AI load GW): "
        + "; ".join(f"{y} {e['ai_twh']:,.0f} / {e['all_datacenter_twh']:,.0f} / "
                    f"{e['ai_share_pct']:.0f} % / {e['ai_load_gw']:,.1f}"
                    for y, e in st["energy"].items()),
        "- against the published points (all US datacenters):",
    ]
    for p in st["against_published"]:
        lines.append(f"  - {p['year']} {p['point']}: plan {p['plan']:,.0f} {p['unit']} vs "
                     f"{p['published']} {p['unit']}: {p['where']}")
    o = st["onsite"]
    lines.append(f"- on-site generation: {o['built_mw'] / 1e3:,.1f} GW built; peak on-site load "
                 f"{o['peak_load_mw'] / 1e3:,.1f} GW ({o['peak_year']}); share of load "
                 + ", ".join(f"{y} {v:.0f} %" for y, v in o["share_of_load_pct"].items()))
    reg = st["regions"]
    lines.append("- new halls by region: " + ", ".join(
        f"{k} {v:.0f} %" for k, v in list(reg["halls_share_pct"].items())[:6]))
    lines.append("- load by region in the last year: " + ", ".join(
        f"{k} {v:.0f} %" for k, v in list(reg["load_share_pct_final_year"].items())[:6]))
    price = st["compute_price_usd_per_h100e_year"]
    lines.append("- marginal cost of compute (USD/H100e-yr): " + ", ".join(
        f"{y} {price[y]:,.0f}" for y in price if y in (min(price), *CHECK_YEARS, max(price))))
    if "binding" in st:
        lines.append("- what binds (dual; finite difference; quoted only when they agree "
                     f"within {FD_RTOL:.0%}):")
        for c in st["binding"]:
            tag = "confirmed" if c["confirmed"] else "NOT confirmed (degenerate): not quoted"
            lines.append(f"  - {c['what']}: dual {c['dual']:,.0f}, finite difference "
                         f"{c['finite_difference']:,.0f} — {tag}")
    lines.append(f"\nSolved and checked in {st['seconds']:.0f} s.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--no-duals", action="store_true",
                        help="skip the finite-difference checks (one solve only)")
    args = parser.parse_args()
    st = story(check_duals=not args.no_duals)
    print(json.dumps(st, indent=2, default=float) if args.json else markdown(st))


if __name__ == "__main__":
    main()
