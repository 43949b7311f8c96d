"""The structure docs/architecture.md promises, checked on the code itself.

The layer contracts run in CI through import-linter (``lint-imports``); these tests add what
a layers contract cannot say: no import cycle between the modules of any package, and no
module longer than ``MAX_MODULE_LINES`` unless it states at its top why it must be.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest
from helpers.paths import REPO_ROOT

ROOT = REPO_ROOT
PACKAGES = ("engine", "storage", "mt5bridge", "app", "gui")
MAX_MODULE_LINES = 800
#: A module allowed past the limit says why on a line starting with this, near its top.
LONG_MODULE_MARK = "# long-module:"


def _reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    """Every module ``start`` imports, directly or through others."""
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(edges.get(module, ()))
    return seen


def _import_cycles(nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that import each other (directly or round a loop), sorted.

    Two modules are in one group when each reaches the other; quadratic, which is nothing
    for a few hundred modules.
    """
    reach = {node: _reachable(node, edges) for node in nodes}
    groups = {frozenset({node, *(m for m in reach[node] if node in reach[m])})
              for node in nodes if node in reach[node]}
    return sorted(sorted(group) for group in groups)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle_inside_a_package(graph: grimp.ImportGraph, package: str) -> None:
    # Arrange: every module of the package and the imports between them (lazy imports
    # inside functions and TYPE_CHECKING imports count: a cycle hidden there is still one).
    modules = {m for m in graph.modules if m == package or m.startswith(package + ".")}
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}

    # Act
    cycles = _import_cycles(modules, edges)

    # Assert
    assert cycles == [], f"import cycles in {package}: {cycles}"


def test_cycle_finder_finds_a_cycle() -> None:
    # Arrange: a -> b -> c -> a, and d -> a outside the cycle.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    # Act
    cycles = _import_cycles(set(edges), edges)

    # Assert
    assert cycles == [["a", "b", "c"]]


def _product_modules() -> list[Path]:
    files = [ROOT / "main.py"]
    for package in PACKAGES:
        files.extend(sorted((ROOT / package).rglob("*.py")))
    return files


def test_no_module_over_the_limit_without_a_stated_reason() -> None:
    # Arrange
    too_long = []

    # Act
    for path in _product_modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) <= MAX_MODULE_LINES:
            continue
        if not any(line.startswith(LONG_MODULE_MARK) for line in lines[:30]):
            too_long.append(f"{path.relative_to(ROOT)} ({len(lines)} lines)")

    # Assert
    assert too_long == [], (
        f"modules over {MAX_MODULE_LINES} lines without a '{LONG_MODULE_MARK}' reason: "
        f"{too_long}")
