"""Bootstrap generator: the app-of-apps root Application.

The root Application is named after the cluster, syncs the cluster
directory (whose kustomization.yaml lists only the `argocd/` control
directory) and lives in that directory itself, so Argo CD manages it once it
has been applied by hand (self-managed). It always targets the cluster Argo CD
runs in, because what it applies are Applications, which Argo CD reads from
its own namespace. It has no cascade finalizer: deleting the root must not
delete the cluster's workloads.
"""

from __future__ import annotations

from ..engine import Generated
from ..layout.plan import TreePlan
from ..model.cluster import Cluster
from .generator import IN_CLUSTER, application, argo_path, sync_policy
from .names import root_name

MODES = ("app-of-apps",)


class BootstrapGenerator:
    def supported_modes(self) -> list[str]:
        return list(MODES)

    def generate(self, bootstrap, cluster: Cluster) -> list[Generated]:
        """The root Application. `bootstrap` (spec.bootstrap, which installs
        Flux) plays no part: Argo CD itself is installed beforehand."""
        return [Generated(self.root_application(cluster), "bootstrap", None, path="metadata.name")]

    def root_application(self, cluster: Cluster) -> dict:
        argocd = cluster.argocd
        return application(
            root_name(cluster), cluster,
            source={"repoURL": argocd.repoURL, "targetRevision": argocd.targetRevision,
                    "path": argo_path(TreePlan.for_cluster(cluster).cluster_dir)},
            destination={"server": IN_CLUSTER, "namespace": argocd.namespace},
            sync=sync_policy(cluster, prune=argocd.syncPolicy.automated.prune))
