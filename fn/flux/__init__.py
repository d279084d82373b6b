"""The Flux engine: resource generator + layout integrator + bootstrap generator."""

from __future__ import annotations

from ..engine import WorkflowEngine
from .bootstrap import BootstrapGenerator
from .generator import ResourceGenerator
from .layout import LayoutIntegrator

__all__ = ["Engine", "ResourceGenerator", "LayoutIntegrator", "BootstrapGenerator"]


class Engine(WorkflowEngine):
    """Composes the three parts; each part is usable and tested on its own."""

    name = "flux"
    version = "v2.9"  # the Flux API generation the objects target

    def __init__(self, kustomization_mode: str | None = None, placement: str | None = None,
                 file_naming: str | None = None):
        super().__init__(ResourceGenerator(), LayoutIntegrator(kustomization_mode, placement, file_naming),
                         BootstrapGenerator())
