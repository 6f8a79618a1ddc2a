"""Shocks of a stress run, composed into per-year factors on demand, prices and contracts,
slipped queue years and default dates."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sites.portfolio import Shock


@dataclass
class ShockPlan:
    """All shocks of a run, composed. Same-kind shocks compound (factors multiply,
    slips add); a party named in several default shocks defaults at the earliest."""

    shocks: list[Shock]

    def _of(self, kind: str) -> list[Shock]:
        return sorted((s for s in self.shocks if s.kind == kind), key=lambda s: s.start_year)

    def demand_factor(self, year: int) -> float:
        """Π (1 + m) over demand shocks started by ``year``."""
        return float(np.prod([1.0 + s.magnitude for s in self._of("demand")
                              if year >= s.start_year]))

    def demand_multiplier(self, years: list[int]) -> pd.Series | None:
        """Demand multiplier by year for re-solving the capacity scenario (None = no shock)."""
        if not self._of("demand"):
            return None
        return pd.Series([self.demand_factor(y) for y in years], index=years)

    def power_factor(self, year: int) -> float:
        """Π (1 + m) over power-price shocks started by ``year``."""
        return float(np.prod([1.0 + s.magnitude for s in self._of("power_price")
                              if year >= s.start_year]))

    def contract_factor(self, contract_start: int, year: int, gpu: bool) -> float:
        """Price factor of a contract signed in ``contract_start``, paid in ``year``.

        Lease-rate shocks reprice contracts that start in or after the shock year
        (× (1 + m)); obsolescence prices a GPU owner's contract signed k ≥ 0 years after
        the shock at (1 − m)^(k + 1), fixed for its term.
        """
        f = 1.0
        for s in self._of("lease_rate"):
            if contract_start >= s.start_year and year >= s.start_year:
                f *= 1.0 + s.magnitude
        if gpu:
            for s in self._of("obsolescence"):
                if contract_start >= s.start_year:
                    f *= (1.0 - s.magnitude) ** (contract_start - s.start_year + 1)
        return f

    def relet_factor(self, year: int, gpu: bool) -> float:
        """Factor on re-let rates: × (1 + m) for lease-rate shocks started by ``year``;
        for GPU owners × (1 − m)^(year − start + 1) for obsolescence shocks.

        A re-let is priced as a contract signed in ``year``.
        """
        return self.contract_factor(year, year, gpu)

    def refinancing_add(self, year: int) -> float:
        """Σ m over refinancing shocks started by ``year``: added to the rate of debt
        refinanced in ``year`` (0.03 = +300 bp)."""
        return float(sum(s.magnitude for s in self._of("refinancing") if year >= s.start_year))

    def queue_year(self, queue_year: float) -> float:
        """A site's grid energization year after interconnection slips: each slip with
        start ≤ the (slipped) queue year adds its years."""
        if queue_year is None or (isinstance(queue_year, float) and math.isnan(queue_year)):
            return queue_year
        q = float(queue_year)
        for s in self._of("interconnect"):
            if q >= s.start_year:
                q += s.magnitude
        return q

    def defaults(self) -> dict[str, tuple[int, float]]:
        """target → (default year, loss given default)."""
        out: dict[str, tuple[int, float]] = {}
        for s in self._of("default"):
            t = str(s.target)
            if t not in out or s.start_year < out[t][0]:
                out[t] = (s.start_year, s.magnitude)
            elif s.start_year == out[t][0]:
                out[t] = (s.start_year, max(out[t][1], s.magnitude))
        return out
