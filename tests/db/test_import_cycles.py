"""No module of ``editor`` or ``netlab`` imports, at load time, a module that imports it back.

Read from the source (module-level imports only; imports inside functions load lazily and
are not cycles at load time), so a cycle is named even when the import order happens to work.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("editor", "netlab")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _load_time_imports(path: Path, known: set[str]) -> set[str]:
    found: set[str] = set()
    for statement in ast.parse(path.read_text()).body:
        if isinstance(statement, ast.Import):
            found.update(alias.name for alias in statement.names)
        elif isinstance(statement, ast.ImportFrom) and statement.module and not statement.level:
            found.add(statement.module)
            found.update(f"{statement.module}.{alias.name}" for alias in statement.names)
    # Importing a.b.c runs a/__init__.py and a/b/__init__.py first.
    with_parents = {
        ".".join(name.split(".")[:end]) for name in found for end in range(1, name.count(".") + 2)
    }
    return with_parents & known


def import_graph() -> dict[str, set[str]]:
    paths = {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    known = set(paths)
    return {
        name: _load_time_imports(path, known) - {name, *_parents(name)}
        for name, path in paths.items()
    }


def _parents(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle met by a depth-first walk, each as the modules along it, first repeated."""
    found: list[list[str]] = []
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = "open"
        path.append(module)
        for imported in sorted(graph.get(module, ())):
            if state.get(imported) == "open":
                found.append([*path[path.index(imported) :], imported])
            elif imported not in state:
                visit(imported)
        path.pop()
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module)
    return found


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        pytest.param({"a": {"b"}, "b": set()}, [], id="a line"),
        pytest.param({"a": {"b"}, "b": {"a"}}, [["a", "b", "a"]], id="two modules"),
        pytest.param({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c", "a"]], id="three"),
    ],
)
def test_cycles_are_found(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(graph) == expected


def test_the_graph_sees_the_api_mounting_the_sharing_router() -> None:
    graph = import_graph()
    assert "editor.api_sharing" in graph["editor.api"]
    assert "editor.api" not in graph["editor.api_sharing"]


def test_no_module_imports_itself_back() -> None:
    assert cycles(import_graph()) == []
