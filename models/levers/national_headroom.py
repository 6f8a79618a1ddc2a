"""Layer "national headroom" (L6c, scenario key ``firm_headroom``'s ``US`` rows).

The most new grid MW energized over all regions together in a year
(``grids/data/headroom.csv``, region ``US``), beside each region's constraint (5):

    (L6c) Σ_s grid[s,y] ≤ national_headroom[y].

Its dual is the value of one more MW of national firm grid access in the year.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario sets a national headroom."""
    return d.levers is not None and bool(d.levers.national_headroom_mw)


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``NATIONAL_Y`` and ``Grid_Headroom_National``."""
    ix = m.ix
    grid_in: dict[int, list[str]] = {}
    for s, y in ix.grid_sy:
        grid_in.setdefault(y, []).append(s)
    limit = d.levers.national_headroom_mw
    ys = [y for y in ix.years if y in limit and grid_in.get(y)]
    m.NATIONAL_Y = pyo.Set(initialize=ys, ordered=True)

    def national_rule(m: Any, y: int) -> Any:
        """(L6c) Σ_s grid[s,y] ≤ national_headroom[y]."""
        return sum(m.Grid[s, y] for s in grid_in[y]) <= limit[y]

    m.Grid_Headroom_National = pyo.Constraint(m.NATIONAL_Y, rule=national_rule,
                                              doc=national_rule.__doc__)
