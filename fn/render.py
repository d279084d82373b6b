"""Directory mode: `kure-fn render CONFIG... -o DIR`, without kpt.

Writes each Cluster config's tree under DIR (the files kpt would write) plus,
in each cluster directory, what a ResourceList cannot carry: `README.md`
(fn.readme) and `checksums.txt` (`sha256sum -c` format: sha256, two spaces,
path relative to the cluster directory; sorted; itself excluded).

`checksums.txt` is also the record of what the previous render wrote: a file
listed there that this render no longer produces is removed when unchanged
since, so a bundle dropped from the config disappears as it does under kpt.
Files kure-fn did not write are never touched.
"""

from __future__ import annotations

import argparse
import hashlib
import posixpath
import sys
from pathlib import Path

from .configs import Document, Loaded, Report, is_config, load
from .kinds import with_input_crds
from .krm import yamlio
from .layout.kustomize import blocking_files
from .layout.plan import TreePlan
from .model.cluster import Cluster, ConfigError
from .model.config import KIND
from .readme import cluster_readme
from .registry import engine_for_cluster

README = "README.md"
CHECKSUMS = "checksums.txt"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kure-fn render",
        description="Write the GitOps tree of each Cluster config to DIR, with a README.md and "
                    "checksums.txt in each cluster directory.")
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML files with Cluster configs")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    args = parser.parse_args(argv)

    loaded = load_clusters(args.configs)
    if loaded is None:
        return 1
    out = Path(args.output)
    trees = render_all(loaded, out)
    if trees is None:
        return 1
    for cluster, files in trees:
        cluster_dir = TreePlan.for_cluster(cluster).cluster_dir
        removed, kept = prune(out, cluster_dir, files)
        for rel in kept:
            sys.stderr.write(f"kure-fn: warning: {posixpath.join(cluster_dir, rel)} is no longer "
                             "generated but was changed since; left in place\n")
        for path, data in files.items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        print(f"{cluster.name}: wrote {len(files)} files under {out / cluster_dir}"
              + (f", removed {len(removed)} stale" if removed else ""))
    return 0


def load_clusters(paths: list[str]) -> Loaded | None:
    """Every Cluster of the given files (merged with the Profiles found in
    them), or None after reporting every problem. Warnings go to stderr."""
    documents: list[Document] = []
    objects: list = []  # every document of the files: their CRDs decide kinds' scope too
    failed = False
    for path in paths:
        try:
            text = yamlio.decode(Path(path).read_bytes())
            docs = [yamlio.to_python(n) for n in yamlio.compose_all(text)]
        except (OSError, yamlio.YAMLInputError) as e:
            sys.stderr.write(f"kure-fn: {path}: {e}\n")
            failed = True
            continue
        objects += docs
        found = [Document(d, path) for d in docs if is_config(d)]
        if not found:
            sys.stderr.write(f"kure-fn: {path}: no fn.kure.dev/v1alpha1 Cluster or Profile in "
                             "this file\n")
            failed = True
        documents += found
    if not failed and not any(d.kind == KIND for d in documents):
        sys.stderr.write("kure-fn: no fn.kure.dev/v1alpha1 Cluster in the given files (only "
                         "Profiles)\n")
        failed = True
    loaded = load(documents)
    for r in loaded.reports:
        _write(r)
    if failed or loaded.has_errors:
        return None
    for cluster, _ in loaded.clusters:
        cluster.crd_scopes = with_input_crds(cluster.crd_scopes, objects)
    return loaded


def _write(r: Report) -> None:
    level = "" if r.severity == "error" else f"{r.severity}: "
    where = f"{r.document.file}: " if r.document and r.document.file else ""
    field_path = f"{r.path}: " if r.path else ""
    sys.stderr.write(f"kure-fn: {level}{where}{field_path}{r.message}\n")


def render_all(loaded: Loaded, out: Path) -> list[tuple[Cluster, dict[str, bytes]]] | None:
    """Every cluster's files, before any is written; None after reporting
    every problem (objects given twice, names too long, files in the way)."""
    trees = []
    failed = False
    for cluster, _ in loaded.clusters:
        engine = engine_for_cluster(cluster)
        existing = frozenset(p for p in engine.listed_if_present(cluster) if (out / p).is_file())
        try:
            files = rendered_files(cluster, engine, existing=existing)
        except ConfigError as e:
            for p in e.problems:
                _write(loaded.report(cluster, p.severity, p.message, p.path))
            failed = True
            continue
        for _, message in blocking_files(files, lambda p: _is_file(out / p)):
            _write(loaded.report(cluster, "error", message, "spec.layout.root"))
            failed = True
        trees.append((cluster, files))
    return None if failed else trees


def _is_file(path: Path) -> bool:
    """Something other than a directory is at `path`."""
    return (path.exists() or path.is_symlink()) and not path.is_dir()


def rendered_files(cluster: Cluster, engine=None, existing: frozenset[str] = frozenset()
                   ) -> dict[str, bytes]:
    """Every file of the cluster, by path relative to the output directory.
    `existing`: files already there that the tree may list (gotk-components.yaml)."""
    tree = (engine or engine_for_cluster(cluster)).create_layout_with_resources(
        cluster, existing=existing)
    files = {path: tree.render(path).encode() for path in tree.paths()}
    cluster_dir = TreePlan.for_cluster(cluster).cluster_dir
    files[posixpath.join(cluster_dir, README)] = cluster_readme(cluster, tree).encode()
    files[posixpath.join(cluster_dir, CHECKSUMS)] = checksums(files, cluster_dir).encode()
    return files


def checksums(files: dict[str, bytes], cluster_dir: str) -> str:
    prefix = cluster_dir + "/" if cluster_dir else ""
    rels = sorted(p[len(prefix):] for p in files if p.startswith(prefix))
    return "".join(f"{_sha256(files[prefix + rel])}  {rel}\n" for rel in rels if rel != CHECKSUMS)


def parse_checksums(text: str) -> dict[str, str]:
    """{relative path: sha256} of a checksums.txt; lines that could point
    outside the cluster directory are ignored."""
    out = {}
    for line in text.splitlines():
        digest, sep, rel = line.partition("  ")
        parts = rel.split("/")
        if sep and len(digest) == 64 and rel and not rel.startswith("/") \
                and ".." not in parts and "" not in parts and "\\" not in rel:
            out[rel] = digest
    return out


def prune(out: Path, cluster_dir: str, files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    """Remove files the previous render wrote and this one does not; returns
    (removed, kept because changed by hand), relative to the cluster directory."""
    base = out / cluster_dir
    try:
        previous = parse_checksums((base / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return [], []
    current = {p for p in files}
    removed, kept = [], []
    for rel, digest in sorted(previous.items()):
        if posixpath.join(cluster_dir, rel) in current:
            continue
        target = base / rel
        if not target.is_file() or target.is_symlink():
            continue
        if _sha256(target.read_bytes()) != digest:
            kept.append(rel)
            continue
        target.unlink()
        removed.append(rel)
        parent = target.parent
        while parent != base and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return removed, kept


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
