"""The import graph of bots_scheduler: no cycles between its parts, and the bottom stays bottom.

A part is a package or module directly under ``bots_scheduler/`` (``scheduling``, ``datastore``,
``settings``...). Every import counts, deferred ones inside functions included: a cycle hidden in
a function is still two parts that cannot be understood (or changed) one without the other.
Imports under ``if TYPE_CHECKING:`` are left out (annotations only, never run). The root
``bots_scheduler/__init__.py`` is the public job API (it re-exports ``jobs``) and not a part.
"""
from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

PACKAGE = Path(__file__).resolve().parent.parent / "bots_scheduler"
ROOT = "bots_scheduler"
# modules at the bottom of the package: they import nothing of ours
BOTTOM = ("errors", "defaults")
# cycles known and being removed (the test is strict both ways: a new cycle fails, and so does
# a listed one that is gone); the last one, scheduling <-> cluster, went with the composition
# root of issue 15 (app.py builds the job store and the executor and hands them over)
KNOWN_CYCLES: list[list[str]] = []


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, module: str, is_package: bool):
    """(imported module, line) for every import of ours in ``tree``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + (1 if is_package else 0)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                # `from bots_scheduler.scheduling import jobspec` imports a module
                yield f"{target}.{alias.name}", node.lineno
            yield target, node.lineno
        stack.extend(ast.iter_child_nodes(node))


def _part(name: str) -> str | None:
    """The part of bots_scheduler that ``name`` belongs to, or None (not ours, or the root)."""
    pieces = name.split(".")
    if pieces[0] != ROOT or len(pieces) < 2:
        return None
    first = pieces[1]
    if (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").is_file():
        return first
    return None      # a name of the root package (`from bots_scheduler import __version__`)


@functools.cache
def import_graph() -> dict[str, dict[str, list[str]]]:
    """part -> {imported part: ["module:line", ...]}"""
    graph: dict[str, dict[str, list[str]]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = _part(module)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        edges = graph.setdefault(source, {})
        for target_name, line in _imports(tree, module, path.name == "__init__.py"):
            target = _part(target_name)
            if target is not None and target != source:
                where = f"{module}:{line}"
                if where not in edges.setdefault(target, []):
                    edges[target].append(where)
    return graph


def cycles(graph: dict[str, dict[str, list[str]]]) -> list[list[str]]:
    """The strongly connected components of more than one part (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(graph, component: list[str]) -> str:
    lines = [f"cycle between {', '.join(component)}:"]
    for source in component:
        for target, places in sorted(graph.get(source, {}).items()):
            if target in component:
                lines.append(f"  {source} -> {target}  ({', '.join(places[:3])})")
    return "\n".join(lines)


def test_no_import_cycles_between_the_parts_of_the_package():
    graph = import_graph()
    found = cycles(graph)
    assert found == KNOWN_CYCLES, "\n".join(_describe(graph, component) for component in found)


@pytest.mark.parametrize("bottom", BOTTOM)
def test_the_bottom_modules_import_nothing_of_ours(bottom):
    assert import_graph().get(bottom, {}) == {}


def test_the_cycle_finder_reports_a_cycle():
    # the test above is only as good as this: a made-up graph with a -> b -> c -> a and d alone
    graph = {"a": {"b": ["a:1"]}, "b": {"c": ["b:1"]}, "c": {"a": ["c:1"]}, "d": {"a": ["d:1"]}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert "c -> a" in _describe(graph, ["a", "b", "c"])


def test_the_graph_sees_deferred_and_relative_imports():
    graph = import_graph()
    # settings.py imports the proxy inside build_run_settings (deferred)
    assert "proxy" in graph["settings"]
    # and every part that raises our errors depends on the error module
    assert "errors" in graph["datastore"]


def test_the_proxy_process_does_not_load_the_database_layer():
    # the mitmproxy child imports the addon; it needs neither SQLAlchemy nor Tornado
    code = ("import sys, bots_scheduler.proxy.addon; "
            "print(sorted({'sqlalchemy', 'tornado', 'apscheduler'} & set(sys.modules)))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60).stdout.strip()
    assert loaded == "[]"
