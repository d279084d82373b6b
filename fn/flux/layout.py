"""Layout integrator: generated objects → a directory tree with a
`kustomization.yaml` wherever Flux or the bootstrap sync builds.

Rules (output.md): the cluster directory is the bootstrap sync path; every
generated object is applied by exactly one Flux Kustomization; each bundle
directory is reached only through its own Flux Kustomization.
"""

from __future__ import annotations

from ..engine import Generated
from ..layout.kustomize import EMIT_ROLES, add_kustomizations, bundle_lists, place
from ..layout.plan import TreePlan
from ..layout.tree import Tree
from ..model.cluster import Cluster
from .bootstrap import GOTK_COMPONENTS, GOTK_SYNC, gotk_components_path


class LayoutIntegrator:
    def __init__(self, kustomization_mode: str | None = None, placement: str | None = None,
                 file_naming: str | None = None):
        self.kustomization_mode = kustomization_mode
        self.placement = placement
        self.file_naming = file_naming

    def integrate(self, cluster: Cluster, generated: list[Generated], *,
                  existing: frozenset[str] = frozenset()) -> Tree:
        """Place `generated` into a Tree. `existing`: paths of files already in
        the repository (a hand-kept gotk-components.yaml gets listed)."""
        mode = self.kustomization_mode or cluster.layout.kustomizationMode
        placement = self.placement or cluster.placement
        naming = self.file_naming or cluster.layout.fileNaming
        plan = TreePlan.for_cluster(cluster)
        roles = EMIT_ROLES[cluster.emit]
        tree = Tree()
        place(tree, generated, cluster, naming, lambda g: self._directory(g, plan, placement))

        rendered = [b for b in cluster.bundles() if not b.is_external]
        if "app" in roles:  # every rendered bundle directory exists, even when empty
            for b in rendered:
                tree.ensure_dir(plan.bundle_dir(b))
            for d in plan.stage_dirs(cluster):
                tree.ensure_dir(d)
        self._kustomizations(tree, cluster, plan, mode, placement, existing)
        return tree

    @staticmethod
    def _directory(g: Generated, plan: TreePlan, placement: str) -> str:
        if g.role in ("app", "selected"):
            return plan.app_dir(g.owner, g.stage)
        if g.role == "kustomization" and placement == "integrated":
            return plan.node_dir(g.owner.node)
        return plan.flux_dir

    # -- kustomization.yaml files ------------------------------------------
    def _kustomizations(self, tree: Tree, cluster: Cluster, plan: TreePlan, mode: str,
                        placement: str, existing: frozenset[str]) -> None:
        files = tree.files_by_dir()
        bundle_dirs = {plan.bundle_dir(b) for b in cluster.bundles() if not b.is_external}
        bundle_dirs.update(plan.stage_dirs(cluster))  # helm.pre / helm.post
        lists = bundle_lists(tree, bundle_dirs, mode)

        flux_dir = plan.flux_dir
        flux_files = set(files.get(flux_dir, ()))
        if GOTK_SYNC in flux_files and gotk_components_path(plan) in existing:
            flux_files.add(GOTK_COMPONENTS)
        if flux_files:
            lists[flux_dir] = sorted(flux_files)

        top: list[str] = ["flux-system"] if flux_files else []
        if placement == "integrated":
            def node_list(node) -> bool:
                d = plan.node_dir(node)
                entries = list(files.get(d, ()))
                entries += [c.name for c in node.children if node_list(c)]
                if entries:
                    lists[d] = sorted(entries)
                return bool(entries)
            top += [n.name for n in cluster.nodes if node_list(n)]
        lists[plan.cluster_dir] = sorted(top)

        add_kustomizations(tree, lists, cluster.name)
