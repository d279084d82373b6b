import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Image:
    """The kure-fn image built from the repository's Dockerfile, and its podman."""

    tag: str
    podman: object
    base: str
    timings: dict


IMAGE_FACTS: dict = {}


@pytest.fixture(scope="session")
def image(request):
    """One image build per session (container.md): a mmdebstrap base, then
    `podman build --build-arg BASE=<it>` of the real Dockerfile. Skips with a
    reason where podman, runc or mmdebstrap is missing or we are not root."""
    from podman import Podman, unavailable

    reason = unavailable()
    if reason:
        pytest.skip(reason)
    podman = Podman()
    timings = IMAGE_FACTS
    try:
        base, tag = "localhost/kure-fn-base:test", "localhost/kure-fn:test"
        t0 = time.monotonic()
        podman.build_base(base, cache=request.config.cache.mkdir("kure-fn-base"))
        timings["base"] = time.monotonic() - t0
        t0 = time.monotonic()
        podman.build(REPO, tag, base)
        timings["build"] = time.monotonic() - t0
        yield Image(tag, podman, base, timings)
    finally:
        podman.cleanup()


def pytest_terminal_summary(terminalreporter):
    """Image size and build times, when the container tests ran."""
    f = IMAGE_FACTS
    if "build" in f:
        size = f"{f['size'] / 1e6:.1f} MB (base {f['base_size'] / 1e6:.1f} MB), " if "size" in f else ""
        terminalreporter.write_line(f"kure-fn image: {size}base {f['base']:.1f} s, "
                                    f"build {f['build']:.1f} s")

