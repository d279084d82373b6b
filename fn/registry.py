"""The engine registry: GitOps tool name → engine, and the one way to turn a
config document into a validated cluster (model rules, then the engine's).

Only the shells (function, directory mode, the public API) import this
module; engines never do.
"""

from __future__ import annotations

ENGINES = ("flux", "argocd")


def engine_for(name: str):
    """The engine for a GitOps tool by name ("flux" or "argocd")."""
    if name in ("flux", "fluxcd"):
        from .flux import Engine
        return Engine()
    if name == "argocd":
        from .argocd import Engine
        return Engine()
    raise ValueError(f"unknown GitOps engine {name!r}; known: {', '.join(ENGINES)}")


def engine_for_cluster(cluster):
    """The engine a cluster config chooses (`spec.gitops`)."""
    return engine_for(cluster.gitops)


def build_cluster(doc: dict, file: str | None = None):
    """A validated Cluster: the model's checks, then its engine's. Raises
    `ConfigError` with every problem; warnings stay on `cluster.warnings`."""
    from .model.build import build
    return build(doc, file, engine_rules=lambda cluster: engine_for_cluster(cluster).validate(cluster))
