r"""Operator exposure stress tests: shocks, yearly cash flows, clearing, metrics, outputs.

The flow (DESIGN.md, "Stress tests (investors)")::

    portfolio (sites.portfolio) + shocks ─┐
    capacity scenario → planner.solve ────┴→ Market (value of capacity, compute price,
                                              energy prices)
                                           → simulate: year by year, contract dues →
                                              Eisenberg–Noe clearing (models.exposure) →
                                              defaults → terminations → re-lets
                                           → StressResult (xarray operator × year) → files

Year y, operator i (all amounts USD per year unless marked):

- contracted revenue   C_iy = Σ_{c: lessor i, start ≤ y ≤ end} A_c  (A_c the full annual
  payment, no shock: the book);
- due on contract c    D_cy = A_c · share_c · slip_cy · rate_cy  (share: part still in force
  after defaults; slip: part of the MW energized after an interconnection slip; rate: the
  lease-rate / obsolescence factor for contracts starting after a shock);
- clearing: payments among operators cleared by the Eisenberg–Noe LP, with each operator's
  obligations p̄_i = leases due + debt service + opex + power (pari passu) and external assets
  e_i = cash + customer payments + re-let + merchant revenue; i defaults when p_i < p̄_i;
- revenue              R_iy = contract payments received + re-let + merchant;
- EBITDA               E_iy = R_iy − leases due − opex − power;
- DSCR                 E_iy / debt service (NaN without debt service);
- revenue at risk      C_iy − contract payments received;
- top-customer share   max_k D_ik / Σ_k D_ik and HHI Σ_k (D_ik / Σ D_i)² over the payers k of
  i's contracts in force;
- stranded MW          contracted MW not energized (slip) + freed MW not (yet) re-let.

Each operator also carries its capital and debt: GPU capex of the contracts it starts (at the
capacity model's chip cost or a stated cost per IT MW), facility capex of its builds, debt
tranches (amortizing or bullet), refinancing at bullet maturities, covenants with a cure
period whose breach accelerates the debt (:mod:`planner.stress.financing`).

Defaults propagate: a defaulted lessee's contracts end after its default year (a guaranteed
share passes to the guarantor); the lessor re-lets the freed MW after ``delay_years`` at the
market value of capacity less ``haircut`` — for landlords the regional value of a facility MW
(capacity-model duals), for GPU owners the marginal cost of compute times their fleet's H100e
per MW — when that beats its variable cost per MW. Contract expiries free MW the same way.

The package, one job a module:

- :mod:`planner.stress.market`: the market values taken from the capacity model's solution
  (:class:`Market`, :func:`regional_capacity_value`, :func:`market_from_scenario`);
- :mod:`planner.stress.shocks`: how the composed shocks change demand, prices, contracts,
  queues and defaults (:class:`ShockPlan`);
- :mod:`planner.stress.engine`: the year-by-year operator and contract simulation with the
  Eisenberg–Noe clearing (:func:`simulate`);
- :mod:`planner.stress.financing`: capex, debt tranches, draws, interest, amortization,
  refinancing at bullet maturities, acceleration, cash sweeps (:class:`DebtBook`);
- :mod:`planner.stress.montecarlo`: ``--samples N``: drawn shocks, probabilities of breach
  and default, expected losses (:func:`run_monte_carlo`);
- :mod:`planner.stress.hedged`: landlords' revenue at risk from a hedged plan's stranded MW
  (the hook for the stochastic planner);
- :mod:`planner.stress.result`: the result and its operator × year dataset
  (:class:`StressResult`, :data:`METRICS`, :func:`operators_by_year`);
- :mod:`planner.stress.run`: load, link and simulate, the Python twin of ``dcplan stress``
  (:func:`stress`);
- :mod:`planner.stress.outputs`: the files of a run (:func:`write_stress`);
- :mod:`planner.stress.charts`: the DSCR chart and the contract graph.
"""

from __future__ import annotations

from planner.stress.charts import plot_contract_graph, plot_dscr
from planner.stress.engine import simulate
from planner.stress.market import (
    NATIONAL,
    Market,
    market_from_scenario,
    market_from_values,
    regional_capacity_value,
    result_values,
    scenario_values,
)
from planner.stress.outputs import write_stress
from planner.stress.result import METRICS, StressResult, operators_by_year
from planner.stress.run import stress
from planner.stress.shocks import ShockPlan

__all__ = [
    "METRICS",
    "NATIONAL",
    "Market",
    "ShockPlan",
    "StressResult",
    "market_from_scenario",
    "market_from_values",
    "operators_by_year",
    "plot_contract_graph",
    "plot_dscr",
    "regional_capacity_value",
    "result_values",
    "scenario_values",
    "simulate",
    "stress",
    "write_stress",
]
