"""The hourly layer's results (:mod:`models.levers.hours`) as labelled arrays.

Per dispatch unit (``region`` or ``site``, the scenario's ``hours.dispatch``), year,
representative day (``period``) and hour: the non-firm draw, the battery's discharge,
charge and state of charge, the flexible compute paused and the on-site cover. Days
that cannot curtail a load within the cap have no hourly variables and are NaN (nothing
is curtailed there). Beside them the days' weights and each region's hourly headroom
in the first model year.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from models.capacity import CapacityInputs
from models.levers.hours import DAY_HOURS

#: results.nc name → (Pyomo variable, units, long name).
HOURLY = {
    "hourly_nonfirm_draw_mw": ("HourlyDraw", "MW", "non-firm MW drawn in the hour"),
    "hourly_battery_discharge_mw": ("Discharge", "MW", "battery discharge in the hour"),
    "hourly_battery_charge_mw": ("Charge", "MW", "battery charge in the hour"),
    "hourly_battery_state_mwh": ("StateOfCharge", "MWh",
                                 "battery energy stored at the end of the hour"),
    "hourly_shed_mw": ("HourlyShed", "MW", "flexible compute paused in the hour (at the meter)"),
    "hourly_onsite_cover_mw": ("HourlyOnsite", "MW", "spare on-site generation run in the hour"),
}


def hourly_results(d: CapacityInputs, values: dict[str, dict[Any, float]],
                   regions: list[str], sites: list[str]
                   ) -> tuple[dict[str, tuple[str, np.ndarray]], dict[str, xr.DataArray]]:
    """Coordinates and arrays of the hourly layer's results.

    Parameters
    ----------
    d : the model instance's inputs (with ``levers.hours`` and ``levers.nonfirm``).
    values : the solution's variable values by component name and index.
    regions, sites : the results' ``region`` and ``site`` coordinates.

    Returns
    -------
    (coords, arrays) : the new coordinates ``period`` and ``hour``, and the arrays (dims
        ``region`` or ``site`` by the dispatch, ``year``, ``period``, ``hour``), each with
        ``units`` and ``long_name``.
    """
    hr, years = d.levers.hours, [int(y) for y in d.years]
    unit_dim = "region" if hr.dispatch == "region" else "site"
    names = regions if unit_dim == "region" else sites
    periods, hours = hr.periods, list(DAY_HOURS)
    coords = {"period": ("period", np.array(periods)), "hour": ("hour", np.array(hours))}
    ui = {u: i for i, u in enumerate(names)}
    yi = {y: i for i, y in enumerate(years)}
    pi = {p: i for i, p in enumerate(periods)}
    shape = (len(names), len(years), len(periods), len(hours))
    out: dict[str, xr.DataArray] = {}
    for key, (var, unit, long) in HOURLY.items():
        if not values.get(var):
            continue  # no flexible compute / no on-site generation: nothing to report
        arr = np.full(shape, np.nan)
        for (u, y, p, t), v in values[var].items():
            arr[ui[u], yi[y], pi[p], t] = v
        out[key] = xr.DataArray(arr, dims=(unit_dim, "year", "period", "hour"),
                                attrs={"units": unit, "long_name": long
                                       + f" (per {unit_dim}; NaN = not operated: no non-firm "
                                       "draw there or a day that never curtails)"})
    ri = {r: i for i, r in enumerate(regions)}
    head = np.full((len(regions), len(periods), len(hours)), np.nan)
    for (r, p, t), v in hr.headroom_mw.items():
        if r in ri:
            head[ri[r], pi[p], t] = v
    out["hourly_headroom_mw"] = xr.DataArray(
        head, dims=("region", "period", "hour"),
        attrs={"units": "MW", "long_name": "headroom for non-firm draw in the hour, first "
               "model year: threshold less the representative day's background load"})
    out["period_weight_days"] = xr.DataArray(
        np.array([hr.weight_days[p] for p in periods]), dims=("period",),
        attrs={"units": "d", "long_name": "days of the model year a representative day "
               "stands for (sums to 365)"})
    return coords, out
