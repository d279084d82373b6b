"""Command line: the KRM function (stdin → stdout), `render`, `schema`, and
the legacy kustomize exec-plugin route. A thin shell over `fn.function`."""

from __future__ import annotations

import gc
import os
import sys

USAGE = """\
kure-fn: turn a fn.kure.dev/v1alpha1 Cluster into a Flux GitOps repository tree.

As a KRM function it reads a ResourceList on stdin and writes it back with
Flux Kustomizations, HelmReleases, sources, bootstrap objects and a
kustomization.yaml in every directory, placed by path annotations.

Usage:
  kure-fn                         KRM function: ResourceList on stdin, out on stdout
  kure-fn render CONFIG... -o DIR write the tree of each Cluster config to DIR
  kure-fn schema                  print the JSON Schema of the Cluster config
  kure-fn --help | --version

Examples:
  # kpt, declaratively (Kptfile: pipeline.mutators[].exec: kure-fn, configPath: cluster.yaml)
  kpt fn render --allow-exec .
  # kpt, imperatively, on every Cluster item of the package
  kpt fn eval --exec kure-fn .
  # kpt with the container image
  kpt fn eval --image ghcr.io/kure-dev/kure-fn:v0.1 .
  # without kpt
  kure-fn render cluster.yaml -o out/

Config: see docs/config.md. Exit status: 0 done, 1 error results (stdout still
carries the ResourceList with every input item unchanged).
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
            import json

            from .model.config import json_schema
            sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")
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
    from .krm.yamlio import Limits
    raw = os.environ.get("KURE_FN_MAX_INPUT_BYTES")
    if raw and raw.isdigit():
        return Limits(max_bytes=int(raw))
    return Limits()


def _read_stdin(limits) -> bytes:
    return sys.stdin.buffer.read(limits.max_bytes + 1)


def run_function(data: bytes | None = None, out=None) -> int:
    """The KRM function over stdin/stdout; returns the exit code."""
    from .krm.resourcelist import ResourceList, Result
    from .krm.yamlio import YAMLInputError

    limits = _limits()
    out = out or sys.stdout
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
