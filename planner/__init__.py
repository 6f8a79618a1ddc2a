"""dcplan's application layer: scenarios, HiGHS solve, results, reports, CLI.

Python API (mirrors the CLI)::

    import planner
    scenario = planner.load_scenario("my.yaml")   # or None for the bundled us-base
    result = planner.solve(scenario)
    ds = result.to_xarray()                         # labelled results with units
    gap = result.gap()                              # demand vs efficiency, per year
"""

from grids.tables import InputError
from planner.highs import SolveError
from planner.results import Result
from planner.run import solve
from planner.scenario import Scenario, load_scenario

__all__ = ["InputError", "Result", "Scenario", "SolveError", "load_scenario", "solve"]
