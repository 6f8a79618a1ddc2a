"""Compute demand paths (H100-equivalents of dense-BF16 throughput per year)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from grids.tables import Column, InputError, TableSchema, read_table

DEMAND = TableSchema(
    name="demand",
    description="An explicit compute demand path.",
    key=("year",),
    columns=(
        Column("year", "int", "year", "calendar year", minimum=1900, maximum=2300),
        Column("demand_h100e", "float", "H100e", "compute demand", minimum=0),
    ),
)


def growth_path(base_h100e: float, growth: Sequence[float], years: Sequence[int]) -> pd.Series:
    """Demand in the first year is ``base_h100e``; each later year multiplies
    the previous by the next value of ``growth``, the last value repeating.

    Examples
    --------
    >>> growth_path(10.0, [2.0, 1.5], [2026, 2027, 2028, 2029]).tolist()
    [10.0, 20.0, 30.0, 45.0]
    """
    if not len(growth):
        raise ValueError("growth needs at least one multiplier")
    n = len(years)
    mult = [growth[min(i, len(growth) - 1)] for i in range(n - 1)]
    values = base_h100e * np.concatenate(([1.0], np.cumprod(mult)))
    return pd.Series(values, index=pd.Index(list(years), name="year"), name="demand_h100e")


def load_demand_path(path: str | Path, years: Sequence[int]) -> pd.Series:
    """Demand from a ``year, demand_h100e`` table; every model year required."""
    df = read_table(path, DEMAND)
    have = set(df["year"].tolist())
    missing = [y for y in years if y not in have]
    if missing:
        raise InputError(f"no demand for model year {missing[0]} (every year "
                         f"{years[0]}–{years[-1]} is needed)", file=path, column="year")
    s = df.set_index("year")["demand_h100e"].astype(float)
    out = s.loc[list(years)]
    out.index.name = "year"
    out.name = "demand_h100e"
    return out


def elastic_blocks(
    reference_h100e: pd.Series,
    elasticity: float,
    reference_price_usd_per_h100e_year: float,
    max_price_usd_per_h100e_year: float,
    min_price_usd_per_h100e_year: float,
    n_blocks: int = 8,
) -> pd.DataFrame:
    r"""Blocks of a constant-elasticity demand curve around the reference path.

    Demand at price p in year y: Q_y(p) = Q_ref,y · (p / p_ref)^(−ε). Prices
    p_0 > p_1 > … > p_{n−1} are spaced geometrically from ``max_price`` (p_0,
    the value of unserved demand) down to ``min_price``. Block 0 holds
    Q_y(p_0), everything willing to pay at least p_0, valued at p_0; block k
    holds Q_y(p_k) − Q_y(p_{k−1}), valued at the geometric mean of its two
    prices. The LP serves each block whose value exceeds the marginal cost of
    compute. With ε = 0 there is one block per year, Q_ref valued at p_0:
    exactly the inelastic model.

    Parameters
    ----------
    reference_h100e : reference demand by year (demand at p_ref).
    elasticity : ε ≥ 0 (ε > 1: cheaper compute raises total spend — Jevons).
    reference_price_usd_per_h100e_year : p_ref.
    max_price_usd_per_h100e_year : p_0 (> p_ref), the value of unserved demand.
    min_price_usd_per_h100e_year : p_{n−1} (< p_ref), where the curve is cut.
    n_blocks : number of blocks per year (≥ 2 when ε > 0).

    Returns
    -------
    DataFrame with columns ``year, block, size_h100e, value_usd_per_h100e_year``.

    Examples
    --------
    >>> ref = pd.Series([100.0], index=[2026])
    >>> b = elastic_blocks(ref, 1.0, 10.0, 20.0, 5.0, n_blocks=3)
    >>> b["size_h100e"].round(2).tolist(), b["value_usd_per_h100e_year"].round(2).tolist()
    ([50.0, 50.0, 100.0], [20.0, 14.14, 7.07])
    >>> len(elastic_blocks(ref, 0.0, 10.0, 20.0, 5.0))
    1
    """
    p_ref = reference_price_usd_per_h100e_year
    p_hi, p_lo = max_price_usd_per_h100e_year, min_price_usd_per_h100e_year
    if elasticity < 0:
        raise ValueError("elasticity must be >= 0")
    if not p_lo < p_ref < p_hi:
        raise ValueError("need min price < reference price < max price (value of unserved)")
    years = [int(y) for y in reference_h100e.index]
    q_ref = reference_h100e.to_numpy(dtype=float)
    if elasticity == 0:
        return pd.DataFrame({"year": years, "block": 0, "size_h100e": q_ref,
                             "value_usd_per_h100e_year": p_hi})
    if n_blocks < 2:
        raise ValueError("an elastic curve needs at least 2 blocks")
    prices = np.geomspace(p_hi, p_lo, n_blocks)
    cum = (prices / p_ref) ** (-elasticity)  # Q(p_k) / Q_ref
    share = np.diff(np.concatenate(([0.0], cum)))
    values = np.concatenate(([p_hi], np.sqrt(prices[:-1] * prices[1:])))
    rows = [
        (y, k, q * share[k], values[k])
        for y, q in zip(years, q_ref) for k in range(n_blocks)
    ]
    return pd.DataFrame(rows, columns=["year", "block", "size_h100e", "value_usd_per_h100e_year"])


@dataclass(frozen=True)
class Preset:
    """A named demand path: first-year demand, yearly growth, its sources."""

    name: str
    base_h100e: float
    growth: tuple[float, ...]
    description: str
    sources: str


_BASE_H100E = 1.2e7  # calibrated in the us-base scenario (README, Calibration)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "base", _BASE_H100E, (2.2, 1.9, 1.7, 1.6, 1.6, 1.6, 1.6, 1.55, 1.5, 1.45, 1.4),
            "the us-base path: all US datacenters (AI + the non-AI baseline) 338 TWh (2028), "
            "427 TWh (2030), 110 GW (2035); growth 1.6 = 1.35 efficiency x ~1.19 load a year "
            "to 2033, 1.4 from 2036",
            "calibrated on the us-base plan with every market layer on (docs/calibration.md) to "
            "LBNL Dec 2024 (325-580 TWh in 2028), IEA Energy and AI 2025 (US ~426 TWh in 2030) "
            "and BNEF Dec 2025 (US datacenter demand 106 GW by 2035), all in "
            "models/data/calibration_points.csv; the slowing after 2035 is an assumption",
        ),
        Preset(
            "jevons", _BASE_H100E, (4.5, 4.0, 3.0, 2.5, 2.0, 1.7, 1.5, 1.4, 1.3, 1.25),
            "compute demand grows 4-5x a year early (agentic AI scales after 2027) and slows "
            "to 1.25x by the late 2030s",
            "public reporting 2026 (market_facts.md): AI compute demand 4-5x per year; "
            "efficiency gains raise total demand (10x cheaper -> 20x volume); OpenRouter tokens "
            "10T (2024) -> 100T (mid-2025)",
        ),
        Preset(
            "deflation", _BASE_H100E, (1.8, 1.5, 1.3, 1.2, 1.15, 1.1),
            "efficiency outpaces demand: growth below the 1.35x/yr efficiency gain from 2029",
            "market_facts.md scenario narrative 'Deflation'; inference cost per token -30 to "
            "-50 %/yr (2026 reporting)",
        ),
        Preset(
            "capex-retrenchment", _BASE_H100E, (2.2, 1.3, 1.2, 1.15, 1.1),
            "AI revenue lags capex (~6 %: $25B on $400B+), guidance is cut in late 2026 and "
            "growth slows sharply from 2027",
            "market_facts.md: AI revenue vs capex ~6 %; capex 94 % of operating cash flow "
            "(BofA 2026); scenario narrative 'Capex retrenchment' (watch Q3-Q4 2026)",
        ),
    )
}


def preset_path(name: str, years: Sequence[int]) -> pd.Series:
    """Demand path of a named preset over ``years``.

    Examples
    --------
    >>> preset_path("jevons", [2026, 2027, 2028]).tolist()
    [12000000.0, 54000000.0, 216000000.0]
    """
    if name not in PRESETS:
        raise KeyError(f"unknown demand preset '{name}' (known: {', '.join(PRESETS)})")
    p = PRESETS[name]
    return growth_path(p.base_h100e, p.growth, years)
