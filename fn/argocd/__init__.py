"""The Argo CD engine: resource generator + layout integrator + bootstrap
generator, behind the same interface as `fn.flux.Engine`."""

from __future__ import annotations

from ..engine import Generated
from ..layout.tree import Tree
from ..model.cluster import Bundle, Cluster, Node
from .bootstrap import BootstrapGenerator
from .generator import ResourceGenerator
from .layout import LayoutIntegrator

__all__ = ["Engine", "ResourceGenerator", "LayoutIntegrator", "BootstrapGenerator"]


class Engine:
    """Composes the three parts; each part is usable and tested on its own."""

    name = "argocd"
    version = "v3.1"  # the oldest Argo CD that reads every emitted field (native OCI charts)

    def __init__(self, kustomization_mode: str | None = None, file_naming: str | None = None):
        self.resources = ResourceGenerator()
        self.layout = LayoutIntegrator(kustomization_mode, file_naming)
        self.bootstrap = BootstrapGenerator()

    # -- objects ------------------------------------------------------------
    def generate_from_cluster(self, cluster: Cluster) -> list[dict]:
        return [g.obj for g in self.resources.generate_cluster(cluster)]

    def generate_from_node(self, node: Node) -> list[dict]:
        return [g.obj for g in self.resources.generate_node(node)]

    def generate_from_bundle(self, bundle: Bundle) -> list[dict]:
        return [g.obj for g in self.resources.generate_bundle(bundle)]

    def generate_bootstrap(self, bootstrap: dict | None, cluster: Cluster) -> list[dict]:
        return [g.obj for g in self.bootstrap.generate(bootstrap, cluster)]

    def supported_bootstrap_modes(self) -> list[str]:
        return self.bootstrap.supported_modes()

    # -- the tree -----------------------------------------------------------
    def generated(self, cluster: Cluster, extra: list[Generated] = ()) -> list[Generated]:
        return (self.resources.generate_cluster(cluster)
                + self.bootstrap.generate(cluster.bootstrap, cluster) + list(extra))

    def create_layout_with_resources(self, cluster: Cluster, *, extra: list[Generated] = (),
                                     existing: frozenset[str] = frozenset()) -> Tree:
        """The planned tree with every object placed and every kustomization.yaml."""
        return self.layout.integrate(cluster, self.generated(cluster, extra), existing=existing)
