"""The files of a stress run, written atomically: stress.nc, CSVs, summary.json, charts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planner.outputs.fileio import file_sha256
from planner.outputs.files import atomic_folder, json_ready
from planner.stress.charts import plot_contract_graph, plot_dscr
from planner.stress.result import StressResult, capital_schedule, operators_by_year


def write_stress(result: StressResult, out_dir: str | Path, *,
                 monte_carlo: Any = None, revenue_at_risk: Any = None) -> Path:
    """Write stress.nc, CSVs, summary.json and the two PNGs atomically; with a
    :class:`planner.stress.montecarlo.MonteCarlo` also its tables and chart; with a
    hedged plan's revenue at risk (:mod:`planner.stress.hedged`) ``revenue_at_risk.csv``."""
    out_dir = Path(out_dir)
    pf = result.portfolio
    with atomic_folder(out_dir, kind="stress") as tmp:
        ds = result.metrics.copy()
        hashes = {k: file_sha256(p) for k, p in pf.table_paths.items() if p and Path(p).is_file()}
        ds.attrs.update({f"sha256_{k}": v for k, v in hashes.items()})
        ds.to_netcdf(tmp / "stress.nc", engine="netcdf4")
        operators_by_year(result).to_csv(tmp / "operators_by_year.csv", index=False,
                                         float_format="%.6g")
        summary = result.summary()
        summary.to_csv(tmp / "summary.csv", index=False, float_format="%.6g")
        result.contracts.to_csv(tmp / "contracts_by_year.csv", index=False, float_format="%.6g")
        result.exposure.to_csv(tmp / "exposure.csv", index=False, float_format="%.6g")
        result.market.table().to_csv(tmp / "capacity_values.csv", index=False,
                                     float_format="%.6g")
        capital_schedule(result).to_csv(tmp / "capital_by_year.csv", index=False,
                                        float_format="%.6g")
        result.tranches.to_csv(tmp / "debt_tranches.csv", index=False, float_format="%.6g")
        result.lender_losses.to_csv(tmp / "lender_losses.csv", index=False,
                                    float_format="%.6g")
        if revenue_at_risk is not None:
            revenue_at_risk.to_csv(tmp / "revenue_at_risk.csv", index=False,
                                   float_format="%.6g")
        if monte_carlo is not None:
            from planner.stress.montecarlo import write_monte_carlo

            write_monte_carlo(monte_carlo, tmp)
        plot_dscr(result, tmp / "dscr.png")
        plot_contract_graph(result, tmp / "contract_graph.png")
        info = {
            "portfolio": pf.name,
            "illustrative": pf.spec.illustrative,
            "capacity_scenario": result.market.scenario,
            "years": [pf.years[0], pf.years[-1]],
            "shocks": [s.text() for s in result.shocks],
            "re_lease": pf.spec.re_lease.model_dump(),
            "operators": summary.set_index("operator").to_dict(orient="index"),
            "seconds": result.seconds,
            "inputs": pf.table_paths,
            "inputs_sha256": hashes,
        }
        if monte_carlo is not None:
            info["monte_carlo"] = {"samples": monte_carlo.samples, "seed": monte_carlo.seed}
        (tmp / "summary.json").write_text(json.dumps(json_ready(info), indent=2) + "\n")
    return out_dir
