"""Argo CD's own rules (the engine's `validate` hook): Flux settings that
have no Argo CD equivalent, sources Argo CD cannot read, the order of
Applications, and Application names."""

from __future__ import annotations

from ..graph import find_cycles
from ..model.cluster import Cluster
from ..model.schema import Problem, warning
from .names import application_names

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
    "image": "image automation is Flux's (image-reflector and image-automation controllers); "
             "remove helm.image and spec.imageAutomation, or use gitops: flux",
}
# Flux platform services (platform.md): the objects would not exist under Argo CD
ARGOCD_SPEC_ERRORS = {
    "notifications": "Providers, Alerts and Receivers are Flux's notification-controller; remove "
                     "spec.notifications (Argo CD notifies through argocd-notifications) or use "
                     "gitops: flux",
    "imageAutomation": ARGOCD_HELM_ERRORS["image"],
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
            for dep in app.helm.dependsOn if app.helm is not None else ():
                other = helm_bundle.get(dep)
                if other is not None and other != b.name and other not in edges:
                    edges.append(other)
        graph[b.name] = edges
    return graph


def validate(cluster: Cluster) -> list[Problem]:
    """Runs once the model's rules passed, so every name resolves."""
    problems: list[Problem] = []
    if not cluster.argocd.repoURL:
        problems.append(Problem("spec.argocd.repoURL",
                                "repoURL is required with gitops: argocd: the URL of the repository "
                                "that holds this tree, e.g. https://github.com/acme/fleet.git"))
    for key, why in ARGOCD_SPEC_ERRORS.items():
        if getattr(cluster.spec, key) is not None:
            problems.append(Problem(f"spec.{key}", f"{key} cannot be used with gitops: argocd: {why}"))
    for b in cluster.bundles():
        for key, why in ARGOCD_BUNDLE_ERRORS.items():
            if getattr(b.spec, key):
                problems.append(Problem(f"{b.path}.{key}", f"{key} cannot be used with gitops: "
                                                            f"argocd: {why}"))
        for key in ARGOCD_BUNDLE_IGNORED:
            if getattr(b.spec, key) not in (None, []):
                problems.append(warning(f"{b.path}.{key}", f"{key} tunes Flux and is ignored with "
                                                            "gitops: argocd"))
        if b.is_external and b.source_name in cluster.sources:
            _argocd_source(cluster, cluster.sources[b.source_name],
                           f"{b.path}.source" if b.spec.source else f"{b.path}.path",
                           problems)
        for app in b.applications:
            h, p = app.helm, f"{app.path}.helm"
            if h is None:
                continue
            for key, why in ARGOCD_HELM_ERRORS.items():
                if getattr(h, key):
                    problems.append(Problem(f"{p}.{key}", f"{key} cannot be used with gitops: "
                                                          f"argocd: {why}"))
            for key in ARGOCD_HELM_IGNORED:
                if getattr(h, key) not in (None, False):
                    problems.append(warning(f"{p}.{key}", f"{key} tunes Flux's helm-controller and "
                                                           "is ignored with gitops: argocd"))
            if h.source in cluster.sources:
                _argocd_source(cluster, cluster.sources[h.source], f"{p}.source", problems)
    for cycle in find_cycles(bundle_order(cluster)):
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
    return problems


def _helm_edge(cluster: Cluster, cycle: list[str]) -> str:
    """The field of the first helm dependsOn that makes a bundle follow another
    in `cycle` (a cycle of bundle dependsOn alone is reported elsewhere)."""
    for here, there in zip(cycle, cycle[1:] + cycle[:1]):
        bundle = cluster.find_bundle(here)
        if there in bundle.depends_on:
            continue
        for app in bundle.applications:
            for i, dep in enumerate(app.helm.dependsOn if app.helm is not None else ()):
                target = cluster.find_bundle(there)
                if any(a.name == dep for a in target.applications):
                    return f"{app.path}.helm.dependsOn[{i}]"
    return f"{cluster.find_bundle(cycle[0]).path}.dependsOn"


def _argocd_source(cluster: Cluster, src, path: str, problems: list[Problem]) -> None:
    if src.type == "bucket":
        problems.append(Problem(path, f"source {src.name!r} is a bucket; Argo CD reads only git, "
                                      "Helm and OCI repositories — use one of those with "
                                      "gitops: argocd"))
    elif src.type == "git" and src.spec.semver:
        problem = Problem(f"{src.path}.git.semver", "Argo CD follows git refs, not semver ranges of "
                                                    "tags; with gitops: argocd set branch, tag or commit")
        if problem not in problems:  # once, however many use the source
            problems.append(problem)
