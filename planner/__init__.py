"""dcplan's application layer: scenarios, HiGHS solve, results, reports, CLI.

Python API (mirrors the CLI)::

    import planner
    scenario = planner.load_scenario("my.yaml")   # or None for the bundled us-base
    result = planner.solve(scenario)
    ds = result.to_xarray()                         # labelled results with units
    gap = result.gap()                              # demand vs efficiency, per year
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use, so that ``dcplan`` starts (and answers Ctrl-C) before pyomo is imported.
_EXPORTS = {
    "InputError": "grids.tables",
    "Result": "planner.outputs.results",
    "Scenario": "planner.inputs.scenario",
    "SolveError": "planner.optimize.highs",
    "load_scenario": "planner.inputs.scenario",
    "solve": "planner.optimize.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'planner' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
