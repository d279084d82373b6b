"""Names of the generated Argo CD Applications.

Every Application lives in the Argo CD namespace, so names carry the cluster
name: one Argo CD can hold the trees of several clusters. A helm Application
also carries its bundle's name, because a bundle and its helm application are
often named alike (cert-manager / cert-manager).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..model.cluster import Application, Bundle, Cluster


def root_name(cluster: Cluster) -> str:
    """The app-of-apps root: the cluster's name."""
    return cluster.name


def bundle_name(bundle: Bundle) -> str:
    return f"{bundle.cluster.name}-{bundle.name}"


def helm_name(app: Application) -> str:
    return f"{app.cluster.name}-{app.bundle.name}-{app.name}"


def application_names(cluster: Cluster) -> Iterator[tuple[str, str]]:
    """(Application name, config field that gives it) for every Application."""
    yield root_name(cluster), "metadata.name"
    for b in cluster.bundles():
        yield bundle_name(b), f"{b.path}.name"
    for app in cluster.applications():
        if app.helm is not None:
            yield helm_name(app), f"{app.path}.name"
