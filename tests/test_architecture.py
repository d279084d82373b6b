"""The layering of `fn/` (../shared/design/architecture.md), read from the
source: no import cycle, counting imports inside functions too; the KRM SDK
layer knows no domain; the config model imports no engine; engines never
import each other or the registry."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import REPO

PACKAGE = REPO / "fn"


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".")
        if not is_package:
            parts = parts[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    # `from . import x` imports the submodule x when there is one, else a
    # name of the package (running a parent package's __init__ on the way is
    # not an edge of the layering: kure-fn's __init__ modules import lazily)
    return [base] + [f"{base}.{a.name}" for a in node.names]


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        tree = ast.parse(path.read_text(), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):  # every import, at any depth
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base, *subs = _resolve(module, is_package, node)
                targets = [t for t in subs if t in files] or [base]
            else:
                continue
            for t in targets:
                if t in files and t != module:
                    graph[module].add(t)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph[todo.pop()]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


GRAPH = import_graph()


def test_the_graph_is_read():
    assert "fn.model.rules" in GRAPH["fn.model.build"]
    assert "fn.function" in GRAPH["fn.cli"]  # an import inside a function counts


def test_no_import_cycle_counting_imports_inside_functions():
    assert strongly_connected(GRAPH) == []


def test_a_cycle_would_be_found():
    graph = {k: set(v) for k, v in GRAPH.items()}
    graph["fn.krm.yamlio"].add("fn.cli")
    assert strongly_connected(graph)


def test_the_krm_layer_knows_no_domain():
    for module, deps in GRAPH.items():
        if module.startswith("fn.krm"):
            outside = {d for d in deps if not d.startswith("fn.krm")}
            assert outside <= {"fn.lazy", "fn.records"}, (module, outside)


ENGINES = ("fn.flux", "fn.argocd")


def test_the_model_imports_no_engine_and_no_shell():
    for module in GRAPH:
        if module.startswith("fn.model"):
            reached = reachable(GRAPH, module)
            bad = {d for d in reached
                   if d.startswith(ENGINES) or d in ("fn.registry", "fn.function", "fn.render",
                                                    "fn.cli", "fn.engine")}
            assert not bad, (module, bad)


def test_engines_import_neither_each_other_nor_the_registry():
    for module, deps in GRAPH.items():
        for engine in ENGINES:
            if module.startswith(engine):
                others = {d for d in deps if d.startswith(ENGINES) and not d.startswith(engine)}
                assert not others, (module, others)
                assert "fn.registry" not in deps and "fn.function" not in deps, module


def test_only_the_shells_import_the_registry():
    importers = {m for m, deps in GRAPH.items() if "fn.registry" in deps}
    assert importers <= {"fn", "fn.cli", "fn.configs", "fn.function", "fn.render"}, importers


def test_layout_and_engine_base_import_no_engine():
    for module in GRAPH:
        if module.startswith("fn.layout") or module == "fn.engine":
            assert not {d for d in reachable(GRAPH, module) if d.startswith(ENGINES)}, module
