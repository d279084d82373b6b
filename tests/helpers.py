"""Shared test helpers: kpt-like inputs, in-process runs, the Flux validator."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from fn.cli import run_function
from fn.krm.yamlio import plain_scalar

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
GOLDEN = REPO / "tests" / "golden"
SHARED = Path(os.environ.get("KURE_FN_SHARED", REPO.parent / "shared"))
VALIDATOR = SHARED / "tools" / "validate-flux.py"
UPDATE_GOLDEN = os.environ.get("KURE_FN_UPDATE_GOLDEN") == "1"
BIN = Path(sys.executable).parent  # where the kure-fn console script is installed


def example_dirs(gitops: str | None = None) -> list[Path]:
    """Example packages; with `gitops`, only those whose Cluster uses that engine."""
    dirs = sorted(p for p in EXAMPLES.iterdir() if (p / "Kptfile").exists())
    return [p for p in dirs if gitops is None or example_gitops(p) == gitops]


def single_cluster_examples() -> list[Path]:
    """Examples whose one Cluster config is `cluster.yaml` (not the fleet)."""
    return [p for p in example_dirs() if (p / "cluster.yaml").exists()]


def example_gitops(pkg: Path) -> str:
    """The engine (spec.gitops, default flux) of the package's Cluster config."""
    for doc in package_items(pkg):
        if doc.get("kind") == "Cluster" and str(doc.get("apiVersion", "")).startswith("fn.kure.dev/"):
            return (doc.get("spec") or {}).get("gitops") or "flux"
    return "flux"


def package_items(pkg: Path) -> list[dict]:
    """The items kpt would read from a package: Kptfile, then *.yaml in path order."""
    files = [pkg / "Kptfile"] if (pkg / "Kptfile").exists() else []
    files += sorted(p for p in pkg.rglob("*.y*ml")
                    if p.suffix in (".yaml", ".yml") and not any(
                        part.startswith(".") for part in p.relative_to(pkg).parts))
    items = []
    for f in files:
        rel = f.relative_to(pkg).as_posix()
        for i, doc in enumerate(d for d in yaml.safe_load_all(f.read_text()) if d is not None):
            meta = doc["metadata"] = doc.get("metadata") or {}
            anns = meta["annotations"] = meta.get("annotations") or {}
            for key in ("config.kubernetes.io/path", "internal.config.kubernetes.io/path"):
                anns[key] = rel
            for key in ("config.kubernetes.io/index", "internal.config.kubernetes.io/index"):
                anns[key] = str(i)
            items.append(doc)
    return items


class KubeDumper(yaml.SafeDumper):
    """PyYAML's safe dumper, which quotes what YAML 1.1 reads as no string,
    plus what go-yaml v3 (kpt, kustomize, Flux, kure-fn) reads as a number:
    `1e3`, `0o644`, `+_1`, `.5_0`."""


def _represent_str(dumper, s):
    tag = "tag:yaml.org,2002:str"
    yaml11_str = dumper.resolve(yaml.ScalarNode, s, (True, False)) == tag  # else PyYAML quotes it
    style = '"' if s and yaml11_str and not isinstance(plain_scalar(s), str) else None
    return dumper.represent_scalar(tag, s, style=style)


KubeDumper.add_representer(str, _represent_str)


def dump(value, **kwargs) -> str:
    """YAML text that kpt and kustomize read back as `value`."""
    return yaml.dump(value, Dumper=KubeDumper, **kwargs)


def resource_list(items: list[dict], function_config: dict | None = None) -> str:
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return dump(rl, sort_keys=False)


def run(text: str | bytes) -> tuple[int, str]:
    """Run the function in-process: (exit code, stdout)."""
    out = io.StringIO()
    data = text.encode() if isinstance(text, str) else text
    rc = run_function(data, out)
    return rc, out.getvalue()


def run_doc(text: str | bytes) -> tuple[int, dict]:
    rc, out = run(text)
    return rc, yaml.safe_load(out)


def generated(doc: dict) -> list[dict]:
    return [it for it in doc.get("items") or []
            if "fn.kure.dev/cluster" in ((it.get("metadata") or {}).get("annotations") or {})]


def item_path(item: dict) -> str | None:
    return ((item.get("metadata") or {}).get("annotations") or {}).get(
        "internal.config.kubernetes.io/path")


FLUX_GROUPS = ("toolkit.fluxcd.io/", "extensions.fluxcd.io/", "fluxcd.controlplane.io/")


def is_flux(obj: dict) -> bool:
    return any(g in str(obj.get("apiVersion", "")) for g in FLUX_GROUPS)


def validate_flux(objects: list[dict], *extra_args: str) -> None:
    """Every object must pass shared/tools/validate-flux.py; skip without ../shared."""
    if not VALIDATOR.exists():
        pytest.skip(f"Flux schemas not available ({VALIDATOR} missing: a clone without ../shared)")
    # each cluster of a fleet is its own set of objects (its own API server)
    clusters: dict = {}
    for obj in objects:
        owner = ((obj.get("metadata") or {}).get("annotations") or {}).get("fn.kure.dev/cluster")
        clusters.setdefault(owner, []).append(obj)
    for group in clusters.values():
        stream = yaml.safe_dump_all(group, sort_keys=False)
        proc = subprocess.run([sys.executable, str(VALIDATOR), "--require-namespace", "-q",
                               *extra_args], input=stream, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed on this machine")
    return path


def outside_objects(docs) -> set[tuple[str, str, str]]:
    """(kind, namespace, name) of the objects outside its config that a Cluster
    among `docs` names in dependsOn (docs/config.md: they must exist). Fleet
    members with profiles are merged by the function only: none names one."""
    from fn import load_cluster
    out = set()
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "Cluster" \
                or (doc.get("spec") or {}).get("profiles"):
            continue
        cluster = load_cluster(doc)
        for b in cluster.bundles():
            out |= {("Kustomization", d.namespace or b.flux_namespace, d.name)
                    for d in b.external_dependencies}
            for app in b.applications:
                out |= {("HelmRelease", d.namespace or app.flux_namespace, d.name)
                        for d in app.dependencies if not d.internal}
    return out
