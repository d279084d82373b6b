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
    "commonMetadata": "Argo CD has no equivalent (kustomize commonLabels also rewrite selectors); "
                      "set the labels in the manifests or use gitops: flux",
    "namePrefix": "not mapped to Argo CD; set the names in the manifests or use gitops: flux",
    "nameSuffix": "not mapped to Argo CD; set the names in the manifests or use gitops: flux",
    "kubeConfig": "Argo CD deploys every Application to spec.argocd.destination; register the "
                  "remote cluster in Argo CD and give it a config of its own",
}
ARGOCD_BUNDLE_IGNORED = ("interval", "retryInterval", "timeout", "wait", "force", "healthChecks",
                         "healthCheckExprs", "deletionPolicy")
ARGOCD_HELM_ERRORS = {
    "valuesFrom": "Argo CD reads Helm values only from the Application (valuesObject), not from "
                  "ConfigMaps or Secrets; move them into helm.values",
    "serviceAccountName": ARGOCD_BUNDLE_ERRORS["serviceAccountName"],
    "postRenderers": "Argo CD renders charts with helm template and runs no post-renderer; "
                     "use gitops: flux",
    "pre": "Argo CD has no second Application to apply them before the chart's (sync waves "
           "inside the bundle's Application do not wait for a child Application's health); put "
           "them in a bundle that this bundle dependsOn",
    "post": "Argo CD has no second Application to apply them once the chart is ready (sync "
            "waves inside the bundle's Application do not wait for a child Application's health, "
            "so they could meet missing CRDs); put them in a bundle that dependsOn this one",
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
ARGOCD_HELM_IGNORED = ("interval", "timeout", "remediation", "driftDetection", "valuesConfigMap",
                       "strategy", "test", "upgrade", "maxHistory")
# overlays of Flux objects (merged into specs Argo CD has no counterpart of)
OVERLAY_ERROR = ("{key} is merged into the Flux {kind} spec, which gitops: argocd does not "
                 "write; remove it or use gitops: flux")
DEFAULTS_IGNORED = ("interval", "retryInterval", "timeout", "wait")


EXTERNAL_DEPENDENCY = ("a dependsOn on an object outside this config ({name, namespace}) is a Flux "
                       "feature; Argo CD orders only the Applications of this config: remove it "
                       "or name a bundle or helm application of this config")


ARTIFACTS = ("an artifact (an ExternalArtifact of an artifact source) is Flux's; Argo CD cannot "
             "read one: name a git, oci or helm source instead")


def bundle_order(cluster: Cluster) -> dict[str, list[str]]:
    """For each bundle, the bundles it must follow under Argo CD: its dependsOn,
    plus the bundles holding the helm applications its helm applications
    depend on (Argo CD orders whole Applications, not releases)."""
    helm_bundle = {a.name: a.bundle.name for a in cluster.applications() if a.helm is not None}
    graph: dict[str, list[str]] = {}
    for b in cluster.bundles():
        edges = list(b.depends_on)
        for app in b.applications:
            for dep in app.depends_on:
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
    if cluster.tenants:
        problems.append(Problem("spec.tenants", "tenants are Flux's multi-tenancy (a ServiceAccount "
                                                "per tenant namespace that the Flux controllers "
                                                "impersonate); with gitops: argocd confine teams "
                                                "with AppProjects instead, or use gitops: flux"))
    _defaults(cluster, problems)
    for s in cluster.sources.values():
        if s.overlay:
            problems.append(Problem(f"{s.path}.spec", OVERLAY_ERROR.format(key="spec", kind=s.kind)))
    for key, why in ARGOCD_SPEC_ERRORS.items():
        if getattr(cluster.spec, key) is not None:
            problems.append(Problem(f"spec.{key}", f"{key} cannot be used with gitops: argocd: {why}"))
    for b in cluster.bundles():
        if b.spec.kustomization:
            problems.append(Problem(f"{b.path}.kustomization",
                                    OVERLAY_ERROR.format(key="kustomization", kind="Kustomization")))
        for key, why in ARGOCD_BUNDLE_ERRORS.items():
            if getattr(b.spec, key):
                problems.append(Problem(f"{b.path}.{key}", f"{key} cannot be used with gitops: "
                                                            f"argocd: {why}"))
        for key in ARGOCD_BUNDLE_IGNORED:
            if getattr(b.spec, key) not in (None, []):
                problems.append(warning(f"{b.path}.{key}", f"{key} tunes Flux and is ignored with "
                                                            "gitops: argocd"))
        for d in b.external_dependencies:
            problems.append(Problem(f"{b.path}.dependsOn[{d.index}]", EXTERNAL_DEPENDENCY))
        if b.is_external and b.source_name in cluster.artifacts:
            problems.append(Problem(f"{b.path}.source" if b.spec.source else f"{b.path}.path",
                                    ARTIFACTS))
        if b.is_external and b.source_name in cluster.sources:
            _argocd_source(cluster, cluster.sources[b.source_name],
                           f"{b.path}.source" if b.spec.source else f"{b.path}.path",
                           problems)
        for app in b.applications:
            h, p = app.spec.helm, f"{app.path}.helm"  # what the application says; defaults: _defaults
            if h is None:
                continue
            _helm_fields(h, p, problems)
            for d in app.dependencies:
                if not d.internal:
                    problems.append(Problem(f"{p}.dependsOn[{d.index}]", EXTERNAL_DEPENDENCY))
            if h.source in cluster.artifacts:
                problems.append(Problem(f"{p}.source", ARTIFACTS))
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


def _helm_fields(h, path: str, problems: list[Problem]) -> None:
    """Helm fields (of an application or of defaults) Argo CD cannot honour."""
    for key, why in ARGOCD_HELM_ERRORS.items():
        if getattr(h, key, None):  # defaults have no pre, post
            problems.append(Problem(f"{path}.{key}", f"{key} cannot be used with gitops: "
                                                     f"argocd: {why}"))
    for key in ARGOCD_HELM_IGNORED:
        if getattr(h, key, None) not in (None, False):
            problems.append(warning(f"{path}.{key}", f"{key} tunes Flux's helm-controller and "
                                                     "is ignored with gitops: argocd"))
    if h.release:
        problems.append(Problem(f"{path}.release",
                                OVERLAY_ERROR.format(key="release", kind="HelmRelease")))


def _defaults(cluster: Cluster, problems: list[Problem]) -> None:
    """spec.flux.defaults and node defaults: their helm part applies (values,
    crds, createNamespace), the Flux Kustomization settings do not; a node's
    prune does (fn.argocd.generator.bundle_prune)."""
    levels = [("spec.flux.defaults", cluster.defaults, False)]
    levels += [(f"{n.path}.defaults", n.defaults, True) for n in cluster.walk_nodes()
               if n.defaults is not None]
    for path, d, node in levels:
        if d.kustomization:
            problems.append(Problem(f"{path}.kustomization",
                                    OVERLAY_ERROR.format(key="kustomization", kind="Kustomization")))
        for key in DEFAULTS_IGNORED if node else ():  # spec.flux.defaults: filled, Flux's section
            if getattr(d, key) is not None:
                problems.append(warning(f"{path}.{key}", f"{key} tunes Flux and is ignored with "
                                                         "gitops: argocd"))
        if d.helm is not None:
            _helm_fields(d.helm, f"{path}.helm", problems)


def _helm_edge(cluster: Cluster, cycle: list[str]) -> str:
    """The field of the first helm dependsOn that makes a bundle follow another
    in `cycle` (a cycle of bundle dependsOn alone is reported elsewhere)."""
    for here, there in zip(cycle, cycle[1:] + cycle[:1]):
        bundle = cluster.find_bundle(here)
        if there in bundle.depends_on:
            continue
        for app in bundle.applications:
            for d in (d for d in app.dependencies if d.internal):
                target = cluster.find_bundle(there)
                if any(a.name == d.name for a in target.applications):
                    return f"{app.path}.helm.dependsOn[{d.index}]"
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
