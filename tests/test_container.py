"""The container image, built once per session from the real Dockerfile on a
locally made base (conftest `image`), run the way kpt and kustomize run it:
directly, through `KPT_FN_RUNTIME=podman kpt fn eval --image` / `kpt fn
render`, and through `kubectl kustomize --enable-alpha-plugins` with a
docker→podman shim, as generator and transformer. Outputs must equal the
exec route's (the in-process reference; test_routes.py ties that to kpt exec).
"""

import json
import subprocess

import pytest
import yaml

from helpers import BIN, EXAMPLES, need, package_items, resource_list, run, single_cluster_examples
from routes import (EXTRA_RESOURCES, annotations, applied, by_path, cluster_config,
                    copy_package, files_under, kpt, kubectl_kustomize, kustomization,
                    parse_stream, reference, top_dirs)

pytestmark = pytest.mark.container

PKGS = single_cluster_examples()
IDS = [p.name for p in PKGS]
# what kpt passes (krm-protocol.md §8.5), plus a read-only root with no tmpfs at all
LOCKED_DOWN = ("--rm", "-i", "--network", "none", "--user", "nobody",
               "--security-opt=no-new-privileges", "--pull", "never",
               "--read-only", "--read-only-tmpfs=false")


def python_in(image, code: str) -> str:
    proc = image.podman("run", "--rm", "--network", "none", "--pull", "never",
                        "--entrypoint", "/opt/venv/bin/python", image.tag, "-c", code)
    return proc.stdout.strip()


# -- the image itself ------------------------------------------------------------
def test_image_config_runs_kure_fn_as_nobody(image):
    config = image.podman.inspect(image.tag)["Config"]
    assert config["User"] == "65534:65534"
    assert config["Entrypoint"] == ["/opt/venv/bin/kure-fn"]
    assert "PYTHONDONTWRITEBYTECODE=1" in config["Env"]
    assert python_in(image, "import os; print(os.getuid(), os.getgid())") == "65534 65534"


def test_image_has_nobody_a_world_writable_tmp_and_no_pip(image):
    facts = json.loads(python_in(image, (
        "import json, os, pwd, stat, importlib.util as u;"
        "print(json.dumps([pwd.getpwnam('nobody').pw_uid, oct(stat.S_IMODE(os.stat('/tmp').st_mode)),"
        " u.find_spec('pip') is None, u.find_spec('setuptools') is None]))")))
    assert facts == [65534, "0o1777", True, True]


@pytest.mark.parametrize("pkg", PKGS, ids=IDS)
def test_image_output_equals_the_exec_route_offline_read_only_as_nobody(image, pkg):
    stdin = resource_list(package_items(pkg))
    proc = image.podman("run", *LOCKED_DOWN, image.tag, input=stdin)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == run(stdin)[1]


def test_image_reports_a_bad_config_and_returns_every_item(image):
    items = package_items(EXAMPLES / "minimal")
    config = next(it for it in items if it["kind"] == "Cluster")
    config["spec"]["nodes"][0]["bundles"][0]["interval"] = "1d"
    proc = image.podman("run", *LOCKED_DOWN, image.tag, input=resource_list(items), check=False)
    assert proc.returncode == 1
    out = yaml.safe_load(proc.stdout)
    assert out["items"] == items
    assert any(r["severity"] == "error" and r["field"]["path"] == "spec.nodes[0].bundles[0].interval"
               for r in out["results"])


def test_kpt_fn_doc_shows_the_help(image):
    need("kpt")
    proc = subprocess.run(["kpt", "fn", "doc", "--image", image.tag],
                          env=image.podman.env_with(KPT_FN_RUNTIME="podman"),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("kure-fn: ") and "fn.kure.dev/v1alpha1" in proc.stdout


# -- kpt -----------------------------------------------------------------------------
@pytest.mark.parametrize("pkg", PKGS, ids=IDS)
def test_kpt_eval_image_writes_the_reference_tree(image, pkg, tmp_path):
    need("kpt")
    ref = by_path(reference(pkg, moved=True))
    work = copy_package(pkg, tmp_path / pkg.name)
    kpt("fn", "eval", ".", "--image", image.tag, "--image-pull-policy", "never",
        cwd=work, env=image.podman.env_with(KPT_FN_RUNTIME="podman"))
    assert files_under(work, top_dirs(ref)) == ref


@pytest.mark.parametrize("pkg", PKGS, ids=IDS)
def test_kpt_render_image_pipeline_writes_the_reference_tree(image, pkg, tmp_path):
    need("kpt")
    ref = by_path(reference(pkg, moved=True))
    work = copy_package(pkg, tmp_path / pkg.name, image=image.tag)
    kpt("fn", "render", ".", "--image-pull-policy", "never",
        cwd=work, env=image.podman.env_with(KPT_FN_RUNTIME="podman"))
    assert files_under(work, top_dirs(ref)) == ref
    # a second render changes nothing
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    kpt("fn", "render", ".", "--image-pull-policy", "never",
        cwd=work, env=image.podman.env_with(KPT_FN_RUNTIME="podman"))
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before


# -- kustomize (KRM container route) ---------------------------------------------------
@pytest.mark.parametrize("pkg", PKGS, ids=IDS)
def test_kustomize_container_generator_builds_the_reference_objects(image, pkg, tmp_path):
    need("kubectl")
    capture = tmp_path / "run"
    directory = kustomization(tmp_path / "k", cluster_config(pkg), "generator",
                              function={"container": {"image": image.tag}})
    out = kubectl_kustomize(directory, image.podman.env_with(KURE_FN_CAPTURE=str(capture)))
    assert applied(out) == applied(reference(pkg))
    # a generator's input is only a copy of its own config (krm-protocol.md §7.4)
    stdin = yaml.safe_load(capture.with_suffix(".in").read_text())
    assert [it["kind"] for it in stdin["items"]] == ["Cluster"]


@pytest.mark.parametrize("pkg", PKGS, ids=IDS)
def test_kustomize_container_transformer_passes_every_resource_through(image, pkg, tmp_path):
    need("kubectl")
    capture = tmp_path / "run"
    directory = kustomization(tmp_path / "k", cluster_config(pkg), "transformer",
                              function={"container": {"image": image.tag}}, extra=EXTRA_RESOURCES)
    out = kubectl_kustomize(directory, image.podman.env_with(KURE_FN_CAPTURE=str(capture)))
    assert applied(out) == applied(reference(pkg) + parse_stream(EXTRA_RESOURCES))
    # what kustomize handed over comes back byte-for-byte as data, its
    # internal annotations (kustomize.config.k8s.io/id, ids, indexes) included
    sent = yaml.safe_load(capture.with_suffix(".in").read_text())["items"]
    returned = yaml.safe_load(capture.with_suffix(".out").read_text())["items"]
    assert any("kustomize.config.k8s.io/id" in annotations(it) for it in sent)
    for item in sent:
        assert item in returned, item["metadata"]["name"]


def test_image_renders_a_repository_into_a_mounted_directory(image, tmp_path):
    """Directory mode in the image, as the release workflow's render job runs it."""
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)  # the image runs as nobody
    fleet = (EXAMPLES / "fleet").resolve()  # a repository with several clusters
    configs = sorted(p.relative_to(fleet).as_posix() for p in fleet.rglob("*.yaml"))
    image.podman("run", *LOCKED_DOWN, "-v", f"{fleet}:/fleet:ro", "-v", f"{out}:/out",
                 image.tag, "render", *(f"/fleet/{c}" for c in configs), "-o", "/out")
    host = tmp_path / "host"
    proc = subprocess.run([str(BIN / "kure-fn"), "render", *(str(fleet / c) for c in configs),
                           "-o", str(host)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    files = {p.relative_to(host): p.read_bytes() for p in host.rglob("*") if p.is_file()}
    assert files and {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == files


def test_image_size_is_reported(image, record_property):
    size = image.podman.size(image.tag)
    base = image.podman.size(image.base)
    record_property("image_bytes", size)
    image.timings["size"] = size
    image.timings["base_size"] = base
    assert size > base  # the image is the base plus the installed package


def test_the_container_route_needs_no_environment(image):
    """kpt passes no env; kustomize passes LOG_TO_STDERR and STRUCTURED_RESULTS."""
    stdin = resource_list(package_items(EXAMPLES / "minimal"))
    plain = image.podman("run", *LOCKED_DOWN, image.tag, input=stdin).stdout
    kust = image.podman("run", *LOCKED_DOWN, "-e", "LOG_TO_STDERR=true",
                        "-e", "STRUCTURED_RESULTS=true", image.tag, input=stdin).stdout
    assert plain == kust == run(stdin)[1]

