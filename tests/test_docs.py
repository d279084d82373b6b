"""Generated and user-facing text stays true: docs/reference.md is what the
model generates, the help text names every command, metadata.yaml matches."""

import re
import subprocess

import yaml

from fn import __version__
from fn.cli import IMAGE
from fn.model.config import CLUSTER
from fn.model.reference import _object_types, markdown
from helpers import BIN, REPO

REFERENCE = REPO / "docs" / "reference.md"


def kure_fn(*args):
    return subprocess.run([str(BIN / "kure-fn"), *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)


def test_committed_reference_is_generated_from_the_model():
    assert REFERENCE.read_text() == markdown(), \
        "docs/reference.md is stale: run `kure-fn docs > docs/reference.md`"


def test_reference_lists_every_field_of_every_object_type():
    text = REFERENCE.read_text()
    for obj in _object_types(CLUSTER):
        section = text.split(f"\n## {obj.title}\n", 1)[1].split("\n## ", 1)[0]
        for name in obj.fields:
            assert f"| `{name}` |" in section, f"{obj.title}.{name}"
    anchors = set(re.findall(r"\]\(#([a-z0-9-]+)\)", text))
    headings = {h.lower() for h in re.findall(r"^## (\S+)$", text, re.M)}
    assert anchors <= headings


def test_help_documents_every_command_and_route():
    proc = kure_fn("--help")
    assert proc.returncode == 0 and proc.stderr == ""
    for text in ("render CONFIG... -o DIR", "schema", "CONFIG_FILE", "kpt fn render",
                 "kpt fn eval", "kubectl kustomize --enable-alpha-plugins", "Exit status"):
        assert text in proc.stdout, text
    assert max(len(line) for line in proc.stdout.splitlines()) <= 80
    assert kure_fn("-h").stdout == proc.stdout


def test_version_and_unknown_arguments():
    assert kure_fn("--version").stdout == f"kure-fn {__version__}\n"
    proc = kure_fn("--bogus", "x")
    assert proc.returncode == 2 and "kure-fn --help" in proc.stderr


def test_metadata_yaml_describes_this_function():
    meta = yaml.safe_load((REPO / "metadata.yaml").read_text())
    assert meta["image"] == IMAGE
    assert {"mutator", "generator"} <= set(meta["tags"])
    assert meta["license"] == "Apache-2.0"
    for url in meta["examplePackageURLs"]:
        name = url.rstrip("/").rsplit("/", 1)[1]
        assert (REPO / "examples" / name / "Kptfile").exists(), url


def test_release_workflow_publishes_multi_arch_versioned_tags_only():
    wf = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["tags"] == ["v*.*.*"]
    steps = {s.get("id"): s for s in wf["jobs"]["image"]["steps"] if s.get("id")}
    meta, build = steps["meta"]["with"], steps["build"]["with"]
    assert meta["flavor"] == "latest=false"
    patterns = re.findall(r"pattern=([^,\s]+)", meta["tags"])
    assert patterns == ["v{{version}}", "v{{major}}.{{minor}}", "v{{major}}"]
    assert set(build["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert build["context"] == "." and build["push"] is True
    render = "\n".join(s.get("run", "") for s in wf["jobs"]["render"]["steps"])
    assert "@${{ needs.image.outputs.digest }}" in str(wf["jobs"]["render"])
    assert "render " in render and "sha256sum --check" in render
