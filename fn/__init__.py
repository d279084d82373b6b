"""kure-fn: a Flux GitOps repository from a compact Cluster description.

Library use::

    from fn import load_cluster
    from fn.flux import Engine

    cluster = load_cluster(open("cluster.yaml").read())
    Engine().create_layout_with_resources(cluster).write("out")
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["load_cluster", "engine_for", "ConfigError", "__version__"]


def load_cluster(source, *, file: str | None = None):
    """A validated Cluster model from a dict or YAML text (same rules as the function)."""
    from .krm import yamlio
    from .registry import build_cluster

    doc = yamlio.load(source) if isinstance(source, str) else source
    return build_cluster(doc, file)


def engine_for(name: str):
    from .registry import engine_for as _engine_for
    return _engine_for(name)


def __getattr__(name):
    if name == "ConfigError":
        from .model.cluster import ConfigError
        return ConfigError
    raise AttributeError(name)
