"""The engine registry: GitOps tool name → engine, and the one way to turn a
config document into a validated cluster (model rules, then the engine's).

Only the shells (function, directory mode, command line, the public API) import this
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


def schema_text() -> str:
    """The config's JSON Schema (`kure-fn schema`) with every engine's
    definitions of the free-form fields it reads (Flux: the spec overlays)."""
    from .model.config import schema_text as model_schema_text
    from .model.schema import SchemaExtension
    merged = SchemaExtension()
    for name in ENGINES:
        ext = engine_for(name).schema_extension()
        if ext is not None:
            merged.fields.update(ext.fields)
            merged.all_of.update(ext.all_of)
            merged.definitions.update(ext.definitions)
    return model_schema_text(merged)


def build_cluster(doc: dict, file: str | None = None):
    """A validated Cluster: the model's checks, then its engine's. Raises
    `ConfigError` with every problem; warnings stay on `cluster.warnings`."""
    from .model.build import build
    return build(doc, file, engine_rules=lambda cluster: engine_for_cluster(cluster).validate(cluster))
