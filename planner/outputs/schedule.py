"""The build schedule: what to build, where, when, and when it must be committed.

Read from a run's results Dataset (``results.nc``) and the lead times of its
scenario; nothing here touches the LP. One tidy row per (year, site, kind,
item) with MW completed or energized in the year:

========================  =============================================================
``kind``                  ``item`` and meaning
========================  =============================================================
``facility``              ``hall``: facility MW completed (``build_mw``)
``grid``                  ``new firm connection``: new grid MW energized (``grid_mw``)
``queued_grid``           ``queued connection``: a connection already in the queue
                          (``queued_mw``) energized in its ``queue_year``; committed
                          before the plan starts
``onsite``                the on-site technology (``onsite.technology``): on-site
                          generation MW completed (``onsite_mw``); with
                          ``onsite_technologies`` one row per technology
                          (``onsite_tech_mw``, its own lead time)
``it``                    the chip: IT MW of the chip installed (``it_mw``)
``nonfirm``               ``non-firm connection``: non-firm (curtailable) grid MW
                          energized (``nonfirm_mw``; only with ``nonfirm:``)
``battery``               ``battery (N MWh)``: battery MW completed to cover curtailed
                          hours (``battery_new_mw``, its MWh in the item)
========================  =============================================================

``lead_years`` is the delay the model imposes between the decision and the MW
(``interconnect_lead_years`` of the region for a grid connection,
``onsite.lead_years`` for on-site generation, ``nonfirm.lead_years`` and
``nonfirm.battery_lead_years`` for non-firm connections and batteries, 0 for
halls and chips, which the model lets complete in the year they are decided);
``commit_year`` = year − lead_years: the last year the decision can be taken. A
commitment due in the first model year is a *decision due now*.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

#: Columns of ``build_schedule.csv``, in order.
SCHEDULE_COLUMNS = ("year", "site", "region", "operator", "kind", "item", "mw", "lead_years",
                    "commit_year")
#: Row kinds, in display order.
KINDS = ("facility", "grid", "queued_grid", "onsite", "nonfirm", "battery", "it")
#: Human labels of the kinds.
KIND_LABELS = {"facility": "facility completed", "grid": "new grid energized",
               "queued_grid": "queued grid energized", "onsite": "on-site generation",
               "it": "IT installed", "nonfirm": "non-firm grid energized",
               "battery": "battery completed"}
#: MW below this are solver noise and left out.
MIN_MW = 1e-3


def build_schedule(ds: xr.Dataset, *, grid_lead_years: dict[str, int], onsite_lead_years: int,
                   queued_mw: pd.Series, queue_year: pd.Series,
                   operator: pd.Series | None = None,
                   onsite_technology: str = "on-site generation",
                   nonfirm_lead_years: int = 0, battery_lead_years: int = 0) -> pd.DataFrame:
    """The tidy schedule (see the module docstring), sorted by year, kind, MW (largest first).

    Parameters
    ----------
    ds : a results Dataset (``Result.to_xarray()`` or ``results.nc``).
    grid_lead_years : region → ``interconnect_lead_years``.
    onsite_lead_years : ``onsite.lead_years`` of the scenario.
    queued_mw, queue_year : per site (index: site), from the sites table.
    operator : per site (index: site), blank where none.
    onsite_technology : the name of the on-site option.
    nonfirm_lead_years, battery_lead_years : ``nonfirm.lead_years`` and
        ``nonfirm.battery_lead_years`` (used when ``ds`` has non-firm results).
    """
    years = ds.year.values.astype(int)
    sites = ds.site.values.astype(str)
    region = ds["site_region"].values.astype(str)
    ops = (operator.reindex(sites).fillna("").astype(str).to_numpy() if operator is not None
           else np.full(len(sites), "", dtype=object))
    frames = []

    def add(kind: str, item: np.ndarray | str, values: np.ndarray, lead: np.ndarray,
            s_idx: np.ndarray, y_idx: np.ndarray) -> None:
        mw = values[s_idx, y_idx] if values.ndim == 2 else values
        keep = mw > MIN_MW
        s_i, y_i = s_idx[keep], y_idx[keep]
        lead_k = lead[keep] if np.ndim(lead) else np.full(keep.sum(), lead)
        frames.append(pd.DataFrame({
            "year": years[y_i], "site": sites[s_i], "region": region[s_i],
            "operator": ops[s_i], "kind": kind,
            "item": item[keep] if isinstance(item, np.ndarray) else item,
            "mw": mw[keep], "lead_years": lead_k.astype(int),
            "commit_year": (years[y_i] - lead_k).astype(int)}))

    s_all, y_all = np.meshgrid(np.arange(len(sites)), np.arange(len(years)), indexing="ij")
    s_all, y_all = s_all.ravel(), y_all.ravel()
    add("facility", "hall", ds["build_mw"].transpose("site", "year").values, np.int64(0),
        s_all, y_all)
    lead_grid = np.array([int(grid_lead_years.get(r, 0)) for r in region])
    add("grid", "new firm connection", ds["grid_mw"].transpose("site", "year").values,
        lead_grid[s_all], s_all, y_all)
    q_mw = queued_mw.reindex(sites).fillna(0.0).to_numpy(float)
    q_year = queue_year.reindex(sites).to_numpy(float)
    queued = np.zeros((len(sites), len(years)))
    for i, (mw, yq) in enumerate(zip(q_mw, q_year)):
        if mw > 0 and np.isfinite(yq) and int(yq) in set(years.tolist()):
            queued[i, list(years).index(int(yq))] = mw
    add("queued_grid", "queued connection", queued, np.zeros(len(s_all), dtype=int),
        s_all, y_all)
    frames[-1]["commit_year"] = pd.NA  # committed before the plan starts
    if "onsite_tech_mw" in ds:  # the layer onsite_technologies: per technology, own lead
        tech = ds["onsite_tech_mw"].transpose("site", "technology", "year").values
        for k, (t, lead) in enumerate(zip(ds.technology.values.astype(str),
                                          ds["technology_lead_years"].values.astype(int))):
            add("onsite", t, tech[:, k, :], np.int64(lead), s_all, y_all)
    else:
        add("onsite", onsite_technology, ds["onsite_mw"].transpose("site", "year").values,
            np.int64(onsite_lead_years), s_all, y_all)
    if "nonfirm_mw" in ds:
        add("nonfirm", "non-firm connection", ds["nonfirm_mw"].transpose("site", "year").values,
            np.int64(nonfirm_lead_years), s_all, y_all)
        mwh = ds["battery_new_mwh"].transpose("site", "year").values[s_all, y_all]
        add("battery", np.array([f"battery ({v:,.0f} MWh)" for v in mwh], dtype=object),
            ds["battery_new_mw"].transpose("site", "year").values, np.int64(battery_lead_years),
            s_all, y_all)
    it = ds["it_mw"].transpose("site", "chip", "year").values
    s_i, g_i, y_i = np.nonzero(it > MIN_MW)
    chips = ds.chip.values.astype(str)
    frames.append(pd.DataFrame({
        "year": years[y_i], "site": sites[s_i], "region": region[s_i], "operator": ops[s_i],
        "kind": "it", "item": chips[g_i], "mw": it[s_i, g_i, y_i], "lead_years": 0,
        "commit_year": years[y_i]}))
    df = pd.concat([f for f in frames if len(f)], ignore_index=True) if frames else \
        pd.DataFrame(columns=list(SCHEDULE_COLUMNS))
    df["commit_year"] = df["commit_year"].astype("Int64")
    df["kind"] = pd.Categorical(df["kind"], categories=list(KINDS), ordered=True)
    df = df.sort_values(["year", "kind", "mw"], ascending=[True, True, False], kind="stable")
    df["kind"] = df["kind"].astype(str)
    return df[list(SCHEDULE_COLUMNS)].reset_index(drop=True)


def schedule_from_scenario(ds: xr.Dataset, scenario: object) -> pd.DataFrame:
    """:func:`build_schedule` with the lead times and queue of a loaded :class:`Scenario`."""
    regions = scenario.regions  # type: ignore[attr-defined]
    sites = scenario.sites  # type: ignore[attr-defined]
    spec = scenario.spec  # type: ignore[attr-defined]
    sites = sites.reindex([str(s) for s in ds.site.values])
    operator = sites["operator"] if "operator" in sites.columns else None
    return build_schedule(
        ds, grid_lead_years=regions["interconnect_lead_years"].astype(int).to_dict(),
        onsite_lead_years=int(spec.onsite.lead_years), queued_mw=sites["queued_mw"],
        queue_year=sites["queue_year"], operator=operator,
        onsite_technology=onsite_name(spec),
        nonfirm_lead_years=int(spec.nonfirm.lead_years) if spec.nonfirm is not None else 0,
        battery_lead_years=int(spec.nonfirm.battery_lead_years) if spec.nonfirm is not None
        else 0)


def onsite_name(spec: object) -> str:
    """The on-site technology's name (``onsite.technology`` if the scenario has it)."""
    onsite = getattr(spec, "onsite", None)
    return str(getattr(onsite, "technology", None) or "on-site generation")


def decisions_due(schedule: pd.DataFrame, first_year: int) -> pd.DataFrame:
    """Commitments whose lead time means they must be made in the first model year.

    Rows with a lead time of at least a year and ``commit_year`` = ``first_year``
    (grid connections and on-site generation), by year, largest first. Halls and
    chips have no lead time in the model and are decided in their own year.
    """
    due = schedule[(schedule["commit_year"] == first_year) & (schedule["lead_years"] > 0)
                   & (schedule["kind"] != "queued_grid")]
    return due.sort_values(["year", "mw"], ascending=[True, False]).reset_index(drop=True)


def chip_mix(schedule: pd.DataFrame) -> pd.DataFrame:
    """IT MW bought per year (rows) and chip (columns), chips in order of first purchase."""
    it = schedule[schedule["kind"] == "it"]
    if it.empty:
        return pd.DataFrame()
    table = it.pivot_table(index="year", columns="item", values="mw", aggfunc="sum",
                           fill_value=0.0)
    order = it.groupby("item")["year"].min().sort_values(kind="stable").index
    return table[list(order)]


def top_items(values: pd.Series, n: int = 3, unit: str = "MW") -> str:
    """``"a 1,200 MW, b 800 MW, 4 more 900 MW"``: the n largest, the rest summed.

    Examples
    --------
    >>> top_items(pd.Series({"a": 5.0, "b": 700.0, "c": 1200.0, "d": 30.0}), n=2)
    'c 1,200 MW, b 700 MW, 2 more 35 MW'
    """
    values = values[values > MIN_MW].sort_values(ascending=False)
    if values.empty:
        return ""
    parts = [f"{k} {v:,.0f} {unit}" for k, v in values.iloc[:n].items()]
    rest = values.iloc[n:]
    if len(rest):
        parts.append(f"{len(rest)} more {rest.sum():,.0f} {unit}")
    return ", ".join(parts)


def write_schedule_xlsx(schedule: pd.DataFrame, path: str | Path) -> bool:
    """``build_schedule.xlsx``: a sheet per year (plus ``all``); False without openpyxl."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    from planner.outputs.tidy import tidy_frame

    table = tidy_frame(schedule)
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        table.to_excel(xl, sheet_name="all", index=False)
        for year, rows in table.groupby("year", sort=True):
            rows.to_excel(xl, sheet_name=str(int(year)), index=False)
    return True
