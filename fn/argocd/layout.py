"""Layout integrator: generated objects → the planned tree for Argo CD.

The cluster directory (the root Application's path) has a kustomization.yaml
listing only `argocd/`; that control directory holds the root Application
and one Application per bundle; each bundle directory is reached only through
its own Application, and holds the application directories (inline manifests,
selected resources, helm Applications), exactly as the Flux tree does.
"""

from __future__ import annotations


from ..engine import Generated
from ..layout.kustomize import EMIT_ROLES, add_kustomizations, bundle_lists, place
from ..layout.plan import ARGOCD_DIR, TreePlan
from ..layout.tree import Tree
from ..model.cluster import Cluster


class LayoutIntegrator:
    def __init__(self, kustomization_mode: str | None = None, file_naming: str | None = None):
        self.kustomization_mode = kustomization_mode
        self.file_naming = file_naming

    def integrate(self, cluster: Cluster, generated: list[Generated], *,
                  existing: frozenset[str] = frozenset()) -> Tree:
        """Place `generated` into a Tree (`existing` is accepted for the
        engines' common interface; nothing here depends on it)."""
        mode = self.kustomization_mode or cluster.layout.kustomizationMode
        naming = self.file_naming or cluster.layout.fileNaming
        plan = TreePlan.for_cluster(cluster)
        roles = EMIT_ROLES[cluster.emit]
        tree = Tree()
        place(tree, generated, cluster, naming,
              lambda g: plan.app_dir(g.owner) if g.role in ("app", "selected") else plan.argocd_dir)

        bundle_dirs = {plan.bundle_dir(b) for b in cluster.bundles() if not b.is_external}
        if "app" in roles:  # every rendered bundle directory exists, even when empty
            for d in bundle_dirs:
                tree.ensure_dir(d)
        lists = bundle_lists(tree, bundle_dirs, mode)
        control = sorted(tree.files_by_dir().get(plan.argocd_dir, ()))
        if control:
            lists[plan.argocd_dir] = control
        lists[plan.cluster_dir] = [ARGOCD_DIR] if control else []
        add_kustomizations(tree, lists, cluster.name)
        return tree
