"""The plan sections of ``report.html``: schedule (Gantt, decisions due now, chip mix,
sortable table), cost, assumptions and caveats, with human column headers.

Everything is built from ``summary.json``, ``build_schedule.csv`` and
``capacity_by_region.csv`` — what a run folder holds — so ``dcplan report``
rewrites the same page from the files.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from planner.outputs.headline import LEVELIZED_VS_MARGINAL, PENALTY_COMPONENTS, TIES_NOTE
from planner.outputs.schedule import KIND_LABELS, chip_mix, decisions_due
from planner.outputs.svg import inline_svg

#: Column → human header with its unit.
HEADERS = {
    "nonfirm_mw_max": "Non-firm (MW)", "first_year": "First non-firm (year)",
    "firm_first_year": "Firm possible from (year)", "years_earlier": "Years earlier",
    "curtailed_pct_of_energy": "Curtailed (% of energy)",
    "curtailed_hours_per_year": "Curtailed hours a year (h)",
    "year": "Year", "site": "Site", "region": "Region", "operator": "Operator",
    "kind": "What", "item": "Item", "mw": "MW", "lead_years": "Lead time (years)",
    "commit_year": "Commit by (year)", "name": "Name",
    "built_mw": "Facility built (MW)", "new_grid_mw": "New grid (MW)",
    "onsite_mw": "On-site generation (MW)", "energy_twh_total": "Energy, all years (TWh)",
    "area_km2": "Area (km²)", "demand_h100e": "Demand (H100e)",
    "unserved_h100e": "Unserved (H100e)", "frontier_h100e_per_mw": "Frontier (H100e per IT-MW)",
    "fleet_h100e_per_mw": "Fleet (H100e per IT-MW)",
    "power_needed_mw": "Power needed, fleet chips (MW)",
    "power_needed_at_frontier_mw": "Power needed, newest chips (MW)",
    "power_energized_mw": "Power energized (MW)",
    "efficiency_only_gap_mw": "New power needed even with newest chips (MW)",
    "gap_mw": "Demand not served (MW)", "gap_pct": "Not served (%)",
    "demand_growth": "Demand growth (×)", "efficiency_growth": "Frontier efficiency growth (×)",
    "net_power_growth": "Net power growth, frontier (×)",
    "net_power_growth_fleet": "Net power growth, fleet (×)",
    "realized_power_growth": "Load growth (×)", "energy_twh": "AI energy (TWh)",
    "non_ai_datacenter_energy_twh": "Non-AI datacenters (TWh)",
    "all_datacenter_energy_twh": "All datacenters (TWh)",
    "ai_share_of_datacenter_energy_pct": "AI share (%)",
    "compute_price_usd_per_h100e_year": "Marginal cost of compute (USD per H100e-year)",
    "levelized_cost_usd_per_h100e_year": "Levelized cost of compute (USD per H100e-year)",
    "component": "Cost component", "pv_usd": "Present value (billion USD)",
    "build_mw": "Facility built (MW)", "grid_mw": "New grid (MW)",
    "load_mw": "Load (MW)", "state": "State", "sites": "Sites",
    "energy_twh_total_state": "Energy, all years (TWh)",
}
#: Largest number of schedule rows drawn in the page (the CSV has them all).
MAX_TABLE_ROWS = 1000
#: Largest number of sites in the Gantt chart (the largest by MW).
MAX_GANTT_SITES = 30

SORT_JS = r"""
(function () {
  "use strict";
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("th").forEach(function (th, col) {
      th.setAttribute("role", "button");
      th.title = "sort by this column";
      th.addEventListener("click", function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var dir = th.dataset.dir === "asc" ? -1 : 1;
        table.querySelectorAll("th").forEach(function (h) { delete h.dataset.dir; });
        th.dataset.dir = dir === 1 ? "asc" : "desc";
        function key(r) {
          var c = r.cells[col], v = c.dataset.v;
          return v !== undefined ? Number(v) : c.textContent;
        }
        rows.sort(function (a, b) {
          var x = key(a), y = key(b);
          if (typeof x === "number" && typeof y === "number") { return dir * (x - y); }
          return dir * String(x).localeCompare(String(y));
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();
"""


def header(col: str) -> str:
    """The human header of a column (``load_mw_2040`` → ``Load 2040 (MW)``).

    Examples
    --------
    >>> header("commit_year"), header("load_mw_2040"), header("load_share_pct_2040")
    ('Commit by (year)', 'Load 2040 (MW)', 'Share of load 2040 (%)')
    """
    if col in HEADERS:
        return HEADERS[col]
    for stem, label, unit in (("load_share_pct_", "Share of load", "%"),
                              ("load_mw_", "Load", "MW")):
        if col.startswith(stem):
            return f"{label} {col[len(stem):]} ({unit})"
    return col.replace("_", " ")


def _fmt(v: Any, digits: int = 0) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(f):
        return "–"
    text = f"{f:,.{digits}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def html_table(df: pd.DataFrame, digits: dict[str, int] | None = None, *,
               sortable: bool = False, table_id: str = "") -> str:
    """A table with human headers; numbers right-aligned with ``data-v`` for sorting."""
    digits = digits or {}
    head = "".join(f"<th>{html.escape(header(str(c)))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row):
            if c in ("year", "commit_year", "queue_year"):
                text = "–" if v is None or v is pd.NA or (isinstance(v, float) and
                                                          not math.isfinite(v)) else str(int(v))
                cells.append(f'<td data-v="{html.escape(text if text != "–" else "")}">'
                             f"{text}</td>")
            elif c in digits:
                num = float(v) if v is not None and v is not pd.NA else float("nan")
                data = f' data-v="{num:.6g}"' if math.isfinite(num) else ""
                cells.append(f"<td{data}>{_fmt(num, digits[c])}</td>")
            else:
                text = "" if v is None or v is pd.NA else str(v)
                cells.append(f'<td class="t">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    cls = ' class="sortable"' if sortable else ""
    ident = f' id="{table_id}"' if table_id else ""
    return (f"<table{cls}{ident}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


KIND_COLOURS = {"facility": "#3b75af", "grid": "#ef8636", "queued_grid": "#c7a17a",
                "onsite": "#519e3e", "nonfirm": "#8e6bb5"}


def gantt_svg(schedule: pd.DataFrame, years: list[int]) -> str:
    """Sites × years: a bar per commitment from its commit year to its completion year
    (light: the lead time; solid: the year the MW arrive), facility, grid and on-site."""
    import matplotlib


    plt = _plt()
    rows = schedule[schedule["kind"].isin(["facility", "grid", "queued_grid", "onsite",
                                           "nonfirm"])]
    decided = rows[rows["kind"] != "queued_grid"]  # queued connections predate the plan
    if decided.empty:
        return "<p>The plan adds no facility, grid or on-site power in any year.</p>"
    size = decided.groupby("site")["mw"].sum().sort_values(ascending=False)
    sites = list(size.index[:MAX_GANTT_SITES])
    rows = rows[rows["site"].isin(sites)]
    lanes = {"facility": -0.27, "grid": 0.0, "queued_grid": 0.0, "onsite": 0.27,
             "nonfirm": 0.0}
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dcplan-gantt"}):
        fig, ax = plt.subplots(figsize=(11, 0.9 + 0.32 * len(sites)), dpi=110,
                               layout="constrained")
        row_of = {s: i for i, s in enumerate(sites)}
        for kind, part in rows.groupby("kind", sort=False):
            yi = part["site"].map(row_of).to_numpy(float) + lanes[kind]
            year = part["year"].to_numpy(float)
            lead = part[(part["lead_years"] > 0) & part["commit_year"].notna()]
            if len(lead):  # pale: from the commitment to the year the MW arrive
                commit = lead["commit_year"].astype(float).to_numpy()
                ax.barh(lead["site"].map(row_of).to_numpy(float) + lanes[kind],
                        lead["year"].to_numpy(float) - commit, left=commit, height=0.24,
                        color=KIND_COLOURS[kind], alpha=0.25, lw=0)
            ax.barh(yi, np.ones(len(part)), left=year, height=0.24, color=KIND_COLOURS[kind],
                    lw=0)
            for y_, x_, mw in zip(yi, year, part["mw"].to_numpy(float)):
                if mw >= 0.01 * size.iloc[0]:
                    ax.text(x_ + 1.05, y_, f"{mw:,.0f}", va="center", fontsize=6.5,
                            color="0.25")
        ax.set_yticks(range(len(sites)), [f"{s} ({size[s] / 1e3:,.1f} GW)" for s in sites],
                      fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(years[0] - 0.2, min(years[-1] + 1, int(rows["year"].max()) + 3) + 0.2)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(True, axis="x", alpha=0.3)
        ax.set_xlabel("year (bar = the year the MW arrive; pale = lead time from the commitment)")
        handles = [matplotlib.patches.Patch(color=KIND_COLOURS[k], label=KIND_LABELS[k])
                   for k in ("facility", "grid", "queued_grid", "onsite", "nonfirm")
                   if k in set(rows["kind"])]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.6 /
                  max(len(sites), 1) - 0.04), ncol=5, fontsize=8, frameon=False)
        ax.set_title(f"Build schedule by site (MW; {len(sites)} sites the plan builds at, largest "
                     "first; queued connections shown for them)", fontsize=10)
        svg = inline_svg(fig)
        plt.close(fig)
    return svg


def chip_mix_svg(schedule: pd.DataFrame) -> str:
    """Stacked bars: IT MW of each chip bought per year (GW)."""
    import matplotlib


    mix = chip_mix(schedule)
    if mix.empty:
        return "<p>No chips are bought.</p>"
    plt = _plt()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dcplan-chips"}):
        fig, ax = plt.subplots(figsize=(11, 3.8), dpi=110, layout="constrained")
        bottom = np.zeros(len(mix))
        colours = plt.get_cmap("tab20").colors
        for i, chip in enumerate(mix.columns):
            v = mix[chip].to_numpy(float) / 1e3
            ax.bar(mix.index, v, bottom=bottom, label=chip, color=colours[i % 20], width=0.8)
            bottom += v
        ax.set_ylabel("IT GW bought")
        ax.set_title("Chip mix bought per year (IT GW installed, by chip)", fontsize=10)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7.5, frameon=False,
                  ncol=1 if len(mix.columns) <= 14 else 2)
        svg = inline_svg(fig)
        plt.close(fig)
    return svg


def _labelled(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["kind"] = out["kind"].map(KIND_LABELS).fillna(out["kind"])
    return out


def schedule_section(schedule: pd.DataFrame, regions: pd.DataFrame | None,
                     years: list[int]) -> str:
    """Region totals by year (stable across ties) first, then decisions due now, the
    Gantt chart, the chip mix and the sortable table."""
    parts = []
    if regions is not None and len(regions):
        by = regions.groupby("year")[["build_mw", "grid_mw", "onsite_mw", "load_mw"]].sum()
        active = regions[(regions[["build_mw", "grid_mw", "onsite_mw"]].abs().sum(axis=1) > 0.5)]
        per = pd.Series(dtype=object) if active.empty else (active.assign(what=active.apply(
            lambda r: ", ".join(f"{lab} {r[c]:,.0f}" for c, lab in
                                (("build_mw", "facility"), ("grid_mw", "grid"),
                                 ("onsite_mw", "on-site")) if r[c] > 0.5), axis=1))
            .groupby("year").apply(lambda g: "; ".join(
                f"{r}: {w}" for r, w in zip(g["region"], g["what"])), include_groups=False))
        table = by.reset_index()
        table["where"] = table["year"].map(per).fillna("")
        table = table.rename(columns={"where": "Where (MW by region)"})
        parts.append("<h3>By region and year</h3><p class=\"note\">Region totals first: "
                     "ties between sites of a region leave them unchanged, while the MW of "
                     "single sites can move between tied sites (see the caveats).</p>"
                     + html_table(table, {"build_mw": 0, "grid_mw": 0, "onsite_mw": 0,
                                          "load_mw": 0}, table_id="region-years"))
    due = decisions_due(schedule, years[0])
    if len(due):
        parts.append(
            f'<h3 id="decisions">Decisions due now ({years[0]})</h3>'
            f"<p>Commitments whose lead time means they must be made in {years[0]}: "
            f"{due['mw'].sum():,.0f} MW in {len(due)} commitments.</p>"
            + html_table(_labelled(due)[["commit_year", "year", "site", "region", "operator",
                                         "kind", "item", "mw", "lead_years"]],
                         {"mw": 0, "lead_years": 0}, sortable=True, table_id="decisions-table"))
    else:
        parts.append(f'<h3 id="decisions">Decisions due now ({years[0]})</h3>'
                     f"<p>No commitment with a lead time has to be made in {years[0]}.</p>")
    parts.append(f'<figure class="chart" id="gantt-chart">{gantt_svg(schedule, years)}'
                 "</figure>")
    parts.append(f'<figure class="chart" id="chip-mix-chart">{chip_mix_svg(schedule)}</figure>')
    shown = schedule.iloc[:MAX_TABLE_ROWS]
    note = "" if len(shown) == len(schedule) else \
        f" (the first {len(shown):,} of {len(schedule):,} rows; all in build_schedule.csv)"
    parts.append(
        f'<details id="schedule-details"><summary>Full schedule, every commitment{note} — '
        "open, then click a header to sort"
        "</summary>" + html_table(_labelled(shown), {"mw": 0, "lead_years": 0},
                                   sortable=True, table_id="schedule-table") + "</details>")
    return "\n".join(parts)


def flexibility_section(summary: dict[str, Any]) -> str:
    """"Where flexibility buys years": non-firm MW per region, how many years before a firm
    connection they arrive, and the cost saved against the plan without them ("" when the
    scenario has no ``nonfirm:``)."""
    nf = summary.get("nonfirm")
    if not nf:
        return ""
    head = '<h3 id="flexibility">Where flexibility buys years</h3>'
    saved = nf.get("cost_saved_usd")
    cost = (f" Against the same scenario without non-firm connections the plan costs "
            f"{saved / 1e6:,.1f} million USD less (present value; "
            f"{nf['objective_without_nonfirm_usd'] / 1e6:,.1f} → "
            f"{(nf['objective_without_nonfirm_usd'] - saved) / 1e6:,.1f} million USD)."
            if saved is not None else "")
    regions = nf.get("regions", {})
    if not regions:
        return (f"{head}<p>The plan takes no non-firm (curtailable) connection: firm grid, "
                f"on-site power or waiting costs less here.{cost}</p>")
    rows = pd.DataFrame([{"region": r, **v} for r, v in regions.items()])
    rows = rows[["region", "nonfirm_mw_max", "first_year", "firm_first_year", "years_earlier",
                 "curtailment_rate", "curtailed_hours_per_year"]]
    rows["curtailment_rate"] = 100.0 * rows["curtailment_rate"]
    rows = rows.rename(columns={"curtailment_rate": "curtailed_pct_of_energy"})
    total = rows["nonfirm_mw_max"].sum()
    return (f"{head}<p>Non-firm (curtailable) connections bring {total:,.0f} MW up to "
            f"{int(rows['years_earlier'].max())} years before a firm connection could; in "
            f"the curtailed hours the sites cover their load with batteries (up to "
            f"{nf['battery_mwh_max']:,.0f} MWh), on-site power or paused compute "
            f"({nf['compute_shed_h100e_total']:,.0f} H100e-years over the plan).{cost}</p>"
            + html_table(rows, {"nonfirm_mw_max": 0, "years_earlier": 0,
                                "curtailed_pct_of_energy": 2, "curtailed_hours_per_year": 0},
                         table_id="flexibility-table"))


def cost_section(summary: dict[str, Any]) -> str:
    """The cost breakdown: what the plan spends, apart from the value of unserved compute;
    the levelized beside the marginal cost of compute."""
    comp = summary.get("cost_usd_by_component") or {}
    rows = [{"component": k, "pv_usd": v / 1e9} for k, v in comp.items()
            if k not in PENALTY_COMPONENTS and abs(v) > 0]
    plan = summary.get("plan_cost_usd")
    unserved = summary.get("unserved_value_usd") or 0.0
    rows.append({"component": "plan cost (what would be spent)",
                 "pv_usd": (plan or 0.0) / 1e9})
    table = html_table(pd.DataFrame(rows), {"pv_usd": 2}, table_id="cost-table")
    text = (f"<p>The plan costs <b>{_fmt((plan or 0) / 1e9, 1)} billion USD</b> in present "
            "value (capital, energy, capacity and fuel). ")
    if unserved > 0:
        text += (f"Compute demand left unserved is valued at {_fmt(unserved / 1e9, 1)} billion "
                 "USD: a penalty in the optimization, not money anyone spends, so it is not "
                 "part of the cost. ")
    objective = _fmt((summary.get("objective_usd") or 0) / 1e9, 1)
    text += f"The optimization's objective is their sum, {objective} billion USD.</p>"
    lev = summary.get("levelized_cost_usd_per_h100e_year") or {}
    mar = summary.get("compute_price_usd_per_h100e_year") or {}
    years = sorted({int(y) for y in list(lev) + list(mar)})
    price = pd.DataFrame({"year": years,
                          "levelized_cost_usd_per_h100e_year": [lev.get(str(y), lev.get(y))
                                                                for y in years],
                          "compute_price_usd_per_h100e_year": [mar.get(str(y), mar.get(y))
                                                               for y in years]})
    price_table = html_table(price, {"levelized_cost_usd_per_h100e_year": 0,
                                     "compute_price_usd_per_h100e_year": 0},
                             table_id="compute-cost-table")
    return (text + table + "<h3>Cost of compute</h3>"
            f"<p>{html.escape(LEVELIZED_VS_MARGINAL)}</p>" + price_table)


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_value(x)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:,.6g}"
    return "–" if v is None else str(v)


def assumptions_section(summary: dict[str, Any]) -> str:
    """The assumptions block of ``summary.json`` as a two-column table."""
    a = summary.get("assumptions")
    if not a:
        return "<p>This run's summary.json has no assumptions block (written by an older " \
               "dcplan); rerun it to see them.</p>"
    d = a.get("demand", {})
    rows = [
        ("Demand path", f"{d.get('source')}: {_value(d.get('first_year_h100e'))} H100e in "
         f"{a['years'][0]} → {_value(d.get('last_year_h100e'))} in {a['years'][1]}"
         + (f"; growth per year {_value(d.get('growth'))}" if d.get("growth") else "")),
        ("Value of unserved compute", f"{_value(d.get('value_of_unserved_usd_per_h100e_year'))}"
         " USD per H100e-year" + (f"; elasticity {d['elasticity']}" if d.get("elasticity")
                                 else "; inelastic")),
        ("Frontier efficiency growth", "none (announced chips only)"
         if a["efficiency"].get("frontier_growth_per_year") is None else
         f"×{a['efficiency']['frontier_growth_per_year']} per year"
         f" ({a['efficiency']['synthetic_frontier_chips']} synthetic frontier chips)"),
        ("Discount rate (real)", _value(a.get("discount_rate"))),
        ("Utilization", _value(a.get("utilization"))),
        ("Facility life", f"{a.get('facility_life_years')} years"),
        ("Idle chips", "allowed" if a.get("allow_idle_chips") else "not allowed"),
        ("On-site generation", _value(a.get("onsite"))),
        ("Grid interconnection lead times (years)",
         _value(a.get("interconnect_lead_years_by_region"))),
        ("Levers set", _value(a.get("levers")) if a.get("levers") else "none"),
        ("Input files", _value(a.get("inputs"))),
        ("Input SHA-256", _value({k: v[:16] + "…" for k, v in
                                  (a.get("inputs_sha256") or {}).items()})),
    ]
    body = "".join(f'<tr><th class="t">{html.escape(k)}</th><td class="t">{html.escape(v)}'
                   "</td></tr>" for k, v in rows)
    return f'<table id="assumptions-table"><tbody>{body}</tbody></table>'


def caveats_section() -> str:
    """Ties, degenerate duals, what the model leaves out."""
    items = [
        f"Ties: {TIES_NOTE}",
        "Grid-access values (the dual of the grid-connection constraint) are shown only where "
        "the site could use one more MW of grid; a dual from a degenerate vertex is left blank "
        "and never sets a regional figure.",
        "Halls and chips complete in the year they are decided (no construction lead time in "
        "the model); grid connections and on-site generation wait their lead times.",
    ]
    return "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in items) + "</ul>"
