"""Golden ResourceLists: each example package, run in-process as kpt would
feed it, must produce exactly tests/golden/<example>.yaml.

Regenerate deliberately with KURE_FN_UPDATE_GOLDEN=1 (never silently)."""

import pytest

from helpers import GOLDEN, UPDATE_GOLDEN, example_dirs, package_items, resource_list, run


@pytest.mark.parametrize("pkg", example_dirs(), ids=lambda p: p.name)
def test_example_matches_golden(pkg):
    rc, out = run(resource_list(package_items(pkg)))
    assert rc == 0, out
    golden = GOLDEN / f"{pkg.name}.yaml"
    if UPDATE_GOLDEN:
        golden.write_text(out)
    assert golden.exists(), f"no golden for {pkg.name}: run with KURE_FN_UPDATE_GOLDEN=1"
    assert out == golden.read_text(), f"{pkg.name}: output differs from {golden}"


@pytest.mark.parametrize("pkg", example_dirs(), ids=lambda p: p.name)
def test_output_is_deterministic(pkg):
    text = resource_list(package_items(pkg))
    assert run(text) == run(text)
