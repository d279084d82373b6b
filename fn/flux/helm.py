"""HelmRelease (helm.toolkit.fluxcd.io/v2) for a `helm` application, and the
values ConfigMap when the application keeps its values out of it."""

from __future__ import annotations

from ..engine import canonical, present
from ..krm import yamlio
from ..model.cluster import Application
from .platform import marked_values
from .sources import ChartSources

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
            "metadata": {"name": values_config_map_name(app), "namespace": app.cluster.namespace,
                         "labels": {WATCH_LABEL: "Enabled"}},
            # keys sorted, as AICR writes them: the text must not depend on how an
            # orchestrator re-serialised the config (kustomize's plugin route sorts it)
            "data": {VALUES_KEY: yamlio.dump(canonical(app.helm.values or {}))}}


def helm_release(app: Application, charts: ChartSources) -> dict:
    h = app.helm
    cluster = app.cluster
    ns = cluster.namespace
    target = app.install_namespace
    spec: dict = {
        "interval": h.interval or DEFAULT_INTERVAL,
        "releaseName": h.releaseName or app.name,
        "targetNamespace": target,
        "storageNamespace": target,
    }
    spec.update(_chart(app, charts))
    install: dict = {}
    upgrade: dict = {}
    if h.createNamespace:
        install["createNamespace"] = True
    if h.crds:
        install["crds"] = h.crds
        upgrade["crds"] = h.crds
    retries = h.remediation.retries if h.remediation is not None else None
    if retries is not None:
        install["remediation"] = {"retries": retries}
        upgrade["remediation"] = {"retries": retries}
    if install:
        spec["install"] = install
    if upgrade:
        spec["upgrade"] = upgrade
    spec.update(present(timeout=h.timeout, serviceAccountName=h.serviceAccountName))
    if h.driftDetection:
        spec["driftDetection"] = {"mode": h.driftDetection}
    if h.dependsOn:
        spec["dependsOn"] = [{"name": d, "namespace": ns} for d in sorted(h.dependsOn)]
    values_from = [ref.to_data() for ref in h.valuesFrom]
    if h.valuesConfigMap:  # first, so the user's own entries still override it
        values_from.insert(0, {"kind": "ConfigMap", "name": values_config_map_name(app),
                               "valuesKey": VALUES_KEY})
    elif h.values:
        spec["values"] = marked_values(app, h.values)
    if values_from:
        spec["valuesFrom"] = values_from
    return canonical({"apiVersion": HELM_API, "kind": "HelmRelease",
                      "metadata": {"name": app.name, "namespace": ns}, "spec": spec},
                     keep=frozenset({"values"}))


def _chart(app: Application, charts: ChartSources) -> dict:
    h = app.helm
    cluster = app.cluster
    ns = cluster.namespace
    derived = charts.for_app(app)
    if derived is not None:
        kind, name = derived
        if kind == "OCIRepository":
            return {"chartRef": {"kind": kind, "name": name, "namespace": ns}}
        return {"chart": {"spec": {"chart": app.chart_name, "version": h.version,
                                   "sourceRef": {"kind": kind, "name": name, "namespace": ns}}}}
    src = cluster.sources[h.source]
    if src.type == "oci":
        return {"chartRef": {"kind": "OCIRepository", "name": src.name, "namespace": ns}}
    chart_spec = {"chart": app.chart_name, "sourceRef": {"kind": src.kind, "name": src.name, "namespace": ns}}
    if src.type == "helm":
        chart_spec["version"] = h.version
    else:  # a chart inside a git repository or bucket: rebuild when the source changes
        chart_spec["reconcileStrategy"] = "Revision"
    return {"chart": {"spec": chart_spec}}
