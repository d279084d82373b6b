"""The planned directories of a cluster's tree.

One place decides every directory, so that a Flux Kustomization's
`spec.path` and the directory actually written can never disagree (Kure's
first defect). The Argo CD engine uses the same plan.
"""

from __future__ import annotations

from ..model.cluster import Application, Bundle, Cluster, Node
from ..records import dataclass

FLUX_DIR = "flux-system"
ARGOCD_DIR = "argocd"
CONTROL_DIRS = {"flux": FLUX_DIR, "argocd": ARGOCD_DIR}  # per engine: its directory in the cluster dir

# What a file system takes (docs/layout.md, "Limits"): a file or directory
# name of at most 255 bytes (NAME_MAX), and a path of at most 4095 bytes
# (PATH_MAX, 4096 with the final NUL) from the file system's root. kpt writes
# by absolute path, so 1024 bytes are kept for where the repository is checked
# out: every path in the tree is at most 3072 bytes, so every directory at
# most 3072 - 1 - 255 bytes, leaving room for any file name.
MAX_FILE_NAME = 255
MAX_PATH = 3072
MAX_DIR = MAX_PATH - 1 - MAX_FILE_NAME


def join(*parts: str) -> str:
    return "/".join([p for p in parts if p and p != "."])


def repo_path(directory: str) -> str:
    """A Flux `spec.path`: `./` + the directory relative to the repository root."""
    return "./" + directory if directory else "./"


def relative_path(path: str) -> str:
    """A path inside a repository as written by a user (`./deploy/`, `deploy`,
    `.`) in one form: no leading `./` or `/`, no trailing `/`; "" is the root."""
    p = path.strip()
    while p.startswith("./"):
        p = p[2:]
    p = p.strip("/")
    return "" if p == "." else p


@dataclass(frozen=True)
class TreePlan:
    root: str
    cluster_name: str

    @classmethod
    def for_cluster(cls, cluster: Cluster) -> "TreePlan":
        return cls(cluster.layout.root, cluster.name)

    @property
    def cluster_dir(self) -> str:
        return join(self.root, self.cluster_name)

    @property
    def flux_dir(self) -> str:
        return join(self.cluster_dir, FLUX_DIR)

    @property
    def argocd_dir(self) -> str:
        """The Argo CD control directory: the root and bundle Applications."""
        return join(self.cluster_dir, ARGOCD_DIR)

    def node_dir(self, node: Node) -> str:
        memo = self.__dict__.setdefault("_node_dirs", {})  # not a field: every bundle asks
        d = memo.get(node)
        if d is None:
            d = memo[node] = join(self.cluster_dir, *node.segments)
        return d

    def bundle_dir(self, bundle: Bundle) -> str:
        return join(self.node_dir(bundle.node), bundle.name)

    def stage_dir(self, bundle: Bundle, stage: str) -> str:
        """helm.pre / helm.post: <bundle>-pre/ or <bundle>-post/ beside the
        bundle directory, built by the Kustomization of that name."""
        return join(self.node_dir(bundle.node), bundle.stage_name(stage))

    def app_dir(self, app: Application, stage: str | None = None) -> str:
        """The application's directory in its bundle, or in a stage's directory."""
        outer = self.stage_dir(app.bundle, stage) if stage else self.bundle_dir(app.bundle)
        return join(outer, app.name)

    def stage_dirs(self, cluster: Cluster) -> list[str]:
        """Every stage directory of the cluster."""
        return [self.stage_dir(b, s) for b in cluster.bundles() for s in b.stages]


def inside(directory: str, outer: str) -> bool:
    """True when `directory` is `outer` or lies below it (per path segment)."""
    return directory == outer or directory.startswith(outer + "/")


def overlapping(plans: list[TreePlan]) -> list[tuple[TreePlan, TreePlan]]:
    """Pairs (earlier, later) of a fleet whose cluster directories nest: the
    later cluster's tree would share files with the earlier one's."""
    return [(a, b) for i, b in enumerate(plans) for a in plans[:i]
            if inside(a.cluster_dir, b.cluster_dir) or inside(b.cluster_dir, a.cluster_dir)]
