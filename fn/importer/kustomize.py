"""`kustomize build` of one directory, in Python, as kustomize v5 does it for
what real Flux repositories use: `resources` (files and directories),
`components`, `namespace`, `namePrefix` / `nameSuffix` (names only),
`labels` / `commonLabels`, `commonAnnotations`, `patches` (strategic merge
and JSON 6902, inline or from a file, with targets), the legacy
`patchesStrategicMerge` / `patchesJson6902`, `images`, `replicas`, and
`configMapGenerator` / `secretGenerator` with `disableNameSuffixHash`.

Everything else of a kustomization file (remote bases, hashed generator
names, replacements, helmCharts, plugins) is a `Problem` naming the file:
never executed, never fetched. Files are read through a `Reader`, which
counts bytes and parses within the function's limits (fn.krm.yamlio).
"""

from __future__ import annotations

import base64
import copy
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..kinds import CLUSTER_SCOPED
from ..krm import yamlio

# kustomize knows the scope of Kubernetes' own kinds only: any other kind is namespaced
K8S_GROUPS = {"", "rbac.authorization.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
              "admissionregistration.k8s.io", "storage.k8s.io", "scheduling.k8s.io",
              "flowcontrol.apiserver.k8s.io", "node.k8s.io", "networking.k8s.io",
              "certificates.k8s.io", "policy", "resource.k8s.io", "internal.apiserver.k8s.io",
              "storagemigration.k8s.io", "authentication.k8s.io", "authorization.k8s.io"}
KUSTOMIZE_CLUSTER_SCOPED = frozenset(k for k in CLUSTER_SCOPED if k[0] in K8S_GROUPS)
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED = {"apiVersion", "kind", "metadata", "resources", "bases", "components", "namespace",
             "namePrefix", "nameSuffix", "labels", "commonLabels", "commonAnnotations", "patches",
             "patchesStrategicMerge", "patchesJson6902", "images", "replicas",
             "configMapGenerator", "secretGenerator", "generatorOptions", "buildMetadata",
             "sortOptions"}


class BuildError(Exception):
    """A directory kustomize could not build either: one line, naming the file."""


@dataclass
class Reader:
    """The repository's files, read within limits; every file read is recorded."""
    root: Path
    limits: yamlio.Limits = yamlio.DEFAULT_LIMITS
    read: set[str] = field(default_factory=set)
    total: int = 0
    files: dict[str, str] | None = None  # an ArtifactGenerator's view: path -> repository path
    _cache: dict[str, list] = field(default_factory=dict)

    def real(self, rel: str) -> Path:
        rel = posixpath.normpath(rel)
        if self.files is not None:
            rel = self.files.get(rel, rel)
        return self.root / rel

    def is_dir(self, rel: str) -> bool:
        rel = posixpath.normpath(rel)
        if self.files is not None:
            return rel == "." or any(f.startswith(rel + "/") for f in self.files)
        return (self.root / rel).is_dir()

    def is_file(self, rel: str) -> bool:
        rel = posixpath.normpath(rel)
        if self.files is not None:
            return rel in self.files
        return (self.root / rel).is_file()

    def listing(self, rel: str) -> list[str]:
        """Every file below `rel`, relative to the reader's root."""
        rel = posixpath.normpath(rel)
        if self.files is not None:
            return sorted(f for f in self.files if rel == "." or f.startswith(rel + "/"))
        base = self.root / rel
        return sorted(p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file())

    def text(self, rel: str) -> str:
        path = self.real(rel)
        try:
            data = path.read_bytes()
        except OSError as e:
            raise BuildError(f"{posixpath.normpath(rel)}: cannot read: {e.strerror}") from None
        self.total += len(data)
        if self.total > self.limits.max_bytes:
            raise BuildError(f"{posixpath.normpath(rel)}: the files read reach {self.total} bytes, "
                             f"over the limit of {self.limits.max_bytes} bytes (set "
                             "KURE_FN_MAX_INPUT_BYTES to raise it)")
        self.read.add(path.relative_to(self.root).as_posix())
        try:
            return yamlio.decode(data, self.limits)
        except yamlio.YAMLInputError as e:
            raise BuildError(f"{posixpath.normpath(rel)}: {e}") from None

    def documents(self, rel: str) -> list:
        rel = posixpath.normpath(rel)
        if rel not in self._cache:
            text = self.text(rel)
            try:
                docs = [yamlio.to_python(n, self.limits) for n in yamlio.compose_all(text, self.limits)]
            except yamlio.YAMLInputError as e:
                raise BuildError(f"{rel}: {e}") from None
            self._cache[rel] = [d for d in docs if d is not None]
        return copy.deepcopy(self._cache[rel])

    def kustomization_file(self, directory: str) -> str | None:
        return next((posixpath.join(directory, n) for n in KUSTOMIZATION_FILES
                     if self.is_file(posixpath.join(directory, n))), None)


@dataclass
class Build:
    objects: list[dict]
    problems: list[str]  # features left out: one line each, naming the file


def build(reader: Reader, directory: str, kustomization: dict | None = None) -> Build:
    """Build `directory`; `kustomization` replaces its kustomization file (as
    kustomize-controller rewrites it)."""
    problems: list[str] = []
    objects = _build_dir(reader, posixpath.normpath(directory), kustomization, problems, [])
    return Build(objects, problems)


def load_kustomization(reader: Reader, directory: str) -> tuple[str | None, dict]:
    kfile = reader.kustomization_file(directory)
    if kfile is None:
        return None, {}
    docs = reader.documents(kfile)
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise BuildError(f"{kfile}: expected one mapping (a kustomization), found "
                         f"{len(docs)} document(s)")
    return kfile, docs[0]


def _build_dir(reader: Reader, directory: str, kus: dict | None, problems: list[str],
               stack: list[str], base: list[dict] | None = None) -> list[dict]:
    if directory in stack:
        raise BuildError(f"{directory}: kustomization cycle: {' -> '.join(stack + [directory])}")
    if not reader.is_dir(directory):
        raise BuildError(f"{directory}: no such directory")
    kfile = reader.kustomization_file(directory)
    if kus is None:
        if kfile is None:
            raise BuildError(f"{directory}: no kustomization.yaml")
        kfile, kus = load_kustomization(reader, directory)
    where = kfile or f"{directory}/kustomization.yaml (generated)"
    stack = stack + [directory]
    for key in sorted(set(kus) - SUPPORTED):
        problems.append(f"{where}: {key} is not supported by kure-fn import; left out")
    objects: list[dict] = list(base or [])
    for entry in _strings(kus, "resources", where) + _strings(kus, "bases", where):
        objects += _resource(reader, directory, entry, where, problems, stack)
    for entry in _strings(kus, "components", where):
        path = posixpath.normpath(posixpath.join(directory, entry))
        if "://" in entry:
            problems.append(f"{where}: remote component {entry} is not fetched; left out")
            continue
        objects = _build_dir(reader, path, None, problems, stack, base=objects)
    objects += _generated(reader, directory, kus, where, problems)
    return _transform(reader, directory, kus, where, objects, problems)


def _strings(kus: dict, key: str, where: str) -> list[str]:
    value = kus.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BuildError(f"{where}: {key} must be a list of paths")
    return value


def _resource(reader: Reader, directory: str, entry: str, where: str, problems: list[str],
              stack: list[str]) -> list[dict]:
    if "://" in entry or entry.startswith("git@"):
        problems.append(f"{where}: remote resource {entry} is not fetched; left out")
        return []
    path = posixpath.normpath(posixpath.join(directory, entry))
    if reader.is_dir(path):
        return _build_dir(reader, path, None, problems, stack)
    if not reader.is_file(path):
        raise BuildError(f"{where}: resources: {entry} does not exist")
    out = []
    for doc in reader.documents(path):
        if not isinstance(doc, dict) or not doc.get("kind") or not (doc.get("metadata") or {}).get("name"):
            raise BuildError(f"{path}: a document without apiVersion, kind or metadata.name")
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            out += doc["items"]
        else:
            out.append(doc)
    return out


# -- generators ---------------------------------------------------------------------

def _generated(reader: Reader, directory: str, kus: dict, where: str,
               problems: list[str]) -> list[dict]:
    options = kus.get("generatorOptions") or {}
    out = []
    for key, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for gen in kus.get(key) or []:
            gen_options = {**options, **(gen.get("options") or {})}
            name = gen.get("name")
            if not gen_options.get("disableNameSuffixHash"):
                problems.append(f"{where}: {key} {name}: a name with a content hash is not "
                                "supported (set options.disableNameSuffixHash: true); left out")
                continue
            if gen.get("behavior", "create") != "create":
                problems.append(f"{where}: {key} {name}: behavior {gen.get('behavior')} is not "
                                "supported; left out")
                continue
            data: dict[str, str] = {}
            for literal in gen.get("literals") or []:
                k, _, v = str(literal).partition("=")
                data[k] = v.strip("\"'") if len(v) > 1 and v[0] == v[-1] and v[0] in "\"'" else v
            for f in gen.get("files") or []:
                k, _, p = f.partition("=") if "=" in f else (posixpath.basename(f), "", f)
                data[k] = _raw(reader, posixpath.join(directory, p))
            for env in (gen.get("envs") or []) + ([gen["env"]] if gen.get("env") else []):
                for line in _raw(reader, posixpath.join(directory, env)).splitlines():
                    line = line.strip()
                    if line and not line.startswith("#") and "=" in line:
                        k, _, v = line.partition("=")
                        data[k] = v
            meta: dict = {"name": name}
            if gen.get("namespace"):
                meta["namespace"] = gen["namespace"]
            for what in ("labels", "annotations"):
                if gen_options.get(what):
                    meta[what] = dict(gen_options[what])
            obj: dict = {"apiVersion": "v1", "kind": kind, "metadata": meta}
            if kind == "Secret":
                obj["type"] = gen.get("type", "Opaque")
                obj["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
            else:
                obj["data"] = data
            out.append(obj)
    return out


def _raw(reader: Reader, rel: str) -> str:
    if not reader.is_file(rel):
        raise BuildError(f"{posixpath.normpath(rel)}: a generator's file does not exist")
    return reader.text(rel)


# -- transformers, in kustomize's order ------------------------------------------------

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def _transform(reader: Reader, directory: str, kus: dict, where: str, objects: list[dict],
               problems: list[str]) -> list[dict]:
    for entry in kus.get("patchesStrategicMerge") or []:
        objects = _apply_patch(reader, directory, {"patch" if "\n" in entry else "path": entry},
                               objects, where)
    for entry in kus.get("patches") or []:
        objects = _apply_patch(reader, directory, entry, objects, where)
    if kus.get("namespace"):
        for obj in objects:
            _set_namespace(obj, kus["namespace"])
    for key, fix in (("namePrefix", lambda n, v: v + n), ("nameSuffix", lambda n, v: n + v)):
        if kus.get(key):
            for obj in objects:
                if obj.get("kind") not in ("Namespace", "CustomResourceDefinition"):
                    obj["metadata"]["name"] = fix(obj["metadata"]["name"], kus[key])
    labels = [{"pairs": kus["commonLabels"], "includeSelectors": True}] if kus.get("commonLabels") else []
    for entry in labels + list(kus.get("labels") or []):
        for obj in objects:
            _label(obj, entry.get("pairs") or {}, entry.get("includeSelectors"),
                   entry.get("includeTemplates") or entry.get("includeSelectors"))
    if kus.get("commonAnnotations"):
        for obj in objects:
            _annotate(obj, kus["commonAnnotations"])
    for entry in kus.get("patchesJson6902") or []:
        objects = _apply_patch(reader, directory, entry, objects, where)
    for rep in kus.get("replicas") or []:
        for obj in objects:
            if obj["metadata"]["name"] == rep.get("name") and obj.get("kind") in WORKLOADS[:4]:
                obj.setdefault("spec", {})["replicas"] = rep.get("count")
    for image in kus.get("images") or []:
        for obj in objects:
            _set_image(obj, image)
    return objects


def _set_namespace(obj: dict, namespace: str) -> None:
    meta = obj["metadata"]
    if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
        meta["name"] = namespace
    elif (str(obj.get("apiVersion", "")).rpartition("/")[0], obj.get("kind")) \
            not in KUSTOMIZE_CLUSTER_SCOPED:
        meta["namespace"] = namespace
    if obj.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
        for subject in obj.get("subjects") or []:
            if subject.get("kind") == "ServiceAccount" and subject.get("name") == "default":
                subject["namespace"] = namespace


def _templates(obj: dict) -> list[dict]:
    spec = obj.get("spec") or {}
    if obj.get("kind") in WORKLOADS:
        return [spec.get("template")] if isinstance(spec.get("template"), dict) else []
    if obj.get("kind") == "CronJob":
        t = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
        return [t] if isinstance(t, dict) else []
    return []


def _label(obj: dict, pairs: dict, selectors, templates) -> None:
    pairs = {str(k): str(v) for k, v in pairs.items()}
    meta = obj["metadata"]
    meta["labels"] = {**(meta.get("labels") or {}), **pairs}
    if templates:
        for t in _templates(obj):
            tm = t.setdefault("metadata", {})
            tm["labels"] = {**(tm.get("labels") or {}), **pairs}
    if selectors:
        spec = obj.get("spec")
        if obj.get("kind") in WORKLOADS and isinstance(spec, dict) and obj.get("kind") != "Job":
            sel = spec.setdefault("selector", {})
            sel["matchLabels"] = {**(sel.get("matchLabels") or {}), **pairs}
        if obj.get("kind") == "Service" and isinstance(spec, dict):
            spec["selector"] = {**(spec.get("selector") or {}), **pairs}


def _annotate(obj: dict, annotations: dict) -> None:
    annotations = {str(k): str(v) for k, v in annotations.items()}
    meta = obj["metadata"]
    meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
    for t in _templates(obj):
        tm = t.setdefault("metadata", {})
        tm["annotations"] = {**(tm.get("annotations") or {}), **annotations}


def _set_image(node, image: dict) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("containers", "initContainers") and isinstance(value, list):
                for c in value:
                    if isinstance(c, dict) and isinstance(c.get("image"), str):
                        c["image"] = _new_image(c["image"], image)
            _set_image(value, image)
    elif isinstance(node, list):
        for v in node:
            _set_image(v, image)


def _new_image(ref: str, image: dict) -> str:
    name, digest = ref.split("@", 1) if "@" in ref else (ref, None)
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    if name != image.get("name"):
        return ref
    name = image.get("newName") or name
    if image.get("digest"):
        return f"{name}@{image['digest']}"
    if image.get("newTag"):
        return f"{name}:{image['newTag']}"
    return name + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


# -- patches ----------------------------------------------------------------------------

def _apply_patch(reader: Reader, directory: str, entry: dict, objects: list[dict],
                 where: str) -> list[dict]:
    if not isinstance(entry, dict):
        raise BuildError(f"{where}: a patch must be a mapping with patch or path")
    if entry.get("path"):
        text = reader.text(posixpath.join(directory, entry["path"]))
    elif entry.get("patch"):
        text = entry["patch"]
    else:
        raise BuildError(f"{where}: a patch needs patch or path")
    try:
        docs = [yamlio.to_python(n, reader.limits) for n in yamlio.compose_all(text, reader.limits)]
    except yamlio.YAMLInputError as e:
        raise BuildError(f"{where}: a patch is not YAML: {e}") from None
    target = entry.get("target")
    for doc in docs:
        if isinstance(doc, list):  # JSON 6902
            if not target:
                raise BuildError(f"{where}: a JSON 6902 patch needs a target")
            objects = [_json6902(o, doc, where) if _matches(o, target) else o for o in objects]
        elif isinstance(doc, dict):
            sel = target or _self_target(doc)
            matched = False
            for i, o in enumerate(objects):
                if _matches(o, sel):
                    objects[i] = _smp(o, doc, top=True)
                    matched = True
            if not matched and not target:
                raise BuildError(f"{where}: patch for {doc.get('kind')} "
                                 f"{(doc.get('metadata') or {}).get('name')} matches no object")
    return objects


def _self_target(doc: dict) -> dict:
    meta = doc.get("metadata") or {}
    t = {"kind": doc.get("kind"), "name": re.escape(str(meta.get("name")))}
    if meta.get("namespace"):
        t["namespace"] = re.escape(meta["namespace"])
    return t


def _matches(obj: dict, target: dict) -> bool:
    api = str(obj.get("apiVersion", ""))
    group, _, version = api.rpartition("/")
    meta = obj.get("metadata") or {}
    for key, actual in (("group", group), ("version", version), ("kind", obj.get("kind"))):
        if target.get(key) and target[key] != actual:
            return False
    for key, actual in (("name", meta.get("name") or ""), ("namespace", meta.get("namespace") or "")):
        if target.get(key) and not re.fullmatch(str(target[key]), actual):
            return False
    for key, values in (("labelSelector", meta.get("labels") or {}),
                        ("annotationSelector", meta.get("annotations") or {})):
        if target.get(key) and not _selects(str(target[key]), values):
            return False
    return True


def _selects(selector: str, values: dict) -> bool:
    for term in (t.strip() for t in selector.split(",") if t.strip()):
        if "!=" in term:
            k, v = (s.strip() for s in term.split("!=", 1))
            if values.get(k) == v:
                return False
        elif "=" in term:
            k, v = (s.strip() for s in term.split("=", 1))
            if values.get(k) != v.lstrip("="):
                return False
        elif term.startswith("!"):
            if term[1:] in values:
                return False
        elif term not in values:
            return False
    return True


# strategic merge: the merge keys of Kubernetes' own lists (other lists are replaced)
MERGE_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name",
              "env": "name", "volumes": "name", "volumeMounts": "mountPath",
              "ports": "containerPort", "imagePullSecrets": "name", "tolerations": None,
              "hostAliases": "ip", "topologySpreadConstraints": None}


def _smp(obj, patch, top: bool = False, key: str = ""):
    if isinstance(patch, dict) and isinstance(obj, dict):
        if patch.get("$patch") == "delete":
            return None
        if patch.get("$patch") == "replace":
            return {k: v for k, v in patch.items() if k != "$patch"}
        out = dict(obj)
        for k, v in patch.items():
            if k.startswith("$"):
                continue
            if top and k in ("apiVersion", "kind"):
                continue
            if top and k == "metadata":
                v = {mk: mv for mk, mv in (v or {}).items() if mk not in ("name", "namespace")}
            if v is None:
                out.pop(k, None)
            elif k in out:
                merged = _smp(out[k], v, key=k)
                if merged is None:
                    out.pop(k)
                else:
                    out[k] = merged
            else:
                out[k] = _clean(v)
        return out
    if isinstance(patch, list) and isinstance(obj, list) and MERGE_KEYS.get(key):
        mk = MERGE_KEYS[key]
        out = list(obj)
        for item in patch:
            if not isinstance(item, dict) or mk not in item:
                out.append(item)
                continue
            i = next((i for i, o in enumerate(out) if isinstance(o, dict) and o.get(mk) == item[mk]), None)
            if i is None:
                out.append(_clean(item))
            elif item.get("$patch") == "delete":
                out.pop(i)
            else:
                out[i] = _smp(out[i], item, key="")
        return out
    return _clean(patch)


def _clean(v):
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items() if not str(k).startswith("$")}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def _json6902(obj: dict, ops: list, where: str) -> dict:
    doc = copy.deepcopy(obj)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise BuildError(f"{where}: a JSON 6902 operation needs op and path")
        try:
            kind = op["op"]
            if kind == "test":
                if _get(doc, op["path"]) != op.get("value"):
                    return obj
            elif kind == "remove":
                _remove(doc, op["path"])
            elif kind in ("add", "replace"):
                if kind == "replace":
                    _get(doc, op["path"])  # must exist
                doc = _add(doc, op["path"], copy.deepcopy(op.get("value")), kind == "replace")
            elif kind in ("move", "copy"):
                value = _get(doc, op["from"])
                if kind == "move":
                    _remove(doc, op["from"])
                doc = _add(doc, op["path"], copy.deepcopy(value), False)
            else:
                raise BuildError(f"{where}: JSON 6902 op {kind!r} is unknown")
        except (KeyError, IndexError, ValueError, TypeError):
            meta = obj.get("metadata") or {}
            raise BuildError(f"{where}: JSON 6902 {op.get('op')} {op.get('path')} fails on "
                             f"{obj.get('kind')} {meta.get('name')}") from None
    return doc


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _step(node, part: str):
    if isinstance(node, list):
        return node[int(part)]
    return node[part]


def _get(doc, path: str):
    node = doc
    for part in _pointer(path):
        node = _step(node, part)
    return node


def _remove(doc, path: str) -> None:
    *parents, last = _pointer(path)
    node = doc
    for part in parents:
        node = _step(node, part)
    if isinstance(node, list):
        node.pop(int(last))
    else:
        del node[last]


def _add(doc, path: str, value, replace: bool):
    parts = _pointer(path)
    if not parts:
        return value
    *parents, last = parts
    node = doc
    for part in parents:
        node = _step(node, part)
    if isinstance(node, list):
        if last == "-":
            node.append(value)
        elif replace:
            node[int(last)] = value
        else:
            node.insert(int(last), value)
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise TypeError(path)
    return doc
