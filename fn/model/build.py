"""Building the model: a config document → a validated `Cluster`."""

from __future__ import annotations

from ..kinds import crd_scopes
from . import config as cfg
from .cluster import STAGES, Application, Bundle, Cluster, ConfigError, Node, Source
from .rules import check_cluster
from .salvage import UNSOUND, Salvage
from .schema import Problem, Record

# lists whose entries other fields name (dependsOn, source, helm.dependsOn)
NAMED_LISTS = ("sources", "bundles", "applications")


def build(doc: dict, file: str | None = None, engine_rules=None) -> Cluster:
    """Validate `doc` fully and build the model; raise ConfigError with every
    problem. `engine_rules(cluster)` adds the engine's own problems once the
    model's rules pass (they may rely on every name resolving)."""
    problems: list[Problem] = []
    valid = cfg.CLUSTER.validate(doc, "", problems)
    if problems:
        raise ConfigError(problems + rule_problems_despite(problems, doc, file), file)
    cluster = _model(valid.metadata.name, valid.spec, doc, file)
    problems = check_cluster(cluster)
    if engine_rules is not None and not any(p.is_error for p in problems):
        problems += engine_rules(cluster)
    cluster.warnings = [p for p in problems if not p.is_error]
    errors = [p for p in problems if p.is_error]
    if errors:
        raise ConfigError(errors, file)
    return cluster


def _model(name: str, spec: Record, doc: dict, file: str | None) -> Cluster:
    """The model of a validated spec (a ClusterSpec record)."""
    cluster = Cluster(name=name, spec=spec, document=doc, file=file)
    for i, s in enumerate(spec.sources):
        typ, src = next((t, r) for t, r in (("git", s.git), ("oci", s.oci), ("helm", s.helm),
                                            ("bucket", s.bucket)) if r is not None)
        cluster.sources.setdefault(s.name, Source(s.name, typ, src, f"spec.sources[{i}]"))
    cluster.nodes = [_node(n, cluster, None, f"spec.nodes[{i}]")
                     for i, n in enumerate(spec.nodes)]
    cluster.crd_scopes = crd_scopes(_inline_manifests(cluster))
    return cluster


def rule_problems_despite(errors: list[Problem], doc: object, file: str | None) -> list[Problem]:
    """The model rules' errors over what of `doc` validated, beside its field
    `errors` (amendment C: every problem in one run), except those the field
    errors may have caused. The engine's rules wait for a sound model."""
    if not isinstance(doc, dict):
        return []
    salvage = Salvage(named_lists=NAMED_LISTS)
    spec = salvage.value(cfg.SPEC, doc.get("spec"), "spec")
    if spec is UNSOUND:
        return []
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    name = meta.get("name") if isinstance(meta.get("name"), str) else ""
    record = cfg.SPEC.validate(spec, "spec", [])  # what was salvaged validates
    found = [salvage.problem(p) for p in check_cluster(_model(name, record, doc, file))
             if p.is_error]
    return [p for p in found if not salvage.caused_by_drops(p, errors)]


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


def _inline_manifests(cluster: Cluster):
    for app in cluster.applications():
        yield from app.spec.manifests
        for stage in STAGES:  # helm.pre may well hold the CRDs of helm.post's objects
            yield from app.staged(stage)
