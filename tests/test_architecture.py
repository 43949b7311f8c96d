"""The structure docs/architecture.md promises, checked on the code itself.

The layer contracts run in CI through import-linter (``lint-imports``); these tests add what
a layers contract cannot say: no import cycle between the modules of any package, and no
module longer than ``MAX_MODULE_LINES`` unless it states at its top why it must be.
"""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "storage", "mt5bridge", "app", "gui")
MAX_MODULE_LINES = 800
#: A module allowed past the limit says why on a line starting with this, near its top.
LONG_MODULE_MARK = "# long-module:"


def _strongly_connected(nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative: the components with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


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
    cycles = _strongly_connected(modules, edges)

    # Assert
    assert cycles == [], f"import cycles in {package}: {cycles}"


def test_cycle_finder_finds_a_cycle() -> None:
    # Arrange: a -> b -> c -> a, and d -> a outside the cycle.
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}

    # Act
    cycles = _strongly_connected(set(edges), edges)

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
