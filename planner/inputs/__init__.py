"""Stage 1 — inputs: the scenario file and its tables, synthetic scenarios, site clustering."""
