"""The package imports flow one way and never in a circle; no private names cross modules.

The imports of every module (module level and inside functions; ``if TYPE_CHECKING:``
blocks excluded, they never run) are read from the source with :mod:`ast`, and
:mod:`graphlib` looks for a cycle.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("grids", "sites", "models", "planner")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    """Line numbers inside ``if TYPE_CHECKING:`` blocks."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                out.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return out


def imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports (a ``from pkg import mod`` names ``pkg.mod``)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        deps: set[str] = set()
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    deps.add(full if full in modules else node.module)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def _within(graph: dict[str, set[str]], prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    keep = {m for m in graph if m.split(".")[0] in prefixes}
    return {m: graph[m] & keep for m in keep}


GRAPH = imports(_modules())


def test_the_walk_sees_the_package_imports() -> None:
    """The walk is real: it finds the edges the layout promises (and would see a circle)."""
    assert "models.capacity" in GRAPH["models.model"]
    assert "models.levers.carbon" in GRAPH["models.levers"]
    assert _cycle({"a": {"b"}, "b": {"a"}}) is not None


@pytest.mark.parametrize("prefixes", [("grids",), ("sites",), ("models",),
                                      ("grids", "sites", "models")], ids="+".join)
def test_no_import_circle_below_the_planner(prefixes: tuple[str, ...]) -> None:
    assert _cycle(_within(GRAPH, prefixes)) is None, _cycle(_within(GRAPH, prefixes))


def test_models_never_import_the_planner_and_the_core_never_imports_a_lever() -> None:
    for name, deps in GRAPH.items():
        top = name.split(".")[0]
        if top in ("grids", "sites", "models"):
            assert not any(d.split(".")[0] == "planner" for d in deps), (name, deps)
    assert not any(d.startswith("models.levers") for d in GRAPH["models.capacity"])


def test_no_import_circle_anywhere() -> None:
    assert _cycle(GRAPH) is None, _cycle(GRAPH)


def test_no_private_name_imported_across_modules() -> None:
    """``from pkg.x import _name`` never happens outside ``x`` itself, in any package."""
    bad = []
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module \
                    and node.module.split(".")[0] in PACKAGES:
                bad += [(name, node.module, a.name) for a in node.names
                        if a.name.startswith("_")]
    assert bad == []
