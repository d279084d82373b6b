"""What every GitOps engine shares: generated objects and the engine registry."""

from __future__ import annotations

from .records import dataclass

OWNER = "fn.kure.dev/cluster"


@dataclass(frozen=True)
class Generated:
    """A generated object and what it belongs to, so the layout can place it.

    role: "kustomization" (owner: the Bundle), "app" (owner: the Application),
    "source" or "bootstrap" (no owner: the cluster's control directory).
    """

    obj: dict
    role: str
    owner: object = None
    filename: str | None = None  # a fixed file name (gotk-sync.yaml); else by naming


def canonical(value, keep: frozenset = frozenset()):
    """Keys sorted recursively, as `flux create --export` writes them.

    Mappings under a key in `keep` (user content such as Helm values) stay
    exactly as given.
    """
    if isinstance(value, dict):
        return {k: (v if k in keep else canonical(v, keep)) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [canonical(v, keep) for v in value]
    return value


def engine_for(name: str):
    """The engine for a GitOps tool by name ("flux")."""
    if name in ("flux", "fluxcd"):
        from .flux import Engine
        return Engine()
    raise ValueError(f"unknown GitOps engine {name!r}; known: flux")
