"""Flux's own rules over a cluster the model accepted (the engine's
`validate` hook): names Flux reserves, the tree's source and bootstrap,
HelmRelease placement, ordering deadlocks across kinds, helm timeouts."""

from __future__ import annotations

from ..graph import find_cycles
from ..model.cluster import Cluster
from ..model.rules import _duplicates
from ..model.schema import Problem, warning
from .tenants import tenant_rules
from . import overlays
from .helm import through_chart_ref
from .sources import SOURCE_WATCHER, ChartSources, uses_artifacts
from .platform import IMAGE_CONTROLLERS, alert_name, image_apps, is_tag, value_at


def validate(cluster: Cluster) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (_reserved_names, _tree_source, _wait_and_health_checks, _helm_placement,
                 _oci_sources, _ordering, _helm_timeouts, _chart_interval, _bootstrap,
                 _release_health_checks, _values_from_namespaces, _cross_namespace_refs,
                 tenant_rules, _source_watcher,
                 _notifications, _image_automation):
        rule(cluster, problems)
    problems += overlays.validate(cluster)
    return problems


def _reserved_names(cluster: Cluster, problems: list[Problem]) -> None:
    for bundle in cluster.bundles():
        if bundle.name == cluster.namespace and bundle.flux_namespace == cluster.namespace:
            problems.append(Problem(f"{bundle.path}.name",
                                    f"{bundle.name!r} is the name of the bootstrap Kustomization "
                                    f"(named after the Flux namespace); choose another name"))
        for stage in bundle.stages:
            if bundle.stage_name(stage) == cluster.namespace:
                problems.append(Problem(bundle.stage_path(stage),
                                        f"helm.{stage} is applied by a Kustomization named "
                                        f"{cluster.namespace!r}, the name of the bootstrap "
                                        "Kustomization (named after the Flux namespace); rename "
                                        f"bundle {bundle.name!r}"))


def _tree_source(cluster: Cluster, problems: list[Problem]) -> None:
    ref = cluster.source_ref
    name = ref.name
    src = cluster.sources.get(name)
    if src is not None and src.kind != ref.kind:
        problems.append(Problem("spec.flux.sourceRef.kind",
                                f"source {name!r} is declared as {src.type} ({src.kind}), "
                                f"but sourceRef.kind is {ref.kind}; make them agree"))
    sync = cluster.bootstrap.sync if cluster.bootstrap is not None else None
    if sync is not None and name == cluster.namespace and sync.kind != ref.kind:
        problems.append(Problem("spec.flux.sourceRef.kind",
                                f"bootstrap syncs from a {sync.kind} named {name!r}, but "
                                f"sourceRef.kind is {ref.kind}; make them agree"))
    if sync is not None and name == cluster.namespace and name in cluster.sources:
        problems.append(Problem(cluster.sources[name].path + ".name",
                                f"bootstrap creates the source {name!r}; declare it only once "
                                "(remove it from spec.sources or from spec.bootstrap.sync)"))


def _wait_and_health_checks(cluster: Cluster, problems: list[Problem]) -> None:
    for b in cluster.bundles():
        if b.spec.healthChecks and b.spec.wait is True:
            problems.append(warning(f"{b.path}.healthChecks",
                                     "Flux ignores healthChecks when wait is true (wait already checks "
                                     "every applied object); remove wait: true or the healthChecks"))


def _helm_placement(cluster: Cluster, problems: list[Problem]) -> None:
    for b in cluster.bundles():
        target = b.spec.targetNamespace
        moved = [a for a in b.applications if a.helm is not None and a.flux_namespace != target]
        if target and moved:
            problems.append(Problem(
                f"{b.path}.targetNamespace",
                f"targetNamespace would move the HelmReleases of this bundle "
                f"({', '.join(a.name for a in moved)}) out of {moved[0].flux_namespace!r}: Flux "
                "rewrites the namespace of every object it builds, which breaks their health "
                "checks, dependsOn and values references; set helm.targetNamespace (or the "
                "application namespace) to choose where a chart installs, or set the bundle's "
                f"fluxNamespace to {target!r} so that nothing moves"))


def _oci_sources(cluster: Cluster, problems: list[Problem]) -> None:
    """An oci source cannot serve a chart and a bundle at once."""
    for app in cluster.applications():
        name = app.helm.source if app.helm is not None else None
        src = cluster.sources.get(name) if name else None
        if src is None or src.type != "oci":
            continue
        users = [b for b in cluster.bundles() if b.is_external and b.source_name == name]
        if users:
            problems.append(Problem(f"{app.path}.helm.source",
                                    f"oci source {name!r} is also the source of bundle "
                                    f"{users[0].name!r}: a chart needs its Helm layer copied, a "
                                    "bundle needs its artifact extracted; declare a second oci "
                                    "source for one of them"))


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
    helm_apps = cluster.helm_app_by_name
    bundles = {b.name: b for b in cluster.bundles()}
    graph: dict[str, list[str]] = {}
    why: dict[tuple[str, str], tuple[str | None, str]] = {}  # edge -> (config path, words)

    def edge(a: str, b: str, path: str | None, words: str) -> None:
        graph.setdefault(a, []).append(b)
        why.setdefault((a, b), (path, words))

    for b in bundles.values():
        edge(f"ready:{b.name}", f"apply:{b.name}", None, "")
        stages = b.stages  # <bundle>-pre starts in the bundle's place; dependents wait for -post
        first = b.stage_name("pre") if "pre" in stages else b.name
        if first != b.name:
            edge(f"apply:{b.name}", f"ready:{first}", None, "")
            edge(f"ready:{first}", f"apply:{first}", None, "")
        if "post" in stages:
            edge(f"ready:{b.ready_name}", f"apply:{b.ready_name}", None, "")
            edge(f"apply:{b.ready_name}", f"ready:{b.name}", None, "")
        for d in b.dependencies:
            if d.internal and d.name in bundles:
                edge(f"apply:{first}", f"ready:{bundles[d.name].ready_name}",
                     f"{b.path}.dependsOn[{d.index}]",
                     f"bundle {b.name!r} starts only after bundle {d.name!r} is Ready")
        for app in b.applications:
            if app.helm is not None:
                edge(f"ready:{b.name}", f"hr:{app.name}", None,
                     f"bundle {b.name!r} is Ready only once its HelmRelease {app.name!r} is")
        for i, hc in enumerate(b.spec.healthChecks):
            if hc.kind == "HelmRelease" and hc.name in helm_apps and \
                    (hc.namespace or b.flux_namespace) == helm_apps[hc.name].flux_namespace:
                edge(f"ready:{b.name}", f"hr:{hc.name}", f"{b.path}.healthChecks[{i}]",
                     f"bundle {b.name!r} health-checks HelmRelease {hc.name!r}")
    for app in helm_apps.values():
        edge(f"hr:{app.name}", f"apply:{app.bundle.name}", None,
             f"HelmRelease {app.name!r} is applied by bundle {app.bundle.name!r}")
        for d in app.dependencies:
            if d.internal and d.name in helm_apps and d.name != app.name:
                edge(f"hr:{app.name}", f"hr:{d.name}", f"{app.path}.helm.dependsOn[{d.index}]",
                     f"HelmRelease {app.name!r} waits for HelmRelease {d.name!r}")
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
    for b in cluster.bundles():
        bundle_timeout = b.timeout or b.interval  # Flux's default timeout: the interval
        for app in b.applications:
            t = app.helm.timeout if app.helm is not None else None
            if t and bundle_timeout and _seconds(t) > _seconds(bundle_timeout):
                problems.append(warning(
                    f"{app.path}.helm.timeout",
                    f"Helm actions of {app.name!r} may take {t}, longer than the timeout of bundle "
                    f"{b.name!r} ({bundle_timeout}), which waits for the release: the bundle would "
                    f"report failure while the release is still installing; set the bundle's "
                    f"timeout to at least {t}"))


def _chart_interval(cluster: Cluster, problems: list[Problem]) -> None:
    """helm.chartInterval is the HelmChart template's: an application whose
    chart comes through chartRef has none (a default's is not written there)."""
    charts = None
    for app in cluster.applications():
        if app.spec.helm is None or not app.spec.helm.chartInterval:
            continue
        charts = charts or ChartSources(cluster)
        if through_chart_ref(app, charts):
            problems.append(Problem(f"{app.path}.helm.chartInterval",
                                    f"the chart of {app.name!r} comes through chartRef (an OCI "
                                    "chart or an artifact), which has no chart interval; set "
                                    "the source's interval instead"))


# -- bootstrap -------------------------------------------------------------------

def _bootstrap(cluster: Cluster, problems: list[Problem]) -> None:
    b = cluster.bootstrap
    if b is not None and b.instance and b.mode != "flux-operator":
        problems.append(Problem("spec.bootstrap.instance",
                                f"instance is merged into the FluxInstance, which mode {b.mode} does "
                                "not write; remove it or set mode: flux-operator"))
    if b is None or b.sync is None:
        return
    sync = b.sync
    url = sync.url
    if sync.kind == "OCIRepository" and not url.startswith("oci://"):
        problems.append(Problem("spec.bootstrap.sync.url", "an OCIRepository sync needs an oci:// URL; write "
                                "oci://<registry>/<repository> or set sync.kind: GitRepository"))
    if sync.kind == "GitRepository" and url.startswith("oci://"):
        problems.append(Problem("spec.bootstrap.sync.url",
                                "a GitRepository sync needs an https:// or ssh:// URL; "
                                "for oci:// set sync.kind: OCIRepository"))


# -- namespaces (fluxNamespace) ------------------------------------------------------

HELM_GROUP = "helm.toolkit.fluxcd.io/"


def _release_health_checks(cluster: Cluster, problems: list[Problem]) -> None:
    """A health check naming one of kure-fn's HelmReleases in another
    namespace would wait for an object that never exists. A check without
    namespace looks in the Kustomization's own namespace (Flux's
    NamespacedObjectKindReference)."""
    for b in cluster.bundles():
        for i, hc in enumerate(b.spec.healthChecks):
            app = cluster.helm_app_by_name.get(hc.name)
            if hc.kind != "HelmRelease" or app is None or \
                    (hc.apiVersion and not hc.apiVersion.startswith(HELM_GROUP)):
                continue
            looks_in = hc.namespace or b.flux_namespace
            if looks_in != app.flux_namespace:
                field = "namespace" if hc.namespace else "name"
                how = "" if hc.namespace else f" (no namespace: the Kustomization's own, {looks_in!r})"
                problems.append(Problem(
                    f"{b.path}.healthChecks[{i}].{field}",
                    f"HelmRelease {hc.name!r} is rendered in namespace {app.flux_namespace!r} "
                    f"({app.flux_namespace_path}), but this health check looks in {looks_in!r}"
                    f"{how}: the bundle would never become Ready; set namespace: "
                    f"{app.flux_namespace}"))


def _values_from_namespaces(cluster: Cluster, problems: list[Problem]) -> None:
    """helm-controller reads valuesFrom in the HelmRelease's own namespace
    only: a ConfigMap or Secret the config renders elsewhere is never found."""
    from ..kinds import with_default_namespace  # only when valuesFrom names something
    rendered: dict[tuple[str, str], set[str]] = {}  # (kind, name) -> namespaces
    wanted = [(app, i, ref) for app in cluster.helm_app_by_name.values()
              for i, ref in enumerate(app.helm.valuesFrom)]
    if not wanted:
        return
    for app in cluster.applications():
        target = app.bundle.spec.targetNamespace
        for m in app.spec.manifests:
            if m.get("apiVersion") != "v1" or m.get("kind") not in ("ConfigMap", "Secret"):
                continue
            obj = with_default_namespace(m, app.namespace, cluster.crd_scopes)
            ns = target or obj["metadata"].get("namespace")
            if ns:
                rendered.setdefault((m["kind"], obj["metadata"]["name"]), set()).add(ns)
    for app, i, ref in wanted:
        where = rendered.get((ref.kind, ref.name), set())
        if where and app.flux_namespace not in where:
            problems.append(Problem(
                f"{app.path}.helm.valuesFrom[{i}].name",
                f"{ref.kind} {ref.name!r} is rendered in namespace "
                f"{', '.join(repr(n) for n in sorted(where))}, but helm-controller reads valuesFrom "
                f"in the HelmRelease's namespace ({app.flux_namespace!r}) only: the release would "
                f"never install; render the {ref.kind} in {app.flux_namespace!r}"))


def _cross_namespace_refs(cluster: Cluster, problems: list[Problem]) -> None:
    """spec.flux.crossNamespaceRefs: false — the controllers run with
    --no-cross-namespace-refs, so every reference kure-fn writes must stay
    in the referring object's namespace."""
    if cluster.flux.crossNamespaceRefs:
        return
    for path, what, ns, target, target_ns in references(cluster):
        if ns != target_ns:
            problems.append(Problem(
                path, f"{what} in namespace {ns!r} refers to {target} in namespace {target_ns!r}, "
                      "and spec.flux.crossNamespaceRefs is false (the controllers run with "
                      "--no-cross-namespace-refs and refuse references across namespaces); put "
                      "both in one namespace (fluxNamespace, a source's namespace) or set "
                      "crossNamespaceRefs: true"))


def references(cluster: Cluster):
    """(config field, referring object, its namespace, referenced object, its
    namespace) of every reference between Flux objects that kure-fn writes."""
    from .generator import health_checks, tree_source_namespace_of  # the engine's own facts
    from .sources import ChartSources
    charts = None
    for b in cluster.bundles():
        ks = f"Kustomization {b.name!r}"
        ns = b.flux_namespace
        if b.is_external:
            use = cluster.source_use(b.source_name)
            field = f"{b.path}.source" if b.spec.source else b.flux_namespace_path
            yield field, ks, ns, f"{use.kind} {use.name!r}", use.namespace
        else:
            ref = cluster.source_ref
            yield (b.flux_namespace_path, ks, ns,
                   f"the tree's own source ({ref.kind} {ref.name!r}; a rendered bundle always "
                   "comes from it)", tree_source_namespace_of(b))
        for d in b.dependencies:
            yield (f"{b.path}.dependsOn[{d.index}]", ks, ns, f"Kustomization {d.name!r}",
                   d.namespace or ns)
        releases = {a.name: a for a in b.applications if a.helm is not None}
        for hc in health_checks(b):
            app = releases.get(hc["name"]) if hc["kind"] == "HelmRelease" else None
            if app is not None and not any(c.name == app.name for c in b.spec.healthChecks):
                yield (app.flux_namespace_path, f"{ks} (its health check)", ns,
                       f"HelmRelease {app.name!r}", app.flux_namespace)
        for app in b.applications:
            h = app.helm
            if h is None:
                continue
            hr = f"HelmRelease {app.name!r}"
            if h.source:
                use = cluster.source_use(h.source)
                yield f"{app.path}.helm.source", hr, app.flux_namespace, \
                    f"{use.kind} {use.name!r}", use.namespace
            else:
                charts = charts or ChartSources(cluster)
                kind, name, src_ns = charts.for_app(app)
                yield f"{app.path}.helm.repository", hr, app.flux_namespace, \
                    f"{kind} {name!r}", src_ns
            for d in app.dependencies:
                yield (f"{app.path}.helm.dependsOn[{d.index}]", hr, app.flux_namespace,
                       f"HelmRelease {d.name!r}", d.namespace or app.flux_namespace)


def _source_watcher(cluster: Cluster, problems: list[Problem]) -> None:
    """Artifact sources need the source-watcher controller (Flux 2.7+)."""
    b = cluster.bootstrap
    if b is None or not uses_artifacts(cluster):
        return
    if b.components and SOURCE_WATCHER not in b.components:
        problems.append(Problem("spec.bootstrap.components",
                                f"the config uses artifacts (ArtifactGenerator), which only "
                                f"{SOURCE_WATCHER} runs; add {SOURCE_WATCHER} to components"))
    elif not b.components and b.mode == "gotk":
        problems.append(warning("spec.bootstrap.mode",
                                f"the config uses artifacts (ArtifactGenerator), which only "
                                f"{SOURCE_WATCHER} runs; bootstrap with "
                                f"--components-extra={SOURCE_WATCHER} (or list components)"))


# -- platform services (platform.md) ------------------------------------------------

def _notifications(cluster: Cluster, problems: list[Problem]) -> None:
    n = cluster.spec.notifications
    if n is None:
        return
    p = "spec.notifications"
    for what, entries, name in (("provider", n.providers, lambda e: e.name),
                                ("alert", n.alerts, alert_name),
                                ("receiver", n.receivers, lambda e: e.name)):
        field = f"{p}.{what}s"
        _duplicates(range(len(entries)), lambda i: name(entries[i]),
                    lambda i: f"{field}[{i}].name" if entries[i].name or what != "alert"
                    else f"{field}[{i}].provider",
                    f"{what} name", problems)
    providers = sorted({x.name for x in n.providers})
    bundles = sorted(b.name for b in cluster.bundles())
    for i, a in enumerate(n.alerts):
        if a.provider not in providers:
            problems.append(Problem(f"{p}.alerts[{i}].provider",
                                    f"provider {a.provider!r} is not declared in "
                                    f"spec.notifications.providers (declared: "
                                    f"{', '.join(providers) or 'none'}); declare it or name one"))
        for j, name in enumerate(a.bundles):
            if name not in bundles:
                problems.append(Problem(f"{p}.alerts[{i}].bundles[{j}]",
                                        f"bundle {name!r} does not exist in this cluster (bundles: "
                                        f"{', '.join(bundles) or 'none'}); name one of them or "
                                        "remove the entry"))


def _image_automation(cluster: Cluster, problems: list[Problem]) -> None:
    ia = cluster.spec.imageAutomation
    for app in image_apps(cluster):
        h, p = app.helm, f"{app.path}.helm"
        if ia is None:
            problems.append(Problem(f"{p}.image", "an image needs spec.imageAutomation (interval "
                                                  "and git author), which makes Flux commit newer "
                                                  "tags into this tree; add it or remove image"))
        if h.valuesConfigMap:
            problems.append(Problem(f"{p}.valuesConfigMap",
                                    "the image's tag carries a setter comment in the HelmRelease "
                                    "values, which a ConfigMap's values text cannot keep; remove "
                                    "valuesConfigMap or image"))
        elif not is_tag(value_at(h.values, h.image.valuesPath)):
            problems.append(Problem(f"{p}.image.valuesPath",
                                    f"helm.values has no tag at {h.image.valuesPath}: set it there "
                                    "to the image's current tag (the automation updates that line), "
                                    "or point valuesPath at the key that holds the tag"))
    if ia is None:
        return
    ref = cluster.source_ref
    if ref.kind != "GitRepository":
        problems.append(Problem("spec.imageAutomation",
                                f"image automation commits to the tree's git repository, but the "
                                f"tree comes from a {ref.kind} (spec.flux.sourceRef); remove "
                                "imageAutomation or sync the tree from a GitRepository"))
    b = cluster.bootstrap
    missing = [c for c in IMAGE_CONTROLLERS if b is not None and b.components
               and c not in b.components]
    if missing:
        problems.append(Problem("spec.bootstrap.components",
                                f"image automation needs {' and '.join(missing)}; add "
                                f"{'them' if len(missing) > 1 else 'it'} to the components"))
