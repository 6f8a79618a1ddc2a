"""Output folders that never lose a file a user put there.

``dcplan run``, ``stress`` and ``synth`` write their folder whole: everything goes to a
temporary sibling ``.<name>.tmp-<random>``, which replaces the target only when every
file is complete. The rules:

* Only a folder holding :data:`MARKER` is dcplan's. The marker is a manifest: which
  command wrote the folder and the files it wrote. Any other non-empty folder (or a
  file) as ``-o`` is refused before any work starts, and nothing is touched.
* A rerun replaces only the files the manifest lists. Anything else in the folder —
  a map from ``dcplan map``, the user's ``notes.txt``, a folder of theirs — is carried
  into the new folder (hard links: nothing is copied, nothing can be lost half-way).
  A user file with the name of a file the rerun writes stops the run with exit 2,
  naming it; so does a file system without hard links.
* The swap is one step where the OS has it (Linux ``renameat2(RENAME_EXCHANGE)``,
  :mod:`planner.outputs.renames`); elsewhere two renames that the next write recovers from.
  At every moment the target is the whole previous folder or the whole new one.
* Every writer holds a lock on its temporary folder while it lives, and swaps under a
  lock on the parent folder, so concurrent writers to one target take turns (the last
  one wins) and a writer killed at any point (SIGKILL, power loss) leaves a folder
  that the next write into the same target recognises as stale: it restores the
  previous output if the target is missing, moves back any user file, and removes it.
* Folders and files get the user's normal permissions (their umask), like any file
  they write.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grids.tables import InputError
from planner.optimize.interrupts import check, deferred
from planner.outputs.renames import exchange, rename_new

try:  # POSIX: advisory locks on folders
    import fcntl
except ImportError:  # pragma: no cover - Windows: no locks, no stale-folder cleanup
    fcntl = None  # type: ignore[assignment]

#: Written into every output folder: the manifest of what dcplan wrote there.
MARKER = ".dcplan-output"
#: Temporary folders are ``.<name[:NAME_KEEP]>.tmp-<random>`` (short enough for any name).
NAME_KEEP = 200
TMP_TAG = ".tmp-"
OLD_TAG = ".old-"  # the previous folder between the two renames of the fallback swap
#: Files dcplan before manifests wrote (run, stress, synth): a leftover temporary folder
#: of that version holding nothing else is recognised as one.
LEGACY_NAMES = frozenset({
    MARKER, "results.nc", "summary.json", "gap.csv", "gap.png", "cost_by_component.csv",
    "capacity_by_region.csv", "sites.csv", "chips_installed.csv", "capacity_map.gpkg",
    "report.html", "stress.nc", "operators_by_year.csv", "summary.csv",
    "contracts_by_year.csv", "exposure.csv", "capacity_values.csv", "dscr.png",
    "contract_graph.png", "scenario.yaml", "regions.csv", "regions.geojson", "chips.csv"})
#: How many offending names an error message lists.
SHOW = 5


@dataclass(frozen=True)
class Manifest:
    """What a marker says: the command that wrote the folder and the files it wrote.

    ``files`` is ``None`` for a marker from before manifests (plain text).
    """

    kind: str | None
    target: str | None
    files: frozenset[str] | None
    complete: bool = True


def read_manifest(folder: str | Path) -> Manifest | None:
    """The manifest of ``folder``'s marker, or ``None`` when it has no marker."""
    path = Path(folder) / MARKER
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except (OSError, UnicodeDecodeError):
        return Manifest(None, None, None)
    try:
        data = json.loads(text)
        files = data["files"]
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise TypeError
        return Manifest(str(data.get("kind")), str(data.get("target")), frozenset(files),
                        data.get("state") != "writing")
    except (ValueError, TypeError, KeyError, AttributeError):
        return Manifest(None, None, None)


def write_manifest(folder: Path, kind: str, target_name: str, *, complete: bool = True,
                   files: set[str] | None = None) -> None:
    """Write :data:`MARKER` listing ``files`` (default: every entry now in ``folder``).

    ``complete=False`` marks a temporary folder being written (it names its target,
    so a writer killed half-way is recognised by the next one and only then removed).
    The marker itself is replaced atomically.
    """
    if files is None:
        files = {p.name for p in folder.iterdir() if p.name != MARKER} if complete else set()
    data = {"written_by": "dcplan", "kind": kind, "target": target_name, "files": sorted(files),
            "state": "complete" if complete else "writing",
            "note": "a rerun into this folder replaces only these files and keeps "
                    "anything else"}
    tmp = folder / f"{MARKER}.{secrets.token_hex(4)}.tmp"
    try:
        tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, folder / MARKER)
    finally:
        tmp.unlink(missing_ok=True)


def claim_folder(target: str | Path, kind: str, files: set[str]) -> Path:
    """Create or adopt a folder that dcplan fills file by file (a sweep); returns it.

    The folder must pass :func:`check_output_folder`; its marker then lists ``files``
    (the names the command writes) besides any it listed before. A file of the user's
    with one of those names, in a folder dcplan did not list it in, is refused.
    """
    shown = target
    target = check_output_folder(target, kind)
    manifest = read_manifest(target) if target.is_dir() else None
    known = set(manifest.files) if manifest is not None and manifest.files is not None else set()
    if manifest is not None and manifest.files is None:  # a marker from before manifests
        known = {n for n in files if os.path.lexists(target / n)}
    if manifest is not None and known >= files and manifest.kind == kind:
        return target
    clash = [n for n in files if n not in known and os.path.lexists(target / n)]
    if clash:
        raise InputError(f"the output folder holds {_listing(clash)}, which dcplan did not "
                         "write but would write now; move them out of the way", file=shown)
    try:
        target.mkdir(parents=True, exist_ok=True)
        write_manifest(target, kind, target.name, files=known | set(files))
    except OSError as exc:
        raise _named(exc, shown) from None
    return target


def _listing(names: list[str]) -> str:
    shown = ", ".join(sorted(names)[:SHOW])
    return shown + (f" and {len(names) - SHOW} more" if len(names) > SHOW else "")


def resolve(target: str | Path) -> Path:
    """``target`` as an absolute path with symlinks followed; a loop is an :class:`InputError`."""
    try:
        return Path(target).resolve()
    except (RuntimeError, OSError) as exc:
        raise InputError("the output path is a symlink loop (expected a folder or a new "
                         "name)" if "loop" in str(exc).lower() or getattr(exc, "errno", 0)
                         == errno.ELOOP else f"cannot use the output path: {exc}",
                         file=target) from None


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _path_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_PATH_MAX"))
    except (OSError, ValueError, AttributeError):
        return 4096


def check_writable(target: str | Path) -> Path:
    """Raise :class:`InputError` unless a folder can be created at ``target``.

    Checks that the nearest existing ancestor of its parent is a folder this user
    can create folders in (an empty probe folder, removed at once), that no part of
    the path is too long for the file system and that the whole path fits. Nothing
    is left behind. Returns the resolved target.
    """
    shown = target
    target = resolve(target)
    anc = target.parent  # temporary folders are made beside the target
    while not anc.exists():
        anc = anc.parent
    new_parts = target.relative_to(anc).parts
    if not anc.is_dir():
        raise InputError(f"'{anc}' is a file, so no folder can be made under it "
                         "(expected a folder path)", file=shown)
    probe = anc / f".dcplan-probe-{secrets.token_hex(4)}"  # what the OS says, root or not
    try:
        os.mkdir(probe, 0o700)
    except OSError as exc:
        raise InputError(f"cannot create a folder in '{anc}' ({exc.strerror}); choose an -o "
                         "you can write to", file=shown) from None
    os.rmdir(probe)
    limit = _name_max(anc)
    for part in new_parts:
        if len(os.fsencode(part)) > limit:
            raise InputError(f"the folder name is {len(os.fsencode(part))} bytes, longer "
                             f"than this file system allows ({limit}); choose a shorter -o",
                             file=shown)
    plimit = _path_max(anc)
    if len(os.fsencode(str(target))) + 64 >= plimit:
        raise InputError(f"the output path is {len(os.fsencode(str(target)))} bytes, too long "
                         f"for this file system ({plimit}); choose a shorter -o", file=shown)
    return target


def check_output_folder(target: str | Path, kind: str | None = None) -> Path:
    """Raise :class:`InputError` unless ``target`` may receive an output folder.

    Allowed: a new path that can be created, an empty folder, or a folder dcplan
    wrote (it holds :data:`MARKER`) — of the same ``kind`` when both are known (a
    sweep folder is not replaced by a run). Anything else — a file, a folder of the
    user's own files — is refused, so a mistyped ``-o`` never deletes data. Called
    before the work starts (a bad target fails in a second, not after the solve) and
    again when the folder is swapped in. Returns the resolved target.
    """
    shown = target
    target = check_writable(target)
    if not target.exists():
        return target
    if not target.is_dir():
        raise InputError("the output path exists and is not a folder (expected a folder "
                         "to write, or a new name)", file=shown)
    manifest = read_manifest(target)
    if manifest is not None:
        if kind is not None and manifest.kind not in (None, kind):
            raise InputError(f"the output folder holds the output of dcplan {manifest.kind}, "
                             f"not of dcplan {kind}; choose another -o", file=shown)
        return target
    try:
        entries = [p.name for p in target.iterdir()]
    except OSError as exc:
        raise InputError(f"cannot read the output folder: {exc.strerror}", file=shown) from None
    if entries:
        raise InputError("the output folder is not empty and was not written by dcplan "
                         f"(it holds {_listing(entries)}); refusing to write into it "
                         "(choose another -o, or empty it)", file=shown)
    return target


# ---------------------------------------------------------------- locks and stale folders

def _lock(path: Path, *, block: bool = True) -> int | None:
    """An exclusive lock on folder ``path``: its fd, or ``None`` when held elsewhere."""
    if fcntl is None:
        return -1
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:
        os.close(fd)
        raise
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None and fd >= 0:
        os.close(fd)  # closing the last fd releases the lock


@contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
    fd = _lock(parent)
    try:
        yield
    finally:
        _unlock(fd)


def _prefix(target: Path) -> str:
    """``.<name>`` cut to :data:`NAME_KEEP` bytes, so a temporary name always fits."""
    return "." + os.fsdecode(os.fsencode(target.name)[:NAME_KEEP])


def _stale_siblings(target: Path) -> list[Path]:
    """Temporary and previous folders of ``target`` whose writer is gone (unlocked).

    A folder counts only if its name has dcplan's exact pattern *and* its content says
    it is dcplan's (a marker naming ``target``; for folders of dcplan before manifests,
    a ``previous`` output folder or nothing but dcplan's own file names), so a user's
    folder is never taken for one.
    """
    if fcntl is None:
        return []
    ours = re.compile(re.escape(_prefix(target)) + r"\.(tmp|old)-[0-9a-f]{8}")
    legacy = re.compile(re.escape("." + target.name) + r"\.(tmp|old)-[a-z0-9_]{8}")
    out = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return []
    for p in siblings:
        if p.is_symlink() or not p.is_dir():
            continue
        if ours.fullmatch(p.name):
            m = read_manifest(p)
            if m is None or m.target != target.name:
                continue
        elif legacy.fullmatch(p.name):
            names = {q.name for q in p.iterdir()}
            if not (names == {"previous"} or names <= LEGACY_NAMES):
                continue
        else:
            continue
        fd = _lock(p, block=False)
        if fd is None:
            continue  # a live writer holds it
        _unlock(fd)
        out.append(p)
    return out


def _previous(stale: Path, target: Path) -> Path | None:
    """The whole previous output of ``target`` held by ``stale``, if it holds one."""
    if OLD_TAG not in stale.name:
        return None
    inner = stale / "previous"  # the two-rename swap of dcplan before manifests
    if inner.is_dir() and (read_manifest(inner) is not None or (inner / "summary.json").is_file()):
        return inner
    m = read_manifest(stale)
    return stale if m is not None and m.complete and m.target == target.name else None


def recover(target: str | Path) -> list[str]:
    """Clean up after writers of ``target`` that were killed; returns what was done.

    A stale folder is one whose writer no longer holds its lock. If ``target`` is
    missing (a kill between the two renames of the fallback swap, or of dcplan
    before this version), the previous output is renamed back into place. User
    files found only in a stale previous folder are moved into ``target``. Then
    stale folders are removed. Call with the parent folder locked.
    """
    target = Path(target)
    done: list[str] = []
    stale = _stale_siblings(target)
    if not stale:
        return done
    previous = [(s, inner) for s in stale if (inner := _previous(s, target)) is not None]
    previous.sort(key=lambda pair: pair[1].stat().st_mtime, reverse=True)
    if not os.path.lexists(target) and previous:
        os.rename(previous[0][1], target)
        done.append(f"restored {target.name} from {previous[0][0].name}")
    if target.is_dir() and read_manifest(target) is not None:
        for _s, inner in previous:
            if not inner.exists():
                continue
            for name in _user_entries(inner, read_manifest(inner), set()):
                if not os.path.lexists(target / name):
                    os.rename(inner / name, target / name)
                    done.append(f"moved {name} back into {target.name}")
    for s, _inner in previous:
        if os.path.lexists(s):
            shutil.rmtree(s)
    for s in stale:
        if os.path.lexists(s):
            shutil.rmtree(s)
        done.append(f"removed {s.name}")
    return done


# ------------------------------------------------------------------------------ the swap

def _user_entries(folder: Path, manifest: Manifest | None, new_names: set[str]) -> list[str]:
    """Entries of ``folder`` dcplan did not write (per its manifest; for an old marker
    without a file list: everything the new output does not write)."""
    ours = manifest.files if manifest is not None and manifest.files is not None else new_names
    return sorted(p.name for p in folder.iterdir() if p.name != MARKER and p.name not in ours)


def _link_into(src: Path, dst: Path) -> None:
    """Make ``dst`` the same as ``src`` by hard links (folders recreated, symlinks copied)."""
    if src.is_symlink():
        os.symlink(os.readlink(src), dst)
    elif src.is_dir():
        shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
    else:
        os.link(src, dst)


def _carry_user_files(target: Path, tmp: Path, shown: str | Path) -> None:
    """Hard-link the user's entries of ``target`` into ``tmp``; refuse on a name clash."""
    new_names = {p.name for p in tmp.iterdir() if p.name != MARKER}
    keep = _user_entries(target, read_manifest(target), new_names)
    clash = [n for n in keep if n in new_names]
    if clash:
        raise InputError(f"the output folder holds {_listing(clash)}, which dcplan did not "
                         "write but would write now; move them out of the way (nothing was "
                         "changed)", file=shown)
    for name in keep:
        try:
            _link_into(target / name, tmp / name)
        except OSError as exc:
            raise InputError(f"the output folder holds files dcplan did not write "
                             f"({_listing(keep)}) and they cannot be kept by a hard link here "
                             f"({exc.strerror}); move them out (nothing was changed)",
                             file=shown) from None


def _swap(tmp: Path, target: Path) -> bool:
    """Put ``tmp`` at ``target``; True when ``tmp`` now holds the previous folder."""
    if not os.path.lexists(target):
        try:
            rename_new(tmp, target)
            return False
        except FileExistsError:
            pass  # appeared meanwhile: swap below
    if exchange(tmp, target):
        return True
    # two renames; a kill between them leaves the previous folder at .<name>.old-*,
    # which recover() renames back
    old = target.with_name(f"{_prefix(target)}{OLD_TAG}{secrets.token_hex(4)}")
    os.rename(target, old)
    os.rename(tmp, target)
    os.rename(old, tmp)
    return True


def _make_tmp(target: Path, kind: str | None) -> tuple[Path, int | None]:
    """A new temporary sibling folder (umask permissions), locked for this writer."""
    for _ in range(100):
        tmp = target.with_name(f"{_prefix(target)}{TMP_TAG}{secrets.token_hex(4)}")
        try:
            os.mkdir(tmp, 0o777)  # the umask applies, as for any folder the user makes
        except FileExistsError:
            continue
        fd = _lock(tmp)
        if kind is not None:
            write_manifest(tmp, kind, target.name, complete=False)
        return tmp, fd
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))


def _named(exc: OSError, shown: str | Path) -> InputError:
    return InputError(f"cannot write the output folder: {exc.strerror or exc}", file=shown)


@contextmanager
def atomic_folder(target: str | Path, *, owned: bool = True,
                  kind: str | None = None) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` on success.

    ``owned`` (the default): ``target`` must pass :func:`check_output_folder`, the
    user's files in it are kept (see the module) and the new folder gets
    :data:`MARKER` with ``kind`` (the command: run, stress, synth, sweep).
    ``owned=False`` is for a store whose name the caller controls inside a folder it
    already owns (a sweep's Zarr store): it is replaced whole.
    """
    shown = target
    target = check_output_folder(target, kind) if owned else resolve(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _parent_lock(target.parent):
            recover(target)
        tmp, fd = _make_tmp(target, (kind or "run") if owned else None)
    except OSError as exc:
        raise _named(exc, shown) from None
    try:
        # Ctrl-C / SIGTERM wait until a file is whole (an interrupt inside netCDF's locks can
        # hang the process); pressed while writing, it drops the temporary folder here.
        with deferred(at_end=False):
            try:
                yield tmp
            except OSError as exc:  # disk full, quota: named by the target, not the temp path
                raise _named(exc, shown) from None
            check()
            try:
                if owned:
                    write_manifest(tmp, kind or "run", target.name)
                with _parent_lock(target.parent):
                    if owned:
                        check_output_folder(shown, kind)  # nothing of the user's appeared
                        if target.is_dir():
                            _carry_user_files(target, tmp, shown)
                    elif target.exists() and not target.is_dir():
                        raise InputError("exists and is not a folder", file=shown)
                    if _swap(tmp, target):
                        if owned:  # a file the user made in the instant before the swap
                            for name in _user_entries(tmp, read_manifest(tmp), set()):
                                if not os.path.lexists(target / name):
                                    os.rename(tmp / name, target / name)
                        shutil.rmtree(tmp, ignore_errors=True)
            except OSError as exc:
                raise _named(exc, shown) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        with contextlib.suppress(OSError):
            _unlock(fd)
