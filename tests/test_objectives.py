"""Every bundled scenario's objective is unchanged to 1e-6 relative.

The reference values were recorded (``python -m tests.objectives``) before the model
became the one formulation (no NumPy twin, levers as modules, cost expressions), so
any change to the math or to how the model is assembled shows up here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.objectives import OBJECTIVES_PATH, Case, cases

RECORDED: dict[str, float] = json.loads(OBJECTIVES_PATH.read_text(encoding="utf-8"))[
    "objectives_usd"]
SLOW = os.environ.get("DCPLAN_SLOW") == "1"


def test_every_case_was_recorded() -> None:
    assert sorted(c.name for c in cases()) == sorted(RECORDED)


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_objective_unchanged(case: Case, tmp_path: Path) -> None:
    if case.slow and not SLOW:
        pytest.skip("slow case: set DCPLAN_SLOW=1")
    assert case.solve(tmp_path) == pytest.approx(RECORDED[case.name], rel=1e-6)
