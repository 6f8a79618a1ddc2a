"""Layer "construction lead time" (L6a, scenario key ``construction``).

A new hall at site s completes no earlier than y0 + lead_s, where lead_s is the
site's own construction lead (``Levers.site_lead_years``, from
``sites/data/site_facts.csv``) or else the inputs' ``facility_lead_years``; halls
already under construction (``Levers.under_construction``: MW and the year they
complete) are exempt in their year:

    (L6a) build[s,y] ≤ uc_mw_s·[y = uc_year_s]     for y < y0 + lead_s.

Its dual is the value of one more MW under construction (a hall a year early).
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from models.capacity import CapacityInputs


def lead_years(d: CapacityInputs) -> dict[str, int]:
    """Site → construction lead in years (the site's own, else ``facility_lead_years``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from models.levers.data import Levers
    >>> d = SimpleNamespace(sites=pd.DataFrame(index=["a", "b"]), facility_lead_years=2,
    ...                     levers=Levers(site_lead_years={"b": 1}))
    >>> lead_years(d)
    {'a': 2, 'b': 1}
    """
    default = int(getattr(d, "facility_lead_years", 0) or 0)
    own = d.levers.site_lead_years if d.levers is not None else {}
    return {s: int(own.get(s, default)) for s in d.sites.index}


def under_construction(d: CapacityInputs) -> dict[str, tuple[float, int]]:
    """Site → (facility MW under construction, year they complete); ``{}`` for none."""
    return dict(d.levers.under_construction) if d.levers is not None else {}


def lead_rows(d: CapacityInputs) -> dict[tuple[str, int], float]:
    """(s, y) → the most facility MW completed at s in y, for every y before y0 + lead_s.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from models.levers.data import Levers
    >>> d = SimpleNamespace(sites=pd.DataFrame(index=["a"]), facility_lead_years=2,
    ...                     years=[2026, 2027, 2028],
    ...                     levers=Levers(under_construction={"a": (50.0, 2027)}))
    >>> lead_rows(d)
    {('a', 2026): 0.0, ('a', 2027): 50.0}
    """
    y0 = d.years[0]
    uc = under_construction(d)
    out: dict[tuple[str, int], float] = {}
    for s, lead in lead_years(d).items():
        mw, year = uc.get(s, (0.0, None))
        for y in d.years:
            if y < y0 + lead:
                out[s, y] = float(mw) if y == year else 0.0
    return out


def active(d: CapacityInputs) -> bool:
    """Whether any site has a construction lead time."""
    return any(v > 0 for v in lead_years(d).values())


def add(m: pyo.ConcreteModel, d: CapacityInputs) -> None:
    """Add ``LEAD_SY``, ``under_construction_mw`` and ``Build_Lead``."""
    rows = lead_rows(d)
    m.LEAD_SY = pyo.Set(dimen=2, initialize=list(rows), ordered=True)
    m.under_construction_mw = pyo.Param(m.LEAD_SY, initialize=rows, within=pyo.Any,
                                        doc="most facility MW completed before the lead time")

    def build_lead_rule(m: Any, s: str, y: int) -> Any:
        """(L6a) build[s,y] ≤ uc_mw_s·[y = uc_year_s] for y < y0 + lead_s."""
        return m.Build[s, y] <= m.under_construction_mw[s, y]

    m.Build_Lead = pyo.Constraint(m.LEAD_SY, rule=build_lead_rule, doc=build_lead_rule.__doc__)
