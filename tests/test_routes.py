"""The routes that run kure-fn as a host process: kpt exec (render and
eval), directory mode, kustomize's legacy exec plugin (generator and
transformer, in plain `kubectl kustomize`) and standalone kustomize
`--enable-exec`. Each must render the reference items of every example.
The container routes are in test_container.py."""

import os
import re
import subprocess

import pytest

from helpers import BIN, REPO, need, single_cluster_examples
from routes import (DIRECTORY_MODE_EXTRAS, EXTRA_RESOURCES, applied, by_path, cluster_config,
                    copy_package, exec_env, files_under, identity, install_plugin, kpt,
                    kubectl_kustomize, kustomization, parse_stream, reference, top_dirs)

pytestmark = pytest.mark.e2e

EXAMPLES = single_cluster_examples()
ids = [p.name for p in EXAMPLES]


@pytest.mark.parametrize("pkg", EXAMPLES, ids=ids)
def test_kpt_render_exec_writes_the_reference_tree(pkg, tmp_path):
    need("kpt")
    ref = by_path(reference(pkg, moved=True))
    work = copy_package(pkg, tmp_path / pkg.name)
    kpt("fn", "render", "--allow-exec", ".", cwd=work, env=exec_env())
    assert files_under(work, top_dirs(ref)) == ref


@pytest.mark.parametrize("pkg", EXAMPLES, ids=ids)
def test_kpt_eval_exec_writes_the_reference_tree(pkg, tmp_path):
    need("kpt")
    ref = by_path(reference(pkg, moved=True))
    work = copy_package(pkg, tmp_path / pkg.name)
    kpt("fn", "eval", ".", "--exec", "kure-fn", cwd=work, env=exec_env())
    assert files_under(work, top_dirs(ref)) == ref


@pytest.mark.parametrize("pkg", EXAMPLES, ids=ids)
def test_directory_mode_writes_the_reference_tree(pkg, tmp_path):
    ref = by_path(reference(pkg, config_only=True))
    proc = subprocess.run([str(BIN / "kure-fn"), "render", str(pkg / "cluster.yaml"),
                           "-o", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert files_under(tmp_path, top_dirs(ref), skip=DIRECTORY_MODE_EXTRAS) == ref


@pytest.mark.parametrize("pkg", EXAMPLES, ids=ids)
def test_legacy_plugin_as_generator_in_kubectl_kustomize(pkg, tmp_path):
    need("kubectl")
    env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(install_plugin(tmp_path / "plugins"))}
    directory = kustomization(tmp_path / "k", cluster_config(pkg), "generator")
    out = kubectl_kustomize(directory, env)
    assert applied(out) == applied(reference(pkg))


@pytest.mark.parametrize("pkg", EXAMPLES, ids=ids)
def test_legacy_plugin_as_transformer_keeps_other_resources(pkg, tmp_path):
    need("kubectl")
    env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(install_plugin(tmp_path / "plugins"))}
    directory = kustomization(tmp_path / "k", cluster_config(pkg), "transformer",
                              extra=EXTRA_RESOURCES)
    out = kubectl_kustomize(directory, env)
    assert applied(out) == applied(reference(pkg) + parse_stream(EXTRA_RESOURCES))


def test_legacy_plugin_reports_a_bad_config_and_fails_the_build(tmp_path):
    need("kubectl")
    env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(install_plugin(tmp_path / "plugins"))}
    config = cluster_config(EXAMPLES[0])
    config["spec"]["nodes"][0]["bundles"][0]["interval"] = "1d"
    directory = kustomization(tmp_path / "k", config, "generator")
    proc = subprocess.run(["kubectl", "kustomize", "--enable-alpha-plugins", str(directory)],
                          env=env, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "spec.nodes[0].bundles[0].interval" in proc.stderr


@pytest.mark.parametrize("pkg", EXAMPLES[:1], ids=ids[:1])
@pytest.mark.parametrize("role", ["generator", "transformer"])
def test_standalone_kustomize_enable_exec(pkg, role, tmp_path):
    """kubectl kustomize has no --enable-exec (and skips exec functions
    silently); standalone kustomize >= v5 runs kure-fn as an exec function."""
    kustomize = need("kustomize")
    extra = EXTRA_RESOURCES if role == "transformer" else None
    directory = kustomization(tmp_path / "k", cluster_config(pkg), role,
                              function={"exec": {"path": str(BIN / "kure-fn")}}, extra=extra)
    proc = subprocess.run([kustomize, "build", "--enable-alpha-plugins", "--enable-exec",
                           str(directory)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    expected = reference(pkg) + (parse_stream(EXTRA_RESOURCES) if extra else [])
    assert applied(parse_stream(proc.stdout)) == applied(expected)


def test_routes_compare_more_than_nothing():
    """Guard for the comparisons above: the reference is a real tree."""
    ref = reference(EXAMPLES[0])
    assert len(ref) > 5 and len(applied(ref)) < len(ref)
    assert sorted(applied(ref), key=identity) == applied(ref)


def test_documented_plugin_install_works_in_kubectl_kustomize(tmp_path):
    """The install snippet of docs/running.md, run as written in a fresh HOME."""
    need("kubectl")
    text = (REPO / "docs" / "running.md").read_text()
    snippet = re.search(r"Install \(once per machine.*?```sh\n(.*?)```", text, re.S).group(1)
    env = {k: v for k, v in exec_env().items()
           if k not in ("KUSTOMIZE_PLUGIN_HOME", "XDG_CONFIG_HOME")}
    env["HOME"] = str(tmp_path / "home")
    subprocess.run(["sh", "-ec", snippet], env=env, check=True)
    directory = kustomization(tmp_path / "k", cluster_config(EXAMPLES[0]), "generator")
    assert applied(kubectl_kustomize(directory, env)) == applied(reference(EXAMPLES[0]))
