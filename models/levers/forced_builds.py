"""Lever "forced builds" (L5b, scenario key ``forced_builds``): a signed campus."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario forces a build."""
    return d.levers is not None and bool(d.levers.forced_builds)


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``FORCED_K`` and ``Forced_Build``."""
    forced = d.levers.forced_builds
    m.FORCED_K = pyo.Set(initialize=list(range(len(forced))), ordered=True)

    def forced_build_rule(m: Any, i: int) -> Any:
        """(L5b) build[s_i, y_i] ≥ build_mw_i   (= build_mw_i when exact)."""
        f = forced[i]
        if f.exact:
            return m.Build[f.site, f.year] == f.build_mw
        return m.Build[f.site, f.year] >= f.build_mw

    m.Forced_Build = pyo.Constraint(m.FORCED_K, rule=forced_build_rule,
                                    doc=forced_build_rule.__doc__)
