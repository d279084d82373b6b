"""One regression test per defect found in Kure's layout engine
(shared/reference/anchors.md §A.9, items 1-7, 9, 10, 13, 14): each shows the
situation that broke Kure and asserts kure-fn gets it right."""

import copy
import posixpath
import subprocess
import sys

import pytest

import fluxsim
import kptrepo
from helpers import VALIDATOR, item_path, need, validate_flux
from layoutcase import SPEC, cluster, lists, messages, objects, paths, run

PLACEMENTS = ("separate", "integrated")
ROOTS = {"clusters": "clusters/prod", ".": "prod", "fleet/clusters": "fleet/clusters/prod"}


def _bundle_kustomizations(doc):
    return {o["metadata"]["name"]: o for o in objects(doc, "Kustomization")
            if o["apiVersion"].startswith("kustomize.toolkit.fluxcd.io/")
            and o["spec"]["sourceRef"]["name"] == "flux-system"}


def _simulate(doc, tmp_path, cluster_dir):
    need("kubectl")
    kptrepo.write_items(doc["items"], tmp_path)
    return fluxsim.check(tmp_path, cluster_dir, cluster="prod")


# 1. spec.path was the bundle ancestry, not the directory written ---------------------

@pytest.mark.e2e
@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("root", ROOTS)
def test_1_spec_path_is_the_directory_written(tmp_path, placement, root):
    doc = run(cluster(**{"flux.placement": placement, "layout.root": root}))
    cluster_dir = ROOTS[root]
    expected = {"cert-manager": f"{cluster_dir}/infrastructure/controllers/cert-manager",
                "web": f"{cluster_dir}/apps/web", "podinfo": f"{cluster_dir}/apps/podinfo"}
    ks = _bundle_kustomizations(doc)
    assert {n: k["spec"]["path"] for n, k in ks.items()} == {n: f"./{d}" for n, d in expected.items()}
    for name, directory in expected.items():
        assert directory in lists(doc), f"{directory}/kustomization.yaml"
    assert item_path(next(o for o in objects(doc, "HelmRelease")
                          if o["metadata"]["name"] == "cert-manager")).startswith(
        expected["cert-manager"] + "/")
    sim = _simulate(doc, tmp_path, cluster_dir)
    assert sorted(sim.followed) == sorted(
        f"Kustomization.kustomize.toolkit.fluxcd.io flux-system/{n}" for n in expected)


# 2. FluxInstance named flux-system; the CRD admits only `flux` -----------------------

def test_2_flux_instance_is_named_flux():
    doc = run(cluster(bootstrap={"mode": "flux-operator", "fluxVersion": "2.9.x",
                                 "sync": {"kind": "GitRepository",
                                          "url": "https://github.com/acme/fleet.git"}}))
    [fi] = objects(doc, "FluxInstance")
    assert fi["metadata"]["name"] == "flux"
    validate_flux([fi])
    wrong = copy.deepcopy(fi)
    wrong["metadata"]["name"] = "flux-system"  # what Kure emitted: the validator refuses it
    proc = subprocess.run([sys.executable, str(VALIDATOR), "-q", "-"], capture_output=True, text=True,
                          input=__import__("yaml").safe_dump(wrong))
    assert proc.returncode == 1 and "'flux'" in proc.stdout + proc.stderr


# 3. gotk: the Kustomization referenced a source name/kind that was not generated -----

@pytest.mark.parametrize("sync,kind", [
    ({"kind": "GitRepository", "url": "ssh://git@github.com/acme/fleet"}, "GitRepository"),
    ({"kind": "OCIRepository", "url": "oci://ghcr.io/acme/fleet"}, "OCIRepository"),
    (None, "GitRepository"),
])
@pytest.mark.parametrize("namespace", ["flux-system", "gitops"])
def test_3_gotk_sync_source_and_kustomization_agree(sync, kind, namespace):
    boot = {"mode": "gotk", "fluxVersion": "2.9.4", **({"sync": sync} if sync else {})}
    doc = run(cluster(bootstrap=boot, **{"flux.namespace": namespace}))
    synced = [o for o in generated_in(doc, "gotk-sync.yaml")]
    [ks] = [o for o in synced if o["kind"] == "Kustomization"]
    assert ks["metadata"] == {**ks["metadata"], "name": namespace, "namespace": namespace}
    assert ks["spec"]["sourceRef"] == {"kind": kind, "name": namespace, "namespace": namespace}
    assert ks["spec"]["path"] == "./clusters/prod"
    sources = [o for o in synced if o["kind"] != "Kustomization"]
    if sync:
        assert [(s["kind"], s["metadata"]["name"], s["metadata"]["namespace"]) for s in sources] == \
            [(kind, namespace, namespace)]
    else:
        assert sources == []  # `flux bootstrap` created it, with exactly that name
    for k in _bundle_kustomizations_of(doc, namespace).values():
        assert k["spec"]["sourceRef"] == {"kind": kind, "name": namespace, "namespace": namespace}
    validate_flux(synced)


def generated_in(doc, filename):
    return [it for it in objects(doc) if posixpath.basename(item_path(it)) == filename]


def _bundle_kustomizations_of(doc, namespace):
    return {o["metadata"]["name"]: o for o in objects(doc, "Kustomization")
            if posixpath.basename(item_path(o)) != "gotk-sync.yaml" and "path" in o["spec"]
            and o["spec"]["sourceRef"]["name"] == namespace}


# 4. without a cluster name Kure put the root at cluster/<root>, children at <root>/ ---

@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("root", ROOTS)
def test_4_every_directory_nests_under_the_cluster_directory(placement, root):
    doc = run(cluster(**{"flux.placement": placement, "layout.root": root}))
    cluster_dir = ROOTS[root]
    assert all(p.startswith(cluster_dir + "/") for p in paths(doc)), paths(doc)
    dirs = set(lists(doc))
    # the cluster directory is the sync root; nested nodes nest in their parents
    assert cluster_dir in dirs and f"{cluster_dir}/flux-system" in dirs
    assert f"{cluster_dir}/infrastructure/controllers/cert-manager" in dirs
    if placement == "integrated":
        assert {f"{cluster_dir}/infrastructure", f"{cluster_dir}/infrastructure/controllers",
                f"{cluster_dir}/apps"} <= dirs
        assert lists(doc)[f"{cluster_dir}/infrastructure"] == ["controllers"]


# 5. integrated: the parent listed a CR file the child never had -----------------------

@pytest.mark.e2e
def test_5_integrated_lists_resolve_and_name_the_right_bundle(tmp_path):
    doc = run(cluster(**{"flux.placement": "integrated"}))
    by_path = {item_path(o): o for o in objects(doc)}
    files = set(paths(doc))
    for directory, entries in lists(doc).items():
        for entry in entries:
            target = posixpath.join(directory, entry)
            if entry.endswith(".yaml"):
                assert target in files, f"{directory} lists the missing file {entry}"
                obj = by_path.get(target)
                if obj and obj["kind"] == "Kustomization" and "path" in obj["spec"] \
                        and obj["spec"]["sourceRef"]["name"] == "flux-system":
                    # the CR in a node directory applies that node's bundle of the same name
                    assert obj["spec"]["path"] == f"./{directory}/{obj['metadata']['name']}"
            else:
                assert f"{target}/kustomization.yaml" in files, f"{directory} lists {entry}/"
    _simulate(doc, tmp_path, "clusters/prod")


# 6. duplicate source objects when bundles shared a source -------------------------------

def test_6_shared_sources_are_emitted_once():
    spec = copy.deepcopy(SPEC)
    spec["sources"].append({"name": "charts", "helm": {"url": "https://charts.example.com"}})
    spec["nodes"][0]["source"] = "gateway-api"
    spec["nodes"][0]["children"][0]["bundles"] += [
        {"name": "gateway-experimental", "path": "./config/crd/experimental"},
        {"name": "gateway-examples", "source": "gateway-api", "path": "./examples"}]
    spec["nodes"][1]["bundles"].append({"name": "more", "applications": [
        {"name": f"app-{i}", "namespace": "apps",
         "helm": {"chart": f"app-{i}", "version": "1.0.0", "repository": "https://charts.jetstack.io"}}
        for i in range(2)] + [
        {"name": "app-2", "namespace": "apps", "helm": {"chart": "x", "version": "1.0.0",
                                                      "source": "charts"}},
        {"name": "app-3", "namespace": "apps", "helm": {"chart": "y", "version": "2.0.0",
                                                      "repository": "https://charts.example.com"}}]})
    doc = run(cluster(spec=spec))
    keys = [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in objects(doc)]
    assert len(keys) == len(set(keys)), "an object is emitted twice"
    sources = sorted(k for k in keys if k[0].endswith("Repository"))
    assert sources == [("GitRepository", "flux-system", "gateway-api"),
                       ("HelmRepository", "flux-system", "charts"),
                       ("HelmRepository", "flux-system", "charts-jetstack-io"),
                       ("OCIRepository", "flux-system", "ghcr-io-stefanprodan-charts-podinfo")]


# 7. separate placement emitted sourceRef {kind: "", name: ""} ---------------------------

@pytest.mark.parametrize("settings,kind,name", [
    ({}, "GitRepository", "flux-system"),
    ({"bootstrap": {"mode": "flux-operator", "fluxVersion": "2.9.x",
                    "sync": {"kind": "OCIRepository", "url": "oci://ghcr.io/acme/fleet"}}},
     "OCIRepository", "flux-system"),
    ({"flux.sourceRef": {"kind": "Bucket", "name": "fleet-bucket"}}, "Bucket", "fleet-bucket"),
])
def test_7_every_kustomization_has_a_complete_source_ref(settings, kind, name):
    doc = run(cluster(**settings))
    for ks in objects(doc, "Kustomization"):
        ref = ks["spec"]["sourceRef"]
        assert ref["kind"] and ref["name"] and ref["namespace"] == "flux-system"
    rendered = {n: k["spec"]["sourceRef"] for n, k in _all_ks(doc).items() if n != "gateway-crds"}
    assert set(rendered) == {"cert-manager", "web", "podinfo"}
    assert all(r == {"kind": kind, "name": name, "namespace": "flux-system"}
               for r in rendered.values())


def _all_ks(doc):
    return {o["metadata"]["name"]: o for o in objects(doc, "Kustomization")}


# 9. no dependsOn cycle / unknown reference / duplicate name detection -----------------

@pytest.mark.parametrize("change,field,words", [
    (lambda s: s["nodes"][1]["bundles"][0].update(dependsOn=["podinfo"]) or
     s["nodes"][1]["bundles"][1].update(dependsOn=["web"]),
     "spec.nodes[1].bundles[1].dependsOn[0]", "dependency cycle: podinfo -> web -> podinfo"),
    (lambda s: s["nodes"][1]["bundles"][0].update(dependsOn=["nope"]),
     "spec.nodes[1].bundles[0].dependsOn[0]", "does not exist"),
    (lambda s: s["nodes"][1]["bundles"][1].update(name="web"),
     "spec.nodes[1].bundles[1].name", "already used"),
])
def test_9_dependency_and_name_errors_are_reported(change, field, words):
    spec = copy.deepcopy(SPEC)
    change(spec)
    doc = run(cluster(spec=spec), ok=False)
    errors = messages(doc, "error")
    assert any(e["field"]["path"] == field and words in e["message"] for e in errors), errors
    assert len(doc["items"]) == 1, "no generated item"


# 10. invalid durations were silently replaced or dropped ---------------------------------

@pytest.mark.parametrize("setting,field", [
    ({"flux.defaults.interval": "1d"}, "spec.flux.defaults.interval"),
    ({"flux.defaults.timeout": "10 minutes"}, "spec.flux.defaults.timeout"),
    ({"flux.defaults.retryInterval": ""}, "spec.flux.defaults.retryInterval"),
])
def test_10_invalid_durations_are_errors(setting, field):
    doc = run(cluster(**setting), ok=False)
    errors = messages(doc, "error")
    assert [e["field"]["path"] for e in errors] == [field]
    assert "Go duration" in errors[0]["message"]
    assert len(doc["items"]) == 1


def test_10_an_invalid_bundle_interval_is_an_error_too():
    spec = copy.deepcopy(SPEC)
    spec["nodes"][1]["bundles"][0]["interval"] = "5 min"
    doc = run(cluster(spec=spec), ok=False)
    assert [e["field"]["path"] for e in messages(doc, "error")] == ["spec.nodes[1].bundles[0].interval"]


# 13. Kure forced wait: true although Flux then ignores healthChecks ---------------------

def test_13_wait_is_not_forced_over_health_checks():
    spec = copy.deepcopy(SPEC)
    checks = [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "namespace": "web"}]
    spec["nodes"][1]["bundles"][0]["healthChecks"] = checks
    doc = run(cluster(spec=spec))  # cluster default wait: true
    web = _all_ks(doc)["web"]
    assert web["spec"]["wait"] is False and web["spec"]["healthChecks"] == checks
    assert _all_ks(doc)["podinfo"]["spec"]["wait"] is True  # the default still applies elsewhere
    spec["nodes"][1]["bundles"][0]["wait"] = True
    doc = run(cluster(spec=spec))
    [warning] = messages(doc, "warning")
    assert warning["field"]["path"] == "spec.nodes[1].bundles[0].healthChecks"
    assert "ignores healthChecks when wait is true" in warning["message"]


# 14. a Kustomization hosted inside the directory it applies -------------------------------

@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("root", ROOTS)
def test_14_no_kustomization_lives_inside_its_own_path(placement, root):
    doc = run(cluster(**{"flux.placement": placement, "layout.root": root,
                         "bootstrap": {"mode": "gotk", "fluxVersion": "2.9.4"}}))
    for name, ks in _bundle_kustomizations(doc).items():
        if name == "flux-system":
            continue  # the bootstrap sync applies the cluster directory by design
        target = ks["spec"]["path"][2:]
        here = posixpath.dirname(item_path(ks))
        assert not (here == target or here.startswith(target + "/")), \
            f"{name} sits in {here}, inside its own path {target}"
