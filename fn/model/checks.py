"""Rules that relate several fields of a Cluster config.

Each rule appends `Problem`s with the field path a user has to change; all
rules run, so one run reports every problem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .. import lazy
from .cluster import Application, Bundle, Cluster, Node, Warning_
from .schema import Problem

CONTROL_DIRS = {"flux": "flux-system", "argocd": "argocd"}  # = layout.plan FLUX_DIR, ARGOCD_DIR
EXACT_VERSION = lazy.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?")
HELM_RELEASE_MAX = 53


def check_cluster(cluster: Cluster, valid: dict) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (_unique_names, _sources, _bundles, _bundle_dependencies, _applications,
                 _helm_dependencies, _ordering, _helm_timeouts, _bootstrap, _directories,
                 _engine_settings, _argocd):
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
    sources = cluster.spec["sources"]
    _duplicates(range(len(sources)), lambda i: sources[i]["name"],
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
                "helm application name (HelmReleases share the Flux namespace, so unique in the cluster)",
                problems)
    for bundle in cluster.bundles():
        if cluster.gitops == "flux" and bundle.name == cluster.namespace:
            problems.append(Problem(f"{bundle.path}.name",
                                    f"{bundle.name!r} is the name of the bootstrap Kustomization "
                                    f"(named after the Flux namespace); choose another name"))


# -- sources -------------------------------------------------------------------

def _sources(cluster: Cluster, problems: list[Problem]) -> None:
    for node in cluster.walk_nodes():
        if node.source and node.source not in cluster.sources:
            problems.append(Problem(f"{node.path}.source", _unknown_source(cluster, node.source)))
    if cluster.gitops != "flux":
        return  # the rest is about Flux's sourceRef and bootstrap
    ref = cluster.source_ref
    name = ref["name"]
    src = cluster.sources.get(name)
    if src is not None and src.kind != ref["kind"]:
        problems.append(Problem("spec.flux.sourceRef.kind",
                                f"source {name!r} is declared as {src.type} ({src.kind}), "
                                f"but sourceRef.kind is {ref['kind']}; make them agree"))
    sync = (cluster.bootstrap or {}).get("sync")
    if sync and name == cluster.namespace and sync["kind"] != ref["kind"]:
        problems.append(Problem("spec.flux.sourceRef.kind",
                                f"bootstrap syncs from a {sync['kind']} named {name!r}, but "
                                f"sourceRef.kind is {ref['kind']}; make them agree"))
    if sync and name == cluster.namespace and name in cluster.sources:
        problems.append(Problem(cluster.sources[name].path + ".name",
                                f"bootstrap creates the source {name!r}; declare it only once "
                                "(remove it from spec.sources or from spec.bootstrap.sync)"))


def _unknown_source(cluster: Cluster, name: str) -> str:
    known = ", ".join(sorted(cluster.sources))
    declared = f"declared: {known}" if known else "no source is declared"
    return (f"source {name!r} is not declared in spec.sources ({declared}); declare it there "
            "or name a declared source")


# -- bundles -------------------------------------------------------------------

def _bundles(cluster: Cluster, problems: list[Problem]) -> None:
    for b in cluster.bundles():
        if b.is_external:
            if b.applications:
                problems.append(Problem(f"{b.path}.applications",
                                        "an external bundle (with path) renders no applications; "
                                        "remove path or move the applications to another bundle"))
            name = b.source_name
            where = f"{b.path}.source" if b.spec.get("source") else f"{b.path}.path"
            if name is None:
                problems.append(Problem(where, "an external bundle needs a source: set source on the "
                                               "bundle or on a node above it"))
            elif name not in cluster.sources:
                problems.append(Problem(where, _unknown_source(cluster, name)))
            elif cluster.sources[name].type == "helm":
                problems.append(Problem(where, f"source {name!r} is a Helm repository; a bundle path "
                                               "needs a git, oci or bucket source"))
        elif b.spec.get("source"):
            problems.append(Problem(f"{b.path}.source",
                                    "source applies to external bundles only (with path); a rendered "
                                    "bundle always comes from spec.flux.sourceRef — remove source or "
                                    "add path"))
        if cluster.gitops == "flux" and b.spec.get("healthChecks") and b.spec.get("wait") is True:
            problems.append(Warning_(f"{b.path}.healthChecks",
                                     "Flux ignores healthChecks when wait is true (wait already checks "
                                     "every applied object); remove wait: true or the healthChecks"))


def _bundle_dependencies(cluster: Cluster, problems: list[Problem]) -> None:
    bundles = {b.name: b for b in cluster.bundles()}
    graph: dict[str, list[str]] = {}
    for b in bundles.values():
        edges = []
        for i, dep in enumerate(b.depends_on):
            p = f"{b.path}.dependsOn[{i}]"
            if dep == b.name:
                problems.append(Problem(p, f"bundle {b.name!r} depends on itself; remove it"))
            elif dep not in bundles:
                problems.append(Problem(p, f"bundle {dep!r} does not exist in this cluster "
                                           f"(bundles: {', '.join(sorted(bundles))}); name one "
                                           "of them or remove the entry"))
            else:
                edges.append(dep)
        graph[b.name] = edges
    for cycle in find_cycles(graph):
        b = bundles[cycle[0]]
        i = b.depends_on.index(cycle[1])
        problems.append(Problem(f"{b.path}.dependsOn[{i}]",
                                "dependency cycle: " + " -> ".join(cycle + [cycle[0]]) +
                                "; Flux would wait forever — remove one of these dependsOn entries"))


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


# -- applications ----------------------------------------------------------------

def _applications(cluster: Cluster, problems: list[Problem]) -> None:
    for app in cluster.applications():
        if app.helm is not None:
            _helm(cluster, app, problems)
        elif app.spec.get("manifests") is not None:
            _manifests(app, problems)
    if cluster.gitops != "flux":
        return  # the rest is about HelmReleases
    _values_config_maps(cluster, problems)
    for b in cluster.bundles():
        target = b.spec.get("targetNamespace")
        helm_apps = [a.name for a in b.applications if a.helm is not None]
        if target and target != cluster.namespace and helm_apps:
            problems.append(Problem(
                f"{b.path}.targetNamespace",
                f"targetNamespace would move the HelmReleases of this bundle ({', '.join(helm_apps)}) "
                f"out of {cluster.namespace!r}: Flux rewrites the namespace of every object it builds, "
                "which breaks their health checks, dependsOn and values references; set "
                "helm.targetNamespace (or the application namespace) to choose where a chart installs"))


def _helm(cluster: Cluster, app: Application, problems: list[Problem]) -> None:
    h, p = app.helm, f"{app.path}.helm"
    repo, source_name = h.get("repository"), h.get("source")
    if h.get("releaseName") is None and len(app.name) > HELM_RELEASE_MAX:
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
            if h.get("chart") is not None and h["chart"] != last:
                problems.append(Problem(f"{p}.chart", f"for an oci:// repository the chart is the URL's "
                                                      f"last segment ({last!r}); remove chart or "
                                                      f"make the URL end with /{h['chart']}"))
            if repo.rstrip("/").count("/") < 3:
                problems.append(Problem(f"{p}.repository",
                                        f"{repo!r} is not a chart URL; write the chart's full "
                                        "address, e.g. oci://ghcr.io/org/charts/podinfo"))
        if h.get("version") is None:
            problems.append(Problem(f"{p}.version", "version is required for repository charts: "
                                                    "an exact version (1.16.1) or a range (>=1.16 <2)"))
        return
    src = cluster.sources.get(source_name)
    if src is None:
        problems.append(Problem(f"{p}.source", _unknown_source(cluster, source_name)))
        return
    if src.type in ("git", "bucket") and h.get("chart") is None:
        problems.append(Problem(f"{p}.chart", f"chart is required with a {src.type} source: the "
                                              "chart's path inside the source, e.g. ./charts/app"))
    if src.type == "helm" and h.get("version") is None:
        problems.append(Problem(f"{p}.version", "version is required for charts from a Helm "
                                                "repository: an exact version or a range"))
    if src.type in ("git", "bucket", "oci") and h.get("version") is not None:
        problems.append(Problem(f"{p}.version", f"version does not apply to a chart from a {src.type} "
                                                "source; pin the source's ref instead and remove version"))
    if src.type == "oci" and h.get("chart") is not None:
        problems.append(Problem(f"{p}.chart", "an oci source is the chart itself; remove chart"))
    if src.type in ("git", "bucket") and h.get("chart") is not None:
        chart = h["chart"]
        if chart.startswith("/") or ".." in chart.split("/"):
            problems.append(Problem(f"{p}.chart", f"{chart!r} must be a path inside source "
                                                  f"{source_name!r}, e.g. ./charts/app"))
    if src.type == "oci" and cluster.gitops == "flux":
        users = [b for b in cluster.bundles() if b.is_external and b.source_name == source_name]
        if users:
            problems.append(Problem(f"{p}.source",
                                    f"oci source {source_name!r} is also the source of bundle "
                                    f"{users[0].name!r}: a chart needs its Helm layer copied, a bundle "
                                    "needs its artifact extracted; declare a second oci source for "
                                    "one of them"))


def _values_config_maps(cluster: Cluster, problems: list[Problem]) -> None:
    """A values ConfigMap must not meet an inline ConfigMap of the same name."""
    ns = cluster.namespace
    ours = {f"{a.name}-values": a for a in cluster.applications()
            if a.helm is not None and a.helm.get("valuesConfigMap")}
    for app in cluster.applications():
        for i, m in enumerate(app.spec.get("manifests") or []):
            meta = m.get("metadata") or {}
            if m.get("kind") == "ConfigMap" and meta.get("name") in ours \
                    and (meta.get("namespace") or app.namespace) == ns:
                owner = ours[meta["name"]]
                problems.append(Problem(f"{app.path}.manifests[{i}]",
                                        f"ConfigMap {ns}/{meta['name']} is also the values ConfigMap of "
                                        f"helm application {owner.name!r} (valuesConfigMap); rename "
                                        "this ConfigMap"))


def _manifests(app: Application, problems: list[Problem]) -> None:
    seen: dict = {}
    for i, m in enumerate(app.spec["manifests"]):
        meta = m.get("metadata") or {}
        key = (m.get("apiVersion", "").split("/")[0] if "/" in m.get("apiVersion", "") else "",
               m.get("kind"), meta.get("namespace"), meta.get("name"))
        if key in seen:
            problems.append(Problem(f"{app.path}.manifests[{i}]",
                                    f"{m.get('kind')} {meta.get('name')!r} is already defined at "
                                    f"manifests[{seen[key]}]"))
        else:
            seen[key] = i


def _helm_dependencies(cluster: Cluster, problems: list[Problem]) -> None:
    helm_apps = {a.name: a for a in cluster.applications() if a.helm is not None}
    graph: dict[str, list[str]] = {}
    for app in helm_apps.values():
        edges = []
        for i, dep in enumerate(app.helm.get("dependsOn") or []):
            p = f"{app.path}.helm.dependsOn[{i}]"
            if dep == app.name:
                problems.append(Problem(p, f"{app.name!r} depends on itself; remove it"))
            elif dep not in helm_apps:
                problems.append(Problem(p, f"{dep!r} is not a helm application of this cluster "
                                           f"(helm applications: {', '.join(sorted(helm_apps)) or 'none'})"))
            else:
                edges.append(dep)
        graph[app.name] = edges
    for cycle in find_cycles(graph):
        app = helm_apps[cycle[0]]
        i = app.helm["dependsOn"].index(cycle[1])
        problems.append(Problem(f"{app.path}.helm.dependsOn[{i}]",
                                "dependency cycle: " + " -> ".join(cycle + [cycle[0]]) +
                                "; remove one of these dependsOn entries"))


# -- ordering across kinds -------------------------------------------------------

def _ordering(cluster: Cluster, problems: list[Problem]) -> None:
    """Waits that Flux can never satisfy because they cross kinds.

    A bundle Kustomization is Ready only once its HelmReleases are Ready (it
    waits for them: `wait`, or health checks); a HelmRelease exists only once
    its bundle is applied, and that happens only once the bundle's
    dependencies are Ready. So a HelmRelease that depends on a release in a
    bundle which (transitively) waits for the first one's bundle deadlocks,
    although neither dependsOn list has a cycle of its own.
    """
    if cluster.gitops != "flux":
        return  # Argo CD: sync waves, checked by _argocd
    ns = cluster.namespace
    helm_apps = {a.name: a for a in cluster.applications() if a.helm is not None}
    bundles = {b.name: b for b in cluster.bundles()}
    graph: dict[str, list[str]] = {}
    why: dict[tuple[str, str], tuple[str | None, str]] = {}  # edge -> (config path, words)

    def edge(a: str, b: str, path: str | None, words: str) -> None:
        graph.setdefault(a, []).append(b)
        why.setdefault((a, b), (path, words))

    for b in bundles.values():
        edge(f"ready:{b.name}", f"apply:{b.name}", None, "")
        for i, dep in enumerate(b.depends_on):
            if dep in bundles:
                edge(f"apply:{b.name}", f"ready:{dep}", f"{b.path}.dependsOn[{i}]",
                     f"bundle {b.name!r} starts only after bundle {dep!r} is Ready")
        for app in b.applications:
            if app.helm is not None:
                edge(f"ready:{b.name}", f"hr:{app.name}", None,
                     f"bundle {b.name!r} is Ready only once its HelmRelease {app.name!r} is")
        for i, hc in enumerate(b.spec.get("healthChecks") or []):
            if hc.get("kind") == "HelmRelease" and hc.get("name") in helm_apps \
                    and (hc.get("namespace") or ns) == ns:
                edge(f"ready:{b.name}", f"hr:{hc['name']}", f"{b.path}.healthChecks[{i}]",
                     f"bundle {b.name!r} health-checks HelmRelease {hc['name']!r}")
    for app in helm_apps.values():
        edge(f"hr:{app.name}", f"apply:{app.bundle.name}", None,
             f"HelmRelease {app.name!r} is applied by bundle {app.bundle.name!r}")
        for i, dep in enumerate(app.helm.get("dependsOn") or []):
            if dep in helm_apps and dep != app.name:
                edge(f"hr:{app.name}", f"hr:{dep}", f"{app.path}.helm.dependsOn[{i}]",
                     f"HelmRelease {app.name!r} waits for HelmRelease {dep!r}")
    for cycle in find_cycles(graph):
        kinds = {n.split(":", 1)[0] for n in cycle}
        if not {"hr", "apply"} <= kinds:
            continue  # a pure bundle or pure helm cycle: reported by its own rule
        edges = list(zip(cycle, cycle[1:] + cycle[:1]))
        start = next((i for i, e in enumerate(edges)
                      if e[0].startswith("hr:") and e[1].startswith("hr:")
                      or why[e][0] and ".healthChecks[" in why[e][0]), 0)
        edges = edges[start:] + edges[:start]
        words = [why[e][1] for e in edges if why[e][1]]
        path = next(why[e][0] for e in edges if why[e][0])
        problems.append(Problem(path, "ordering deadlock: " + "; ".join(words) +
                                " — nothing can start. Remove one of these dependencies, or put the "
                                "releases that wait for each other into one bundle"))


def _seconds(duration: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    import re  # only for the helm timeout check
    return sum(float(n) * units[u] for n, u in re.findall(r"([0-9.]+)(ms|s|m|h)", duration))


def _helm_timeouts(cluster: Cluster, problems: list[Problem]) -> None:
    if cluster.gitops != "flux":
        return
    for b in cluster.bundles():
        bundle_timeout = b.setting("timeout")
        for app in b.applications:
            t = (app.helm or {}).get("timeout")
            if t and bundle_timeout and _seconds(t) > _seconds(bundle_timeout):
                problems.append(Warning_(
                    f"{app.path}.helm.timeout",
                    f"Helm actions of {app.name!r} may take {t}, longer than the timeout of bundle "
                    f"{b.name!r} ({bundle_timeout}), which waits for the release: the bundle would "
                    f"report failure while the release is still installing; set the bundle's "
                    f"timeout to at least {t}"))


# -- bootstrap -------------------------------------------------------------------

def _bootstrap(cluster: Cluster, problems: list[Problem]) -> None:
    b = cluster.bootstrap
    if not b or not b.get("sync") or cluster.gitops != "flux":
        return
    sync = b["sync"]
    url = sync["url"]
    if sync["kind"] == "OCIRepository" and not url.startswith("oci://"):
        problems.append(Problem("spec.bootstrap.sync.url", "an OCIRepository sync needs an oci:// URL; write "
                                "oci://<registry>/<repository> or set sync.kind: GitRepository"))
    if sync["kind"] == "GitRepository" and url.startswith("oci://"):
        problems.append(Problem("spec.bootstrap.sync.url",
                                "a GitRepository sync needs an https:// or ssh:// URL; "
                                "for oci:// set sync.kind: OCIRepository"))


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
        for n in nodes:
            level(n.path, n.children, n.bundles, False)
    level("spec", cluster.nodes, [], True)


# -- the engine's settings ----------------------------------------------------------

def _engine_settings(cluster: Cluster, problems: list[Problem]) -> None:
    """Settings of the engine not chosen are ignored, with a warning."""
    given = cluster.document.get("spec") if isinstance(cluster.document.get("spec"), dict) else {}
    if cluster.gitops == "flux":
        if given.get("argocd") is not None:
            problems.append(Warning_("spec.argocd", "Argo CD settings are ignored with gitops: flux "
                                                    "(the default); set gitops: argocd to use them"))
        return
    if given.get("flux") is not None:
        problems.append(Warning_("spec.flux", "Flux settings are ignored with gitops: argocd"))
    if given.get("bootstrap") is not None:
        problems.append(Warning_("spec.bootstrap", "bootstrap installs Flux and is ignored with "
                                                   "gitops: argocd; the root Application in the "
                                                   "argocd directory is the Argo CD bootstrap"))


# -- Argo CD ---------------------------------------------------------------------------

# Bundle and helm settings without an Argo CD equivalent. Those that change what
# is deployed are errors; those that only tune how Flux reconciles are ignored.
ARGOCD_BUNDLE_ERRORS = {
    "postBuild": "Argo CD has no post-build variable substitution, so ${VAR} would be applied "
                 "literally; write the values into the manifests or use gitops: flux",
    "decryption": "Argo CD does not decrypt SOPS secrets, so they would be applied encrypted; "
                  "use a secrets operator (e.g. external-secrets) or gitops: flux",
    "serviceAccountName": "Argo CD sets impersonation in the AppProject "
                          "(destinationServiceAccounts), not per Application; remove it and "
                          "configure the project",
}
ARGOCD_BUNDLE_IGNORED = ("interval", "retryInterval", "timeout", "wait", "force", "healthChecks")
ARGOCD_HELM_ERRORS = {
    "valuesFrom": "Argo CD reads Helm values only from the Application (valuesObject), not from "
                  "ConfigMaps or Secrets; move them into helm.values",
    "serviceAccountName": ARGOCD_BUNDLE_ERRORS["serviceAccountName"],
}
ARGOCD_HELM_IGNORED = ("interval", "timeout", "remediation", "driftDetection", "valuesConfigMap")


def bundle_order(cluster: Cluster) -> dict[str, list[str]]:
    """For each bundle, the bundles it must follow under Argo CD: its dependsOn,
    plus the bundles holding the helm applications its helm applications
    depend on (Argo CD orders whole Applications, not releases)."""
    helm_bundle = {a.name: a.bundle.name for a in cluster.applications() if a.helm is not None}
    graph: dict[str, list[str]] = {}
    for b in cluster.bundles():
        edges = list(b.depends_on)
        for app in b.applications:
            for dep in (app.helm or {}).get("dependsOn") or []:
                other = helm_bundle.get(dep)
                if other is not None and other != b.name and other not in edges:
                    edges.append(other)
        graph[b.name] = edges
    return graph


def _argocd(cluster: Cluster, problems: list[Problem]) -> None:
    if cluster.gitops != "argocd":
        return
    from ..argocd.names import application_names  # the engine names its Applications

    sound = not any(type(p) is Problem for p in problems)  # warnings aside
    if not cluster.argocd.get("repoURL"):
        problems.append(Problem("spec.argocd.repoURL",
                                "repoURL is required with gitops: argocd: the URL of the repository "
                                "that holds this tree, e.g. https://github.com/acme/fleet.git"))
    for b in cluster.bundles():
        for key, why in ARGOCD_BUNDLE_ERRORS.items():
            if b.spec.get(key):
                problems.append(Problem(f"{b.path}.{key}", f"{key} cannot be used with gitops: "
                                                            f"argocd: {why}"))
        for key in ARGOCD_BUNDLE_IGNORED:
            if b.spec.get(key) not in (None, []):
                problems.append(Warning_(f"{b.path}.{key}", f"{key} tunes Flux and is ignored with "
                                                            "gitops: argocd"))
        if b.is_external and b.source_name in cluster.sources:
            _argocd_source(cluster, cluster.sources[b.source_name],
                           f"{b.path}.source" if b.spec.get("source") else f"{b.path}.path",
                           problems)
        for app in b.applications:
            h, p = app.helm, f"{app.path}.helm"
            if h is None:
                continue
            for key, why in ARGOCD_HELM_ERRORS.items():
                if h.get(key):
                    problems.append(Problem(f"{p}.{key}", f"{key} cannot be used with gitops: "
                                                          f"argocd: {why}"))
            for key in ARGOCD_HELM_IGNORED:
                if h.get(key) not in (None, False):
                    problems.append(Warning_(f"{p}.{key}", f"{key} tunes Flux's helm-controller and "
                                                           "is ignored with gitops: argocd"))
            if h.get("source") in cluster.sources:
                _argocd_source(cluster, cluster.sources[h["source"]], f"{p}.source", problems)
    for cycle in find_cycles(bundle_order(cluster)) if sound else ():
        problems.append(Problem(_helm_edge(cluster, cycle),
                                "with gitops: argocd a helm dependsOn on another bundle's "
                                "application orders the bundles, which makes a cycle: "
                                + " -> ".join(cycle + [cycle[0]])
                                + "; remove one of these dependencies"))
    seen: dict[str, str] = {}
    for name, path in application_names(cluster):
        if name in seen:
            problems.append(Problem(path, f"the Argo CD Application name {name!r} is already used "
                                          f"by {seen[name]}; rename one of them"))
        seen.setdefault(name, path)


def _helm_edge(cluster: Cluster, cycle: list[str]) -> str:
    """The field of the first helm dependsOn that makes a bundle follow another
    in `cycle` (a cycle of bundle dependsOn alone is reported elsewhere)."""
    for here, there in zip(cycle, cycle[1:] + cycle[:1]):
        bundle = cluster.find_bundle(here)
        if there in bundle.depends_on:
            continue
        for app in bundle.applications:
            for i, dep in enumerate((app.helm or {}).get("dependsOn") or []):
                target = cluster.find_bundle(there)
                if any(a.name == dep for a in target.applications):
                    return f"{app.path}.helm.dependsOn[{i}]"
    return f"{cluster.find_bundle(cycle[0]).path}.dependsOn"


def _argocd_source(cluster: Cluster, src, path: str, problems: list[Problem]) -> None:
    if src.type == "bucket":
        problems.append(Problem(path, f"source {src.name!r} is a bucket; Argo CD reads only git, "
                                      "Helm and OCI repositories — use one of those with "
                                      "gitops: argocd"))
    elif src.type == "git" and src.spec.get("semver"):
        problem = Problem(f"{src.path}.git.semver", "Argo CD follows git refs, not semver ranges of "
                                                    "tags; with gitops: argocd set branch, tag or commit")
        if problem not in problems:  # once, however many use the source
            problems.append(problem)
