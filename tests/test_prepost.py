"""helm.pre / helm.post (platform.md): objects applied by the Flux
Kustomizations <bundle>-pre and <bundle>-post around a bundle; what the
Flux objects say, where the files go, and the order Flux applies them in."""

from __future__ import annotations

import copy

import pytest

import fluxsim
import kpt
import kptrepo
from helpers import EXAMPLES, generated, is_flux, item_path, need, package_items, resource_list, \
    run_doc, validate_flux

EXAMPLE = EXAMPLES / "cert-manager-post"
APP = "spec.nodes[0].bundles[0].applications[0]"
KS_API = "kustomize.toolkit.fluxcd.io/v1"
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cert-manager"}}
ISSUER = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
          "metadata": {"name": "letsencrypt"}, "spec": {"selfSigned": {}}}
CHART_CRDS = {"cert-manager": {"cert-manager.io"}}  # for fluxsim.reconcile


def cert_manager(**helm) -> dict:
    return {"name": "cert-manager", "namespace": "cert-manager",
            "helm": {"repository": "https://charts.jetstack.io", "version": "1.16.1", **helm}}


def config(*bundles: dict, **spec) -> dict:
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "prod", "annotations": {"config.kubernetes.io/path": "cluster.yaml"}},
            "spec": {"nodes": [{"name": "infra", "bundles": list(bundles)}], **spec}}


def unit(**bundle) -> list[dict]:
    """cert-manager with pre and post, and web depending on it."""
    return [{"name": "cert-manager", "applications": [cert_manager(pre=[NS], post=[ISSUER])], **bundle},
            {"name": "web", "dependsOn": ["cert-manager"], "applications": [
                {"name": "web", "manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
                                               "metadata": {"name": "web", "namespace": "web"}}]}]}]


def render(cfg: dict) -> dict:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 0, doc.get("results")
    return doc


def kustomizations(doc: dict) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in generated(doc) if o.get("apiVersion") == KS_API}


def deps(ks: dict) -> list[str]:
    return [d["name"] for d in ks["spec"].get("dependsOn", [])]


def errors(cfg: dict) -> dict[str, str]:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 1
    return {r["field"]["path"]: r["message"] for r in doc["results"] if r["severity"] == "error"}


# -- the Flux objects -----------------------------------------------------------------

def test_the_stages_wrap_the_bundle_and_dependents_wait_for_post():
    ks = kustomizations(render(config(*unit())))
    assert deps(ks["cert-manager-pre"]) == []
    assert deps(ks["cert-manager"]) == ["cert-manager-pre"]
    assert deps(ks["cert-manager-post"]) == ["cert-manager"]
    assert deps(ks["web"]) == ["cert-manager-post"]
    assert ks["cert-manager-post"]["spec"]["path"] == "./clusters/prod/infra/cert-manager-post"
    assert ks["cert-manager-pre"]["spec"]["path"] == "./clusters/prod/infra/cert-manager-pre"


def test_pre_takes_the_bundle_dependencies_as_flux_waits_for_them():
    bundles = unit()
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "base"}}
    bundles.insert(0, {"name": "base", "applications": [cert_manager(post=[other]) | {"name": "base"}]})
    bundles[1]["dependsOn"] = ["base"]
    ks = kustomizations(render(config(*bundles)))
    assert deps(ks["cert-manager-pre"]) == ["base-post"]
    assert deps(ks["cert-manager"]) == ["cert-manager-pre"]


def test_a_bundle_without_stages_is_unchanged():
    ks = kustomizations(render(config({"name": "a", "applications": [cert_manager()]},
                                      {"name": "b", "dependsOn": ["a"]})))
    assert set(ks) == {"a", "b"} and deps(ks["b"]) == ["a"]


def test_stages_are_applied_as_the_bundle_is_but_not_its_own_checks():
    check = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "x", "namespace": "cert-manager"}
    ks = kustomizations(render(config(*unit(
        interval="3m", retryInterval="1m", timeout="9m", prune=False, suspend=True, force=True, labels={"team": "infra"},
        serviceAccountName="deployer", healthChecks=[check], components=["../c"],
        patches=[{"patch": "- op: add\n  path: /metadata/labels/x\n  value: y",
                  "target": {"kind": "Deployment"}}]))))
    bundle, post = ks["cert-manager"]["spec"], ks["cert-manager-post"]["spec"]
    for key in ("interval", "timeout", "prune", "suspend", "force", "serviceAccountName",
                "sourceRef", "retryInterval"):
        assert post[key] == bundle[key], key
    assert ks["cert-manager-post"]["metadata"]["labels"] == {"team": "infra"}
    for key in ("healthChecks", "components", "patches"):
        assert key in bundle and key not in post, key
    # the bundle's wait is off for its health checks; post has none, so it waits
    assert bundle["wait"] is False and post["wait"] is True


@pytest.mark.parametrize("wait", [True, False, None])
def test_the_bundle_waits_for_its_release_whatever_wait_says(wait):
    """<bundle>-post applies the chart's custom resources only once the
    bundle is Ready: the bundle must wait for its HelmRelease."""
    extra = {} if wait is None else {"wait": wait}
    spec = kustomizations(render(config(*unit(**extra))))["cert-manager"]["spec"]
    checked = {c["name"] for c in spec.get("healthChecks", []) if c["kind"] == "HelmRelease"}
    assert spec["wait"] is True or "cert-manager" in checked


def test_objects_get_the_application_namespace_and_their_own_files():
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}}
    doc = render(config({"name": "cm", "applications": [cert_manager(pre=[NS, secret], post=[ISSUER])]}))
    placed = {o["kind"]: (item_path(o), o["metadata"].get("namespace")) for o in generated(doc)}
    assert placed["Secret"] == ("clusters/prod/infra/cm-pre/cert-manager/cert-manager-secret-token.yaml",
                                "cert-manager")
    assert placed["ClusterIssuer"] == (
        "clusters/prod/infra/cm-post/cert-manager/cluster-clusterissuer-letsencrypt.yaml", None)


def test_a_crd_in_pre_gives_the_scope_of_post_objects():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster",
                    "names": {"kind": "Widget", "plural": "widgets"},
                    "versions": [{"name": "v1", "served": True, "storage": True}]}}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    doc = render(config({"name": "cm", "applications": [cert_manager(pre=[crd], post=[widget])]}))
    (placed,) = [o for o in generated(doc) if o["kind"] == "Widget"]
    assert "namespace" not in placed["metadata"]  # cluster-scoped: no application namespace


def test_every_generated_flux_object_passes_the_flux_schemas():
    rc, doc = run_doc(resource_list(package_items(EXAMPLE)))
    assert rc == 0, doc["results"]
    validate_flux([o for o in generated(doc) if is_flux(o)])


# -- ordering rules ---------------------------------------------------------------------

def test_a_deadlock_through_post_is_reported():
    bundles = unit()
    bundles[0]["applications"][0]["helm"]["dependsOn"] = ["web-chart"]
    bundles[1]["applications"].append({"name": "web-chart", "helm": {
        "repository": "https://charts.example.com", "chart": "web", "version": "1.0.0"}})
    found = errors(config(*bundles))
    assert "ordering deadlock" in found[f"{APP}.helm.dependsOn[0]"]


def test_a_stage_directory_too_long_is_reported_at_its_field():
    """The bundle's directories fit, <bundle>-post/ (5 bytes longer) does not."""
    from fn.layout.plan import MAX_DIR
    # clusters/prod/infra/<bundle>/c fits exactly; clusters/prod/infra/<bundle>-post does not
    root = "/".join(["r" * 200] * 14)  # longer than MAX_DIR allows: trimmed below
    bundle = "b" * 40
    used = len(f"{root}/prod/infra/{bundle}/c")
    root = root[:MAX_DIR - used]
    cfg = config({"name": bundle, "applications": [cert_manager(post=[ISSUER]) | {"name": "c"}]},
                 layout={"root": root})
    found = errors(cfg)
    assert list(found) == [f"{APP}.helm.post"] and "bytes" in found[f"{APP}.helm.post"]


def test_bundle_cycles_stay_the_model_rule_s():
    bundles = unit()
    bundles[0]["dependsOn"] = ["web"]
    found = errors(config(*bundles))
    assert list(found) == ["spec.nodes[0].bundles[0].dependsOn[0]"]
    assert "dependency cycle" in found["spec.nodes[0].bundles[0].dependsOn[0]"]


# -- the tree, as Flux applies it ------------------------------------------------------------

@pytest.mark.e2e
@pytest.mark.parametrize("placement", ["separate", "integrated"])
@pytest.mark.parametrize("mode", ["explicit", "recursive"])
def test_flux_applies_everything_once_in_order(tmp_path, placement, mode):
    need("kubectl")
    doc = render(config(*unit(), flux={"placement": placement},
                        layout={"kustomizationMode": mode}))
    kptrepo.write_items(doc["items"], tmp_path)
    sim = fluxsim.check(tmp_path, "clusters/prod", cluster="prod")
    run = fluxsim.reconcile(sim, CHART_CRDS)
    assert not run.failures and not run.stuck
    order = [r.split("/")[-1] for r in run.ready]
    assert order.index("cert-manager-pre") < order.index("cert-manager") \
        < order.index("cert-manager-post") < order.index("web")


@pytest.mark.e2e
def test_without_post_the_issuer_meets_missing_crds(tmp_path):
    """The simulation's ordering can fail: the ClusterIssuer in the chart's
    own bundle is refused before the chart installs its CRDs, and the bundle
    never gets Ready."""
    need("kubectl")
    doc = render(config({"name": "cert-manager", "applications": [
        cert_manager(), {"name": "issuers", "manifests": [ISSUER]}]}))
    kptrepo.write_items(doc["items"], tmp_path)
    run = fluxsim.reconcile(fluxsim.check(tmp_path, "clusters/prod", cluster="prod"), CHART_CRDS)
    assert run.failures == ["Kustomization.kustomize.toolkit.fluxcd.io flux-system/cert-manager: "
                            "no matches for kind ClusterIssuer"]
    assert run.stuck


@pytest.mark.e2e
def test_the_example_through_kpt_twice_and_the_flux_simulation(tmp_path):
    need("kpt")
    need("kubectl")
    repo = kpt.make_repo(EXAMPLE, tmp_path)
    for _ in range(2):
        kpt.render(repo)
        sim = fluxsim.check(repo, "clusters/cert-manager-post")
        run = fluxsim.reconcile(sim, CHART_CRDS)
        assert not run.failures and not run.stuck
        assert [r.split("/")[-1] for r in run.ready if r.startswith("Kustomization")] == [
            "cert-manager-pre", "cert-manager", "cert-manager-post", "web"]
        kpt.commit_all(repo)
        assert kpt.status(repo) == ""


def test_the_readme_lists_the_stages():
    from fn.readme import cluster_readme
    from fn.registry import build_cluster, engine_for_cluster
    cluster = build_cluster(config(*unit()))
    tree = engine_for_cluster(cluster).create_layout_with_resources(cluster)
    text = cluster_readme(cluster, tree)
    assert "| `cert-manager-post` | `infra/cert-manager-post/` | `cert-manager` | " \
           "`cert-manager` (helm.post) |" in text
    assert "| `web` | `infra/web/` | `cert-manager-post` |" in text
    assert "b0pre --> b0" in text and "b0 --> b0post" in text and "b0post --> b1" in text


def test_argocd_refuses_pre_and_post():
    cfg = config(*unit(), gitops="argocd", argocd={"repoURL": "https://github.com/o/r.git"})
    found = errors(copy.deepcopy(cfg))
    assert "gitops: argocd" in found[f"{APP}.helm.pre"] and "gitops: argocd" in found[f"{APP}.helm.post"]
