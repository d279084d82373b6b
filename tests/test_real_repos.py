"""Real public Flux repositories (tests/fixtures/real, see each SOURCE.md),
followed as Flux would (tests/realrepo.py): fixed numbers to measure kure-fn's
round trip against, and the simulation's own mechanics on small hand-made
repositories."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import yaml

import realrepo
from helpers import need
from realrepo import HELM_GROUP, KUSTOMIZE_GROUP, SOURCE_GROUP, show

pytestmark = pytest.mark.e2e

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
EXAMPLE = "fluxcd-flux2-kustomize-helm-example"
HOMEOPS = "bjw-s-labs-home-ops"

# (fixture, sync path) -> counts. Fixed data: a change here means the fixture
# or the simulation changed, and must be explained.
COUNTS = {
    (EXAMPLE, "clusters/production"): {
        "objects": 16, "kustomizations": 3, "helmreleases": 3, "sources": 3, "notifications": 0,
        "built": 4, "external": 0, "files": 18, "lines": 321},
    (EXAMPLE, "clusters/staging"): {
        "objects": 16, "kustomizations": 3, "helmreleases": 3, "sources": 3, "notifications": 0,
        "built": 4, "external": 0, "files": 18, "lines": 323},
    (HOMEOPS, "kubernetes/flux/cluster"): {
        "objects": 632, "kustomizations": 93, "helmreleases": 79, "sources": 79,
        "notifications": 35, "built": 94, "external": 0, "files": 512, "lines": 14400},
}
# References that name objects outside the simulated set, on purpose (none:
# both repositories are self-contained once bootstrap made the sync source).
EXTERNAL: dict[tuple[str, str], list[str]] = {case: [] for case in COUNTS}
# YAML files of the fixture that the cluster's Flux never reads.
UNREAD = {
    (EXAMPLE, "clusters/production"): [
        "apps/staging/kustomization.yaml", "apps/staging/podinfo-values.yaml",
        "clusters/staging/apps.yaml", "clusters/staging/artifacts.yaml",
        "clusters/staging/flux-system/gotk-components.yaml",
        "clusters/staging/flux-system/gotk-sync.yaml",
        "clusters/staging/flux-system/kustomization.yaml", "clusters/staging/infrastructure.yaml"],
    (EXAMPLE, "clusters/staging"): [
        "apps/production/kustomization.yaml", "apps/production/podinfo-values.yaml",
        "clusters/production/apps.yaml", "clusters/production/artifacts.yaml",
        "clusters/production/flux-system/gotk-components.yaml",
        "clusters/production/flux-system/gotk-sync.yaml",
        "clusters/production/flux-system/kustomization.yaml",
        "clusters/production/infrastructure.yaml"],
    (HOMEOPS, "kubernetes/flux/cluster"): [],
}


@functools.cache
def simulated(fixture: str, sync_path: str) -> realrepo.Simulation:
    return realrepo.simulate(REAL / fixture, sync_path)


def real(case):
    need("kubectl")
    return simulated(*case)


CASES = [pytest.param(case, id=f"{case[0]}:{case[1]}", marks=pytest.mark.slow) for case in COUNTS]


# -- the fixtures -------------------------------------------------------------------

@pytest.mark.parametrize("fixture", [EXAMPLE, HOMEOPS])
def test_fixture_carries_its_source_and_licence(fixture):
    source = (REAL / fixture / "SOURCE.md").read_text()
    for what in ("https://github.com/", "Commit:", "Licence:", "Copied:", "Left out"):
        assert what in source, f"{fixture}/SOURCE.md: no {what!r}"
    assert "Apache License" in (REAL / fixture / "LICENSE").read_text()


@pytest.mark.parametrize("case", CASES)
def test_simulation_reports_the_fixed_numbers(case):
    sim = real(case)
    assert sim.problems == []
    assert sim.counts() == COUNTS[case]
    assert sim.unresolved == {}  # neither repository uses substituteFrom


@pytest.mark.parametrize("case", CASES)
def test_every_flux_reference_resolves_or_is_declared_external(case):
    sim = real(case)
    refs = sim.references()
    assert refs, "no references found: the check would be empty"
    assert sim.dangling() == EXTERNAL[case]
    # every Kustomization was built from the repository itself
    assert sim.external == {}
    kustomizations = sim.keys("Kustomization", KUSTOMIZE_GROUP)
    assert len(sim.followed) == len(kustomizations) + 1  # + the bootstrap sync


@pytest.mark.parametrize("case", CASES)
def test_every_yaml_file_of_the_fixture_is_read_but_the_other_clusters(case):
    sim = real(case)
    root = REAL / case[0]
    yaml_files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                        if p.is_file() and p.suffix in (".yaml", ".yml"))
    assert sorted(set(yaml_files) - sim.files) == UNREAD[case]


# -- what the simulation must have done for those numbers to hold ---------------------

@pytest.mark.slow
@pytest.mark.parametrize("cluster, acme", [("production", "https://acme-v02."),
                                           ("staging", "https://acme-staging-v02.")])
def test_example_artifacts_and_kustomization_patches(cluster, acme):
    sim = real((EXAMPLE, f"clusters/{cluster}"))
    # the ArtifactGenerator's ExternalArtifacts are the repository's own and were built
    assert {k for k, by in sim.created.items() if k[1] == "ExternalArtifact"} == {
        (SOURCE_GROUP, "ExternalArtifact", "flux-system", "apps"),
        (SOURCE_GROUP, "ExternalArtifact", "flux-system", "infrastructure")}
    issuer = sim.objects[("cert-manager.io", "ClusterIssuer", "", "letsencrypt")]
    assert issuer["spec"]["acme"]["server"].startswith(acme)  # infra-configs' patch
    assert sim.applied_by[(HELM_GROUP, "HelmRelease", "podinfo", "podinfo")] == \
        f"Kustomization.{KUSTOMIZE_GROUP} flux-system/apps"


@pytest.mark.slow
def test_homeops_defaults_components_and_substitution():
    sim = real((HOMEOPS, "kubernetes/flux/cluster"))
    releases = [sim.objects[k] for k in sim.keys("HelmRelease", HELM_GROUP)]
    # cluster-apps patches every Kustomization to patch every HelmRelease
    assert {r["spec"]["install"]["strategy"]["name"] for r in releases} == {"RetryOnFailure"}
    # jellyfin: targetNamespace, a component, postBuild.substitute and a ${VAR:=default}
    pvc = sim.objects[("", "PersistentVolumeClaim", "media", "jellyfin")]
    assert sim.applied_by[("", "PersistentVolumeClaim", "media", "jellyfin")] == \
        f"Kustomization.{KUSTOMIZE_GROUP} media/jellyfin"
    assert pvc["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert pvc["spec"]["storageClassName"] == "miroir-local"
    # what keeps a ${...}: substitution disabled, or a Kustomization without postBuild
    left = sorted(show(k) for k, o in sim.objects.items() if "${" in yaml.safe_dump(o))
    assert left == ["ConfigMap observability/gatus-configmap",
                    "ConfigMap selfhosted/webhook-configmap",
                    f"HelmRelease.{HELM_GROUP} dev/forgejo-runner"]


# -- the simulation on hand-made repositories ----------------------------------------

def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def ks(name: str, path: str, ns: str = "flux-system", source: str = "flux-system",
       kind: str = "GitRepository", **spec) -> str:
    body = {"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"interval": "10m", "path": path, "prune": True,
                     "sourceRef": {"kind": kind, "name": source, "namespace": "flux-system"},
                     **spec}}
    return "---\n" + yaml.safe_dump(body)


def cm(name: str, ns: str | None = None, **data) -> str:
    meta = {"name": name, **({"namespace": ns} if ns else {})}
    return "---\n" + yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                                     "data": data})


KUSTOMIZATION = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"


def test_flux_transformations_of_a_kustomization(tmp_path):
    need("kubectl")
    repo = write(tmp_path, {
        # no kustomization.yaml: Flux generates one (sub-dir with one: listed, not entered)
        "cluster/apps.yaml": ks("apps", "./apps", targetNamespace="team", namePrefix="p-",
                                components=["../components/extra"],
                                patches=[{"patch": "- {op: add, path: /data/patched, value: 'yes'}",
                                          "target": {"kind": "ConfigMap", "name": "one"}}],
                                postBuild={"substitute": {"WHO": "flux", "N": "3"}},
                                commonMetadata={"labels": {"team": "a"}}),
        "cluster/more/extra.yaml": cm("loose", "default"),
        "cluster/sub/kustomization.yaml": KUSTOMIZATION + "resources: [cm.yaml]\n",
        "cluster/sub/cm.yaml": cm("sub", "default"),
        "cluster/sub/deeper/unread.yaml": cm("unread", "default"),
        "apps/kustomization.yaml": KUSTOMIZATION + "resources: [one.yaml]\n",
        "apps/one.yaml": cm("one", who="${WHO}", n="${N}", d="${MISSING:=dflt}", e="${MISSING}",
                            esc="$${WHO}"),
        "components/extra/kustomization.yaml":
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [two.yaml]\n",
        "components/extra/two.yaml": cm("two"),
    })
    sim = realrepo.simulate(repo, "cluster")
    assert sim.problems == []
    assert sorted(show(k) for k in sim.objects) == [
        "ConfigMap default/loose", "ConfigMap default/sub", "ConfigMap team/p-one",
        "ConfigMap team/p-two", f"Kustomization.{KUSTOMIZE_GROUP} flux-system/apps"]
    one = sim.objects[("", "ConfigMap", "team", "p-one")]
    # substitution is textual, as Flux's: `n: ${N}` becomes the number 3, an
    # unset variable leaves `e:` empty (null)
    assert one["data"] == {"who": "flux", "n": 3, "d": "dflt", "e": None, "esc": "${WHO}",
                           "patched": "yes"}
    assert one["metadata"]["labels"] == {"team": "a"}
    assert "cluster/sub/deeper/unread.yaml" not in sim.files
    assert "cluster/kustomization.yaml" not in sim.files  # generated, not the repository's
    assert {"components/extra/two.yaml", "cluster/more/extra.yaml"} <= sim.files


def test_external_sources_substitute_from_duplicates_and_dangling_references(tmp_path):
    need("kubectl")
    repo = write(tmp_path, {
        "cluster/kustomization.yaml": KUSTOMIZATION + "resources: [ks.yaml]\n",
        "cluster/ks.yaml": (ks("other", "./deploy", source="elsewhere")
                            + ks("vars", "./vars", postBuild={"substitute": {"A": "a"},
                                                               "substituteFrom": [
                                                                   {"kind": "ConfigMap",
                                                                    "name": "settings"}]})
                            + ks("twice", "./vars", dependsOn=[{"name": "missing"}])),
        "vars/kustomization.yaml": KUSTOMIZATION + "resources: [cm.yaml]\n",
        "vars/cm.yaml": cm("vars", "default", a="${A}", b="${B:=x}", c="${C}"),
    })
    sim = realrepo.simulate(repo, "cluster")
    assert sim.external == {f"Kustomization.{KUSTOMIZE_GROUP} flux-system/other":
                            "GitRepository flux-system/elsewhere"}
    vars_ = f"Kustomization.{KUSTOMIZE_GROUP} flux-system/vars"
    assert sim.unresolved == {vars_: ["B", "C"]}
    twice = f"Kustomization.{KUSTOMIZE_GROUP} flux-system/twice"
    assert sim.problems == [  # kustomize lists twice before vars
        f"ConfigMap default/vars is applied by {twice} and {vars_}",
        f"Kustomization.{KUSTOMIZE_GROUP} flux-system/other: spec.sourceRef "
        f"GitRepository.{SOURCE_GROUP} flux-system/elsewhere is neither applied nor created "
        "by bootstrap or a generator",
        f"{twice}: spec.dependsOn Kustomization.{KUSTOMIZE_GROUP} flux-system/missing is neither "
        "applied nor created by bootstrap or a generator"]


def test_source_ignore_and_default_exclusions(tmp_path):
    files = {"a.yaml": "", "x/.sops.yaml": "", "x/.github/b.yaml": "", ".github/w.yaml": "",
             "x/c.zip": "", "x/sub/c.yaml": "", "x/sub/c.md": ""}
    plain = write(tmp_path / "plain", files)
    assert sorted(realrepo._checkout(plain, tmp_path / "plain-out").origin) == [
        "a.yaml", "x/sub/c.md", "x/sub/c.yaml"]
    # as source-controller (go-git): the last matching pattern wins, the
    # defaults come first, a .sourceignore speaks for its directory
    ignoring = write(tmp_path / "ignoring", {**files, ".sourceignore": "/*\n!/x/\n",
                                             "x/sub/.sourceignore": "*.md\n"})
    assert sorted(realrepo._checkout(ignoring, tmp_path / "ignoring-out").origin) == [
        "x/.github/b.yaml", "x/.sops.yaml", "x/c.zip", "x/sub/.sourceignore", "x/sub/c.yaml"]


@pytest.mark.parametrize("text, values, out", [
    ("a $$ b $${X} ${X}", {"X": "1"}, "a $ b ${X} 1"),
    ("${X:=d} ${Y:=d} ${Y:-e} ${Y=f} ${Y}.", {"X": "1"}, "1 d e f ."),
    ("${Y:-pre${X}}", {"X": "1"}, "pre1"),
    ("${X^} ${X^^} ${U,} ${U,,} ${#X} ${X:1} ${X:1:2} ${X:-2}", {"X": "abcd", "U": "ABC"},
     "Abcd ABCD aBC abc 4 bcd bc abcd"),
])
def test_envsubst_as_flux(text, values, out):
    assert realrepo._Envsubst(text, values, None).run() == out


def test_envsubst_keeps_what_substitute_from_may_hold():
    missing: list[str] = []
    assert realrepo._Envsubst("${A} ${B:=x} ${X}", {"X": "1"}, missing).run() == "${A} ${B:=x} 1"
    assert missing == ["A", "B"]


@pytest.mark.parametrize("text", ["${}", "${X", "${X-d}", "${X/a/b}"])
def test_envsubst_refuses_what_flux_refuses_or_the_simulation_lacks(text):
    with pytest.raises(ValueError):
        realrepo._Envsubst(text, {"X": "1"}, None).run()
