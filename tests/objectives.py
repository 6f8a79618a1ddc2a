"""The objective of every bundled scenario, recorded before the one-formulation change.

``python -m tests.objectives`` solves every case below and writes
``tests/data/objectives_before.json``; ``tests/test_objectives.py`` solves them again
and checks each objective is unchanged to 1e-6 relative. The cases: ``us-base``, each
``--demand`` preset, the DESIGN variant without idle chips, elastic demand, every LP
lever on ``us-base``, the hand-solved factory instances, and the synthetic ladder
(``dcplan synth``, seed 0) at a few sizes. Cases marked slow run only with
``DCPLAN_SLOW=1``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.capacity import CapacityInputs
from models.levers import Levers
from tests.factory import solve_inputs, tiny

OBJECTIVES_PATH = Path(__file__).parent / "data" / "objectives_before.json"

LP_LEVERS_YAML = """
fleet: fleet.csv
budget: {total_usd_per_year: {2027: 4.0e+11}, by_operator_usd_per_year: {Meta: 1.0e+11}}
carbon: {price_usd_per_t: 20, cap_t_per_year: {2030: 9.0e+7}}
water: {region_limits_m3_per_year: {ERCOT: 3.0e+8}, site_limits_m3_per_year: {abilene_tx: 2.0e+6}}
moratoria: [{region: PJM, from_year: 2030}]
regional_demand: [{name: east, regions: [PJM, NYISO, ISO-NE], share: 0.1, from_year: 2028}]
forced_builds: [{site: abilene_tx, year: 2028, build_mw: 300}]
"""
FLEET_CSV = ("site,chip,year_installed,it_mw\n"
             "ashburn_va,h100,2024,500\nabilene_tx,gb200,2025,200\n")
ELASTIC_YAML = """
demand: {preset: jevons, value_of_unserved_usd_per_h100e_year: 20586,
         elasticity: 1.3, reference_price_usd_per_h100e_year: 8000}
market: {index_unserved: false}
"""


@dataclass(frozen=True)
class Case:
    """One recorded instance: ``solve(tmp)`` returns its objective in USD."""

    name: str
    solve: Callable[[Path], float]
    slow: bool = False


def _scenario_objective(path: Path | None, preset: str | None = None) -> float:
    import planner

    sc = planner.load_scenario(path)
    if preset is not None:
        sc = sc.with_demand_preset(preset)
    return planner.solve(sc).objective_usd


def _edited_us_base(tmp: Path, extra_yaml: str, files: dict[str, str] | None = None) -> Path:
    """A ``dcplan init`` copy of us-base with ``extra_yaml`` appended; a top-level key of
    ``extra_yaml`` that us-base already sets replaces it (a repeated key is an error)."""
    from planner.cli.commands import main

    folder = tmp / "sc"
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["init", str(folder)]) == 0
    text = (folder / "scenario.yaml").read_text(encoding="utf-8")
    keys = [ln.split(":")[0] for ln in extra_yaml.splitlines()
            if ln and not ln[0].isspace() and ":" in ln]
    for key in keys:  # replace the block rather than repeat the key
        lines = text.splitlines()
        start = next((i for i, ln in enumerate(lines) if ln.startswith(f"{key}:")), None)
        if start is None:
            continue
        end = start + 1
        while end < len(lines) and (lines[end].startswith(" ") or not lines[end].strip()):
            end += 1
        text = "\n".join(lines[:start] + lines[end:]) + "\n"
    (folder / "scenario.yaml").write_text(text + extra_yaml, encoding="utf-8")
    for name, content in (files or {}).items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder / "scenario.yaml"


def _synth_objective(tmp: Path, n_sites: int) -> float:
    from planner.inputs.synth import write_synth

    folder = tmp / f"synth{n_sites}"
    write_synth(folder, n_sites)
    return _scenario_objective(folder / "scenario.yaml")


def _no_idle(tmp: Path) -> float:
    return _scenario_objective(_edited_us_base(tmp, "allow_idle_chips: false\n"))


# -- the hand-solved factory instances (tests/test_hand_solved.py, tests/test_levers.py) --
def _factory_cases() -> dict[str, Callable[[], CapacityInputs]]:
    def one_site() -> CapacityInputs:
        return tiny(years=[2026], demand_h100e=[2000],
                    regions={"R": {"energy_price_usd_per_mwh": 50.0}},
                    sites={"s": {"pue": 1.5, "build_capex_usd_per_mw": 2e6}},
                    chips={"g": {"capex_usd_per_unit": 10_000.0, "life_years": 1}},
                    facility_life_years=1)

    def lead_time() -> CapacityInputs:
        return tiny(years=[2026, 2027], demand_h100e=[1000, 1000],
                    sites={"A": {"region": "RA"}, "B": {"region": "RB"}},
                    chips={"g": {"life_years": 1}},
                    regions={"RA": {"energy_price_usd_per_mwh": 100.0},
                             "RB": {"energy_price_usd_per_mwh": 10.0,
                                    "interconnect_lead_years": 1}})

    def onsite_bridge() -> CapacityInputs:
        return tiny(years=[2026, 2027, 2028], demand_h100e=[1000, 2000, 3000],
                    regions={"R": {"energy_price_usd_per_mwh": 40.0,
                                   "interconnect_lead_years": 2,
                                   "interconnect_capex_usd_per_mw": 1e5,
                                   "capacity_price_usd_per_mw_year": 5e4}},
                    sites={"s": {"onsite_allowed": True, "existing_mw": 0.5,
                                 "queued_mw": 0.5, "queue_year": 2027,
                                 "build_capex_usd_per_mw": 1e6}},
                    chips={"g": {"capex_usd_per_unit": 3000.0, "life_years": 2}},
                    discount_rate=0.08, utilization=0.8, facility_life_years=20,
                    onsite_capex_usd_per_mw=2e6, onsite_life_years=10,
                    onsite_fuel_usd_per_mwh=60.0)

    def headroom() -> CapacityInputs:
        return tiny(years=[2026], demand_h100e=[3000],
                    regions={"R": {"new_load_limit_mw_per_year": 1.0,
                                   "energy_price_usd_per_mwh": 10.0}},
                    sites={"a": {}, "b": {"energy_price_usd_per_mwh": 90.0,
                                          "existing_mw": 5.0}},
                    chips={"g": {"life_years": 1}})

    def unserved() -> CapacityInputs:
        return tiny(years=[2026, 2027], demand_h100e=[1000, 5000],
                    sites={"s": {"max_mw": 2.0, "build_capex_usd_per_mw": 1e5}},
                    chips={"g": {"capex_usd_per_unit": 500.0, "life_years": 1}},
                    value_of_unserved_usd_per_h100e_year=900.0, facility_life_years=1)

    def two_chips_no_idle() -> CapacityInputs:
        return tiny(years=[2026, 2027, 2028], demand_h100e=[1000, 1500, 4000],
                    sites={"s": {"max_mw": 3.0, "existing_mw": 1.0,
                                 "build_capex_usd_per_mw": 5e5}},
                    chips={"old": {"capex_usd_per_unit": 100.0, "life_years": 3,
                                   "last_year": 2026},
                           "new": {"capex_usd_per_unit": 400.0, "h100e_per_unit": 3.0,
                                   "first_year": 2027, "life_years": 3}},
                    allow_idle=False, discount_rate=0.05)

    def lumpy_build() -> CapacityInputs:
        d = tiny(years=[2026], demand_h100e=[30_000],
                 sites={"s": {"build_capex_usd_per_mw": 1e6}},
                 chips={"g": {"capex_usd_per_unit": 2000.0, "life_years": 1}},
                 facility_life_years=1)
        d.levers = Levers(build_block_mw={"s": 50.0})
        return d

    return {"factory/one_site_one_chip": one_site, "factory/lead_time": lead_time,
            "factory/onsite_bridge": onsite_bridge, "factory/headroom": headroom,
            "factory/unserved": unserved, "factory/two_chips_no_idle": two_chips_no_idle,
            "factory/lumpy_build_milp": lumpy_build}


def cases() -> list[Case]:
    """Every recorded case, in a fixed order."""
    from models.demand import PRESETS

    out = [Case("us-base", lambda _tmp: _scenario_objective(None))]
    out += [Case(f"us-base/demand={p}", lambda _tmp, p=p: _scenario_objective(None, p))
            for p in PRESETS]
    out.append(Case("us-base/allow_idle_chips=false", _no_idle))
    out.append(Case("us-base/elastic-jevons",
                    lambda tmp: _scenario_objective(_edited_us_base(tmp, ELASTIC_YAML))))
    out.append(Case("us-base/lp-levers", lambda tmp: _scenario_objective(
        _edited_us_base(tmp, LP_LEVERS_YAML, {"fleet.csv": FLEET_CSV}))))
    for name, make in _factory_cases().items():
        out.append(Case(name, lambda _tmp, make=make: solve_inputs(make()).objective_usd))
    for n in (10, 100, 300):
        out.append(Case(f"synth/{n}", lambda tmp, n=n: _synth_objective(tmp, n)))
    out.append(Case("synth/1000", lambda tmp: _synth_objective(tmp, 1000), slow=True))
    return out


def record(path: Path = OBJECTIVES_PATH, include_slow: bool = True) -> dict[str, float]:
    """Solve every case and write ``{name: objective_usd}`` to ``path``."""
    got: dict[str, float] = {}
    for case in cases():
        if case.slow and not include_slow:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            got[case.name] = case.solve(Path(tmp))
        print(f"{case.name}: {got[case.name]!r}", file=sys.stderr, flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"units": "USD", "objectives_usd": got}, indent=1) + "\n",
                    encoding="utf-8")
    return got


if __name__ == "__main__":
    record()
