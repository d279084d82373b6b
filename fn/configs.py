"""From config documents to validated clusters, for every shell.

The KRM function and directory mode both hand over the kure-fn documents
they found (Clusters and Profiles, each with where it was read); this module
merges each Cluster with its profiles (`fn.model.profiles`), builds and
validates it (`fn.registry.build_cluster`), applies the fleet rules, and
reports every problem at the document and field path where the offending
value was written.
"""

from __future__ import annotations

from .fleet import fleet_problems
from .model.cluster import Cluster, ConfigError
from .model.config import API_VERSION, KIND, is_cluster_config
from .model.profiles import PROFILE_KIND, Layer, Merged, resolve
from .model.schema import Problem
from .records import dataclass, field
from .registry import build_cluster, engine_for_cluster


def is_profile(obj) -> bool:
    return isinstance(obj, dict) and obj.get("apiVersion") == API_VERSION \
        and obj.get("kind") == PROFILE_KIND


def is_config(obj) -> bool:
    """A kure-fn document: a Cluster or a Profile."""
    return is_cluster_config(obj) or is_profile(obj)


@dataclass(eq=False)
class Document:
    """A Cluster or Profile document and where it was read. `source` is the
    caller's own handle (an item, a file), returned in reports."""

    doc: dict
    file: str | None = None
    source: object = None

    @property
    def kind(self) -> str:
        return self.doc.get("kind", "")

    @property
    def name(self) -> str:
        meta = self.doc.get("metadata") if isinstance(self.doc.get("metadata"), dict) else {}
        name = meta.get("name")
        return name if isinstance(name, str) else ""

    def ref(self) -> dict:
        return {"apiVersion": API_VERSION, "kind": self.kind or KIND, "name": self.name}


@dataclass(frozen=True)
class Report:
    severity: str  # error | warning
    message: str
    path: str | None
    document: Document | None


@dataclass(eq=False)
class Loaded:
    clusters: list[tuple[Cluster, Document]] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    merges: dict = field(default_factory=dict)  # id(cluster) -> (Merged, {document label: Document})

    @property
    def has_errors(self) -> bool:
        return any(r.severity == "error" for r in self.reports)

    def report(self, cluster: Cluster, severity: str, message: str, path: str | None) -> Report:
        """A problem found later (e.g. by a `resources` selector) at a field
        path of the cluster's merged config, placed where it was written."""
        merged, owners = self.merges[id(cluster)]
        return _placed(merged, Problem(path or "", message, severity), owners, owners[""])


def load(documents: list[Document]) -> Loaded:
    """Every Cluster of `documents`, merged with its profiles and validated."""
    out = Loaded()
    profiles: dict[str, tuple[Layer, Document]] = {}
    for d in documents:
        if d.kind != PROFILE_KIND:
            continue
        if not d.name:
            out.reports.append(Report("error", "metadata.name is required: the name clusters "
                                               "list in spec.profiles", "metadata.name", d))
        elif d.name in profiles:
            other = profiles[d.name][1]
            where = f" (the other is in {other.file})" if other.file else ""
            out.reports.append(Report("error", f"two Profiles are named {d.name!r}{where}; "
                                               "each profile needs its own name", "metadata.name", d))
        else:
            profiles[d.name] = (Layer(d.name, d.doc, d.file), d)
    by_label = {f"Profile {name}": d for name, (_, d) in profiles.items()}
    layers = {name: layer for name, (layer, _) in profiles.items()}
    used: set[str] = set()
    for d in documents:
        if d.kind == PROFILE_KIND:
            continue
        merged = resolve(Layer(d.name, d.doc, d.file, KIND), layers)
        used |= merged.used
        owners = {**by_label, "": d}
        for problem, origin in merged.problems:
            out.reports.append(Report("error", problem.message, origin.path,
                                      owners.get(origin.document, d)))
        if merged.problems:
            continue
        try:
            cluster = build_cluster(merged.doc, d.file)
        except ConfigError as e:
            out.reports.extend(_placed(merged, p, owners, d) for p in e.problems)
            continue
        out.reports.extend(_placed(merged, w, owners, d) for w in cluster.warnings)
        out.clusters.append((cluster, d))
        out.merges[id(cluster)] = (merged, owners)
    for i, path, message in fleet_problems([c for c, _ in out.clusters],
                                           [d.file for _, d in out.clusters], engine_for_cluster):
        out.reports.append(Report("error", message, path, out.clusters[i][1]))
    for name in sorted(set(profiles) - used):
        out.reports.append(Report("warning", f"Profile {name!r} is used by no Cluster of this "
                                             "run (spec.profiles)", None, profiles[name][1]))
    return out


def _placed(merged: Merged, problem, owners: dict, cluster_doc: Document) -> Report:
    """A problem of the merged config, at the document and path it came from."""
    if not problem.path:
        return Report(problem.severity, problem.message, None, cluster_doc)
    origin = merged.origin(problem.path)
    return Report(problem.severity, problem.message, origin.path,
                  owners.get(origin.document, cluster_doc))
