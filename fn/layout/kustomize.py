"""What every engine's layout integrator shares: file names, the ownership
stamp, and the `kustomization.yaml` files of bundle and application
directories (explicit or recursive mode)."""

from __future__ import annotations

import bisect
import posixpath
import re

from ..engine import OWNER, Generated
from ..krm.resourcelist import LOCAL_CONFIG
from .tree import Tree

KUSTOMIZE_CONFIG_API = "kustomize.config.k8s.io/v1beta1"
KUSTOMIZATION_FILE = "kustomization.yaml"
# kustomize reads any one of these as a directory's kustomization, and refuses
# a directory with two ("Found multiple kustomization files")
OTHER_KUSTOMIZATION_FILES = ("kustomization.yml", "Kustomization")
EMIT_ROLES = {
    "all": {"kustomization", "source", "chart-source", "bootstrap", "platform", "app", "selected",
            "namespace", "tenant"},
    "flux": {"kustomization", "source", "chart-source", "bootstrap", "platform", "namespace",
             "tenant"},
    "apps": {"app", "selected", "chart-source", "namespace"},
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_NOT_IN_NAME = re.compile(r"[^a-z0-9.-]+")  # of a kustomization.yaml's metadata.name


def file_name(obj: dict, naming: str) -> str:
    """`<namespace|cluster>-<kind>-<name>.yaml` (namespaced) or `<kind>-<name>.yaml`."""
    meta = obj.get("metadata") or {}
    kind = _UNSAFE.sub("-", str(obj.get("kind", "object")).lower())
    name = _UNSAFE.sub("-", str(meta.get("name", "unnamed")))
    if naming == "kind-name":
        return f"{kind}-{name}.yaml"
    ns = _UNSAFE.sub("-", str(meta.get("namespace") or "cluster"))
    return f"{ns}-{kind}-{name}.yaml"


def stamp(g: Generated, cluster_name: str) -> dict:
    """A copy of the object with the ownership annotation."""
    obj = dict(g.obj)
    meta = dict(obj.get("metadata") or {})
    anns = dict(meta.get("annotations") or {})
    anns[OWNER] = cluster_name
    user_manifest = g.given and g.role != "selected"
    meta["annotations"] = anns if user_manifest else dict(sorted(anns.items()))
    if not user_manifest:  # Kubernetes' usual order: name, namespace, labels, annotations
        first = ("name", "namespace", "labels", "annotations")
        meta = {**{k: meta[k] for k in first if k in meta},
                **{k: v for k, v in meta.items() if k not in first}}
    obj["metadata"] = meta
    return obj


def place(tree: Tree, generated: list[Generated], cluster, naming: str, directory_of) -> None:
    """Put every generated object the cluster's `output.emit` keeps into `tree`:
    in `directory_of(g)`, named by the cluster's file naming (or the object's
    fixed file name), stamped with the ownership annotation unless it is a
    selected input item."""
    roles = EMIT_ROLES[cluster.emit]
    for g in generated:
        if g.role not in roles:
            continue
        name = g.filename or file_name(g.obj, naming)
        obj = g.obj if g.role == "selected" else stamp(g, cluster.name)
        tree.add(posixpath.join(directory_of(g), name), obj, owned=g.role != "selected",
                 origin=g.path)


def bundle_lists(tree: Tree, bundle_dirs: set[str], mode: str) -> dict[str, list[str]]:
    """The entries of each bundle directory's kustomization.yaml (and, in
    explicit mode, of each application directory's). Linear: the tree is
    grouped once, never scanned per bundle."""
    files = tree.files_by_dir()
    subdirs: dict[str, list[str]] = {}
    for d in tree.dirs:
        subdirs.setdefault(posixpath.dirname(d), []).append(d)
    paths = tree.paths()  # sorted: the files below a directory are one slice
    lists: dict[str, list[str]] = {}
    for b_dir in sorted(bundle_dirs):
        if b_dir not in tree.dirs:
            continue
        if mode == "recursive":
            prefix = b_dir + "/"
            start = bisect.bisect_left(paths, prefix)
            end = bisect.bisect_left(paths, b_dir + "0", start)  # "0" sorts right after "/"
            lists[b_dir] = [p[len(prefix):] for p in paths[start:end]]
        else:
            app_dirs = sorted(subdirs.get(b_dir, ()))
            lists[b_dir] = [posixpath.basename(d) for d in app_dirs if files.get(d)]
            for d in app_dirs:
                if files.get(d):
                    lists[d] = sorted(files[d])
    return lists


def add_kustomizations(tree: Tree, lists: dict[str, list[str]], cluster_name: str) -> None:
    """A kustomization.yaml in each directory of `lists`, listing its entries."""
    for d, resources in lists.items():
        tree.add(posixpath.join(d, KUSTOMIZATION_FILE), kustomization_file(d, resources, cluster_name))


def kustomization_file(directory: str, resources: list[str], cluster_name: str) -> dict:
    name = _NOT_IN_NAME.sub("-", directory.lower()).strip("-.") or "root"
    return {
        "apiVersion": KUSTOMIZE_CONFIG_API,
        "kind": "Kustomization",
        "metadata": {"name": name, "annotations": {LOCAL_CONFIG: "true", OWNER: cluster_name}},
        "resources": list(resources),
    }



def blocking_files(written, is_file, *, directories: bool = True) -> list[tuple[str, str]]:
    """(path written, message) for each file of the repository that would
    break the tree kure-fn writes: a second kustomization file beside a
    kustomization.yaml, or (`directories`) a file where a directory has to be.
    `is_file(path)`: a file that kure-fn does not write is at `path`."""
    out: list[tuple[str, str]] = []
    blocking: dict[str, str] = {}  # file -> first written path below it
    seen: set[str] = set()
    for path in sorted(written):  # normalised relative paths: "/" splits them
        directory, _, name = path.rpartition("/")
        if name == KUSTOMIZATION_FILE:
            for other in OTHER_KUSTOMIZATION_FILES:
                rival = posixpath.join(directory, other)
                if is_file(rival):
                    out.append((path, f"{rival} sits where kure-fn writes {path}: kustomize "
                                      "refuses a directory with two kustomization files; delete "
                                      f"or rename {rival}, or change spec.layout.root"))
        if directories:  # each directory once, from the deepest up to one already seen
            d = directory
            while d and d not in seen:
                seen.add(d)
                if is_file(d):
                    blocking[d] = path
                d = d.rpartition("/")[0]
    for file, path in sorted(blocking.items()):
        out.append((path, f"{file} is a file, but kure-fn writes {path} below it as a directory; "
                          "move or delete that file, or change spec.layout.root"))
    return out
