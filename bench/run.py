"""kure-fn benchmark: whole-process wall time and peak RSS, medians over
interleaved runs, ratios to the floor measured side by side in the same run.

    python bench/run.py            # everything (~10 min on 2 cores)
    python bench/run.py --quick    # fewer runs, no 10,000-bundle fleet
    make bench

See bench/README.md for what each row means and bench/RESULTS.md for numbers.
"""

from __future__ import annotations

import argparse
import datetime
import marshal
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV = BENCH / ".venv"  # a regular (not editable) install, as in the container image
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import fleet  # noqa: E402
from fn.krm.resourcelist import ResourceList  # noqa: E402

NOOP_SH = "#!/bin/sh\nexec cat\n"
NOOP_PY = "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n"


# -- set-up ----------------------------------------------------------------------

def install() -> Path:
    """bench/.venv with kure-fn installed from this tree (compiled, not editable)."""
    py = VENV / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "--quiet", "setuptools>=61", "wheel",
                        str(ROOT)], check=True)
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", "--no-deps", "--force-reinstall",
                    "--no-build-isolation", str(ROOT)], check=True, cwd=BENCH)
    return VENV / "bin"


def source(pkg: Path) -> bytes:
    """The ResourceList kpt feeds a function for `pkg` (`kpt fn source`)."""
    return subprocess.run(["kpt", "fn", "source", str(pkg)], check=True,
                          capture_output=True).stdout


def render_once(pkg: Path, fn: Path) -> None:
    subprocess.run(["kpt", "fn", "render", "--allow-exec", str(pkg)], check=True,
                   capture_output=True, env=_env_with(fn.parent))


def _env_with(bindir: Path) -> dict:
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}


# -- running ---------------------------------------------------------------------

TIME = shutil.which("time", path="/usr/bin:/bin")


def run(cmd: list[str], stdin: Path | None, stdout: Path | None = None, env=None, cwd=None):
    """(wall seconds, peak RSS in MiB, exit code, CPU seconds) of one whole process.

    Peak RSS comes from /usr/bin/time: Linux carries a parent's peak RSS into
    a child across fork and exec, so the children of this (large) process
    would report at least its own size.
    """
    fin = open(stdin, "rb") if stdin else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout else subprocess.DEVNULL
    rss_file = tempfile.NamedTemporaryFile(prefix="rss-", delete=False)
    rss_file.close()
    full = [TIME, "-f", "%M", "-o", rss_file.name, *cmd] if TIME else cmd
    try:
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdin=fin, stdout=fout, stderr=subprocess.DEVNULL, env=env,
                             cwd=cwd)
        _, status, usage = os.wait4(p.pid, 0)  # CPU of the process and what it waited for
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        last = (Path(rss_file.name).read_text().strip().splitlines() or [""])[-1]
        rss = int(last) / 1024 if TIME and last.isdigit() else float("nan")
    finally:
        os.unlink(rss_file.name)
        if stdin:
            fin.close()
        if stdout:
            fout.close()
    return wall, rss, p.returncode, cpu


def side_by_side(cmds: dict[str, list[str]], stdin: Path | None, runs: int, env=None,
                 prepare=None) -> dict[str, dict]:
    """Interleave the commands `runs` times; medians of wall time and peak RSS."""
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    rss: dict[str, list[float]] = {k: [] for k in cmds}
    cpu: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(runs):
        for name, cmd in cmds.items():
            cwd = prepare(name) if prepare else None
            w, m, rc, c = run(cmd, stdin, env=env, cwd=cwd)
            if rc not in (0,):
                raise SystemExit(f"{name}: exit {rc}: {' '.join(cmd)}")
            walls[name].append(w)
            rss[name].append(m)
            cpu[name].append(c)
    return {k: {"wall": statistics.median(walls[k]), "rss": max(rss[k]), "min": min(walls[k]),
                "cpu": statistics.median(cpu[k]), "walls": walls[k]} for k in cmds}


# -- the floor's plan --------------------------------------------------------------

def floor_plan(inp: bytes, out: bytes, path: Path) -> None:
    """Which output item is which input item, the rest as data (see floor.py)."""
    rin, rout = ResourceList.parse(inp), ResourceList.parse(out)
    by_text: dict[str, list[int]] = {}
    for i, it in enumerate(rin.items):
        if it.source is not None:
            by_text.setdefault(it.source, []).append(i)
    items = []
    for it in rout.items:
        hits = by_text.get(it.source) if it.source is not None else None
        items.append(hits.pop(0) if hits else it.data)
    path.write_bytes(marshal.dumps({"items": items, "results": _results(out)}))


def _results(out: bytes) -> list:
    from fn.krm import yamlio
    big = yamlio.Limits(max_bytes=1 << 40, max_nodes=1 << 40, max_expanded_nodes=1 << 40)
    doc = yamlio.load(yamlio.decode(out, big), big)  # the bench's own reading: no input limits
    return doc.get("results") or []


# -- the benchmark -----------------------------------------------------------------

class Bench:
    def __init__(self, quick: bool, work: Path, sizes: list[int]):
        self.quick = quick
        self.work = work
        self.sizes = sizes
        self.bin = install()
        self.py = str(self.bin / "python")
        self.fn = self.bin / "kure-fn"
        self.rows: list[tuple] = []
        self.kpt = shutil.which("kpt")
        self.load = (_load(),)

    def runs(self, n: int) -> int:
        if n >= 10_000:
            return 3
        return 3 if self.quick else (9 if n <= 100 else 5)

    def workload(self, name: str, inp: Path, runs: int) -> None:
        out = self.work / f"{name}.out"
        rc = run([str(self.fn)], inp, out)[2]
        if rc != 0:
            raise SystemExit(f"{name}: kure-fn exit {rc}")
        plan = self.work / f"{name}.plan"
        floor_plan(inp.read_bytes(), out.read_bytes(), plan)
        floor_cmd = [self.py, str(BENCH / "floor.py"), str(plan)]
        check = self.work / f"{name}.floor"
        run(floor_cmd, inp, check)
        if check.read_bytes() != out.read_bytes():
            raise SystemExit(f"{name}: the floor's output differs from kure-fn's ({check}, {out})")
        r = side_by_side({"kure-fn": [str(self.fn)], "floor": floor_cmd}, inp, runs)
        k, f = r["kure-fn"], r["floor"]
        self.rows.append((name, inp.stat().st_size, out.stat().st_size, k["wall"], f["wall"],
                          k["wall"] / f["wall"], k["cpu"], f["cpu"], k["rss"], f["rss"], runs))
        print(f"  {name:24} kure-fn {k['wall']:7.3f}s {k['rss']:6.0f}MiB   floor {f['wall']:7.3f}s "
              f"{f['rss']:6.0f}MiB   ratio {k['wall'] / f['wall']:.2f} (CPU {k['cpu'] / f['cpu']:.2f})",
              flush=True)

    def cold_start(self) -> None:
        print("cold start (smallest example, whole process)")
        inp = self.work / "minimal.rl"
        inp.write_bytes(self._minimal_input())
        base = side_by_side({"python": [self.py, "-c", "pass"],
                             "python -S": [self.py, "-S", "-c", "pass"]}, None, 15)
        self.python_start = base["python"]["wall"], base["python -S"]["wall"]
        self.workload("minimal", inp, 21 if not self.quick else 9)

    def _minimal_input(self) -> bytes:
        pkg = ROOT / "examples" / "minimal"
        if self.kpt:
            return source(pkg)
        from fn.krm import yamlio
        items = []
        for f in ("Kptfile", "cluster.yaml"):
            doc = yamlio.load((pkg / f).read_text())
            anns = doc["metadata"].setdefault("annotations", {})
            anns.update({"config.kubernetes.io/index": "0", "config.kubernetes.io/path": f,
                         "internal.config.kubernetes.io/index": "0",
                         "internal.config.kubernetes.io/path": f})
            items.append(doc)
        return yamlio.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList",
                            "items": items}).encode()

    def fleets(self) -> None:
        print("fleets (first render: the package holds the config only; re-render: it also "
              "holds the previous tree)")
        for n in self.sizes:
            pkg = fleet.write_package(self.work / f"fleet-{n}", n, str(self.fn))
            first = self.work / f"fleet-{n}.rl"
            first.write_bytes(source(pkg) if self.kpt else fleet.resource_list(n).encode())
            self.workload(f"{n} bundles, first", first, self.runs(n))
            again = self.work / f"fleet-{n}-again.rl"
            if self.kpt:
                render_once(pkg, self.fn)
                again.write_bytes(source(pkg))
            else:
                out = (self.work / f"{n} bundles, first.out").read_bytes()
                again.write_bytes(out[: out.index(b"\nresults:") + 1])
            self.workload(f"{n} bundles, re-render", again, self.runs(n))

    def kpt_end_to_end(self) -> None:
        if not self.kpt:
            print("kpt end to end: skipped (kpt not installed)")
            return
        print("kpt fn render end to end (kure-fn vs no-op exec functions, same package)")
        cases = [("minimal", 0), ("1000 bundles", 1000)]
        for label, n in cases:
            for rerender in (False, True):
                if n and self.quick and not rerender:
                    continue
                self._kpt_case(label, n, rerender)

    def _as_kure_fn(self, name: str, body: str | None = None) -> Path:
        """A directory whose `kure-fn` is `body` (a script) or the real one:
        every package keeps `exec: kure-fn`, so every Kptfile (an item of the
        output) stays the same; only PATH tells kpt which function runs."""
        bindir = self.work / f"bin-{name}"
        bindir.mkdir(exist_ok=True)
        exe = bindir / "kure-fn"
        if body is None:
            exe.symlink_to(self.fn)
        else:
            exe.write_text(body)
            exe.chmod(0o755)
        return bindir

    def _kpt_case(self, label: str, n: int, rerender: bool) -> None:
        tag = f"{label}-{'again' if rerender else 'first'}".replace(" ", "_")
        base = self.work / "kpt" / tag / "base"
        if n:
            fleet.write_package(base, n)
        else:
            shutil.copytree(ROOT / "examples" / "minimal", base)
        if rerender:  # the package holds kure-fn's tree already
            render_once(base, self.fn)
        # replay: a no-op that writes the very bytes kure-fn writes for this input
        replayed = self.work / f"{tag}.out"
        scratch = base.with_name("capture")
        shutil.copytree(base, scratch)
        capture = self._as_kure_fn(f"{tag}-capture", f"#!/bin/sh\n{self.fn} | tee {replayed}\n")
        render_once(scratch, capture / "kure-fn")
        # kpt's package-path annotation holds the absolute path: the replayed one's
        replayed.write_text(replayed.read_text().replace(str(scratch), str(base.with_name("replay"))))
        bins = {"kure-fn": self._as_kure_fn(f"{tag}-real"),
                "replay": self._as_kure_fn(f"{tag}-replay",
                                           f"#!/bin/sh\ncat >/dev/null\nexec cat {replayed}\n"),
                "cat": self._as_kure_fn(f"{tag}-cat", NOOP_SH),
                "python": self._as_kure_fn(f"{tag}-python", f"#!{self.py}\n" + NOOP_PY)}
        pkgs = {}
        for name in bins:
            pkgs[name] = base.with_name(name)
            shutil.copytree(base, pkgs[name])
        pristine = {name: self._snapshot(p) for name, p in pkgs.items()}

        def prepare(name):
            if not rerender:  # a first render starts from the config only
                shutil.rmtree(pkgs[name])
                shutil.copytree(pristine[name], pkgs[name])
        path = os.environ["PATH"]
        cmds = {name: ["env", f"PATH={bins[name]}:{path}", "kpt", "fn", "render", "--allow-exec",
                       str(p)] for name, p in pkgs.items()}
        runs = 3 if self.quick else (15 if not n else 5)
        r = side_by_side(cmds, None, runs, prepare=prepare)
        what = f"{label}, {'re-render' if rerender else 'first render'}"
        same = subprocess.run(["diff", "-rq", str(pkgs["kure-fn"]), str(pkgs["replay"])],
                              capture_output=True).returncode == 0
        if not same:
            print(f"  warning: {what}: the replayed package differs from kure-fn's")
        walls = {k: v["wall"] for k, v in r.items()}
        cpu = r["kure-fn"]["cpu"] / r["replay"]["cpu"]
        best = r["kure-fn"]["min"] / r["replay"]["min"]
        self.kpt_rows.append((what, walls, cpu, best, runs))
        k = walls["kure-fn"]
        print(f"  {what:28} kure-fn {k:6.3f}s  replay {walls['replay']:6.3f}s "
              f"({k / walls['replay']:.2f}x, CPU {cpu:.2f}x)  cat {walls['cat']:6.3f}s "
              f"({k / walls['cat']:.2f}x)  python no-op {walls['python']:6.3f}s "
              f"({k / walls['python']:.2f}x)", flush=True)

    def _snapshot(self, pkg: Path) -> Path:
        snap = pkg.with_name(pkg.name + ".pristine")
        if snap.exists():
            shutil.rmtree(snap)
        shutil.copytree(pkg, snap)
        return snap

    def report(self) -> str:
        lines = [f"kure-fn benchmark, {datetime.date.today()}, {platform.node()}: "
                 f"{os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}, "
                 f"{'quick' if self.quick else 'full'} run; load average at start {self.load[0]}, "
                 f"at end {_load()} (other jobs on the machine inflate wall times)",
                 f"python start-up: {self.python_start[0] * 1000:.0f} ms "
                 f"(-S, no site: {self.python_start[1] * 1000:.0f} ms)", "",
                 "| workload | input | output | kure-fn wall | floor wall | ratio | kure-fn CPU "
                 "| floor CPU | CPU ratio | kure-fn peak RSS | floor peak RSS | runs |",
                 "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, i, o, kw, fw, ratio, kc, fc, km, fm, runs in self.rows:
            lines.append(f"| {name} | {_size(i)} | {_size(o)} | {kw:.3f} s | {fw:.3f} s | "
                         f"{ratio:.2f} | {kc:.3f} s | {fc:.3f} s | {kc / fc:.2f} | {km:.0f} MiB | "
                         f"{fm:.0f} MiB | {runs} |")
        firsts = {n: row for n, row in ((int(r[0].split()[0]), r) for r in self.rows
                                        if r[0].endswith("first"))}
        if 1000 in firsts and 10000 in firsts:
            lines.append("")
            lines.append(f"growth 10,000 / 1,000 bundles (first render): wall "
                         f"{firsts[10000][3] / firsts[1000][3]:.1f}, CPU "
                         f"{firsts[10000][6] / firsts[1000][6]:.1f}")
        if self.kpt_rows:
            lines += ["", "| kpt fn render | kure-fn | replay | no-op cat | no-op python | vs replay "
                          "| CPU vs replay | best vs best replay | vs cat | vs python | runs |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for what, w, cpu, best, runs in self.kpt_rows:
                k = w["kure-fn"]
                lines.append(f"| {what} | {k:.3f} s | {w['replay']:.3f} s | {w['cat']:.3f} s | "
                             f"{w['python']:.3f} s | {k / w['replay']:.2f} | {cpu:.2f} | {best:.2f} | "
                             f"{k / w['cat']:.2f} | {k / w['python']:.2f} | {runs} |")
        return "\n".join(lines) + "\n"


def _load() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer runs, no 10,000-bundle fleet")
    p.add_argument("--sizes", default=None, help="fleet sizes, comma-separated (default 100,1000,10000)")
    p.add_argument("--no-kpt", action="store_true", help="skip the kpt end-to-end comparison")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    a = p.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")] if a.sizes else \
        ([100, 1000] if a.quick else [100, 1000, 10000])
    work = Path(tempfile.mkdtemp(prefix="kure-fn-bench-"))
    try:
        b = Bench(a.quick, work, sizes)
        b.kpt_rows = []
        b.cold_start()
        b.fleets()
        if not a.no_kpt:
            b.kpt_end_to_end()
        print()
        print(b.report())
    finally:
        if a.keep:
            print(f"work directory: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
