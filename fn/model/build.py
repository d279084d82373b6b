"""Building the model: a config document → a validated `Cluster`."""

from __future__ import annotations

from . import config as cfg
from .cluster import Application, Bundle, Cluster, ConfigError, Node, Source
from .rules import check_cluster
from .schema import Problem, Record


def build(doc: dict, file: str | None = None, engine_rules=None) -> Cluster:
    """Validate `doc` fully and build the model; raise ConfigError with every
    problem. `engine_rules(cluster)` adds the engine's own problems once the
    model's rules pass (they may rely on every name resolving)."""
    problems: list[Problem] = []
    valid = cfg.CLUSTER.validate(doc, "", problems)
    if problems:
        raise ConfigError(problems, file)
    cluster = Cluster(name=valid.metadata.name, spec=valid.spec, document=doc, file=file)
    for i, s in enumerate(valid.spec.sources):
        typ, spec = next((t, r) for t, r in (("git", s.git), ("oci", s.oci), ("helm", s.helm),
                                             ("bucket", s.bucket)) if r is not None)
        cluster.sources.setdefault(s.name, Source(s.name, typ, spec, f"spec.sources[{i}]"))
    cluster.nodes = [_node(n, cluster, None, f"spec.nodes[{i}]")
                     for i, n in enumerate(valid.spec.nodes)]
    problems = check_cluster(cluster)
    if engine_rules is not None and not any(p.is_error for p in problems):
        problems += engine_rules(cluster)
    cluster.warnings = [p for p in problems if not p.is_error]
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ConfigError(errors, file)
    return cluster


def _node(spec: Record, cluster: Cluster, parent: Node | None, path: str) -> Node:
    node = Node(spec.name, cluster, parent, path, spec.source)
    for i, b in enumerate(spec.bundles):
        bpath = f"{path}.bundles[{i}]"
        bundle = Bundle(b.name, b, node, bpath)
        bundle.applications = [Application(a.name, a, bundle, f"{bpath}.applications[{j}]")
                               for j, a in enumerate(b.applications)]
        node.bundles.append(bundle)
    node.children = [_node(c, cluster, node, f"{path}.children[{i}]")
                     for i, c in enumerate(spec.children)]
    return node
