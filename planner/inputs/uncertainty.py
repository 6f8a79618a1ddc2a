"""The ``uncertainty:`` section of a scenario file: the futures a hedged plan must serve.

A two-stage tree names scenarios, each a probability and overrides written as the sweep's
dotted parameter paths (``docs/sweep.md``), and the year in which the future is revealed::

    uncertainty:
      reveal_year: 2029
      scenarios:
        base:   {probability: 0.6, overrides: {demand.preset: base}}
        jevons: {probability: 0.4, overrides: {demand.preset: jevons}}

A multi-stage tree gives several reveal years and, per scenario, its ``path``: the branch it
takes at each reveal year. Scenarios whose paths agree up to a reveal year cannot be told
apart before it, so what they commit before it is the same::

    uncertainty:
      reveal_year: [2028, 2031]
      scenarios:
        boom_boom: {probability: 0.25, path: [boom, boom], overrides: {...}}
        boom_bust: {probability: 0.25, path: [boom, bust], overrides: {...}}
        ...

``risk`` adds λ·CVaR_α of the scenario costs to the expected cost (Rockafellar–Uryasev);
λ = 0, the default, is risk-neutral.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from grids.yamlfile import StrictModel

#: Probabilities must sum to 1 within this tolerance.
PROBABILITY_TOLERANCE = 1e-6
#: Most scenarios one tree may hold (each is a copy of the whole model).
MAX_SCENARIOS = 64
#: A future's name also names its output folder.
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")


class UncertainScenario(StrictModel):
    """One future: its probability, its branch per reveal year, and what it changes."""

    probability: float = Field(gt=0, le=1, description="probability of this future (> 0)")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description="sweep parameters (dotted paths, docs/sweep.md) "
        "this future sets, e.g. {demand.preset: jevons}")
    path: list[str] | None = Field(
        default=None, min_length=1, description="multi-stage trees: the branch taken at each "
        "reveal year (default: the scenario's own name at every reveal year)")


class Risk(StrictModel):
    """λ·CVaR_α of the scenario costs, added to the expected cost."""

    cvar_alpha: float = Field(default=0.9, ge=0, lt=1, description="CVaR level α: the mean "
                              "of the worst (1 − α) share of outcomes")
    weight: float = Field(default=0.0, ge=0, le=1e3, description="λ, the weight of CVaR in "
                          "the objective (0 = risk-neutral)")


class Uncertainty(StrictModel):
    """The ``uncertainty:`` section (``dcplan hedge``)."""

    reveal_year: int | list[int] = Field(
        description="year(s) in which the future is revealed; what is committed before a "
        "reveal year is the same in every future not yet told apart")
    scenarios: dict[str, UncertainScenario] = Field(
        min_length=1, description="named futures, each {probability, overrides, path}")
    risk: Risk = Field(default_factory=Risk, description="optional λ·CVaR_α term")

    @field_validator("reveal_year")
    @classmethod
    def _years(cls, v: int | list[int]) -> int | list[int]:
        years = [v] if isinstance(v, int) else list(v)
        if not years:
            raise ValueError("give at least one reveal year")
        if any(isinstance(y, bool) or not 1900 <= y <= 2300 for y in years):
            raise ValueError("reveal years must be calendar years (1900–2300)")
        if years != sorted(set(years)):
            raise ValueError(f"reveal years must increase, got {years}")
        return v

    @model_validator(mode="after")
    def _tree(self) -> Uncertainty:
        for name in self.scenarios:
            if not NAME.match(name):
                raise ValueError(f"scenario name {name!r}: use letters, digits, _ . - "
                                 "(it names an output folder)")
        if len(self.scenarios) > MAX_SCENARIOS:
            raise ValueError(f"{len(self.scenarios)} scenarios: at most {MAX_SCENARIOS}")
        total = math.fsum(s.probability for s in self.scenarios.values())
        if abs(total - 1.0) > PROBABILITY_TOLERANCE:
            raise ValueError(f"scenario probabilities must sum to 1, got {total:.6g}")
        n = len(self.reveal_years)
        for name, s in self.scenarios.items():
            if s.path is not None and len(s.path) != n:
                raise ValueError(f"scenario {name}: path has {len(s.path)} branch(es) but "
                                 f"there are {n} reveal year(s)")
        paths = [tuple(self.path_of(k)) for k in self.scenarios]
        if len(set(paths)) != len(paths):
            raise ValueError("two scenarios take the same path: futures never told apart "
                             "must be one scenario")
        return self

    @property
    def reveal_years(self) -> list[int]:
        """The reveal years, ascending."""
        return [self.reveal_year] if isinstance(self.reveal_year, int) else list(
            self.reveal_year)

    def path_of(self, name: str) -> list[str]:
        """Scenario ``name``'s branch at each reveal year."""
        s = self.scenarios[name]
        return list(s.path) if s.path is not None else [name] * len(self.reveal_years)
