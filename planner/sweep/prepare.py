"""Preparing a sweep: load and check the scenario, grid file and portfolio before any
solve."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from grids.tables import InputError
from grids.yamlfile import yaml_line as _yaml_line
from planner.inputs.scenario import load_scenario
from planner.outputs.fileio import file_sha256
from planner.outputs.files import input_hashes
from planner.outputs.outdir import check_output_folder
from planner.sweep.compact_result import PART_FORMAT
from planner.sweep.grid import read_grid_file
from planner.sweep.parts import read_failure
from planner.sweep.plan import MAX_SCENARIOS, SweepPlan, make_plan, plan_size
from planner.sweep.task import SweepBase
from sites.portfolio import parse_shock


@dataclass
class PreparedSweep:
    """A validated sweep: base scenario, plan and output folder."""

    base: SweepBase
    plan: SweepPlan
    grid_path: Path
    out_dir: Path
    fmt: str = "netcdf"
    #: SHA-256 of every input file (scenario tables, portfolio, and the grid file itself),
    #: recorded in the outputs; the grid file's is not part of the parts' fingerprint, so a
    #: grid extended with more values reuses the finished scenarios.
    input_hashes: dict[str, str] = field(default_factory=dict)

    @property
    def parts(self) -> Path:
        return self.out_dir / "parts"

    def finished(self, retry_failed: bool = False) -> set[str]:
        """Ids with a result part (or a failure record, unless ``retry_failed``).

        Raises
        ------
        InputError
            For a failure record that is not one dcplan wrote (checked before any solve).
        """
        done = set()
        for sid in self.plan.ids:
            if (self.parts / f"{sid}.nc").is_file():
                done.add(sid)
            elif not retry_failed and (self.parts / f"{sid}.failed.json").is_file():
                read_failure(self.parts / f"{sid}.failed.json")
                done.add(sid)
        return done


def prepare_sweep(scenario: str | Path | None, grid: str | Path, out_dir: str | Path | None = None,
                  *, samples: int | None = None, seed: int = 0, fmt: str = "netcdf",
                  max_scenarios: int = MAX_SCENARIOS) -> PreparedSweep:
    """Load and check everything before any solve (bad input raises :class:`InputError`);
    a sweep of more than ``max_scenarios`` scenarios is refused before the scenario is
    loaded."""
    if fmt not in ("netcdf", "zarr"):
        raise InputError(f"--format must be netcdf or zarr, got '{fmt}'")
    if fmt == "zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise InputError("--format zarr needs the zarr package (pip install zarr); "
                             "or write netCDF") from None
    grid_path = Path(grid)
    gf = read_grid_file(grid_path)
    plan_size(gf, grid_path, samples, max_scenarios)  # refused before any work
    base = load_scenario(scenario)
    stress_keys = "stress.shocks" in gf.grid or "stress.shocks" in gf.distributions
    portfolio = None
    hashes = input_hashes(base)
    if stress_keys:
        from sites.portfolio import load_portfolio

        pf_path = (grid_path.parent / gf.stress.portfolio) if gf.stress.portfolio else None
        if pf_path is not None and not pf_path.is_file():
            raise InputError(f"file not found: {gf.stress.portfolio}", file=grid_path,
                             key="stress.portfolio",
                             line=_yaml_line(grid_path, ("stress", "portfolio")))
        portfolio = load_portfolio(pf_path, base.regions, base.geometry)
        hashes.update({f"portfolio_{k}": file_sha256(p) for k, p in
                       portfolio.table_paths.items() if p and Path(p).is_file()})
        hashes["portfolio"] = file_sha256(portfolio.path)
    fingerprint = hashlib.sha256(json.dumps(
        {"format": PART_FORMAT, "spec": base.spec.model_dump_json(), "inputs": hashes},
        sort_keys=True).encode()).hexdigest()
    plan = make_plan(gf, grid_path, base, samples=samples, seed=seed, fingerprint=fingerprint,
                     max_scenarios=max_scenarios)
    if portfolio is not None:
        from sites.portfolio import check_shock_targets

        texts = {s for p in plan.params for s in (p.get("stress.shocks") or [])}
        try:
            check_shock_targets([parse_shock(s) for s in sorted(texts)], portfolio.operators,
                                portfolio.customers, portfolio.spec.years)
        except InputError as exc:
            raise InputError(f"stress.shocks: {exc.message}", file=grid_path,
                             key="stress.shocks") from None
    target = Path(out_dir) if out_dir is not None else \
        Path("runs") / f"sweep-{base.name}-{grid_path.stem}"
    check_output_folder(target, "sweep")  # a folder of the user's files is refused now
    return PreparedSweep(base=SweepBase(base, portfolio, fingerprint), plan=plan,
                         grid_path=grid_path, out_dir=target, fmt=fmt,
                         input_hashes={**hashes, "grid": file_sha256(grid_path)})
