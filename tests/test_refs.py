"""References beyond the config's own objects (real-repos.md §2): dependsOn
on Flux objects outside the config, artifact sources (ArtifactGenerator →
ExternalArtifact) and external bundles on the tree's own source."""

import copy

import pytest
import yaml

from helpers import REPO, generated, is_flux, resource_list, run_doc, validate_flux

from fn.model.build import build
from fn.model.cluster import ConfigError
from fn.registry import build_cluster

CANONICAL = REPO / "tests/fixtures/real/fluxcd-flux2-kustomize-helm-example/clusters/production"

# clusters/production of fluxcd/flux2-kustomize-helm-example, as a config
PRODUCTION = yaml.safe_load("""
apiVersion: fn.kure.dev/v1alpha1
kind: Cluster
metadata: {name: production}
spec:
  bootstrap:
    fluxVersion: 2.9.x
    sync: {url: https://github.com/fluxcd/flux2-kustomize-helm-example}
  sources:
  - name: flux-system
    artifact:
      sources: {monorepo: flux-system}
      artifacts:
      - name: infrastructure
        originRevision: "@monorepo"
        copy:
        - {from: "@monorepo/infrastructure/**", to: "@artifact/"}
      - name: apps
        originRevision: "@monorepo"
        copy:
        - {from: "@monorepo/apps/base/**", to: "@artifact/base/"}
        - {from: "@monorepo/apps/production/**", to: "@artifact/production/"}
  nodes:
  - name: infrastructure
    source: infrastructure
    bundles:
    - {name: infra-controllers, path: ./controllers}
    - {name: infra-configs, path: ./configs, dependsOn: [infra-controllers]}
  - name: apps
    bundles:
    - {name: apps, source: apps, path: ./production, dependsOn: [infra-configs]}
""")


def render(config: dict) -> tuple[list[dict], list[dict]]:
    """(generated objects, results) of a run that must succeed."""
    rc, doc = run_doc(resource_list([config]))
    assert rc == 0, doc.get("results")
    return generated(doc), doc.get("results") or []


def by_kind(objs: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def problems(config: dict) -> list[str]:
    with pytest.raises(ConfigError) as err:
        build_cluster(config)
    return [str(p) for p in err.value.problems]


def with_bundles(*bundles, **spec) -> dict:
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": "c"},
            "spec": {**spec, "nodes": [{"name": "apps", "bundles": list(bundles)}]}}


HELM = {"repository": "https://charts.example.com", "version": "1.0.0"}

# -- artifact sources: the canonical example's own layout ------------------------


def fixture_objects(kind: str) -> dict[str, dict]:
    out = {}
    for f in CANONICAL.glob("*.yaml"):
        for d in yaml.safe_load_all(f.read_text()):
            if d and d["kind"] == kind:
                out[d["metadata"]["name"]] = d
    return out


def test_the_artifact_generator_is_the_canonical_examples():
    objs, _ = render(PRODUCTION)
    ours = by_kind(objs, "ArtifactGenerator")["flux-system"]
    theirs = fixture_objects("ArtifactGenerator")["flux-system"]
    for src in ours["spec"]["sources"]:
        assert src.pop("namespace") == "flux-system"  # kure-fn writes every namespace
    assert ours["spec"] == theirs["spec"]
    assert ours["apiVersion"] == theirs["apiVersion"]


def test_bundles_on_artifacts_reference_them_as_the_canonical_example_does():
    objs, _ = render(PRODUCTION)
    ours = by_kind(objs, "Kustomization")
    for name, theirs in fixture_objects("Kustomization").items():
        spec = ours[name]["spec"]
        assert spec["path"] == theirs["spec"]["path"]
        assert {k: spec["sourceRef"][k] for k in ("kind", "name")} == theirs["spec"]["sourceRef"]
        assert [d["name"] for d in spec.get("dependsOn", [])] == \
            [d["name"] for d in theirs["spec"].get("dependsOn", [])]


def test_artifacts_bring_source_watcher_into_the_default_components():
    objs, _ = render(PRODUCTION)
    assert by_kind(objs, "FluxInstance")["flux"]["spec"]["components"][-1] == "source-watcher"
    plain = copy.deepcopy(PRODUCTION)
    plain["spec"]["nodes"] = [{"name": "apps", "bundles": [{"name": "web", "path": "./web"}]}]
    objs, _ = render(plain)  # declared, but nothing names its artifacts: not rendered
    assert "source-watcher" not in by_kind(objs, "FluxInstance")["flux"]["spec"]["components"]
    assert not by_kind(objs, "ArtifactGenerator")


def test_gotk_bootstrap_with_artifacts_warns_about_source_watcher():
    config = copy.deepcopy(PRODUCTION)
    config["spec"]["bootstrap"]["mode"] = "gotk"
    _, results = render(config)
    assert [r["field"]["path"] for r in results if r.get("severity") == "warning"] == \
        ["spec.bootstrap.mode"]


def test_a_helm_chart_from_an_artifact_is_a_chart_ref():
    config = copy.deepcopy(PRODUCTION)
    config["spec"]["nodes"][1]["bundles"].append(
        {"name": "podinfo", "applications": [{"name": "podinfo", "namespace": "podinfo",
                                              "helm": {"source": "apps"}}]})
    objs, _ = render(config)
    assert by_kind(objs, "HelmRelease")["podinfo"]["spec"]["chartRef"] == \
        {"kind": "ExternalArtifact", "name": "apps", "namespace": "flux-system"}


def test_artifact_objects_pass_the_flux_schemas():
    config = copy.deepcopy(PRODUCTION)
    config["spec"]["sources"][0]["artifact"]["artifacts"][0]["copy"][0].update(
        {"exclude": ["*.md"], "strategy": "Merge"})
    config["spec"]["sources"][0]["artifact"]["artifacts"][1]["revision"] = "@monorepo"
    objs, _ = render(config)
    gen = by_kind(objs, "ArtifactGenerator")["flux-system"]["spec"]["artifacts"]
    assert gen[0]["copy"][0]["exclude"] == ["*.md"] and gen[1]["revision"] == "@monorepo"
    validate_flux([o for o in objs if is_flux(o)])


def test_an_artifact_source_can_split_a_declared_source():
    config = copy.deepcopy(PRODUCTION)
    config["spec"]["sources"].append({"name": "platform", "oci": {"url": "oci://ghcr.io/acme/platform"}})
    config["spec"]["sources"][0]["artifact"]["sources"] = {"monorepo": "platform"}
    objs, _ = render(config)
    assert by_kind(objs, "ArtifactGenerator")["flux-system"]["spec"]["sources"] == [
        {"alias": "monorepo", "kind": "OCIRepository", "name": "platform", "namespace": "flux-system"}]
    assert "platform" in by_kind(objs, "OCIRepository")  # rendered because the generator splits it


# -- external bundles on the tree's own source -----------------------------------


def test_an_external_bundle_without_source_takes_the_tree_source():
    objs, _ = render(with_bundles({"name": "legacy", "path": "./legacy/apps"}))
    ks = by_kind(objs, "Kustomization")["legacy"]["spec"]
    assert ks["sourceRef"] == {"kind": "GitRepository", "name": "flux-system",
                               "namespace": "flux-system"}
    assert ks["path"] == "./legacy/apps"


def test_an_external_bundle_without_source_finds_a_declared_tree_source_in_its_namespace():
    """The tree's source declared in spec.sources with a namespace: a bundle
    that names no source finds it there, as one that names it does."""
    config = with_bundles({"name": "implicit", "path": "./a"},
                          {"name": "named", "path": "./b", "source": "fleet"},
                          flux={"sourceRef": {"name": "fleet"}})
    config["spec"]["sources"] = [{"name": "fleet", "namespace": "sources",
                                  "git": {"url": "https://example.com/fleet.git"}}]
    objs, _ = render(config)
    ks = by_kind(objs, "Kustomization")
    want = {"kind": "GitRepository", "name": "fleet", "namespace": "sources"}
    assert ks["implicit"]["spec"]["sourceRef"] == ks["named"]["spec"]["sourceRef"] == want


def test_the_tree_source_follows_spec_flux_source_ref_and_can_be_named():
    config = with_bundles({"name": "legacy", "path": "./legacy", "source": "fleet"},
                          flux={"sourceRef": {"kind": "OCIRepository", "name": "fleet"}})
    config["spec"]["nodes"][0]["source"] = "other"
    config["spec"]["sources"] = [{"name": "other", "git": {"url": "https://example.com/o.git"}}]
    objs, _ = render(config)
    assert by_kind(objs, "Kustomization")["legacy"]["spec"]["sourceRef"] == \
        {"kind": "OCIRepository", "name": "fleet", "namespace": "flux-system"}


def test_a_node_source_still_wins_over_the_tree_source():
    config = with_bundles({"name": "web", "path": "./web"})
    config["spec"]["nodes"][0]["source"] = "other"
    config["spec"]["sources"] = [{"name": "other", "git": {"url": "https://example.com/o.git"}}]
    objs, _ = render(config)
    assert by_kind(objs, "Kustomization")["web"]["spec"]["sourceRef"]["name"] == "other"


def test_argocd_external_bundle_on_the_tree_repository():
    config = with_bundles({"name": "legacy", "path": "./legacy"}, gitops="argocd",
                          argocd={"repoURL": "https://github.com/acme/fleet.git"})
    objs, _ = render(config)
    app = next(o for o in objs if o["kind"] == "Application" and "legacy" in o["metadata"]["name"])
    assert app["spec"]["source"] == {"repoURL": "https://github.com/acme/fleet.git",
                                     "targetRevision": "HEAD", "path": "legacy"}


# -- dependsOn on objects outside the config -------------------------------------


def test_outside_dependencies_are_written_as_given_and_listed_as_must_exist():
    config = with_bundles(
        {"name": "base", "applications": [{"name": "db", "namespace": "db", "helm": HELM}]},
        {"name": "web", "dependsOn": ["base", {"name": "tenants", "namespace": "tenants"},
                                      {"name": "flux-system"}],
         "applications": [{"name": "web", "namespace": "web",
                           "helm": {**HELM, "dependsOn": ["db", {"name": "cert-manager",
                                                                 "namespace": "cert-manager"}]}}]})
    objs, _ = render(config)
    assert by_kind(objs, "Kustomization")["web"]["spec"]["dependsOn"] == [
        {"name": "base", "namespace": "flux-system"},
        {"name": "flux-system", "namespace": "flux-system"},  # the dependent's namespace
        {"name": "tenants", "namespace": "tenants"}]
    assert by_kind(objs, "HelmRelease")["web"]["spec"]["dependsOn"] == [
        {"name": "cert-manager", "namespace": "cert-manager"}, {"name": "db", "namespace": "flux-system"}]
    validate_flux([o for o in objs if is_flux(o)])
    from fn.layout.tree import Tree
    from fn.readme import cluster_readme
    text = cluster_readme(build(config), Tree())
    section = text[text.index("## Must exist"):text.index("## Sources")]
    assert "| HelmRelease | `cert-manager` | `cert-manager` | helm application `web` |" in section
    assert "| Kustomization | `flux-system` | `flux-system` | bundle `web` |" in section
    assert "| Kustomization | `tenants` | `tenants` | bundle `web` |" in section
    assert "`base`" not in section


def test_a_name_of_the_config_as_an_object_is_that_bundle():
    """{name} (or {name, namespace} in its namespace) of a bundle of the
    config is that bundle: checked for cycles like a plain name."""
    for ref in ({"name": "a"}, {"name": "a", "namespace": "flux-system"}):
        found = problems(with_bundles({"name": "a", "dependsOn": ["b"]},
                                      {"name": "b", "dependsOn": [ref]}))
        assert any("dependency cycle" in p for p in found), found


def test_outside_objects_are_not_checked_and_make_no_cycle():
    cluster = build(with_bundles(
        {"name": "a", "dependsOn": [{"name": "a", "namespace": "other"}, {"name": "nowhere"}]},
        {"name": "b", "applications": [{"name": "h", "namespace": "h", "helm": {
            **HELM, "dependsOn": [{"name": "h", "namespace": "elsewhere"}]}}]}))
    a = cluster.find_bundle("a")
    assert a.depends_on == [] and [d.name for d in a.external_dependencies] == ["a", "nowhere"]


def test_a_plain_name_stays_a_name_of_the_config():
    found = problems(with_bundles({"name": "web", "dependsOn": ["tenants"]}))
    assert any("write {name, namespace} for a Kustomization outside this config" in p
               for p in found), found
