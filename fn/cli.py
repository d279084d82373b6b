"""Command line: the KRM function (stdin → stdout), `render`, `schema`, and
the legacy kustomize exec-plugin route. A thin shell over `fn.function`."""

from __future__ import annotations

import gc
import os
import sys

IMAGE = "ghcr.io/kure-dev/kure-fn"

USAGE = f"""\
kure-fn: a Flux GitOps repository from a fn.kure.dev/v1alpha1 Cluster config.

kure-fn is a KRM function. It reads a ResourceList on stdin, takes the Cluster
config from the function config (else every Cluster item), and writes the list
back with the cluster's Flux objects (Kustomizations, HelmReleases, sources,
bootstrap) and a kustomization.yaml in every directory, each placed by path
annotations. Items it did not generate come back unchanged, and a second run
changes nothing. A config error is reported with its field path and file;
then the exit status is 1 and every input item comes back unchanged.

Usage:
  kure-fn                      the KRM function: ResourceList in and out
  kure-fn CONFIG_FILE          kustomize legacy exec plugin (config in argv[1])
  kure-fn render CONFIG... -o DIR
                               write each cluster's tree to DIR without kpt,
                               with a README.md and checksums.txt per cluster
  kure-fn schema               print the config's JSON Schema (for editors)
  kure-fn import SYNC_PATH [--repo DIR] [--name NAME] [-o FILE]
                               read an existing Flux repository from a cluster's
                               sync path into a Cluster config (docs/import.md)
  kure-fn --help | --version

Config (apiVersion: fn.kure.dev/v1alpha1, kind: Cluster):
  metadata.name    the cluster's directory name
  spec.flux        namespace, placement, sourceRef, defaults of every bundle
  spec.layout      root (default clusters), kustomizationMode, fileNaming
  spec.output      emit: all | flux | apps
  spec.sources     named git, oci, helm, bucket and artifact sources
  spec.bootstrap   flux-operator (FluxInstance) or gotk (gotk-sync.yaml)
  spec.nodes       the directory tree: nodes hold bundles (a Flux Kustomization
                   each); bundles hold applications (helm, manifests, resources)

Examples (IMAGE: {IMAGE}:v0.1, or another vX.Y or vX.Y.Z tag):
  # kpt with the exec route; Kptfile:
  #   pipeline: {{mutators: [{{exec: kure-fn, configPath: cluster.yaml}}]}}
  kpt fn render --allow-exec PKG
  # kpt with the image; Kptfile:
  #   pipeline: {{mutators: [{{image: IMAGE, configPath: cluster.yaml}}]}}
  kpt fn render PKG
  kpt fn eval PKG --image IMAGE
  # kustomize: list cluster.yaml under generators: (or transformers:) and
  # annotate it: config.kubernetes.io/function: "container: {{image: IMAGE}}"
  kubectl kustomize --enable-alpha-plugins DIR
  # without kpt, e.g. in CI
  kure-fn render cluster.yaml -o .

Exit status: 0 done, 1 error results (stdout still carries the ResourceList),
2 usage error. Environment: KURE_FN_MAX_INPUT_BYTES (input size limit),
KURE_FN_DEBUG=1 (tracebacks of internal errors on stderr).
Docs: docs/running.md (every route), docs/reference.md (every config field).
"""


def main(argv: list[str] | None = None) -> int:
    # One short run builds large acyclic trees (YAML nodes, objects): the
    # cyclic collector would rescan them over and over (3x slower parsing)
    # and has nothing to free before the process exits.
    gc.disable()
    from .lazy import import_yaml
    import_yaml()  # the process entry point only: library use gets plain PyYAML (fn/lazy.py)
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if not args:
            return run_function()
        if args[0] in ("-h", "--help", "help"):
            sys.stdout.write(USAGE)
            return 0
        if args[0] == "--version":
            from . import __version__
            print(f"kure-fn {__version__}")
            return 0
        if args[0] == "render":
            from .render import main as render_main
            return render_main(args[1:])
        if args[0] == "import":
            from .importer.main import main as import_main
            return import_main(args[1:], limits())
        if args[0] == "schema":
            from .registry import schema_text
            sys.stdout.write(schema_text())
            return 0
        if args[0] == "docs":  # hidden: regenerates docs/reference.md
            from .model.reference import markdown
            sys.stdout.write(markdown())
            return 0
        if len(args) == 1 and os.path.isfile(args[0]):
            from .function import process
            from .krm.run import run_legacy_plugin
            return run_legacy_plugin(process, args[0], limits=limits())
        sys.stderr.write(f"kure-fn: unknown arguments {' '.join(args)!r}; see kure-fn --help\n")
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except BrokenPipeError:  # pragma: no cover
        return 1


def limits():
    """Input limits; KURE_FN_MAX_INPUT_BYTES and KURE_FN_MAX_NODES raise them."""
    from .krm.yamlio import Limits
    settings = {}
    for env, name in (("KURE_FN_MAX_INPUT_BYTES", "max_bytes"), ("KURE_FN_MAX_NODES", "max_nodes")):
        raw = os.environ.get(env, "")
        if raw.isdigit():
            settings[name] = int(raw)
    return Limits(**settings)


def run_function(data: bytes | None = None, out=None) -> int:
    """The KRM function over stdin/stdout (or `data` / `out`); the exit code."""
    from .function import process
    from .krm.run import as_main
    return as_main(process, limits=limits(), data=data, out=out)
