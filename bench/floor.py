"""The floor: a passthrough KRM function with kure-fn's own YAML stack.

    python bench/floor.py PLAN < input.yaml > output.yaml

It reads the ResourceList on stdin with the same loader as kure-fn
(`ResourceList.parse`: bounded YAML parse of every item into Python values,
plus each item's verbatim text) and writes the very bytes kure-fn writes for
that input, with the same writer (`ResourceList.to_text`): input items
verbatim, every other item and the results through kure-fn's emitter.

What it does *not* do is kure-fn's work: PLAN (a marshal file the benchmark
makes from one kure-fn run) says which output item is which input item and
holds the items kure-fn generated, as plain data. The benchmark checks that
the floor's output equals kure-fn's byte for byte.
"""

from __future__ import annotations

import gc
import marshal
import sys

from fn.krm.resourcelist import KubeObject, ResourceList, Result


def main(plan_path: str) -> int:
    gc.disable()  # as kure-fn's command line does
    data = sys.stdin.buffer.read()
    with open(plan_path, "rb") as f:
        plan = marshal.load(f)
    rl = ResourceList.parse(data)
    items = []
    for entry in plan["items"]:
        if isinstance(entry, int):  # an input item, passed through
            items.append(rl.items[entry])
        else:  # an item kure-fn generated (or changed): emitted from data
            items.append(KubeObject(entry))
    rl.items = items
    rl.results = [Result(r["message"], r["severity"], r.get("resourceRef"),
                         (r.get("field") or {}).get("path"), r.get("file"), r.get("tags"))
                  for r in plan["results"]]
    sys.stdout.write(rl.to_text())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
