"""Lever "existing fleet" (scenario key ``fleet``): accelerators already running.

It adds no component: F[s,g,y] enters the index sets (a U[s,g,y] where only the
existing fleet is in service) and the right-hand side of ``Fleet_Installed``
(U[s,g,y] ≤ Σ it[s,g,τ] over y − life_g < τ ≤ y **+ F[s,g,y]**), without capex.
"""

from __future__ import annotations

from models.capacity import CapacityInputs


def active(d: CapacityInputs) -> bool:
    """Whether the scenario has an existing fleet."""
    return d.levers is not None and d.levers.fleet is not None and len(d.levers.fleet) > 0


def existing_fleet_mw(d: CapacityInputs) -> dict[tuple[str, str, int], float]:
    """F[s,g,y]: IT MW of chip g already installed at s still in its life in y.

    A row installed in year τ with life ℓ_g is in service for τ ≤ y ≤ τ + ℓ_g − 1.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from models.levers.data import Levers
    >>> fleet = pd.DataFrame({"site": ["s"], "chip": ["g"], "year_installed": [2024],
    ...                       "it_mw": [5.0]})
    >>> chips = pd.DataFrame({"life_years": [3]}, index=["g"])
    >>> d = SimpleNamespace(levers=Levers(fleet=fleet), chips=chips, years=[2026, 2027])
    >>> existing_fleet_mw(d)
    {('s', 'g', 2026): 5.0}
    """
    if not active(d):
        return {}
    fleet = d.levers.fleet
    out: dict[tuple[str, str, int], float] = {}
    y0, yn = d.years[0], d.years[-1]
    for s, g, t, mw in zip(fleet["site"], fleet["chip"], fleet["year_installed"],
                           fleet["it_mw"]):
        life = int(d.chips.at[g, "life_years"])
        for y in range(max(int(t), y0), min(int(t) + life - 1, yn) + 1):
            out[(s, g, y)] = out.get((s, g, y), 0.0) + float(mw)
    return out
