"""The hourly layer's data: representative days and their hourly headroom per region.

``hours: {days: K}`` in a scenario (with ``nonfirm:``) operates the non-firm connections
hour by hour on K representative days (:mod:`models.levers.hours`). This module turns
the scenario's hourly load (``hourly_load:``, else the bundled record) into
:class:`models.levers.Hours`: the days and their weights from
:func:`grids.repdays.representative_days` (tsam, the system's summer and winter peak
days kept), and per region, day and hour the headroom q = max(0, T − L): the seasonal
threshold of :mod:`planner.inputs.headroom` (highest summer / winter load of the record)
less the representative day's load. A representative day stands for days of both
seasons when its cluster mixes them; its threshold is then the mean of the days'
thresholds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from grids.repdays import representative_days
from models.levers.data import Hours
from planner.inputs.headroom import SUMMER_SEASON_MONTHS, RegionCurve

#: The dispatch units of the hourly layer (``hours.dispatch``).
DISPATCH = ("region", "site")


def hours_data(load_mw: pd.DataFrame, curves: dict[str, RegionCurve], days: int,
               dispatch: str = "region") -> Hours:
    """:class:`models.levers.Hours` from an hourly table and its regions' curves.

    Parameters
    ----------
    load_mw : validated hourly table (:func:`grids.hourly.load_hourly`), MW; its columns
        are the regions with hourly load.
    curves : :func:`planner.inputs.headroom.region_curves` of the same table (thresholds).
    days : K, the representative days (peak days included).
    dispatch : ``"region"`` (zonal) or ``"site"``.

    Raises
    ------
    grids.tables.InputError
        When ``days`` does not fit the record (:func:`grids.repdays.representative_days`).

    Examples
    --------
    >>> t = pd.date_range("2023-01-01", periods=8760, freq="h")
    >>> load = pd.DataFrame({"R": np.where(t.hour.isin([16, 17, 18, 19]), 210.0, 200.0)},
    ...                     index=t)
    >>> h = hours_data(load, {"R": RegionCurve.from_load("R", load["R"])}, 3)
    >>> round(sum(h.weight_days.values()), 9), [h.headroom_mw["R", 0, t] for t in (15, 16)]
    (365.0, [10.0, 0.0])
    """
    rd = representative_days(load_mw, days)
    summer_day = np.isin(rd.assignment.index.month, SUMMER_SEASON_MONTHS)
    share_summer = pd.Series(summer_day, index=rd.assignment.index).groupby(
        rd.assignment.to_numpy()).mean()
    headroom: dict[tuple[str, int, int], float] = {}
    for r in load_mw.columns:
        c = curves[str(r)]
        for (p, t), load in rd.load_mw[r].items():
            s = float(share_summer.get(p, 0.0))
            threshold = s * c.summer_threshold_mw + (1.0 - s) * c.winter_threshold_mw
            headroom[str(r), int(p), int(t)] = max(0.0, threshold - float(load))
    return Hours(dispatch=dispatch,
                 weight_days={int(p): float(w) for p, w in rd.weight_days.items()},
                 headroom_mw=headroom,
                 peak_days={k: (int(p), str(day.date())) for k, (p, day) in rd.peak_days.items()})
