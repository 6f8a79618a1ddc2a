"""Market parameters: the value of unserved compute, idle-hall O&M, islanded reserve.

``models/data/market_parameters.csv`` holds single sourced numbers (with
unit and basis) the next model layers read by name, e.g.
``unserved_value_multiple`` — the value of unserved compute as a multiple
of the lifetime rent of the newest chip (:func:`value_of_unserved`,
:func:`newest_chip_levelized_usd_per_h100e_year` with ``frontier_growth``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from grids.tables import Column, InputError, TableSchema, check_choice, read_table
from models.capacity import crf

MARKET_PARAMETERS = TableSchema(
    name="market_parameters",
    description="Single sourced market numbers, by name.",
    key=("parameter",),
    columns=(
        Column("parameter", "str", "-", "parameter name"),
        Column("value", "float", "unit", "its value"),
        Column("unit", "str", "-", "its unit (1 = a plain number)"),
        Column("basis", "str", "-", "estimate, derived or assumption"),
    ),
)

BASES = ("estimate", "derived", "assumption")

#: Parameters the bundled table must have (the next model layers read them).
REQUIRED = ("unserved_value_multiple", "facility_fixed_om_usd_per_mw_year",
            "islanded_reserve_fraction", "us_share_of_ai_compute")

DATA = resources.files("models") / "data"


def default_parameters_path() -> Path:
    return Path(str(DATA / "market_parameters.csv"))


def load_parameters(path: str | Path | None = None) -> pd.DataFrame:
    """The parameter table, validated; indexed by ``parameter``.

    Examples
    --------
    >>> p = load_parameters()
    >>> str(p.loc["facility_fixed_om_usd_per_mw_year", "unit"])
    'USD/(MW·year)'
    """
    path = Path(path) if path is not None else default_parameters_path()
    df = read_table(path, MARKET_PARAMETERS)
    check_choice(df, "basis", BASES, path)
    missing = [p for p in REQUIRED if p not in set(df["parameter"])]
    if missing:
        raise InputError(f"missing parameter(s) {', '.join(missing)}", file=path,
                         column="parameter")
    df.attrs["path"] = str(path)
    return df.set_index("parameter", drop=False)


def value_of_unserved(levelized_usd_per_h100e_year: pd.Series,
                      parameters: pd.DataFrame) -> pd.Series:
    """Value of unserved compute per year, USD/H100e-year: the multiple × the
    levelized cost of the newest chip on sale that year.

    Examples
    --------
    >>> p = pd.DataFrame({"value": [1.5]}, index=["unserved_value_multiple"])
    >>> value_of_unserved(pd.Series([1000.0], index=[2030]), p).tolist()
    [1500.0]
    """
    k = float(parameters.loc["unserved_value_multiple", "value"])
    return (k * levelized_usd_per_h100e_year).rename("value_of_unserved_usd_per_h100e_year")


def rent_tilt(rate: float, frontier_growth: float, life_years: int) -> float:
    """How much higher the first year's rent must be when rents fall with the frontier.

    A chip that costs K is repaid at rate ρ by a flat rent K·CRF(ρ, ℓ) over its life
    ℓ; when the rent of one H100e-year instead falls by 1/G a year (the newest chip's
    cost per H100e falls with the frontier, G = ``efficiency.frontier_growth``), the
    first year's rent R that repays K satisfies K = R·Σ_{t=1}^{ℓ} G^{1−t}·(1+ρ)^{−t}.
    The tilt is R over the flat rent:

        tilt(ρ, G, ℓ) = Σ_{t=1}^{ℓ} (1+ρ)^{−t} / Σ_{t=1}^{ℓ} G^{1−t}·(1+ρ)^{−t}

    (1 when G = 1). Facility and energy costs paid over the same years repay the same
    way, so the tilt applies to the whole levelized cost.

    Examples
    --------
    >>> round(rent_tilt(0.08, 1.35, 5), 4)
    1.5969
    >>> rent_tilt(0.08, 1.0, 5)
    1.0
    """
    if frontier_growth <= 0:
        raise ValueError("frontier_growth must be > 0")
    flat = sum((1.0 + rate) ** -t for t in range(1, life_years + 1))
    tilted = sum(frontier_growth ** (1 - t) * (1.0 + rate) ** -t
                 for t in range(1, life_years + 1))
    return flat / tilted


def newest_chip_levelized_usd_per_h100e_year(
    chips: pd.DataFrame, years: list[int], discount_rate: float, facility_life_years: int,
    facility_capex_usd_per_mw: float, pue: float, energy_usd_per_mwh: pd.Series,
    utilization: float, frontier_growth: float = 1.0,
) -> pd.Series:
    """Levelized cost of the newest chip on sale each year, USD per H100e-year.

    The newest chips are those on sale in y (``first_year ≤ y ≤ last_year``) with the
    latest ``first_year``; of them the cheapest per H100e counts (the frontier's
    price). Per H100e-year, flat (``frontier_growth`` 1): chip capex κ_g/π_g ×
    CRF(ρ, life_g) + facility capex × PUE / π_g × CRF(ρ, facility life) + PUE / π_g ×
    u × 8,760 h × energy price[y] (the arithmetic of ``docs/data-sources.md`` 7.8).

    With ``frontier_growth`` G > 1 it is the chip's *lifetime rent*: the first-year
    rent of one H100e-year that, falling 1/G a year with the frontier over the chip's
    life, repays the chip, its share of the facility and its energy — the flat cost ×
    :func:`rent_tilt` (ρ, G, life_g). A value of unserved compute above it (a multiple
    > 1) pays for buying the newest chip in every year as long as the frontier's cost
    falls no faster than 1/G a year.

    Parameters
    ----------
    chips : chips with ``first_year``, ``last_year``, ``life_years``,
        ``pi_h100e_per_mw`` and ``kappa_usd_per_mw`` (``models.chips.with_derived``).
    years : model years.
    discount_rate : real discount rate ρ.
    facility_life_years : annuity life of facility capital.
    facility_capex_usd_per_mw : facility capex per facility MW, USD/MW.
    pue : facility MW per IT MW.
    energy_usd_per_mwh : energy price by year, USD/MWh (held over the chip's life).
    utilization : average IT load ÷ installed IT capacity.
    frontier_growth : G, the frontier's yearly gain in H100e per USD (1 = a flat rent).

    Examples
    --------
    >>> chips = pd.DataFrame({"first_year": [2023], "last_year": [2030], "life_years": [5],
    ...     "pi_h100e_per_mw": [1 / 1.275e-3], "kappa_usd_per_mw": [51_600 / 1.275e-3]},
    ...     index=["h100"])
    >>> v = newest_chip_levelized_usd_per_h100e_year(chips, [2026], 0.08, 20, 10_579_000,
    ...     1.2, pd.Series([76.3], index=[2026]), 0.8)
    >>> round(float(v[2026]))
    15390
    >>> v = newest_chip_levelized_usd_per_h100e_year(chips, [2026], 0.08, 20, 10_579_000,
    ...     1.2, pd.Series([76.3], index=[2026]), 0.8, frontier_growth=1.35)
    >>> round(float(v[2026]))
    24577
    """
    out = {}
    for y in years:
        on_sale = chips[(chips["first_year"] <= y) & (chips["last_year"] >= y)]
        if on_sale.empty:
            continue
        newest = on_sale[on_sale["first_year"] == on_sale["first_year"].max()]
        pi = newest["pi_h100e_per_mw"].astype(float)
        lives = [int(n) for n in newest["life_years"]]
        chip = newest["kappa_usd_per_mw"].astype(float) / pi * [
            crf(discount_rate, n) for n in lives]
        facility = facility_capex_usd_per_mw * pue / pi * crf(discount_rate, facility_life_years)
        energy = pue / pi * utilization * 8760.0 * float(energy_usd_per_mwh[y])
        tilt = [rent_tilt(discount_rate, frontier_growth, n) for n in lives]
        out[y] = float(((chip + facility + energy) * tilt).min())
    return pd.Series(out, dtype=float, name="levelized_usd_per_h100e_year")
