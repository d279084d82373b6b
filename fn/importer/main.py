"""`kure-fn import SYNC_PATH [--repo DIR] [--name NAME] [-o FILE]`.

Exit 0 when a config was written (what could not be mapped is listed on
stderr, one line per object), 1 when the repository cannot be read as Flux
would (every problem, one line each), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import posixpath
import re
import sys
from pathlib import Path

from ..krm import yamlio
from ..model.config import DNS_LABEL
from .kustomize import Reader
from .mapping import to_config
from .tree import ImportError_, normalise, read_tree

DESCRIPTION = """\
Read a Flux repository the way Flux does, from the sync path of one cluster
(kustomize builds in Python: nothing is executed, nothing fetched), and write
one fn.kure.dev/v1alpha1 Cluster config: a bundle per Flux Kustomization, a
helm application per HelmRelease whose every field has a form, inline
manifests for everything else. What the config cannot say exactly is listed
on stderr, one line per object. See docs/import.md."""


def main(argv: list[str], limits: yamlio.Limits = yamlio.DEFAULT_LIMITS) -> int:
    parser = argparse.ArgumentParser(prog="kure-fn import", description=DESCRIPTION)
    parser.add_argument("sync_path", metavar="SYNC_PATH",
                        help="the directory the cluster's Flux syncs, relative to the repository "
                             "(e.g. clusters/production)")
    parser.add_argument("--repo", default=".", metavar="DIR",
                        help="the repository's root directory (default: the current directory)")
    parser.add_argument("--name", metavar="NAME",
                        help="the cluster's name (default: the sync path's last directory)")
    parser.add_argument("--namespace", default="flux-system", metavar="NS",
                        help="namespace of the bootstrap GitRepository and Kustomization "
                             "(default flux-system)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the config here, not stdout")
    args = parser.parse_args(argv)
    repo = Path(args.repo)
    if not repo.is_dir():
        sys.stderr.write(f"kure-fn import: --repo {args.repo}: no such directory\n")
        return 2
    sync_path = normalise(args.sync_path)
    name = args.name or posixpath.basename(sync_path if sync_path != "." else str(repo.resolve()))
    if not re.fullmatch(DNS_LABEL, name) or len(name) > 63:
        sys.stderr.write(f"kure-fn import: cluster name {name!r} is not a DNS-1123 label; "
                         "give one with --name\n")
        return 2
    reader = Reader(repo, limits)
    try:
        tree = read_tree(reader, sync_path, namespace=args.namespace, name=args.namespace)
    except ImportError_ as e:
        for problem in e.problems:
            sys.stderr.write(f"kure-fn import: {problem}\n")
        return 1
    mapped = to_config(tree, name, tree.notes)
    text = yamlio.dump(mapped.config)
    for line in mapped.report():
        sys.stderr.write(f"kure-fn import: {line}\n")
    if args.output:
        try:
            Path(args.output).write_text(text)
        except OSError as e:
            sys.stderr.write(f"kure-fn import: {args.output}: {e.strerror}\n")
            return 1
    else:
        sys.stdout.write(text)
    return 0
