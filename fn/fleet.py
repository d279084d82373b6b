"""What the clusters of one run may not share: a name, or a tree (one
cluster directory inside another). One rule for the function and for
directory mode."""

from __future__ import annotations

from .layout.plan import TreePlan, overlapping


def fleet_problems(clusters: list, files: list[str | None], engine_for=None
                   ) -> list[tuple[int, str, str]]:
    """(index of the cluster to blame, field path, message) for each clash;
    `files[i]` is where cluster i was read (None: unknown); `engine_for(cluster)`
    gives a cluster's engine, whose `shared_names` the clusters must not share."""
    out: list[tuple[int, str, str]] = []
    first: dict[str, int] = {}
    clashing: set[int] = set()
    for i, cluster in enumerate(clusters):
        j = first.setdefault(cluster.name, i)
        if j != i:
            clashing.add(i)
            where = f" (the other is in {files[j]})" if files[j] else ""
            out.append((i, "metadata.name", f"two Cluster configs are named {cluster.name!r}{where}; "
                                            "each cluster needs its own name"))
    kept = [i for i in range(len(clusters)) if i not in clashing]
    plans = [TreePlan.for_cluster(clusters[i]) for i in kept]
    index = {id(p): i for p, i in zip(plans, kept)}
    for a, b in overlapping(plans):
        out.append((index[id(b)], "spec.layout.root",
                    f"the tree of cluster {b.cluster_name!r} ({b.cluster_dir}/) and the tree of "
                    f"cluster {a.cluster_name!r} ({a.cluster_dir}/) nest inside each other; "
                    "clusters must never share files — give one of them another spec.layout.root"))
    if engine_for is not None:
        out += _shared_names([(i, clusters[i]) for i in kept], files, engine_for)
    return out


def _shared_names(clusters: list, files: list[str | None], engine_for) -> list[tuple[int, str, str]]:
    """Names that one place holds for every cluster of the run (Argo CD
    Applications: the Argo CD namespace) that two clusters give."""
    out: list[tuple[int, str, str]] = []
    first: dict[tuple, tuple[int, str, str]] = {}  # key -> (index, cluster name, field)
    for i, cluster in clusters:
        for key, path, what in engine_for(cluster).shared_names(cluster):
            j, name, other = first.setdefault(key, (i, cluster.name, path))
            if j != i:
                where = f", in {files[j]}" if files[j] else ""
                out.append((i, path, f"{what} is also the name that cluster {name!r} gives at "
                                     f"{other}{where}; rename one of them"))
    return out
