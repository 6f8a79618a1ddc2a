"""Safety: YAML is safe-loaded, names cannot steer outputs out of their folder,
and ``dcplan validate`` says what a run would use."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.cli import main


@pytest.fixture()
def scenario_dir(tmp_path: Path) -> Path:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    return d


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "x y"])
def test_scenario_names_cannot_escape_the_runs_folder(
        scenario_dir: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = scenario_dir / "scenario.yaml"
    path.write_text(path.read_text().replace("name: us-base", f"name: '{name}'"))
    assert main(["validate", str(path)]) == 2
    assert "key name" in capsys.readouterr().err


def test_yaml_python_tags_are_refused(scenario_dir: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario_dir / "scenario.yaml"
    path.write_text(path.read_text() + "\nexploit: !!python/object/apply:os.system ['true']\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: scenario.yaml line") and "invalid YAML" in err


def test_portfolio_names_are_checked_too(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import shutil
    from importlib import resources

    src = Path(str(resources.files("sites") / "data" / "portfolio"))
    d = tmp_path / "pf"
    shutil.copytree(src, d)
    text = (d / "portfolio.yaml").read_text()
    first = next(line for line in text.splitlines() if line.startswith("name:"))
    (d / "portfolio.yaml").write_text(text.replace(first, "name: ../../escape"))
    assert main(["stress", str(d / "portfolio.yaml"), "-o", str(tmp_path / "out")]) == 2
    assert "key name" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_validate_reports_what_a_run_would_use(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    for text in ("12 announced + 12 synthetic frontier", "levers", "none",
                 "the Pyomo model, HiGHS dual simplex", "idle chips"):
        assert text in out, text
