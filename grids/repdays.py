"""Representative days of an hourly load record, with the system's peak days kept whole.

For the hourly operations layer (`hours:`, :mod:`models.levers.hours`): K typical days chosen by
`tsam <https://github.com/FZJ-IEK3-VSA/tsam>`_ (hierarchical clustering of whole days, each
cluster represented by its medoid, the real day closest to the cluster's centre) from a
validated hourly table (:func:`grids.hourly.load_hourly`). The days of the system's highest
summer (June–August) and winter (December–February) load — the sum over regions — are kept
as periods of their own (tsam's extreme periods, method ``append``), optionally with every
region's own peak day too. The weights are the number of record days each period stands for,
scaled so they sum to one model year of 365 days: a peak day of a nine-year record weighs
365/3,288 ≈ 0.11 day.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from grids.tables import InputError

#: Days in the model year the weights sum to.
YEAR_DAYS = 365.0
_SUMMER = "__system_summer"
_WINTER = "__system_winter"


@dataclass(frozen=True)
class RepresentativeDays:
    """K representative days.

    Attributes
    ----------
    load_mw : MW, index ``(period, hour)`` (hour 0–23, UTC), one column per region.
    weight_days : days of the model year each period stands for (index ``period``; sums to
        :data:`YEAR_DAYS`).
    peak_days : the kept peak days: name (``system_summer``, ``system_winter``, or a region)
        → ``(period, date)``.
    assignment : the period of every day of the record (index: the day's date).
    """

    load_mw: pd.DataFrame
    weight_days: pd.Series
    peak_days: dict[str, tuple[int, pd.Timestamp]]
    assignment: pd.Series

    @property
    def k(self) -> int:
        """The number of representative days."""
        return len(self.weight_days)


def representative_days(load_mw: pd.DataFrame, k: int, *,
                        region_peaks: bool = False) -> RepresentativeDays:
    """Choose ``k`` representative days, the system's peak days among them.

    Parameters
    ----------
    load_mw : validated hourly table (:func:`grids.hourly.load_hourly`), MW.
    k : number of representative days in all, peak days included.
    region_peaks : also keep each region's own peak day as a period.

    Raises
    ------
    InputError
        When ``k`` leaves no room for a typical day beside the peak days, or exceeds the
        number of days in the record.

    Examples
    --------
    >>> from grids.hourly import load_hourly, select_years
    >>> rd = representative_days(select_years(load_hourly(), [2023]), 8)
    >>> rd.k, round(float(rd.weight_days.sum()), 9), sorted(rd.peak_days)
    (8, 365.0, ['system_summer', 'system_winter'])
    """
    import tsam
    from tsam import ClusterConfig, ExtremeConfig
    from tsam.options import options

    regions = [str(c) for c in load_mw.columns]
    system = load_mw.sum(axis=1)
    month = load_mw.index.month
    helpers = {_SUMMER: system.where(np.isin(month, (6, 7, 8)), 0.0),
               _WINTER: system.where(np.isin(month, (12, 1, 2)), 0.0)}
    peak_cols = [_SUMMER, _WINTER] + (regions if region_peaks else [])
    data = pd.concat([load_mw, pd.DataFrame(helpers)], axis=1)
    day_of = {c: data[c].idxmax().normalize() for c in peak_cols}
    distinct = sorted(set(day_of.values()))
    n_days = len(load_mw) // 24
    if not len(distinct) < k <= n_days:
        raise InputError(f"representative days: expected k from {len(distinct) + 1} (the "
                         f"{len(distinct)} peak days plus at least one typical day) to "
                         f"{n_days} (the days of the record), got {k}")
    with warnings.catch_warnings():  # tsam's float-tolerance notes on rescaled maxima
        warnings.simplefilter("ignore", UserWarning)
        result = tsam.aggregate(
            data, n_clusters=k - len(distinct), period_duration=24,
            cluster=ClusterConfig(method="hierarchical", representation="medoid"),
            extremes=ExtremeConfig(method="append", max_value=peak_cols),
            weights={c: options.min_weight for c in helpers},
            rescale_exclude_columns=list(helpers), numerical_tolerance=1e-6)
    reps = result.cluster_representatives[regions]
    counts = pd.Series(result.cluster_counts, dtype=float).sort_index()
    days = pd.DatetimeIndex(pd.date_range(load_mw.index[0].normalize(), periods=n_days,
                                          freq="D"), name="day")
    assignment = pd.Series(np.asarray(result.cluster_assignments, dtype=int), index=days,
                           name="period")
    peaks = {("system_summer" if c == _SUMMER else "system_winter" if c == _WINTER else c):
             (int(assignment[day_of[c]]), day_of[c]) for c in peak_cols}
    reps.index = reps.index.set_names(["period", "hour"])
    weight = (counts * YEAR_DAYS / counts.sum()).rename("weight_days")
    weight.index.name = "period"
    return RepresentativeDays(load_mw=reps.astype(float), weight_days=weight,
                              peak_days=peaks, assignment=assignment)
