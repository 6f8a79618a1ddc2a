"""Lever "moratoria" (scenario key ``moratoria``): no new grid connections in a region.

It adds no component: grid[s,y] does not exist for r(s) under a moratorium and
y ≥ from_year (left out of ``GRID_SY``). No row and no dual.
"""

from __future__ import annotations

from models.capacity import CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario sets a moratorium."""
    return d.levers is not None and bool(d.levers.moratoria)


def closed_from(d: CapacityInputs) -> dict[str, int]:
    """Region → first year without new grid connections (empty without the lever)."""
    return dict(d.levers.moratoria) if active(d) else {}
