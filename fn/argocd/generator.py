"""Resource generator: cluster, node or bundle → Argo CD objects. Pure: no I/O.

- one `Application` per bundle: a rendered bundle points at its directory in
  the tree's repository, an external bundle at its source's repo and path;
- one child `Application` with a Helm source per helm application, written
  into the application directory so its bundle Application applies it;
- inline manifests, as the Flux engine writes them.
"""

from __future__ import annotations

from ..engine import BundleGenerator, Generated, app_objects, canonical
from ..kinds import with_default_namespace
from ..layout.plan import TreePlan, relative_path
from ..model.cluster import Application, Bundle, Cluster, Source
from .names import bundle_name, helm_name
from .waves import bundle_waves, helm_waves

APPLICATION_API = "argoproj.io/v1alpha1"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
CASCADE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
IN_CLUSTER = "https://kubernetes.default.svc"
CREATE_NAMESPACE = "CreateNamespace"


def argo_path(path: str) -> str:
    """A path as Argo CD writes it: relative, no leading ./, "." for the root."""
    return relative_path(path) or "."


class ResourceGenerator(BundleGenerator):
    def generate(self, cluster: Cluster, bundles: list[Bundle]) -> list[Generated]:
        plan = TreePlan.for_cluster(cluster)
        waves = bundle_waves(cluster)
        inner = helm_waves(cluster)
        out: list[Generated] = []
        for bundle in bundles:
            out.append(Generated(self.bundle_application(bundle, plan, waves[bundle.name]),
                                 "kustomization", bundle, path=f"{bundle.path}.name"))
            for app in bundle.applications:
                if app.helm is not None:
                    out.extend(app_objects(app, [self.helm_application(app, inner[app.name])]))
                else:  # `resources` have no manifests: the function shell places their items
                    out.extend(app_objects(app, [with_default_namespace(m, app.namespace,
                                                                        cluster.crd_scopes)
                                                 for m in app.spec.manifests]))
        return out

    # -- the Application of a bundle ---------------------------------------------
    def bundle_application(self, bundle: Bundle, plan: TreePlan, wave: int) -> dict:
        cluster = bundle.cluster
        s = bundle.spec
        if bundle.is_external and bundle.source_name in cluster.sources:
            source = external_source(cluster.sources[bundle.source_name], s.path)
        elif bundle.is_external:  # a path of the tree's own repository
            source = {"repoURL": cluster.argocd.repoURL,
                      "targetRevision": cluster.argocd.targetRevision, "path": argo_path(s.path)}
        else:
            source = {"repoURL": cluster.argocd.repoURL,
                      "targetRevision": cluster.argocd.targetRevision,
                      "path": argo_path(plan.bundle_dir(bundle))}
        kustomize: dict = {}
        if s.patches:
            kustomize["patches"] = [p.to_data() for p in s.patches]
        if s.components:
            kustomize["components"] = s.components
        if kustomize:
            source["kustomize"] = kustomize
        prune = bundle_prune(bundle)
        return application(
            bundle_name(bundle), cluster,
            source=source,
            destination=destination(cluster, s.targetNamespace),
            sync=sync_policy(cluster, prune=prune, automated=not s.suspend),
            wave=wave, cascade=prune, labels=s.labels, annotations=s.annotations)

    # -- the Application of a helm application ----------------------------------
    def helm_application(self, app: Application, wave: int) -> dict:
        h = app.helm
        source = helm_source(app)
        helm: dict = {"releaseName": h.releaseName or app.name}
        if h.values:
            helm["valuesObject"] = h.values
        if h.crds == "Skip":
            helm["skipCrds"] = True
        source["helm"] = helm
        prune = bundle_prune(app.bundle)
        return application(
            helm_name(app), app.cluster,
            source=source,
            destination=destination(app.cluster, app.install_namespace),
            sync=sync_policy(app.cluster, prune=prune,
                             automated=not (app.bundle.spec.suspend or h.suspend),
                             create_namespace=h.createNamespace is not False),
            wave=wave, cascade=prune)


# -- building blocks ------------------------------------------------------------

def application(name: str, cluster: Cluster, *, source: dict, destination: dict, sync: dict,
                wave: int | None = None, cascade: bool = False, labels: dict | None = None,
                annotations: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": cluster.argocd.namespace}
    if labels:
        meta["labels"] = dict(labels)
    anns = dict(annotations or {})
    if wave is not None:
        anns[SYNC_WAVE] = str(wave)
    if anns:
        meta["annotations"] = anns
    if cascade:  # deleting the Application (bundle removed, pruned) deletes what it deployed
        meta["finalizers"] = [CASCADE_FINALIZER]
    spec: dict = {"project": cluster.argocd.project, "source": source,
                  "destination": destination}
    if sync:
        spec["syncPolicy"] = sync
    return canonical({"apiVersion": APPLICATION_API, "kind": "Application",
                      "metadata": meta, "spec": spec}, keep=frozenset({"valuesObject"}))


def destination(cluster: Cluster, namespace: str | None = None) -> dict:
    """The configured target cluster (server or name), in-cluster by default."""
    d = cluster.argocd.destination
    if d is not None and d.name:
        out = {"name": d.name}
    else:
        out = {"server": (d.server if d is not None else None) or IN_CLUSTER}
    if namespace:
        out["namespace"] = namespace
    return out


def bundle_prune(bundle: Bundle) -> bool:
    """The bundle's prune, else the closest node default's, else the automated
    sync default (spec.flux.defaults, a Flux section, plays no part)."""
    p = bundle.spec.prune
    node = bundle.node
    while p is None and node is not None:
        p = node.defaults.prune if node.defaults is not None else None
        node = node.parent
    return bundle.cluster.argocd.syncPolicy.automated.prune if p is None else p


def sync_policy(cluster: Cluster, *, prune: bool, automated: bool = True,
                create_namespace: bool | None = None) -> dict:
    """syncPolicy from spec.argocd.syncPolicy. `create_namespace` (helm
    applications) adds or removes CreateNamespace=true."""
    sp = cluster.argocd.syncPolicy
    out: dict = {}
    if automated and sp.automated.enabled:
        out["automated"] = {"prune": prune, "selfHeal": sp.automated.selfHeal}
    options = list(sp.syncOptions)
    if create_namespace is not None:
        options = [o for o in options if o.split("=", 1)[0] != CREATE_NAMESPACE]
        if create_namespace:
            options.insert(0, f"{CREATE_NAMESPACE}=true")
    if options:
        out["syncOptions"] = options
    retry = sp.retry.to_data() if sp.retry is not None else None
    if retry:
        out["retry"] = retry
    return out


# -- sources -------------------------------------------------------------------

def revision(src: Source) -> str:
    """targetRevision for a declared git or oci source (Flux's defaults: branch
    main, tag latest)."""
    s = src.spec
    refs = (s.branch, s.tag, s.commit, s.semver) if src.type == "git" else (s.tag, s.digest, s.semver)
    return next((r for r in refs if r), "main" if src.type == "git" else "latest")


def external_source(src: Source, path: str) -> dict:
    """An external bundle: `path` of a git or oci source (checks reject buckets)."""
    return {"repoURL": src.spec.url, "targetRevision": revision(src), "path": argo_path(path)}


def helm_source(app: Application) -> dict:
    """repoURL/chart/targetRevision (or path) of a helm application's chart.

    https repository or helm source: repoURL + chart + version. oci:// chart
    (repository or oci source): Argo CD's native OCI source, repoURL = the
    chart's oci:// URL, path ".". git source: the chart's path in the repo.
    """
    h = app.helm
    repo = h.repository
    if repo is not None:
        if repo.startswith("oci://"):
            return {"repoURL": repo.rstrip("/"), "path": ".", "targetRevision": h.version}
        return {"repoURL": repo, "chart": app.chart_name, "targetRevision": h.version}
    src = app.cluster.sources[h.source]
    if src.type == "helm":
        return {"repoURL": src.spec.url, "chart": app.chart_name, "targetRevision": h.version}
    if src.type == "oci":
        return {"repoURL": src.spec.url, "path": ".", "targetRevision": revision(src)}
    return {"repoURL": src.spec.url, "path": argo_path(h.chart),
            "targetRevision": revision(src)}
