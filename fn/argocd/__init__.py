"""The Argo CD engine: resource generator + layout integrator + bootstrap
generator, behind the same interface as `fn.flux.Engine`."""

from __future__ import annotations

from ..engine import WorkflowEngine
from .bootstrap import BootstrapGenerator
from .generator import ResourceGenerator
from .layout import LayoutIntegrator
from .names import application_names
from .rules import validate

__all__ = ["Engine", "ResourceGenerator", "LayoutIntegrator", "BootstrapGenerator"]


class Engine(WorkflowEngine):
    """Composes the three parts; each part is usable and tested on its own."""

    name = "argocd"
    version = "v3.1"  # the oldest Argo CD that reads every emitted field (native OCI charts)

    def __init__(self, kustomization_mode: str | None = None, file_naming: str | None = None):
        super().__init__(ResourceGenerator(), LayoutIntegrator(kustomization_mode, file_naming),
                         BootstrapGenerator())

    def validate(self, cluster) -> list:
        return validate(cluster)

    def shared_names(self, cluster) -> list[tuple[tuple, str, str]]:
        """Application names: one Argo CD namespace holds every cluster's."""
        ns = cluster.argocd.namespace
        return [(("Application", ns, name), path,
                  f"the Argo CD Application name {name!r} (the namespace {ns!r} holds the "
                  "Applications of every cluster)")
                for name, path in application_names(cluster)]
