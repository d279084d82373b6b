"""Profiles: a shared part of Cluster specs, written once.

A `fn.kure.dev/v1alpha1 Profile` holds any Cluster spec field but
`bootstrap.sync`. A Cluster (or a Profile) lists `spec.profiles`; its
effective spec is the listed profiles merged in order, then its own spec:

- mappings deep-merge (helm `values` too, so an override changes one value);
- scalars and plain lists are replaced by the later layer;
- lists of named entries (`sources`, `nodes`, `children`, `bundles`,
  `applications`) merge entry by entry on `name`, new names appended — the
  strategic merge kustomize applies with merge key `name`;
- `enabled: false` on a bundle or an application removes it; naming an entry
  no earlier layer defines is an error (a typo must not pass).

The merge keeps where every value was written (`Origin`: file and field
path), so a problem found in the merged config names the file and the path
of the value that caused it, in the profile or in the cluster.
"""

from __future__ import annotations

from ..krm.yamlio import copy_data
from ..records import dataclass, field
from .config import PROFILE_KIND
from .schema import Problem, join

NAMED_LISTS = frozenset({"sources", "nodes", "children", "bundles", "applications", "tenants"})
REMOVABLE = frozenset({"bundles", "applications"})  # entries that take `enabled`
_ORIGIN = "\0origin"  # key of a provenance node's own origin (never a config key)


@dataclass(frozen=True)
class Origin:
    """Where a value was written: a document's file and the field path in it."""

    file: str | None
    path: str
    document: str = ""  # "Profile <name>" or "" for the cluster itself


@dataclass(eq=False)
class Layer:
    """One document that contributes to a cluster: a profile or the cluster."""

    name: str
    doc: dict
    file: str | None
    kind: str = PROFILE_KIND


@dataclass(eq=False)
class Merged:
    """A cluster's effective document and where each of its values came from."""

    doc: dict
    provenance: dict
    problems: list[tuple[Problem, Origin]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)  # profile names this cluster uses
    disabled: dict = field(default_factory=dict)  # (list key, name) -> Origin of enabled: false

    def origin(self, path: str) -> Origin:
        """The file and field path where the value at `path` of the merged
        document was written (its deepest recorded ancestor, plus the rest)."""
        node, rest = self.provenance, path
        best, best_rest = node.get(_ORIGIN), rest
        while rest:
            step = _next_step(node, rest)
            if step is None:
                break
            node, rest = step
            if _ORIGIN in node:
                best, best_rest = node[_ORIGIN], rest
        if best is None:
            return Origin(None, path)
        return Origin(best.file, best.path + best_rest, best.document)


def _next_step(node: dict, rest: str):
    """The child of a provenance node that `rest` (".key…" or "[i]…" or
    "key…" at the top) continues into, and what remains after it."""
    body = rest[1:] if rest[0] == "." else rest
    best = None
    for key, child in node.items():
        if key == _ORIGIN:
            continue
        token = f"[{key}]" if isinstance(key, int) else key
        text = rest if isinstance(key, int) else body
        if text.startswith(token) and (len(text) == len(token) or text[len(token)] in ".["):
            if best is None or len(token) > len(best[2]):
                best = (child, text[len(token):], token)
    return None if best is None else best[:2]


def resolve(cluster: Layer, profiles: dict[str, Layer]) -> Merged:
    """The cluster's effective document: its profiles (each resolved the same
    way) merged in order, then its own spec; problems with their origins."""
    merged = Merged({}, {})
    own = Origin(cluster.file, "spec", _label(cluster))
    spec_in = cluster.doc.get("spec")
    if not isinstance(spec_in, dict) or ("profiles" not in spec_in and not _says_enabled(spec_in)):
        # nothing to merge (or not a mapping: validation reports it as written):
        # the config as given, every value where it stands
        merged.doc = cluster.doc
        merged.provenance = {_ORIGIN: Origin(cluster.file, "", _label(cluster))}
        return merged
    spec: dict = {}
    spec_prov: dict = {_ORIGIN: own}
    _apply_profiles(cluster, profiles, spec, spec_prov, merged, chain=())
    _overlay(spec, _spec_without_profiles(cluster.doc), spec_prov, own, merged)
    _remove_disabled(spec, spec_prov, "spec", merged)
    merged.doc = {**{k: v for k, v in cluster.doc.items() if k != "spec"}, "spec": spec}
    merged.provenance = {k: {_ORIGIN: Origin(cluster.file, k, _label(cluster))}
                         for k in merged.doc if k != "spec"}
    merged.provenance["spec"] = spec_prov
    check_removed(merged)
    return merged


def _says_enabled(spec: dict) -> bool:
    """Whether a bundle or application of `spec` has an `enabled` key."""
    for _, bundle in _walk_bundles(spec, "spec"):
        if "enabled" in bundle or any(isinstance(a, dict) and "enabled" in a
                                      for a in bundle.get("applications") or ()):
            return True
    return False


def _label(layer: Layer) -> str:
    return "" if layer.kind != PROFILE_KIND else f"Profile {layer.name}"


def _spec_of(doc: dict) -> dict:
    spec = doc.get("spec")
    return spec if isinstance(spec, dict) else {}


def _spec_without_profiles(doc: dict) -> dict:
    return {k: v for k, v in _spec_of(doc).items() if k != "profiles"}


def _profile_names(layer: Layer, merged: Merged) -> list[tuple[int, str]]:
    names = _spec_of(layer.doc).get("profiles")
    if names is None:
        return []
    where = Origin(layer.file, "spec.profiles", _label(layer))
    if not isinstance(names, list):
        merged.problems.append((Problem("spec.profiles", "expected a list of Profile names"), where))
        return []
    out = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            merged.problems.append((Problem(f"spec.profiles[{i}]", "expected a Profile name"),
                                    Origin(layer.file, f"spec.profiles[{i}]", _label(layer))))
        else:
            out.append((i, name))
    return out


def _apply_profiles(layer: Layer, profiles: dict[str, Layer], spec: dict, prov: dict,
                    merged: Merged, chain: tuple[str, ...]) -> None:
    for i, name in _profile_names(layer, merged):
        here = Origin(layer.file, f"spec.profiles[{i}]", _label(layer))
        profile = profiles.get(name)
        if profile is None:
            known = ", ".join(sorted(profiles)) or "none in this run"
            merged.problems.append((Problem(here.path, f"Profile {name!r} is not defined "
                                                       f"(Profiles: {known}); add it to the "
                                                       "package or remove it from profiles"), here))
            continue
        if name in chain or (layer.kind == PROFILE_KIND and name == layer.name):
            loop = " -> ".join([*chain, name]) if name in chain else f"{name} -> {name}"
            merged.problems.append((Problem(here.path, f"Profile cycle: {loop}; remove one "
                                                       "of these profiles entries"), here))
            continue
        merged.used.add(name)
        if not isinstance(profile.doc.get("spec"), (dict, type(None))):
            where = Origin(profile.file, "spec", _label(profile))
            merged.problems.append((Problem("spec", "expected a mapping (the Cluster spec fields "
                                                    "this profile sets)"), where))
            continue
        _apply_profiles(profile, profiles, spec, prov, merged, (*chain, name))
        sync = (_spec_of(profile.doc).get("bootstrap") or {})
        if isinstance(sync, dict) and "sync" in sync:
            where = Origin(profile.file, "spec.bootstrap.sync", _label(profile))
            merged.problems.append((Problem(where.path, "a Profile cannot set bootstrap.sync: "
                                                        "each cluster syncs its own repository "
                                                        "path; set it in the Cluster"), where))
        _overlay(spec, _spec_without_profiles(profile.doc), prov,
                 Origin(profile.file, "spec", _label(profile)), merged)


def _overlay(dst: dict, src: dict, prov: dict, origin: Origin, merged: Merged) -> None:
    """Merge mapping `src` (written at `origin`) into `dst` in place."""
    for key, value in src.items():
        here = Origin(origin.file, join(origin.path, str(key)), origin.document)
        old = dst.get(key)
        if key in NAMED_LISTS and isinstance(old, list) and isinstance(value, list):
            _merge_named(old, value, prov.setdefault(key, {}), here, merged)
        elif isinstance(old, dict) and isinstance(value, dict):
            _overlay(old, value, prov.setdefault(key, {_ORIGIN: here}), here, merged)
        else:
            dst[key] = copy_data(value)
            prov[key] = _record(value, here)


def _merge_named(dst: list, src: list, prov: dict, origin: Origin, merged: Merged) -> None:
    index = {e["name"]: i for i, e in enumerate(dst)
             if isinstance(e, dict) and isinstance(e.get("name"), str)}
    for i, entry in enumerate(src):
        here = Origin(origin.file, f"{origin.path}[{i}]", origin.document)
        name = entry.get("name") if isinstance(entry, dict) else None
        j = index.get(name) if isinstance(name, str) else None
        if j is None:
            if origin.path.endswith(tuple(REMOVABLE)) and entry.get("enabled") is False:
                where = Origin(here.file, here.path + ".enabled", here.document)
                merged.problems.append((Problem(where.path, _undefined(origin.path, name)), where))
                continue
            if isinstance(name, str):
                index[name] = len(dst)
            prov[len(dst)] = _record(entry, here)
            dst.append(copy_data(entry))
        else:
            node = prov.setdefault(j, {_ORIGIN: here})
            _overlay(dst[j], entry, node, here, merged)
            if entry.get("enabled") is not None:  # the latest word on enabled wins
                node["enabled"] = {_ORIGIN: Origin(here.file, here.path + ".enabled", here.document)}


def _record(value, origin: Origin) -> dict:
    """The provenance of a value copied whole from one place: every entry of
    its named lists and mappings keeps its own path."""
    node: dict = {_ORIGIN: origin}
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                node[k] = _record(v, Origin(origin.file, join(origin.path, str(k)), origin.document))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if isinstance(v, (dict, list)):
                node[i] = _record(v, Origin(origin.file, f"{origin.path}[{i}]", origin.document))
    return node


def deep_merge(base: dict, over: dict) -> dict:
    """`over` merged over `base`: mappings deep-merge, lists and scalars of
    `over` replace. A new mapping; neither argument changes (unchanged parts
    are shared, not copied). The one merge of overlays and defaults."""
    if not over:
        return base
    if not base:
        return over
    out = dict(base)
    for key, value in over.items():
        old = out.get(key)
        out[key] = deep_merge(old, value) if isinstance(old, dict) and isinstance(value, dict) \
            else value
    return out


def _remove_disabled(node, prov: dict, path: str, merged: Merged) -> None:
    """Drop the bundles and applications whose last word is `enabled: false`
    (remembering where it was said); strip `enabled` from the others."""
    if isinstance(node, list):
        for i, v in enumerate(node):
            _remove_disabled(v, prov.get(i, {}), f"{path}[{i}]", merged)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key in REMOVABLE and isinstance(value, list):
            lprov = prov.get(key, {})
            kept, kept_prov = [], {}
            for i, entry in enumerate(value):
                eprov = lprov.get(i, {})
                if isinstance(entry, dict) and "enabled" in entry:
                    enabled = entry.pop("enabled")
                    if enabled is False:
                        where = _origin_of(eprov, "enabled")
                        merged.disabled[(key, entry.get("name"))] = where
                        continue
                    if enabled is not True:
                        where = _origin_of(eprov, "enabled")
                        merged.problems.append((Problem(where.path, "expected true or false, "
                                                                    "without quotes"), where))
                kept_prov[len(kept)] = eprov
                kept.append(entry)
            node[key] = kept
            prov[key] = {**{k: v for k, v in lprov.items() if not isinstance(k, int)}, **kept_prov}
            value = kept
        if isinstance(value, (dict, list)):
            _remove_disabled(value, prov.get(key, {}), join(path, key), merged)


def _origin_of(prov: dict, key: str) -> Origin:
    node = prov.get(key)
    if node and _ORIGIN in node:
        return node[_ORIGIN]
    own = prov.get(_ORIGIN) or Origin(None, "")
    return Origin(own.file, join(own.path, key), own.document)


def _undefined(list_path: str, name) -> str:
    what = "bundle" if list_path.endswith("bundles") else "application"
    return (f"enabled: false names {what} {name!r}, which no profile defines here; check the "
            "name (and the node or bundle it sits under) or remove the entry")


def check_removed(merged: Merged) -> None:
    """A removed bundle or helm application that something still depends on."""
    if not merged.disabled:
        return
    for path, entry in _walk_bundles(merged.doc.get("spec") or {}, "spec"):
        for key, deps, kind in (("dependsOn", entry.get("dependsOn"), "bundles"),):
            _removed_deps(merged, f"{path}.{key}", deps, kind)
        for j, app in enumerate(entry.get("applications") or []):
            helm = app.get("helm") if isinstance(app, dict) else None
            if isinstance(helm, dict):
                _removed_deps(merged, f"{path}.applications[{j}].helm.dependsOn",
                              helm.get("dependsOn"), "applications")


def _removed_deps(merged: Merged, path: str, deps, kind: str) -> None:
    if not isinstance(deps, list):
        return
    for i, dep in enumerate(deps):
        where = merged.disabled.get((kind, dep)) if isinstance(dep, str) else None
        if where is not None:
            here = merged.origin(f"{path}[{i}]")
            at = f"{where.file}: " if where.file else ""
            what = "bundle" if kind == "bundles" else "helm application"
            merged.problems.append((Problem(here.path, f"{what} {dep!r} is removed by enabled: "
                                                       f"false ({at}{where.path}) but this entry "
                                                       "still depends on it; remove the dependency "
                                                       "or keep the " + what), here))


def _walk_bundles(spec: dict, path: str):
    def nodes(items, base):
        for i, node in enumerate(items if isinstance(items, list) else []):
            if not isinstance(node, dict):
                continue
            p = f"{base}[{i}]"
            for j, bundle in enumerate(node.get("bundles") or []):
                if isinstance(bundle, dict):
                    yield f"{p}.bundles[{j}]", bundle
            yield from nodes(node.get("children"), f"{p}.children")
    yield from nodes(spec.get("nodes"), f"{path}.nodes")
