"""Coefficient ranges of an LP and plain-words warnings when it is badly scaled.

HiGHS prints the same ranges in its log; dcplan records them in
``summary.json`` (``highs.ranges``) and warns when a range is wide enough to
cost accuracy or speed — usually a unit slip in an input (kW entered as MW,
USD as million USD).
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Above these the LP is reported as badly scaled.
MAX_MATRIX_RATIO = 1e7
MAX_COST_RATIO = 1e9
MAX_ABS_VALUE = 1e9
MIN_ABS_VALUE = 1e-7


def _span(values: np.ndarray) -> tuple[float, float] | None:
    v = np.abs(np.asarray(values, dtype=float))
    v = v[np.isfinite(v) & (v > 0)]
    if not len(v):
        return None
    return float(v.min()), float(v.max())


def coefficient_ranges(
    cost: np.ndarray, A: Any, col_lower: np.ndarray, col_upper: np.ndarray,
    row_lower: np.ndarray, row_upper: np.ndarray,
) -> dict[str, list[float] | None]:
    """[min, max] of the non-zero absolute values: matrix, cost, bounds, right-hand sides.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> r = coefficient_ranges(np.array([0.0, 2.0]), sp.csc_matrix([[1.0, 300.0]]),
    ...     np.zeros(2), np.array([np.inf, 5.0]), np.array([-np.inf]), np.array([4.0]))
    >>> r["matrix"], r["cost"], r["bound"], r["rhs"]
    ([1.0, 300.0], [2.0, 2.0], [5.0, 5.0], [4.0, 4.0])
    """
    spans = {
        "matrix": _span(A.data),
        "cost": _span(cost),
        "bound": _span(np.concatenate([col_lower, col_upper])),
        "rhs": _span(np.concatenate([row_lower, row_upper])),
    }
    return {k: (list(v) if v is not None else None) for k, v in spans.items()}


def scaling_warnings(ranges: dict[str, list[float] | None]) -> list[str]:
    """Plain-words warnings for ranges that make the LP badly scaled.

    Examples
    --------
    >>> scaling_warnings({"matrix": [1e-4, 1e5], "cost": [1.0, 2.0], "bound": None,
    ...                   "rhs": [1.0, 1e12]})[0][:52]
    'the LP is badly scaled: constraint coefficients span'
    """
    out = []
    names = {"matrix": "constraint coefficients", "cost": "cost coefficients",
             "bound": "variable bounds", "rhs": "constraint right-hand sides"}
    hint = ("check the units of the inputs (MW vs kW, USD vs million USD, H100e per unit) "
            "and for extreme values in the tables")
    for key, label in names.items():
        span = ranges.get(key)
        if span is None:
            continue
        low, high = span
        ratio_limit = MAX_COST_RATIO if key == "cost" else MAX_MATRIX_RATIO
        if key in ("matrix", "cost") and high / low > ratio_limit:
            out.append(f"the LP is badly scaled: {label} span {low:.1e} to {high:.1e} "
                       f"(ratio {high / low:.0e}); HiGHS may lose accuracy — {hint}")
        elif high > MAX_ABS_VALUE or low < MIN_ABS_VALUE:
            out.append(f"the LP has extreme {label} ({low:.1e} to {high:.1e}); {hint}")
    return out
