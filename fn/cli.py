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
  kure-fn --help | --version

Config (apiVersion: fn.kure.dev/v1alpha1, kind: Cluster):
  metadata.name    the cluster's directory name
  spec.flux        namespace, placement, sourceRef, defaults of every bundle
  spec.layout      root (default clusters), kustomizationMode, fileNaming
  spec.output      emit: all | flux | apps
  spec.sources     named git, oci, helm and bucket sources
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
        if args[0] == "schema":
            from .model.config import schema_text
            sys.stdout.write(schema_text())
            return 0
        if args[0] == "docs":  # hidden: regenerates docs/reference.md
            from .model.reference import markdown
            sys.stdout.write(markdown())
            return 0
        if len(args) == 1 and os.path.isfile(args[0]):
            return run_legacy_plugin(args[0])
        sys.stderr.write(f"kure-fn: unknown arguments {' '.join(args)!r}; see kure-fn --help\n")
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        return 130
    except BrokenPipeError:  # pragma: no cover
        return 1


def _limits():
    """Input limits; KURE_FN_MAX_INPUT_BYTES and KURE_FN_MAX_NODES raise them."""
    from .krm.yamlio import Limits
    settings = {}
    for env, name in (("KURE_FN_MAX_INPUT_BYTES", "max_bytes"), ("KURE_FN_MAX_NODES", "max_nodes")):
        raw = os.environ.get(env, "")
        if raw.isdigit():
            settings[name] = int(raw)
    return Limits(**settings)


def _read_stdin(limits) -> bytes:
    return sys.stdin.buffer.read(limits.max_bytes + 1)


def run_function(data: bytes | None = None, out=None) -> int:
    """The KRM function over stdin/stdout; returns the exit code."""
    from .krm.resourcelist import ResourceList, Result
    from .krm.yamlio import YAMLInputError

    limits = _limits()
    out = out or sys.stdout
    try:
        if data is None:
            data = _read_stdin(limits)
        try:
            rl = ResourceList.parse(data, limits)
        except YAMLInputError as e:
            rl = ResourceList(results=[Result(f"cannot read the input ResourceList: {e}", "error",
                                              file={"path": "<stdin>", "index": 0} if e.line is None
                                              else {"path": f"<stdin>:{e.line}", "index": 0})])
            return _finish(rl, out)
        return _finish(_process_safely(rl), out)
    except MemoryError:
        # whatever was built is garbage now; answer with the smallest valid list
        rl = data = None
        out.write(ResourceList(results=[Result(
            "cannot read the input ResourceList: out of memory; lower KURE_FN_MAX_NODES or "
            "KURE_FN_MAX_INPUT_BYTES, or give the function more memory", "error")]).to_text())
        out.flush()
        sys.stderr.write("kure-fn: [error] out of memory\n")
        return 1


def _process_safely(rl):
    from .function import process
    from .krm.resourcelist import Result

    snapshot = list(rl.items)
    try:
        return process(rl)
    except RecursionError:
        rl.items = snapshot
        rl.results.append(Result("the config nests too deeply to process", "error"))
    except Exception as e:  # never a traceback, never a lost item
        rl.items = snapshot
        rl.results.append(Result(f"internal error: {type(e).__name__}: {e}; please report this "
                                 "with the input that caused it", "error"))
        if os.environ.get("KURE_FN_DEBUG"):
            import traceback
            traceback.print_exc()
    return rl


def _finish(rl, out) -> int:
    out.write(rl.to_text())
    out.flush()
    for r in rl.results:
        if r.severity in ("error", "warning"):
            sys.stderr.write(f"kure-fn: {r}\n")
    return 1 if rl.has_errors() else 0


def run_legacy_plugin(config_path: str) -> int:
    """kustomize's legacy exec plugin: config file in argv[1], a plain stream
    (transformer) or nothing (generator) on stdin, items out on stdout."""
    from .krm import yamlio
    from .krm.resourcelist import ResourceList, Result

    limits = _limits()
    try:
        with open(config_path, "rb") as f:
            config = yamlio.load(yamlio.decode(f.read(limits.max_bytes + 1), limits), limits)
        data = b"" if sys.stdin is None or sys.stdin.isatty() else _read_stdin(limits)
        if data.strip():
            rl = ResourceList.parse(data, limits)
        else:
            rl = ResourceList()
    except (OSError, yamlio.YAMLInputError) as e:
        rl = ResourceList(results=[Result(f"cannot read the plugin input: {e}", "error")])
        return _finish(rl, sys.stdout)
    if not isinstance(config, dict):
        rl.results.append(Result(f"{config_path}: expected a Cluster config", "error"))
        return _finish(rl, sys.stdout)
    rl.function_config = config
    return _finish(_process_safely(rl), sys.stdout)
