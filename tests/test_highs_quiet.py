"""HiGHS objects are created without the banner highspy ≥ 1.16 prints on construction."""

from __future__ import annotations

import highspy
import pytest

from models.highs_quiet import quiet_highs


def test_quiet_highs_prints_nothing_and_keeps_stdout_working(
        capfd: pytest.CaptureFixture[str]) -> None:
    highspy.Highs()
    loud = capfd.readouterr().out  # what this highspy prints unasked ("" on older versions)
    h = quiet_highs()
    print("after")
    out = capfd.readouterr().out
    assert out == "after\n", (out, loud)
    assert h.getNumCol() == 0


def test_verbose_highs_keeps_its_log(capfd: pytest.CaptureFixture[str]) -> None:
    h = quiet_highs(output=True)
    h.addVar(0.0, 1.0)
    h.run()
    assert "HiGHS" in capfd.readouterr().out
