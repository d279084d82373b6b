"""Helm applications: HelmReleases, chart sources, values, ordering, bad config.

Everything runs through the function's real output (in-process, as kpt feeds
it) unless a test is about a pure helper (source naming).
"""

from __future__ import annotations

import copy
import posixpath
import random
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from fn.flux.sources import chart_source_names, sanitize
from helpers import (example_dirs, generated, is_flux, item_path, package_items, resource_list,
                     run, run_doc, validate_flux)

FLUX_NS = "flux-system"
HELM_API = "helm.toolkit.fluxcd.io/v2"
APP = "spec.nodes[0].bundles[0].applications[0]"
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


# -- helpers -------------------------------------------------------------------

def cluster(*bundles: dict, sources: list | None = None, flux: dict | None = None) -> dict:
    spec: dict = {"nodes": [{"name": "infra", "bundles": list(bundles)}]}
    if sources:
        spec["sources"] = sources
    if flux:
        spec["flux"] = flux
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "prod", "annotations": {"config.kubernetes.io/path": "cluster.yaml"}},
            "spec": spec}


def bundle(name: str, *apps: dict, **settings_) -> dict:
    return {"name": name, "applications": list(apps), **settings_}


def helm_app(name: str, namespace: str | None = None, **helm) -> dict:
    helm.setdefault("repository", "https://charts.example.com")
    if "source" in helm:
        helm.pop("repository")
    if not helm.get("repository", "oci://").startswith("oci://"):
        helm.setdefault("chart", name)
    helm.setdefault("version", "1.0.0")
    for k in [k for k, v in helm.items() if v is None]:
        del helm[k]
    app = {"name": name, "helm": helm}
    if namespace:
        app["namespace"] = namespace
    return app


def render(cfg: dict) -> list[dict]:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 0, doc.get("results")
    return generated(doc)


def objects(items: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in items if o.get("kind") == kind
            and o.get("apiVersion") != "kustomize.config.k8s.io/v1beta1"}


def releases(items):
    return objects(items, "HelmRelease")


def flux_objects(items):
    return [strip(o) for o in items if is_flux(o)]


def strip(obj: dict) -> dict:
    """The object without kpt/kure-fn annotations (what the validator sees)."""
    obj = copy.deepcopy(obj)
    anns = obj["metadata"].get("annotations") or {}
    for k in [k for k in anns if "config.kubernetes.io" in k or k.startswith("fn.kure.dev")]:
        del anns[k]
    if not anns:
        obj["metadata"].pop("annotations", None)
    return obj


def chart_source_of(hr: dict) -> tuple[str, str, str]:
    ref = hr["spec"].get("chartRef") or hr["spec"]["chart"]["spec"]["sourceRef"]
    return ref["kind"], ref["namespace"], ref["name"]


# -- the HelmRelease -------------------------------------------------------------

def test_every_field_of_the_config_reaches_the_helm_release():
    app = helm_app("cert-manager", "cert-manager", chart="cert-manager", version="v1.16.1",
                   repository="https://charts.jetstack.io", releaseName="certs",
                   targetNamespace="security", createNamespace=False, crds="CreateReplace",
                   remediation={"retries": 3}, interval="30m", timeout="10m",
                   driftDetection="warn", serviceAccountName="helm-deployer",
                   valuesFrom=[{"kind": "Secret", "name": "cm-secret", "valuesKey": "v.yaml",
                                "targetPath": "a.b[0]", "optional": True}],
                   values={"installCRDs": True})
    hr = releases(render(cluster(bundle("certs", app, timeout="10m"))))["cert-manager"]
    assert (hr["metadata"]["name"], hr["metadata"]["namespace"]) == ("cert-manager", FLUX_NS)
    assert hr["spec"] == {
        "chart": {"spec": {"chart": "cert-manager", "version": "v1.16.1",
                           "sourceRef": {"kind": "HelmRepository", "name": "charts-jetstack-io",
                                         "namespace": FLUX_NS}}},
        "driftDetection": {"mode": "warn"},
        "install": {"crds": "CreateReplace", "remediation": {"retries": 3}},
        "interval": "30m",
        "releaseName": "certs",
        "serviceAccountName": "helm-deployer",
        "storageNamespace": "security",
        "targetNamespace": "security",
        "timeout": "10m",
        "upgrade": {"crds": "CreateReplace", "remediation": {"retries": 3}},
        "valuesFrom": [{"kind": "Secret", "name": "cm-secret", "optional": True,
                        "targetPath": "a.b[0]", "valuesKey": "v.yaml"}],
        "values": {"installCRDs": True},
    }


def test_defaults_release_name_namespaces_and_create_namespace():
    hr = releases(render(cluster(bundle("web", helm_app("web", "web-ns")))))["web"]
    s = hr["spec"]
    assert (s["releaseName"], s["targetNamespace"], s["storageNamespace"]) == ("web", "web-ns", "web-ns")
    assert s["install"] == {"createNamespace": True}
    assert s["interval"] == "10m"
    assert "upgrade" not in s and "values" not in s and "dependsOn" not in s
    # no application namespace: the release installs into a namespace named after it
    hr = releases(render(cluster(bundle("web", helm_app("web")))))["web"]
    assert hr["spec"]["targetNamespace"] == hr["spec"]["storageNamespace"] == "web"


@pytest.mark.parametrize("where", ["repository", "helm source"])
def test_chart_defaults_to_the_application_name(where):
    sources = [{"name": "repo", "helm": {"url": "https://charts.example.com"}}]
    app = {"name": "ingress-nginx", "helm": {"version": "4.11.3",
                                             **({"repository": "https://charts.example.com"}
                                                if where == "repository" else {"source": "repo"})}}
    hr = releases(render(cluster(bundle("b", app), sources=sources)))["ingress-nginx"]
    assert hr["spec"]["chart"]["spec"]["chart"] == "ingress-nginx"


def test_depends_on_is_namespace_qualified_across_bundles():
    items = render(cluster(bundle("a", helm_app("db", "data")),
                           bundle("b", helm_app("api", "web", dependsOn=["db", "cache"]),
                                  helm_app("cache", "data"))))
    assert releases(items)["api"]["spec"]["dependsOn"] == [
        {"name": "cache", "namespace": FLUX_NS}, {"name": "db", "namespace": FLUX_NS}]


def test_custom_flux_namespace_is_used_everywhere():
    items = render(cluster(bundle("web", helm_app("web", "web", dependsOn=["db"]), helm_app("db")),
                           flux={"namespace": "gitops"}))
    hr = releases(items)["web"]
    assert hr["metadata"]["namespace"] == "gitops"
    assert chart_source_of(hr)[1] == "gitops"
    assert hr["spec"]["dependsOn"] == [{"name": "db", "namespace": "gitops"}]
    assert objects(items, "HelmRepository")["charts-example-com"]["metadata"]["namespace"] == "gitops"


# -- values fidelity ---------------------------------------------------------------

TRICKY_VALUES = {
    "nothing": None,
    "nested": {"removeDefault": None, "keep": "x"},
    "script": "#!/bin/sh\necho hello\n\nexit 0\n",
    "noTrailingNewline": "line one\nline two",
    "keptNewlines": "a\n\n\n",
    "indentedFirstLine": "  indented\nnext\n",
    "version": "1.0",
    "float": 1.0,
    "int": 10,
    "intString": "10",
    "yes": "yes", "on": "on", "NO": "NO", "y": "y", "tilde": "~", "nullString": "null",
    "octal": "0755", "hex": "0x1F", "exp": "1e3", "date": "2024-01-01", "sexagesimal": "1:20",
    "empty": "", "padded": " padded ", "colon": "a: b", "hash": "a #b", "star": "*",
    "anchor": "&a", "bool": True, "unicode": "héllo — ✓", "template": "{{ .Values.x }}",
    "dollar": "${VAR}", "tab": "a\tb", "crlf": "a\r\nb",
    "list": [None, "yes", 1, "1", {"a": None}, [], {}],
    "emptyMap": {}, "emptyList": [],
    "true": "a key that looks like a boolean",
    "1.5": "a key that looks like a number",
}


def _assert_same(got, want):
    assert got == want
    if isinstance(want, dict):  # order kept, as the user wrote it
        assert list(got) == list(want)
        for k in want:
            _assert_same(got[k], want[k])
    if isinstance(want, list):
        for g, w in zip(got, want):
            _assert_same(g, w)
    else:  # 1.0 == 1 == True in Python: compare types too
        assert type(got) is type(want)


def test_values_survive_exactly_in_the_helm_release():
    rc, out = run(resource_list([cluster(bundle("web", helm_app("web", values=TRICKY_VALUES)))]))
    assert rc == 0, out
    # YAML 1.1 (PyYAML), the strictest reader: `yes`, `on`, `0755` must be quoted
    hr = releases(generated(yaml.safe_load(out)))["web"]
    _assert_same(hr["spec"]["values"], TRICKY_VALUES)
    assert "script: |\n" in out and "version: \"1.0\"" in out and "\"yes\": \"yes\"" in out


def test_values_written_by_hand_keep_nulls_and_strings():
    text = """\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: fn.kure.dev/v1alpha1
  kind: Cluster
  metadata: {name: prod}
  spec:
    nodes:
    - name: infra
      bundles:
      - name: web
        applications:
        - name: web
          helm:
            repository: https://charts.example.com
            chart: web
            version: "1.0.0"
            values:
              resources: ~
              limits:
              tag: "1.0"
              enabled: "yes"
              replicas: 3
              ratio: 0.5
              motd: |
                Welcome.
                  Indented line.
"""
    rc, doc = run_doc(text)
    assert rc == 0, doc["results"]
    values = releases(generated(doc))["web"]["spec"]["values"]
    _assert_same(values, {"resources": None, "limits": None, "tag": "1.0", "enabled": "yes",
                          "replicas": 3, "ratio": 0.5, "motd": "Welcome.\n  Indented line.\n"})


def test_values_config_map_holds_the_values_and_is_referenced_first():
    app = helm_app("web", "web", valuesConfigMap=True, values=TRICKY_VALUES,
                   valuesFrom=[{"kind": "Secret", "name": "web-secrets"}])
    rc, out = run(resource_list([cluster(bundle("web", app))]))
    assert rc == 0, out
    items = generated(yaml.safe_load(out))
    hr = releases(items)["web"]
    cm = objects(items, "ConfigMap")["web-values"]
    assert "values" not in hr["spec"]
    assert hr["spec"]["valuesFrom"] == [
        {"kind": "ConfigMap", "name": "web-values", "valuesKey": "values.yaml"},
        {"kind": "Secret", "name": "web-secrets"}]
    assert cm["metadata"]["namespace"] == FLUX_NS
    assert cm["metadata"]["labels"] == {"reconcile.fluxcd.io/watch": "Enabled"}
    assert list(cm["data"]) == ["values.yaml"]
    # keys sorted (the text must not depend on how an orchestrator re-serialised the config)
    from fn.engine import canonical
    _assert_same(yaml.safe_load(cm["data"]["values.yaml"]), canonical(TRICKY_VALUES))
    # next to the HelmRelease, listed by the application's kustomization.yaml
    assert posixpath.dirname(item_path(cm)) == posixpath.dirname(item_path(hr))
    listing = next(o for o in items if o["kind"] == "Kustomization"
                   and o["apiVersion"].startswith("kustomize.config")
                   and item_path(o) == posixpath.dirname(item_path(hr)) + "/kustomization.yaml")
    assert listing["resources"] == sorted(posixpath.basename(item_path(o)) for o in (cm, hr))


def test_values_config_map_without_values_is_an_empty_document():
    items = render(cluster(bundle("web", helm_app("web", valuesConfigMap=True))))
    assert objects(items, "ConfigMap")["web-values"]["data"] == {"values.yaml": "{}\n"}


# -- chart sources -----------------------------------------------------------------

def test_one_helm_repository_per_url_shared_by_releases():
    items = render(cluster(
        bundle("a", helm_app("one", repository="https://charts.example.com")),
        bundle("b", helm_app("two", repository="https://charts.example.com/"),
               helm_app("three", repository="https://other.example.com/charts"))))
    repos = objects(items, "HelmRepository")
    assert sorted(repos) == ["charts-example-com", "other-example-com-charts"]
    assert repos["charts-example-com"]["spec"] == {"interval": "1h", "url": "https://charts.example.com"}
    rel = releases(items)
    assert chart_source_of(rel["one"]) == chart_source_of(rel["two"]) == \
        ("HelmRepository", FLUX_NS, "charts-example-com")


def test_a_declared_helm_source_is_reused_for_its_url():
    sources = [{"name": "jetstack", "helm": {"url": "https://charts.jetstack.io", "interval": "2h"}}]
    items = render(cluster(bundle("certs",
                                  helm_app("cert-manager", source="jetstack", chart="cert-manager"),
                                  helm_app("trust-manager", repository="https://charts.jetstack.io/")),
                           sources=sources))
    assert sorted(objects(items, "HelmRepository")) == ["jetstack"]
    for hr in releases(items).values():
        assert chart_source_of(hr) == ("HelmRepository", FLUX_NS, "jetstack")
        assert hr["spec"]["chart"]["spec"]["version"] == "1.0.0"


def test_oci_chart_uses_oci_repository_and_chart_ref():
    items = render(cluster(bundle("apps", helm_app("podinfo", repository="oci://ghcr.io/stefanprodan/charts/podinfo",
                                                   version="6.7.1"))))
    hr = releases(items)["podinfo"]
    assert "chart" not in hr["spec"]
    assert hr["spec"]["chartRef"] == {"kind": "OCIRepository", "name": "ghcr-io-stefanprodan-charts-podinfo",
                                      "namespace": FLUX_NS}
    assert "HelmRepository" not in {o["kind"] for o in items}
    oci = objects(items, "OCIRepository")["ghcr-io-stefanprodan-charts-podinfo"]
    assert oci["spec"] == {
        "interval": "10m",
        "layerSelector": {"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip",
                          "operation": "copy"},
        "ref": {"tag": "6.7.1"},
        "url": "oci://ghcr.io/stefanprodan/charts/podinfo"}


def test_one_oci_repository_per_url_and_version():
    url = "oci://ghcr.io/stefanprodan/charts/podinfo"
    items = render(cluster(bundle("apps", helm_app("a", repository=url, version="6.7.1"),
                                  helm_app("b", repository=url + "/", version="6.7.1"),
                                  helm_app("c", repository=url, version="6.6.0"))))
    ocis = objects(items, "OCIRepository")
    assert sorted(ocis) == ["ghcr-io-stefanprodan-charts-podinfo-6-6-0",
                            "ghcr-io-stefanprodan-charts-podinfo-6-7-1"]
    rel = releases(items)
    assert chart_source_of(rel["a"]) == chart_source_of(rel["b"]) != chart_source_of(rel["c"])
    assert ocis[chart_source_of(rel["c"])[2]]["spec"]["ref"] == {"tag": "6.6.0"}


@pytest.mark.parametrize("version,ref", [
    ("6.7.1", {"tag": "6.7.1"}),
    ("v25.3.3", {"tag": "v25.3.3"}),                   # OCI tags are literal: the v stays
    ("1.2.3+build.7", {"tag": "1.2.3_build.7"}),        # helm push writes + as _
    ("1.2.3-rc.1", {"tag": "1.2.3-rc.1"}),
    (">=6.0.0 <7.0.0", {"semver": ">=6.0.0 <7.0.0"}),
    ("6.x", {"semver": "6.x"}),
    ("*", {"semver": "*"}),
])
def test_oci_version_becomes_tag_or_semver(version, ref):
    items = render(cluster(bundle("apps", helm_app("podinfo", repository="oci://ghcr.io/org/charts/podinfo",
                                                   version=version))))
    (oci,) = objects(items, "OCIRepository").values()
    assert oci["spec"]["ref"] == ref


@pytest.mark.parametrize("version", ["v1.16.1", "1.16.1", ">=1.16.0 <2.0.0", "~1.16", "1.x"])
def test_helm_repository_version_is_written_verbatim(version):
    hr = releases(render(cluster(bundle("c", helm_app("c", version=version)))))["c"]
    assert hr["spec"]["chart"]["spec"]["version"] == version


def test_chart_from_a_git_source():
    sources = [{"name": "podinfo-git", "git": {"url": "https://github.com/stefanprodan/podinfo",
                                               "tag": "6.7.1"}}]
    items = render(cluster(bundle("apps", helm_app("podinfo", source="podinfo-git",
                                                   chart="./charts/podinfo", version=None)),
                           sources=sources))
    hr = releases(items)["podinfo"]
    assert hr["spec"]["chart"] == {"spec": {
        "chart": "./charts/podinfo", "reconcileStrategy": "Revision",
        "sourceRef": {"kind": "GitRepository", "name": "podinfo-git", "namespace": FLUX_NS}}}
    git = objects(items, "GitRepository")["podinfo-git"]
    assert git["spec"]["ref"] == {"tag": "6.7.1"}


def test_chart_from_a_bucket_source():
    sources = [{"name": "charts", "bucket": {"bucketName": "charts", "endpoint": "minio.example.com"}}]
    items = render(cluster(bundle("apps", helm_app("web", source="charts", chart="web", version=None)),
                           sources=sources))
    assert chart_source_of(releases(items)["web"]) == ("Bucket", FLUX_NS, "charts")
    assert "charts" in objects(items, "Bucket")


def test_chart_from_a_declared_oci_source():
    sources = [{"name": "podinfo", "oci": {"url": "oci://ghcr.io/stefanprodan/charts/podinfo",
                                           "semver": "6.x"}}]
    items = render(cluster(bundle("apps", helm_app("podinfo", source="podinfo", version=None)),
                           sources=sources))
    assert releases(items)["podinfo"]["spec"]["chartRef"] == {
        "kind": "OCIRepository", "name": "podinfo", "namespace": FLUX_NS}
    oci = objects(items, "OCIRepository")["podinfo"]
    assert oci["spec"]["layerSelector"]["operation"] == "copy"
    assert oci["spec"]["ref"] == {"semver": "6.x"}


def test_every_helm_release_and_chart_source_passes_the_flux_schemas():
    """Every chart form at once, checked with CEL rules and references."""
    sources = [{"name": "jetstack", "helm": {"url": "https://charts.jetstack.io"}},
               {"name": "git", "git": {"url": "https://github.com/stefanprodan/podinfo"}},
               {"name": "bucket", "bucket": {"bucketName": "b", "endpoint": "s3.example.com"}},
               {"name": "oci", "oci": {"url": "oci://ghcr.io/org/charts/app"}}]
    items = render(cluster(bundle(
        "all",
        helm_app("https", "a", remediation={"retries": -1}, crds="Skip", driftDetection="enabled",
                 values={"x": None}, valuesFrom=[{"kind": "ConfigMap", "name": "x", "optional": True}]),
        helm_app("ocichart", "a", repository="oci://ghcr.io/org/charts/ocichart", version=">=1.0.0"),
        helm_app("declared-helm", source="jetstack", chart="cert-manager"),
        helm_app("declared-git", source="git", chart="charts/podinfo", version=None,
                 dependsOn=["https"]),
        helm_app("declared-bucket", source="bucket", chart="./app", version=None),
        helm_app("declared-oci", source="oci", version=None, valuesConfigMap=True, values={"a": 1}),
    ), sources=sources))
    chart_objects = [strip(o) for o in items if o["kind"] in (
        "HelmRelease", "HelmRepository", "OCIRepository", "GitRepository", "Bucket")]
    assert len(releases(items)) == 6
    validate_flux(chart_objects, "--strict", "--check-refs")


@pytest.mark.parametrize("pkg", [p for p in example_dirs("flux")
                                 if any("helm:" in f.read_text() for f in p.rglob("*.yaml"))], ids=lambda p: p.name)
def test_examples_helm_releases_and_sources_pass_the_flux_schemas(pkg):
    rc, doc = run_doc(resource_list(package_items(pkg)))
    assert rc == 0, doc["results"]
    owners = {}
    for o in generated(doc):  # each cluster of a fleet separately
        owners.setdefault(o["metadata"]["annotations"]["fn.kure.dev/cluster"], []).append(o)
    for items in owners.values():
        validate_flux(flux_objects(items))
        chart_objects = [strip(o) for o in items if o["kind"] in (
            "HelmRelease", "HelmRepository", "OCIRepository", "GitRepository", "Bucket")
            and o["metadata"]["name"] != FLUX_NS]
        validate_flux(chart_objects, "--check-refs")


@pytest.mark.parametrize("pkg", [p for p in example_dirs("flux")
                                 if any("helm:" in f.read_text() for f in p.rglob("*.yaml"))], ids=lambda p: p.name)
def test_examples_each_release_is_applied_once_and_its_source_resolves(pkg):
    """A helm-specific slice of the Flux simulation: every HelmRelease sits in
    exactly one bundle directory (a Flux Kustomization's path); its chart
    source sits in flux-system (applied by the root sync) and matches the
    reference; no null appears outside values."""
    rc, doc = run_doc(resource_list(package_items(pkg)))
    assert rc == 0, doc["results"]
    items = generated(doc)
    ks_paths = [o["spec"]["path"][2:] for o in kustomizations(items).values()]
    by_ref = {(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]): o
              for o in items if is_flux(o)}
    for hr in releases(items).values():
        owners = [p for p in ks_paths if item_path(hr).startswith(p + "/")]
        assert len(owners) == 1, (hr["metadata"]["name"], owners)
        src = by_ref.get(chart_source_of(hr))
        assert src is not None, chart_source_of(hr)
        assert posixpath.basename(posixpath.dirname(item_path(src))) == FLUX_NS
        assert ("chart" in hr["spec"]) != ("chartRef" in hr["spec"])
        spec = dict(hr["spec"])
        spec.pop("values", None)
        assert "null" not in yaml.safe_dump(spec)


# -- source names ------------------------------------------------------------------

@pytest.mark.parametrize("url,name", [
    ("https://charts.jetstack.io", "charts-jetstack-io"),
    ("https://helm.ngc.nvidia.com/nvidia", "helm-ngc-nvidia-com-nvidia"),
    ("oci://nvcr.io/nvidia", "nvcr-io-nvidia"),
    ("https://github.com/my-org/my-repo.git", "github-com-my-org-my-repo"),
    ("https://github.com/my-org/my-repo/", "github-com-my-org-my-repo"),
    ("http://charts.example.com/repo", "charts-example-com-repo"),
    ("", "source"),
])
def test_sanitize_matches_aicr(url, name):
    assert sanitize(url) == name


@pytest.mark.parametrize("urls", [
    ["https://charts.example.com/a-b", "https://charts.example.com/a/b", "https://charts.example.com/a.b"],
    ["https://charts.example.com", "http://charts.example.com"],
    ["https://Charts.Example.com/X", "https://charts.example.com/x"],
    ["https://github.com/org/repo.git", "https://github.com/org/repo"],
    ["https://example.com/" + "a" * 70, "https://example.com/" + "a" * 71],
])
def test_urls_that_sanitise_alike_get_distinct_stable_names(urls):
    apps = [helm_app(f"app{i}", repository=u) for i, u in enumerate(urls)]
    items = render(cluster(bundle("b", *apps)))
    repos = objects(items, "HelmRepository")
    assert len(repos) == len(urls)
    for i, u in enumerate(urls):
        name = chart_source_of(releases(items)[f"app{i}"])[2]
        assert repos[name]["spec"]["url"] == u
        assert DNS_LABEL.fullmatch(name) and len(name) <= 63
    again = render(cluster(bundle("b", *reversed(apps))))
    assert sorted(objects(again, "HelmRepository")) == sorted(repos)


def test_a_derived_name_never_takes_a_declared_source_name():
    sources = [{"name": "charts-example-com", "git": {"url": "https://github.com/org/charts"}}]
    items = render(cluster(bundle("b", helm_app("web", source="charts-example-com", chart="./web",
                                                version=None),
                                  helm_app("api", repository="https://charts.example.com")),
                           sources=sources))
    name = chart_source_of(releases(items)["api"])[2]
    assert name != "charts-example-com" and name.startswith("charts-example-com-")


_url_part = st.text(alphabet="aA-./_0", min_size=0, max_size=8)
_keys = st.lists(
    st.one_of(
        st.builds(lambda s, h, p: ("HelmRepository", f"{s}://{h}{p}", None),
                  st.sampled_from(["https", "http"]), _url_part.filter(bool), _url_part),
        st.builds(lambda h, p, v: ("OCIRepository", f"oci://{h}/{p}", v),
                  _url_part.filter(bool), _url_part,
                  st.sampled_from(["1.0.0", "1.0.0+a", "1-0-0", ">=1.0.0", "*", "v1.0.0"]))),
    min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(keys=_keys, reserved=st.sets(st.sampled_from(["a", "a-a", "source", "0", "a-1-0-0"])),
       seed=st.integers(0, 1000))
def test_distinct_urls_never_share_a_source_name(keys, reserved, seed):
    names = chart_source_names(keys, reserved)
    assert set(names) == set(keys)
    assert len(set(names.values())) == len(names), names  # collision-free
    assert not set(names.values()) & reserved
    for name in names.values():
        assert DNS_LABEL.fullmatch(name) and len(name) <= 63, name
    shuffled = list(keys)
    random.Random(seed).shuffle(shuffled)
    assert chart_source_names(shuffled, reserved) == names  # independent of order


# -- ordering ----------------------------------------------------------------------

def kustomizations(items):
    """Bundle Kustomizations (not the bootstrap sync, named after the Flux namespace)."""
    return {o["metadata"]["name"]: o for o in items if o["kind"] == "Kustomization"
            and o["apiVersion"].startswith("kustomize.toolkit") and o["metadata"]["name"] != FLUX_NS}


def hr_check(name):
    return {"apiVersion": HELM_API, "kind": "HelmRelease", "name": name, "namespace": FLUX_NS}


def test_a_bundle_waits_for_its_releases_by_default():
    ks = kustomizations(render(cluster(bundle("b", helm_app("web")))))["b"]
    assert ks["spec"]["wait"] is True and "healthChecks" not in ks["spec"]


@pytest.mark.parametrize("how", ["spec.flux.defaults", "node defaults", "bundle healthChecks"])
def test_without_wait_every_release_becomes_a_health_check(how):
    user = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "web"}
    b = bundle("b", helm_app("web"), helm_app("api"),
               **({"wait": False, "healthChecks": [user]} if how == "bundle healthChecks" else {}))
    c = cluster(b, flux={"defaults": {"wait": False}} if how == "spec.flux.defaults" else None)
    if how == "node defaults":
        c["spec"]["nodes"][0]["defaults"] = {"wait": False}
    spec = kustomizations(render(c))["b"]["spec"]
    assert spec["wait"] is False
    own = [user] if how == "bundle healthChecks" else []
    assert spec["healthChecks"] == own + [hr_check("web"), hr_check("api")]


@pytest.mark.parametrize("where", ["typed", "overlay"])
def test_a_bundles_own_wait_false_without_health_checks_is_honoured(where):
    b = bundle("b", helm_app("web"), **({"wait": False} if where == "typed"
                                         else {"kustomization": {"wait": False}}))
    spec = kustomizations(render(cluster(b)))["b"]["spec"]
    assert spec["wait"] is False and "healthChecks" not in spec


def test_user_health_checks_keep_the_releases_checked():
    user = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "web"}
    spec = kustomizations(render(cluster(bundle("b", helm_app("web"), healthChecks=[user]))))["b"]["spec"]
    assert spec["wait"] is False
    assert spec["healthChecks"] == [user, hr_check("web")]


@pytest.mark.parametrize("pkg", example_dirs("flux"), ids=lambda p: p.name)
def test_examples_no_bundle_is_ready_before_its_releases(pkg):
    rc, doc = run_doc(resource_list(package_items(pkg)))
    assert rc == 0, doc["results"]
    items = generated(doc)
    for ks in kustomizations(items).values():
        path = ks["spec"]["path"][2:]
        inside = [hr["metadata"]["name"] for hr in releases(items).values()
                  if item_path(hr).startswith(path + "/")]
        checked = {c["name"] for c in ks["spec"].get("healthChecks", []) if c["kind"] == "HelmRelease"}
        assert ks["spec"].get("wait") is True or set(inside) <= checked, ks["metadata"]["name"]
        # Flux cannot make a Kustomization depend on a HelmRelease: every entry names
        # a bundle's Kustomization, or one outside the config (listed under "Must exist")
        mine = {(o["metadata"]["name"], o["metadata"]["namespace"]) for o in kustomizations(items).values()}
        named = {(hr["metadata"]["name"], hr["metadata"]["namespace"]) for hr in releases(items).values()}
        for d in ks["spec"].get("dependsOn", []):
            assert (d["name"], d["namespace"]) in mine or (d["name"], d["namespace"]) not in named, d


def test_long_helm_timeout_in_a_short_bundle_is_a_warning():
    # no timeout set anywhere: Flux times the bundle out after its interval (10m)
    rc, doc = run_doc(resource_list([cluster(bundle("b", helm_app("web", timeout="20m")))]))
    assert rc == 0
    (w,) = [r for r in doc["results"] if r["severity"] == "warning"]
    assert w["field"]["path"] == f"{APP}.helm.timeout" and "at least 20m" in w["message"]
    assert "(10m)" in w["message"]
    rc, doc = run_doc(resource_list([cluster(bundle("b", helm_app("web", timeout="20m")),
                                             flux={"defaults": {"timeout": "15m"}})]))
    (w,) = [r for r in doc["results"] if r["severity"] == "warning"]
    assert "(15m)" in w["message"]
    rc, doc = run_doc(resource_list([cluster(bundle("b", helm_app("web", timeout="20m"), timeout="30m"))]))
    assert not [r for r in doc["results"] if r["severity"] == "warning"]


# -- bad config ----------------------------------------------------------------------

def _bad(*bundles, sources=None):
    return cluster(*bundles, sources=sources)


BAD = {
    "no version for a repository chart": (
        _bad(bundle("b", helm_app("web", version=None))), f"{APP}.helm.version"),
    "no version for an oci chart": (
        _bad(bundle("b", helm_app("web", repository="oci://ghcr.io/o/web", version=None))),
        f"{APP}.helm.version"),
    "no version for a chart from a helm source": (
        _bad(bundle("b", helm_app("web", source="repo", chart="web", version=None)),
             sources=[{"name": "repo", "helm": {"url": "https://charts.example.com"}}]),
        f"{APP}.helm.version"),
    "version that is not a version": (
        _bad(bundle("b", helm_app("web", version="latest"))), f"{APP}.helm.version"),
    "version padded with spaces": (
        _bad(bundle("b", helm_app("web", version=" 1.0.0"))), f"{APP}.helm.version"),
    "version for a chart from git": (
        _bad(bundle("b", helm_app("web", source="git", chart="./web")),
             sources=[{"name": "git", "git": {"url": "https://github.com/o/r"}}]),
        f"{APP}.helm.version"),
    "both repository and source": (
        _bad(bundle("b", {"name": "web", "helm": {"repository": "https://c.example.com", "source": "s",
                                                  "chart": "web", "version": "1.0.0"}}),
             sources=[{"name": "s", "helm": {"url": "https://c.example.com"}}]),
        f"{APP}.helm"),
    "neither repository nor source": (
        _bad(bundle("b", {"name": "web", "helm": {"chart": "web", "version": "1.0.0"}})), f"{APP}.helm"),
    "an oci URL as a HelmRepository": (
        _bad(bundle("b", helm_app("web", source="repo", version="1.0.0")),
             sources=[{"name": "repo", "helm": {"url": "oci://ghcr.io/org/charts"}}]),
        "spec.sources[0].helm.url"),
    "unknown source": (
        _bad(bundle("b", helm_app("web", source="nope"))), f"{APP}.helm.source"),
    "releaseName too long": (
        _bad(bundle("b", helm_app("web", releaseName="r" * 54))), f"{APP}.helm.releaseName"),
    "application name too long for a default release name": (
        _bad(bundle("b", helm_app("a" * 54))), f"{APP}.name"),
    "dependsOn cycle": (
        _bad(bundle("b", helm_app("api", dependsOn=["web"]), helm_app("web", dependsOn=["api"]))),
        f"{APP}.helm.dependsOn[0]"),
    "dependsOn itself": (
        _bad(bundle("b", helm_app("web", dependsOn=["web"]))), f"{APP}.helm.dependsOn[0]"),
    "dependsOn a missing application": (
        _bad(bundle("b", helm_app("web", dependsOn=["db"]))), f"{APP}.helm.dependsOn[0]"),
    "git source without chart": (
        _bad(bundle("b", helm_app("web", source="git", version=None)),
             sources=[{"name": "git", "git": {"url": "https://github.com/o/r"}}]),
        f"{APP}.helm.chart"),
    "oci chart name that is not the URL's last segment": (
        _bad(bundle("b", helm_app("web", repository="oci://ghcr.io/o/web", chart="api"))),
        f"{APP}.helm.chart"),
    "oci URL without a chart": (
        _bad(bundle("b", helm_app("web", repository="oci://ghcr.io"))), f"{APP}.helm.repository"),
    "chart path outside its git source": (
        _bad(bundle("b", helm_app("web", source="git", chart="../web", version=None)),
             sources=[{"name": "git", "git": {"url": "https://github.com/o/r"}}]),
        f"{APP}.helm.chart"),
    "oci source used as chart and as bundle source": (
        _bad(bundle("b", helm_app("web", source="oci", version=None)),
             {"name": "manifests", "source": "oci", "path": "./deploy"},
             sources=[{"name": "oci", "oci": {"url": "oci://ghcr.io/o/web"}}]),
        f"{APP}.helm.source"),
    "two helm applications with one name": (
        cluster(bundle("a", helm_app("web")), bundle("b", helm_app("web"))),
        "spec.nodes[0].bundles[1].applications[0].name"),
    "values ConfigMap meets an inline ConfigMap": (
        _bad(bundle("b", helm_app("web", valuesConfigMap=True),
                    {"name": "extra", "namespace": "flux-system", "manifests": [
                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-values"}}]})),
        "spec.nodes[0].bundles[0].applications[1].manifests[0]"),
    "bundle targetNamespace over HelmReleases": (
        _bad(bundle("b", helm_app("web"), targetNamespace="web")),
        "spec.nodes[0].bundles[0].targetNamespace"),
    "values that are not a mapping": (
        _bad(bundle("b", helm_app("web", values=["a"]))), f"{APP}.helm.values"),
    "valuesFrom of an unknown kind": (
        _bad(bundle("b", helm_app("web", valuesFrom=[{"kind": "Deployment", "name": "x"}]))),
        f"{APP}.helm.valuesFrom[0].kind"),
    "crds policy misspelt": (
        _bad(bundle("b", helm_app("web", crds="Replace"))), f"{APP}.helm.crds"),
    "ordering deadlock across kinds": (
        # api (bundle b) waits for db (bundle c); c starts after b is Ready; b waits for api
        _bad(bundle("b", helm_app("api", dependsOn=["db"])),
             bundle("c", helm_app("db"), dependsOn=["b"])),
        f"{APP}.helm.dependsOn[0]"),
    "ordering deadlock through a health check": (
        _bad(bundle("b", helm_app("api"), dependsOn=["c"]),
             bundle("c", healthChecks=[{"apiVersion": HELM_API, "kind": "HelmRelease",
                                        "name": "api", "namespace": FLUX_NS}])),
        "spec.nodes[0].bundles[1].healthChecks[0]"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_helm_config_is_an_error_naming_the_field(case):
    cfg, path = BAD[case]
    other = {"apiVersion": "v1", "kind": "ConfigMap",
             "metadata": {"name": "kept", "annotations": {"config.kubernetes.io/path": "kept.yaml"}},
             "data": {"a": "yes", "b": "1.0"}}
    items = [cfg, other]
    rc, out = run(resource_list(items))
    doc = yaml.safe_load(out)
    assert rc == 1
    errors = [r for r in doc["results"] if r["severity"] == "error"]
    assert path in [e.get("field", {}).get("path") for e in errors], errors
    for e in errors:
        assert e["resourceRef"]["name"] == "prod" and e["file"]["path"] == "cluster.yaml"
    assert doc["items"] == items  # nothing lost, nothing generated
    assert "Traceback" not in out


def test_all_helm_problems_are_reported_in_one_run():
    cfg = cluster(bundle("b", helm_app("web", version=None), helm_app("api", source="nope")))
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 1
    paths = {r["field"]["path"] for r in doc["results"] if r["severity"] == "error"}
    assert {f"{APP}.helm.version",
            "spec.nodes[0].bundles[0].applications[1].helm.source"} <= paths
