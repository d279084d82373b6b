"""Directory mode: `kure-fn render CONFIG... -o DIR`, without kpt."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .flux.bootstrap import GOTK_COMPONENTS
from .function import is_cluster_config
from .krm import yamlio
from .layout.plan import TreePlan, overlapping
from .model.cluster import ConfigError, build


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="kure-fn render",
                                     description="Write the Flux tree of each Cluster config to DIR.")
    parser.add_argument("configs", nargs="+", metavar="CONFIG", help="YAML files with Cluster configs")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output directory")
    args = parser.parse_args(argv)

    from .flux import Engine

    clusters = []
    failed = False
    for path in args.configs:
        try:
            text = yamlio.decode(Path(path).read_bytes())
            docs = [yamlio.to_python(n) for n in yamlio.compose_all(text)]
        except (OSError, yamlio.YAMLInputError) as e:
            sys.stderr.write(f"kure-fn: {path}: {e}\n")
            failed = True
            continue
        found = [d for d in docs if is_cluster_config(d)]
        if not found:
            sys.stderr.write(f"kure-fn: {path}: no fn.kure.dev/v1alpha1 Cluster in this file\n")
            failed = True
        for doc in found:
            try:
                clusters.append(build(doc, path))
            except ConfigError as e:
                for p in e.problems:
                    sys.stderr.write(f"kure-fn: {path}: {p}\n")
                failed = True
    names = [c.name for c in clusters]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        sys.stderr.write(f"kure-fn: two Cluster configs are named {dup!r}\n")
        failed = True
    for a, b in overlapping([TreePlan.for_cluster(c) for c in clusters]):
        sys.stderr.write(f"kure-fn: the trees of clusters {a.cluster_name!r} ({a.cluster_dir}/) and "
                         f"{b.cluster_name!r} ({b.cluster_dir}/) nest inside each other; give one "
                         "of them another spec.layout.root\n")
        failed = True
    if failed:
        return 1
    out = Path(args.output)
    for cluster in clusters:
        for w in cluster.warnings:
            sys.stderr.write(f"kure-fn: warning: {cluster.file}: {w}\n")
        components = f"{TreePlan.for_cluster(cluster).flux_dir}/{GOTK_COMPONENTS}"
        existing = frozenset([components]) if (out / components).is_file() else frozenset()
        tree = Engine().create_layout_with_resources(cluster, existing=existing)
        tree.write(out)
        print(f"{cluster.name}: wrote {len(tree.paths())} files under {out}")
    return 0
