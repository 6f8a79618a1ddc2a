"""Lever "lumpy builds" (L1, scenario keys ``build_block_mw``, ``grid_block_mw``): a MILP.

Builds and grid connections come in whole blocks: integer ``NBuild``/``NGrid`` and the
equalities ``Build_Blocks`` and ``Grid_Blocks``. No dual: the duals of a MILP come
from the LP with the integers fixed (:func:`planner.optimize.highs.solve_lp`).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario sets block sizes."""
    return d.levers is not None and d.levers.integer


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``BUILD_BLOCK_SY``/``NBuild``/``Build_Blocks`` and ``GRID_BLOCK_SY``/``NGrid``/
    ``Grid_Blocks`` for the sites with a block size."""
    lv, ix = d.levers, m.ix
    build_sy = [(s, y) for s in ix.sites if s in lv.build_block_mw for y in ix.years]
    grid_sy = [(s, y) for s, y in ix.grid_sy if s in lv.grid_block_mw]
    if build_sy:
        m.BUILD_BLOCK_SY = pyo.Set(dimen=2, initialize=build_sy, ordered=True)
        m.build_block_mw = pyo.Param(m.SITES, initialize=lambda m, s: lv.build_block_mw.get(
            s, 0.0), doc="facility block size, MW")
        m.NBuild = pyo.Var(m.BUILD_BLOCK_SY, domain=pyo.NonNegativeIntegers,
                           doc="facility blocks completed at s in y (integer)")

        def build_blocks_rule(m: Any, s: str, y: int) -> Any:
            """(L1a) build[s,y] = block_s · nbuild[s,y], nbuild[s,y] ∈ {0, 1, 2, …}."""
            return m.Build[s, y] - m.build_block_mw[s] * m.NBuild[s, y] == 0

        m.Build_Blocks = pyo.Constraint(m.BUILD_BLOCK_SY, rule=build_blocks_rule,
                                        doc=build_blocks_rule.__doc__)
    if grid_sy:
        m.GRID_BLOCK_SY = pyo.Set(dimen=2, initialize=grid_sy, ordered=True)
        m.grid_block_mw = pyo.Param(m.SITES, initialize=lambda m, s: lv.grid_block_mw.get(
            s, 0.0), doc="grid-connection block size, MW")
        m.NGrid = pyo.Var(m.GRID_BLOCK_SY, domain=pyo.NonNegativeIntegers,
                          doc="grid-connection blocks energized at s in y (integer)")

        def grid_blocks_rule(m: Any, s: str, y: int) -> Any:
            """(L1b) grid[s,y] = gridblock_s · ngrid[s,y], ngrid[s,y] ∈ {0, 1, 2, …}."""
            return m.Grid[s, y] - m.grid_block_mw[s] * m.NGrid[s, y] == 0

        m.Grid_Blocks = pyo.Constraint(m.GRID_BLOCK_SY, rule=grid_blocks_rule,
                                       doc=grid_blocks_rule.__doc__)
