"""Fidelity through real kpt: files kure-fn does not own stay byte-identical.

kpt re-serialises every file it writes, so the baseline is what kpt writes
with a no-op function (`cat`) on the same package; anything kure-fn changes
beyond that is a kure-fn bug. The package tests/fidelity/pkg holds tricky
YAML; `kpt-normalises.yaml` and `crlf.yaml` hold exactly the constructs kpt
itself rewrites (docs/guarantees.md lists them), every other file must come
back from kpt untouched byte for byte.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from helpers import BIN, REPO, need

pytestmark = pytest.mark.e2e

PKG = REPO / "tests" / "fidelity" / "pkg"
KPT_REWRITES = {"kpt-normalises.yaml", "crlf.yaml"}
# web.yaml's Deployment is placed by a `resources` selector: it moves, unchanged
MOVED = {"web.yaml": "clusters/fidelity/apps/web/web/web-deployment-web.yaml"}
ROUTES = {
    "render": ["fn", "render", "--allow-exec", "."],
    "eval": ["fn", "eval", "--exec", "kure-fn", "."],
}


def _env() -> dict:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def _package(tmp_path: Path, name: str) -> Path:
    need("git")
    repo = tmp_path / name
    shutil.copytree(PKG, repo)
    _git(repo, "init", "-q", ".")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base")
    return repo


def _kpt(repo: Path, *args: str) -> None:
    proc = subprocess.run([need("kpt"), *args], cwd=repo, env=_env(), capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _noop(tmp_path: Path) -> Path:
    script = tmp_path / "noop.sh"
    script.write_text("#!/bin/sh\nexec cat\n")
    script.chmod(0o755)
    return script


def _changed(repo: Path) -> set[str]:
    out = _git(repo, "status", "--porcelain", "--untracked-files=all")
    return {line[3:] for line in out.splitlines()}


def _files(repo: Path) -> dict[str, bytes]:
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.is_file() and ".git" not in p.relative_to(repo).parts}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> dict[str, bytes]:
    """The package as kpt writes it back through a no-op function."""
    tmp = tmp_path_factory.mktemp("noop")
    repo = _package(tmp, "pkg")
    _kpt(repo, "fn", "eval", "--exec", str(_noop(tmp)), ".")
    assert _changed(repo) == KPT_REWRITES, (
        "kpt's own rewriting changed: update KPT_REWRITES and docs/guarantees.md\n"
        + _git(repo, "diff"))
    return _files(repo)


def test_kpt_rewrites_only_the_documented_constructs(baseline):
    # the fixture asserts it; here: what kpt does to them is what the docs say
    text = baseline["kpt-normalises.yaml"].decode()
    assert '"\\U0001F680"' in text  # non-BMP characters escaped
    assert 'folded: "folded text continues here\\n"' in text  # folded scalars re-styled
    assert "!!merge <<: *base" in text  # merge keys tagged
    assert "kpt-normalises # several" in text  # comment spacing normalised
    assert "flow_url: {url: 'https://example.com/x'}" in text  # a ':' in flow style quoted
    assert b"\r\n" not in baseline["crlf.yaml"]  # CRLF -> LF


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_unowned_files_come_back_as_kpt_writes_them(tmp_path, baseline, route):
    repo = _package(tmp_path, "pkg")
    _kpt(repo, *ROUTES[route])
    after = _files(repo)
    for name, content in baseline.items():
        if name in MOVED:
            assert name not in after, f"{name}: its only item was placed elsewhere"
            assert after[MOVED[name]] == content, f"{name}: the moved item's text changed"
        else:
            assert after.get(name) == content, f"{name} differs from kpt's no-op output"
    for name in set(after) - set(baseline):
        assert name.startswith("clusters/fidelity/"), name
        if name not in MOVED.values():
            for doc in yaml.safe_load_all(after[name]):
                assert doc["metadata"]["annotations"]["fn.kure.dev/cluster"] == "fidelity", name


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_second_run_changes_nothing(tmp_path, route):
    repo = _package(tmp_path, "pkg")
    _kpt(repo, *ROUTES[route])
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "run 1")
    _kpt(repo, *ROUTES[route])
    assert _changed(repo) == set(), _git(repo, "diff")


def test_render_and_eval_write_the_same_tree(tmp_path):
    trees = []
    for route in sorted(ROUTES):
        repo = _package(tmp_path, route)
        _kpt(repo, *ROUTES[route])
        trees.append(_files(repo / "clusters"))
    assert trees[0] == trees[1]


def test_generated_manifests_keep_string_values(tmp_path):
    """Strings a YAML 1.1 reader would take for booleans, dates or numbers stay
    strings in the generated files (read back here with PyYAML, a 1.1 reader)."""
    repo = _package(tmp_path, "pkg")
    _kpt(repo, *ROUTES["render"])
    cm = yaml.safe_load((repo / "clusters/fidelity/apps/web/settings/"
                         "web-configmap-settings.yaml").read_text())
    assert cm["data"] == {
        "yes": "yes", "no": "no", "on": "on", "y": "y", "date": "2024-01-01",
        "octal": "0755", "big": "123456789012345678901234567890",
        "unicode": "grüße ✓ 日本語",
        "script": '#!/bin/sh\necho "hello: world"\n  indented line\n'}
