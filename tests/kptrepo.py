"""A kpt package in a throw-away git repository, run through real kpt.

The package sits at the repository root, as Flux `spec.path` requires
(paths are relative to the repository root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

from helpers import BIN, need

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def env() -> dict:
    """PATH with the directory of sys.executable first, so `kure-fn` resolves."""
    e = dict(os.environ, **GIT_ENV)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    return e


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo,
                          capture_output=True, text=True, env=env())
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def make_repo(target: Path, package: Path | None = None, files: dict[str, str] | None = None) -> Path:
    """A git repository at `target` holding a copy of `package` (and `files`), committed."""
    if package is not None:
        shutil.copytree(package, target, dirs_exist_ok=True)
    target.mkdir(parents=True, exist_ok=True)
    for rel, text in (files or {}).items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_text(text)
    git(target, "init", "-q")
    commit(target, "package")
    return target


def commit(repo: Path, message: str = "render") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def status(repo: Path) -> str:
    """`git status --porcelain`: empty when the working tree is unchanged."""
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def edit_config(path: Path, change) -> None:
    """Apply `change(doc)` to every Cluster document of a YAML file."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    for d in docs:
        if d.get("kind") == "Cluster":
            change(d)
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def set_in(doc: dict, dotted: str, value) -> None:
    node = doc
    *parents, last = dotted.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value


def kpt(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    need("kpt")
    proc = subprocess.run(["kpt", "fn", *args], cwd=repo, capture_output=True, text=True,
                          env=env(), timeout=120)
    if check:
        assert proc.returncode == 0, f"kpt fn {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc


def render(repo: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`kpt fn render --allow-exec` (the Kptfile pipeline)."""
    return kpt(repo, "render", "--allow-exec", ".", check=check)


def eval_exec(repo: Path, check: bool = True) -> subprocess.CompletedProcess:
    """`kpt fn eval --exec kure-fn` (every Cluster item of the package)."""
    return kpt(repo, "eval", "--exec", "kure-fn", ".", check=check)


def package_objects(repo: Path, below: str = "") -> dict[tuple, str]:
    """(group, kind, namespace, name) -> file of every KRM object in the
    package's YAML files (optionally only below a directory), except the
    Kptfile, Cluster configs and local-config objects."""
    out = {}
    for f in sorted((repo / below).rglob("*.yaml")):
        rel = f.relative_to(repo).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        for d in yaml.safe_load_all(f.read_text()):
            if not isinstance(d, dict) or d.get("kind") in ("Kptfile", "Cluster"):
                continue
            meta = d.get("metadata") or {}
            if (meta.get("annotations") or {}).get("config.kubernetes.io/local-config") == "true":
                continue
            api = d.get("apiVersion", "")
            group = api.split("/", 1)[0] if "/" in api else ""
            out[(group, d.get("kind"), meta.get("namespace") or "", meta.get("name"))] = rel
    return out


def cluster_dirs(repo: Path) -> dict[str, str]:
    """Cluster name -> its directory, for every Cluster config in the package."""
    out = {}
    for f in sorted(repo.rglob("*.yaml")):
        if ".git" in f.parts:
            continue
        for d in yaml.safe_load_all(f.read_text()):
            if isinstance(d, dict) and d.get("apiVersion") == "fn.kure.dev/v1alpha1" \
                    and d.get("kind") == "Cluster":
                root = ((d.get("spec") or {}).get("layout") or {}).get("root", "clusters")
                name = d["metadata"]["name"]
                out[name] = name if root == "." else f"{root}/{name}"
    return out


def write_items(items: list[dict], base: Path) -> Path:
    """Write ResourceList items to files by their path/index annotations, as
    kpt does (without kpt); local-config objects included."""
    files: dict[str, list[tuple[int, dict]]] = {}
    for it in items:
        anns = dict((it.get("metadata") or {}).get("annotations") or {})
        path = anns.get("internal.config.kubernetes.io/path") or anns.get("config.kubernetes.io/path")
        index = int(anns.get("internal.config.kubernetes.io/index")
                    or anns.get("config.kubernetes.io/index") or 0)
        for key in ("internal.config.kubernetes.io/path", "config.kubernetes.io/path",
                    "internal.config.kubernetes.io/index", "config.kubernetes.io/index"):
            anns.pop(key, None)
        obj = {**it, "metadata": {**(it.get("metadata") or {}), "annotations": anns}}
        if not anns:
            del obj["metadata"]["annotations"]
        files.setdefault(path, []).append((index, obj))
    for path, objs in files.items():
        target = base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump_all([o for _, o in sorted(objs, key=lambda x: x[0])],
                                             sort_keys=False))
    return base
