"""The layers of the code, written down and checked from its imports (every import, also those
inside functions: an import put off until call time is still an arrow).

Each package imports only its own modules and the packages below it in LAYERS; packages on one
line never import each other. Tests and benchmarks stand outside and may import anything. So the
core imports nothing of ours, the web app and the command line never import each other, and the
development stack (embedded server, demo directory, demo data) reaches no running product code:
only the command line, the tests and the benchmarks start it. No module is part of an import
cycle, whichever way round."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Highest first. A package is named by its import path; `oms.x` names the folder oms/x/.
LAYERS: list[tuple[str, ...]] = [
    ("oms.cli",),
    ("webapp", "oms.devstack"),
    ("replication",),
    ("oms.interchange", "oms.agents"),
    ("oms.fulfilment",),
    ("oms.billing",),
    ("oms.wms",),
    ("oms.ordering",),
    ("oms.crm", "oms.catalog"),
    ("views",),
    ("oms.identity",),
    ("couch_design",),
    ("oms.store",),
    ("oms.core",),
]
PACKAGES = [p for layer in LAYERS for p in layer]
OURS = ("oms", "webapp", "views", "replication", "couch_design")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_modules() -> dict[str, Path]:
    found = {}
    for top in OURS:
        for path in sorted((ROOT / top).rglob("*.py")):
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that `name` imports: `from package import x` is an arrow to the
    submodule x when there is one, else to the package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                       for alias in node.names]
        else:
            continue
        for target in targets:
            while target not in modules and "." in target:
                target = target.rpartition(".")[0]
            if target in modules and target != name:
                found.add(target)
    return found


def graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    modules = modules if modules is not None else our_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def package_of(module: str) -> str | None:
    matches = [p for p in PACKAGES if module == p or module.startswith(p + ".")]
    return max(matches, key=len) if matches else None


def level_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def wrong_arrows(edges: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer or sideways between two packages of one layer."""
    wrong = []
    for source, targets in sorted(edges.items()):
        here = package_of(source)
        for target in sorted(targets):
            there = package_of(target)
            if here is None or there is None or here == there:
                continue
            if level_of(there) <= level_of(here):
                wrong.append(f"{source} -> {target} ({here} may not import {there})")
    return wrong


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_every_module_of_ours_belongs_to_a_layer():
    assert [m for m in our_modules() if package_of(m) is None and "." in m] == []


def test_imports_only_go_down_the_layers():
    assert wrong_arrows(graph()) == []


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_development_stack_is_started_only_by_the_command_line_tests_and_benchmarks():
    users = {m for m, targets in graph().items() if any(package_of(t) == "oms.devstack" for t in targets)}
    assert {package_of(m) for m in users} <= {"oms.cli", "oms.devstack"}


# The checks themselves: they must see an arrow that goes up, one between neighbours, and a cycle.

def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    modules = {}
    for name, source in files.items():
        path = tmp_path / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        modules[name] = path
    return modules


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    return lambda files: graph(_tree(tmp_path, files))


def test_an_upward_import_is_caught(tree):
    edges = tree({"oms.core.money": "def cents(): from oms.ordering.orders import totals\n",
                  "oms.ordering.orders": "totals = None\n"})
    assert wrong_arrows(edges) == ["oms.core.money -> oms.ordering.orders (oms.core may not import oms.ordering)"]


def test_the_web_app_and_the_command_line_may_not_import_each_other(tree):
    edges = tree({"webapp.views": "from oms.cli import main\n", "oms.cli.main": "main = None\n",
                  "oms.devstack.seed": "from webapp import views\n"})
    assert len(wrong_arrows(edges)) == 2


def test_a_cycle_is_caught_even_through_an_import_inside_a_function(tree):
    edges = tree({"oms.ordering.orders": "from . import workflow\n",
                  "oms.ordering.workflow": "def f():\n    from .orders import x\n"})
    assert cycles(edges) == [["oms.ordering.orders", "oms.ordering.workflow"]]
