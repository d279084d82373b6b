"""The Flux engine: resource generator + layout integrator + bootstrap generator."""

from __future__ import annotations

from ..engine import WorkflowEngine
from ..layout.plan import TreePlan
from .bootstrap import BootstrapGenerator, gotk_components_path
from .generator import ResourceGenerator
from .layout import LayoutIntegrator
from .platform import committed_tags
from .rules import validate

__all__ = ["Engine", "ResourceGenerator", "LayoutIntegrator", "BootstrapGenerator"]


class Engine(WorkflowEngine):
    """Composes the three parts; each part is usable and tested on its own."""

    name = "flux"
    version = "v2.9"  # the Flux API generation the objects target
    target_namespace_overrides = True  # kustomize's namespace transformer

    def __init__(self, kustomization_mode: str | None = None, placement: str | None = None,
                 file_naming: str | None = None):
        super().__init__(ResourceGenerator(), LayoutIntegrator(kustomization_mode, placement, file_naming),
                         BootstrapGenerator())

    def validate(self, cluster) -> list:
        return validate(cluster)

    def schema_extension(self):
        """The spec overlays' definitions, from the shipped Flux CRD schemas."""
        from .overlays import schema_extension
        return schema_extension()

    def carry_over(self, cluster, previous) -> None:
        """The tags image automation committed at the markers (platform.md)."""
        cluster.committed_tags = committed_tags(cluster, previous)

    def listed_if_present(self, cluster) -> frozenset[str]:
        """gotk-components.yaml (`flux install --export`), kept by hand."""
        return frozenset([gotk_components_path(TreePlan.for_cluster(cluster))])
