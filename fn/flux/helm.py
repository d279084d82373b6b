"""HelmRelease (helm.toolkit.fluxcd.io/v2) for a `helm` application, and the
values ConfigMap when the application keeps its values out of it."""

from __future__ import annotations

from ..engine import canonical, present
from ..krm import yamlio
from ..model.cluster import EXTERNAL_ARTIFACT, Application
from ..model.profiles import deep_merge
from .refs import depends_on
from .platform import marked_values
from .sources import ChartSources
from .tenants import service_account

HELM_API = "helm.toolkit.fluxcd.io/v2"
DEFAULT_INTERVAL = "10m"
VALUES_KEY = "values.yaml"
WATCH_LABEL = "reconcile.fluxcd.io/watch"  # helm-controller reconciles when the object changes


def values_config_map_name(app: Application) -> str:
    return f"{app.name}-values"


def helm_objects(app: Application, charts: ChartSources) -> list[dict]:
    """The HelmRelease, preceded by its values ConfigMap when asked for."""
    objects = [helm_release(app, charts)]
    if app.helm.valuesConfigMap:
        objects.insert(0, values_config_map(app))
    return objects


def values_config_map(app: Application) -> dict:
    """`<app>-values` in the Flux namespace, the values as YAML under
    `values.yaml`, labelled so that a change reconciles the release."""
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": values_config_map_name(app), "namespace": app.flux_namespace,
                         "labels": {WATCH_LABEL: "Enabled"}},
            # keys sorted, as AICR writes them: the text must not depend on how an
            # orchestrator re-serialised the config (kustomize's plugin route sorts it)
            "data": {VALUES_KEY: yamlio.dump(canonical(app.helm.values or {}))}}


def settings(h) -> dict:
    """HelmRelease spec fields of a helm record's settings (those a default may
    give, fn.model.defaults.HELM_DEFAULTS): an application's own, or a level
    of defaults (which has the same field names)."""
    spec: dict = present(interval=h.interval, timeout=h.timeout,
                         serviceAccountName=h.serviceAccountName)
    install: dict = {}
    upgrade: dict = {}
    if h.createNamespace is not None:
        install["createNamespace"] = h.createNamespace  # false: dropped when all is merged
    if h.crds:
        install["crds"] = h.crds
        upgrade["crds"] = h.crds
    retries = h.remediation.retries if h.remediation is not None else None
    if retries is not None:
        install["remediation"] = {"retries": retries}
        upgrade["remediation"] = {"retries": retries}
    # typed Flux fields (docs/helm.md, "Flux fields")
    if h.strategy:
        install["strategy"] = {"name": h.strategy}
        upgrade["strategy"] = {"name": h.strategy}
    if h.upgrade is not None:
        upgrade.update(h.upgrade.to_data())
    if h.test is not None:
        spec["test"] = h.test.to_data()
    if h.postRenderers:
        spec["postRenderers"] = h.postRenderers
    spec.update(present(maxHistory=h.maxHistory, suspend=h.suspend))
    if install:
        spec["install"] = install
    if upgrade:
        spec["upgrade"] = upgrade
    if h.driftDetection:
        spec["driftDetection"] = {"mode": h.driftDetection}
    return spec


def inherited(app: Application) -> dict:
    """The HelmRelease spec fields the defaults give an application (kure-fn's
    own first, then spec.flux.defaults.helm, then the nodes'), each level's
    `release` overlay over its typed fields: the closest setting wins."""
    spec: dict = BASE
    for level in app.bundle.node.helm_defaults:
        spec = deep_merge(spec, deep_merge(settings(level), level.release or {}))
    return spec


BASE = {"interval": DEFAULT_INTERVAL, "install": {"createNamespace": True}}


def helm_release(app: Application, charts: ChartSources) -> dict:
    h = app.helm  # the effective values (values, valuesFrom, valuesConfigMap)
    own = app.spec.helm
    cluster = app.cluster
    ns = app.flux_namespace
    target = app.install_namespace
    spec: dict = settings(own)
    if target != ns or own.targetNamespace:
        spec.update({
            "releaseName": own.releaseName or app.name,
            "targetNamespace": target,
            "storageNamespace": target,
        })
    elif own.releaseName:
        spec["releaseName"] = own.releaseName
    # a release in the namespace it installs into leaves the rest to Flux's
    # own defaults (release named after the HelmRelease, installed and stored
    # in its namespace), which say the same (real-repos.md §3)
    spec.update(_chart(app, charts))
    if app.dependencies:
        spec["dependsOn"] = depends_on(app.dependencies, ns)
    values_from = [ref.to_data() for ref in h.valuesFrom]
    if h.valuesConfigMap:  # first, so the user's own entries still override it
        values_from.insert(0, {"kind": "ConfigMap", "name": values_config_map_name(app),
                               "valuesKey": VALUES_KEY})
    elif h.values:
        spec["values"] = marked_values(app, h.values)
    if values_from:
        spec["valuesFrom"] = values_from
    spec = deep_merge(deep_merge(inherited(app), spec), own.release or {})
    account = service_account(app.bundle)  # a tenant's reconciler
    if account and not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = account
    install = spec.get("install")
    if install and app.tenant is not None:  # a tenant may not create namespaces
        spec["install"] = install = {**install, "createNamespace": False}
    if install and install.get("createNamespace") is False:  # Flux's default: not written
        spec["install"] = install = {k: v for k, v in install.items() if k != "createNamespace"}
        if not install:
            del spec["install"]
    return canonical({"apiVersion": HELM_API, "kind": "HelmRelease",
                      "metadata": {"name": app.name, "namespace": ns}, "spec": spec},
                     keep=frozenset({"values"}))


def through_chart_ref(app: Application, charts: ChartSources) -> bool:
    """The release names its chart with chartRef (an OCI chart, an artifact),
    not a HelmChart template (`chart`)."""
    return "chartRef" in _chart(app, charts)


def _chart(app: Application, charts: ChartSources) -> dict:
    h = app.helm
    cluster = app.cluster
    derived = charts.for_app(app)
    if derived is not None:
        kind, name, ns = derived
        if kind == "OCIRepository":
            return {"chartRef": {"kind": kind, "name": name, "namespace": ns}}
        return {"chart": {"spec": {"chart": app.chart_name, "version": h.version,
                                   "sourceRef": {"kind": kind, "name": name, "namespace": ns},
                                   **present(interval=h.chartInterval)}}}
    if h.source in cluster.artifacts:  # an artifact of an artifact source is the chart
        return {"chartRef": {"kind": EXTERNAL_ARTIFACT, "name": h.source,
                             "namespace": cluster.artifacts[h.source].namespace}}
    src = cluster.sources[h.source]
    ns = src.namespace
    if src.type == "oci":
        return {"chartRef": {"kind": "OCIRepository", "name": src.name, "namespace": ns}}
    chart_spec = {"chart": app.chart_name, "sourceRef": {"kind": src.kind, "name": src.name, "namespace": ns},
                  **present(interval=h.chartInterval)}
    if src.type == "helm":
        chart_spec["version"] = h.version
    else:  # a chart inside a git repository or bucket: rebuild when the source changes
        chart_spec["reconcileStrategy"] = "Revision"
    return {"chart": {"spec": chart_spec}}
