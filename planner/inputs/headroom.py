"""Curtailment-enabled headroom per region, by the published method.

Norris, Profeta, Patino-Echeverri and Cowie-Haskell, "Rethinking Load Growth: Assessing the
Potential for Integration of Large Flexible Loads in US Power Systems", Nicholas Institute,
Duke University, NI R 25-01 (February 2025). For a region with hourly load L_h (MW) over the
years analysed:

1. thresholds: T_summer = max L_h over June–August, T_winter = max L_h over December–February
   (all the years analysed); the summer threshold applies April–October, the winter one
   November–March: T_h.
2. a constant added load ΔL (MW) in every hour; curtailment in hour h is
   c_h = min(ΔL, max(0, L_h + ΔL − T_h)).
3. the curtailment rate of year y is Σ_{h∈y} c_h ÷ (ΔL · N_y), N_y the hours of the year;
   the rate R(ΔL) is its mean over the years.
4. the headroom at a rate r is the ΔL with R(ΔL) = r.

With the margin x_h = T_h − L_h, c_h/ΔL = min(1, max(0, 1 − x_h/ΔL)): 1 where x_h ≤ 0, and
non-decreasing in ΔL elsewhere, so R is continuous and non-decreasing on ΔL > 0, from
R(0+) = mean_y #{x_h ≤ 0}/N_y towards 1 — a bracketed root for :func:`scipy.optimize.brentq`.
If R(0+) ≥ r (the record has hours above its own seasonal threshold, which happens when a
peak falls outside the threshold's months, e.g. a September heat wave), the headroom is 0.
R is evaluated exactly in O(log n) per ΔL from the sorted positive margins and their prefix
sums: Σ_{0<x<ΔL} (1 − x/ΔL) = k − (Σ_{i<k} x_(i))/ΔL with k = #{0 < x < ΔL}.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq

#: Curtailment limits of the published study, percent of the added load's energy.
DEFAULT_RATES_PCT = (0.25, 0.5, 1.0, 5.0)
#: Months whose highest load sets each season's threshold.
SUMMER_PEAK_MONTHS = (6, 7, 8)
WINTER_PEAK_MONTHS = (12, 1, 2)
#: Months in which the summer threshold applies (the rest use the winter one).
SUMMER_SEASON_MONTHS = (4, 5, 6, 7, 8, 9, 10)
#: Columns of :func:`headroom_table`, in order (units in the names).
COLUMNS = ("region", "curtailment_pct", "headroom_mw", "headroom_pct_of_peak",
           "curtailed_hours_per_year", "curtailed_mwh_per_year", "mean_event_hours",
           "max_event_hours", "events_per_year", "peak_load_mw", "summer_threshold_mw",
           "winter_threshold_mw", "first_year", "last_year")


@dataclass(frozen=True)
class RegionCurve:
    """One region's curtailment rate as a function of the added load.

    Attributes
    ----------
    region : the region's name.
    times : hour-beginning UTC times (``datetime64``).
    margin_mw : T_h − L_h per hour, MW.
    summer_threshold_mw, winter_threshold_mw, peak_load_mw : MW.
    """

    region: str
    times: np.ndarray
    margin_mw: np.ndarray
    summer_threshold_mw: float
    winter_threshold_mw: float
    peak_load_mw: float
    _years: tuple[tuple[int, float, np.ndarray, np.ndarray], ...]  # (zero count, N, x, cumsum)

    @classmethod
    def from_load(cls, region: str, load_mw: pd.Series) -> RegionCurve:
        """Thresholds and margins of one region's hourly load (naive UTC index)."""
        month = load_mw.index.month
        values = load_mw.to_numpy(dtype=float)
        summer = float(values[np.isin(month, SUMMER_PEAK_MONTHS)].max())
        winter = float(values[np.isin(month, WINTER_PEAK_MONTHS)].max())
        threshold = np.where(np.isin(month, SUMMER_SEASON_MONTHS), summer, winter)
        margin = threshold - values
        years = []
        year_of = load_mw.index.year.to_numpy()
        for y in np.unique(year_of):
            x = margin[year_of == y]
            pos = np.sort(x[x > 0])
            years.append((int((x <= 0).sum()), float(len(x)), pos,
                          np.concatenate([[0.0], np.cumsum(pos)])))
        return cls(region, load_mw.index.to_numpy(), margin, summer, winter,
                   float(values.max()), tuple(years))

    @property
    def years(self) -> list[int]:
        """The calendar years analysed."""
        return sorted({int(y) for y in self.times.astype("datetime64[Y]").astype(int) + 1970})

    @property
    def floor_rate(self) -> float:
        """R(0+): the rate any small added load sees (hours at or above the threshold)."""
        return float(np.mean([z / n for z, n, _, _ in self._years]))

    def rate(self, added_mw: float | np.ndarray) -> np.ndarray:
        """Mean yearly curtailment rate R(ΔL) (a fraction) for each added load in MW.

        ΔL = 0 gives the limit R(0+) (:attr:`floor_rate`).
        """
        d = np.atleast_1d(np.asarray(added_mw, dtype=float))
        safe = np.where(d > 0, d, 1.0)
        total = np.zeros_like(d)
        for zeros, n, pos, csum in self._years:
            k = np.searchsorted(pos, d, side="left")  # margins 0 < x < ΔL
            partial = np.where(d > 0, k - csum[k] / safe, 0.0)
            total += (zeros + partial) / n
        return total / len(self._years)

    def headroom_mw(self, rate: float) -> float:
        """The added load ΔL (MW) whose mean curtailment rate is ``rate`` (a fraction in
        (0, 1)); 0 when :attr:`floor_rate` is already at least ``rate``."""
        if not 0 < rate < 1:
            raise ValueError(f"rate must be in (0, 1), got {rate}")
        if self.floor_rate >= rate:
            return 0.0
        top = float(self.margin_mw.max()) if self.margin_mw.size else 0.0
        hi = 2.0 * max(top, 1.0) / (1.0 - rate)  # R(hi) >= 1 - top/hi > rate
        return float(brentq(lambda d: float(self.rate(d)[0]) - rate, 0.0, hi,
                            xtol=1e-7, rtol=1e-13, maxiter=500))

    def events(self, added_mw: float) -> dict[str, float]:
        """Curtailment statistics at an added load ΔL (MW): hours, MWh and events a year.

        An event is a run of consecutive curtailed hours. At ΔL = 0 the hours are those
        at or above the threshold (the limit ΔL → 0+), with no MWh.
        """
        x = self.margin_mw
        curtailed = (x < added_mw) if added_mw > 0 else (x <= 0)
        n_years = len(self._years)
        mwh = np.minimum(added_mw, np.maximum(0.0, added_mw - x)).sum() if added_mw > 0 else 0.0
        lengths = _run_lengths(curtailed, self.times)
        return {
            "curtailed_hours_per_year": float(curtailed.sum()) / n_years,
            "curtailed_mwh_per_year": float(mwh) / n_years,
            "mean_event_hours": float(lengths.mean()) if lengths.size else 0.0,
            "max_event_hours": float(lengths.max()) if lengths.size else 0.0,
            "events_per_year": lengths.size / n_years,
        }


def _run_lengths(mask: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in ``mask`` over consecutive hours of ``times``.

    >>> t = np.arange(np.datetime64("2024-01-01T00"), np.datetime64("2024-01-01T08"))
    >>> _run_lengths(np.array([1, 1, 0, 1, 0, 1, 1, 1], bool), t).tolist()
    [2, 1, 3]
    """
    if not mask.any():
        return np.zeros(0, dtype=int)
    hours = (times.astype("datetime64[h]") - times.astype("datetime64[h]")[0]).astype(int)
    h = hours[mask]
    breaks = np.flatnonzero(np.diff(h) != 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [h.size]])
    return ends - starts


def region_curves(load_mw: pd.DataFrame) -> dict[str, RegionCurve]:
    """:class:`RegionCurve` per column of a validated hourly table (``grids.hourly``)."""
    return {str(r): RegionCurve.from_load(str(r), load_mw[r]) for r in load_mw.columns}


def headroom_table(curves: dict[str, RegionCurve],
                   rates_pct: Sequence[float] = DEFAULT_RATES_PCT) -> pd.DataFrame:
    """Headroom per region and curtailment limit.

    Parameters
    ----------
    curves : from :func:`region_curves`.
    rates_pct : curtailment limits, percent of the added load's energy (each in (0, 100)).

    Returns
    -------
    pandas.DataFrame
        One row per (region, rate) with :data:`COLUMNS`.
    """
    rows = []
    for name, c in curves.items():
        years = c.years
        for pct in rates_pct:
            mw = c.headroom_mw(pct / 100.0)
            rows.append({"region": name, "curtailment_pct": float(pct), "headroom_mw": mw,
                         "headroom_pct_of_peak": 100.0 * mw / c.peak_load_mw
                         if c.peak_load_mw > 0 else np.nan,
                         **c.events(mw), "peak_load_mw": c.peak_load_mw,
                         "summer_threshold_mw": c.summer_threshold_mw,
                         "winter_threshold_mw": c.winter_threshold_mw,
                         "first_year": min(years), "last_year": max(years)})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def totals(table: pd.DataFrame) -> pd.DataFrame:
    """Sum of headroom over regions per rate, with hour-weighted means of the event figures.

    Returns one row per ``curtailment_pct``: ``headroom_mw`` (sum), and the mean over regions
    of ``curtailed_hours_per_year`` and ``mean_event_hours`` (as the study reports them).
    """
    g = table.groupby("curtailment_pct", sort=True)
    return pd.DataFrame({"headroom_mw": g["headroom_mw"].sum(),
                         "curtailed_hours_per_year": g["curtailed_hours_per_year"].mean(),
                         "mean_event_hours": g["mean_event_hours"].mean()}).reset_index()


#: Columns of :func:`nonfirm_regions` (units in the names).
NONFIRM_COLUMNS = ("headroom_mw", "curtailment_rate", "curtailed_hours_per_year",
                   "events_per_year", "max_event_hours", "peak_share_avoided")


def nonfirm_regions(curves: dict[str, RegionCurve], rate: float,
                    override_mw: dict[str, float] | None = None) -> pd.DataFrame:
    """What a non-firm connection gets in each region, from its hourly record.

    Parameters
    ----------
    curves : from :func:`region_curves`.
    rate : the scenario's curtailment limit, a fraction in (0, 1).
    override_mw : region → headroom MW to use instead of the solved one.

    Returns
    -------
    pandas.DataFrame
        Indexed by region, :data:`NONFIRM_COLUMNS`: the headroom H_r (MW, the solved
        ΔL with R(ΔL) = rate, or the override), the record's mean yearly curtailment
        rate R(H_r) at it (a fraction; = ``rate`` when solved), the curtailed hours and
        events a year, the longest event (hours) and the share of the non-firm draw
        curtailed in the hours that set capacity charges (:func:`peak_share_avoided`
        under the region's :func:`peak_rule`) at H_r. A headroom of 0 has all 0.

    Notes
    -----
    The method is scale-invariant: multiplying every hour's load by k multiplies the
    thresholds, the margins and so the headroom by k, and leaves R(k·ΔL), the hours
    and the events unchanged. A region whose background load grows by a factor k
    therefore has k·H_r of headroom at the same rate and the same curtailment
    statistics, which is how the planner grows H_r with load growth.

    Examples
    --------
    >>> t = pd.date_range("2023-01-01", periods=8760, freq="h")
    >>> load = pd.Series(np.where(t.hour.isin([16, 17, 18, 19]), 210.0, 200.0), index=t)
    >>> row = nonfirm_regions({"R": RegionCurve.from_load("R", load)}, 0.01, {"R": 5.0}).loc["R"]
    >>> [round(float(row[k]), 6) for k in ("curtailment_rate", "curtailed_hours_per_year",
    ...                                    "events_per_year", "max_event_hours")]
    [0.166667, 1460.0, 365.0, 4.0]
    """
    override = override_mw or {}
    rows = {}
    for name, c in curves.items():
        mw = float(override[name]) if name in override else c.headroom_mw(rate)
        if mw <= 0:
            rows[name] = dict.fromkeys(NONFIRM_COLUMNS, 0.0)
            continue
        ev = c.events(mw)
        rows[name] = {"headroom_mw": mw, "curtailment_rate": float(c.rate(mw)[0]),
                      "curtailed_hours_per_year": ev["curtailed_hours_per_year"],
                      "events_per_year": ev["events_per_year"],
                      "max_event_hours": ev["max_event_hours"],
                      "peak_share_avoided": peak_share_avoided(c, mw, peak_rule(name))}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=list(NONFIRM_COLUMNS))
    out.index.name = "region"
    return out


#: Coincident-peak rule per region: the hours whose draw sets a load's capacity charge.
#: ``4cp``: ERCOT's four coincident peaks, the peak hour of each of June–September;
#: ``5cp``: PJM's peak-load contribution, the five highest daily peak hours of June–September;
#: ``1cp``: the year's peak hour (dcplan's assumption for every other region; their capacity
#: obligations follow a peak forecast or the annual peak in ways the project has not sourced).
PEAK_RULES = {"ERCOT": "4cp", "PJM": "5cp"}
SUMMER_CP_MONTHS = (6, 7, 8, 9)


def peak_rule(region: str) -> str:
    """The coincident-peak rule of a region (:data:`PEAK_RULES`, else ``1cp``)."""
    return PEAK_RULES.get(region, "1cp")


def peak_hours(curve: RegionCurve, rule: str) -> np.ndarray:
    """Indices of the hours that set capacity charges under ``rule``, every year (the
    first of tied hours).

    Examples
    --------
    >>> t = pd.date_range("2023-01-01", periods=8760, freq="h")
    >>> load = pd.Series(np.arange(8760.0) % 24 + 100 * t.month, index=t)
    >>> c = RegionCurve.from_load("R", load)
    >>> [str(c.times[i])[:13] for i in peak_hours(c, "4cp")]
    ['2023-06-01T23', '2023-07-01T23', '2023-08-01T23', '2023-09-01T23']
    >>> len(peak_hours(c, "5cp")), str(c.times[peak_hours(c, "1cp")[0]])[:13]
    (5, '2023-12-01T23')
    """
    t = pd.DatetimeIndex(curve.times)
    summer = np.isin(t.month, SUMMER_SEASON_MONTHS)
    threshold = np.where(summer, curve.summer_threshold_mw, curve.winter_threshold_mw)
    load = pd.Series(threshold - curve.margin_mw, index=np.arange(len(t)))
    out: list[int] = []
    for year in np.unique(t.year):
        in_year = t.year == year
        if rule == "1cp":
            out.append(int(load[in_year].idxmax()))
        elif rule == "4cp":
            out += [int(load[in_year & (t.month == mo)].idxmax()) for mo in SUMMER_CP_MONTHS
                    if (in_year & (t.month == mo)).any()]
        elif rule == "5cp":
            part = load[in_year & np.isin(t.month, SUMMER_CP_MONTHS)]
            if part.empty:
                continue
            daily = part.groupby(t[part.index].normalize()).idxmax()
            out += [int(i) for i in load[daily.to_numpy()].nlargest(5).index]
        else:
            raise ValueError(f"unknown coincident-peak rule {rule!r}")
    return np.array(out, dtype=int)


def peak_share_avoided(curve: RegionCurve, added_mw: float, rule: str) -> float:
    """Share of a constant added load ΔL (MW) curtailed in the hours that set capacity
    charges (:func:`peak_hours`): mean of c_h/ΔL = min(1, max(0, 1 − x_h/ΔL)) over them;
    0 when ΔL ≤ 0."""
    if added_mw <= 0:
        return 0.0
    x = curve.margin_mw[peak_hours(curve, rule)]
    return float(np.mean(np.clip(1.0 - x / added_mw, 0.0, 1.0))) if x.size else 0.0
