"""Stage 2 — optimize: scenario → Pyomo model → HiGHS; persistent re-solves, numerics,
interrupts."""
