r"""Scenario sweeps and Monte Carlo on Dask: ``dcplan sweep``.

The flow::

    scenario + grid file ─→ plan: one parameter set per scenario, each keyed by a hash
                             (base scenario, its tables and the parameters)
                          ─→ Dask (LocalCluster or --scheduler): per worker process one
                             PersistentSolver; each task applies its parameters, solves
                             (in place + hot start when only numbers changed), optionally
                             runs planner.stress, and returns a compact Dataset
                          ─→ DIR/parts/<id>.nc (or <id>.failed.json) as results arrive
                          ─→ DIR/sweep.nc: every part stacked on a ``scenario`` dimension,
                             parameters as coordinates; plan.csv, failures.csv,
                             summary.json, scenarios.png (grid) or fan.png (Monte
                             Carlo), tornado.png

A rerun with the same scenario, grid and options finds its parts and computes only what
is missing (resume). The grid file format, every parameter and the outputs are documented
in ``docs/sweep.md``.

Parameters (keys of the grid file) are

* dotted paths into the scenario file: ``discount_rate``, ``years.end``,
  ``demand.growth``, ``demand.preset``, ``efficiency.frontier_growth``,
  ``onsite.capex_usd_per_mw``, … (every key except ``name``, ``description``, the table
  paths and ``demand.path``);
* table cells: ``regions.<REGION>.<column>`` and ``sites.<SITE>.<column>`` (``*`` = every
  region or site), any numeric or boolean column of those tables;
* derived: ``lead_time_multiplier``, ``energy_price_multiplier``,
  ``capacity_price_multiplier``, ``price_escalation_shift_per_year`` (all regions, or one
  with ``regions.<REGION>.<name>``), ``demand_multiplier`` and ``stress.shocks``.

The package, one job a module:

* :mod:`~planner.sweep.distributions`: the distributions of ``distributions:`` and
  ``{start, stop, num}``;
* :mod:`~planner.sweep.grid`: the grid file's schema and reading it;
* :mod:`~planner.sweep.parameters`: what a parameter key means, its unit and kind;
* :mod:`~planner.sweep.plan`: the plan, one parameter set per scenario;
* :mod:`~planner.sweep.apply`: a parameter set applied to a scenario;
* :mod:`~planner.sweep.task`: one scenario as a worker runs it, with
  :mod:`~planner.sweep.compact_result` (its compact result) and
  :mod:`~planner.sweep.stress_metrics` (planner.stress on it);
* :mod:`~planner.sweep.prepare`: loading and checking a sweep before any solve;
* :mod:`~planner.sweep.runner`: solving the pending scenarios, in process or on Dask;
* :mod:`~planner.sweep.cluster`: the LocalCluster only dcplan can use (TLS, no HTTP) and
  a running scheduler's address checked;
* :mod:`~planner.sweep.parts`: writing one scenario's part atomically;
* :mod:`~planner.sweep.assembly`: stacking the parts into one Dataset;
* :mod:`~planner.sweep.outputs`: writing sweep.nc, the tables, summary and charts
  (:mod:`~planner.sweep.charts`);
* :mod:`~planner.sweep.run`: :func:`run_sweep`, all of it in one call.
"""

from __future__ import annotations

from planner.sweep.apply import apply_params
from planner.sweep.assembly import assemble, plan_table
from planner.sweep.charts import (
    PERCENTILES,
    plot_fans,
    plot_scenario_lines,
    plot_tornado,
    tornado_table,
)
from planner.sweep.compact_result import PART_FORMAT, compact
from planner.sweep.distributions import (
    NUMERIC_DISTS,
    Choice,
    Distribution,
    Integers,
    Linspace,
    LogNormal,
    Normal,
    Triangular,
    Uniform,
)
from planner.sweep.grid import GridFile, StressOptions, read_grid_file
from planner.sweep.outputs import SweepOutcome, write_outputs
from planner.sweep.parameters import (
    DERIVED,
    NOT_SWEPT,
    REGION_DERIVED,
    STRUCTURAL,
    ParamInfo,
    describe_parameter,
    spec_parameters,
)
from planner.sweep.plan import MAX_SCENARIOS, SweepPlan, make_plan, plan_size
from planner.sweep.prepare import PreparedSweep, prepare_sweep
from planner.sweep.run import run_sweep
from planner.sweep.runner import Progress, execute
from planner.sweep.task import SweepBase, run_scenario, worker_solver

__all__ = [
    "DERIVED", "MAX_SCENARIOS", "NOT_SWEPT", "NUMERIC_DISTS", "PART_FORMAT", "PERCENTILES",
    "REGION_DERIVED", "STRUCTURAL", "Choice", "Distribution", "GridFile", "Integers",
    "Linspace", "LogNormal", "Normal", "ParamInfo", "PreparedSweep", "Progress",
    "StressOptions", "SweepBase", "SweepOutcome", "SweepPlan", "Triangular", "Uniform",
    "apply_params", "assemble", "compact", "describe_parameter", "execute", "make_plan",
    "plan_size", "plan_table", "plot_fans", "plot_scenario_lines", "plot_tornado",
    "prepare_sweep", "read_grid_file", "run_scenario", "run_sweep", "spec_parameters",
    "tornado_table", "worker_solver", "write_outputs",
]
