"""Argo CD, simulated: write a function's output as kpt would, then follow the
app-of-apps from the root Application the way Argo CD syncs it, building
every path with `kubectl kustomize`; and the Application schema."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import jsonschema
import yaml

from helpers import REPO, item_path, need

SCHEMA = REPO / "tests" / "schemas" / "argocd-application.schema.json"
PATH_KEYS = ("config.kubernetes.io/path", "internal.config.kubernetes.io/path",
             "config.kubernetes.io/index", "internal.config.kubernetes.io/index")


def without_path(obj: dict) -> dict:
    """The object as written to disk: without the path and index annotations."""
    obj = json.loads(json.dumps(obj))
    anns = obj.get("metadata", {}).get("annotations", {})
    for key in PATH_KEYS:
        anns.pop(key, None)
    if "annotations" in obj.get("metadata", {}) and not anns:
        del obj["metadata"]["annotations"]
    return obj


def write_items(items: list[dict], base: Path) -> None:
    """Write items into files by their path annotation, in index order (as kpt does)."""
    files: dict[str, list[tuple[int, dict]]] = {}
    for it in items:
        path = item_path(it)
        index = int(it["metadata"]["annotations"].get("internal.config.kubernetes.io/index", 0))
        files.setdefault(path, []).append((index, without_path(it)))
    for path, objs in files.items():
        target = base / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump_all([o for _, o in sorted(objs, key=lambda x: x[0])],
                                             sort_keys=False))


def key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return (obj.get("apiVersion", "").split("/")[0], obj.get("kind"), meta.get("namespace"),
            meta.get("name"))


def build(directory: Path) -> list[dict]:
    kubectl = need("kubectl")
    proc = subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"kubectl kustomize {directory} failed: {proc.stderr}"
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@dataclass
class Sync:
    """What following the app-of-apps reached."""

    reached: Counter = field(default_factory=Counter)   # object key -> times applied
    synced: list[str] = field(default_factory=list)      # Application names, in sync order
    paths: dict[str, str] = field(default_factory=dict)  # Application name -> path in the tree
    elsewhere: dict[str, dict] = field(default_factory=dict)  # name -> source outside the tree
    applications: dict[str, dict] = field(default_factory=dict)


def follow(root: dict, repo_url: str, base: Path) -> Sync:
    """Sync `root` and, recursively, every Application it applies whose source is
    the tree's repository. An Application is synced once (the root applies
    itself: self-managed)."""
    out = Sync()
    queue = [root]
    while queue:
        app = queue.pop(0)
        name = app["metadata"]["name"]
        if name in out.synced:
            continue
        out.synced.append(name)
        source = app["spec"]["source"]
        if source["repoURL"] != repo_url:
            out.elsewhere[name] = source
            continue
        path = source["path"]
        directory = base / path
        assert directory.is_dir(), f"Application {name}: path {path} does not exist"
        assert (directory / "kustomization.yaml").is_file(), \
            f"Application {name}: {path} has no kustomization.yaml"
        out.paths[name] = path
        for obj in build(directory):
            out.reached[key(obj)] += 1
            if obj.get("kind") == "Application" and obj["apiVersion"].startswith("argoproj.io/"):
                out.applications[obj["metadata"]["name"]] = obj
                queue.append(obj)
    return out


def validate_applications(objects: list[dict]) -> None:
    """Every Application must pass the schema derived from Argo CD's CRD."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    for obj in objects:
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"Application {obj['metadata'].get('name')}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors)
