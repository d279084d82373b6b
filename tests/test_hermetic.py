"""A crash never loses an item; the function needs no network, no writable
filesystem, no privileges, and never executes input content.

- crashes: a generator made to raise still returns every item byte for byte,
  exit 1, an error result and no traceback;
- an audit hook (PEP 578) watches the real entry point on every example and
  on hostile payloads: no socket, no process, no file opened for writing, no
  networking or code-loading module imported, no input text compiled;
- the container's conditions (`--user nobody --network none --read-only`)
  rebuilt with Linux namespaces: the output is byte-identical.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

from pathlib import Path

import pytest
import yaml

from fn import flux
from helpers import REPO, example_dirs, package_items, resource_list, run

MARKER = "kure-hostile-marker"

HOSTILE_ITEMS = f"""\
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: payload
    annotations:
      config.kubernetes.io/path: 'payload.yaml'
      internal.config.kubernetes.io/path: 'payload.yaml'
  data:
    python: !!python/object/apply:os.system ["echo {MARKER} > /tmp/{MARKER}"]
    pickle: !!python/object/new:subprocess.Popen [["touch", "/tmp/{MARKER}"]]
    name: !!python/name:os.system
    shell: "$(touch /tmp/{MARKER}) `touch /tmp/{MARKER}`"
    template: "{{{{ .Values.{MARKER} }}}} ${{{MARKER}}}"
    code: "__import__('os').system('touch /tmp/{MARKER}')"
    url: "http://{MARKER}.invalid/"
- apiVersion: fn.kure.dev/v1alpha1
  kind: Cluster
  metadata:
    name: hostile
    annotations:
      config.kubernetes.io/path: 'cluster.yaml'
      internal.config.kubernetes.io/path: 'cluster.yaml'
  spec:
    sources:
    - name: charts
      helm: {{url: "https://{MARKER}.invalid/charts"}}
    nodes:
    - name: apps
      bundles:
      - name: web
        postBuild:
          substitute: {{CMD: "$(touch /tmp/{MARKER})"}}
        applications:
        - name: payload
          resources:
            selector: {{names: [payload]}}
        - name: web
          helm:
            chart: web
            version: 1.0.0
            source: charts
            values:
              command: "__import__('os').system('{MARKER}')"
              hook: !!python/object/apply:os.system ["{MARKER}"]
"""


def inputs() -> dict[str, str]:
    cases = {p.name: resource_list(package_items(p)) for p in example_dirs()}
    cases["hostile"] = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" \
        + HOSTILE_ITEMS
    return cases


INPUTS = inputs()


# -- crashes ----------------------------------------------------------------------

def _items_text(out: str) -> str:
    return out.split("\nitems:\n", 1)[1].split("\nresults:\n", 1)[0].rstrip("\n")


@pytest.mark.parametrize("error", [RuntimeError("boom"), KeyError("boom"), RecursionError(),
                                   MemoryError(), ValueError("boom")],
                         ids=lambda e: type(e).__name__)
def test_a_crash_inside_the_function_returns_every_item(monkeypatch, capsys, error):
    def explode(self, *args, **kwargs):
        raise error
    monkeypatch.setattr(flux.Engine, "create_layout_with_resources", explode)
    text = INPUTS["platform"]
    rc, out = run(text)
    assert rc == 1
    assert "Traceback" not in capsys.readouterr().err
    assert _items_text(out) == _items_text(text)  # every input item, byte for byte
    doc = yaml.safe_load(out)
    [err] = [r for r in doc["results"] if r["severity"] == "error"]
    assert "internal error" in err["message"] or "nests too deeply" in err["message"]


CRASH_SCRIPT = """
import sys
from fn import flux
def explode(self, *args, **kwargs):
    raise RuntimeError("boom")
flux.Engine.create_layout_with_resources = explode
from fn.cli import main
sys.exit(main([]))
"""


def test_a_crash_through_the_entry_point_has_no_traceback():
    proc = subprocess.run([sys.executable, "-c", CRASH_SCRIPT], input=INPUTS["minimal"].encode(),
                          capture_output=True, timeout=60, cwd=REPO)
    assert proc.returncode == 1
    assert b"Traceback" not in proc.stderr
    assert b"internal error: RuntimeError: boom" in proc.stderr
    doc = yaml.safe_load(proc.stdout)
    assert len(doc["items"]) == len(yaml.safe_load(INPUTS["minimal"])["items"])


# -- audit: no network, no processes, no writes, no code from input ---------------------

AUDIT_SCRIPT = textwrap.dedent("""
    import json, os, sys
    MARKER = sys.argv[1]
    CALLS = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
             "os.fork", "os.forkpty", "pty.", "ctypes.", "urllib.", "http.", "ftplib.",
             "smtplib.", "webbrowser.", "shutil.", "os.remove", "os.rename", "os.mkdir",
             "os.chmod", "os.symlink", "pickle.", "marshal.dumps")
    MODULES = {"socket", "ssl", "subprocess", "urllib.request", "http.client", "ftplib",
               "smtplib", "pickle", "ctypes", "multiprocessing", "asyncio", "shutil"}
    WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
    seen = []
    def hook(event, args):
        if event.startswith(CALLS):
            seen.append(event)
        elif event == "open":
            path, mode, flags = args
            if (isinstance(mode, str) and any(c in mode for c in "wax+")) or (flags or 0) & WRITE:
                seen.append(f"open for writing: {path}")
        elif event in ("compile", "exec"):
            source = args[0]
            text = source.decode(errors="replace") if isinstance(source, bytes) else source
            consts = getattr(source, "co_consts", ())
            if (isinstance(text, str) and MARKER in text) or any(
                    isinstance(c, str) and MARKER in c for c in consts):
                seen.append(f"{event} of input content")
        elif event == "import" and args[0] in MODULES:
            seen.append(f"import {args[0]}")
    sys.addaudithook(hook)
    from fn.cli import main
    rc = main([])
    sys.stderr.write("AUDIT " + json.dumps(seen) + "\\n")
    sys.exit(rc)
""")


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_no_network_process_write_or_input_code(name, tmp_path):
    proc = subprocess.run([sys.executable, "-c", AUDIT_SCRIPT, MARKER],
                          input=INPUTS[name].encode(), capture_output=True, timeout=60,
                          cwd=tmp_path, env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"})
    assert proc.returncode == 0, proc.stderr.decode()
    audit = [line for line in proc.stderr.decode().splitlines() if line.startswith("AUDIT ")]
    assert audit and json.loads(audit[-1][6:]) == []
    assert list(tmp_path.iterdir()) == []
    assert not os.path.exists(f"/tmp/{MARKER}")


def test_input_tags_stay_data():
    rc, out = run(INPUTS["hostile"])
    assert rc == 0, out
    assert "!!python/object/apply:os.system" in out  # passed through as text, never built


# -- the container's conditions -----------------------------------------------------------

SANDBOX = ("mount --make-rprivate / && mount -o remount,ro,bind / && "
           "exec setpriv --reuid=65534 --regid=65534 --clear-groups --no-new-privs "
           "\"$0\" -m fn")


def _sandbox_available() -> None:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")):
        pytest.skip("needs root with unshare and setpriv to build the container's sandbox")
    probe = subprocess.run(["unshare", "-m", "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create mount and network namespaces: {probe.stderr.decode()}")


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_runs_as_nobody_offline_on_a_read_only_root(name):
    """`--user nobody --network none --read-only`, as kpt and kustomize run the
    image: the output is byte-identical to an ordinary run."""
    _sandbox_available()
    data = INPUTS[name].encode()
    env = {"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "HOME": "/nonexistent"}
    # nobody may not be able to read the checkout (a clone in a 0700 directory):
    # give it a world-readable copy of the package and PyYAML, as the image has
    import tempfile

    site = Path(tempfile.mkdtemp(prefix="kure-fn-nobody-", dir="/tmp"))
    try:
        site.chmod(0o755)
        skip = shutil.ignore_patterns("__pycache__")
        shutil.copytree(REPO / "fn", site / "fn", ignore=skip)
        shutil.copytree(Path(yaml.__file__).parent, site / "yaml", ignore=skip)
        for p in site.rglob("*"):
            p.chmod(0o755 if p.is_dir() else 0o644)
        proc = subprocess.run(["unshare", "-m", "-n", "sh", "-c", SANDBOX, sys.executable],
                              input=data, capture_output=True, timeout=60, cwd="/",
                              env={**env, "PYTHONPATH": str(site)})
    finally:
        shutil.rmtree(site, ignore_errors=True)
    assert proc.returncode == 0, proc.stderr.decode()
    ordinary = subprocess.run([sys.executable, "-m", "fn"], input=data, capture_output=True,
                              timeout=60, cwd=REPO, env=env)
    assert proc.stdout == ordinary.stdout


@pytest.mark.container
@pytest.mark.parametrize("name", ["hostile", "alias-bomb"])
def test_the_image_handles_hostile_input_locked_down(image, name):
    """The real image (conftest `image`) as kpt runs it, plus a read-only root:
    the hostile payload renders exactly as in-process; a bomb is refused."""
    from test_container import LOCKED_DOWN

    bomb = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + \
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: x}\n  data:\n" + \
        "    l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n" + "".join(
            f"    l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    stdin = INPUTS["hostile"] if name == "hostile" else bomb
    proc = image.podman("run", *LOCKED_DOWN, image.tag, input=stdin, check=False)
    assert "Traceback" not in proc.stderr
    if name == "hostile":
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == run(stdin)[1]
    else:
        assert proc.returncode == 1
        assert "an alias bomb?" in proc.stdout
