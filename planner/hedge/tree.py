"""The scenario tree of a hedged plan: one :class:`Scenario` per future, and the mean future."""

from __future__ import annotations

import dataclasses
import numbers
from dataclasses import dataclass
from typing import Any

import pandas as pd

from grids.tables import InputError
from models.stochastic import Tree
from planner.inputs.scenario import Scenario
from planner.inputs.uncertainty import Uncertainty
from planner.sweep.apply import apply_params
from planner.sweep.parameters import DERIVED, describe_parameter

#: The value a derived parameter has when a scenario leaves it out.
NEUTRAL = {"price_escalation_shift_per_year": 0.0}


@dataclass
class ScenarioTree:
    """The futures of a hedged plan, each a full scenario, and how they are revealed."""

    base: Scenario
    spec: Uncertainty
    scenarios: dict[str, Scenario]
    tree: Tree

    @property
    def names(self) -> list[str]:
        return list(self.scenarios)

    def expected_value_scenario(self) -> Scenario:
        """The mean future (for EEV): numeric overrides at their probability-weighted mean,
        demand at the probability-weighted mean of the futures' demand paths.

        Text overrides (a demand preset) enter only through the mean demand path.
        """
        p = self.tree.probability
        keys = sorted({k for s in self.spec.scenarios.values() for k in s.overrides})
        mean: dict[str, Any] = {}
        for key in keys:
            values = [self.spec.scenarios[n].overrides.get(key, _base_value(self.base, key))
                      for n in self.names]
            if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
                m = sum(p[n] * float(v) for n, v in zip(self.names, values))
                if all(isinstance(v, numbers.Integral) for v in values):
                    m = int(m + 0.5)
                mean[key] = m
        ev = apply_params(self.base, mean) if mean else self.base
        demand = sum(p[n] * self.scenarios[n].demand_h100e for n in self.names)
        spec = ev.spec.model_copy(update={"name": f"{self.base.name}-expected-value"})
        return dataclasses.replace(ev, spec=spec, demand_h100e=pd.Series(demand, dtype=float))


def _base_value(base: Scenario, key: str) -> Any:
    """The base scenario's value of a parameter (``None`` where it has no single value)."""
    if key in DERIVED:
        return NEUTRAL.get(key, 1.0)
    node: Any = base.spec.model_dump()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            break
        node = node[part]
    else:
        return node
    parts = key.split(".")
    if parts[0] in ("regions", "sites") and len(parts) >= 3 and parts[1] != "*":
        table = base.regions if parts[0] == "regions" else base.sites
        target, column = ".".join(parts[1:-1]), parts[-1]
        if column in DERIVED:
            return NEUTRAL.get(column, 1.0)
        if target in table.index and column in table.columns:
            v = table.at[target, column]
            return v.item() if hasattr(v, "item") else v
    return None


def build_tree(base: Scenario) -> ScenarioTree:
    """Every future of ``base``'s ``uncertainty:`` section as a scenario.

    Raises
    ------
    InputError
        No ``uncertainty:`` section; an override the sweep does not know; a future whose
        years differ from the base (all futures share one horizon).
    """
    u = base.spec.uncertainty
    where = f"{base.path}: " if base.path is not None else ""
    if u is None:
        raise InputError(f"{where}no uncertainty: section (docs/hedge.md shows one)")
    years = base.years
    bad = [r for r in u.reveal_years if not years[0] <= r <= years[-1]]
    if bad:
        raise InputError(f"{where}uncertainty.reveal_year {bad[0]} is outside the scenario's "
                         f"years {years[0]}–{years[-1]}")
    scenarios: dict[str, Scenario] = {}
    for name, s in u.scenarios.items():
        for key in s.overrides:
            if key == "stress.shocks" or key.startswith("years."):
                raise InputError(f"{where}uncertainty.scenarios.{name}.overrides: {key} cannot "
                                 "differ between futures (one horizon, no stress shocks)")
            try:
                describe_parameter(key, base)
            except ValueError as exc:
                raise InputError(f"{where}uncertainty.scenarios.{name}.overrides.{key}: "
                                 f"{exc}") from None
        try:
            sc = apply_params(base, dict(s.overrides))
        except InputError as exc:
            raise InputError(f"{where}uncertainty.scenarios.{name}.overrides: {exc}") from None
        spec = sc.spec.model_copy(update={"name": f"{base.name}-{name}"})
        scenarios[name] = dataclasses.replace(sc, spec=spec)
    tree = Tree(probability={k: s.probability for k, s in u.scenarios.items()},
                path={k: u.path_of(k) for k in u.scenarios}, reveal_years=u.reveal_years)
    return ScenarioTree(base=base, spec=u, scenarios=scenarios, tree=tree)
