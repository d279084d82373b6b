"""Every route users run kure-fn through, and one way to compare their outputs.

The reference is the function itself on an example package (what kpt's exec
route feeds it). A route "renders the same items" when, after removing the
annotations orchestrators add and strip on their own, it yields:
- kpt and directory mode: the same files under the tree, with the same objects;
- kustomize (which drops local-config layout files and flattens the tree):
  the same applied objects.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from helpers import BIN, package_items, resource_list, run_doc

OWNER = "fn.kure.dev/cluster"
LOCAL_CONFIG = "config.kubernetes.io/local-config"
FUNCTION = "config.kubernetes.io/function"
ORCHESTRATOR_KEYS = ("internal.config.kubernetes.io/", "internal.config.k8s.io/",
                     "config.kubernetes.io/path", "config.kubernetes.io/index",
                     "config.k8s.io/id", "kustomize.config.k8s.io/")
DIRECTORY_MODE_EXTRAS = ("README.md", "checksums.txt")
PLUGIN_PATH = ("fn.kure.dev", "v1alpha1", "cluster", "Cluster")  # group/version/kind-lower/Kind


# -- normalising ---------------------------------------------------------------
def annotations(obj: dict) -> dict:
    return ((obj.get("metadata") or {}).get("annotations")) or {}


def clean(obj: dict) -> dict:
    """The object without the annotations orchestrators own."""
    out = copy.deepcopy(obj)
    meta = out.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        kept = {k: v for k, v in meta["annotations"].items() if not k.startswith(ORCHESTRATOR_KEYS)}
        if kept:
            meta["annotations"] = kept
        else:
            del meta["annotations"]
    return out


def identity(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return (obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace") or "",
            meta.get("name") or "")


def applied(objs: list[dict]) -> list[dict]:
    """What a kustomize build keeps: no local-config objects; sorted by identity."""
    return sorted((clean(o) for o in objs if annotations(o).get(LOCAL_CONFIG) != "true"),
                  key=identity)


def by_path(items: list[dict]) -> dict[str, list[dict]]:
    """Items grouped into files by their path annotation, in index order."""
    files: dict[str, list[tuple[int, dict]]] = {}
    for it in items:
        a = annotations(it)
        path = a.get("internal.config.kubernetes.io/path") or a.get("config.kubernetes.io/path")
        index = int(a.get("internal.config.kubernetes.io/index")
                    or a.get("config.kubernetes.io/index") or 0)
        files.setdefault(path, []).append((index, clean(it)))
    return {p: [o for _, o in sorted(docs, key=lambda d: d[0])] for p, docs in files.items()}


def files_under(root: Path, tops: set[str], skip: tuple[str, ...] = ()) -> dict[str, list[dict]]:
    """{relative path: objects} of every YAML file in the `tops` directories of root."""
    out = {}
    for top in tops:
        for f in sorted((root / top).rglob("*")):
            if f.is_file() and f.name not in skip:
                rel = f.relative_to(root).as_posix()
                out[rel] = [clean(d) for d in yaml.safe_load_all(f.read_text()) if d is not None]
    return out


def top_dirs(files: dict[str, list[dict]]) -> set[str]:
    return {p.split("/", 1)[0] for p in files}


def parse_stream(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


# -- the reference -------------------------------------------------------------
def reference(pkg: Path, moved: bool = False, config_only: bool = False) -> list[dict]:
    """The generated items of the function run in-process on the example package;
    with `moved`, also the package items `resources` applications placed in the tree
    (a kustomize generator sees only its config, so it selects nothing)."""
    items = package_items(pkg)
    if config_only:  # what directory mode and a kustomize generator see: no package items
        items = [it for it in items if it.get("kind") == "Cluster"]
    rc, doc = run_doc(resource_list(items))
    assert rc == 0, doc.get("results")
    owned = [it for it in doc["items"] if OWNER in annotations(it)]
    tops = top_dirs(by_path(owned))
    # items that `resources` applications moved into the tree belong to it too
    placed = [it for it in doc["items"] if OWNER not in annotations(it)
             and (annotations(it).get("internal.config.kubernetes.io/path") or "").split("/")[0] in tops
             and "/" in (annotations(it).get("internal.config.kubernetes.io/path") or "")]
    return owned + placed if moved else owned


def cluster_config(pkg: Path) -> dict:
    docs = parse_stream((pkg / "cluster.yaml").read_text())
    return next(d for d in docs if d.get("kind") == "Cluster")


# -- kpt -----------------------------------------------------------------------
def exec_env(**extra: str) -> dict:
    """An environment where `kure-fn` (the Kptfile's exec) is this checkout's."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def kpt(*args: str, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.run(["kpt", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, f"kpt {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def copy_package(pkg: Path, dest: Path, *, image: str | None = None) -> Path:
    """A copy of an example package; with `image`, its Kptfile runs the image."""
    shutil.copytree(pkg, dest)
    if image:
        kptfile = yaml.safe_load((dest / "Kptfile").read_text())
        for fn in kptfile["pipeline"]["mutators"]:
            fn.pop("exec", None)
            fn["image"] = image
        (dest / "Kptfile").write_text(yaml.safe_dump(kptfile, sort_keys=False))
    return dest


# -- kustomize -----------------------------------------------------------------
EXTRA_RESOURCES = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
  namespace: default
  annotations:
    team: platform
data:
  answer: "42"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: other
  namespace: default
  labels: {app: other}
spec:
  selector:
    matchLabels: {app: other}
  template:
    metadata:
      labels: {app: other}
    spec:
      containers:
      - name: other
        image: registry.example/other:1.0
"""


def kustomization(directory: Path, config: dict, role: str, *, function: dict | None = None,
                  extra: str | None = None) -> Path:
    """A kustomization that runs the Cluster config as a generator or transformer.

    function: the `config.kubernetes.io/function` spec (container or exec);
    None means the legacy plugin route (looked up by the config's GVK)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = copy.deepcopy(config)
    if function is not None:
        config["metadata"].setdefault("annotations", {})[FUNCTION] = yaml.safe_dump(function)
    (directory / "cluster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    body = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"}
    if extra:
        (directory / "extra.yaml").write_text(extra)
        body["resources"] = ["extra.yaml"]
    body["generators" if role == "generator" else "transformers"] = ["cluster.yaml"]
    (directory / "kustomization.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    return directory


def install_plugin(home: Path) -> Path:
    """The legacy exec plugin, installed as docs/running.md says: the kure-fn
    executable linked at $KUSTOMIZE_PLUGIN_HOME/fn.kure.dev/v1alpha1/cluster/Cluster."""
    target = home.joinpath(*PLUGIN_PATH)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(BIN / "kure-fn")
    return home


def kubectl_kustomize(directory: Path, env: dict) -> list[dict]:
    proc = subprocess.run(["kubectl", "kustomize", "--enable-alpha-plugins", str(directory)],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"kubectl kustomize:\n{proc.stdout}\n{proc.stderr}"
    return parse_stream(proc.stdout)
