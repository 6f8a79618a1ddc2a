"""``report.html``: one self-contained page per run, and the interactive map page.

The page opens without network access: Leaflet (bundled in
``planner/data/leaflet``), the data and the charts (inline SVG) are all inside
the file; there are no map tiles (the region polygons are the base map).

Sections, top to bottom an answer: the question; the answer in three sentences
generated from the results; headline numbers (``summary.json``); the build
schedule (region totals by year, decisions due now, a Gantt chart, the chip mix,
a sortable table — ``build_schedule.csv``); the demand-versus-efficiency gap
(``gap.csv``); facility capacity by region over time; a map with a metric and
year selector, region and site tooltips; the cost; the assumptions; the caveats.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import tempfile
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from shapely.geometry import mapping

from grids.tables import InputError
from planner.outputs.fileio import atomic_file
from planner.outputs.maps import (
    REGION_METRICS,
    SITE_SIZE_METRIC,
    CapacityMap,
    check_metric,
    display_geometry,
    load_capacity_map,
)
from planner.outputs.svg import inline_svg as _svg

if TYPE_CHECKING:
    from planner.outputs.results import Result

#: Site metrics carried into the interactive map (for sizes and tooltips).
MAP_SITE_METRICS = ("facility_mw", "build_mw", "load_mw", "grid_load_mw", "onsite_load_mw")


# -- bundled assets ---------------------------------------------------------------------------


def _asset(name: str) -> bytes:
    return (resources.files("planner") / "data" / "leaflet" / name).read_bytes()


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's CSS (images inlined as data URIs) and JavaScript, ready to inline.

    Examples
    --------
    >>> css, js = leaflet_assets()
    >>> "leaflet-container" in css and "url(images/" not in css
    True
    >>> "sourceMappingURL" in js, "</script" in js.lower()
    (False, False)
    """
    css = _asset("leaflet.css").decode("utf-8")

    def data_uri(match: re.Match[str]) -> str:
        png = base64.b64encode(_asset(match.group(1))).decode("ascii")
        return f"url(data:image/png;base64,{png})"

    css = re.sub(r"url\(images/([A-Za-z0-9_.\-]+\.png)\)", data_uri, css)
    js = _asset("leaflet.js").decode("utf-8")
    js = re.sub(r"//# sourceMappingURL=\S*", "", js)
    return css, js


# -- small helpers ----------------------------------------------------------------------------


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fmt(v: Any, digits: int = 0, scale: float = 1.0) -> str:
    """``v / scale`` with thousands separators and ``digits`` decimals; "–" when missing.

    Examples
    --------
    >>> _fmt(-0.0), _fmt(-0.3), _fmt(1234.5, 1), _fmt(None)
    ('0', '0', '1,234.5', '–')
    """
    f = _num(v)
    if f is None:
        return "–"
    text = f"{f / scale:,.{digits}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def _json_values(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(float(v)) else float(f"{float(v):.6g}") for v in values]


def _rows(values: np.ndarray, decimals: int) -> list[list[float | None]]:
    """Rows of a 2-D array rounded to ``decimals``, NaN as ``None`` (fast for many sites)."""
    out = np.round(values, decimals).tolist()
    if not np.isfinite(values).all():
        out = [[v if math.isfinite(v) else None for v in row] for row in out]
    return out


def _round_coords(obj: Any) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [round(float(x), 4) for x in obj]
        return [_round_coords(o) for o in obj]
    return obj


def _script_json(payload: Any) -> str:
    """JSON safe inside ``<script type="application/json">``."""
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


# -- charts -----------------------------------------------------------------------------------


def gap_chart_svg(gap: pd.DataFrame, title: str) -> str:
    """The gap chart (the same figure as ``gap.png``) as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")
    from planner.outputs.gap import plot_gap

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dcplan-gap"}), \
            tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gap.svg"
        plot_gap(gap, str(path), title=title)
        return _svg(path)


def capacity_stack_svg(cmap: CapacityMap) -> str:
    """Stacked areas: facility capacity in service by region, load by source (GW)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    years = cmap.years
    reg = cmap.regions
    order = reg.assign(last=reg[f"facility_mw_{years[-1]}"]).sort_values(
        "last", ascending=False)
    stack = np.array([order[f"facility_mw_{y}"].to_numpy(float) for y in years]).T
    grid = np.array([reg[f"grid_load_mw_{y}"].sum() for y in years])
    onsite = np.array([reg[f"onsite_load_mw_{y}"].sum() for y in years])
    colours = plt.get_cmap("tab20").colors
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "dcplan-stack"}):
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110, layout="constrained")
        a.stackplot(years, stack / 1e3, labels=order["region"].tolist(),
                    colors=[colours[i % 20] for i in range(len(order))], alpha=0.9)
        a.set_title("Facility capacity in service by region (GW)")
        a.set_xlabel("year")
        a.set_ylabel("GW")
        a.grid(True, alpha=0.3)
        a.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
        b.stackplot(years, grid / 1e3, onsite / 1e3, labels=["grid", "on-site generation"],
                    colors=["#3b75af", "#ef8636"], alpha=0.9)
        b.set_title("Facility load served, grid vs on-site (GW)")
        b.set_xlabel("year")
        b.set_ylabel("GW")
        b.grid(True, alpha=0.3)
        b.legend(loc="upper left", fontsize=9, frameon=False)
        svg = _svg(fig)
        plt.close(fig)
    return svg


# -- the interactive map ----------------------------------------------------------------------


def map_payload(cmap: CapacityMap, metric: str = "load_mw", year: int | None = None) -> dict:
    """The data the page's map script reads (regions GeoJSON, sites, metrics)."""
    check_metric(metric)
    if metric not in cmap.metrics:
        raise InputError(f"--metric: metric '{metric}' has no columns in this map")
    years = cmap.years
    reg = cmap.regions
    drawn = reg.geometry.notna().to_numpy()
    bare = []  # regions without a polygon: drawn as their sites (docs/maps.md)
    for _, row in reg[~drawn].iterrows():
        bare.append({"region": str(row["region"]), "name": str(row["name"]),
                     "values": {m: _json_values(row[[f"{m}_{y}" for y in years]].to_numpy(float))
                                for m in cmap.metrics}})
    reg = reg[drawn]
    shapes = reg.geometry
    if len(reg):
        minx, miny, maxx, maxy = reg.total_bounds
        tolerance = max(maxx - minx, maxy - miny) / 3000.0
        shapes = display_geometry(reg.geometry).simplify(tolerance, preserve_topology=True)
    features = []
    for i, (_, row) in enumerate(reg.iterrows()):
        geom = mapping(shapes.iloc[i])
        values = {m: _json_values(row[[f"{m}_{y}" for y in years]].to_numpy(float))
                  for m in cmap.metrics}
        features.append({
            "type": "Feature",
            "geometry": {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"])},
            "properties": {"region": str(row["region"]), "name": str(row["name"]),
                           "area_km2": _num(row["area_km2"]), "values": values},
        })
    st = cmap.sites
    site_values = {m: _rows(st[[f"{m}_{y}" for y in years]].to_numpy(float), 1)
                   for m in MAP_SITE_METRICS}
    totals = _rows(st[["build_mw_total"]].to_numpy(float), 1)
    sites = [
        {"site": site, "region": region, "lon": round(float(lon), 5), "lat": round(float(lat), 5),
         "values": {m: site_values[m][i] for m in MAP_SITE_METRICS},
         "build_mw_total": totals[i][0]}
        for i, (site, region, lon, lat) in enumerate(zip(
            st["site"].astype(str), st["region"].astype(str), st["lon"], st["lat"]))
    ]
    default_year = years.index(year) if year in years else len(years) - 1
    return {
        "scenario": cmap.scenario,
        "years": years,
        "default_metric": metric,
        "default_year_index": default_year,
        "size_metric": SITE_SIZE_METRIC,
        "metrics": [{"name": m, "label": REGION_METRICS[m].label, "units": REGION_METRICS[m].units}
                    for m in cmap.metrics],
        "regions": {"type": "FeatureCollection", "features": features},
        "regions_without_polygon": bare,
        "sites": sites,
    }


MAP_JS = r"""
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("dcplan-map-data").textContent);
  var PALETTE = ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"];
  var NONE = "#e0e0e0";
  var metricSel = document.getElementById("map-metric");
  var yearSel = document.getElementById("map-year");
  var caption = document.getElementById("map-caption");
  var META = {};
  D.metrics.forEach(function (m) {
    META[m.name] = m;
    var o = document.createElement("option");
    o.value = m.name;
    o.textContent = m.label + " (" + m.units + ")";
    metricSel.appendChild(o);
  });
  D.years.forEach(function (y, i) {
    var o = document.createElement("option");
    o.value = String(i);
    o.textContent = String(y);
    yearSel.appendChild(o);
  });
  var state = {metric: D.default_metric, yi: D.default_year_index};
  // regions without a polygon: their sites are drawn in the region's colour
  var BARE_LIST = D.regions_without_polygon || [], BARE = {};
  BARE_LIST.forEach(function (p) { BARE[p.region] = p; });
  metricSel.value = state.metric;
  yearSel.value = String(state.yi);

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function fmt(v, units) {
    if (v === null || v === undefined) { return "–"; }
    var d = Math.abs(v) >= 100 ? 0 : (Math.abs(v) >= 1 ? 1 : 3);
    var s = v.toLocaleString("en-US", {maximumFractionDigits: d, minimumFractionDigits: 0});
    return units ? s + " " + units : s;
  }
  function range(metric) {
    var lo = Infinity, hi = -Infinity;
    D.regions.features.map(function (f) { return f.properties; }).concat(BARE_LIST)
      .forEach(function (p) {
        p.values[metric].forEach(function (v) {
          if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        });
      });
    if (!isFinite(lo)) { return [0, 1]; }
    lo = Math.min(lo, 0);
    if (hi <= lo) { hi = lo + 1; }
    return [lo, hi];
  }
  function colour(v, r) {
    if (v === null || v === undefined) { return NONE; }
    var t = (v - r[0]) / (r[1] - r[0]);
    var i = Math.min(PALETTE.length - 1, Math.max(0, Math.floor(t * PALETTE.length)));
    return PALETTE[i];
  }
  var sizeMax = 0;
  D.sites.forEach(function (s) {
    s.values[D.size_metric].forEach(function (v) {
      if (v !== null) { sizeMax = Math.max(sizeMax, v); }
    });
  });
  function radius(mw) { return mw > 0 && sizeMax > 0 ? 3 + 17 * Math.sqrt(mw / sizeMax) : 2.5; }

  var current = range(state.metric);
  function regionStyle(f) {
    var v = f.properties.values[state.metric][state.yi];
    return {className: "dc-region", fillColor: colour(v, current), fillOpacity: 0.85,
            color: "#5a5a5a", weight: 1};
  }
  function regionTip(p) {
    var y = D.years[state.yi], m = META[state.metric], v = p.values;
    var id = p.name.indexOf(p.region) < 0 ? " (" + esc(p.region) + ")" : "";
    var rows = ["<b>" + esc(p.name) + "</b>" + id + ", " + y,
                esc(m.label) + ": <b>" + fmt(v[state.metric][state.yi], m.units) + "</b>"];
    if (v.facility_mw) { rows.push("facility in service: " + fmt(v.facility_mw[state.yi], "MW")); }
    if (v.load_mw) {
      rows.push("load: " + fmt(v.load_mw[state.yi], "MW") +
                (v.grid_load_mw ? " (grid " + fmt(v.grid_load_mw[state.yi], "MW") + ", on-site " +
                 fmt(v.onsite_load_mw[state.yi], "MW") + ")" : ""));
    }
    if (v.load_share_pct) {
      rows.push("share of total load: " + fmt(v.load_share_pct[state.yi], "%"));
    }
    if (v.build_mw) { rows.push("built this year: " + fmt(v.build_mw[state.yi], "MW")); }
    rows.push("area: " + fmt(p.area_km2, "km²"));
    return rows.join("<br>");
  }
  function siteTip(s) {
    var y = D.years[state.yi], v = s.values, r = BARE[s.region];
    var m = META[state.metric];
    var extra = r ? ["region " + esc(r.name) + " (no polygon given): " + esc(m.label) +
                     " <b>" + fmt(r.values[state.metric][state.yi], m.units) + "</b>"] : [];
    return ["<b>" + esc(s.site) + "</b> (" + esc(s.region) + "), " + y].concat(extra, [
            "facility in service: <b>" + fmt(v.facility_mw[state.yi], "MW") + "</b>",
            "built this year: " + fmt(v.build_mw[state.yi], "MW") +
              " (all years: " + fmt(s.build_mw_total, "MW") + ")",
            "load: " + fmt(v.load_mw[state.yi], "MW") +
              " (grid " + fmt(v.grid_load_mw[state.yi], "MW") +
              ", on-site " + fmt(v.onsite_load_mw[state.yi], "MW") + ")"]).join("<br>");
  }

  var map = L.map("map", {attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false});
  var regions = L.geoJSON(D.regions, {
    style: regionStyle,
    onEachFeature: function (f, layer) {
      layer.bindTooltip(function () { return regionTip(f.properties); }, {sticky: true});
      layer.on("mouseover", function () { layer.setStyle({weight: 2.5, color: "#1a1a1a"}); });
      layer.on("mouseout", function () { regions.resetStyle(layer); });
    }
  }).addTo(map);
  // many sites: draw them on a canvas (SVG slows down past a few thousand markers)
  var siteRenderer = D.sites.length > 2000 ? L.canvas({padding: 0.5}) : undefined;
  var sites = L.layerGroup(D.sites.map(function (s) {
    var c = L.circleMarker([s.lat, s.lon], {className: "dc-site", color: "#1f4e9c", weight: 1,
                                            fillColor: "#1f4e9c", fillOpacity: 0.55,
                                            renderer: siteRenderer});
    c.bindTooltip(function () { return siteTip(s); });
    c.dcSite = s;
    return c;
  })).addTo(map);
  var bounds = regions.getBounds();
  D.sites.forEach(function (s) {
    if (BARE[s.region]) { bounds = bounds.isValid() ? bounds.extend([s.lat, s.lon]) :
                          L.latLngBounds([[s.lat, s.lon], [s.lat, s.lon]]); }
  });
  if (!bounds.isValid()) { bounds = L.latLngBounds([[-60, -170], [75, 170]]); }
  if (bounds.getNorthEast().equals(bounds.getSouthWest())) {
    map.setView(bounds.getCenter(), 6);
  } else {
    map.fitBounds(bounds, {padding: [24, 24]});
  }

  var legend = L.control({position: "bottomright"});
  legend.onAdd = function () {
    this._div = L.DomUtil.create("div", "dc-legend");
    return this._div;
  };
  legend.addTo(map);
  function drawLegend() {
    var m = META[state.metric], n = PALETTE.length, step = (current[1] - current[0]) / n;
    var rows = ["<b>" + esc(m.label) + "</b><br>(" + esc(m.units) + ")"];
    for (var i = 0; i < n; i++) {
      rows.push('<i style="background:' + PALETTE[i] + '"></i>' + fmt(current[0] + i * step) +
                " – " + fmt(current[0] + (i + 1) * step));
    }
    var anyNone = D.regions.features.some(function (f) {
      return f.properties.values[state.metric][state.yi] === null;
    });
    if (anyNone) {
      rows.push('<i style="background:' + NONE + '"></i>no value (no limit, or none to trust)');
    }
    rows.push('<span class="dc-dot"></span>site: area ∝ facility MW');
    if (BARE_LIST.length) {
      rows.push('<span class="dc-dot dc-bare"></span>site of a region without a polygon,<br>' +
                "in its region's colour");
    }
    legend._div.innerHTML = rows.join("<br>");
  }
  function update() {
    current = range(state.metric);
    regions.setStyle(regionStyle);
    sites.eachLayer(function (c) {
      var mw = c.dcSite.values[D.size_metric][state.yi] || 0, r = BARE[c.dcSite.region];
      if (r) {  // no polygon: the site carries its region's colour
        c.setRadius(Math.max(5, radius(mw)));
        c.setStyle({fillColor: colour(r.values[state.metric][state.yi], current),
                    fillOpacity: 0.9, color: "#303030", weight: 1.5});
      } else {
        c.setRadius(radius(mw));
        c.setStyle({fillOpacity: mw > 0 ? 0.55 : 0});
      }
    });
    drawLegend();
    caption.textContent = META[state.metric].label + " (" + META[state.metric].units + "), " +
      D.years[state.yi] + " — hover a region or a site for details";
  }
  metricSel.addEventListener("change", function () { state.metric = metricSel.value; update(); });
  yearSel.addEventListener("change", function () { state.yi = Number(yearSel.value); update(); });
  update();
  window.dcplanMap = {map: map, regions: regions, sites: sites, update: update, state: state};
})();
"""

PAGE_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0;
       color: #1d1d1f; background: #fafafa; }
main { max-width: 1180px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.6rem; margin: 1rem 0 0.2rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.6rem; border-bottom: 1px solid #ddd; }
.sub { color: #555; margin: 0 0 1rem; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(205px, 1fr)); gap: 0.7rem; }
.card { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 0.6rem 0.8rem; }
.card .v { font-size: 1.35rem; font-weight: 600; }
.card .l { color: #555; font-size: 0.85rem; }
figure.chart { margin: 0; background: #fff; border: 1px solid #e2e2e2; border-radius: 6px;
               padding: 0.4rem; }
table { border-collapse: collapse; font-size: 0.85rem; background: #fff; }
th, td { border: 1px solid #e2e2e2; padding: 0.2rem 0.5rem; text-align: right; }
th:first-child, td:first-child, td.t { text-align: left; }
details { margin: 0.6rem 0; }
.controls { display: flex; gap: 1.2rem; margin-bottom: 0.5rem; flex-wrap: wrap; }
#map { height: 560px; background: #eef2f5; border: 1px solid #d0d0d0; border-radius: 6px; }
#map-caption { color: #555; font-size: 0.9rem; margin: 0.3rem 0 0; }
.dc-legend { background: rgba(255,255,255,0.92); padding: 6px 8px; border-radius: 4px;
             font-size: 12px; line-height: 18px; box-shadow: 0 0 4px rgba(0,0,0,0.2); }
.dc-legend i { width: 16px; height: 14px; float: left; margin-right: 6px; opacity: 0.85; }
.dc-dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
          background: rgba(31,78,156,0.55); margin-right: 6px; }
.dc-bare { background: #fd8d3c; border: 1.5px solid #303030; }
.dc-note { color: #555; font-size: 0.9rem; margin: 0.3rem 0 0; }
footer { color: #777; font-size: 0.8rem; margin-top: 2rem; }
"""


def map_section(cmap: CapacityMap, metric: str = "load_mw", year: int | None = None) -> str:
    """HTML of the map: selectors, the map container, its data and script."""
    payload = _script_json(map_payload(cmap, metric, year))
    return (
        '<div class="controls">'
        '<label>metric <select id="map-metric"></select></label>'
        '<label>year <select id="map-year"></select></label></div>'
        '<div id="map" role="region" aria-label="map of regions and sites"></div>'
        '<p id="map-caption"></p>' + no_polygon_note(cmap) +
        f'<script type="application/json" id="dcplan-map-data">{payload}</script>'
    )


def no_polygon_note(cmap: CapacityMap) -> str:
    """One line saying which regions have no polygon and how they are drawn ('' for none)."""
    bare = cmap.regions.loc[cmap.regions.geometry.isna(), "region"].astype(str).tolist()
    if not bare:
        return ""
    shown = ", ".join(bare[:12]) + (f" and {len(bare) - 12} more" if len(bare) > 12 else "")
    return (f'<p class="dc-note" id="map-no-polygon">No polygon was given for {html.escape(shown)}'
            ": drawn as their sites, in the region's colour.</p>")


def page(title: str, body: str, *, with_map: bool) -> str:
    """A complete, self-contained HTML page."""
    from planner.outputs.results import package_versions

    css, js = leaflet_assets() if with_map else ("", "")
    scripts = f"<script>{js}</script>\n<script>{MAP_JS}</script>" if with_map else ""
    version = package_versions().get("dcplan", "")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n"
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{css}</style>\n<style>{PAGE_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"{body}\n<footer>written by dcplan {html.escape(version)}; self-contained page "
        "(no network access needed); map library: Leaflet 1.9.4 (BSD-2-Clause)</footer>\n"
        f"</main>\n{scripts}\n</body>\n</html>\n"
    )


# -- the report -------------------------------------------------------------------------------


def headline(summary: dict, gap: pd.DataFrame) -> list[tuple[str, str]]:
    """(value with unit, label) pairs for the headline cards.

    The first card is the plan's cost — what would be spent — never the objective,
    which adds the value of unserved compute (a penalty); that value has its own card.
    """
    years = summary.get("years") or [int(gap["year"].iloc[0]), int(gap["year"].iloc[-1])]
    y0, y1 = int(years[0]), int(years[-1])
    energy = {int(k): v for k, v in (summary.get("energy_twh_by_year") or {}).items()}
    price = {int(k): v for k, v in (summary.get("compute_price_usd_per_h100e_year") or {}).items()}
    lev = {int(k): v for k, v in
           (summary.get("levelized_cost_usd_per_h100e_year") or {}).items()}
    load = gap["power_energized_mw"].to_numpy(float)
    peak = int(np.nanargmax(load)) if np.isfinite(load).any() else 0
    share = _num(summary.get("unserved_share"))
    plan = summary.get("plan_cost_usd")
    if plan is None:  # a summary.json from before the split
        comp = summary.get("cost_usd_by_component") or {}
        plan = sum(v for k, v in comp.items() if k != "unserved") if comp else None
        unserved = comp.get("unserved")
    else:
        unserved = summary.get("unserved_value_usd")
    cards = [
        (f"{_fmt(plan, 1, 1e9)} billion USD",
         "plan cost, present value (capital, energy, capacity, fuel)"),
        (f"{_fmt(unserved, 1, 1e9)} billion USD",
         "value of compute left unserved (a penalty, not a cost)"),
        (f"{_fmt(summary.get('facility_built_mw'), 1, 1e3)} GW", f"facility capacity built "
         f"{y0}–{y1}"),
        (f"{_fmt(summary.get('grid_connected_mw'), 1, 1e3)} GW", "new grid connections"),
        (f"{_fmt(summary.get('onsite_built_mw'), 1, 1e3)} GW", "on-site generation built"),
        (f"{_fmt(load[peak], 1, 1e3)} GW", f"peak facility load ({int(gap['year'].iloc[peak])})"),
        (f"{_fmt(summary.get('load_mw_final_year'), 1, 1e3)} GW", f"facility load in {y1}"),
        (f"{_fmt(energy.get(y0))} → {_fmt(energy.get(y1))} TWh", f"energy use {y0} → {y1}"),
    ]
    if lev:
        cards.append((f"{_fmt(lev.get(y0))} → {_fmt(lev.get(y1))} USD",
                      f"levelized cost of compute per H100e-year, {y0} → {y1}"))
    cards += [
        (f"{_fmt(price.get(y0))} → {_fmt(price.get(y1))} USD", f"marginal cost of compute per "
         f"H100e-year, {y0} → {y1}"),
        ("–" if share is None else f"{share * 100:.2f} %", "compute demand not served"),
        (f"{summary.get('status', '–')}, {_fmt(summary.get('solve_seconds'), 1)} s",
         f"HiGHS status and solve time ({_fmt(summary.get('variables'))} variables)"),
    ]
    return cards


def region_table(cmap: CapacityMap) -> pd.DataFrame:
    """Per region: totals over the horizon and the last year's load and share."""
    reg = cmap.regions
    last = cmap.years[-1]
    df = pd.DataFrame({
        "region": reg["region"], "name": reg["name"],
        "built_mw": reg["build_mw_total"], "new_grid_mw": reg["grid_mw_total"],
        "onsite_mw": reg["onsite_mw_total"], f"load_mw_{last}": reg[f"load_mw_{last}"],
        f"load_share_pct_{last}": reg[f"load_share_pct_{last}"],
        "energy_twh_total": reg["energy_twh_total"], "area_km2": reg["area_km2"],
    })
    return df.sort_values("built_mw", ascending=False)


QUESTION = ("Given how fast compute demand grows, how fast chips get more efficient, where "
            "power can be had and how long the grid takes to deliver it: what should be built, "
            "where, when, and at what cost — and how large is the gap between demand and what "
            "efficiency alone covers?")


def render_report(summary: dict, gap: pd.DataFrame, cmap: CapacityMap,
                  schedule: pd.DataFrame | None = None,
                  regions: pd.DataFrame | None = None,
                  states: pd.DataFrame | None = None) -> str:
    """The report page as a string, top to bottom an answer: the question, the answer,
    the schedule, the gap, the map, the cost, the assumptions, the caveats."""
    from planner.outputs.headline import answer
    from planner.outputs.report_plan import (
        SORT_JS,
        assumptions_section,
        caveats_section,
        cost_section,
        flexibility_section,
        html_table,
        schedule_section,
    )

    name = summary.get("scenario") or cmap.scenario
    cards = "".join(f'<div class="card"><div class="v">{html.escape(v)}</div>'
                    f'<div class="l">{html.escape(label)}</div></div>'
                    for v, label in headline(summary, gap))
    gap_cols = ["year", "demand_h100e", "unserved_h100e", "frontier_h100e_per_mw",
                "fleet_h100e_per_mw", "net_power_growth", "net_power_growth_fleet",
                "realized_power_growth", "power_needed_at_frontier_mw", "power_needed_mw",
                "power_energized_mw", "efficiency_only_gap_mw", "gap_pct", "energy_twh",
                "all_datacenter_energy_twh", "ai_share_of_datacenter_energy_pct"]
    gap_fmt = {c: 0 for c in gap_cols if c != "year"}
    for c in ("net_power_growth", "net_power_growth_fleet", "realized_power_growth"):
        gap_fmt[c] = 2
    gap_fmt["gap_pct"] = 1
    gap_fmt["ai_share_of_datacenter_energy_pct"] = 1
    gap_table = html_table(gap[[c for c in gap_cols if c in gap.columns]], gap_fmt,
                           table_id="gap-table")
    last = cmap.years[-1]
    reg_fmt = {"built_mw": 0, "new_grid_mw": 0, "onsite_mw": 0, f"load_mw_{last}": 0,
               f"load_share_pct_{last}": 1, "energy_twh_total": 0, "area_km2": 0}
    y0 = cmap.years[0]
    if schedule is not None and regions is not None:
        sentences = answer(summary, schedule, regions)
        answer_html = "<ol class=\"answer\">" + "".join(
            f"<li>{html.escape(t)}</li>" for t in sentences) + "</ol>"
        plan_html = schedule_section(schedule, regions, list(cmap.years))
        plan_html += flexibility_section(summary)
    else:
        answer_html = ("<p>This run folder has no build_schedule.csv (written by an older "
                       "dcplan): rerun it for the answer and the schedule.</p>")
        plan_html = answer_html
    body = (
        f"<h1>{html.escape(str(name))}: capacity plan {y0}–{last}</h1>\n"
        f'<p class="sub" id="question"><b>The question.</b> {html.escape(QUESTION)}</p>\n'
        f'<section id="answer"><h2>The answer</h2>{answer_html}</section>\n'
        f'<section id="headline"><h2>Headline numbers</h2><div class="cards">{cards}</div>'
        "</section>\n"
        f'<section id="schedule"><h2>What to build, where and when</h2>{plan_html}</section>\n'
        '<section id="gap"><h2>The gap: demand growth against what efficiency covers</h2>'
        "<p>Left: compute demand, chip efficiency and the net power need they imply (demand ÷ "
        "efficiency), since the first year. Right: the power needed to serve all demand, with "
        "the fleet's chips and with only the newest chips, against the power energized and "
        "today's power; the shaded area is the new power the plan must find.</p>"
        f'<figure class="chart" id="gap-chart">{gap_chart_svg(gap, "")}</figure>'
        f"<details><summary>Gap table (gap.csv)</summary>{gap_table}</details></section>\n"
        f"{calibration_section(summary, gap, str(name))}"
        '<section id="capacity"><h2>Capacity by region over time</h2>'
        f'<figure class="chart" id="stack-chart">{capacity_stack_svg(cmap)}</figure>'
        "<details open><summary>By region (MW at the meter; built = sum over all years)"
        f"</summary>{html_table(region_table(cmap), reg_fmt, sortable=True)}</details>"
        f"{_states_html(states)}</section>\n"
        '<section id="map-section"><h2>Map</h2>'
        f"{map_section(cmap)}</section>\n"
        f'<section id="cost"><h2>Cost</h2>{cost_section(summary)}</section>\n'
        '<section id="assumptions"><h2>Assumptions</h2>'
        f"{assumptions_section(summary)}</section>\n"
        f'<section id="caveats"><h2>Caveats</h2>{caveats_section()}</section>\n'
        f"<script>{SORT_JS}</script>"
    )
    return page(f"dcplan report: {name}", body, with_map=True)


def calibration_section(summary: dict, gap: pd.DataFrame, name: str) -> str:
    """The run's all-datacenter energy and load against every published US point, with
    the AI share; "" for a gap.csv without the column or years without a baseline."""
    from planner.outputs.calibration_chart import calibration_svg
    from planner.outputs.report_plan import html_table

    u = float((summary.get("assumptions") or {}).get("utilization") or 0.8)
    svg = calibration_svg(gap, u, name)
    if not svg:
        return ""
    cols = ["year", "energy_twh", "non_ai_datacenter_energy_twh", "all_datacenter_energy_twh",
            "ai_share_of_datacenter_energy_pct"]
    table = html_table(gap[cols].dropna(subset=["all_datacenter_energy_twh"]),
                       {"energy_twh": 0, "non_ai_datacenter_energy_twh": 0,
                        "all_datacenter_energy_twh": 0, "ai_share_of_datacenter_energy_pct": 1},
                       table_id="calibration-table")
    return ('<section id="calibration"><h2>Calibration: all US datacenters against published '
            "projections</h2><p>The plan covers AI accelerators; published projections (LBNL, "
            "EPRI, IEA, McKinsey, S&amp;P Global 451, BNEF) cover every US datacenter. Black: "
            "the plan's AI energy and load plus the sourced non-AI baseline "
            "(models/data/dc_baseline.csv; load at the plan's utilization); dashed: AI only; "
            "red: each published figure or range (models/data/calibration_points.csv; EPRI's "
            "shares × 4,000 TWh). The published points are for the United States.</p>"
            f'<figure class="chart" id="calibration-chart">{svg}</figure>'
            "<details><summary>All-datacenter energy and the AI share (gap.csv)</summary>"
            f"{table}</details></section>\n")


def _states_html(states: pd.DataFrame | None) -> str:
    """The by-state table (capacity_by_state.csv totals), folded away; "" without one."""
    if states is None or states.empty:
        return ""
    from planner.outputs.report_plan import html_table
    from planner.outputs.states import state_totals

    totals = state_totals(states)
    fmt = {c: 0 for c in totals.columns if c not in ("state", "name")}
    return ("<details id=\"states\"><summary>By state (taxes, moratoria and water rules are "
            "set by states; sites placed in the US state polygons; capacity_by_state.csv)"
            f"</summary>{html_table(totals, fmt, sortable=True, table_id='states-table')}"
            "</details>")


def write_map_page(cmap: CapacityMap, out: str | Path, *, metric: str = "load_mw") -> Path:
    """``dcplan map --format html``: the interactive map alone, self-contained."""
    out = Path(out)
    body = (f"<h1>{html.escape(cmap.scenario)}: capacity map {cmap.years[0]}–{cmap.years[-1]}"
            f"</h1>\n<section id=\"map-section\">{map_section(cmap, metric)}</section>")
    text = page(f"dcplan map: {cmap.scenario}", body, with_map=True)
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def report_from_result(result: Result, cmap: CapacityMap, out: str | Path, *,
                       summary: dict | None = None, schedule: pd.DataFrame | None = None,
                       regions: pd.DataFrame | None = None,
                       states: pd.DataFrame | None = None) -> Path:
    """Write ``report.html`` from an in-memory result (used by ``dcplan run``).

    ``summary``, ``schedule`` and ``regions`` are what the run writes to
    ``summary.json``, ``build_schedule.csv`` and ``capacity_by_region.csv``.
    """
    out = Path(out)
    text = render_report(summary if summary is not None else result.summary(), result.gap(),
                         cmap, schedule, regions, states)
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def write_report(folder: str | Path, out: str | Path | None = None) -> Path:
    """``dcplan report``: (re)write ``report.html`` from a run folder's files.

    Reads ``summary.json``, ``gap.csv``, ``results.nc`` and the run's region
    polygons (``capacity_map.gpkg``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("folder not found (expected a dcplan run folder)", file=folder)
    spath, gpath = folder / "summary.json", folder / "gap.csv"
    for p in (spath, gpath):
        if not p.is_file():
            raise InputError(f"file not found in {folder} (expected the output of dcplan run)",
                             file=p)
    try:
        summary = json.loads(spath.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"invalid JSON: {exc}", file=spath) from None
    if not isinstance(summary, dict):
        raise InputError("expected a JSON object", file=spath)
    try:
        gap = pd.read_csv(gpath)
    except Exception as exc:
        raise InputError(f"cannot read: {exc}", file=gpath) from None
    need = ["year", "power_energized_mw", "power_needed_mw", "gap_mw", "cum_demand_growth",
            "cum_efficiency_growth", "cum_net_power_growth"]
    for c in need:
        if c not in gap.columns:
            raise InputError("column missing", file=gpath, column=c)
    cmap = load_capacity_map(folder)
    schedule = regions = None
    if (folder / "build_schedule.csv").is_file() and (folder / "capacity_by_region.csv").is_file():
        schedule = _read_csv(folder / "build_schedule.csv",
                             ["year", "site", "kind", "item", "mw", "lead_years", "commit_year"])
        schedule["commit_year"] = schedule["commit_year"].astype("Int64")
        regions = _read_csv(folder / "capacity_by_region.csv",
                            ["region", "year", "build_mw", "grid_mw", "onsite_mw", "load_mw"])
    states = None
    if (folder / "capacity_by_state.csv").is_file():
        states = _read_csv(folder / "capacity_by_state.csv",
                           ["state", "name", "year", "sites", "build_mw", "grid_mw", "onsite_mw",
                            "load_mw", "energy_twh"])
        states["state"] = states["state"].fillna("")
    out = Path(out) if out is not None else folder / "report.html"
    text = render_report(summary, gap, cmap, schedule, regions, states)
    with atomic_file(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return out


def _read_csv(path: Path, need: list[str]) -> pd.DataFrame:
    """A run's CSV with its ``need`` columns, or an :class:`InputError` naming the file."""
    try:
        df = pd.read_csv(path, keep_default_na=True)
    except Exception as exc:
        raise InputError(f"cannot read: {exc}", file=path) from None
    for c in need:
        if c not in df.columns:
            raise InputError("column missing", file=path, column=c)
    if "operator" in df.columns:
        df["operator"] = df["operator"].fillna("")
    return df
