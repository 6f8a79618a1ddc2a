"""The files of a hedged plan: summary.json, the commitment and regret tables, each
future's recourse plan, the fan chart and report.html."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from planner.hedge.engine import HedgeResult
from planner.outputs.files import atomic_folder, input_hashes, json_ready
from planner.outputs.report import page
from planner.outputs.results import package_versions
from planner.outputs.svg import inline_svg

KIND_LABEL = {"facility": "facility (halls)", "grid": "firm grid connection",
              "onsite": "on-site generation", "chips": "accelerators (IT MW)"}


def summary(r: HedgeResult) -> dict[str, Any]:
    """``summary.json``: the measures (USD), the tree and the decisions due now."""
    st, risk = r.tree, r.tree.spec.risk
    due = r.decisions_due_now()
    return {
        "scenario": st.base.name,
        "method": r.method,
        "years": [st.base.years[0], st.base.years[-1]],
        "reveal_years": list(st.tree.reveal_years),
        "expected_cost_usd": r.expected_cost_usd,
        "objective_usd": r.objective_usd,
        "cvar_usd": r.cvar_usd(),
        "cvar_alpha": risk.cvar_alpha,
        "risk_weight": risk.weight,
        "ws_usd": r.ws_usd,
        "eev_usd": r.eev_usd,
        "evpi_usd": r.evpi_usd,
        "vss_usd": r.vss_usd,
        "futures": {
            k: {"probability": st.tree.probability[k], "path": list(st.tree.path[k]),
                "overrides": dict(st.spec.scenarios[k].overrides),
                "cost_usd": r.scenario_cost_usd[k],
                "own_optimum_usd": r.wait_and_see[k].cost_usd,
                "mean_future_plan_cost_usd": r.eev_cost_usd[k]}
            for k in st.names},
        "decisions_due_now_mw": {kind: float(due.loc[due["kind"] == kind, "mw"].sum())
                                 for kind in KIND_LABEL},
        "first_stage_mw": {kind: float(r.commitments.loc[
            (r.commitments["kind"] == kind) & (r.commitments["stage"] == 0), "mw"].sum())
            for kind in KIND_LABEL},
        "seconds": r.seconds,
        "info": r.info,
        "inputs": input_hashes(st.base),
        "versions": package_versions(),
        "units": {"*_usd": "USD, present value at the start of the first year",
                  "*_mw": "MW (accelerators: IT MW)"},
    }


def fan_chart(r: HedgeResult, path: Path | None = None) -> Any:
    """Load and cumulative cost per future under the hedged plan (line width ∝ probability)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    p = r.probability
    loads, costs = {}, {}
    for k in r.tree.names:
        res = r.recourse[k].result
        ds = res.to_xarray()
        years = [int(y) for y in ds.year.values]
        loads[k] = ds["load_mw"].sum("site").to_numpy() / 1e3
        costs[k] = np.cumsum(res.cost_breakdown().sum(axis=0).to_numpy()) / 1e9
        for ax, v in ((a, loads[k]), (b, costs[k])):
            ax.plot(years, v, lw=1 + 5 * p[k], label=f"{k} (p = {p[k]:g})")
    mean_load = sum(p[k] * loads[k] for k in loads)
    a.plot(years, mean_load, "k--", lw=1.5, label="probability-weighted mean")
    for ax in (a, b):
        for ry in r.tree.tree.reveal_years:
            ax.axvline(ry, color="0.5", lw=0.8, ls=":")
        ax.set_xlabel("year")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    a.set_ylim(bottom=0)
    a.set_ylabel("facility load, GW")
    a.set_title("load under the hedged plan (dotted: reveal year)")
    b.set_yscale("log")
    b.set_ylabel("cumulative present cost, billion USD (log)")
    b.set_title("cost path per future (incl. the value of unserved compute)")
    a.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


def _money(v: float) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{round(v / 1e9, 1) + 0.0:,.1f}"


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = "".join("<tr>" + "".join(
        f'<td class="t">{html.escape(str(v))}</td>' if isinstance(v, str)
        else f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def commitment_summary(df: pd.DataFrame) -> pd.DataFrame:
    """Commitments by kind and region: MW, sites and the years they come into service."""
    g = df.groupby(["kind", "region", "futures"], sort=False)
    out = g.agg(mw=("mw", "sum"), sites=("site", "nunique"), first=("energize_year", "min"),
                last=("energize_year", "max")).reset_index()
    order = {k: i for i, k in enumerate(KIND_LABEL)}
    out = out.sort_values(["kind", "mw"], key=lambda c: c.map(order) if c.name == "kind"
                          else -c)
    return pd.DataFrame({
        "what": out["kind"].map(KIND_LABEL), "region": out["region"],
        "for futures": out["futures"], "sites": out["sites"].astype(int),
        "MW": out["mw"].map(lambda v: f"{v:,.0f}"),
        "in service": [f"{a}" if a == b else f"{a}–{b}" for a, b in zip(out["first"],
                                                                        out["last"])]})


def commitment_view(df: pd.DataFrame) -> pd.DataFrame:
    """The commitment table with human headers and units."""
    out = pd.DataFrame({
        "what": df["kind"].map(KIND_LABEL), "site": df["site"], "region": df["region"],
        "chip or technology": (df["chip"] + df.get("technology", "")).replace("", "–"),
        "commit in": df["commit_year"].astype(int),
        "in service": df["energize_year"].astype(int), "for futures": df["futures"],
        "MW": df["mw"].map(lambda v: f"{v:,.0f}")})
    return out


def regret_view(df: pd.DataFrame) -> pd.DataFrame:
    """Regret table: rows = plan, columns = future, cells = regret in billion USD."""
    t = df.pivot(index="plan", columns="future", values="regret_usd")
    t = t.loc[list(dict.fromkeys(df["plan"]))]
    t = t.map(_money)
    t.insert(0, "plan (first stage fixed)", t.index)
    return t.reset_index(drop=True)


def render_report(r: HedgeResult, s: dict[str, Any], fan: Any = None) -> str:
    """report.html of a hedged plan; ``fan`` is :func:`fan_chart`'s figure when already drawn."""
    st = r.tree
    due = r.decisions_due_now()
    y0 = st.base.years[0]
    reveal = ", ".join(str(y) for y in st.tree.reveal_years)
    futures = ", ".join(f"{k} ({st.tree.probability[k]:g})" for k in st.names)
    by_kind = due.groupby("kind")["mw"].sum()
    due_text = "; ".join(f"{KIND_LABEL[k]} {by_kind[k]:,.0f} MW" for k in KIND_LABEL
                         if k in by_kind.index) or "nothing"
    answer = (
        f"<p>Planned once for {len(st.names)} futures ({futures}), revealed in {reveal}. "
        f"Decisions due in {y0}: {html.escape(due_text)}.</p>"
        f"<p>The hedged plan's expected cost is {_money(r.expected_cost_usd)} billion USD. "
        f"Knowing the future in advance would save {_money(r.evpi_usd)} billion USD (EVPI); "
        f"planning for the mean future instead would cost {_money(r.vss_usd)} billion USD "
        f"more (VSS).</p>")
    measures = pd.DataFrame([
        ("expected cost of the hedged plan (SP)", _money(r.expected_cost_usd)),
        ("wait and see (WS): each future's own optimum, expected", _money(r.ws_usd)),
        ("expected cost of the mean-future plan (EEV)", _money(r.eev_usd)),
        ("EVPI = SP − WS", _money(r.evpi_usd)),
        ("VSS = EEV − SP", _money(r.vss_usd)),
        (f"CVaR at α = {st.spec.risk.cvar_alpha:g} of the hedged plan", _money(r.cvar_usd())),
    ], columns=["measure", "billion USD"])
    costs = pd.DataFrame({
        "future": st.names,
        "probability": [f"{st.tree.probability[k]:g}" for k in st.names],
        "hedged plan, bn USD": [_money(r.scenario_cost_usd[k]) for k in st.names],
        "own optimum, bn USD": [_money(r.wait_and_see[k].cost_usd) for k in st.names],
        "mean-future plan, bn USD": [_money(r.eev_cost_usd[k]) for k in st.names]})
    body = [f"<h1>Hedged plan: {html.escape(st.base.name)}</h1>",
            "<p><em>What should be committed now, when nobody knows which future "
            "comes?</em></p>", answer,
            "<h2>What hedging is worth</h2>", _html_table(measures),
            "<h2>Decisions due now</h2>",
            (_html_table(commitment_summary(due)) + "<details><summary>every site ("
             f"{len(due)} commitments)</summary>" + _html_table(commitment_view(due))
             + "</details>") if len(due) else "<p>None.</p>",
            "<h2>Load and cost per future</h2>",
            inline_svg(fan if fan is not None else fan_chart(r)),
            "<h2>Cost per future</h2>", _html_table(costs)]
    if len(r.regret):
        body += ["<h2>Regret: each plan's first stage fixed, re-solved in every future</h2>",
                 "<p>Cost above the future's own optimum, billion USD.</p>",
                 _html_table(regret_view(r.regret))]
    body += ["<h2>Every commitment made before the future is known</h2>",
             _html_table(commitment_summary(r.commitments)),
             f"<details><summary>every site ({len(r.commitments)} commitments; "
             "commitments.csv)</summary>", _html_table(commitment_view(r.commitments)),
             "</details>",
             "<h2>How to read this</h2><p>A commitment is made its lead time before it is in "
             "service; what is committed before a reveal year is the same in every future not "
             "yet told apart (docs/hedge.md). Costs are present values at the start of "
             f"{y0}.</p>"]
    return page(f"dcplan hedge {st.base.name}", "\n".join(body), with_map=False)


def stranded_by_region(r: HedgeResult) -> pd.DataFrame:
    """Per future, region and year under the hedged plan: facility MW in service, load and
    the **stranded share** (MW in service that carry no load ÷ MW in service, 0–1) — the
    input of :func:`planner.stress.hedged.revenue_at_risk_from_stranded`
    (``dcplan stress --hedged DIR``)."""
    rows = []
    for k in r.tree.names:
        ds = r.recourse[k].result.to_xarray()
        region = ds["site_region"].to_series()
        cap = ds["facility_mw"].to_pandas().groupby(region).sum()
        load = ds["load_mw"].to_pandas().groupby(region).sum()
        for reg in cap.index:
            for y in cap.columns:
                c, ld = float(cap.at[reg, y]), float(load.at[reg, y])
                rows.append({"scenario": k, "probability": r.probability[k], "region": reg,
                             "year": int(y), "facility_mw": c, "load_mw": ld,
                             "stranded_share": max(c - ld, 0.0) / c if c > 1e-9 else 0.0})
    return pd.DataFrame(rows)


def write_hedge(r: HedgeResult, target: Path) -> None:
    """Write the hedged plan into ``target`` (replaced atomically; never a user's folder)."""
    s = summary(r)
    with atomic_folder(target, kind="hedge") as tmp:
        (tmp / "summary.json").write_text(json.dumps(json_ready(s), indent=2) + "\n",
                                          encoding="utf-8")
        r.commitments.to_csv(tmp / "commitments.csv", index=False)
        r.decisions_due_now().to_csv(tmp / "decisions_due_now.csv", index=False)
        stranded_by_region(r).to_csv(tmp / "stranded_by_region.csv", index=False,
                                     float_format="%.6g")
        if len(r.regret):
            r.regret.to_csv(tmp / "regret.csv", index=False)
        pd.DataFrame({
            "future": r.tree.names,
            "probability": [r.probability[k] for k in r.tree.names],
            "hedged_cost_usd": [r.scenario_cost_usd[k] for k in r.tree.names],
            "own_optimum_usd": [r.wait_and_see[k].cost_usd for k in r.tree.names],
            "mean_future_plan_cost_usd": [r.eev_cost_usd[k] for k in r.tree.names],
        }).to_csv(tmp / "futures.csv", index=False)
        for k in r.tree.names:
            folder = tmp / "futures" / k
            folder.mkdir(parents=True)
            r.recourse[k].result.to_xarray().to_netcdf(folder / "results.nc")
        import matplotlib.pyplot as plt

        fan = fan_chart(r, tmp / "fan.png")  # drawn once: the PNG and the report's SVG
        (tmp / "report.html").write_text(render_report(r, s, fan), encoding="utf-8")
        plt.close(fan)
