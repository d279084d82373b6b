"""Linearity check: the function's own work (in-process CPU, no YAML I/O) for
2,000 and 8,000 bundles in each layout mode, including a flat fleet with all
bundles in one node (one huge directory level). Linear growth is 4 ×.

    python bench/scaling.py
"""

from __future__ import annotations

import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import fleet  # noqa: E402
from fn.function import process  # noqa: E402
from fn.krm.resourcelist import ResourceList  # noqa: E402


def flatten(config: dict) -> None:
    bundles: list = []

    def walk(nodes):
        for node in nodes:
            bundles.extend(node.get("bundles", []))
            walk(node.get("children", []))
    walk(config["spec"]["nodes"])
    config["spec"]["nodes"] = [{"name": "all", "source": "platform-git-0", "bundles": bundles}]


def main() -> int:
    gc.disable()  # as the command line runs
    for mode, placement, flat in (("explicit", "separate", True), ("recursive", "integrated", False),
                                  ("explicit", "integrated", True)):
        times = []
        for n in (2000, 8000):
            config = fleet.cluster_config(n)
            if flat:
                flatten(config)
            config["spec"]["layout"] = {"kustomizationMode": mode}
            config["spec"]["flux"] = {"placement": placement}
            rl = ResourceList(items=[], function_config=config)
            t = time.process_time()
            process(rl)
            times.append(time.process_time() - t)
            assert not rl.has_errors(), [str(r) for r in rl.results][:3]
        print(f"{mode:9} {placement:10} {'flat' if flat else 'nested':6}: 2,000 bundles "
              f"{times[0]:.2f} s, 8,000 bundles {times[1]:.2f} s: {times[1] / times[0]:.1f} × (linear: 4)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
