"""References between Flux objects that name objects outside this config too."""

from __future__ import annotations


def depends_on(dependencies, namespace: str, ready: dict[str, str] | None = None) -> list[dict]:
    """dependsOn entries, each with the namespace of the object it names
    (`namespace`, the dependent's own, for an outside one written without);
    `ready` renames objects of this config (a bundle -> its <bundle>-post)."""
    ready = ready or {}
    refs = {(ready.get(d.name, d.name) if d.internal else d.name, d.namespace or namespace)
            for d in dependencies}
    return [{"name": n, "namespace": ns} for n, ns in sorted(refs)]
