"""Sync waves: Argo CD has no dependsOn, so order comes from the DAG depth.

A bundle's wave is its depth in the bundle dependency graph (a bundle without
dependencies is wave 0; otherwise one more than its deepest dependency). A
helm dependsOn on another bundle's application counts as a dependency on
that bundle. Inside a bundle, a helm Application's wave is its depth among
the helm dependencies within the same bundle.
"""

from __future__ import annotations

from ..graph import depths
from ..model.cluster import Cluster
from .rules import bundle_order


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
                graph[app.name] = [d for d in app.depends_on if d in local]
    return depths(graph)
