"""Resource generator: cluster, node or bundle → Flux objects. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

from ..engine import BundleGenerator, Generated, app_objects, canonical
from ..kinds import with_default_namespace
from ..layout.plan import TreePlan, relative_path, repo_path
from ..model.cluster import Application, Bundle, Cluster
from .helm import HELM_API, helm_objects
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
        return out

    # -- the Flux Kustomization of a bundle ------------------------------------
    def kustomization(self, bundle: Bundle, plan: TreePlan) -> dict:
        cluster = bundle.cluster
        ns = cluster.namespace
        s = bundle.spec
        meta: dict = {"name": bundle.name, "namespace": ns}
        if s.get("labels"):
            meta["labels"] = dict(s["labels"])
        if s.get("annotations"):
            meta["annotations"] = dict(s["annotations"])
        if bundle.is_external:
            src = cluster.sources[bundle.source_name]
            source_ref = {"kind": src.kind, "name": src.name, "namespace": ns}
            path = repo_path(relative_path(s["path"]))
        else:
            source_ref = {**cluster.source_ref, "namespace": ns}
            path = repo_path(plan.bundle_dir(bundle))
        spec: dict = {
            "interval": bundle.setting("interval"),
            "retryInterval": bundle.setting("retryInterval"),
            "timeout": bundle.setting("timeout"),
            "path": path,
            "prune": bundle.setting("prune"),
            "sourceRef": source_ref,
            "wait": effective_wait(bundle),
        }
        for key in ("force", "suspend", "targetNamespace", "serviceAccountName", "decryption",
                    "components"):
            if s.get(key) is not None and s.get(key) != []:
                spec[key] = s[key]
        checks = health_checks(bundle)
        if checks:
            spec["healthChecks"] = checks
        if s.get("patches"):
            spec["patches"] = s["patches"]
        post = s.get("postBuild")
        if post and (post.get("substitute") or post.get("substituteFrom")):
            spec["postBuild"] = {k: v for k, v in post.items() if v}
        if bundle.depends_on:
            spec["dependsOn"] = [{"name": d, "namespace": ns} for d in sorted(bundle.depends_on)]
        return canonical({"apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
                          "metadata": meta, "spec": spec})

    # -- applications ----------------------------------------------------------
    def application(self, app: Application, charts: ChartSources) -> list[dict]:
        if app.helm is not None:
            return helm_objects(app, charts)
        if app.spec.get("manifests") is not None:
            return [self._manifest(m, app) for m in app.spec["manifests"]]
        return []  # `resources` select input items; the function shell places them

    @staticmethod
    def _manifest(m: dict, app: Application) -> dict:
        return with_default_namespace(m, app.namespace, app.cluster.crd_scopes)

    # -- declared sources -------------------------------------------------------
    def sources(self, cluster: Cluster, bundles: Iterable[Bundle],
                charts: ChartSources) -> list[tuple[dict, bool]]:
        """Declared sources that something references (or the tree's own source),
        each with whether Helm charts come from it."""
        used: dict[str, bool] = {}  # name -> used as a Helm chart source
        ref_name = cluster.source_ref["name"]
        if ref_name in cluster.sources:
            used[ref_name] = False
        for b in bundles:
            if b.is_external:
                used.setdefault(b.source_name, False)
            for app in b.applications:
                h = app.helm
                if h is not None and h.get("source"):
                    used[h["source"]] = True
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
    if bundle.spec.get("wait") is not None:
        return bundle.spec["wait"]
    if bundle.spec.get("healthChecks"):
        return False
    return bundle.cluster.defaults["wait"]


def health_checks(bundle: Bundle) -> list[dict]:
    """The user's health checks; without wait, also every HelmRelease of the
    bundle, so dependents start only once the releases are Ready."""
    ns = bundle.cluster.namespace
    checks = [dict(c) for c in bundle.spec.get("healthChecks") or []]
    if not effective_wait(bundle):
        have = {(c.get("kind"), c.get("name"), c.get("namespace")) for c in checks}
        for app in bundle.applications:
            if app.helm is not None and ("HelmRelease", app.name, ns) not in have:
                checks.append({"apiVersion": HELM_API, "kind": "HelmRelease",
                               "name": app.name, "namespace": ns})
    return checks
