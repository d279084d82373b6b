"""Platform services (docs/platform.md): notifications, image automation and
the warning for objects that may need a chart's CRDs."""

from __future__ import annotations

import copy

import pytest
import yaml

import fluxsim
import kpt
from fn.cli import main
from fn.krm import yamlio
from helpers import EXAMPLES, generated, need, package_items, resource_list, run, run_doc, validate_flux

PKG = EXAMPLES / "notifications-images"
MARKER = '# {"$imagepolicy": "flux-system:podinfo:tag"}'
HR = "clusters/staging/apps/podinfo/podinfo/flux-system-helmrelease-podinfo.yaml"


def example_config() -> dict:
    return yaml.safe_load((PKG / "cluster.yaml").read_text())


def render_items(config: dict, extra: list[dict] = ()) -> tuple[int, dict]:
    return run_doc(resource_list([*extra, config]))


def by_kind(doc: dict, kind: str) -> list[dict]:
    return [it for it in generated(doc) if it["kind"] == kind]


def errors(doc: dict) -> list[dict]:
    return [r for r in doc.get("results") or [] if r.get("severity") == "error"]


def warnings(doc: dict) -> list[dict]:
    return [r for r in doc.get("results") or [] if r.get("severity") == "warning"]


def field_paths(results: list[dict]) -> set[str]:
    return {(r.get("field") or {}).get("path") for r in results}


# -- the objects ----------------------------------------------------------------------

def test_notification_and_image_objects_pass_the_flux_schemas():
    rc, doc = run_doc(resource_list(package_items(PKG)))
    assert rc == 0, doc.get("results")
    validate_flux(generated(doc))
    kinds = sorted(it["kind"] for it in generated(doc) if "fn.kure.dev" not in it["apiVersion"])
    for kind in ("Provider", "Alert", "Receiver", "ImageRepository", "ImagePolicy",
                 "ImageUpdateAutomation"):
        assert kind in kinds


def test_alerts_name_their_bundles_or_every_object_per_namespace():
    _, doc = render_items(example_config())
    alerts = {a["metadata"]["name"]: a["spec"] for a in by_kind(doc, "Alert")}
    assert alerts["slack"]["eventSources"] == [
        {"kind": "Kustomization", "name": "*", "namespace": "flux-system"},
        {"kind": "HelmRelease", "name": "*", "namespace": "flux-system"}]
    assert alerts["apps-errors"]["eventSources"] == [
        {"kind": "Kustomization", "name": "podinfo", "namespace": "flux-system"},
        {"kind": "HelmRelease", "name": "podinfo", "namespace": "flux-system"}]
    assert alerts["apps-errors"]["eventSeverity"] == "error"
    assert alerts["slack"]["eventSeverity"] == "info"
    assert all(a["eventMetadata"] == {"cluster": "staging"} for a in alerts.values())
    assert alerts["apps-errors"]["providerRef"] == {"name": "pager"}


def test_a_receiver_reconciles_the_tree_source_unless_told_otherwise():
    config = example_config()
    _, doc = render_items(config)
    (rec,) = by_kind(doc, "Receiver")
    assert rec["spec"]["resources"] == [{"kind": "GitRepository", "name": "flux-system",
                                         "namespace": "flux-system"}]
    config["spec"]["notifications"]["receivers"][0]["resources"] = [
        {"kind": "ImageRepository", "name": "podinfo"}, {"kind": "Kustomization", "name": "podinfo"}]
    config["spec"]["notifications"]["alerts"][0]["exclusionList"] = ["waiting.*socket"]
    _, doc = render_items(config)
    (rec,) = by_kind(doc, "Receiver")
    assert rec["spec"]["resources"] == [
        {"kind": "ImageRepository", "name": "podinfo", "namespace": "flux-system"},
        {"kind": "Kustomization", "name": "podinfo", "namespace": "flux-system"}]
    slack = next(a for a in by_kind(doc, "Alert") if a["metadata"]["name"] == "slack")
    assert slack["spec"]["exclusionList"] == ["waiting.*socket"]
    validate_flux(generated(doc))


def test_image_objects_and_the_automation_on_the_tree_source():
    _, doc = render_items(example_config())
    (repo,) = by_kind(doc, "ImageRepository")
    (policy,) = by_kind(doc, "ImagePolicy")
    (auto,) = by_kind(doc, "ImageUpdateAutomation")
    assert repo["spec"] == {"image": "ghcr.io/stefanprodan/podinfo", "interval": "30m"}
    assert policy["spec"] == {"imageRepositoryRef": {"name": "podinfo", "namespace": "flux-system"},
                              "policy": {"semver": {"range": ">=6.0.0 <7.0.0"}}}
    assert auto["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system",
                                         "namespace": "flux-system"}
    assert auto["spec"]["update"] == {"path": "./clusters/staging", "strategy": "Setters"}
    assert auto["spec"]["git"]["checkout"] == {"ref": {"branch": "main"}}
    assert auto["spec"]["git"]["push"] == {"branch": "main"}
    (fi,) = by_kind(doc, "FluxInstance")
    assert {"image-reflector-controller", "image-automation-controller"} <= set(
        fi["spec"]["components"])


def test_alphabetical_policy_with_tag_filter():
    config = example_config()
    img = config["spec"]["nodes"][0]["bundles"][0]["applications"][0]["helm"]["image"]
    img["policy"] = {"alphabetical": "desc",
                     "filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"}}
    _, doc = render_items(config)
    (policy,) = by_kind(doc, "ImagePolicy")
    assert policy["spec"]["policy"] == {"alphabetical": {"order": "desc"}}
    assert policy["spec"]["filterTags"] == {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)",
                                            "extract": "$ts"}
    validate_flux(generated(doc))


def test_the_values_line_carries_the_setter_marker():
    rc, out = run(resource_list([example_config()]))
    assert rc == 0
    assert any(line.strip() == f"tag: 6.7.0 {MARKER}" for line in out.splitlines())


def test_emitter_writes_a_comment_after_a_scalar():
    c = yamlio.Commented("1.0", "note")
    text = yamlio.dump({"a": {"b": c}, "l": [c]})
    assert text == 'a:\n  b: "1.0" # note\nl:\n- "1.0" # note\n'
    assert yamlio.load(text) == {"a": {"b": "1.0"}, "l": ["1.0"]}
    assert copy.deepcopy(c).comment == "note" and c == "1.0"


# -- idempotent with the automation ----------------------------------------------------

def committed(items: list[dict], tag: str) -> list[dict]:
    """The items as the automation leaves them: the tag at the marker changed."""
    out = copy.deepcopy(items)
    for it in out:
        if it["kind"] == "HelmRelease" and it["metadata"]["name"] == "podinfo":
            it["spec"]["values"]["image"]["tag"] = tag
    return out


def test_function_route_keeps_the_committed_tag():
    first_rc, first = run(resource_list(package_items(PKG)))
    assert first_rc == 0
    items = yaml.safe_load(first)["items"]
    rc, second = run(resource_list(committed(items, "6.7.1")))
    assert rc == 0
    assert second == first.replace(f"tag: 6.7.0 {MARKER}", f"tag: 6.7.1 {MARKER}")
    assert f"tag: 6.7.1 {MARKER}" in second


def test_directory_mode_keeps_the_committed_tag(tmp_path):
    out = tmp_path / "out"
    assert main(["render", str(PKG / "cluster.yaml"), "-o", str(out)]) == 0
    before = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    hr = out / HR
    hr.write_text(hr.read_text().replace(f"tag: 6.7.0 {MARKER}", f"tag: 6.7.1 {MARKER}"))
    assert main(["render", str(PKG / "cluster.yaml"), "-o", str(out)]) == 0
    after = {p.relative_to(out).as_posix(): p.read_text() for p in out.rglob("*") if p.is_file()}
    changed = {p for p in after if after[p] != before.get(p)}
    assert changed == {HR, "clusters/staging/checksums.txt"}
    assert f"tag: 6.7.1 {MARKER}" in after[HR]
    assert after[HR] == before[HR].replace("6.7.0 #", "6.7.1 #")


def test_a_config_tag_is_used_without_a_previous_render():
    config = example_config()
    config["spec"]["nodes"][0]["bundles"][0]["applications"][0]["helm"]["values"]["image"]["tag"] \
        = "6.5.0"
    _, doc = render_items(config)
    (hr,) = by_kind(doc, "HelmRelease")
    assert hr["spec"]["values"]["image"]["tag"] == "6.5.0"


# -- errors ----------------------------------------------------------------------------

def test_an_image_without_image_automation_is_an_error():
    config = example_config()
    del config["spec"]["imageAutomation"]
    rc, doc = render_items(config)
    assert rc == 1
    assert "spec.nodes[0].bundles[0].applications[0].helm.image" in field_paths(errors(doc))


def test_platform_services_are_errors_under_argocd():
    config = example_config()
    config["spec"]["gitops"] = "argocd"
    config["spec"]["argocd"] = {"repoURL": "https://github.com/example/fleet.git"}
    del config["spec"]["bootstrap"]
    rc, doc = render_items(config)
    assert rc == 1
    assert {"spec.notifications", "spec.imageAutomation",
            "spec.nodes[0].bundles[0].applications[0].helm.image"} <= field_paths(errors(doc))


# -- objects that may need a chart's CRDs ---------------------------------------------------

ISSUER = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "le"},
          "spec": {"selfSigned": {}}}
ISSUER_CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
              "metadata": {"name": "clusterissuers.cert-manager.io"},
              "spec": {"group": "cert-manager.io", "scope": "Cluster",
                       "names": {"kind": "ClusterIssuer", "plural": "clusterissuers"},
                       "versions": [{"name": "v1", "served": True, "storage": True,
                                     "schema": {"openAPIV3Schema": {"type": "object"}}}]}}


def crd_config(crd_bundle: bool = False, depends: bool = False) -> dict:
    bundles = [{"name": "cert-manager", "applications": [
        {"name": "cert-manager", "namespace": "cert-manager",
         "helm": {"repository": "https://charts.jetstack.io", "version": "1.16.1"}},
        {"name": "issuers", "manifests": [ISSUER, {"apiVersion": "v1", "kind": "ConfigMap",
                                                   "metadata": {"name": "x", "namespace": "y"}}]}]}]
    if crd_bundle:
        bundles.append({"name": "crds", "applications": [{"name": "crds",
                                                          "manifests": [ISSUER_CRD]}]})
    if depends:
        bundles[0]["dependsOn"] = ["crds"]
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": "c"},
            "spec": {"nodes": [{"name": "infra", "bundles": bundles}]}}


def test_a_custom_resource_beside_a_chart_gets_a_warning():
    rc, doc = render_items(crd_config())
    assert rc == 0
    (w,) = warnings(doc)
    assert w["field"]["path"] == "spec.nodes[0].bundles[0].applications[1].manifests[0]"
    assert "may need the CRDs" in w["message"] and "dependsOn 'cert-manager'" in w["message"]


@pytest.mark.parametrize("how", ["input", "earlier-bundle"])
def test_no_warning_when_the_crd_is_applied_earlier(how):
    if how == "input":
        rc, doc = render_items(crd_config(), extra=[ISSUER_CRD])
    else:
        rc, doc = render_items(crd_config(crd_bundle=True, depends=True))
    assert rc == 0
    assert warnings(doc) == []


def test_a_crd_in_a_bundle_that_is_not_earlier_still_warns():
    rc, doc = render_items(crd_config(crd_bundle=True, depends=False))
    assert rc == 0
    assert [w["field"]["path"] for w in warnings(doc)] == [
        "spec.nodes[0].bundles[0].applications[1].manifests[0]"]


def test_directory_mode_reports_the_warning(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(crd_config()))
    assert main(["render", str(cfg), "-o", str(tmp_path / "out")]) == 0
    assert "may need the CRDs" in capsys.readouterr().err


# -- through real kpt and the Flux simulation ------------------------------------------

@pytest.mark.e2e
def test_kpt_render_twice_with_an_automation_commit_between(tmp_path):
    need("kpt")
    repo = kpt.make_repo(PKG, tmp_path)
    kpt.render(repo)
    hr = repo / HR
    assert f"tag: 6.7.0 {MARKER}" in hr.read_text()
    fluxsim.check(repo, "clusters/staging")
    kpt.commit_all(repo)
    kpt.render(repo)
    assert kpt.status(repo) == ""
    # the automation commits a newer tag; the next render keeps it and changes nothing
    hr.write_text(hr.read_text().replace(f"tag: 6.7.0 {MARKER}", f"tag: 6.7.1 {MARKER}"))
    kpt.commit_all(repo, "automation")
    kpt.render(repo)
    assert kpt.status(repo) == "", kpt.git(repo, "diff")
    fluxsim.check(repo, "clusters/staging")


@pytest.mark.e2e
def test_directory_mode_tree_passes_the_flux_simulation(tmp_path):
    need("kubectl")
    out = tmp_path / "repo"
    assert main(["render", str(PKG / "cluster.yaml"), "-o", str(out)]) == 0
    sim = fluxsim.check(out, "clusters/staging")
    applied = {k[1] for k in sim.applied}
    assert {"Alert", "Provider", "Receiver", "ImagePolicy", "ImageRepository",
            "ImageUpdateAutomation"} <= applied


def test_a_tag_written_as_a_number_keeps_its_spelling():
    first_rc, first = run(resource_list(package_items(PKG)))
    assert first_rc == 0
    # the automation may write a tag plain, which YAML reads as a number
    text = first.replace(f"tag: 6.7.0 {MARKER}", f"tag: 6.10 {MARKER}")
    rc, second = run(text)
    assert rc == 0
    assert f'tag: "6.10" {MARKER}' in second
