"""HelmRelease (helm.toolkit.fluxcd.io/v2) for a `helm` application."""

from __future__ import annotations

from ..engine import canonical
from ..model.cluster import Application
from .sources import ChartSources

HELM_API = "helm.toolkit.fluxcd.io/v2"
DEFAULT_INTERVAL = "10m"


def target_namespace(app: Application) -> str:
    """Where the chart installs: helm.targetNamespace, the app namespace, else the app name."""
    return app.helm.get("targetNamespace") or app.namespace or app.name


def helm_release(app: Application, charts: ChartSources) -> dict:
    h = app.helm
    cluster = app.cluster
    ns = cluster.namespace
    target = target_namespace(app)
    spec: dict = {
        "interval": h.get("interval") or DEFAULT_INTERVAL,
        "releaseName": h.get("releaseName") or app.name,
        "targetNamespace": target,
        "storageNamespace": target,
    }
    spec.update(_chart(app, charts))
    install: dict = {}
    upgrade: dict = {}
    if h.get("createNamespace", True):
        install["createNamespace"] = True
    if h.get("crds"):
        install["crds"] = h["crds"]
        upgrade["crds"] = h["crds"]
    retries = (h.get("remediation") or {}).get("retries")
    if retries is not None:
        install["remediation"] = {"retries": retries}
        upgrade["remediation"] = {"retries": retries}
    if install:
        spec["install"] = install
    if upgrade:
        spec["upgrade"] = upgrade
    for key in ("timeout", "serviceAccountName"):
        if h.get(key):
            spec[key] = h[key]
    if h.get("driftDetection"):
        spec["driftDetection"] = {"mode": h["driftDetection"]}
    if h.get("dependsOn"):
        spec["dependsOn"] = [{"name": d, "namespace": ns} for d in sorted(h["dependsOn"])]
    if h.get("valuesFrom"):
        spec["valuesFrom"] = h["valuesFrom"]
    if h.get("values"):
        spec["values"] = h["values"]
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
        return {"chart": {"spec": {"chart": h["chart"], "version": h["version"],
                                   "sourceRef": {"kind": kind, "name": name, "namespace": ns}}}}
    src = cluster.sources[h["source"]]
    if src.type == "oci":
        return {"chartRef": {"kind": "OCIRepository", "name": src.name, "namespace": ns}}
    chart_spec = {"chart": h["chart"], "sourceRef": {"kind": src.kind, "name": src.name, "namespace": ns}}
    if src.type == "helm":
        chart_spec["version"] = h["version"]
    else:  # a chart inside a git repository or bucket: rebuild when the source changes
        chart_spec["reconcileStrategy"] = "Revision"
    return {"chart": {"spec": chart_spec}}
