"""Dependency graphs: cycles and depths, by one iterative depth-first walk
(a long chain cannot exhaust the stack)."""

from __future__ import annotations


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One representative cycle per strongly connected loop, deterministically."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []
    seen_sets: set[frozenset] = set()
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(graph.get(start, ())))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            s = state.get(nxt, 0)
            if s == 1:
                cyc = path[path.index(nxt):]
                key = frozenset(cyc)
                if key not in seen_sets:
                    seen_sets.add(key)
                    cycles.append(cyc)
            elif s == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(graph.get(nxt, ()))))
    return cycles


def depths(graph: dict[str, list[str]]) -> dict[str, int]:
    """Depth of every node of an acyclic graph (node -> nodes it follows).
    Iterative, so a long dependency chain cannot exhaust the stack."""
    out: dict[str, int] = {}
    for start in sorted(graph):
        if start in out:
            continue
        stack = [(start, iter(graph[start]))]
        on_path = {start}
        while stack:
            node, following = stack[-1]
            for dep in following:
                if dep in graph and dep not in out:
                    if dep in on_path:
                        raise ValueError(f"dependency cycle through {dep!r}")
                    on_path.add(dep)
                    stack.append((dep, iter(graph[dep])))
                    break
            else:
                out[node] = 1 + max((out[d] for d in graph[node] if d in graph), default=-1)
                on_path.discard(node)
                stack.pop()
    return out
