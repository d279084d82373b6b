"""examples/home-ops-style against the repository it was written from.

The example is a slice of bjw-s-labs/home-ops (tests/fixtures/real, @e183e64):
three namespaces, nine applications, their Flux Kustomizations, HelmReleases
and OCIRepositories, and the flux-alerts Provider and Alert of each
namespace. The test renders the example, follows the tree as Flux would
(tests/fluxsim.py), follows the original repository as Flux applies it
(tests/realrepo.py), and compares every Flux object of the example with the
object of the same kind, namespace and name in the original, field by field.
Dropped before comparing, because kure-fn adds or moves them by design: the
ownership annotation, and a Kustomization's `spec.path` (a directory of
kure-fn's own tree). Every other difference is listed in DIFFERENCES and in
the example's README: the numbers there cannot drift from this test.
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest
import yaml

import fluxsim
import realrepo
from fluxsim import HELM_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP, show
from helpers import BIN, EXAMPLES, need
from realrepo import NOTIFICATION_GROUP

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

EXAMPLE = EXAMPLES / "home-ops-style"
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "real" / "bjw-s-labs-home-ops"
SYNC_PATH = "kubernetes/flux/cluster"
FLUX_GROUPS = (KUSTOMIZE_GROUP, HELM_GROUP, SOURCE_GROUP, NOTIFICATION_GROUP)
OWNER = "fn.kure.dev/cluster"
# dependsOn outside the slice: Kustomizations of the original the example does not render
OUTSIDE = {("Kustomization", "kube-system", "intel-gpu-resource-driver"),
           ("Kustomization", "system", "kopiur")}


@functools.cache
def original() -> realrepo.Simulation:
    need("kubectl")
    return realrepo.simulate(FIXTURE, SYNC_PATH)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> fluxsim.Simulation:
    need("kubectl")
    out = tmp_path_factory.mktemp("home-ops-style")
    proc = subprocess.run([str(BIN / "kure-fn"), "render", str(EXAMPLE / "cluster.yaml"), "-o", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return fluxsim.check(out, "clusters/home-ops", outside=OUTSIDE)


def comparable(obj: dict) -> dict:
    obj = yaml.safe_load(yaml.safe_dump(obj))
    meta = obj["metadata"]
    anns = meta.get("annotations") or {}
    anns.pop(OWNER, None)
    if not anns:
        meta.pop("annotations", None)
    if obj["kind"] == "Kustomization":
        obj["spec"].pop("path")
    return obj


def differences(a, b, at: str = "") -> list[str]:
    """Dotted paths where a and b differ (a mapping key on one side only, or a value)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differences(a.get(k, ABSENT), b.get(k, ABSENT), f"{at}.{k}" if at else k)
        return out
    return [] if a == b else [at]


ABSENT = object()


def compare(rendered: fluxsim.Simulation):
    orig = original()
    mine = {k: o for k, o in rendered.objects.items() if k[0] in FLUX_GROUPS}
    equal, differ, extra = [], {}, []
    for key, obj in sorted(mine.items()):
        if key not in orig.objects:
            extra.append(show(key))
            continue
        d = differences(comparable(obj), comparable(orig.objects[key]))
        if d:
            differ[show(key)] = d
        else:
            equal.append(show(key))
    return sorted(equal), differ, sorted(extra)


RELEASES = ["media/audiobookshelf", "media/bonob", "media/navidrome", "network/echo-server",
            "network/multus", "observability/kromgo", "observability/kube-state-metrics",
            "observability/prometheus-adapter", "observability/silence-operator"]
NAMESPACES = ("media", "network", "observability")
# Objects of the example equal to the original's, field for field.
EQUAL = sorted([f"Provider.{NOTIFICATION_GROUP} {ns}/alertmanager" for ns in NAMESPACES]
               + [f"OCIRepository.{SOURCE_GROUP} {r}" for r in RELEASES])
# Objects that differ, and in which fields (README.md says why).
KS = f"Kustomization.{KUSTOMIZE_GROUP}"
DIFFERENCES = {
    **{f"HelmRelease.{HELM_GROUP} {r}": ["spec.chartRef.namespace"] for r in RELEASES},
    **{f"Alert.{NOTIFICATION_GROUP} {ns}/alertmanager": ["spec.eventSources"] for ns in NAMESPACES},
    **{f"{KS} {k}": ["spec.healthChecks", "spec.patches"] for k in (
        "media/bonob", "network/echo-server", "observability/kromgo",
        "observability/kube-state-metrics", "observability/prometheus-adapter")},
    **{f"{KS} {k}": ["spec.components", "spec.healthChecks", "spec.patches"]
       for k in ("media/audiobookshelf", "media/navidrome")},
    **{f"{KS} {k}": ["spec.patches"] for k in (
        "network/multus", "observability/silence-operator", "observability/silence-operator-silences")},
    f"{KS} network/multus-networks": ["spec.patches"],
}
# Flux objects of the example the original does not have: the Kustomizations
# that apply each namespace's alerts (the original's cluster-apps applies them).
EXTRA = [f"{KS} {ns}/{ns}-alerts" for ns in NAMESPACES]


def test_every_flux_object_is_equal_or_differs_as_documented(rendered):
    equal, differ, extra = compare(rendered)
    assert equal == EQUAL
    assert differ == DIFFERENCES
    assert extra == sorted(EXTRA)
    # the slice's outside dependencies are real objects of the original
    for kind, ns, name in OUTSIDE:
        assert (KUSTOMIZE_GROUP, kind, ns, name) in original().objects


def test_the_differences_change_nothing_flux_does(rendered):
    orig = original().objects
    # cluster-apps' patch of patches, written once as spec.flux.defaults.helm:
    # every HelmRelease carries exactly what the patch gave the original's
    patch = yaml.safe_load(orig[(KUSTOMIZE_GROUP, "Kustomization", "network", "echo-server")]
                           ["spec"]["patches"][0]["patch"])["spec"]
    for r in RELEASES:
        ns, name = r.split("/")
        release = rendered.objects[(HELM_GROUP, "HelmRelease", ns, name)]["spec"]
        assert {k: release[k] for k in patch} == patch
        # a release that installs where it lives leaves its name and namespaces
        # to Flux, as the original does; the chart source is in the release's
        # namespace, written out (every reference names its namespace)
        for key in ("releaseName", "targetNamespace", "storageNamespace"):
            assert key not in release and key not in orig[(HELM_GROUP, "HelmRelease", ns, name)]["spec"]
        assert release["chartRef"]["namespace"] == ns
    for key, obj in rendered.objects.items():
        if key[:2] == (KUSTOMIZE_GROUP, "Kustomization") and show(key) in DIFFERENCES:
            spec, was = obj["spec"], orig[key]["spec"]
            assert spec.get("wait") == was.get("wait")  # left to Flux, as in the original
            assert "patches" not in spec
            # the health checks added are the bundle's own releases (as multus has them)
            if "spec.healthChecks" in DIFFERENCES[show(key)]:
                assert "healthChecks" not in was
                assert spec["healthChecks"] == [{"apiVersion": f"{HELM_GROUP}/v2", "kind": "HelmRelease",
                                                 "name": key[3], "namespace": key[2]}]
    # the Alerts leave out the one event source kind the Flux v2.9 Alert schema rejects
    for ns in NAMESPACES:
        key = (NOTIFICATION_GROUP, "Alert", ns, "alertmanager")
        assert rendered.objects[key]["spec"]["eventSources"] == [
            e for e in orig[key]["spec"]["eventSources"] if e["kind"] != "FluxInstance"]


def slice_files() -> list[str]:
    """The original's files this slice reproduces: the cluster-apps Kustomization
    (the HelmRelease defaults), each app's ks.yaml, what its Kustomizations
    read, and the flux-alerts component."""
    orig = original()
    paths = {realrepo.normalise(orig.objects[(KUSTOMIZE_GROUP, "Kustomization", *k.split("/"))]
                                ["spec"]["path"]) + "/"
             for k in (d.split(" ")[1] for d in DIFFERENCES if d.startswith("Kustomization"))}
    return sorted(f for f in orig.files
                  if f == f"{SYNC_PATH}/ks.yaml"
                  or f.startswith("kubernetes/components/flux-alerts/")
                  or any(f.startswith(p) for p in paths)
                  or any(f == p.rsplit("/", 2)[0] + "/ks.yaml" for p in paths))


def content_lines(text: str) -> int:
    """Lines that say something: not blank, not only a comment, not `---`."""
    return sum(1 for line in text.splitlines()
               if line.strip() and not line.strip().startswith("#") and line.strip() != "---")


def test_config_lines_against_the_original_slice():
    files = slice_files()
    assert len(files) == SLICE_FILES, files
    original_lines = sum(content_lines((FIXTURE / f).read_text()) for f in files)
    config_lines = content_lines((EXAMPLE / "cluster.yaml").read_text())
    assert (config_lines, original_lines) == (CONFIG_LINES, ORIGINAL_LINES)


SLICE_FILES = 48
CONFIG_LINES, ORIGINAL_LINES = 1062, 1350
