"""Directory mode: `kure-fn render CONFIG... -o DIR`, without kpt.

Writes each Cluster config's tree under DIR (the files kpt would write) plus,
in each cluster directory, what a ResourceList cannot carry: `README.md`
(fn.readme) and `checksums.txt` (`sha256sum -c` format: sha256, two spaces,
path relative to the cluster directory; sorted; itself excluded).

`checksums.txt` is also the record of what the previous render wrote: a file
listed there that this render no longer produces is removed when unchanged
since, so a bundle dropped from the config disappears as it does under kpt.
Files kure-fn did not write are never touched.

Every path to write or remove is checked before anything changes (a file
where a directory must be, a directory this user cannot write, a read-only
file system, a name too long): each problem is one line on stderr, exit 1.
A write that fails anyway (a full disk) says the tree is incomplete;
checksums.txt, written last, still records the previous render.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import os
import posixpath
import stat
import sys
from pathlib import Path

from .configs import Document, Loaded, Report, is_config, load
from .kinds import with_input_crds
from .krm import yamlio
from .layout.kustomize import blocking_files
from .layout.plan import TreePlan
from .model.cluster import Cluster, ConfigError
from .model.config import KIND
from .model.rules import chart_crd_warnings
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
    plans = []
    for cluster, files in trees:
        cluster_dir = TreePlan.for_cluster(cluster).cluster_dir
        stale, kept = stale_files(out, cluster_dir, files)
        plans.append((cluster, cluster_dir, files, stale, kept))
    # Every path is checked before anything is written or removed.
    problems = write_problems(out, written=[p for plan in plans for p in plan[2]],
                              removed=[p for plan in plans for p in plan[3]])
    for problem in problems:
        sys.stderr.write(f"kure-fn: {problem}\n")
    if problems:
        return 1
    for cluster, cluster_dir, files, stale, kept in plans:
        for rel in kept:
            sys.stderr.write(f"kure-fn: warning: {posixpath.join(cluster_dir, rel)} is no longer "
                             "generated but was changed since; left in place\n")
        target = out / cluster_dir
        try:
            remove(out, cluster_dir, stale)
            for path, data in files.items():  # checksums.txt last: the record of what is there
                target = out / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except OSError as e:
            where = Path(e.filename) if e.filename else target
            sys.stderr.write(f"kure-fn: {_describe(e, where)}; the tree under {out / cluster_dir} "
                             "is incomplete: fix that and run kure-fn render again\n")
            return 1
        print(f"{cluster.name}: wrote {len(files)} files under {out / cluster_dir}"
              + (f", removed {len(stale)} stale" if stale else ""))
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
        except OSError as e:
            sys.stderr.write(f"kure-fn: {path}: cannot read it: {e.strerror or e}\n")
            failed = True
            continue
        except yamlio.YAMLInputError as e:
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
        for p in chart_crd_warnings(cluster):
            _write(loaded.report(cluster, p.severity, p.message, p.path))
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
        existing = frozenset(p for p in engine.listed_if_present(cluster) if _is_file(out / p))
        engine.carry_over(cluster, previous_objects(out, TreePlan.for_cluster(cluster).cluster_dir))
        try:
            files = rendered_files(cluster, engine, existing=existing)
        except ConfigError as e:
            for p in e.problems:
                _write(loaded.report(cluster, p.severity, p.message, p.path))
            failed = True
            continue
        # files where directories go: write_problems checks every path of the output
        for _, message in blocking_files(files, lambda p: _occupied(out / p), directories=False):
            _write(loaded.report(cluster, "error", message, "spec.layout.root"))
            failed = True
        trees.append((cluster, files))
    return None if failed else trees


def previous_objects(out: Path, cluster_dir: str):
    """The objects of the files the previous render wrote (its checksums.txt
    lists them), as they are now: a tool such as image automation may have
    changed them since. Lazy; unreadable files are skipped."""
    base = out / cluster_dir
    try:
        listed = parse_checksums((base / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return
    for rel in sorted(listed):
        if not rel.endswith(".yaml") or not _is_file(base / rel):
            continue
        try:
            text = yamlio.decode((base / rel).read_bytes())
            docs = [yamlio.to_python(n) for n in yamlio.compose_all(text)]
        except (OSError, yamlio.YAMLInputError):
            continue
        yield from docs


def _occupied(path: Path) -> bool:
    """Something other than a directory is at `path`."""
    try:
        return (path.exists() or path.is_symlink()) and not path.is_dir()
    except OSError:  # a name too long, a directory we may not search: write_problems says
        return False


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


def stale_files(out: Path, cluster_dir: str, files: dict[str, bytes]
                ) -> tuple[list[str], list[str]]:
    """Files the previous render wrote and this one does not, relative to the
    output directory: (to remove, kept because changed by hand since; these
    relative to the cluster directory). Reads only."""
    base = out / cluster_dir
    try:
        previous = parse_checksums((base / CHECKSUMS).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return [], []
    stale, kept = [], []
    for rel, digest in sorted(previous.items()):
        path = posixpath.join(cluster_dir, rel)
        target = out / path
        if path in files or not _is_file(target) or target.is_symlink():
            continue
        try:
            same = _sha256(target.read_bytes()) == digest
        except OSError:
            same = False
        if same:
            stale.append(path)
        else:
            kept.append(rel)
    return stale, kept


def remove(out: Path, cluster_dir: str, stale: list[str]) -> None:
    """Delete the stale files and the directories they leave empty."""
    base = out / cluster_dir
    for path in stale:
        target = out / path
        target.unlink()
        parent = target.parent
        while parent != base and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


def write_problems(out: Path, written: list[str], removed: list[str]) -> list[str]:
    """Why some of the files (paths relative to `out`) cannot be written or
    removed, one line per offending path: a file where a directory must be, a
    directory or file not writable, a name too long for the file system."""
    memo: dict[Path, str | None] = {}
    problems = [_file_problem(out / rel, memo) for rel in written]
    problems += [_creatable_in((out / rel).parent, memo) for rel in removed]
    return list(dict.fromkeys(p for p in problems if p))


def _file_problem(path: Path, memo) -> str | None:
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return _creatable_in(path.parent, memo)
    except OSError as e:
        return _stat_problem(e, path, memo)
    if stat.S_ISDIR(st.st_mode):
        return f"{path} is a directory, where kure-fn writes a file: move it away"
    if not os.access(path, os.W_OK):
        return _not_writable(path)
    return None


def _creatable_in(directory: Path, memo) -> str | None:
    """None when files can be created in `directory` (creating it if need be)."""
    if directory not in memo:
        try:
            st = os.stat(directory)
        except (FileNotFoundError, NotADirectoryError):
            memo[directory] = _creatable_in(directory.parent, memo)
        except OSError as e:
            memo[directory] = _stat_problem(e, directory, memo)
        else:
            if not stat.S_ISDIR(st.st_mode):
                memo[directory] = (f"{directory} is a file, where kure-fn needs a directory: "
                                   "move it away or choose another -o directory")
            elif not os.access(directory, os.W_OK | os.X_OK):
                memo[directory] = _not_writable(directory)
            else:
                memo[directory] = None
    return memo[directory]


def _stat_problem(e: OSError, path: Path, memo) -> str:
    """A name too long, or a directory that may not be searched, is reported
    once, at the outermost path where it shows."""
    if path.parent != path and e.errno in (errno.ENAMETOOLONG, errno.EACCES):
        return _creatable_in(path.parent, memo) or _describe(e, path)
    return _describe(e, path)


def _not_writable(path: Path) -> str:
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return f"{path} is on a read-only file system: choose another -o directory"
    return (f"{path}: permission denied: make it writable for user {os.getuid()}, or "
            "choose another -o directory (with the image, run it as the owner: "
            "--user \"$(id -u):$(id -g)\")")


def _describe(e: OSError, path: Path) -> str:
    """One line for an OSError on `path`, with what to do."""
    if e.errno == errno.ENAMETOOLONG:
        return (f"{path}: file name too long for the file system (a name of "
                f"{len(os.fsencode(path.name))} bytes, a path of {len(os.fsencode(path))}; most "
                "allow 255 and 4095): choose a shorter -o directory or shorter names")
    if isinstance(e, PermissionError):
        return _not_writable(path)
    if e.errno == errno.ENOSPC:
        return f"{path}: no space left on device: free some space"
    return f"{path}: {e.strerror or e}"


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long, a directory we may not search
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
