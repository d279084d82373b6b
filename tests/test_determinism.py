"""Determinism and idempotency for every example (and the fidelity package).

- the same input gives byte-identical output across processes and Python
  hash seeds (nothing depends on set/dict iteration of hashed strings, time
  or randomness);
- the output fed back in comes out byte-identical (a second run changes
  nothing), in-process and through real `kpt fn render`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from helpers import BIN, REPO, example_dirs, need, package_items, resource_list, run

PACKAGES = {p.name: p for p in example_dirs()}
PACKAGES["fidelity"] = REPO / "tests" / "fidelity" / "pkg"


def _run_with_seed(text: str, seed: str) -> bytes:
    env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": seed}
    proc = subprocess.run([sys.executable, "-m", "fn"], input=text.encode(), capture_output=True,
                          timeout=60, cwd=REPO, env=env)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_byte_identical_across_hash_seeds(name):
    text = resource_list(package_items(PACKAGES[name]))
    outputs = {seed: _run_with_seed(text, seed) for seed in ("0", "1", "4242")}
    assert outputs["0"] == outputs["1"] == outputs["4242"]


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_feeding_the_output_back_changes_nothing(name):
    rc, first = run(resource_list(package_items(PACKAGES[name])))
    assert rc == 0, first
    rc, second = run(first)
    assert rc == 0, second
    assert second == first


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(set(PACKAGES) - {"fidelity"}))
def test_kpt_render_twice_changes_nothing(name, tmp_path):
    """(the fidelity package has its own kpt tests in test_fidelity.py)"""
    kpt, git = need("kpt"), need("git")
    repo = tmp_path / name
    shutil.copytree(PACKAGES[name], repo)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def sh(*args: str) -> str:
        proc = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    sh(git, "init", "-q", ".")
    sh(kpt, "fn", "render", "--allow-exec", ".")
    assert sh(git, "status", "--porcelain", "--untracked-files=all"), "nothing was generated"
    sh(git, "add", "-A")
    sh(git, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "render 1")
    sh(kpt, "fn", "render", "--allow-exec", ".")
    assert sh(git, "status", "--porcelain", "--untracked-files=all") == ""
