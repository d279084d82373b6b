"""End to end through the real kpt: every example, `fn render --allow-exec`
and `fn eval --exec`, each run twice; the second run changes nothing."""

from pathlib import Path

import pytest
import yaml

import kpt
from helpers import EXAMPLES, GOLDEN, example_dirs, generated, item_path, need

pytestmark = pytest.mark.e2e


def written_tree(repo: Path) -> dict[str, str]:
    return {p.relative_to(repo).as_posix(): p.read_text()
            for p in sorted(repo.rglob("*")) if p.is_file() and ".git" not in p.parts}


def golden_paths(pkg: Path) -> tuple[set[str], set[str]]:
    """(every item path of the golden output, paths of generated or moved items)."""
    doc = yaml.safe_load((GOLDEN / f"{pkg.name}.yaml").read_text())
    paths = {item_path(it) for it in doc["items"]}
    placed = {item_path(it) for it in generated(doc)}
    return paths, placed


def is_krm_file(path: str) -> bool:
    return path.endswith((".yaml", ".yml")) or path.endswith("Kptfile")


@pytest.fixture(autouse=True)
def _kpt():
    need("kpt")


@pytest.mark.parametrize("command", ["render", "eval"])
@pytest.mark.parametrize("pkg", example_dirs(), ids=lambda p: p.name)
def test_kpt_run_twice_is_clean(pkg, command, tmp_path):
    repo = kpt.make_repo(pkg, tmp_path)
    before = written_tree(repo)
    run = kpt.render if command == "render" else kpt.eval_exec
    run(repo)
    after = written_tree(repo)
    # exactly the files of the golden output are written (files whose items a
    # `resources` application moved are gone), and the package's other files
    # are untouched
    paths, placed = golden_paths(pkg)
    moved = {p for p in paths if p not in before} - placed
    assert set(after) == {p for p in before if p in paths or not is_krm_file(p)} | paths
    for path, text in before.items():
        if path in after and path not in placed | moved:
            assert after[path] == text, f"{path} changed"
    kpt.commit_all(repo)
    run(repo)
    assert kpt.status(repo) == "", "second run changed the tree"


def test_render_and_eval_write_the_same_tree(tmp_path):
    pkg = EXAMPLES / "platform"
    a = kpt.make_repo(pkg, tmp_path / "a")
    b = kpt.make_repo(pkg, tmp_path / "b")
    kpt.render(a)
    kpt.eval_exec(b)
    assert written_tree(a) == written_tree(b)


def test_removed_bundle_disappears_from_disk(tmp_path):
    repo = kpt.make_repo(EXAMPLES / "platform", tmp_path)
    kpt.render(repo)
    assert (repo / "clusters/production/infrastructure/monitoring").is_dir()
    config = repo / "cluster.yaml"
    doc = yaml.safe_load(config.read_text())
    infra = doc["spec"]["nodes"][0]
    infra["bundles"] = [b for b in infra["bundles"] if b["name"] != "monitoring"]
    config.write_text(yaml.safe_dump(doc, sort_keys=False))
    kpt.render(repo)
    # kpt deletes the files (it leaves empty directories behind, which git ignores)
    gone = repo / "clusters/production/infrastructure/monitoring"
    assert not [p for p in gone.rglob("*") if p.is_file()]
    ks = (repo / "clusters/production/flux-system/kustomization.yaml").read_text()
    assert "monitoring" not in ks
    assert not (repo / "clusters/production/flux-system/flux-system-helmrepository-"
                       "prometheus-community-github-io-helm-charts.yaml").exists()


def test_bad_config_fails_and_leaves_files_untouched(tmp_path):
    repo = kpt.make_repo(EXAMPLES / "platform", tmp_path)
    kpt.render(repo)
    kpt.commit_all(repo)
    config = repo / "cluster.yaml"
    config.write_text(config.read_text().replace("dependsOn: [cert-manager]\n      timeout",
                                                 "dependsOn: [cert-managr]\n      timeout"))
    kpt.commit_all(repo, "break it")
    proc = kpt.render(repo, check=False)
    assert proc.returncode != 0
    assert "spec.nodes[0].bundles[3].dependsOn[0]" in proc.stdout + proc.stderr
    assert kpt.status(repo) == ""
