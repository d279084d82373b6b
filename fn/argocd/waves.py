"""Sync waves: Argo CD has no dependsOn, so order comes from the DAG depth.

A bundle's wave is its depth in the bundle dependency graph (a bundle without
dependencies is wave 0; otherwise one more than its deepest dependency). A
helm dependsOn on another bundle's application counts as a dependency on
that bundle. Inside a bundle, a helm Application's wave is its depth among
the helm dependencies within the same bundle.
"""

from __future__ import annotations

from ..model.checks import bundle_order
from ..model.cluster import Cluster


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


def bundle_waves(cluster: Cluster) -> dict[str, int]:
    """Bundle name -> sync wave of its Application."""
    return depths(bundle_order(cluster))


def helm_waves(cluster: Cluster) -> dict[str, int]:
    """Helm application name -> sync wave of its Application inside its bundle."""
    graph: dict[str, list[str]] = {}
    for bundle in cluster.bundles():
        local = {a.name for a in bundle.applications if a.helm is not None}
        for app in bundle.applications:
            if app.helm is not None:
                graph[app.name] = [d for d in app.helm.get("dependsOn") or [] if d in local]
    return depths(graph)
