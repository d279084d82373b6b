"""Rootful podman with a private configuration, a base image made locally
with mmdebstrap (no registry), and the kure-fn image built from the real
Dockerfile. See ../shared/reference/container.md (§4 config, §5 base, §6 build).

Nothing outside the work directory is configured: every podman call, and
every kpt or kubectl call that runs podman, gets `Podman.env`.
"""

from __future__ import annotations

import hashlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
from pathlib import Path

SUITE = "bookworm"  # Python 3.11, like the default python:3.11-slim-bookworm base
DEFAULT_MIRROR = "http://deb.debian.org/debian"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"  # the build's pip trusts the host's proxy CA

# A "distroless"-style base: Debian's Python and its libraries extracted
# without maintainer scripts (no apt, no perl), plus what kpt and kustomize
# need: a `nobody` user and a world-writable /tmp (container.md §7). dash is
# there for the Dockerfile's RUN; python3.11-venv for the build stage.
BASE_PACKAGES = "python3-minimal,libpython3.11-stdlib,python3.11-venv,dash,netbase"
BASE_HOOKS = (
    'printf "root:x:0:0:root:/root:/usr/sbin/nologin\\n'
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\\n" >"$1/etc/passwd"; '
    'printf "root:x:0:\\nnogroup:x:65534:\\n" >"$1/etc/group"; chmod 1777 "$1/tmp"',
    # what Debian's postinst would do: byte-compile the standard library
    'chroot "$1" /usr/bin/python3 -m compileall -q -j0 /usr/lib/python3.11',
)
DPKG_EXCLUDES = ("path-exclude=/usr/share/man/*", "path-exclude=/usr/share/doc/*",
                 "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/locale/*",
                 "path-exclude=/usr/share/info/*")

DOCKER_SHIM = """#!/bin/sh
# kustomize runs `docker`; this one is podman. With KURE_FN_CAPTURE set, the
# stdin and stdout of `docker run` are also kept in $KURE_FN_CAPTURE.{in,out}.
if [ -n "$KURE_FN_CAPTURE" ] && [ "$1" = run ]; then
  cat >"$KURE_FN_CAPTURE.in"
  podman "$@" <"$KURE_FN_CAPTURE.in" >"$KURE_FN_CAPTURE.out"
  rc=$?
  cat "$KURE_FN_CAPTURE.out"
  exit $rc
fi
exec podman "$@"
"""


def unavailable() -> str | None:
    """Why the container tests cannot run here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "container tests need root (rootful podman, mmdebstrap)"
    for tool in ("podman", "runc", "mmdebstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs podman, runc and mmdebstrap)"
    return None


def debian_mirror() -> str:
    if os.environ.get("KURE_FN_DEBIAN_MIRROR"):
        return os.environ["KURE_FN_DEBIAN_MIRROR"]
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        m = re.search(r"^URIs:\s*(\S+)", sources.read_text(), re.M)
        if m:
            return m.group(1)
    return DEFAULT_MIRROR


def _ulimits() -> tuple[int, int]:
    """nofile = the hard limit; nproc = min(pid_max, hard limit) (container.md §3)."""
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    try:
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    except OSError:
        pid_max = 32768
    if nproc == resource.RLIM_INFINITY or nproc > pid_max:
        nproc = pid_max
    if nofile == resource.RLIM_INFINITY:
        nofile = 1048576
    return nofile, nproc


class Podman:
    """podman with private storage, runtime and registries config under `work`."""

    def __init__(self, work: Path | None = None):
        self.work = Path(work or tempfile.mkdtemp(prefix="kure-fn-podman-"))
        conf = self.work / "conf"
        for d in ("conf", "storage", "run", "tmp", "shim"):
            (self.work / d).mkdir(parents=True, exist_ok=True)
        (conf / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{self.work}/storage"\n'
            f'runroot = "{self.work}/run"\n')
        nofile, nproc = _ulimits()
        (conf / "containers.conf").write_text(
            '[containers]\nnetns = "host"\n'
            f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            '[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
            f'events_logfile_path = "{self.work}/run/events.log"\n')
        (conf / "registries.conf").write_text(
            'unqualified-search-registries = []\nshort-name-mode = "disabled"\n')
        shim = self.work / "shim" / "docker"
        shim.write_text(DOCKER_SHIM)
        shim.chmod(0o755)
        self.shim_dir = shim.parent
        self.env = {**os.environ,
                    "CONTAINERS_STORAGE_CONF": str(conf / "storage.conf"),
                    "CONTAINERS_CONF": str(conf / "containers.conf"),
                    "CONTAINERS_REGISTRIES_CONF": str(conf / "registries.conf"),
                    "TMPDIR": str(self.work / "tmp")}

    def __call__(self, *args: str, input: bytes | str | None = None, check: bool = True,
                 timeout: int = 600) -> subprocess.CompletedProcess:
        text = not isinstance(input, bytes)
        proc = subprocess.run(["podman", *args], input=input, capture_output=True, text=text,
                              env=self.env, timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"podman {' '.join(args)} failed ({proc.returncode}):\n"
                               f"{proc.stdout}\n{proc.stderr}")
        return proc

    def env_with(self, **extra: str) -> dict:
        """The environment for kpt/kubectl: private config and the docker shim on PATH."""
        return {**self.env, "PATH": f"{self.shim_dir}{os.pathsep}{self.env.get('PATH', '')}",
                **extra}

    # -- images -------------------------------------------------------------
    def build_base(self, tag: str, cache: Path | None = None) -> None:
        """Import a mmdebstrap-made Debian base; `cache` keeps the tarball between runs."""
        argv = ["mmdebstrap", "--quiet", "--variant=extract", "--format=tar", f"--include={BASE_PACKAGES}",
                *(f"--dpkgopt={o}" for o in DPKG_EXCLUDES), '--aptopt=Acquire::Languages "none"',
                *(f"--extract-hook={h}" for h in BASE_HOOKS), SUITE]
        key = hashlib.sha256("\0".join(argv).encode()).hexdigest()[:16]
        tar = (cache or self.work) / f"base-{SUITE}-{key}.tar"
        if not tar.exists():
            partial = tar.with_name(tar.name + ".partial")
            proc = subprocess.run([*argv, str(partial), debian_mirror()], capture_output=True,
                                  text=True, env=self.env, timeout=900)
            if proc.returncode != 0:
                raise RuntimeError(f"mmdebstrap failed:\n{proc.stdout}\n{proc.stderr}")
            partial.rename(tar)
        self("import", "-q", "--change", "ENV LANG=C.UTF-8", "--change", 'CMD ["python3"]',
             str(tar), tag)

    def build(self, context: Path, tag: str, base: str) -> None:
        args = ["build", "-q", "--pull=never", "--network", "host", "--build-arg", f"BASE={base}",
                "-t", tag]
        if Path(CA_BUNDLE).exists():
            args += ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"]
        self(*args, str(context), timeout=900)

    def inspect(self, tag: str) -> dict:
        import json
        return json.loads(self("image", "inspect", tag).stdout)[0]

    def size(self, tag: str) -> int:
        return int(self.inspect(tag)["Size"])

    # -- cleanup ------------------------------------------------------------
    def cleanup(self) -> None:
        """Remove what this instance created: its images, then its work directory."""
        self("rm", "-af", check=False)
        self("rmi", "-af", check=False)
        shutil.rmtree(self.work, ignore_errors=True)
