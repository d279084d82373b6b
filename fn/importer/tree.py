"""What Flux applies from a repository, read as the controllers would.

Bootstrap made a GitRepository and a Kustomization, both
`flux-system/flux-system`, that build the sync path. Every Flux Kustomization
applied on the way whose source is the repository itself (that
GitRepository, or an `ExternalArtifact` an ArtifactGenerator makes from it) is
built in turn from its `spec.path` (breadth first), as kustomize-controller
does: the directory's kustomization file (or one listing every manifest
below) with the Kustomization's `targetNamespace`, `namePrefix`/`nameSuffix`,
`patches`, `components` and `images` written into it, then `commonMetadata`.
`postBuild` is not applied to what a Kustomization applies (the bundle keeps
it), only to the Kustomizations it applies, before they are followed.
Kustomizations of other sources are recorded, not built.

A problem Flux would fail on (a missing path, a kustomization error, an
object applied twice, a cycle) is an `ImportError_`; all of them are
collected before giving up.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field

from .kustomize import KUSTOMIZATION_FILES, BuildError, Reader, build, load_kustomization

KUSTOMIZE_GROUP = "kustomize.toolkit.fluxcd.io"
SOURCE_GROUP = "source.toolkit.fluxcd.io"
ARTIFACT_GROUP = "source.extensions.fluxcd.io"
SUBSTITUTE = "kustomize.toolkit.fluxcd.io/substitute"

Key = tuple  # (group, kind, namespace, name)


class ImportError_(Exception):
    """The repository cannot be read as Flux would: every problem, one line each."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def group_of(obj: dict) -> str:
    api = str(obj.get("apiVersion", ""))
    return api.split("/", 1)[0] if "/" in api else ""


def key_of(obj: dict) -> Key:
    meta = obj.get("metadata") or {}
    return (group_of(obj), obj.get("kind"), meta.get("namespace") or "", meta.get("name"))


def show(key: Key) -> str:
    group, kind, ns, name = key
    return f"{kind} {ns + '/' if ns else ''}{name}"


def is_kustomization(obj: dict) -> bool:
    return group_of(obj) == KUSTOMIZE_GROUP and obj.get("kind") == "Kustomization"


def normalise(path: str) -> str:
    p = posixpath.normpath(str(path).strip() or ".")
    return "." if p in (".", "/") else p.lstrip("/")


@dataclass
class Applier:
    """One Flux Kustomization that was built."""
    obj: dict                  # as applied (substituted by its parent's postBuild)
    objects: list[dict]        # what it applies, in build order (before its own postBuild)
    parent: Key | None
    source: tuple              # (kind, namespace, name) of its sourceRef
    patches_kept: bool = False  # spec.patches left for the bundle, not built in
    keys: list = field(default_factory=list)  # each object's key as applied (substituted)

    def keyed(self) -> list[tuple[Key, dict]]:
        return list(zip(self.keys, self.objects))


@dataclass
class Tree:
    root: Key                                       # the bootstrap sync Kustomization
    source: Key                                     # the bootstrap sync source
    appliers: dict[Key, Applier] = field(default_factory=dict)   # breadth first, root first
    external: dict[Key, Applier] = field(default_factory=dict)   # other sources: not built
    generators: dict[Key, dict] = field(default_factory=dict)    # ArtifactGenerators followed
    notes: list[str] = field(default_factory=list)               # kustomize features left out
    incomplete: set = field(default_factory=set)  # Kustomizations built without some of them
    read: set[str] = field(default_factory=set)

    def applied(self) -> dict[Key, dict]:
        """Every object the built Kustomizations apply, by its key as applied."""
        return {k: o for a in self.appliers.values() for k, o in a.keyed()}


def read_tree(reader: Reader, sync_path: str, *, namespace: str = "flux-system",
              name: str = "flux-system") -> Tree:
    sync_path = normalise(sync_path)
    source = (SOURCE_GROUP, "GitRepository", namespace, name)
    root_obj = {"apiVersion": f"{KUSTOMIZE_GROUP}/v1", "kind": "Kustomization",
                "metadata": {"name": name, "namespace": namespace},
                "spec": {"path": f"./{sync_path}" if sync_path != "." else "./", "prune": True,
                         "sourceRef": {"kind": "GitRepository", "name": name,
                                       "namespace": namespace}}}
    if ".." in sync_path.split("/") or not reader.is_dir(sync_path):
        raise ImportError_([f"sync path {sync_path}: no such directory in {reader.root}"])
    tree = Tree(key_of(root_obj), source)
    readers = {("GitRepository", namespace, name): reader}
    problems: list[str] = []
    applied_by: dict[Key, Key] = {}
    queue: list[tuple[dict, Key | None]] = [(root_obj, None)]
    waiting: list[tuple[dict, Key | None]] = []
    while queue or waiting:
        if not queue:  # an ArtifactGenerator may have made a source since
            ready = [w for w in waiting if _source_of(w[0]) in readers]
            if not ready:
                break
            waiting = [w for w in waiting if w not in ready]
            queue = ready
        ks, parent = queue.pop(0)
        src = _source_of(ks)
        if src not in readers:
            waiting.append((ks, parent))
            continue
        key = key_of(ks)
        keep = key != tree.root and patches_representable(ks)
        try:
            objects, notes = _build(readers[src], ks, keep)
        except BuildError as e:
            problems.append(f"{show(key)}: {e}")
            continue
        finally:
            tree.read |= readers[src].read
        tree.notes += [f"{show(key)}: {n}" for n in notes]
        if notes:
            tree.incomplete.add(key)
        post = (ks.get("spec") or {}).get("postBuild") or {}
        keys = [key_of(substituted(o, post)) for o in objects]
        tree.appliers[key] = Applier(ks, objects, parent, src, keep, keys)
        for okey, obj in zip(keys, objects):
            if okey in applied_by and "${" not in str(okey):  # substituteFrom may tell them apart
                problems.append(_twice(tree, okey, applied_by[okey], key))
                continue
            applied_by[okey] = key
            if okey == tree.root:
                continue  # the bootstrap sync, applied by itself (gotk-sync.yaml)
            if is_kustomization(obj):
                queue.append((substituted(obj, post), key))
            elif (group_of(obj), obj.get("kind")) == (ARTIFACT_GROUP, "ArtifactGenerator"):
                _generate(tree, readers, obj, reader, problems)
    for ks, parent in waiting:
        tree.external[key_of(ks)] = Applier(ks, [], parent, _source_of(ks))
    if problems:
        raise ImportError_(problems)
    return tree


def _twice(tree: Tree, key: Key, first: Key, second: Key) -> str:
    chain, k = [], second
    while k is not None:
        chain.append(k)
        if k == key:
            return (f"{show(key)}: a cycle between Kustomizations: "
                    + " <- ".join(show(c) for c in [key] + chain[:-1] + [key]))
        k = tree.appliers[k].parent if k in tree.appliers else None
    return f"{show(key)} is applied twice: by {show(first)} and by {show(second)}"


def _source_of(ks: dict) -> tuple:
    ref = (ks.get("spec") or {}).get("sourceRef") or {}
    ns = (ks.get("metadata") or {}).get("namespace") or ""
    return ref.get("kind"), ref.get("namespace") or ns, ref.get("name")


# -- kustomize-controller ----------------------------------------------------------

PATCH_TARGET = ("group", "version", "kind", "name", "namespace", "labelSelector",
                "annotationSelector")


def patches_representable(ks: dict) -> bool:
    """Whether a Kustomization's spec.patches fit a bundle's `patches` (then
    they stay there, applied by Flux to the rendered objects, not built in).
    A patch of Flux Kustomizations is built in: those become bundles of their own."""
    patches = (ks.get("spec") or {}).get("patches")
    return bool(patches) and isinstance(patches, list) and all(
        isinstance(p, dict) and set(p) <= {"patch", "target"} and isinstance(p.get("patch"), str)
        and isinstance(p.get("target"), dict) and p["target"].get("kind") not in (None, "Kustomization")
        and all(k in PATCH_TARGET and isinstance(v, str) for k, v in (p.get("target") or {}).items())
        for p in patches)


def _build(reader: Reader, ks: dict, keep_patches: bool = False) -> tuple[list[dict], list[str]]:
    spec = ks.get("spec") or {}
    path = normalise(spec.get("path") or ".")
    if ".." in path.split("/") or not reader.is_dir(path):
        raise BuildError(f"spec.path {spec.get('path')!r} does not exist in its source")
    kfile, kus = load_kustomization(reader, path)
    if kfile is None:
        resources = _scan(reader, path)
        kus = {"resources": resources}
    for field_, key in (("targetNamespace", "namespace"), ("namePrefix", "namePrefix"),
                        ("nameSuffix", "nameSuffix")):
        if spec.get(field_) is not None:
            kus[key] = spec[field_]
    for field_ in ("patches", "patchesStrategicMerge", "patchesJson6902"):
        if spec.get(field_) and not (field_ == "patches" and keep_patches):
            kus[field_] = list(kus.get(field_) or []) + list(spec[field_])
    for component in spec.get("components") or []:
        if spec.get("ignoreMissingComponents") and not reader.is_dir(posixpath.join(path, component)):
            continue
        kus["components"] = list(kus.get("components") or []) + [component]
    if spec.get("images"):
        images = [dict(i) for i in kus.get("images") or []]
        for image in spec["images"]:
            same = next((i for i in images if i.get("name") == image.get("name")), None)
            if same is None:
                images.append(dict(image))
            else:
                same.update({k: v for k, v in image.items() if v})
        kus["images"] = images
    result = build(reader, path, kus)
    common = spec.get("commonMetadata") or {}
    for obj in result.objects:
        for what in ("labels", "annotations"):
            if common.get(what):
                meta = obj["metadata"]
                meta[what] = {**(meta.get(what) or {}), **common[what]}
    return result.objects, result.problems


def _scan(reader: Reader, directory: str) -> list[str]:
    """The resources kustomize-controller lists when a directory has no
    kustomization file: every manifest below, and each sub-directory holding a
    kustomization file (not entered)."""
    out, skip = [], []
    for f in reader.listing(directory):
        rel = posixpath.relpath(f, directory) if directory != "." else f
        if any(rel.startswith(s + "/") for s in skip):
            continue
        parent = posixpath.dirname(rel)
        if parent and posixpath.basename(rel) in KUSTOMIZATION_FILES:
            if parent not in out:
                out.append(parent)
                skip.append(parent)
            continue
        if rel.endswith((".yaml", ".yml")):
            out.append(rel)
    out = [o for o in out if not any(o.startswith(s + "/") for s in skip)]
    return sorted(f"./{p}" for p in out)


# -- postBuild, for the Kustomizations a Kustomization applies -----------------------

_VAR = re.compile(r"\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?:(:=|:-|=)([^}$]*))?\}")


def substituted(obj: dict, post: dict) -> dict:
    """`obj` with the literal `substitute` values of a postBuild (and the
    defaults of `${VAR:=default}`); other `${...}` forms are left as written."""
    if not post:
        return obj
    meta = obj.get("metadata") or {}
    if "disabled" in ((meta.get("labels") or {}).get(SUBSTITUTE),
                      (meta.get("annotations") or {}).get(SUBSTITUTE)):
        return obj
    values = {str(k): str(v) for k, v in (post.get("substitute") or {}).items()}
    from_refs = bool(post.get("substituteFrom"))

    def one(m: re.Match) -> str:
        name, op, default = m.group(1), m.group(2), m.group(3) or ""
        if name in values and (values[name] or op != ":-" and op != ":="):
            return values[name]
        if from_refs:
            return m.group(0)
        return default if op else ""

    def walk(v):
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        while isinstance(v, str) and "${" in v:  # inner first: ${A:-${B}}
            new = _VAR.sub(one, v)
            if new == v:
                break
            v = new
        return v
    return walk(obj)


# -- source-controller's ArtifactGenerator ----------------------------------------------

def _generate(tree: Tree, readers: dict, gen: dict, reader: Reader, problems: list[str]) -> None:
    """The ExternalArtifacts of an ArtifactGenerator over the repository's own
    sources: each a view of the repository's files (its `copy` operations)."""
    key = key_of(gen)
    spec = gen.get("spec") or {}
    aliases = {}
    for s in spec.get("sources") or []:
        src = (s.get("kind"), s.get("namespace") or key[2], s.get("name"))
        if src not in readers:
            return  # not the repository's own: its artifacts stay external
        aliases[s.get("alias")] = readers[src]
    tree.generators[key] = gen
    for art in spec.get("artifacts") or []:
        files: dict[str, str] = {}
        for op in art.get("copy") or []:
            problem = _copy(aliases, op, files)
            if problem:
                problems.append(f"{show(key)}: artifact {art.get('name')}: {problem}")
        view = Reader(reader.root, reader.limits, files=files)
        view.total = reader.total
        readers[("ExternalArtifact", key[2], art.get("name"))] = view


def _copy(aliases: dict[str, Reader], op: dict, files: dict[str, str]) -> str:
    if (op.get("strategy") or "Overwrite") != "Overwrite" or op.get("exclude"):
        return f"copy {op}: a strategy or exclude is not supported by kure-fn import"
    src, to = str(op.get("from", "")), str(op.get("to", ""))
    alias, _, pattern = src.lstrip("@").partition("/")
    if alias not in aliases or not to.startswith("@artifact/"):
        return f"copy from {src!r} to {to!r}: unknown alias or destination"
    source, to = aliases[alias], to[len("@artifact/"):]
    every = source.listing(".")
    real = (lambda f: source.files[f]) if source.files is not None else (lambda f: f)
    if pattern.endswith("/**"):
        prefix = pattern[:-3].strip("/")
        pairs = [(f, posixpath.join(to, posixpath.relpath(f, prefix or "."))) for f in every
                 if not prefix or f.startswith(prefix + "/")]
    elif pattern.endswith("/"):
        prefix = pattern.strip("/")
        base = posixpath.basename(prefix)
        pairs = [(f, posixpath.join(to, base, posixpath.relpath(f, prefix))) for f in every
                 if f.startswith(prefix + "/")]
    else:
        pairs = [(f, posixpath.join(to, posixpath.basename(f)) if to.endswith("/") or to == ""
                  else to) for f in every
                 if posixpath.dirname(f) == posixpath.dirname(pattern)
                 and fnmatch.fnmatchcase(posixpath.basename(f), posixpath.basename(pattern))]
    if not pairs:
        return f"copy from {src!r} matches no file"
    for f, target in pairs:
        files[posixpath.normpath(target)] = real(f)
    return ""
