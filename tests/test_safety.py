"""Safety: YAML is safe-loaded, names cannot steer outputs out of their folder,
and ``dcplan validate`` says what a run would use."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner.cli.commands import main
from planner.outputs.outdir import MARKER


@pytest.fixture()
def scenario_dir(tmp_path: Path) -> Path:
    d = tmp_path / "sc"
    assert main(["init", str(d)]) == 0
    return d


@pytest.mark.parametrize("name", ["../evil", "a/b", "..", "x y"])
def test_scenario_names_cannot_escape_the_runs_folder(
        scenario_dir: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = scenario_dir / "scenario.yaml"
    path.write_text(re.sub(r"^name: .*$", f"name: '{name}'", path.read_text(), flags=re.M))
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


# ---------------------------------------------------------------------------------------
# Nothing a user owns is ever lost (issue 12: output folders, the swap, signals)

ROOT = Path(__file__).resolve().parents[1]


def dcplan(*args: str, cwd: Path, umask: int | None = None, **kw: object
           ) -> subprocess.CompletedProcess[str]:
    """``dcplan ARGS`` in a fresh process (``python -m planner``), as a user runs it."""
    pre = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600, preexec_fn=pre,
                          **kw)  # type: ignore[call-overload]


def leftovers(parent: Path) -> list[str]:
    """Hidden folders dcplan may leave beside its outputs (none after any command)."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".")
                  and (".tmp-" in p.name or ".old-" in p.name))


def one_line_error(err: str) -> str:
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and ".tmp-" not in err, err
    return err


def test_init_names_the_copy_after_its_folder(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """§2.1: the copy's runs go to runs/<folder>, never over runs/us-base."""
    assert main(["init", str(tmp_path / "my-folder")]) == 0
    text = (tmp_path / "my-folder" / "scenario.yaml").read_text()
    assert re.search(r"^name: my-folder$", text, flags=re.M)
    assert "runs/my-folder" in capsys.readouterr().out
    assert main(["validate", str(tmp_path / "my-folder" / "scenario.yaml")]) == 0
    assert "scenario my-folder" in capsys.readouterr().out
    assert main(["init", str(tmp_path / "two words+")]) == 0
    assert main(["validate", str(tmp_path / "two words+" / "scenario.yaml")]) == 0
    assert "scenario two-words" in capsys.readouterr().out


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``dcplan run -o runs/r`` once, through a fresh process."""
    top = tmp_path_factory.mktemp("first")
    proc = dcplan("run", "-o", "runs/r", cwd=top)
    assert proc.returncode == 0, proc.stderr
    return top / "runs" / "r"


def test_a_rerun_keeps_the_users_files_and_maps(first_run: Path, tmp_path: Path) -> None:
    """§2.2: a map written by ``dcplan map`` (default output), notes and a folder of the
    user's survive a rerun; dcplan's own files are replaced."""
    import shutil

    out = tmp_path / "r"
    shutil.copytree(first_run, out)
    (out / "notes.txt").write_text("mine")
    (out / "mine").mkdir()
    (out / "mine" / "deep.txt").write_text("also mine")
    proc = dcplan("map", str(out), "--metric", "build_mw", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    maps = sorted(p.name for p in out.glob("map_build_mw_*.png"))
    assert maps, proc.stdout
    before = (out / "results.nc").stat().st_ino
    proc = dcplan("run", "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "mine" / "deep.txt").read_text() == "also mine"
    assert sorted(p.name for p in out.glob("map_build_mw_*.png")) == maps
    assert (out / "results.nc").stat().st_ino != before  # replaced
    manifest = json.loads((out / MARKER).read_text())
    assert manifest["kind"] == "run" and "results.nc" in manifest["files"]
    assert "notes.txt" not in manifest["files"] and "mine" not in manifest["files"]
    assert leftovers(tmp_path) == []


def test_a_user_file_in_the_way_stops_the_rerun(first_run: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """A file of the user's with the name of a file the run writes: exit 2, nothing changed."""
    import shutil

    out = tmp_path / "r"
    shutil.copytree(first_run, out)
    manifest = json.loads((out / MARKER).read_text())
    manifest["files"].remove("report.html")  # as if an older dcplan had not written it
    (out / MARKER).write_text(json.dumps(manifest))
    (out / "report.html").write_text("the user's own page")
    assert main(["run", "-o", str(out)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "report.html" in err and "move them out of the way" in err
    assert (out / "report.html").read_text() == "the user's own page"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("command", [["run"], ["stress"], ["synth", "--sites", "3"]])
def test_a_summary_json_does_not_make_a_folder_dcplans(
        command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§3 (a): only the marker marks a folder as dcplan's."""
    h = tmp_path / "h"
    (h / "Documents").mkdir(parents=True)
    (h / "Documents" / "thesis.tex").write_text("years of work")
    (h / "summary.json").write_text("{}")
    assert main([*command, "-o", str(h)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "not written by dcplan" in err and "Documents" in err
    assert (h / "Documents" / "thesis.tex").read_text() == "years of work"
    assert sorted(p.name for p in h.iterdir()) == ["Documents", "summary.json"]


def test_sweep_refuses_a_folder_of_the_users_and_marks_its_own(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§3 (b): ``sweep -o`` never overwrites the user's summary.json / plan.csv, and the
    folder it writes carries the marker (so a rerun resumes into it)."""
    import yaml

    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"grid": {"years.end": 2027,
                                             "demand_multiplier": [0.9, 1.1]}}))
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "summary.json").write_text('{"mine": true}')
    (theirs / "plan.csv").write_text("my,plan\n")
    argv = ["sweep", "--grid", str(grid), "--workers", "0", "-o"]
    assert main([*argv, str(theirs)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "not written by dcplan" in err
    assert (theirs / "summary.json").read_text() == '{"mine": true}'
    assert (theirs / "plan.csv").read_text() == "my,plan\n"
    assert sorted(p.name for p in theirs.iterdir()) == ["plan.csv", "summary.json"]

    ours = tmp_path / "ours"
    assert main([*argv, str(ours)]) == 0
    manifest = json.loads((ours / MARKER).read_text())
    assert manifest["kind"] == "sweep" and {"plan.csv", "parts"} <= set(manifest["files"])
    (ours / "notes.txt").write_text("mine")
    assert main([*argv, str(ours)]) == 0  # resumes
    assert "0 now, 2 before" in capsys.readouterr().out.replace("\n", " ")
    assert (ours / "notes.txt").read_text() == "mine"
    # a run never replaces a sweep's folder
    assert main(["run", "-o", str(ours)]) == 2
    assert "dcplan sweep" in one_line_error(capsys.readouterr().err)


def test_stress_with_shocks_does_not_overwrite_the_base_case(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """§2.3: the default folder name includes the shocks."""
    from planner.cli.stress import default_folder
    from sites.portfolio import parse_shock

    monkeypatch.chdir(tmp_path)
    base = tmp_path / "runs" / "stress-ai-chains-2026"
    base.mkdir(parents=True)
    (base / MARKER).write_text(json.dumps({"kind": "stress", "target": base.name,
                                           "files": ["summary.json"]}))
    (base / "summary.json").write_text('{"the": "base case"}')
    assert main(["stress", "--shock", "default:microsoft@2028"]) == 0
    assert (base / "summary.json").read_text() == '{"the": "base case"}'
    shocked = tmp_path / "runs" / "stress-ai-chains-2026_default-microsoft-1-2028"
    summary = json.loads((shocked / "summary.json").read_text())
    assert summary["shocks"] == ["default:microsoft:1@2028"]
    # +50% and +0.5 are one shock: one folder; many shocks: a name that still fits
    a = default_folder("p", [parse_shock("power_price:+50%@2027")])
    assert a == default_folder("p", [parse_shock("power_price:+0.5@2027")])
    many = [parse_shock(f"lease_rate:-0.{i}@2027") for i in range(1, 10)] * 3
    assert len(default_folder("p", many)) <= 120


def test_outputs_get_the_users_umask(tmp_path: Path) -> None:
    """§2.7: folders and files as the user's umask makes them (not 0700)."""
    proc = dcplan("synth", "--sites", "3", "-o", "s", cwd=tmp_path, umask=0o027)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s").stat().st_mode & 0o777 == 0o750
    for f in (tmp_path / "s").iterdir():
        assert f.stat().st_mode & 0o777 == 0o640, f
    proc = dcplan("synth", "--sites", "3", "-o", "t", cwd=tmp_path, umask=0o002)
    assert (tmp_path / "t").stat().st_mode & 0o777 == 0o775


# -- the swap: signals, kills, concurrent writers ---------------------------------------

#: A run whose gap chart waits: it writes READY then sleeps, so the test can signal it
#: while the output folder is being written.
SLOW_WRITE = """
import sys, time
from pathlib import Path
import planner.outputs.files
def slow(*a, **k):  # a long write that reaches a safe point every 0.1 s, as real writes do
    from planner.optimize.interrupts import check
    Path(sys.argv[2]).write_text("ready")
    for _ in range(1200):
        time.sleep(0.1)
        check()
planner.outputs.files.plot_gap = slow
from planner.cli.commands import main
sys.exit(main(["run", "-o", sys.argv[1]]))
"""


def _slow_writer(tmp_path: Path, out: Path) -> tuple[subprocess.Popen[str], Path]:
    ready = tmp_path / "READY"
    ready.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, str(out), str(ready)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    t0 = time.monotonic()
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < 300
        time.sleep(0.1)
    return proc, ready


@pytest.fixture()
def previous(first_run: Path, tmp_path: Path) -> Path:
    """A run folder with a file of the user's in it."""
    import shutil

    out = tmp_path / "out"
    shutil.copytree(first_run, out)
    (out / "notes.txt").write_text("mine")
    return out


def test_sigterm_is_handled_like_ctrl_c(previous: Path, tmp_path: Path) -> None:
    """SIGTERM (timeout, systemd, Slurm): one line, exit 143, the previous folder as it
    was, no temporary folder left."""
    before = sorted(p.name for p in previous.iterdir())
    proc, _ = _slow_writer(tmp_path, previous)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=200)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert "error: interrupted; no output was written" in err and "Traceback" not in err
    assert sorted(p.name for p in previous.iterdir()) == before
    assert (previous / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []


def test_a_killed_writer_is_cleaned_up_by_the_next_one(previous: Path, tmp_path: Path) -> None:
    """SIGKILL mid-write leaves a temporary folder; the next write removes it."""
    proc, _ = _slow_writer(tmp_path, previous)
    proc.kill()
    proc.communicate(timeout=60)
    assert len(leftovers(tmp_path)) == 1  # nothing can run on SIGKILL
    assert (previous / "notes.txt").read_text() == "mine"
    done = dcplan("synth", "--sites", "2", "-o", "other", cwd=tmp_path)  # another target
    assert done.returncode == 0 and len(leftovers(tmp_path)) == 1  # not its business
    done = dcplan("run", "-o", str(previous), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert leftovers(tmp_path) == []
    assert (previous / "notes.txt").read_text() == "mine"


#: The fallback swap (no renameat2), killed between its two renames.
KILL_BETWEEN_RENAMES = """
import os, signal, sys
import planner.outputs.outdir as outdir
outdir.exchange = lambda a, b: False
real, calls = os.rename, []
def rename(src, dst):
    real(src, dst)
    calls.append(dst)
    if ".old-" in str(dst):
        os.kill(os.getpid(), signal.SIGKILL)
outdir.os.rename = rename
from planner.cli.commands import main
sys.exit(main(["synth", "--sites", "2", "-o", sys.argv[1]]))
"""


def test_a_kill_between_the_two_renames_is_recovered(tmp_path: Path) -> None:
    """§3 (c): where the one-step swap is missing, a kill between the two renames leaves
    the previous folder hidden; the next write into the target puts it back first, so
    the user's file in it is kept."""
    out = tmp_path / "s"
    assert dcplan("synth", "--sites", "2", "-o", "s", cwd=tmp_path).returncode == 0
    (out / "notes.txt").write_text("mine")
    proc = subprocess.run([sys.executable, "-c", KILL_BETWEEN_RENAMES, str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert not out.exists() and any(".old-" in n for n in leftovers(tmp_path))
    done = dcplan("synth", "--sites", "3", "-o", "s", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (out / "notes.txt").read_text() == "mine"
    assert "s00002" in (out / "sites.csv").read_text()  # the new output
    assert leftovers(tmp_path) == []


def test_a_kill_in_the_old_two_rename_swap_is_recovered(tmp_path: Path) -> None:
    """The layout dcplan before this version left (``.NAME.old-XXXXXXXX/previous``)."""
    from planner.outputs.outdir import recover

    old = tmp_path / ".s.old-ab12cd_9"
    (old / "previous").mkdir(parents=True)
    (old / "previous" / MARKER).write_text("written by dcplan")
    (old / "previous" / "summary.json").write_text("{}")
    (old / "previous" / "notes.txt").write_text("mine")
    tmp = tmp_path / ".s.tmp-x1y2z3_4"  # a temporary folder a SIGTERM left
    tmp.mkdir()
    (tmp / "results.nc").write_text("half")
    assert recover(tmp_path / "s")
    assert (tmp_path / "s" / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []


def test_user_files_that_cannot_be_hard_linked_stop_the_rerun(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the file system has no hard links the user's files cannot be carried over:
    exit 2 naming them, and nothing changes."""
    out = tmp_path / "s"
    assert main(["synth", "--sites", "2", "-o", str(out)]) == 0
    (out / "notes.txt").write_text("mine")
    before = {p.name: p.stat().st_ino for p in out.iterdir()}

    def no_links(*_a: object, **_k: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    capsys.readouterr()
    assert main(["synth", "--sites", "3", "-o", str(out)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "notes.txt" in err and "hard link" in err
    assert {p.name: p.stat().st_ino for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []


def test_a_full_disk_names_the_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while writing names the user's -o, never the temporary folder."""
    import planner.inputs.synth

    def full(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device", "/x/.s.tmp-0123abcd/sites.csv")

    monkeypatch.setattr(planner.inputs.synth.shutil, "copyfile", full)
    assert main(["synth", "--sites", "2", "-o", str(tmp_path / "s")]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert err.startswith("error: s: cannot write the output folder: No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_users_folder_with_a_dcplan_like_name_is_never_cleaned(tmp_path: Path) -> None:
    from planner.outputs.outdir import recover

    for name in (".s.tmp-0123abcd", ".s.old-0123abcd", ".s.tmp-notes"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "thesis.tex").write_text("mine")
    assert recover(tmp_path / "s") == []
    assert all((tmp_path / n / "thesis.tex").is_file()
               for n in (".s.tmp-0123abcd", ".s.old-0123abcd", ".s.tmp-notes"))


#: A writer that swaps only once every writer has its output ready (a barrier on files).
WRITER = """
import sys, time
from pathlib import Path
from planner.outputs.outdir import atomic_folder
target, me, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for round_ in range(12):
    with atomic_folder(target, kind="synth") as tmp:
        (tmp / "who.txt").write_text(me)
        (target.parent / f"ready-{round_}-{me}").write_text("")
        t0 = time.monotonic()
        while (len(list(target.parent.glob(f"ready-{round_}-*"))) < n
               and time.monotonic() - t0 < 60):
            time.sleep(0.002)
"""


def test_three_concurrent_writers_to_one_target(tmp_path: Path) -> None:
    """§3 (c): three writers at once, twelve times, all succeed; the last one wins, nothing
    is left (dcplan's two-rename swap failed here: "No such file or directory", "Directory
    not empty", ``.old-*`` folders left)."""
    target = tmp_path / "t"
    target.mkdir()
    (target / MARKER).write_text("")
    (target / "notes.txt").write_text("mine")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(target), str(i), "3"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i in range(3)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert (target / "who.txt").read_text() in {"0", "1", "2"}
    assert (target / "notes.txt").read_text() == "mine"
    assert leftovers(tmp_path) == []


# -- -o checked before any work ----------------------------------------------------------

@pytest.mark.parametrize("command", [["run"], ["stress"], ["synth", "--sites", "3"],
                                     ["sweep", "--grid", "GRID", "--workers", "0"]])
def test_a_symlink_loop_as_o_is_one_line(command: list[str], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "grid.yaml").write_text("grid:\n  demand_multiplier: [0.9, 1.1]\n")
    command = [str(tmp_path / "grid.yaml") if c == "GRID" else c for c in command]
    os.symlink("loop", tmp_path / "loop")
    assert main([*command, "-o", str(tmp_path / "loop")]) == 2
    assert "symlink loop" in one_line_error(capsys.readouterr().err)


def test_an_unusable_o_fails_before_the_solve(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Unwritable or too long: exit 2 in a second, naming the user's path, no temp name."""
    import planner

    def no_solve(*_a: object, **_k: object) -> None:
        raise AssertionError("solved before checking -o")

    monkeypatch.setattr(planner, "solve", no_solve)
    for bad, words in (("/proc/dcplan-out", "cannot create a folder in '/proc'"),
                       (str(tmp_path / ("x" * 300)), "longer than this file system allows"),
                       (str(tmp_path / "f" / "out"), "is a file")):
        (tmp_path / "f").write_text("a file")
        assert main(["run", "-o", bad]) == 2
        err = one_line_error(capsys.readouterr().err)
        assert words in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_a_long_o_name_that_fits_is_written(tmp_path: Path) -> None:
    """A 250-byte folder name is legal; its temporary sibling must fit too."""
    name = "y" * 250
    proc = dcplan("synth", "--sites", "2", "-o", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / name / "scenario.yaml").is_file()
    assert leftovers(tmp_path) == []


def test_map_o_a_folder_writes_the_default_name_inside_it(
        first_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``map -o DIR``: the map lands in DIR; a GeoJSON's ``name`` is its file's."""
    d = tmp_path / "maps"
    d.mkdir()
    assert main(["map", str(first_run), "-o", str(d)]) == 0
    assert [p.name for p in d.iterdir()] == ["map_load_mw_2040.png"]
    assert main(["map", str(first_run), "-o", str(tmp_path / "x.geojson")]) == 0
    assert json.loads((tmp_path / "x.geojson").read_text())["name"] == "x"
    assert json.loads((tmp_path / "x_sites.geojson").read_text())["name"] == "x_sites"
    capsys.readouterr()
    (tmp_path / "file").write_text("")
    assert main(["map", str(first_run), "-o", str(tmp_path / "file" / "m.png")]) == 2
    one_line_error(capsys.readouterr().err)
