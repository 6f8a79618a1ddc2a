"""Stage 3 — outputs: results read from the solved model, gap report, files, maps, report."""
