"""fluxNamespace (docs/config.md, Where Flux objects live): Flux objects
outside spec.flux.namespace, and every reference naming the namespace of the
object it points at."""

from __future__ import annotations

import copy

import pytest

import fluxsim
import kptrepo
from fn.model.cluster import ConfigError
from fn.registry import build_cluster
from helpers import EXAMPLES, need, package_items, resource_list, run_doc
from layoutcase import cluster, messages, objects, path_of, run

CHART = {"chart": "jellyfin", "repository": "https://jellyfin.github.io/jellyfin-helm",
         "version": "2.1.0"}


def helm_app(name: str, **extra) -> dict:
    return {"name": name, "namespace": name, "helm": dict(CHART), **extra}


def spec(*nodes: dict, **flux) -> dict:
    s: dict = {"nodes": list(nodes)}
    if flux:
        s["flux"] = flux
    return s


def errors(doc: dict) -> dict[str, str]:
    """Field path -> message of every error result."""
    return {(r.get("field") or {}).get("path"): r["message"] for r in messages(doc, "error")}


def by_name(doc: dict, kind: str) -> dict[tuple[str, str], dict]:
    return {(o["metadata"].get("namespace"), o["metadata"]["name"]): o
            for o in objects(doc, kind)}


def doc_of(s: dict, **settings) -> dict:
    return run(cluster(spec=s, **settings))


def build(s: dict):
    return build_cluster({"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
                          "metadata": {"name": "prod"}, "spec": s})


# -- the model: inherited once, closest setting wins ---------------------------------

def test_flux_namespace_is_inherited_application_bundle_node_parent_flux():
    c = build(spec(
        {"name": "top", "fluxNamespace": "top", "bundles": [
            {"name": "a", "applications": [helm_app("a1"), helm_app("a2", fluxNamespace="own")]},
            {"name": "b", "fluxNamespace": "bee", "applications": [
                helm_app("b1"), {"name": "m", "manifests": []}]}],
         "children": [{"name": "kid", "bundles": [{"name": "c"}]}]},
        {"name": "plain", "bundles": [{"name": "d"}]},
        namespace="flux"))
    bundles = {b.name: b for b in c.bundles()}
    apps = {a.name: a for a in c.applications()}
    assert {n: b.flux_namespace for n, b in bundles.items()} == \
        {"a": "top", "b": "bee", "c": "top", "d": "flux"}
    assert {n: a.flux_namespace for n, a in apps.items()} == \
        {"a1": "top", "a2": "own", "b1": "bee", "m": "bee"}
    assert apps["a2"].flux_namespace_path == "spec.nodes[0].bundles[0].applications[1].fluxNamespace"
    assert bundles["c"].flux_namespace_path == "spec.nodes[0].fluxNamespace"
    assert bundles["d"].flux_namespace_path == "spec.flux.namespace"
    assert c.flux_namespaces() == {"top": "spec.nodes[0].fluxNamespace",
                                   "own": "spec.nodes[0].bundles[0].applications[1].fluxNamespace",
                                   "bee": "spec.nodes[0].bundles[1].fluxNamespace"}


def test_a_declared_source_lives_in_its_namespace_else_the_flux_namespace():
    s = spec({"name": "n", "bundles": [{"name": "b", "applications": [helm_app("x")]}]})
    s["sources"] = [{"name": "here", "namespace": "media", "helm": {"url": "https://c.example.com"}},
                    {"name": "there", "git": {"url": "https://github.com/a/b"}}]
    c = build(s)
    assert {n: src.namespace for n, src in c.sources.items()} == \
        {"here": "media", "there": "flux-system"}


# -- the Flux objects and their references -------------------------------------------

def test_objects_live_in_their_flux_namespace_and_references_name_the_target_namespace():
    doc = doc_of(spec(
        {"name": "infra", "bundles": [
            {"name": "cert-manager", "applications": [
                {"name": "cert-manager", "fluxNamespace": "cert-manager",
                 "helm": {"repository": "oci://quay.io/jetstack/charts/cert-manager",
                          "version": "v1.16.1"}}]}]},
        {"name": "media", "fluxNamespace": "media", "defaults": {"wait": False}, "bundles": [
            {"name": "jellyfin", "dependsOn": ["cert-manager"],
             "applications": [helm_app("jellyfin", helm={**CHART, "valuesConfigMap": True,
                                                         "values": {"a": 1},
                                                         "dependsOn": ["cert-manager"]})]}]}))
    ks = by_name(doc, "Kustomization")
    jelly = ks[("media", "jellyfin")]["spec"]
    assert ("flux-system", "cert-manager") in ks
    assert jelly["dependsOn"] == [{"name": "cert-manager", "namespace": "flux-system"}]
    assert jelly["sourceRef"] == {"kind": "GitRepository", "name": "flux-system",
                                  "namespace": "flux-system"}
    assert jelly["healthChecks"] == [{"apiVersion": "helm.toolkit.fluxcd.io/v2",
                                      "kind": "HelmRelease", "name": "jellyfin",
                                      "namespace": "media"}]
    hr = by_name(doc, "HelmRelease")
    assert hr[("cert-manager", "cert-manager")]["spec"]["chartRef"] == {
        "kind": "OCIRepository", "name": "quay-io-jetstack-charts-cert-manager",
        "namespace": "cert-manager"}
    jr = hr[("media", "jellyfin")]["spec"]
    assert jr["dependsOn"] == [{"name": "cert-manager", "namespace": "cert-manager"}]
    assert jr["chart"]["spec"]["sourceRef"]["namespace"] == "media"
    assert ("media", "jellyfin-values") in by_name(doc, "ConfigMap")
    assert set(by_name(doc, "OCIRepository")) == {("cert-manager",
                                                  "quay-io-jetstack-charts-cert-manager")}
    assert set(by_name(doc, "HelmRepository")) == {("media", "jellyfin-github-io-jellyfin-helm")}
    assert set(by_name(doc, "Namespace")) == {(None, "cert-manager"), (None, "media")}
    assert path_of(doc, "Namespace", "media") == "clusters/prod/flux-system/cluster-namespace-media.yaml"


def test_an_inline_namespace_of_a_flux_namespace_is_the_one_written_in_flux_system():
    """Its labels and annotations kept (pod security, prune: disabled), applied
    by the bootstrap sync before the Kustomization in it, not by its bundle."""
    labelled = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "media", "labels": {"pod-security.kubernetes.io/enforce":
                                                         "privileged"},
                             "annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}}
    doc = doc_of(spec({"name": "media", "fluxNamespace": "media", "bundles": [
        {"name": "jellyfin", "applications": [
            {"name": "namespace", "manifests": [labelled]}, helm_app("jellyfin")]}]}))
    [ns] = objects(doc, "Namespace")
    assert ns["metadata"]["labels"] == labelled["metadata"]["labels"]
    assert ns["metadata"]["annotations"]["kustomize.toolkit.fluxcd.io/prune"] == "disabled"
    assert path_of(doc, "Namespace", "media") == \
        "clusters/prod/flux-system/cluster-namespace-media.yaml"


def test_two_inline_namespaces_of_one_flux_namespace_are_an_error():
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "media"}}
    doc = run(cluster(spec=spec({"name": "media", "fluxNamespace": "media", "bundles": [
        {"name": "a", "applications": [{"name": "ns", "manifests": [ns]}]},
        {"name": "b", "applications": [{"name": "ns2", "manifests": [ns]}]}]})), ok=False)
    [message] = errors(doc).values()
    assert "spec.nodes[0].bundles[0].applications[0].manifests[0]" in message
    assert "spec.nodes[0].bundles[1].applications[0].manifests[0]" in message


def test_chart_sources_are_one_per_namespace_and_url_with_one_name():
    doc = doc_of(spec({"name": "n", "bundles": [{"name": "b", "applications": [
        helm_app("a"), helm_app("b"), helm_app("c", fluxNamespace="media"),
        helm_app("d", fluxNamespace="media")]}]}))
    assert sorted(by_name(doc, "HelmRepository")) == [
        ("flux-system", "jellyfin-github-io-jellyfin-helm"),
        ("media", "jellyfin-github-io-jellyfin-helm")]
    refs = {o["metadata"]["name"]: o["spec"]["chart"]["spec"]["sourceRef"]["namespace"]
            for o in objects(doc, "HelmRelease")}
    assert refs == {"a": "flux-system", "b": "flux-system", "c": "media", "d": "media"}


def test_oci_chart_sources_are_one_per_namespace_url_and_version():
    def oci(name, version, **extra):
        return {"name": name, **extra, "helm": {
            "repository": "oci://ghcr.io/stefanprodan/charts/podinfo", "version": version}}
    doc = doc_of(spec({"name": "n", "bundles": [{"name": "b", "applications": [
        oci("a", "6.7.0"), oci("b", "6.7.1", fluxNamespace="media"),
        oci("c", "6.7.0", fluxNamespace="media")]}]}))
    assert sorted(by_name(doc, "OCIRepository")) == [
        ("flux-system", "ghcr-io-stefanprodan-charts-podinfo-6-7-0"),
        ("media", "ghcr-io-stefanprodan-charts-podinfo-6-7-0"),
        ("media", "ghcr-io-stefanprodan-charts-podinfo-6-7-1")]


def test_a_declared_helm_source_is_reused_only_in_its_own_namespace():
    s = spec({"name": "n", "bundles": [{"name": "b", "applications": [
        helm_app("a"), helm_app("b", fluxNamespace="media")]}]})
    s["sources"] = [{"name": "jellyfin", "namespace": "media",
                     "helm": {"url": "https://jellyfin.github.io/jellyfin-helm"}}]
    doc = doc_of(s)
    refs = {o["metadata"]["name"]: o["spec"]["chart"]["spec"]["sourceRef"]
            for o in objects(doc, "HelmRelease")}
    assert refs["b"] == {"kind": "HelmRepository", "name": "jellyfin", "namespace": "media"}
    assert refs["a"] == {"kind": "HelmRepository", "name": "jellyfin-github-io-jellyfin-helm",
                         "namespace": "flux-system"}
    assert sorted(by_name(doc, "HelmRepository")) == [
        ("flux-system", "jellyfin-github-io-jellyfin-helm"), ("media", "jellyfin")]


def test_an_external_bundle_refers_to_its_source_in_the_source_namespace():
    s = spec({"name": "n", "fluxNamespace": "team", "bundles": [
        {"name": "ext", "source": "repo", "path": "./deploy"}]})
    s["sources"] = [{"name": "repo", "namespace": "team", "git": {"url": "https://github.com/a/b"}}]
    doc = doc_of(s, **{"flux.crossNamespaceRefs": False})
    assert objects(doc, "Kustomization")[0]["spec"]["sourceRef"] == {
        "kind": "GitRepository", "name": "repo", "namespace": "team"}
    assert set(by_name(doc, "GitRepository")) == {("team", "repo")}


def test_bootstrap_objects_stay_in_the_flux_namespace():
    s = spec({"name": "n", "fluxNamespace": "media", "bundles": [{"name": "flux-system"}]})
    s["bootstrap"] = {"mode": "gotk", "fluxVersion": "2.9.x",
                      "sync": {"url": "https://github.com/a/fleet"}}
    doc = doc_of(s)  # a bundle named like the Flux namespace is fine outside it
    ks = by_name(doc, "Kustomization")
    assert set(ks) == {("flux-system", "flux-system"), ("media", "flux-system")}
    assert set(by_name(doc, "GitRepository")) == {("flux-system", "flux-system")}


@pytest.mark.e2e
@pytest.mark.parametrize("naming", ["namespaced", "kind-name"])
def test_both_file_namings_hold_several_namespaces(naming, tmp_path):
    """kind-name: a chart source of one name in two namespaces shares a file."""
    need("kubectl")
    doc = doc_of(spec({"name": "n", "bundles": [{"name": "b", "applications": [
        helm_app("a"), helm_app("c", fluxNamespace="media")]}]}),
        **{"layout.fileNaming": naming})
    kptrepo.write_items(doc["items"], tmp_path)
    sim = fluxsim.check(tmp_path, "clusters/prod", cluster="prod")
    assert ("source.toolkit.fluxcd.io", "HelmRepository", "media",
            "jellyfin-github-io-jellyfin-helm") in sim.applied


# -- the whole example through the Flux simulation -----------------------------------

@pytest.mark.e2e
def test_the_namespaces_example_passes_the_flux_simulation(tmp_path):
    need("kubectl")
    rc, doc = run_doc(resource_list(package_items(EXAMPLES / "namespaces")))
    assert rc == 0, doc.get("results")
    kptrepo.write_items(doc["items"], tmp_path)
    sim = fluxsim.check(tmp_path, "clusters/namespaces")
    namespaces = {k[2] for k in sim.applied if k[0].endswith(".fluxcd.io")}
    assert namespaces == {"flux-system", "cert-manager", "media", "arr"}
    assert "Kustomization.kustomize.toolkit.fluxcd.io media/jellyfin" in sim.followed


# -- rules ---------------------------------------------------------------------------

def test_target_namespace_over_helm_is_allowed_when_nothing_moves():
    bundle = {"name": "b", "fluxNamespace": "media", "targetNamespace": "media",
              "applications": [helm_app("a")]}
    doc = doc_of(spec({"name": "n", "bundles": [bundle]}))
    assert ("media", "a") in by_name(doc, "HelmRelease")
    moved = copy.deepcopy(bundle)
    moved["applications"].append(helm_app("other", fluxNamespace="tools"))
    doc = run(cluster(spec=spec({"name": "n", "bundles": [moved]})), ok=False)
    assert "out of 'tools'" in errors(doc)["spec.nodes[0].bundles[0].targetNamespace"]


def test_cross_namespace_refs_false_refuses_every_crossing_and_names_both_ends():
    s = spec({"name": "n", "defaults": {"wait": False}, "bundles": [
        {"name": "base", "applications": [helm_app("base")]},
        {"name": "top", "fluxNamespace": "media", "dependsOn": ["base"],
         "applications": [helm_app("top", fluxNamespace="tools",
                                   helm={**CHART, "dependsOn": ["base"]})]}]})
    with pytest.raises(ConfigError) as e:
        build({**s, "flux": {"crossNamespaceRefs": False}})
    found = {p.path: p.message for p in e.value.problems}
    top = "spec.nodes[0].bundles[1]"
    assert sorted(found) == [f"{top}.applications[0].fluxNamespace", f"{top}.applications[0].helm.dependsOn[0]",
                             f"{top}.dependsOn[0]", f"{top}.fluxNamespace"]
    assert found[f"{top}.dependsOn[0]"].startswith(
        "Kustomization 'top' in namespace 'media' refers to Kustomization 'base' in namespace "
        "'flux-system'")
    assert "its health check" in found[f"{top}.applications[0].fluxNamespace"]
    build(s)  # crossing namespaces is fine by default


def test_cross_namespace_refs_false_accepts_a_namespace_local_tree():
    s = spec({"name": "n", "bundles": [{"name": "b", "applications": [
        helm_app("a", fluxNamespace="media"), helm_app("c", fluxNamespace="media",
                                                       helm={**CHART, "dependsOn": ["a"]})]}]})
    c = build({**s, "flux": {"crossNamespaceRefs": False}})
    assert {a.flux_namespace for a in c.applications()} == {"media"}


def test_a_health_check_is_checked_where_flux_looks():
    def with_check(check: dict, bundle_ns: str | None = None) -> dict:
        watcher = {"name": "watcher", "healthChecks": [check]}
        if bundle_ns:
            watcher["fluxNamespace"] = bundle_ns
        return spec({"name": "n", "bundles": [
            {"name": "b", "applications": [helm_app("a", fluxNamespace="media")]}, watcher]})
    hr = {"kind": "HelmRelease", "name": "a"}
    build(with_check({**hr, "namespace": "media"}))
    build(with_check(hr, bundle_ns="media"))  # no namespace: the Kustomization's own
    build(with_check({**hr, "apiVersion": "example.com/v1"}))  # another kind of that name
    for check, field in ((hr, "name"), ({**hr, "namespace": "flux-system"}, "namespace")):
        with pytest.raises(ConfigError) as e:
            build(with_check(check))
        assert [p.path for p in e.value.problems] == \
            [f"spec.nodes[0].bundles[1].healthChecks[0].{field}"]


def test_values_from_is_checked_against_where_the_config_renders_it():
    def config(values_ns: str | None, target: str | None = None) -> dict:
        settings = {"name": "settings", "manifests": [
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "vals"}}]}
        if values_ns:
            settings["namespace"] = values_ns
        app = helm_app("a", fluxNamespace="media",
                       helm={**CHART, "valuesFrom": [{"kind": "Secret", "name": "vals"}]})
        bundle = {"name": "b", "applications": [settings, app]}
        if target:
            bundle["targetNamespace"] = target
            bundle["applications"] = [settings]
            return spec({"name": "n", "bundles": [bundle, {"name": "c", "applications": [app]}]})
        return spec({"name": "n", "bundles": [bundle]})
    build(config("media"))
    build(config(None))  # namespace unknown to kure-fn: not judged
    build(config("web", target="media"))  # targetNamespace moves it to media
    with pytest.raises(ConfigError) as e:
        build(config("web"))
    assert [p.path for p in e.value.problems] == \
        ["spec.nodes[0].bundles[0].applications[1].helm.valuesFrom[0].name"]


def test_argocd_ignores_flux_namespaces_with_a_warning():
    s = spec({"name": "n", "fluxNamespace": "media", "bundles": [
        {"name": "b", "applications": [helm_app("a", fluxNamespace="x")]}]})
    s["sources"] = [{"name": "s", "namespace": "media", "git": {"url": "https://github.com/a/b"}}]
    doc = doc_of({**s, "gitops": "argocd", "argocd": {"repoURL": "https://github.com/a/fleet"}})
    warned = {(r.get("field") or {}).get("path") for r in messages(doc, "warning")}
    assert {"spec.sources[0].namespace", "spec.nodes[0].fluxNamespace",
            "spec.nodes[0].bundles[0].applications[0].fluxNamespace"} <= warned
    assert not objects(doc, "Namespace")
