"""A/B of whole-process CPU: kure-fn installs side by side, interleaved.

    python bench/fleet.py 1000 > f1000.rl
    git archive REV | tar -x -C A/src && python3 -m venv A/venv \\
        && A/venv/bin/pip install -c constraints.txt A/src          # each REV
    python bench/ab.py f1000.rl 11 A/venv B/venv ...

Each run is one process (`VENV/bin/kure-fn < INPUT`), user + system CPU
from wait4; the runs of the installs alternate, so the machine's load falls
on all of them alike. Prints each install's median and its ratio to the
first.
"""

from __future__ import annotations

import os
import statistics
import sys


def cpu(cmd: list[str], inp: str) -> float:
    with open(inp, "rb") as f:
        pid = os.fork()
        if pid == 0:
            os.dup2(f.fileno(), 0)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.execv(cmd[0], cmd)
        _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    inp, runs, venvs = argv[0], int(argv[1]), argv[2:]
    times: dict[str, list[float]] = {v: [] for v in venvs}
    for _ in range(runs):
        for v in venvs:
            times[v].append(cpu([os.path.join(v, "bin", "kure-fn")], inp))
    base = statistics.median(times[venvs[0]])
    for v in venvs:
        m = statistics.median(times[v])
        print(f"{v}: median CPU {m:.3f} s, {m / base:.3f} x the first")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
