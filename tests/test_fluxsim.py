"""The Flux-simulation checker itself: it accepts a sound tree and names each
broken invariant in a hand-made broken one."""

from pathlib import Path

import pytest

import fluxsim
from helpers import need

KS = """apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
  annotations: {{fn.kure.dev/cluster: c}}
spec:
  interval: 10m
  path: {path}
  prune: true
  sourceRef: {{kind: {kind}, name: {source}, namespace: flux-system}}
"""
SRC = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: ext, namespace: flux-system, annotations: {fn.kure.dev/cluster: c}}
spec: {interval: 5m, url: https://example.com/ext.git, ref: {branch: main}}
"""
CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: default
  annotations: {{fn.kure.dev/cluster: c}}
"""


def kustomization(*resources: str) -> str:
    lines = "".join(f"- {r}\n" for r in resources)
    return ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "metadata:\n  annotations: {config.kubernetes.io/local-config: 'true'}\n"
            f"resources:\n{lines}" if resources else
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n")


def sound_tree() -> dict[str, str]:
    return {
        "clusters/c/kustomization.yaml": kustomization("flux-system"),
        "clusters/c/flux-system/kustomization.yaml": kustomization("ks-app.yaml", "ks-ext.yaml",
                                                                   "src-ext.yaml"),
        "clusters/c/flux-system/src-ext.yaml": SRC,
        "clusters/c/flux-system/ks-app.yaml": KS.format(name="app", path="./clusters/c/apps/app",
                                                        kind="GitRepository", source="flux-system"),
        "clusters/c/flux-system/ks-ext.yaml": KS.format(name="ext", path="./deploy",
                                                        kind="GitRepository", source="ext"),
        "clusters/c/apps/app/kustomization.yaml": kustomization("cm.yaml"),
        "clusters/c/apps/app/cm.yaml": CM.format(name="settings"),
    }


def write(base: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / rel).write_text(text)
    return base


@pytest.fixture(autouse=True)
def _kubectl():
    need("kubectl")


@pytest.mark.e2e
def test_a_sound_tree_passes_and_external_bundles_are_skipped(tmp_path):
    sim = fluxsim.check(write(tmp_path, sound_tree()), "clusters/c")
    assert sim.followed == ["Kustomization.kustomize.toolkit.fluxcd.io flux-system/app"]
    assert sim.skipped == ["Kustomization.kustomize.toolkit.fluxcd.io flux-system/ext"]
    assert ("", "ConfigMap", "default", "settings") in sim.applied


@pytest.mark.e2e
def test_an_object_applied_twice_is_reported(tmp_path):
    files = sound_tree()
    files["clusters/c/kustomization.yaml"] = kustomization("flux-system", "apps/app/cm.yaml")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert any("ConfigMap default/settings is applied 2 times" in p for p in sim.problems), sim.problems


@pytest.mark.e2e
def test_a_generated_object_nobody_applies_is_reported(tmp_path):
    files = sound_tree()
    files["clusters/c/apps/app/orphan.yaml"] = CM.format(name="orphan")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert sim.problems == ["ConfigMap default/orphan (clusters/c/apps/app/orphan.yaml) is "
                            "applied by no Kustomization"]


@pytest.mark.e2e
def test_a_directory_without_kustomization_yaml_is_reported(tmp_path):
    files = sound_tree()
    del files["clusters/c/apps/app/kustomization.yaml"]
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert any("clusters/c/apps/app/ has no kustomization.yaml" in p for p in sim.problems)


@pytest.mark.e2e
def test_a_wrong_spec_path_is_reported(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./apps/app", kind="GitRepository", source="flux-system")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert any("path 'apps/app' does not exist" in p for p in sim.problems), sim.problems


@pytest.mark.e2e
def test_dangling_references_are_reported(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./clusters/c/apps/app", kind="GitRepository", source="flux-system") + \
        "  dependsOn: [{name: missing, namespace: flux-system}]\n"
    files["clusters/c/flux-system/kustomization.yaml"] = kustomization("ks-app.yaml", "ks-ext.yaml")
    del files["clusters/c/flux-system/src-ext.yaml"]
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert sorted(sim.problems) == [
        "Kustomization.kustomize.toolkit.fluxcd.io flux-system/app: dependsOn "
        "Kustomization.kustomize.toolkit.fluxcd.io flux-system/missing is neither applied nor "
        "created by bootstrap",
        "Kustomization.kustomize.toolkit.fluxcd.io flux-system/ext: sourceRef "
        "GitRepository.source.toolkit.fluxcd.io flux-system/ext is neither applied nor created "
        "by bootstrap"]


@pytest.mark.e2e
def test_a_failing_kustomize_build_is_reported(tmp_path):
    files = sound_tree()
    files["clusters/c/apps/app/kustomization.yaml"] = kustomization("cm.yaml", "gone.yaml")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert any("kubectl kustomize clusters/c/apps/app failed" in p for p in sim.problems)


@pytest.mark.e2e
def test_flux_instance_sync_creates_the_tree_source(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/kustomization.yaml"] = kustomization(
        "ks-app.yaml", "instance.yaml", "ks-ext.yaml", "src-ext.yaml")
    files["clusters/c/flux-system/instance.yaml"] = """\
apiVersion: fluxcd.controlplane.io/v1
kind: FluxInstance
metadata: {name: flux, namespace: flux-system}
spec:
  distribution: {version: 2.9.x, registry: ghcr.io/fluxcd}
  sync: {kind: OCIRepository, url: oci://ghcr.io/acme/fleet, ref: latest, path: ./clusters/c}
"""
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./clusters/c/apps/app", kind="OCIRepository", source="flux-system")
    sim = fluxsim.check(write(tmp_path, files), "clusters/c")
    assert ("source.toolkit.fluxcd.io", "OCIRepository", "flux-system", "flux-system") in sim.created
    assert sim.followed


@pytest.mark.e2e
def test_target_namespace_moves_objects_before_references_resolve(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./clusters/c/apps/app", kind="GitRepository", source="flux-system") + \
        "  targetNamespace: team\n"
    sim = fluxsim.check(write(tmp_path, files), "clusters/c")
    assert ("", "ConfigMap", "team", "settings") in sim.applied


@pytest.mark.e2e
def test_target_namespace_moves_only_namespaced_objects(tmp_path):
    """Scope by API group and kind; a CustomResourceDefinition in the tree
    decides for its kind."""
    files = sound_tree()
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./clusters/c/apps/app", kind="GitRepository", source="flux-system") + \
        "  targetNamespace: team\n"
    files["clusters/c/apps/app/kustomization.yaml"] = kustomization("cm.yaml", "objects.yaml")
    files["clusters/c/apps/app/objects.yaml"] = """\
apiVersion: networking.k8s.io/v1
kind: IPAddress
metadata: {name: 10.96.0.20}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, scope: Cluster, names: {kind: Widget, plural: widgets}}
"""
    sim = fluxsim.check(write(tmp_path, files), "clusters/c")
    assert ("networking.k8s.io", "IPAddress", "", "10.96.0.20") in sim.applied
    assert ("metallb.io", "IPAddressPool", "team", "pool") in sim.applied
    assert ("example.com", "Widget", "", "w") in sim.applied


@pytest.mark.e2e
def test_a_flux_object_in_a_namespace_nobody_creates_is_reported(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./clusters/c/apps/app", kind="GitRepository",
        source="flux-system").replace("  namespace: flux-system\n", "  namespace: media\n", 1)
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert sim.problems == ["Kustomization.kustomize.toolkit.fluxcd.io media/app: namespace "
                            "'media' is applied neither by the root build nor by "
                            "<bootstrap sync>"]
    files["clusters/c/flux-system/ns-media.yaml"] = "apiVersion: v1\nkind: Namespace\n" \
                                                    "metadata: {name: media}\n"
    files["clusters/c/flux-system/kustomization.yaml"] = kustomization(
        "ks-app.yaml", "ks-ext.yaml", "ns-media.yaml", "src-ext.yaml")
    fluxsim.check(write(tmp_path, files), "clusters/c")


GENERATOR = """apiVersion: source.extensions.fluxcd.io/v1beta1
kind: ArtifactGenerator
metadata: {name: split, namespace: flux-system, annotations: {fn.kure.dev/cluster: c}}
spec:
  sources: [{alias: repo, kind: GitRepository, name: flux-system, namespace: flux-system}]
  artifacts: [{name: apps, copy: [{from: "@repo/apps/**", to: "@artifact/"}]}]
"""


@pytest.mark.e2e
def test_an_artifact_generator_makes_the_external_artifacts_it_lists(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/kustomization.yaml"] = kustomization(
        "ks-app.yaml", "ks-ext.yaml", "src-ext.yaml", "gen.yaml", "ks-art.yaml", "ks-gone.yaml")
    files["clusters/c/flux-system/gen.yaml"] = GENERATOR
    files["clusters/c/flux-system/ks-art.yaml"] = KS.format(
        name="art", path="./prod", kind="ExternalArtifact", source="apps")
    files["clusters/c/flux-system/ks-gone.yaml"] = KS.format(
        name="gone", path="./prod", kind="ExternalArtifact", source="infra")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert ("source.toolkit.fluxcd.io", "ExternalArtifact", "flux-system", "apps") in sim.created
    assert "Kustomization.kustomize.toolkit.fluxcd.io flux-system/art" in sim.skipped
    assert sim.problems == [
        "Kustomization.kustomize.toolkit.fluxcd.io flux-system/gone: sourceRef "
        "ExternalArtifact.source.toolkit.fluxcd.io flux-system/infra is neither applied nor "
        "created by bootstrap"]


@pytest.mark.e2e
def test_an_artifact_generator_source_must_resolve(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/kustomization.yaml"] = kustomization(
        "ks-app.yaml", "ks-ext.yaml", "src-ext.yaml", "gen.yaml")
    files["clusters/c/flux-system/gen.yaml"] = GENERATOR.replace("name: flux-system,", "name: nope,")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert sim.problems == [
        "ArtifactGenerator.source.extensions.fluxcd.io flux-system/split: sources "
        "GitRepository.source.toolkit.fluxcd.io flux-system/nope is neither applied nor "
        "created by bootstrap"]


@pytest.mark.e2e
def test_an_external_bundle_on_the_tree_source_builds_its_path_when_present(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/kustomization.yaml"] = kustomization(
        "ks-app.yaml", "ks-ext.yaml", "src-ext.yaml", "ks-legacy.yaml")
    files["clusters/c/flux-system/ks-legacy.yaml"] = KS.format(
        name="legacy", path="./legacy", kind="GitRepository", source="flux-system")
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert sim.problems == ["Kustomization.kustomize.toolkit.fluxcd.io flux-system/legacy: path "
                            "'legacy' does not exist"]
    sim = fluxsim.check(tmp_path, "clusters/c", by_hand={"./legacy"})  # kept by hand, not here
    assert sim.absent == ["Kustomization.kustomize.toolkit.fluxcd.io flux-system/legacy: ./legacy"]
    files["legacy/kustomization.yaml"] = kustomization("cm.yaml")
    files["legacy/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old, namespace: default}\n"
    sim = fluxsim.check(write(tmp_path, files), "clusters/c", by_hand={"./legacy"})
    assert "Kustomization.kustomize.toolkit.fluxcd.io flux-system/legacy" in sim.followed
    assert ("", "ConfigMap", "default", "old") in sim.applied and not sim.absent


@pytest.mark.e2e
def test_objects_outside_the_config_are_taken_as_existing(tmp_path):
    files = sound_tree()
    files["clusters/c/flux-system/ks-app.yaml"] = KS.format(
        name="app", path="./clusters/c/apps/app", kind="GitRepository", source="flux-system") + \
        "  dependsOn: [{name: tenants, namespace: tenants}]\n"
    sim = fluxsim.simulate(write(tmp_path, files), "clusters/c")
    assert len(sim.problems) == 1 and "tenants/tenants" in sim.problems[0]
    fluxsim.check(tmp_path, "clusters/c", outside={("Kustomization", "tenants", "tenants")})
