"""Resource generator: cluster, node or bundle → Flux objects. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import BundleGenerator, Generated, app_objects, canonical, present
from ..kinds import with_default_namespace
from ..layout.plan import TreePlan, relative_path, repo_path
from ..model.cluster import Application, Bundle, Cluster
from .helm import HELM_API, helm_objects
from .platform import platform_objects
from .sources import ChartSources, source_object

KUSTOMIZE_API = "kustomize.toolkit.fluxcd.io/v1"


class ResourceGenerator(BundleGenerator):
    def generate(self, cluster: Cluster, bundles: list[Bundle]) -> list[Generated]:
        plan = TreePlan.for_cluster(cluster)
        charts = ChartSources(cluster)
        out: list[Generated] = []
        apps = [a for b in bundles for a in b.applications]
        for bundle in bundles:
            out.append(Generated(self.kustomization(bundle, plan), "kustomization", bundle,
                                 path=f"{bundle.path}.name"))
            for app in bundle.applications:
                out.extend(app_objects(app, self.application(app, charts)))
        out.extend(Generated(obj, "chart-source" if for_charts else "source", None,
                             path=f"{cluster.sources[obj['metadata']['name']].path}.name")
                   for obj, for_charts in self.sources(cluster, bundles, charts))
        derived_by = chart_users(apps, charts)
        out.extend(Generated(obj, "chart-source", None, path=derived_by[obj["metadata"]["name"]])
                   for obj in charts.objects(apps, cluster.namespace))
        out.extend(platform_objects(cluster, bundles))
        return out

    # -- the Flux Kustomization of a bundle ------------------------------------
    def kustomization(self, bundle: Bundle, plan: TreePlan) -> dict:
        cluster = bundle.cluster
        ns = cluster.namespace
        s = bundle.spec
        meta: dict = {"name": bundle.name, "namespace": ns}
        if s.labels:
            meta["labels"] = dict(s.labels)
        if s.annotations:
            meta["annotations"] = dict(s.annotations)
        if bundle.is_external:
            src = cluster.sources[bundle.source_name]
            source_ref = {"kind": src.kind, "name": src.name, "namespace": ns}
            path = repo_path(relative_path(s.path))
        else:
            source_ref = {**cluster.source_ref.to_data(), "namespace": ns}
            path = repo_path(plan.bundle_dir(bundle))
        spec: dict = {
            "interval": bundle.interval,
            "retryInterval": bundle.retry_interval,
            "timeout": bundle.timeout,
            "path": path,
            "prune": bundle.prune,
            "sourceRef": source_ref,
            "wait": effective_wait(bundle),
        }
        spec.update(present(force=s.force, suspend=s.suspend, targetNamespace=s.targetNamespace,
                            serviceAccountName=s.serviceAccountName))
        if s.decryption is not None:
            spec["decryption"] = s.decryption.to_data()
        if s.components:
            spec["components"] = s.components
        checks = health_checks(bundle)
        if checks:
            spec["healthChecks"] = checks
        if s.patches:
            spec["patches"] = [p.to_data() for p in s.patches]
        post = s.postBuild
        if post is not None and (post.substitute or post.substituteFrom):
            spec["postBuild"] = {k: v for k, v in post.to_data().items() if v}
        if bundle.depends_on:
            spec["dependsOn"] = [{"name": d, "namespace": ns} for d in sorted(bundle.depends_on)]
        return canonical({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                          "metadata": meta, "spec": spec})

    # -- applications ----------------------------------------------------------
    def application(self, app: Application, charts: ChartSources) -> list[dict]:
        if app.helm is not None:
            return helm_objects(app, charts)
        # none for `resources`: they select input items, which the function shell places
        return [self._manifest(m, app) for m in app.spec.manifests]

    @staticmethod
    def _manifest(m: dict, app: Application) -> dict:
        return with_default_namespace(m, app.namespace, app.cluster.crd_scopes)

    # -- declared sources -------------------------------------------------------
    def sources(self, cluster: Cluster, bundles: Iterable[Bundle],
                charts: ChartSources) -> list[tuple[dict, bool]]:
        """Declared sources that something references (or the tree's own source),
        each with whether Helm charts come from it."""
        used: dict[str, bool] = {}  # name -> used as a Helm chart source
        ref_name = cluster.source_ref.name
        if ref_name in cluster.sources:
            used[ref_name] = False
        for b in bundles:
            if b.is_external:
                used.setdefault(b.source_name, False)
            for app in b.applications:
                h = app.helm
                if h is not None and h.source:
                    used[h.source] = True
                elif h is not None and charts.for_app(app) is not None:
                    kind, name = charts.for_app(app)
                    if name in cluster.sources:
                        used[name] = True
        return [(source_object(cluster.sources[n], cluster.namespace, helm_chart=used[n]), used[n])
                for n in sorted(used)]


def chart_users(apps: list[Application], charts: ChartSources) -> dict[str, str]:
    """Chart source name -> the config field of the first application that
    derives it (its helm.repository)."""
    users: dict[str, str] = {}
    for app in apps:
        derived = charts.for_app(app)
        if derived is not None:
            users.setdefault(derived[1], f"{app.path}.helm.repository")
    return users


def effective_wait(bundle: Bundle) -> bool:
    """wait as set on the bundle; unset with healthChecks: false (Flux ignores
    healthChecks under wait); otherwise the cluster default."""
    if bundle.spec.wait is not None:
        return bundle.spec.wait
    if bundle.spec.healthChecks:
        return False
    return bundle.cluster.defaults.wait


def health_checks(bundle: Bundle) -> list[dict]:
    """The user's health checks; without wait, also every HelmRelease of the
    bundle, so dependents start only once the releases are Ready."""
    ns = bundle.cluster.namespace
    checks = [c.to_data() for c in bundle.spec.healthChecks]
    if not effective_wait(bundle):
        have = {(c.kind, c.name, c.namespace) for c in bundle.spec.healthChecks}
        for app in bundle.applications:
            if app.helm is not None and ("HelmRelease", app.name, ns) not in have:
                checks.append({"apiVersion": HELM_API, "kind": "HelmRelease",
                               "name": app.name, "namespace": ns})
    return checks
