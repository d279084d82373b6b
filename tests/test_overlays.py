"""Spec overlays (bundle kustomization, helm release, source spec,
bootstrap.instance) are checked against the shipped Flux CRD schemas, with
the config's field path in every message (fn/flux/overlays.py)."""

from __future__ import annotations

import copy

import pytest

from fn import ConfigError
from fn import load_cluster as build
from fn.flux import overlays

BASE = {
    "apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": "dev"},
    "spec": {
        "sources": [{"name": "charts", "helm": {"url": "https://charts.example.com"}},
                    {"name": "repo", "git": {"url": "https://github.com/acme/apps"}}],
        "bootstrap": {"fluxVersion": "2.9.x", "sync": {"url": "https://github.com/acme/fleet"}},
        "nodes": [{"name": "apps", "bundles": [{"name": "web", "applications": [
            {"name": "podinfo", "namespace": "podinfo",
             "helm": {"chart": "podinfo", "version": "6.7.0", "source": "charts"}}]}]}],
    },
}
BUNDLE = "spec.nodes[0].bundles[0]"
RELEASE = f"{BUNDLE}.applications[0].helm.release"


def with_overlays(bundle=None, release=None, sources=None, instance=None) -> dict:
    doc = copy.deepcopy(BASE)
    spec = doc["spec"]
    if bundle is not None:
        spec["nodes"][0]["bundles"][0]["kustomization"] = bundle
    if release is not None:
        spec["nodes"][0]["bundles"][0]["applications"][0]["helm"]["release"] = release
    for i, overlay in (sources or {}).items():
        spec["sources"][i]["spec"] = overlay
    if instance is not None:
        spec["bootstrap"]["instance"] = instance
    return doc


def problems(doc: dict) -> list[str]:
    with pytest.raises(ConfigError) as e:
        build(doc)
    return [str(p) for p in e.value.problems]


def test_valid_overlays_pass():
    build(with_overlays(
        bundle={"healthChecks": [{"kind": "Deployment", "name": "web", "namespace": "web"}],
                "deletionPolicy": "Orphan", "commonMetadata": {"labels": {"team": "a"}}},
        release={"upgrade": {"cleanupOnFail": True, "strategy": {"name": "RetryOnFailure"}},
                 "install": {"strategy": {"retryInterval": "1m"}}, "maxHistory": 3},
        sources={0: {"timeout": "1m", "type": "default"}, 1: {"ref": {"tag": "v1"}}},
        instance={"cluster": {"type": "kubernetes", "multitenant": True}}))


def test_wrong_type():
    assert problems(with_overlays(release={"upgrade": {"cleanupOnFail": "yes"}})) == [
        f"{RELEASE}.upgrade.cleanupOnFail: expected true or false, got a string 'yes'; "
        "write true or false, without quotes"]


def test_unknown_field_with_a_close_match():
    assert problems(with_overlays(bundle={"healtChecks": []})) == [
        f"{BUNDLE}.kustomization.healtChecks: unknown field 'healtChecks'; did you mean 'healthChecks'?"]


def test_enum():
    assert problems(with_overlays(bundle={"deletionPolicy": "Orphans"})) == [
        f"{BUNDLE}.kustomization.deletionPolicy: 'Orphans' is not one of MirrorPrune, Delete, "
        "WaitForTermination, Orphan; did you mean 'Orphan'?"]


def test_cel_rule():
    found = problems(with_overlays(bundle={"kubeConfig": {"secretRef": {"name": "a"},
                                                          "configMapRef": {"name": "b"}}}))
    assert found == [f"{BUNDLE}.kustomization.kubeConfig: exactly one of spec.kubeConfig.configMapRef "
                     "or spec.kubeConfig.secretRef must be specified"]


def test_a_cel_rule_reading_a_field_the_overlay_leaves_to_kure_fn_passes():
    """install.strategy.name comes from helm.strategy: the overlay gives only retryInterval."""
    build(with_overlays(release={"install": {"strategy": {"retryInterval": "1m"}}}))
    assert problems(with_overlays(release={"upgrade": {"strategy": {
        "name": "RemediateOnFailure", "retryInterval": "1m"}}})) == [
        f"{RELEASE}.upgrade.strategy: .retryInterval can only be set when .name is 'RetryOnFailure'"]


def test_required_is_not_enforced_along_mappings_but_in_list_entries():
    build(with_overlays(bundle={"decryption": {"secretRef": {"name": "sops"}}}))  # no provider
    assert problems(with_overlays(bundle={"healthChecks": [{"kind": "Deployment"}]})) == [
        f"{BUNDLE}.kustomization.healthChecks[0].name: name is required: Name of the referent."]


@pytest.mark.parametrize("overlay, field, owner", [
    ({"bundle": {"path": "./x"}}, f"{BUNDLE}.kustomization.path", "external bundle's `path`"),
    ({"bundle": {"sourceRef": {"kind": "GitRepository", "name": "x"}}},
     f"{BUNDLE}.kustomization.sourceRef", "spec.flux.sourceRef"),
    ({"bundle": {"dependsOn": [{"name": "x"}]}}, f"{BUNDLE}.kustomization.dependsOn",
     "the bundle's `dependsOn`"),
    ({"release": {"chart": {"spec": {"chart": "x"}}}}, f"{RELEASE}.chart", "helm `chart`"),
    ({"release": {"chartRef": {"kind": "OCIRepository", "name": "x"}}}, f"{RELEASE}.chartRef",
     "helm `repository`"),
    ({"release": {"dependsOn": [{"name": "x"}]}}, f"{RELEASE}.dependsOn", "helm `dependsOn`"),
    ({"release": {"targetNamespace": "x"}}, f"{RELEASE}.targetNamespace", "helm `targetNamespace`"),
    ({"release": {"values": {"a": 1}}}, f"{RELEASE}.values", "helm `values`"),
    ({"release": {"valuesFrom": []}}, f"{RELEASE}.valuesFrom", "helm `valuesFrom`"),
    ({"instance": {"sync": {"path": "x"}}}, "spec.bootstrap.instance.sync.path", "spec.layout.root"),
])
def test_a_derived_field_names_its_typed_field(overlay, field, owner):
    found = problems(with_overlays(**overlay))
    assert len(found) == 1, found  # not also "unknown field"
    assert found[0].startswith(f"{field}: ") and owner in found[0], found


def test_the_source_type_picks_the_schema():
    found = problems(with_overlays(sources={0: {"ref": {"tag": "v1"}}, 1: {"type": "oci"}}))
    assert [f.split(";")[0] for f in found] == [
        "spec.sources[0].spec.ref: unknown field 'ref'",  # a HelmRepository has no ref
        "spec.sources[1].spec.type: unknown field 'type'"]  # a GitRepository has no type
    assert "known fields: accessFrom, certSecretRef" in found[0]
    assert "known fields: ignore, include" in found[1]


def test_every_problem_of_every_site_in_one_run():
    found = problems(with_overlays(bundle={"interval": "1d"}, release={"maxHistory": "3"},
                                   sources={1: {"ignore": 1}}, instance={"cluster": {"type": "k8s"}}))
    assert [f.split(":")[0] for f in found] == [
        "spec.sources[1].spec.ignore", "spec.bootstrap.instance.cluster.type",
        f"{BUNDLE}.kustomization.interval", f"{RELEASE}.maxHistory"]


def test_sites_include_the_defaults_overlays_where_a_config_has_them():
    """spec.flux.defaults / nodes[].defaults overlays (their fields come with
    the defaults): read by attribute, so a record without them yields none."""
    cluster = build(with_overlays(bundle={"wait": True}))
    assert [(k, p) for k, p, _ in overlays.sites(cluster)] == [
        ("Kustomization", f"{BUNDLE}.kustomization")]

    class Defaults:
        kustomization = {"timeout": "5m"}

        class helm:
            release = {"maxHistory": 2}
    assert [(k, p) for k, p, _ in overlays._defaults_sites(Defaults, "spec.flux.defaults")] == [
        ("Kustomization", "spec.flux.defaults.kustomization"),
        ("HelmRelease", "spec.flux.defaults.helm.release")]


def test_the_overlay_schema_drops_required_and_derived_fields_but_keeps_list_entries_whole():
    s = overlays.overlay_schema("HelmRelease")
    assert "required" not in s and "chart" not in s["properties"] and "chartRef" not in s["properties"]
    assert not s.get("x-kubernetes-validations")  # the chart/chartRef rule is kure-fn's to keep
    k = overlays.overlay_schema("Kustomization")
    assert k["properties"]["healthChecks"]["items"]["required"] == ["kind", "name"]
    assert "required" not in k["properties"]["decryption"]


def test_the_json_schema_export_reads_every_keyword_the_shipped_schemas_use():
    """A keyword `overlays._json_schema` does not know would be dropped silently."""
    seen: set = set()

    def walk(s):
        seen.update(s)
        for sub in [*(s.get("properties") or {}).values(), s.get("items"), s.get("additionalProperties")]:
            if isinstance(sub, dict):
                walk(sub)
    for kind in overlays.OVERLAY_KINDS:
        walk(overlays.overlay_schema(kind))
    assert seen <= set(overlays.HANDLED), seen - set(overlays.HANDLED)


def test_the_overlay_definitions_for_editors():
    defs = overlays.schema_extension().definitions
    hr = defs["HelmReleaseOverlay"]
    assert "chart" not in hr["properties"] and "required" not in hr
    assert hr["additionalProperties"] is False
    assert "values" not in hr["properties"] and "upgrade" in hr["properties"]
    assert "path" not in defs["FluxInstanceOverlay"]["properties"]["sync"]["properties"]
    k = defs["KustomizationOverlay"]
    assert k["properties"]["interval"]["type"] == "string"  # required by Flux: no null
    wait, checks, post = (k["properties"][f]["anyOf"] for f in ("wait", "healthChecks", "postBuild"))
    assert wait == [{"type": "boolean", "description": wait[0]["description"]}, {"type": "null"}]
    assert checks[0]["items"]["required"] == ["kind", "name"]
    assert post[0]["properties"]["substitute"]["additionalProperties"] == {"type": "string"}


# -- typed Flux fields ----------------------------------------------------------------

def test_typed_post_renderers_are_checked_against_the_crd():
    doc = copy.deepcopy(BASE)
    doc["spec"]["nodes"][0]["bundles"][0]["applications"][0]["helm"]["postRenderers"] = [
        {"kustomize": {"patchesStrategicMerge": []}}]
    assert problems(doc) == [
        f"{BUNDLE}.applications[0].helm.postRenderers[0].kustomize.patchesStrategicMerge: unknown field "
        "'patchesStrategicMerge'; known fields: images, patches"]


def test_typed_fields_are_written_as_flux_expects():
    from fn.flux import generator, openapi
    from fn.flux.helm import helm_release
    from fn.flux.sources import ChartSources
    from fn.layout.plan import TreePlan
    doc = copy.deepcopy(BASE)
    bundle = doc["spec"]["nodes"][0]["bundles"][0]
    bundle.update(kubeConfig={"configMapRef": {"name": "remote"}}, namePrefix="a-",
                  commonMetadata={"annotations": {"x": "y"}})
    bundle["applications"][0]["helm"].update(strategy="RemediateOnFailure", test={},
                                             upgrade={"force": True}, maxHistory=0)
    cluster = build(doc)
    b = next(cluster.bundles())
    k = generator.ResourceGenerator().kustomization(b, TreePlan.for_cluster(cluster))["spec"]
    assert (k["kubeConfig"], k["namePrefix"], k["commonMetadata"]) == (
        {"configMapRef": {"name": "remote"}}, "a-", {"annotations": {"x": "y"}})
    hr = helm_release(b.applications[0], ChartSources(cluster))["spec"]
    assert hr["install"]["strategy"] == hr["upgrade"]["strategy"] == {"name": "RemediateOnFailure"}
    assert (hr["test"], hr["upgrade"]["force"], hr["maxHistory"]) == ({"enable": True}, True, 0)
    assert openapi.validate("Kustomization", k) == openapi.validate("HelmRelease", hr) == []


def test_kube_config_takes_one_reference():
    doc = copy.deepcopy(BASE)
    doc["spec"]["nodes"][0]["bundles"][0]["kubeConfig"] = {"secretRef": {"name": "a"},
                                                           "configMapRef": {"name": "b"}}
    assert problems(doc) == [f"{BUNDLE}.kubeConfig: set exactly one of secretRef, configMapRef "
                             "(found secretRef and configMapRef)"]
