"""Layout integrator: generated objects → a directory tree with a
`kustomization.yaml` wherever Flux or the bootstrap sync builds.

Rules (output.md): the cluster directory is the bootstrap sync path; every
generated object is applied by exactly one Flux Kustomization; each bundle
directory is reached only through its own Flux Kustomization.
"""

from __future__ import annotations

import bisect
import posixpath
import re

from ..engine import OWNER, Generated
from ..layout.plan import TreePlan
from ..layout.tree import Tree
from ..model.cluster import Cluster
from .bootstrap import GOTK_COMPONENTS, GOTK_SYNC

KUSTOMIZE_CONFIG_API = "kustomize.config.k8s.io/v1beta1"
LOCAL_CONFIG = "config.kubernetes.io/local-config"
KUSTOMIZATION_FILE = "kustomization.yaml"
EMIT_ROLES = {
    "all": {"kustomization", "source", "chart-source", "bootstrap", "app", "selected"},
    "flux": {"kustomization", "source", "chart-source", "bootstrap"},
    "apps": {"app", "selected", "chart-source"},
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name(obj: dict, naming: str) -> str:
    """`<namespace|cluster>-<kind>-<name>.yaml` (namespaced) or `<kind>-<name>.yaml`."""
    meta = obj.get("metadata") or {}
    kind = _UNSAFE.sub("-", str(obj.get("kind", "object")).lower())
    name = _UNSAFE.sub("-", str(meta.get("name", "unnamed")))
    if naming == "kind-name":
        return f"{kind}-{name}.yaml"
    ns = _UNSAFE.sub("-", str(meta.get("namespace") or "cluster"))
    return f"{ns}-{kind}-{name}.yaml"


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
        mode = self.kustomization_mode or cluster.layout["kustomizationMode"]
        placement = self.placement or cluster.placement
        naming = self.file_naming or cluster.layout["fileNaming"]
        plan = TreePlan.for_cluster(cluster)
        roles = EMIT_ROLES[cluster.emit]
        tree = Tree()

        for g in generated:
            if g.role not in roles:
                continue
            directory = self._directory(g, plan, placement)
            name = g.filename or file_name(g.obj, naming)
            obj = g.obj if g.role == "selected" else _stamp(g, cluster.name)
            tree.add(posixpath.join(directory, name), obj, owned=g.role != "selected")

        rendered = [b for b in cluster.bundles() if not b.is_external]
        if "app" in roles:  # every rendered bundle directory exists, even when empty
            for b in rendered:
                tree.ensure_dir(plan.bundle_dir(b))
        self._kustomizations(tree, cluster, plan, mode, placement, existing)
        return tree

    @staticmethod
    def _directory(g: Generated, plan: TreePlan, placement: str) -> str:
        if g.role in ("app", "selected"):
            return plan.app_dir(g.owner)
        if g.role == "kustomization" and placement == "integrated":
            return plan.node_dir(g.owner.node)
        return plan.flux_dir

    # -- kustomization.yaml files ------------------------------------------
    def _kustomizations(self, tree: Tree, cluster: Cluster, plan: TreePlan, mode: str,
                        placement: str, existing: frozenset[str]) -> None:
        files = tree.files_by_dir()
        lists: dict[str, list[str]] = {}

        subdirs: dict[str, list[str]] = {}
        for d in tree.dirs:
            subdirs.setdefault(posixpath.dirname(d), []).append(d)
        paths = tree.paths()  # sorted: the files below a directory are one slice
        bundle_dirs = {plan.bundle_dir(b) for b in cluster.bundles() if not b.is_external}
        for b_dir in sorted(bundle_dirs):
            if b_dir not in tree.dirs:
                continue
            app_dirs = sorted(subdirs.get(b_dir, ()))
            if mode == "recursive":
                prefix = b_dir + "/"
                start = bisect.bisect_left(paths, prefix)
                end = bisect.bisect_left(paths, prefix[:-1] + "0", start)  # "0" follows "/"
                lists[b_dir] = [p[len(prefix):] for p in paths[start:end]]
            else:
                lists[b_dir] = [posixpath.basename(d) for d in app_dirs if files.get(d)]
                for d in app_dirs:
                    if files.get(d):
                        lists[d] = sorted(files[d])

        flux_dir = plan.flux_dir
        flux_files = set(files.get(flux_dir, ()))
        gotk = posixpath.join(flux_dir, GOTK_COMPONENTS)
        if GOTK_SYNC in flux_files and gotk in existing:
            flux_files.add(GOTK_COMPONENTS)
        if flux_files:
            lists[flux_dir] = sorted(flux_files)

        top: list[str] = ["flux-system"] if flux_files else []
        if placement == "integrated":
            def node_list(node) -> bool:
                d = plan.node_dir(node)
                entries = sorted(f for f in files.get(d, ()))
                entries += [c.name for c in node.children if node_list(c)]
                if entries:
                    lists[d] = entries
                return bool(entries)
            top += [n.name for n in cluster.nodes if node_list(n)]
        lists[plan.cluster_dir] = top

        for d, resources in lists.items():
            tree.add(posixpath.join(d, KUSTOMIZATION_FILE), _kustomization_file(d, resources, cluster.name))


def _stamp(g: Generated, cluster_name: str) -> dict:
    """A copy of the object with the ownership annotation."""
    obj = dict(g.obj)
    meta = dict(obj.get("metadata") or {})
    anns = dict(meta.get("annotations") or {})
    anns[OWNER] = cluster_name
    user_manifest = g.role == "app" and g.owner.helm is None
    meta["annotations"] = anns if user_manifest else dict(sorted(anns.items()))
    if not user_manifest:  # Kubernetes' usual order: name, namespace, labels, annotations
        first = ("name", "namespace", "labels", "annotations")
        meta = {**{k: meta[k] for k in first if k in meta},
                **{k: v for k, v in meta.items() if k not in first}}
    obj["metadata"] = meta
    return obj


def _kustomization_file(directory: str, resources: list[str], cluster_name: str) -> dict:
    name = re.sub(r"[^a-z0-9.-]+", "-", directory.lower()).strip("-.") or "root"
    return {
        "apiVersion": KUSTOMIZE_CONFIG_API,
        "kind": "Kustomization",
        "metadata": {"name": name, "annotations": {LOCAL_CONFIG: "true", OWNER: cluster_name}},
        "resources": list(resources),
    }
