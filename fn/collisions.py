"""What one cluster's tree must not hold twice, whatever the engine: the
check over every object an engine generates for a cluster (its own objects,
inline manifests, selected items) and over the files the layout names.

An object's identity is what kustomize and the API server go by: API group,
kind, namespace (after defaulting) and name. Two objects with one identity
make `kustomize build` fail, or have two places apply one object. Helm
keeps one release per name and namespace, so a helm application's release
counts as an identity too.
"""

from __future__ import annotations

import posixpath

from .kinds import is_namespaced
from .layout.plan import MAX_FILE_NAME
from .model.schema import Problem

HELM_RELEASE = ("", "Helm release")  # (group, kind) of a release's identity


def identity(g, target_overrides: bool, crds=None) -> tuple[str, str, str, str]:
    """(API group, kind, namespace, name) of a generated object as it is
    applied. An application's namespaced objects get their bundle's
    targetNamespace: in place of their own when the engine overrides it
    (Flux), else only when they have none (Argo CD)."""
    obj = g.obj
    api = str(obj.get("apiVersion") or "")
    kind = str(obj.get("kind") or "")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    ns = str(meta.get("namespace") or "")
    if not is_namespaced(api, kind, crds):
        ns = ""
    elif g.role in ("app", "selected"):
        target = g.owner.bundle.spec.targetNamespace
        if target and (target_overrides or not ns):
            ns = target
    return api.split("/")[0] if "/" in api else "", kind, ns, str(meta.get("name") or "")


def _claims(generated, target_overrides: bool, crds=None):
    """(identity, config field, the user's own?) of every object, and of the
    Helm release of every helm application."""
    releases = {}
    for g in generated:
        yield identity(g, target_overrides, crds), g.path or _fallback(g), g.given
        if g.role == "app" and g.owner.helm is not None:
            releases.setdefault(id(g.owner), g.owner)
    for app in releases.values():
        name = app.helm.releaseName
        path = f"{app.path}.helm.releaseName" if name else f"{app.path}.name"
        yield (*HELM_RELEASE, app.install_namespace, name or app.name), path, False


def _fallback(g) -> str:
    return g.owner.path if g.owner is not None else g.role


def object_clashes(generated, target_overrides: bool, crds=None) -> list[Problem]:
    """Two places of the config that give one object (`crds`: the scopes of
    custom kinds the input defines)."""
    """An error for each object (or Helm release) that a second place of the
    config generates again, at the field to change: the user's own object
    rather than one kure-fn builds, else the later one. The message names
    both fields."""
    seen: dict[tuple, tuple[str, bool]] = {}
    problems: list[Problem] = []
    for key, path, given in _claims(generated, target_overrides, crds):
        if key not in seen:
            seen[key] = (path, given)
            continue
        other, other_given = seen[key]
        blame, also = (other, path) if other_given and not given else (path, other)
        problems.append(Problem(blame, _clash_message(key, also, blame)))
    return problems


def _clash_message(key: tuple, first: str, second: str) -> str:
    group, kind, ns, name = key
    where = f" in namespace {ns!r}" if ns else ""
    if (group, kind) == HELM_RELEASE:
        return (f"Helm release {name!r}{where} is installed from two places, {first} and "
                f"{second}: Helm keeps one release per name and namespace, so the two would "
                "overwrite each other; set another helm.releaseName or install into another "
                "namespace")
    api = f" ({group})" if group else ""
    return (f"{kind}{api} {name!r}{where} comes from two places, {first} and {second}: "
            "kustomize refuses a tree that holds one object twice, and the two would overwrite "
            "each other in the cluster; rename or remove one of them")


def long_file_names(tree) -> list[Problem]:
    """An error for each file whose name a file system cannot hold, at the
    config field of its object."""
    problems: list[Problem] = []
    for path, origin in sorted(tree.origins.items()):
        name = posixpath.basename(path)
        size = len(name.encode())
        if size > MAX_FILE_NAME:
            problems.append(Problem(origin, f"the object's file name ({name[:40]}...) would be "
                                            f"{size} bytes long; file systems allow "
                                            f"{MAX_FILE_NAME}: shorten its metadata.name"))
    return problems
