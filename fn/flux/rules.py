"""Flux's own rules over a cluster the model accepted (the engine's
`validate` hook): names Flux reserves, the tree's source and bootstrap,
HelmRelease placement, ordering deadlocks across kinds, helm timeouts."""

from __future__ import annotations

from ..graph import find_cycles
from ..model.cluster import Cluster
from ..model.rules import _duplicates
from ..model.schema import Problem, warning
from .platform import IMAGE_CONTROLLERS, alert_name, image_apps, is_tag, value_at


def validate(cluster: Cluster) -> list[Problem]:
    problems: list[Problem] = []
    for rule in (_reserved_names, _tree_source, _wait_and_health_checks, _helm_placement,
                 _oci_sources, _ordering, _helm_timeouts, _bootstrap, _notifications,
                 _image_automation):
        rule(cluster, problems)
    return problems


def _reserved_names(cluster: Cluster, problems: list[Problem]) -> None:
    for bundle in cluster.bundles():
        if bundle.name == cluster.namespace:
            problems.append(Problem(f"{bundle.path}.name",
                                    f"{bundle.name!r} is the name of the bootstrap Kustomization "
                                    f"(named after the Flux namespace); choose another name"))


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
        helm_apps = [a.name for a in b.applications if a.helm is not None]
        if target and target != cluster.namespace and helm_apps:
            problems.append(Problem(
                f"{b.path}.targetNamespace",
                f"targetNamespace would move the HelmReleases of this bundle ({', '.join(helm_apps)}) "
                f"out of {cluster.namespace!r}: Flux rewrites the namespace of every object it builds, "
                "which breaks their health checks, dependsOn and values references; set "
                "helm.targetNamespace (or the application namespace) to choose where a chart installs"))


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
        for i, hc in enumerate(b.spec.healthChecks):
            if hc.kind == "HelmRelease" and hc.name in helm_apps and (hc.namespace or ns) == ns:
                edge(f"ready:{b.name}", f"hr:{hc.name}", f"{b.path}.healthChecks[{i}]",
                     f"bundle {b.name!r} health-checks HelmRelease {hc.name!r}")
    for app in helm_apps.values():
        edge(f"hr:{app.name}", f"apply:{app.bundle.name}", None,
             f"HelmRelease {app.name!r} is applied by bundle {app.bundle.name!r}")
        for i, dep in enumerate(app.helm.dependsOn):
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
    for b in cluster.bundles():
        bundle_timeout = b.timeout
        for app in b.applications:
            t = app.helm.timeout if app.helm is not None else None
            if t and bundle_timeout and _seconds(t) > _seconds(bundle_timeout):
                problems.append(warning(
                    f"{app.path}.helm.timeout",
                    f"Helm actions of {app.name!r} may take {t}, longer than the timeout of bundle "
                    f"{b.name!r} ({bundle_timeout}), which waits for the release: the bundle would "
                    f"report failure while the release is still installing; set the bundle's "
                    f"timeout to at least {t}"))


# -- bootstrap -------------------------------------------------------------------

def _bootstrap(cluster: Cluster, problems: list[Problem]) -> None:
    b = cluster.bootstrap
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
