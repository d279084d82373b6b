"""Defaults set once (spec.flux.defaults, node defaults) and the four spec
overlays (real-repos.md §2 merge, §3, amendment D): the closest setting wins,
whether a level sets a value as a typed field or in its overlay; mappings
deep-merge, lists and scalars replace."""

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fluxsim
import kptrepo
from helpers import EXAMPLES, need, resource_list, run_doc

KS_API = "kustomize.toolkit.fluxcd.io/v1"
HR_API = "helm.toolkit.fluxcd.io/v2"


def cluster(nodes: list, flux_defaults: dict | None = None, **spec) -> dict:
    s: dict = {"nodes": nodes, **spec}
    if flux_defaults is not None:
        s["flux"] = {"defaults": flux_defaults}
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "prod", "annotations": {"config.kubernetes.io/path": "cluster.yaml"}},
            "spec": s}


def web(**settings) -> dict:
    """A bundle with one helm application `web`; `helm` settings go to it."""
    helm = {"repository": "https://charts.example.com", "chart": "web", "version": "1.0.0",
            **settings.pop("helm", {})}
    app = settings.pop("app", "web")
    return {"name": settings.pop("name", "web"), **settings,
            "applications": [{"name": app, "namespace": "web", "helm": helm}]}


def render(cfg: dict) -> list[dict]:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 0, doc["results"]
    return doc["items"]


def errors(cfg: dict) -> dict[str, str]:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 1
    return {r["field"]["path"]: r["message"] for r in doc["results"] if r["severity"] == "error"}


def of_kind(items, api: str, kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o["spec"] for o in items
            if o.get("apiVersion") == api and o["kind"] == kind}


def ks(cfg: dict, name: str = "web") -> dict:
    return of_kind(render(cfg), KS_API, "Kustomization")[name]


def hr(cfg: dict, name: str = "web") -> dict:
    return of_kind(render(cfg), HR_API, "HelmRelease")[name]


# -- amendment D --------------------------------------------------------------------

def test_retry_interval_and_timeout_are_written_only_when_some_level_sets_them():
    spec = ks(cluster([{"name": "apps", "bundles": [web()]}]))
    assert "retryInterval" not in spec and "timeout" not in spec
    assert (spec["interval"], spec["prune"], spec["wait"]) == ("10m", True, True)
    spec = ks(cluster([{"name": "apps", "bundles": [web()]}], {"retryInterval": "2m"}))
    assert spec["retryInterval"] == "2m" and "timeout" not in spec


# -- Kustomization: closest wins, typed or overlay -------------------------------------

def test_a_bundles_typed_field_beats_a_default_overlay():
    cfg = cluster([{"name": "apps", "bundles": [web(timeout="10m")]}],
                  {"kustomization": {"timeout": "5m"}})
    assert ks(cfg)["timeout"] == "10m"


def test_a_nodes_typed_default_beats_the_cluster_default_overlay():
    cfg = cluster([{"name": "apps", "defaults": {"interval": "30m"}, "bundles": [web()]}],
                  {"kustomization": {"interval": "1h"}})
    assert ks(cfg)["interval"] == "30m"


def test_a_nodes_overlay_beats_the_cluster_typed_default():
    cfg = cluster([{"name": "apps", "defaults": {"kustomization": {"interval": "30m"}},
                    "bundles": [web()]}], {"interval": "1h"})
    assert ks(cfg)["interval"] == "30m"


def test_a_child_node_beats_its_parent_and_siblings_keep_the_parents():
    child = {"name": "team", "defaults": {"timeout": "3m"}, "bundles": [web()]}
    other = {"name": "other", "bundles": [web(name="api", app="api")]}
    cfg = cluster([{"name": "apps", "defaults": {"timeout": "7m", "retryInterval": "1m"},
                    "children": [child, other]}])
    items = of_kind(render(cfg), KS_API, "Kustomization")
    assert (items["web"]["timeout"], items["web"]["retryInterval"]) == ("3m", "1m")
    assert (items["api"]["timeout"], items["api"]["retryInterval"]) == ("7m", "1m")


def test_within_one_level_the_overlay_wins():
    cfg = cluster([{"name": "apps", "bundles": [web(interval="5m",
                                                    kustomization={"interval": "6m"})]}])
    assert ks(cfg)["interval"] == "6m"


def test_overlays_deep_merge_mappings_and_replace_lists():
    default = {"kustomization": {"commonMetadata": {"labels": {"team": "a", "tier": "x"}},
                                 "components": ["../base"]}}
    cfg = cluster([{"name": "apps", "bundles": [web(
        components=["../own"], kustomization={"commonMetadata": {"labels": {"tier": "y"}}})]}],
        default)
    spec = ks(cfg)
    assert spec["commonMetadata"] == {"labels": {"team": "a", "tier": "y"}}
    assert spec["components"] == ["../own"]


def test_an_overlay_adds_a_field_the_config_has_no_typed_form_of():
    spec = ks(cluster([{"name": "apps", "bundles": [web(kustomization={"deletionPolicy": "Orphan"})]}]))
    assert spec["deletionPolicy"] == "Orphan"


# -- wait ---------------------------------------------------------------------------

def test_a_bundles_own_wait_false_adds_no_health_checks_but_a_defaults_does():
    own = ks(cluster([{"name": "apps", "bundles": [web(wait=False)]}]))
    assert own["wait"] is False and "healthChecks" not in own
    inherited = ks(cluster([{"name": "apps", "defaults": {"wait": False}, "bundles": [web()]}]))
    assert inherited["wait"] is False
    assert [c["name"] for c in inherited["healthChecks"]] == ["web"]


def test_health_checks_without_wait_still_mean_wait_false_whatever_the_defaults():
    check = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "web"}
    cfg = cluster([{"name": "apps", "defaults": {"wait": True},
                    "bundles": [web(healthChecks=[check])]}])
    spec = ks(cfg)
    assert spec["wait"] is False and spec["healthChecks"][0] == check


def test_a_null_in_a_kustomization_overlay_leaves_the_field_to_flux():
    """wait: null writes no wait (Flux: false); the bundle's own null is its
    wait: false (no health checks added), a default's is a default's."""
    own = ks(cluster([{"name": "apps", "bundles": [web(kustomization={"wait": None})]}]))
    assert "wait" not in own and "healthChecks" not in own
    inherited = ks(cluster([{"name": "apps", "bundles": [web()]}],
                           {"kustomization": {"wait": None}}))
    assert "wait" not in inherited
    assert [c["name"] for c in inherited["healthChecks"]] == ["web"]
    closer = ks(cluster([{"name": "apps", "defaults": {"wait": True}, "bundles": [web()]}],
                        {"kustomization": {"wait": None}}))
    assert closer["wait"] is True and "healthChecks" not in closer
    checked = ks(cluster([{"name": "apps", "bundles": [web(
        kustomization={"wait": None},
        healthChecks=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}])]}]))
    assert "wait" not in checked  # with health checks: the releases join them, as under false
    assert [c["kind"] for c in checked["healthChecks"]] == ["Deployment", "HelmRelease"]


def test_a_null_cannot_leave_out_what_flux_requires_nor_appear_in_other_overlays():
    found = errors(cluster([{"name": "apps", "bundles": [
        web(kustomization={"prune": None, "interval": None},
            helm={"release": {"timeout": None}})]}], {"kustomization": {"wait": None}}))
    path = "spec.nodes[0].bundles[0]"
    assert "required by Flux" in found[f"{path}.kustomization.prune"]
    assert "required by Flux" in found[f"{path}.kustomization.interval"]
    assert f"{path}.applications[0].helm.release.timeout" in found
    assert not any(p.startswith("spec.flux") for p in found)


# -- helm ----------------------------------------------------------------------------

def test_helm_defaults_closest_wins_typed_or_release_overlay():
    flux = {"helm": {"interval": "1h", "timeout": "9m"}}
    node = {"name": "apps", "defaults": {"helm": {"release": {"interval": "15m"}}},
            "bundles": [web()]}
    spec = hr(cluster([node], flux))
    assert (spec["interval"], spec["timeout"]) == ("15m", "9m")
    node["bundles"] = [web(helm={"interval": "5m"})]
    assert hr(cluster([node], flux))["interval"] == "5m"


def test_helm_values_deep_merge_down_the_levels():
    flux = {"helm": {"values": {"resources": {"cpu": "50m"}, "tier": "x"}}}
    node = {"name": "apps", "defaults": {"helm": {"values": {"resources": {"memory": "64Mi"}}}},
            "bundles": [web(helm={"values": {"tier": "y"}})]}
    assert hr(cluster([node], flux))["values"] == {"resources": {"cpu": "50m", "memory": "64Mi"},
                                                   "tier": "y"}


def test_helm_settings_as_defaults_and_create_namespace_false_is_not_written():
    node = {"name": "apps", "defaults": {"helm": {"createNamespace": False, "crds": "Skip",
                                                  "driftDetection": "warn"}},
            "bundles": [web()]}
    spec = hr(cluster([node]))
    assert spec["install"] == {"crds": "Skip"} and spec["upgrade"] == {"crds": "Skip"}
    assert spec["driftDetection"] == {"mode": "warn"}
    node["bundles"] = [web(helm={"createNamespace": True})]
    assert hr(cluster([node]))["install"]["createNamespace"] is True


def test_a_release_overlay_deep_merges_into_what_kure_fn_writes():
    spec = hr(cluster([{"name": "apps", "bundles": [web(helm={
        "crds": "CreateReplace", "release": {"upgrade": {"cleanupOnFail": True}, "maxHistory": 3}})]}]))
    assert spec["upgrade"] == {"cleanupOnFail": True, "crds": "CreateReplace"}
    assert spec["maxHistory"] == 3


def test_identity_fields_are_not_defaults():
    errs = errors(cluster([{"name": "apps", "defaults": {"helm": {"chart": "x"}}, "bundles": [web()]}]))
    assert "spec.nodes[0].defaults.helm.chart" in errs


def test_source_and_instance_overlays():
    cfg = cluster([{"name": "apps", "bundles": [{"name": "ext", "source": "repo", "path": "./deploy"}]}],
                  sources=[{"name": "repo", "git": {"url": "https://github.com/acme/repo"},
                            "spec": {"timeout": "2m", "sparseCheckout": ["deploy"]}}],
                  bootstrap={"fluxVersion": "2.9.x", "instance": {"cluster": {"type": "kubernetes"},
                                                                  "distribution": {"artifact": "oci://x"}}})
    items = render(cfg)
    repo = of_kind(items, "source.toolkit.fluxcd.io/v1", "GitRepository")["repo"]
    assert repo["timeout"] == "2m" and repo["sparseCheckout"] == ["deploy"]
    assert repo["ref"] == {"branch": "main"}
    instance = of_kind(items, "fluxcd.controlplane.io/v1", "FluxInstance")["flux"]
    assert instance["cluster"] == {"type": "kubernetes"}
    assert instance["distribution"] == {"artifact": "oci://x", "registry": "ghcr.io/fluxcd", "version": "2.9.x"}


# -- Argo CD -------------------------------------------------------------------------

def argocd(nodes, flux_defaults=None):
    cfg = cluster(nodes, flux_defaults, gitops="argocd")
    cfg["spec"]["argocd"] = {"repoURL": "https://github.com/acme/fleet.git"}
    return cfg


def test_argocd_takes_helm_values_and_a_nodes_prune_from_defaults():
    cfg = argocd([{"name": "apps", "defaults": {"prune": False, "interval": "1h",
                                                "helm": {"values": {"a": 1}}},
                   "bundles": [web(helm={"values": {"b": 2}})]}])
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 0, doc["results"]
    app = next(o for o in doc["items"] if o["kind"] == "Application" and
               "helm" in o["spec"]["source"])
    assert app["spec"]["source"]["helm"]["valuesObject"] == {"a": 1, "b": 2}
    assert app["spec"]["syncPolicy"]["automated"]["prune"] is False
    warnings = [r["field"]["path"] for r in doc["results"] if r["severity"] == "warning"]
    assert warnings == ["spec.nodes[0].defaults.interval"]


# -- the Flux simulation --------------------------------------------------------------

def test_the_defaults_example_reconciles_in_the_flux_simulation(tmp_path):
    need("kubectl")
    from helpers import package_items
    rc, doc = run_doc(resource_list(package_items(EXAMPLES / "defaults")))
    assert rc == 0, doc["results"]
    kptrepo.write_items(doc["items"], tmp_path)
    sim = fluxsim.check(tmp_path, "clusters/defaults", cluster="defaults")
    assert len(sim.followed) == 3


# -- property: random defaults and overlays, checked against an oracle ------------------

DURATION = st.sampled_from(["30s", "1m", "5m", "10m", "1h", "2h"])
KS_OVERLAY = st.fixed_dictionaries({}, optional={
    "interval": DURATION, "timeout": DURATION, "retryInterval": DURATION, "force": st.booleans(),
    "deletionPolicy": st.sampled_from(["MirrorPrune", "Delete", "Orphan"]),
    "commonMetadata": st.fixed_dictionaries({"labels": st.dictionaries(
        st.sampled_from(["team", "tier"]), st.sampled_from(["a", "b"]), max_size=2)})})
KS_TYPED = st.fixed_dictionaries({}, optional={"interval": DURATION, "timeout": DURATION,
                                               "retryInterval": DURATION})
HR_OVERLAY = st.fixed_dictionaries({}, optional={
    "interval": DURATION, "timeout": DURATION, "maxHistory": st.integers(0, 10),
    "upgrade": st.fixed_dictionaries({"cleanupOnFail": st.booleans()})})
HR_TYPED = st.fixed_dictionaries({}, optional={"interval": DURATION, "timeout": DURATION,
                                               "values": st.dictionaries(
                                                   st.sampled_from(["a", "b"]), st.integers(0, 3),
                                                   max_size=2)})


@st.composite
def level(draw, overlay_key, overlay, typed):
    out = dict(draw(typed))
    if draw(st.booleans()):
        out[overlay_key] = draw(overlay)
    return out


@st.composite
def configs(draw):
    def defaults():
        d = draw(level("kustomization", KS_OVERLAY, KS_TYPED))
        helm = draw(level("release", HR_OVERLAY, HR_TYPED))
        if helm:
            d["helm"] = helm
        return d

    n = draw(st.integers(1, 3))
    names = iter(f"b{i}" for i in range(99))

    def node(depth, name):
        out: dict = {"name": name}
        d = defaults()
        if d:
            out["defaults"] = d
        bundles = []
        for _ in range(draw(st.integers(0, 2))):
            b = web(name=next(names))
            b["applications"][0]["name"] = b["name"]
            b.update(draw(level("kustomization", KS_OVERLAY, KS_TYPED)))
            b["applications"][0]["helm"].update(draw(level("release", HR_OVERLAY, HR_TYPED)))
            bundles.append(b)
        out["bundles"] = bundles
        if depth < 2 and draw(st.booleans()):
            out["children"] = [node(depth + 1, "child")]
        return out
    return cluster([node(0, f"n{i}") for i in range(n)], defaults())


def closest(levels: list[dict], key: str, overlay: str):
    """The oracle: the last level (closest) that sets `key`, typed or in its overlay."""
    found = None
    for lv in levels:
        for v in (lv.get(key), (lv.get(overlay) or {}).get(key)):
            if v is not None:
                found = v
    return found


def deep(levels: list[dict]) -> dict:
    out: dict = {}

    def merge(a, b):
        for k, v in b.items():
            if isinstance(a.get(k), dict) and isinstance(v, dict):
                merge(a[k], v)
            else:
                a[k] = copy.deepcopy(v)
    for lv in levels:
        merge(out, lv)
    return out


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("KURE_FN_HYPOTHESIS_EXAMPLES", "300")) // 3,
          deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cfg=configs())
def test_random_defaults_and_overlays_resolve_closest_first(cfg):
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 0, doc["results"]
    kss = of_kind(doc["items"], KS_API, "Kustomization")
    hrs = of_kind(doc["items"], HR_API, "HelmRelease")
    top = cfg["spec"]["flux"]["defaults"]

    def walk(nodes, chain):
        for n in nodes:
            here = chain + [n.get("defaults") or {}]
            for b in n["bundles"]:
                levels = here + [b]
                spec = kss[b["name"]]
                for key, default in (("interval", "10m"), ("timeout", None), ("retryInterval", None)):
                    assert spec.get(key) == (closest(levels, key, "kustomization") or default), key
                overlays = deep([lv.get("kustomization") or {} for lv in levels])
                for key in ("deletionPolicy", "force", "commonMetadata"):
                    assert spec.get(key) == overlays.get(key), key
                helm = b["applications"][0]["helm"]
                hlevels = [lv.get("helm") or {} for lv in here] + [helm]
                release = hrs[b["name"]]
                for key, default in (("interval", "10m"), ("timeout", None)):
                    assert release.get(key) == (closest(hlevels, key, "release") or default), key
                values = deep([lv.get("values") or {} for lv in hlevels])
                assert release.get("values", {}) == values
                hoverlays = deep([lv.get("release") or {} for lv in hlevels])
                assert release.get("maxHistory") == hoverlays.get("maxHistory")
                assert release.get("upgrade") == hoverlays.get("upgrade")
            walk(n.get("children") or [], here)
    walk(cfg["spec"]["nodes"], [top])


def test_chart_interval_goes_to_the_chart_template_and_never_to_a_chart_ref():
    oci = {"repository": "oci://ghcr.io/acme/web", "chart": None}
    cfg = cluster([{"name": "apps", "bundles": [web(), web(name="o", app="o", helm=oci)]}],
                  {"helm": {"chartInterval": "12h"}})
    items = render(cfg)
    releases = of_kind(items, HR_API, "HelmRelease")
    assert releases["web"]["chart"]["spec"]["interval"] == "12h"
    assert "chart" not in releases["o"] and "interval" not in releases["o"]["chartRef"]
    own = cluster([{"name": "apps", "bundles": [web(helm={**oci, "chartInterval": "1h"})]}])
    assert "chartRef" in errors(own)["spec.nodes[0].bundles[0].applications[0].helm.chartInterval"]
