"""Which site duals are values: blank the ones a degenerate vertex makes up.

At a degenerate optimum (several constraints tight at once) the LP's dual of a
row is one of many; it then says nothing about what one more unit of the
row's right-hand side is worth. For constraint 3 (grid connection at a site)
``dcplan`` reports the dual only where one more MW of grid could actually be
used at the site in that year, so that the dual is the rate at which the
objective falls (the finite-difference check agrees), or where the connection
is not full (the dual is then 0, and one more MW is indeed worth nothing):

* the site carries load in the year (a site without a hall or without load
  gains nothing from a connection it cannot use), and
* the extra MW has somewhere to go: it can replace on-site generation (the
  site has on-site load) or feed more IT (the facility has room for more load,
  or is below its ``max_mw`` ceiling so a hall can grow with it).

Elsewhere the value is left blank (NaN) and never sets a regional figure.
"""

from __future__ import annotations

import numpy as np

#: MW below which a load, a slack or a margin counts as zero.
TOL_MW = 1e-6


def usable_grid_mw(grid_load_mw: np.ndarray, onsite_load_mw: np.ndarray,
                   facility_mw: np.ndarray, max_mw: np.ndarray,
                   grid_capacity_mw: np.ndarray) -> np.ndarray:
    """site × year booleans: the grid-access dual there is a value.

    True where the connection is not full (the row has slack: the dual is 0 and one
    more MW is worth exactly nothing), or where one more MW could be used (the
    site carries load, and the MW can replace on-site load or feed more IT).

    Parameters
    ----------
    grid_load_mw, onsite_load_mw, facility_mw, grid_capacity_mw : site × year arrays, MW
        Load served from the grid and on site, facility capacity in service, grid
        connection energized.
    max_mw : site array, MW
        The site's ceiling (NaN or inf = none).

    Examples
    --------
    >>> usable_grid_mw(np.array([[5.0], [5.0], [0.0], [0.0]]),
    ...                np.array([[0.0], [1.0], [0.0], [0.0]]),
    ...                np.array([[5.0], [6.0], [0.0], [9.0]]), np.array([5.0, 6.0, 10.0, 9.0]),
    ...                np.array([[5.0], [5.0], [0.0], [3.0]]))[:, 0].tolist()
    [False, True, False, True]
    """
    load = grid_load_mw + onsite_load_mw
    ceiling = np.nan_to_num(np.asarray(max_mw, dtype=float), nan=np.inf)[:, None]
    room = (facility_mw - load > TOL_MW) | (facility_mw < ceiling - TOL_MW)
    slack = grid_capacity_mw - grid_load_mw > TOL_MW
    return slack | ((load > TOL_MW) & ((onsite_load_mw > TOL_MW) | room))


def trusted(value: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """``value`` where ``usable``, NaN elsewhere (``-0.0`` becomes ``0.0``)."""
    return np.where(usable, value + 0.0, np.nan)


def region_max(value: np.ndarray, site_region: np.ndarray, regions: list) -> np.ndarray:
    """region × year: the largest trusted site value of each region (NaN where none)."""
    out = np.full((len(regions), value.shape[1]), np.nan)
    for i, r in enumerate(regions):
        members = value[site_region == r]
        if len(members):
            has = ~np.isnan(members).all(axis=0)
            out[i, has] = np.nanmax(members[:, has], axis=0)
    return out
