"""The distributions of a grid file's ``distributions:`` and its evenly spaced
values ``{start, stop, num}``."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from grids.yamlfile import StrictModel


class Uniform(StrictModel):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Uniform:
        if not self.high > self.low:
            raise ValueError(f"high ({self.high}) must be > low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.uniform(self.low, self.high))


class Normal(StrictModel):
    """Normal(mean, sd), clipped to [low, high] when given."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    def draw(self, rng: np.random.Generator) -> float:
        return _clip(float(rng.normal(self.mean, self.sd)), self.low, self.high)


class LogNormal(StrictModel):
    """median · exp(sigma · z), z standard normal; clipped to [low, high] when given."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(gt=0)
    low: float | None = None
    high: float | None = None

    def draw(self, rng: np.random.Generator) -> float:
        return _clip(float(self.median * math.exp(self.sigma * rng.normal())), self.low,
                     self.high)


class Triangular(StrictModel):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _order(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.triangular(self.low, self.mode, self.high))


class Integers(StrictModel):
    """Whole numbers low … high, both included, equally likely."""

    dist: Literal["integers"]
    low: int
    high: int

    @model_validator(mode="after")
    def _order(self) -> Integers:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))


class Choice(StrictModel):
    """One of ``values`` (any YAML value, e.g. a preset name or a list of shocks)."""

    dist: Literal["choice"]
    values: list[Any] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        w = self.weights
        if w is not None and (len(w) != len(self.values) or min(w) < 0 or sum(w) <= 0):
            raise ValueError("weights: one weight >= 0 per value, not all 0")
        return self

    def draw(self, rng: np.random.Generator) -> Any:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        return self.values[int(rng.choice(len(self.values), p=p))]


Distribution = Annotated[Uniform | Normal | LogNormal | Triangular | Integers | Choice,
                         Field(discriminator="dist")]
NUMERIC_DISTS = (Uniform, Normal, LogNormal, Triangular, Integers)


def _clip(v: float, low: float | None, high: float | None) -> float:
    if low is not None:
        v = max(v, low)
    if high is not None:
        v = min(v, high)
    return v


class Linspace(StrictModel):
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included)."""

    start: float
    stop: float
    num: int = Field(ge=2, le=10_000)

    def values(self) -> list[float]:
        return [float(v) for v in np.linspace(self.start, self.stop, self.num)]
