"""Bootstrap generator: what makes a cluster sync this tree.

flux-operator: one FluxInstance named `flux` (the only name its CRD admits).
gotk: the `gotk-sync.yaml` pair `flux bootstrap` writes — a source and a
Kustomization, both named after the Flux namespace, with matching kinds.
"""

from __future__ import annotations

from ..engine import Generated, canonical
from ..layout.plan import TreePlan, repo_path
from ..model.cluster import Cluster
from ..model.profiles import deep_merge
from ..model.schema import Record
from .generator import KUSTOMIZE_API
from .platform import IMAGE_CONTROLLERS
from .sources import SOURCE_API, SOURCE_WATCHER, sync_ref, sync_source, uses_artifacts

MODES = ("flux-operator", "gotk")
DEFAULT_REGISTRY = "ghcr.io/fluxcd"
DEFAULT_COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller",
                      "notification-controller"]
GOTK_SYNC = "gotk-sync.yaml"
GOTK_COMPONENTS = "gotk-components.yaml"


def gotk_components_path(plan: TreePlan) -> str:
    """Where `flux install --export` output is kept: listed when present, never generated."""
    return f"{plan.flux_dir}/{GOTK_COMPONENTS}"


def default_components(cluster: Cluster) -> list[str]:
    """The controllers when bootstrap.components is not set: the four core
    ones, source-watcher when artifacts are used, the two image controllers
    with spec.imageAutomation."""
    extra = [SOURCE_WATCHER] if uses_artifacts(cluster) else []
    if cluster.spec.imageAutomation is not None:
        extra += IMAGE_CONTROLLERS
    return DEFAULT_COMPONENTS + extra


class BootstrapGenerator:
    def supported_modes(self) -> list[str]:
        return list(MODES)

    def generate(self, bootstrap: Record | None, cluster: Cluster) -> list[Generated]:
        """`bootstrap`: the cluster's spec.bootstrap (Bootstrap), or None."""
        if bootstrap is None:
            return []
        if bootstrap.mode == "gotk":
            return [Generated(o, "bootstrap", None, GOTK_SYNC, path="spec.bootstrap")
                    for o in self.gotk(bootstrap, cluster)]
        return [Generated(self.flux_instance(bootstrap, cluster), "bootstrap", None,
                          path="spec.bootstrap")]

    def flux_instance(self, b: Record, cluster: Cluster) -> dict:
        spec: dict = {
            "distribution": {"version": b.fluxVersion,
                             "registry": b.registry or DEFAULT_REGISTRY},
            "components": list(b.components or default_components(cluster)),
        }
        sync = b.sync
        if sync is not None:
            s: dict = {"kind": sync.kind, "url": sync.url, "ref": sync_ref(sync),
                       "path": repo_path(TreePlan.for_cluster(cluster).cluster_dir)}
            if sync.secretRef is not None:
                s["pullSecret"] = sync.secretRef.name
            spec["sync"] = s
        if b.instance:
            spec = deep_merge(spec, b.instance)
        return canonical({"apiVersion": "fluxcd.controlplane.io/v1", "kind": "FluxInstance",
                          "metadata": {"name": "flux", "namespace": cluster.namespace},
                          "spec": spec})

    def gotk(self, b: Record, cluster: Cluster) -> list[dict]:
        ns = cluster.namespace
        sync = b.sync
        kind = sync.kind if sync is not None else cluster.source_ref.kind
        out = []
        if sync is not None:
            out.append(sync_source(sync, ns, ns))
        out.append(canonical({
            "apiVersion": KUSTOMIZE_API, "kind": "Kustomization",
            "metadata": {"name": ns, "namespace": ns},
            "spec": {"interval": "10m", "path": repo_path(TreePlan.for_cluster(cluster).cluster_dir),
                     "prune": True, "sourceRef": {"kind": kind, "name": ns, "namespace": ns}}}))
        return out


