"""Directory mode extras: README.md and checksums.txt per cluster, stale-file
pruning through the previous checksums.txt, and failure without writing."""

import copy
import hashlib
import re
import shutil
import subprocess

import pytest
import yaml

from fn.cli import main
from fn import load_cluster as build
from helpers import EXAMPLES, single_cluster_examples

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
    # the Mermaid graph has one box per bundle and exactly the dependsOn edges
    graph = re.search(r"```mermaid\n(.*?)```", text, re.S).group(1)
    labels = dict(re.findall(r'^\s*(b\d+)\["([^"]+)"\]$', graph, re.M))
    assert sorted(labels.values()) == sorted(b.name for b in cluster.bundles())
    edges = {(labels[a], labels[b]) for a, b in re.findall(r"^\s*(b\d+) --> (b\d+)$", graph, re.M)}
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
