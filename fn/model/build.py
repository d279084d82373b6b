"""Building the model: a config document → a validated `Cluster`."""

from __future__ import annotations

from ..kinds import crd_scopes
from . import config as cfg
from .cluster import STAGES, Application, Bundle, Cluster, ConfigError, Dependency, Node, Source, Tenant
from .defaults import effective_helm, inherit, kustomization_level
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
                                            ("bucket", s.bucket), ("artifact", s.artifact))
                        if r is not None)
        source = Source(s.name, typ, src, f"spec.sources[{i}]",
                        namespace=s.namespace or spec.flux.namespace, overlay=s.spec)
        if typ == "artifact":
            cluster.artifact_sources.setdefault(s.name, source)
            for a in src.artifacts:
                cluster.artifacts.setdefault(a.name, source)
        else:
            cluster.sources.setdefault(s.name, source)
    for i, t in enumerate(spec.tenants):
        cluster.tenants.setdefault(t.name, Tenant(t.name, t, f"spec.tenants[{i}]"))
    top = spec.flux.defaults
    inherited = (kustomization_level(top), (top.helm,) if top.helm is not None else ())
    cluster.nodes = [_node(n, cluster, None, f"spec.nodes[{i}]", inherited)
                     for i, n in enumerate(spec.nodes)]
    _tenant_sources(cluster, spec)
    for b in cluster.bundles():
        cluster.bundle_by_name.setdefault(b.name, b)
        for a in b.applications:
            if a.helm is not None:
                cluster.helm_app_by_name.setdefault(a.name, a)
    cluster.crd_scopes = crd_scopes(_inline_manifests(cluster))
    _resolve_dependencies(cluster)
    return cluster


def _resolve_dependencies(cluster: Cluster) -> None:
    """Each dependsOn entry as a `Dependency`: a string names an object of
    this config; {name, namespace} does when its name is one and its
    namespace (if given) is that object's, else it names an object outside."""
    for b in cluster.bundles():
        b.dependencies = _dependencies(b.spec.dependsOn, cluster.bundle_by_name, cluster)
        for a in b.applications:
            if a.helm is not None:
                a.dependencies = _dependencies(a.helm.dependsOn, cluster.helm_app_by_name, cluster)


def flux_namespace(element: Bundle | Application) -> str:
    """The namespace of the Flux object of a bundle or helm application."""
    return element.flux_namespace


def _dependencies(entries: list, ours: dict, cluster: Cluster) -> list[Dependency]:
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):  # a name of this config, checked by the rules
            target = ours.get(entry)
            ns = flux_namespace(target) if target is not None else cluster.namespace
            out.append(Dependency(entry, ns, i, True))
            continue
        target = ours.get(entry.name)
        if target is not None and entry.namespace in (None, flux_namespace(target)):
            out.append(Dependency(entry.name, flux_namespace(target), i, True))
        else:
            out.append(Dependency(entry.name, entry.namespace, i, False))
    return out


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


def _node(spec: Record, cluster: Cluster, parent: Node | None, path: str,
          inherited: tuple[dict, tuple]) -> Node:
    node = Node(spec.name, cluster, parent, path, spec.source, spec.tenant, defaults=spec.defaults)
    node.kustomization_defaults, node.helm_defaults = inherit(*inherited, spec.defaults)
    # fluxNamespace, inherited downward: computed once here, read as attributes
    node.flux_namespace, node.flux_namespace_path = _flux_ns(
        spec, path, cluster, (parent.flux_namespace, parent.flux_namespace_path) if parent is not None
        else (cluster.spec.flux.namespace, "spec.flux.namespace"))
    for i, b in enumerate(spec.bundles):
        bpath = f"{path}.bundles[{i}]"
        bundle = Bundle(b.name, b, node, bpath)
        ns_inherited = bundle.flux_namespace, bundle.flux_namespace_path = _flux_ns(
            b, bpath, cluster, (node.flux_namespace, node.flux_namespace_path))
        for j, a in enumerate(b.applications):
            app = Application(a.name, a, bundle, f"{bpath}.applications[{j}]",
                              effective_helm=effective_helm(a.helm, node.helm_defaults)
                              if a.helm is not None else None)
            app.flux_namespace, app.flux_namespace_path = _flux_ns(a, app.path, cluster,
                                                                   ns_inherited)
            bundle.applications.append(app)
        node.bundles.append(bundle)
    inherited = (node.kustomization_defaults, node.helm_defaults)
    node.children = [_node(c, cluster, node, f"{path}.children[{i}]", inherited)
                     for i, c in enumerate(spec.children)]
    return node


def _flux_ns(spec: Record, path: str, cluster: Cluster,
             inherited: tuple[str, str]) -> tuple[str, str]:
    """(fluxNamespace, the field that sets it): the element's own, else its
    tenant's first namespace (nodes and bundles), else `inherited`."""
    own = spec.fluxNamespace
    if own:
        return own, f"{path}.fluxNamespace"
    tenant = cluster.tenants.get(getattr(spec, "tenant", None) or "")
    return (tenant.namespace, f"{path}.tenant") if tenant is not None else inherited


def _tenant_sources(cluster: Cluster, spec: Record) -> None:
    """A declared source without a namespace that only bundles of tenants use
    (as their path's source, or a helm.source) lives where those bundles'
    Flux objects do, when that is one namespace: a tenant's references stay
    in its namespace."""
    users: dict[str, set[str | None]] = {}  # source -> namespaces of its users (None: no tenant)
    for b in cluster.bundles():
        tenant = b.tenant
        if b.is_external and b.source_name:
            users.setdefault(b.source_name, set()).add(b.flux_namespace if tenant else None)
        elif not b.is_external:
            users.setdefault(cluster.source_ref.name, set()).add(None)
        for a in b.applications:
            if a.helm is not None and a.helm.source:
                users.setdefault(a.helm.source, set()).add(a.flux_namespace if tenant else None)
    for s in spec.sources:
        where = users.get(s.name, set())
        src = cluster.sources.get(s.name)
        if not s.namespace and len(where) == 1 and None not in where and src is not None:
            src.namespace = next(iter(where))


def _inline_manifests(cluster: Cluster):
    for app in cluster.applications():
        yield from app.spec.manifests
        for stage in STAGES:  # helm.pre may well hold the CRDs of helm.post's objects
            yield from app.staged(stage)
