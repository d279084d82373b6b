"""Running a KRM function: read, process safely, write, exit code.

The Go SDK's `fn.AsMain(processor)` in Python. A processor is a callable
`ResourceList -> ResourceList` that reports problems as results. Whatever
happens, the output is a ResourceList: a processor that raises gets its
items back unchanged and an error result (never a traceback, never a lost
item); input that cannot be read gets an error result and no items.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from .resourcelist import ResourceList, Result
from .yamlio import DEFAULT_LIMITS, Limits, YAMLInputError

Processor = Callable[[ResourceList], ResourceList]

DEBUG_ENV = "KURE_FN_DEBUG"  # set: tracebacks of internal errors on stderr


def as_main(processor: Processor, *, limits: Limits = DEFAULT_LIMITS, data: bytes | None = None,
            out=None, name: str = "kure-fn") -> int:
    """Read a ResourceList from `data` (default stdin), run `processor`,
    write the list to `out` (default stdout); 1 when it carries an error."""
    out = out or sys.stdout
    try:
        if data is None:
            data = _read_stdin(limits)
        try:
            rl = ResourceList.parse(data, limits)
        except YAMLInputError as e:
            rl = ResourceList()
            rl.results.append(Result(f"cannot read the input ResourceList: {e}", "error",
                                     file={"path": "<stdin>" if e.line is None
                                           else f"<stdin>:{e.line}", "index": 0}))
            return finish(rl, out, name)
        return finish(process_safely(processor, rl), out, name)
    except MemoryError:
        # whatever was built is garbage now; answer with the smallest valid list
        rl = data = None
        rl = ResourceList()
        rl.results.error("cannot read the input ResourceList: out of memory; lower "
                         "KURE_FN_MAX_NODES or KURE_FN_MAX_INPUT_BYTES, or give the function "
                         "more memory")
        out.write(rl.to_text())
        out.flush()
        sys.stderr.write(f"{name}: [error] out of memory\n")
        return 1


def run_legacy_plugin(processor: Processor, config_path: str, *,
                      limits: Limits = DEFAULT_LIMITS, out=None, name: str = "kure-fn") -> int:
    """kustomize's legacy exec plugin: the config file in argv[1], a plain
    stream (transformer) or nothing (generator) on stdin, items on stdout."""
    from . import yamlio

    out = out or sys.stdout
    try:
        with open(config_path, "rb") as f:
            config = yamlio.load(yamlio.decode(f.read(limits.max_bytes + 1), limits), limits)
        data = b"" if sys.stdin is None or sys.stdin.isatty() else _read_stdin(limits)
        rl = ResourceList.parse(data, limits) if data.strip() else ResourceList()
    except (OSError, YAMLInputError) as e:
        rl = ResourceList()
        rl.results.error(f"cannot read the plugin input: {e}")
        return finish(rl, out, name)
    if not isinstance(config, dict):
        rl.results.error(f"{config_path}: expected a function config (a mapping)")
        return finish(rl, out, name)
    rl.function_config = config
    return finish(process_safely(processor, rl), out, name)


def process_safely(processor: Processor, rl: ResourceList) -> ResourceList:
    """`processor(rl)`; if it raises, the items as they came and an error."""
    snapshot = list(rl.items)
    try:
        return processor(rl)
    except RecursionError:
        rl.items = snapshot
        rl.results.error("the config nests too deeply to process")
    except Exception as e:  # never a traceback, never a lost item
        rl.items = snapshot
        rl.results.error(f"internal error: {type(e).__name__}: {e}; please report this with "
                         "the input that caused it")
        if os.environ.get(DEBUG_ENV):
            import traceback
            traceback.print_exc()
    return rl


def finish(rl: ResourceList, out, name: str = "kure-fn") -> int:
    """Write the list, echo errors and warnings on stderr; the exit code."""
    out.write(rl.to_text())
    out.flush()
    for r in rl.results:
        if r.severity in ("error", "warning"):
            sys.stderr.write(f"{name}: {r}\n")
    return 1 if rl.has_errors() else 0


def _read_stdin(limits: Limits) -> bytes:
    return sys.stdin.buffer.read(limits.max_bytes + 1)
