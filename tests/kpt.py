"""Running real kpt on a copy of a package inside a throwaway git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from helpers import BIN, need


def env() -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    return e


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def make_repo(pkg: Path, tmp: Path) -> Path:
    """A git repository whose root is a copy of the package (committed)."""
    repo = tmp / pkg.name
    shutil.copytree(pkg, repo)
    git(repo, "init", "-q")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "package")
    return repo


def commit_all(repo: Path, message: str = "run") -> None:
    git(repo, "add", "-A")
    git(repo, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", message,
        "--allow-empty")


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain")


def kpt(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    need("kpt")
    proc = subprocess.run(["kpt", *args], cwd=repo, env=env(), capture_output=True, text=True,
                          timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def render(repo: Path, check: bool = True) -> subprocess.CompletedProcess:
    return kpt(repo, "fn", "render", "--allow-exec", ".", check=check)


def eval_exec(repo: Path, check: bool = True) -> subprocess.CompletedProcess:
    return kpt(repo, "fn", "eval", "--exec", "kure-fn", ".", check=check)
