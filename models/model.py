"""The model, assembled: the capacity model plus every layer the scenario sets.

Read :func:`build_model` as the table of contents. Layers (today the planner's
levers; later hourly operations, non-firm connections, stochastic scenarios) are
modules with ``active(d)`` and ``add(model, data)`` that add their own sets,
variables, named expressions, constraints and cost components; the objective is
added last, as the sum of every registered cost component.
"""

from __future__ import annotations

import pyomo.environ as pyo

from models import capacity
from models.capacity import CapacityInputs
from models.levers import LAYERS, describe, fleet, moratoria, onsite_tech


def index_sets(d: CapacityInputs) -> capacity.IndexSets:
    """The sparse index sets :func:`build_model` builds ``d``'s model on (three levers
    change them: an existing fleet, moratoria, and on-site power per technology, which
    replaces the generic Onsite[s,y]); known without building the model."""
    return capacity.index_sets(d, existing_fleet=fleet.existing_fleet_mw(d),
                               grid_closed_from=moratoria.closed_from(d),
                               generic_onsite=not onsite_tech.active(d))


def build_model(d: CapacityInputs) -> pyo.ConcreteModel:
    """Build the model for ``d`` as a Pyomo ``ConcreteModel`` (an LP; a MILP with lumpy
    builds).

    The model carries ``m.inputs`` (``d``), ``m.ix`` (:class:`models.capacity.IndexSets`),
    ``m.cost_components`` (name → cost ``Expression`` by year, million USD),
    ``m.report_expressions`` (the named expressions results read) and
    ``m.describe_row(name, index)`` / ``m.related_rows(rows)`` (constraints in plain
    words, for infeasibility reports).
    """
    # 1. index sets: three levers change them (an existing fleet, moratoria, on-site
    #    technologies)
    ix = index_sets(d)
    # 2. the capacity model: sets, parameters, variables, expressions, constraints (0)-(6),
    #    cost components
    m = capacity.create_model(d, ix)
    # 3. optional layers, each adding its own components and cost components
    for layer in LAYERS:
        if layer.active(d):
            layer.add(m, d)
    # 4. the objective: the sum of every registered cost component
    capacity.add_objective(m)
    m.describe_row = lambda name, index: describe.describe_row(d, name, index)
    m.related_rows = lambda rows: describe.related_rows(m, rows)
    return m
