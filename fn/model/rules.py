"""Rules that relate several fields of a Cluster config, whatever the engine.

Each rule appends `Problem`s with the field path a user has to change; all
rules run, so one run reports every problem. Engine-only rules live in the
engine (`fn.flux.rules`, `fn.argocd.rules`) and reach a cluster through the
engine's `validate` hook (`fn.registry.build_cluster`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..graph import find_cycles
from ..kinds import api_group, crd_scopes
from ..layout.plan import CONTROL_DIRS, MAX_DIR, MAX_FILE_NAME, MAX_PATH, TreePlan, join
from .cluster import Application, Bundle, Cluster, Node
from .schema import Problem, warning

HELM_RELEASE_MAX = 53
BUNDLE_NAME_MAX = 63  # a DNS-1123 label (config.BUNDLE's name)


def check_cluster(cluster: Cluster) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (_unique_names, _stage_names, _sources, _bundles, _bundle_dependencies,
                 _applications, _helm_dependencies, _directories, _path_lengths, _engine_settings,
                 _tenants):
        rule(cluster, problems)
    return problems


# -- names ---------------------------------------------------------------------

def _duplicates(items: Iterable, key: Callable, path: Callable, what: str,
                problems: list[Problem]) -> None:
    first: dict = {}
    for item in items:
        k = key(item)
        if k in first:
            problems.append(Problem(path(item), f"{what} {k!r} is already used at {path(first[k])}; "
                                                f"choose another name"))
        else:
            first[k] = item


def _unique_names(cluster: Cluster, problems: list[Problem]) -> None:
    sources = cluster.spec.sources
    _duplicates(range(len(sources)), lambda i: sources[i].name,
                lambda i: f"spec.sources[{i}].name", "source name", problems)

    def siblings(nodes: list[Node]) -> None:
        _duplicates(nodes, lambda n: n.name, lambda n: f"{n.path}.name",
                    "node name (among siblings)", problems)
        for n in nodes:
            siblings(n.children)
    siblings(cluster.nodes)
    _duplicates(cluster.bundles(), lambda b: b.name, lambda b: f"{b.path}.name",
                "bundle name (unique in the cluster)", problems)
    for bundle in cluster.bundles():
        _duplicates(bundle.applications, lambda a: a.name, lambda a: f"{a.path}.name",
                    "application name (within the bundle)", problems)
    _duplicates((a for a in cluster.applications() if a.helm is not None), lambda a: a.name,
                lambda a: f"{a.path}.name",
                "helm application name (helm.dependsOn names it, so unique in the cluster, "
                "whatever its fluxNamespace)",
                problems)


def _stage_names(cluster: Cluster, problems: list[Problem]) -> None:
    """<bundle>-pre and <bundle>-post name Flux Kustomizations beside the
    bundles': as long as a bundle name may be, and no bundle's."""
    bundles = {b.name: b for b in cluster.bundles()}
    for b in bundles.values():
        for stage in b.stages:
            name, path = b.stage_name(stage), b.stage_path(stage)
            if len(name) > BUNDLE_NAME_MAX:
                problems.append(Problem(path, f"helm.{stage} is applied by the Flux Kustomization "
                                              f"{name!r}, {len(name)} characters long; at most "
                                              f"{BUNDLE_NAME_MAX} are allowed: shorten the bundle "
                                              "name"))
            if name in bundles:
                problems.append(Problem(path, f"helm.{stage} is applied by the Flux Kustomization "
                                              f"{name!r}, which is the name of bundle "
                                              f"{bundles[name].path}; rename that bundle or "
                                              f"bundle {b.name!r}"))


# -- sources -------------------------------------------------------------------

def _sources(cluster: Cluster, problems: list[Problem]) -> None:
    for node in cluster.walk_nodes():
        if node.source and cluster.source_use(node.source) is None:
            problems.append(Problem(f"{node.path}.source", unknown_source(cluster, node.source)))
    _artifact_sources(cluster, problems)


def unknown_source(cluster: Cluster, name: str) -> str:
    known = ", ".join(sorted(cluster.sources))
    declared = f"declared: {known}" if known else "no source is declared"
    if name in cluster.artifact_sources:
        made = ", ".join(a.name for a in cluster.artifact_sources[name].spec.artifacts)
        return (f"{name!r} is an artifact source (an ArtifactGenerator), which nothing applies "
                f"directly; name one of the artifacts it produces: {made}")
    return (f"source {name!r} is not declared in spec.sources ({declared}); declare it there "
            "or name a declared source")


def _artifact_sources(cluster: Cluster, problems: list[Problem]) -> None:
    """Each alias names a source to split; each copy and revision names an alias;
    the artifacts' names are what bundles and charts name, so they are unique
    and name nothing else."""
    first: dict[str, str] = {}
    for src in cluster.artifact_sources.values():
        a = src.spec
        for alias, name in a.sources.items():
            use = cluster.source_use(name)
            p = f"{src.path}.artifact.sources.{alias}"
            if use is None:
                problems.append(Problem(p, unknown_source(cluster, name)))
            elif use.kind not in SPLITTABLE:
                problems.append(Problem(p, f"{name!r} is a {use.kind}; an artifact source splits "
                                           "a git, oci or bucket source, or the tree's own source"))
        for i, art in enumerate(a.artifacts):
            p = f"{src.path}.artifact.artifacts[{i}]"
            refs = [(f"{p}.{k}", getattr(art, k)) for k in ("originRevision", "revision")]
            refs += [(f"{p}.copy[{j}].from", getattr(c, "from"))
                     for j, c in enumerate(art.copy)]
            for where, ref in refs:
                alias = ref[1:].split("/", 1)[0] if ref else None
                if alias is not None and alias not in a.sources:
                    problems.append(Problem(where, f"alias {alias!r} is not in "
                                                   f"{src.path}.artifact.sources (aliases: "
                                                   f"{', '.join(sorted(a.sources)) or 'none'})"))
            if art.name in first:
                problems.append(Problem(f"{p}.name", f"artifact name {art.name!r} is already used "
                                                     f"at {first[art.name]}; choose another name"))
                continue
            first[art.name] = f"{p}.name"
            if art.name in cluster.sources or art.name == cluster.source_ref.name:
                what = f"of the source at {cluster.sources[art.name].path}" if art.name in \
                    cluster.sources else "of the tree's own source (spec.flux.sourceRef)"
                problems.append(Problem(f"{p}.name", f"{art.name!r} is already the name {what}, "
                                                     "so a source field naming it would be "
                                                     "ambiguous; choose another name"))


SPLITTABLE = ("GitRepository", "OCIRepository", "Bucket")


# -- bundles -------------------------------------------------------------------

def _bundles(cluster: Cluster, problems: list[Problem]) -> None:
    for b in cluster.bundles():
        if b.is_external:
            if b.applications:
                problems.append(Problem(f"{b.path}.applications",
                                        "an external bundle (with path) renders no applications; "
                                        "remove path or move the applications to another bundle"))
            name = b.source_name  # None: the tree's own source
            where = f"{b.path}.source" if b.spec.source else f"{b.path}.path"
            use = cluster.source_use(name)
            if use is None:
                problems.append(Problem(where, unknown_source(cluster, name)))
            elif use.declared is not None and use.declared.type == "helm":
                problems.append(Problem(where, f"source {name!r} is a Helm repository; a bundle path "
                                               "needs a git, oci or bucket source, or an artifact"))
        elif b.spec.source:
            problems.append(Problem(f"{b.path}.source",
                                    "source applies to external bundles only (with path); a rendered "
                                    "bundle always comes from spec.flux.sourceRef — remove source or "
                                    "add path"))


def _bundle_dependencies(cluster: Cluster, problems: list[Problem]) -> None:
    bundles = {b.name: b for b in cluster.bundles()}
    graph: dict[str, list[str]] = {}
    for b in bundles.values():
        edges = []
        _twice(b.dependencies, f"{b.path}.dependsOn", problems)
        for d in b.dependencies:
            p = f"{b.path}.dependsOn[{d.index}]"
            if not d.internal:
                continue  # outside this config: written as given, never checked
            if d.name == b.name:
                problems.append(Problem(p, f"bundle {b.name!r} depends on itself; remove it"))
            elif d.name not in bundles:
                problems.append(Problem(p, f"bundle {d.name!r} does not exist in this cluster "
                                           f"(bundles: {', '.join(sorted(bundles))}); name one "
                                           "of them, remove the entry, or write {name, namespace} "
                                           "for a Kustomization outside this config"))
            else:
                edges.append(d.name)
        graph[b.name] = edges
    for cycle in find_cycles(graph):
        b = bundles[cycle[0]]
        i = next(d.index for d in b.dependencies if d.internal and d.name == cycle[1])
        problems.append(Problem(f"{b.path}.dependsOn[{i}]",
                                "dependency cycle: " + " -> ".join(cycle + [cycle[0]]) +
                                "; Flux would wait forever — remove one of these dependsOn entries"))


def _twice(dependencies, path: str, problems: list[Problem]) -> None:
    """The same object named twice (as a name and as {name, namespace}, say)."""
    seen: dict = {}
    for d in dependencies:
        key = (d.name, d.namespace)
        if key in seen:
            problems.append(Problem(f"{path}[{d.index}]", f"{d.name!r} is already listed at "
                                                          f"{path}[{seen[key]}]; remove this entry"))
        else:
            seen[key] = d.index


# -- applications ----------------------------------------------------------------

def _applications(cluster: Cluster, problems: list[Problem]) -> None:
    for app in cluster.applications():
        if app.helm is not None:
            _helm(cluster, app, problems)
        elif app.spec.fluxNamespace:
            problems.append(Problem(f"{app.path}.fluxNamespace",
                                    "fluxNamespace places a helm application's Flux objects; "
                                    f"this application renders {app.type}, which are no Flux "
                                    "objects: remove it (set namespace for its objects, or "
                                    "fluxNamespace on the bundle for its Kustomization)"))


def _helm(cluster: Cluster, app: Application, problems: list[Problem]) -> None:
    h, p = app.helm, f"{app.path}.helm"
    repo, source_name = h.repository, h.source
    if h.releaseName is None and len(app.name) > HELM_RELEASE_MAX:
        problems.append(Problem(f"{app.path}.name",
                                f"the release name defaults to the application name, which is "
                                f"{len(app.name)} characters; Helm allows {HELM_RELEASE_MAX}: "
                                f"set helm.releaseName"))
    if repo is None and source_name is None:
        problems.append(Problem(p, "set repository (https:// or oci:// chart URL) or source "
                                   "(a declared source)"))
        return
    if repo is not None:
        if repo.startswith("oci://"):
            last = repo.rstrip("/").rsplit("/", 1)[-1]
            if h.chart is not None and h.chart != last:
                problems.append(Problem(f"{p}.chart", f"for an oci:// repository the chart is the URL's "
                                                      f"last segment ({last!r}); remove chart or "
                                                      f"make the URL end with /{h.chart}"))
            if repo.rstrip("/").count("/") < 3:
                problems.append(Problem(f"{p}.repository",
                                        f"{repo!r} is not a chart URL; write the chart's full "
                                        "address, e.g. oci://ghcr.io/org/charts/podinfo"))
        if h.version is None:
            problems.append(Problem(f"{p}.version", "version is required for repository charts: "
                                                    "an exact version (1.16.1) or a range (>=1.16 <2)"))
        return
    src = cluster.sources.get(source_name)
    if src is None and source_name in cluster.artifacts:  # the artifact is the chart (chartRef)
        for key in ("chart", "version"):
            if getattr(h, key) is not None:
                problems.append(Problem(f"{p}.{key}", f"an artifact is the chart itself (a chartRef "
                                                      f"to ExternalArtifact {source_name!r}); remove {key}"))
        return
    if src is None:
        problems.append(Problem(f"{p}.source", unknown_source(cluster, source_name)))
        return
    if src.type in ("git", "bucket") and h.chart is None:
        problems.append(Problem(f"{p}.chart", f"chart is required with a {src.type} source: the "
                                              "chart's path inside the source, e.g. ./charts/app"))
    if src.type == "helm" and h.version is None:
        problems.append(Problem(f"{p}.version", "version is required for charts from a Helm "
                                                "repository: an exact version or a range"))
    if src.type in ("git", "bucket", "oci") and h.version is not None:
        problems.append(Problem(f"{p}.version", f"version does not apply to a chart from a {src.type} "
                                                "source; pin the source's ref instead and remove version"))
    if src.type == "oci" and h.chart is not None:
        problems.append(Problem(f"{p}.chart", "an oci source is the chart itself; remove chart"))
    if src.type in ("git", "bucket") and h.chart is not None:
        chart = h.chart
        if chart.startswith("/") or ".." in chart.split("/"):
            problems.append(Problem(f"{p}.chart", f"{chart!r} must be a path inside source "
                                                  f"{source_name!r}, e.g. ./charts/app"))


def _helm_dependencies(cluster: Cluster, problems: list[Problem]) -> None:
    helm_apps = {a.name: a for a in cluster.applications() if a.helm is not None}
    graph: dict[str, list[str]] = {}
    for app in helm_apps.values():
        edges = []
        _twice(app.dependencies, f"{app.path}.helm.dependsOn", problems)
        for d in app.dependencies:
            p = f"{app.path}.helm.dependsOn[{d.index}]"
            if not d.internal:
                continue  # outside this config: written as given, never checked
            if d.name == app.name:
                problems.append(Problem(p, f"{app.name!r} depends on itself; remove it"))
            elif d.name not in helm_apps:
                problems.append(Problem(p, f"{d.name!r} is not a helm application of this cluster "
                                           f"(helm applications: {', '.join(sorted(helm_apps)) or 'none'}); "
                                           "write {name, namespace} for a HelmRelease outside this config"))
            else:
                edges.append(d.name)
        graph[app.name] = edges
    for cycle in find_cycles(graph):
        app = helm_apps[cycle[0]]
        i = next(d.index for d in app.dependencies if d.internal and d.name == cycle[1])
        problems.append(Problem(f"{app.path}.helm.dependsOn[{i}]",
                                "dependency cycle: " + " -> ".join(cycle + [cycle[0]]) +
                                "; remove one of these dependsOn entries"))


# -- directories -----------------------------------------------------------------

def _directories(cluster: Cluster, problems: list[Problem]) -> None:
    """Nodes and bundles share directory levels: names must not collide."""
    def level(owner_path: str, nodes: list[Node], bundles: list[Bundle], top: bool) -> None:
        control = CONTROL_DIRS[cluster.gitops]
        taken: dict[str, str] = {control: f"the {control} directory"} if top else {}
        for n in nodes:
            if n.name in taken:
                problems.append(Problem(f"{n.path}.name", f"directory {n.name!r} is already used by "
                                                          f"{taken[n.name]}; rename the node"))
            taken.setdefault(n.name, f"node {n.path}")
        for b in bundles:
            if b.is_external:
                continue
            if b.name in taken:
                problems.append(Problem(f"{b.path}.name", f"directory {b.name!r} is already used by "
                                                          f"{taken[b.name]}; rename the bundle"))
            taken.setdefault(b.name, f"bundle {b.path}")
        for b in bundles:  # <bundle>-pre/-post: bundle names are checked by _stage_names
            for stage in b.stages:
                other = taken.get(b.stage_name(stage), "")
                if other.startswith("node "):
                    problems.append(Problem(b.stage_path(stage),
                                            f"helm.{stage} is written to the directory "
                                            f"{b.stage_name(stage)!r}, which is already used by "
                                            f"{other}; rename the node or the bundle"))
        for n in nodes:
            level(n.path, n.children, n.bundles, False)
    level("spec", cluster.nodes, [], True)


def _path_lengths(cluster: Cluster, problems: list[Problem]) -> None:
    """Every directory of the tree can be written, with room for any file
    name (docs/layout.md, Limits). Reported once, at the shallowest element
    whose directory is too long."""
    for segment in cluster.layout.root.split("/"):
        if len(segment.encode()) > MAX_FILE_NAME:
            problems.append(Problem("spec.layout.root",
                                    f"the directory name {segment[:40]!r}... is "
                                    f"{len(segment.encode())} bytes long; file systems allow "
                                    f"{MAX_FILE_NAME}: shorten it"))
            return
    plan = TreePlan.for_cluster(cluster)

    def fits(directory: str, path: str) -> bool:
        size = len(directory.encode())
        if size > MAX_DIR:
            problems.append(Problem(path, f"the directory {directory[:60]}... would be {size} bytes "
                                          f"long; kure-fn keeps directories within {MAX_DIR} bytes, "
                                          f"so that every file path fits in {MAX_PATH}: nest fewer "
                                          "nodes, or use shorter names or a shorter spec.layout.root"))
        return size <= MAX_DIR

    def node(n: Node, parent: str) -> None:  # directories built as TreePlan builds them
        directory = join(parent, n.name)
        if not fits(directory, f"{n.path}.name"):
            return
        for b in n.bundles:
            bundle_dir = join(directory, b.name)
            if not b.is_external and fits(bundle_dir, f"{b.path}.name"):
                for app in b.applications:
                    fits(join(bundle_dir, app.name), f"{app.path}.name")
                for stage in b.stages:  # <bundle>-pre/-post beside the bundle directory
                    stage_dir = join(directory, b.stage_name(stage))
                    if fits(stage_dir, b.stage_path(stage)):
                        for app in b.applications:
                            if app.staged(stage):
                                fits(join(stage_dir, app.name), f"{app.path}.helm.{stage}")
        for child in n.children:
            node(child, directory)

    if fits(join(plan.cluster_dir, CONTROL_DIRS[cluster.gitops]), "spec.layout.root"):
        for n in cluster.nodes:
            node(n, plan.cluster_dir)


# -- the engine's settings ----------------------------------------------------------

def _engine_settings(cluster: Cluster, problems: list[Problem]) -> None:
    """Settings of the engine not chosen are ignored, with a warning. (Read
    from the document as given: the model fills spec.flux and spec.argocd.)"""
    given = cluster.document.get("spec") if isinstance(cluster.document.get("spec"), dict) else {}
    if cluster.gitops == "flux":
        if given.get("argocd") is not None:
            problems.append(warning("spec.argocd", "Argo CD settings are ignored with gitops: flux "
                                                    "(the default); set gitops: argocd to use them"))
        return
    if given.get("flux") is not None:
        problems.append(warning("spec.flux", "Flux settings are ignored with gitops: argocd"))
    for path in _flux_namespace_fields(cluster):
        problems.append(warning(path, "Argo CD writes no Flux objects, so there is nothing for "
                                      "this namespace to place: it is ignored with gitops: argocd "
                                      "(Applications live in spec.argocd.namespace)"))
    if given.get("bootstrap") is not None:
        problems.append(warning("spec.bootstrap", "bootstrap installs Flux and is ignored with "
                                                   "gitops: argocd; the root Application in the "
                                                   "argocd directory is the Argo CD bootstrap"))


def _flux_namespace_fields(cluster: Cluster) -> Iterable[str]:
    """Config fields that set fluxNamespace, and declared sources' namespace."""
    for i, s in enumerate(cluster.spec.sources):
        if s.namespace:
            yield f"spec.sources[{i}].namespace"
    for node in cluster.walk_nodes():
        if node.flux_namespace_path == f"{node.path}.fluxNamespace":
            yield node.flux_namespace_path
        for b in node.bundles:
            for el in (b, *b.applications):
                if el.spec.fluxNamespace:
                    yield f"{el.path}.fluxNamespace"


# -- tenants -----------------------------------------------------------------------

FORBIDDEN_TENANT_ROLES = ("cluster-admin",)


def _tenants(cluster: Cluster, problems: list[Problem]) -> None:
    """Tenant names unique, each namespace one tenant's, no cluster-admin role,
    every `tenant:` naming a declared tenant."""
    tenants = cluster.spec.tenants
    _duplicates(range(len(tenants)), lambda i: tenants[i].name,
                lambda i: f"spec.tenants[{i}].name", "tenant name", problems)
    owner: dict[str, str] = {}
    for t in cluster.tenants.values():
        for i, ns in enumerate(t.namespaces):
            where = f"{t.path}.namespaces[{i}]" if t.spec.namespaces else f"{t.path}.name"
            if ns in owner and owner[ns] != t.name:
                problems.append(Problem(where, f"namespace {ns!r} already belongs to tenant "
                                               f"{owner[ns]!r}; a namespace has one tenant"))
            owner.setdefault(ns, t.name)
        if t.role in FORBIDDEN_TENANT_ROLES:
            problems.append(Problem(f"{t.path}.role",
                                    f"{t.role!r} would let tenant {t.name!r} act on the whole "
                                    "cluster, which defeats the tenant; bind a namespaced role "
                                    "such as admin or edit"))
    declared = ", ".join(sorted(cluster.tenants)) or "none"
    for where, name in [(f"{n.path}.tenant", n.tenant) for n in cluster.walk_nodes() if n.tenant] \
            + [(f"{b.path}.tenant", b.spec.tenant) for b in cluster.bundles() if b.spec.tenant]:
        if name not in cluster.tenants:
            problems.append(Problem(where, f"tenant {name!r} is not declared in spec.tenants "
                                           f"(tenants: {declared}); declare it there or name a "
                                           "declared tenant"))


# -- objects that need a chart's CRDs (platform.md) -----------------------------------

def _builtin_group(group: str) -> bool:
    """Kubernetes' own API groups, and Flux's (installed with Flux)."""
    return group in BUILTIN_GROUPS or group.endswith((".k8s.io", ".fluxcd.io")) \
        or group in ("k8s.io", "fluxcd.io")


BUILTIN_GROUPS = frozenset(("", "apps", "batch", "policy", "autoscaling", "extensions"))


def chart_crd_warnings(cluster: Cluster) -> list[Problem]:
    """A bundle with a helm application whose `manifests` hold an object of a
    custom API group with no CustomResourceDefinition applied earlier: not in
    the package's other items, not in the bundle itself or a bundle it
    (transitively) depends on. Kustomize-controller applies the bundle in
    one go, before the chart can install its CRDs. Needs `cluster.crd_scopes`
    complete with the package's CRDs, so the shells run it once they read them."""
    inline = {b.name: set(crd_scopes(m for a in b.applications for m in a.spec.manifests or ()))
              for b in cluster.bundles()}
    anywhere = set().union(*inline.values()) if inline else set()
    from_package = set(cluster.crd_scopes) - anywhere
    bundles = {b.name: b for b in cluster.bundles()}
    out: list[Problem] = []
    for b in bundles.values():
        if not any(a.helm is not None for a in b.applications) \
                or not any(a.spec.manifests for a in b.applications):
            continue  # no chart, or no object that might need its CRDs
        earlier: set = set(from_package)
        seen, todo = set(), [b.name]
        while todo:
            name = todo.pop()
            if name in seen or name not in bundles:
                continue
            seen.add(name)
            earlier |= inline[name]
            todo += bundles[name].depends_on
        for app in b.applications:
            for i, m in enumerate(app.spec.manifests or ()):
                group = api_group(m.get("apiVersion"))
                if _builtin_group(group) or (group, m.get("kind")) in earlier:
                    continue
                out.append(warning(f"{app.path}.manifests[{i}]",
                                   f"this {m.get('kind')} ({group}) may need the CRDs of a chart of "
                                   f"bundle {b.name!r}, which the bundle applies in the same step, "
                                   "before the chart installs them; move it to helm.post of "
                                   "that chart's application (applied once the release is "
                                   f"Ready), into a bundle that dependsOn {b.name!r}, or add its "
                                   "CustomResourceDefinition to the package"))
    return out
