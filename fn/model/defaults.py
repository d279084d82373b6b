"""Defaults, set once: `spec.flux.defaults` and a node's `defaults`.

The closest setting wins — application / bundle ← node ← parent node ←
`spec.flux.defaults` — whether a level sets a value as a typed field or in
its overlay (`kustomization`, `helm.release`). Mappings deep-merge (helm
`values` too); lists and scalars replace. Resolved once, when the model is
built: each node holds what its bundles inherit.
"""

from __future__ import annotations

from .config import HELM_APP, HELM_IDENTITY
from .profiles import deep_merge
from .schema import Record

KUSTOMIZATION_SETTINGS = ("interval", "retryInterval", "timeout", "prune", "wait")
# helm fields a default gives (values and the release overlay are merged instead)
HELM_DEFAULTS = tuple(k for k in HELM_APP.fields if k not in (*HELM_IDENTITY, "values", "release"))


def kustomization_level(d: Record) -> dict:
    """One level's Kustomization settings as Kustomization spec fields: its
    typed fields, its `kustomization` overlay over them (within one level the
    overlay wins, as a bundle's own overlay wins over its typed fields)."""
    typed = {k: v for k in KUSTOMIZATION_SETTINGS if (v := getattr(d, k)) is not None}
    return deep_merge(typed, d.kustomization or {})


def inherit(kustomization: dict, helm: tuple, d: Record | None) -> tuple[dict, tuple]:
    """What a node's bundles inherit: the parent's (`kustomization`: merged
    Kustomization spec fields; `helm`: helm defaults records, farthest first)
    with the node's own `defaults` `d` over it."""
    if d is None:
        return kustomization, helm
    return (deep_merge(kustomization, kustomization_level(d)),
            helm + ((d.helm,) if d.helm is not None else ()))


def effective_helm(own: Record, levels: tuple) -> Record:
    """A helm application's fields with the defaults filled: each unset field
    from the closest level that sets it, `values` deep-merged over every
    level's. Without defaults, the application's own record (no copy).
    createNamespace stays None when no level sets it: read it as true."""
    if not levels:
        return own
    values = {k: getattr(own, k) for k in own._fields}
    merged_values: dict = {}
    for level in levels:
        if level.values:
            merged_values = deep_merge(merged_values, level.values)
    for k in HELM_DEFAULTS:
        if values[k] in (None, []):  # unset (a list: empty)
            values[k] = next((v for level in reversed(levels)
                              if (v := getattr(level, k)) not in (None, [])), values[k])
    if merged_values:
        values["values"] = deep_merge(merged_values, own.values or {})
    return type(own)._of(values)
