"""Directory mode extras: README.md and checksums.txt per cluster, stale-file
pruning through the previous checksums.txt, failure without writing, and an
output directory it cannot write (one line per problem, never a traceback)."""

import copy
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from fn.cli import main
from fn import load_cluster as build
from helpers import BIN, EXAMPLES, single_cluster_examples

EXAMPLE_IDS = [p.name for p in single_cluster_examples()]


def render(tmp_path, *configs) -> int:
    return main(["render", *map(str, configs), "-o", str(tmp_path)])


def cluster_of(pkg):
    doc = next(d for d in yaml.safe_load_all((pkg / "cluster.yaml").read_text())
               if d and d.get("kind") == "Cluster")
    return build(doc)


def cluster_dir(root, cluster):
    return root / cluster.layout.root / cluster.name


@pytest.mark.parametrize("pkg", single_cluster_examples(), ids=EXAMPLE_IDS)
def test_checksums_list_every_file_of_the_cluster_directory(pkg, tmp_path):
    assert render(tmp_path, pkg / "cluster.yaml") == 0
    base = cluster_dir(tmp_path, cluster_of(pkg))
    lines = (base / "checksums.txt").read_text().splitlines()
    listed = {}
    for line in lines:
        m = re.fullmatch(r"([0-9a-f]{64})  (\S+)", line)
        assert m, f"not '<sha256>  <path>': {line!r}"
        listed[m.group(2)] = m.group(1)
    assert [line.split("  ")[1] for line in lines] == sorted(listed)
    on_disk = {p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"checksums.txt"}
    assert "README.md" in listed
    for rel, digest in listed.items():
        assert hashlib.sha256((base / rel).read_bytes()).hexdigest() == digest, rel
    if shutil.which("sha256sum"):
        proc = subprocess.run(["sha256sum", "--check", "--strict", "--quiet", "checksums.txt"],
                              cwd=base, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("pkg", single_cluster_examples(), ids=EXAMPLE_IDS)
def test_readme_describes_bundles_sources_and_the_dependency_graph(pkg, tmp_path):
    assert render(tmp_path, pkg / "cluster.yaml") == 0
    cluster = cluster_of(pkg)
    text = (cluster_dir(tmp_path, cluster) / "README.md").read_text()
    assert text.startswith(f"# Cluster `{cluster.name}`\n")
    for bundle in cluster.bundles():
        assert re.search(rf"^\| `{re.escape(bundle.name)}` \|", text, re.M), bundle.name
        for app in bundle.applications:
            assert f"`{app.name}` ({app.type})" in text
    # the Mermaid graph has one box per bundle (and per <bundle>-pre / -post) and
    # exactly the dependsOn edges of the Flux Kustomizations written
    graph = re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)
    labels = dict(re.findall(r'^\s*(b\d+(?:pre|post)?)\["([^"]+)"\]$', graph, re.M))
    assert sorted(labels.values()) == sorted(
        [b.name for b in cluster.bundles()] + [b.stage_name(s) for b in cluster.bundles() for s in b.stages])
    edges = {(labels[a], labels[b]) for a, b in
             re.findall(r"^\s*(b\d+(?:pre|post)?) --> (b\d+(?:pre|post)?)$", graph, re.M)}
    written = [obj for f in cluster_dir(tmp_path, cluster).rglob("*.yaml")
               for obj in yaml.safe_load_all(f.read_text()) if obj and obj["kind"] == "Kustomization"
               and obj["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/")
               and obj["metadata"]["name"] in labels.values()]
    if cluster.gitops == "flux":
        # dependsOn outside the config (docs/config.md) is no edge: it is listed under "Must exist"
        mine = {(ks["metadata"]["name"], ks["metadata"]["namespace"]) for ks in written}
        deps = [(d, ks) for ks in written for d in ks["spec"].get("dependsOn", [])]
        assert edges == {(d["name"], ks["metadata"]["name"]) for d, ks in deps
                         if (d["name"], d["namespace"]) in mine}
        for d, ks in deps:
            if (d["name"], d["namespace"]) not in mine:
                assert f"| Kustomization | `{d['name']}` | `{d['namespace']}` | bundle `{ks['metadata']['name']}` |" \
                    in text
    else:
        assert edges == {(dep, b.name) for b in cluster.bundles() for dep in b.depends_on}
    # every generated source object has a row
    for f in (cluster_dir(tmp_path, cluster) / "flux-system").glob("*.yaml"):
        for obj in yaml.safe_load_all(f.read_text()):
            if obj and obj["kind"] in ("GitRepository", "OCIRepository", "HelmRepository", "Bucket"):
                assert f"| `{obj['metadata']['name']}` | {obj['kind']} |" in text


def test_render_is_byte_stable(tmp_path):
    pkg = EXAMPLES / "platform"
    assert render(tmp_path / "a", pkg / "cluster.yaml") == 0
    assert render(tmp_path / "b", pkg / "cluster.yaml") == 0
    assert render(tmp_path / "b", pkg / "cluster.yaml") == 0
    a = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    b = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert a == b


def test_a_removed_bundle_disappears_and_foreign_files_stay(tmp_path, capsys):
    pkg = EXAMPLES / "platform"
    doc = next(d for d in yaml.safe_load_all((pkg / "cluster.yaml").read_text()) if d)
    assert render(tmp_path / "out", pkg / "cluster.yaml") == 0
    base = tmp_path / "out" / "clusters" / "production"
    (base / "NOTES.md").write_text("kept by hand\n")
    (base / "infrastructure" / "monitoring" / "extra.yaml").write_text("kind: Hand\n")
    edited = base / "infrastructure" / "ingress-nginx" / "kustomization.yaml"
    edited.write_text(edited.read_text() + "# edited by hand\n")

    smaller = copy.deepcopy(doc)
    bundles = smaller["spec"]["nodes"][0]["bundles"]
    smaller["spec"]["nodes"][0]["bundles"] = [b for b in bundles
                                              if b["name"] not in ("monitoring", "ingress-nginx")]
    smaller["spec"]["nodes"][1]["bundles"][0]["dependsOn"] = ["cert-manager-issuers"]
    config = tmp_path / "cluster.yaml"
    config.write_text(yaml.safe_dump(smaller))
    capsys.readouterr()
    assert render(tmp_path / "out", config) == 0
    captured = capsys.readouterr()

    assert not (base / "flux-system" / "flux-system-kustomization-monitoring.yaml").exists()
    assert not (base / "infrastructure" / "monitoring" / "kube-prometheus-stack").exists()
    assert (base / "infrastructure" / "monitoring" / "extra.yaml").exists()  # not ours
    assert (base / "NOTES.md").read_text() == "kept by hand\n"
    assert edited.exists() and "ingress-nginx/kustomization.yaml is no longer generated" in captured.err
    assert "removed" in captured.out
    listed = (base / "checksums.txt").read_text()
    assert "monitoring" not in listed and "NOTES.md" not in listed


def test_a_hostile_checksums_file_cannot_delete_outside_the_cluster(tmp_path):
    pkg = EXAMPLES / "minimal"
    base = tmp_path / "out" / "clusters" / "dev"
    base.mkdir(parents=True)
    victim = tmp_path / "out" / "victim.txt"
    victim.write_text("x")
    digest = hashlib.sha256(b"x").hexdigest()
    (base / "checksums.txt").write_text(f"{digest}  ../../victim.txt\n{digest}  {victim}\n")
    assert render(tmp_path / "out", pkg / "cluster.yaml") == 0
    assert victim.exists()


def test_a_bad_config_writes_nothing(tmp_path, capsys):
    config = tmp_path / "cluster.yaml"
    config.write_text("apiVersion: fn.kure.dev/v1alpha1\nkind: Cluster\nmetadata: {name: x}\n"
                      "spec: {nodes: [{name: a, bundles: [{name: b, interval: 1d}]}]}\n")
    assert render(tmp_path / "out", config) == 1
    assert "spec.nodes[0].bundles[0].interval" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


# -- an output directory kure-fn cannot write: one line per problem, exit 1,
# no traceback, and nothing written or removed.

MINIMAL = EXAMPLES / "minimal" / "cluster.yaml"


def render_cli(out, *configs, user=()):
    """`kure-fn render CONFIG... -o OUT` as a process (optionally via setpriv)."""
    proc = subprocess.run([*user, str(BIN / "kure-fn"), "render", *map(str, configs or [MINIMAL]),
                           "-o", str(out)], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert all(line.startswith("kure-fn: ") for line in proc.stderr.splitlines()), proc.stderr
    return proc


def snapshot(root):
    return {p.relative_to(root).as_posix(): (p.is_symlink(), p.is_file() and p.read_bytes())
            for p in root.rglob("*")}


def test_output_under_a_regular_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "out"):
        proc = render_cli(out)
        assert proc.returncode == 1 and proc.stdout == ""
        assert proc.stderr == (f"kure-fn: {tmp_path / 'file'} is a file, where kure-fn needs a "
                               "directory: move it away or choose another -o directory\n")
    assert snapshot(tmp_path) == {"file": (False, b"x")}


def test_every_file_in_the_way_is_reported_at_once_and_nothing_is_written(tmp_path):
    out = tmp_path / "out"
    (out / "clusters" / "dev" / "README.md").mkdir(parents=True)  # a directory where a file goes
    (out / "clusters" / "dev" / "flux-system").write_text("x")     # a file where a directory goes
    before = snapshot(tmp_path)
    proc = render_cli(out)
    assert proc.returncode == 1
    base = out / "clusters" / "dev"
    assert proc.stderr.splitlines() == [
        f"kure-fn: {base / 'flux-system'} is a file, where kure-fn needs a directory: "
        "move it away or choose another -o directory",
        f"kure-fn: {base / 'README.md'} is a directory, where kure-fn writes a file: move it away"]
    assert snapshot(tmp_path) == before


def test_a_name_too_long_for_the_file_system_is_refused(tmp_path):
    out = tmp_path / ("a" * 300)
    proc = render_cli(out)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"kure-fn: {out}: file name too long for the file system "
                                  "(a name of 300 bytes")
    assert len(proc.stderr.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_directory_this_user_cannot_write_is_refused(tmp_path):
    """As the image without --user: the process is not the directory's owner."""
    if os.geteuid() != 0:
        user, uid = (), os.geteuid()  # a read-only directory stops us
    elif shutil.which("setpriv"):
        user, uid = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), 65534
    else:
        pytest.skip("running as root without setpriv: root writes a read-only directory")
    work = Path(tempfile.mkdtemp(prefix="kure-fn-perm-"))  # /tmp, searchable by nobody
    try:
        work.chmod(0o755)
        config = work / "cluster.yaml"
        shutil.copy(MINIMAL, config)
        config.chmod(0o644)
        out = work / "out"
        out.mkdir(mode=0o555)
        out.chmod(0o555)
        if subprocess.run([*user, str(BIN / "kure-fn"), "--version"],
                          capture_output=True).returncode != 0:
            pytest.skip("user nobody cannot run this checkout's venv")
        proc = render_cli(out, config, user=user)
        assert proc.returncode == 1
        assert proc.stderr == (f"kure-fn: {out}: permission denied: make it writable for user "
                               f"{uid}, or choose another -o directory (with the image, run it "
                               "as the owner: --user \"$(id -u):$(id -g)\")\n")
        assert list(out.iterdir()) == []
    finally:
        out.chmod(0o755)
        shutil.rmtree(work)


def test_a_read_only_file_system_is_refused(tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare for a private read-only mount")
    ro = tmp_path / "ro"
    ro.mkdir()
    script = (f'mount -t tmpfs -o ro none "{ro}" || exit 77; '
              f'exec "{BIN / "kure-fn"}" render "{MINIMAL}" -o "{ro}/out"')
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120)
    if proc.returncode == 77:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr == f"kure-fn: {ro} is on a read-only file system: choose another -o directory\n"


def test_a_failed_write_says_the_tree_is_incomplete_and_a_rerun_repairs_it(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full to make a write fail")
    out = tmp_path / "out"
    assert render_cli(out).returncode == 0
    base = out / "clusters" / "dev"
    recorded = (base / "checksums.txt").read_bytes()
    (base / "README.md").unlink()
    (base / "README.md").symlink_to("/dev/full")  # every write there: no space left on device
    proc = render_cli(out)
    assert proc.returncode == 1
    assert proc.stderr == (f"kure-fn: {base / 'README.md'}: no space left on device: free some "
                           f"space; the tree under {base} is incomplete: fix that and run "
                           "kure-fn render again\n")
    assert (base / "checksums.txt").read_bytes() == recorded  # written last: still the record
    (base / "README.md").unlink()
    assert render_cli(out).returncode == 0
    assert (base / "checksums.txt").read_bytes() == recorded
    proc = subprocess.run(["sha256sum", "--check", "--quiet", "checksums.txt"], cwd=base,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_an_unreadable_config_is_one_line(tmp_path):
    proc = render_cli(tmp_path / "out", tmp_path / "missing.yaml", tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"kure-fn: {tmp_path / 'missing.yaml'}: cannot read it: No such file or directory",
        f"kure-fn: {tmp_path}: cannot read it: Is a directory"]
