"""Each layout choice beyond the default tree: output.emit, bootstrap modes,
fleets, external bundles, `resources` selection and hand-written files.

The combinations of placement x kustomizationMode x fileNaming x root are in
test_layout_matrix.py; Kure's defects in test_kure_defects.py."""

import copy
import itertools
import posixpath

import re
import shutil

import pytest
import yaml

import fluxsim
import kptrepo
from helpers import BIN, EXAMPLES, example_dirs, item_path, need, outside_objects, package_items
from layoutcase import (HELM_APP as HELM, cluster, item, key, lists, messages, objects,
                        path_of, paths, rerun, run)

# -- output.emit ------------------------------------------------------------------

FLUX_KINDS = {"Kustomization", "GitRepository", "HelmRepository", "OCIRepository", "FluxInstance"}
BOOTSTRAP = {"mode": "flux-operator", "fluxVersion": "2.9.x",
             "sync": {"kind": "GitRepository", "url": "https://github.com/acme/fleet.git"}}


def _emit(value):
    return run(cluster(**{"output.emit": value, "bootstrap": BOOTSTRAP}))


def test_emit_flux_holds_only_flux_control_objects():
    doc = _emit("flux")
    kinds = {o["kind"] for o in objects(doc)}
    assert kinds == FLUX_KINDS
    assert not [p for p in paths(doc) if "/apps/" in p and "kustomization-" not in p]
    # every kustomization.yaml lists what exists
    _assert_lists_resolve(doc)


def test_emit_apps_holds_only_application_objects_and_their_chart_sources():
    doc = _emit("apps")
    by_kind = {}
    for o in objects(doc):
        by_kind.setdefault(o["kind"], []).append(o["metadata"]["name"])
    assert sorted(by_kind) == ["ConfigMap", "HelmRelease", "HelmRepository", "OCIRepository"]
    assert sorted(by_kind["HelmRelease"]) == ["cert-manager", "podinfo"]
    # the declared git source of the external bundle is a Flux control object, not a chart source
    assert "gateway-api" not in str(by_kind)
    _assert_lists_resolve(doc)
    assert lists(doc)["clusters/prod"] == ["flux-system"]  # the chart sources; bundles come via Flux


def test_emit_flux_and_emit_apps_together_are_emit_all():
    everything = {key(o) for o in objects(_emit("all"))}
    flux = {key(o) for o in objects(_emit("flux"))}
    apps = {key(o) for o in objects(_emit("apps"))}
    assert flux | apps == everything
    assert {k[1] for k in flux & apps} == {"HelmRepository", "OCIRepository"}  # chart sources


def _assert_lists_resolve(doc):
    files = set(paths(doc))
    for directory, entries in lists(doc).items():
        for entry in entries:
            target = posixpath.join(directory, entry)
            assert target in files or posixpath.join(target, "kustomization.yaml") in files, \
                f"{directory}/kustomization.yaml lists {entry}, which is not in the output"


# -- bootstrap ---------------------------------------------------------------------

GOTK = {"mode": "gotk", "fluxVersion": "2.9.4",
        "sync": {"kind": "GitRepository", "url": "ssh://git@github.com/acme/fleet",
                 "ref": "refs/heads/main"}}
COMPONENTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "flux-system"}},
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "source-controller", "namespace": "flux-system"},
     "spec": {"selector": {"matchLabels": {"app": "source-controller"}},
              "template": {"metadata": {"labels": {"app": "source-controller"}},
                           "spec": {"containers": [{"name": "manager",
                                                    "image": "ghcr.io/fluxcd/source-controller"}]}}}},
]


def test_gotk_without_components_file_does_not_list_it():
    doc = run(cluster(bootstrap=GOTK))
    assert lists(doc)["clusters/prod/flux-system"][-1] == "gotk-sync.yaml"
    assert "gotk-components.yaml" not in lists(doc)["clusters/prod/flux-system"]


def test_gotk_lists_the_components_file_when_it_is_in_the_input():
    comp = "clusters/prod/flux-system/gotk-components.yaml"
    given = [item(o, comp, i) for i, o in enumerate(COMPONENTS)]
    # a greedy selector must not carry the Flux controllers away
    spec_apps = {"name": "greedy", "applications": [
        {"name": "deployments", "resources": {"selector": {"kinds": ["Deployment"]}}}]}
    c = cluster(bootstrap=GOTK)
    c["spec"]["nodes"][1]["bundles"].append(spec_apps)
    doc = run(c, *given)
    assert "gotk-components.yaml" in lists(doc)["clusters/prod/flux-system"]
    kept = [it for it in doc["items"] if item_path(it) == comp]
    assert kept == given, "the components come back unchanged, in place"
    assert messages(doc, "warning"), "the selector found nothing else: a warning"


@pytest.mark.e2e
def test_gotk_components_are_applied_once_through_kpt(tmp_path):
    need("kpt")
    need("kubectl")
    repo = tmp_path / "repo"
    kptrepo.make_repo(repo, EXAMPLES / "multi-level", {
        "clusters/staging/flux-system/gotk-components.yaml": yaml.safe_dump_all(COMPONENTS)})
    kptrepo.render(repo)
    components = kptrepo.package_objects(repo, "clusters/staging/flux-system")
    components = {k: v for k, v in components.items() if v.endswith("gotk-components.yaml")}
    assert len(components) == 2
    fluxsim.check(repo, "clusters/staging", also=components)
    kptrepo.commit(repo)
    kptrepo.render(repo)
    assert kptrepo.status(repo) == ""


@pytest.mark.parametrize("root,cluster_dir", [("clusters", "clusters/prod"), (".", "prod"),
                                              ("fleet/clusters", "fleet/clusters/prod")])
def test_flux_operator_instance_syncs_the_cluster_directory(root, cluster_dir):
    doc = run(cluster(bootstrap={**BOOTSTRAP, "components": ["source-controller",
                                                             "kustomize-controller"]},
                      **{"layout.root": root}))
    [fi] = objects(doc, "FluxInstance")
    assert (fi["metadata"]["name"], fi["metadata"]["namespace"]) == ("flux", "flux-system")
    assert fi["spec"]["distribution"] == {"version": "2.9.x", "registry": "ghcr.io/fluxcd"}
    assert fi["spec"]["components"] == ["source-controller", "kustomize-controller"]
    assert fi["spec"]["sync"]["path"] == f"./{cluster_dir}"
    assert item_path(fi).startswith(f"{cluster_dir}/flux-system/")


# -- fleets ------------------------------------------------------------------------

def _fleet_repo(tmp_path):
    need("kpt")
    need("kubectl")
    return kptrepo.make_repo(tmp_path / "repo", EXAMPLES / "fleet")


def _tree(repo, directory):
    return {p.relative_to(repo).as_posix(): p.read_bytes()
            for p in sorted((repo / directory).rglob("*")) if p.is_file()}


@pytest.mark.e2e
def test_fleet_renders_every_cluster_in_one_run(tmp_path):
    repo = _fleet_repo(tmp_path)
    kptrepo.eval_exec(repo)
    for name in ("staging", "production"):
        sim = fluxsim.check(repo, f"clusters/{name}", cluster=name)
        assert len(sim.followed) == 2
    changed = {line[3:].split("/")[0] for line in kptrepo.status(repo).splitlines()}
    assert changed == {"clusters"}
    kptrepo.commit(repo)
    kptrepo.eval_exec(repo)
    assert kptrepo.status(repo) == ""


@pytest.mark.e2e
def test_fleet_prunes_each_cluster_on_its_own(tmp_path):
    repo = _fleet_repo(tmp_path)
    kptrepo.eval_exec(repo)
    kptrepo.commit(repo)
    production = _tree(repo, "clusters/production")

    def drop_podinfo(doc):  # staging takes podinfo from the platform profile: switch it off
        doc["spec"]["nodes"] = [{"name": "apps", "bundles": [{"name": "podinfo",
                                                               "enabled": False}]}]
    kptrepo.edit_config(repo / "config/staging.yaml", drop_podinfo)
    kptrepo.eval_exec(repo)
    gone = sorted(line[3:] for line in kptrepo.status(repo).splitlines() if line.startswith(" D"))
    assert gone and all(p.startswith("clusters/staging/") for p in gone)
    assert not [p for p in (repo / "clusters/staging/apps").rglob("*") if p.is_file()]
    assert not list((repo / "clusters/staging/flux-system").glob("*podinfo*"))
    assert _tree(repo, "clusters/production") == production
    fluxsim.check(repo, "clusters/staging")


@pytest.mark.e2e
def test_a_cluster_whose_config_left_the_run_is_left_alone(tmp_path):
    repo = _fleet_repo(tmp_path)
    kptrepo.eval_exec(repo)
    kptrepo.commit(repo)
    production = _tree(repo, "clusters/production")
    (repo / "config/production.yaml").unlink()
    proc = kptrepo.eval_exec(repo)
    assert "left untouched" in proc.stdout + proc.stderr
    assert _tree(repo, "clusters/production") == production


def test_fleet_trees_that_nest_are_an_error():
    a = cluster("a")
    b = cluster("b", path="b.yaml", **{"layout.root": "clusters/a/infrastructure"})
    doc = run(a, b, ok=False)
    [err] = messages(doc, "error")
    assert err["field"]["path"] == "spec.layout.root" and err["file"]["path"] == "b.yaml"
    assert "nest inside each other" in err["message"]
    assert len(doc["items"]) == 2, "nothing rendered"


def test_an_item_selected_by_two_clusters_is_an_error():
    web = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "namespace": "web"}}
    spec = {"nodes": [{"name": "apps", "bundles": [{"name": "web", "applications": [
        {"name": "shared", "resources": {"selector": {"names": ["shared"]}}}]}]}]}
    doc = run(cluster("a", spec), cluster("b", spec, path="b.yaml"),
              item(web, "shared.yaml"), ok=False)
    [err] = messages(doc, "error")
    assert "also selected by cluster 'a'" in err["message"]
    assert err["field"]["path"] == "spec.nodes[0].bundles[0].applications[0].resources.selector"
    assert [item_path(it) for it in doc["items"]] == ["cluster.yaml", "b.yaml", "shared.yaml"]


# -- external bundles --------------------------------------------------------------

EXTERNAL = {
    "sources": [
        {"name": "platform", "oci": {"url": "oci://ghcr.io/acme/platform", "tag": "v1"}},
        {"name": "legacy", "bucket": {"bucketName": "b", "endpoint": "minio.example:9000"}},
    ],
    "nodes": [{"name": "platform", "source": "platform", "bundles": [
        {"name": "policies", "path": "deploy/policies/"},
        {"name": "monitoring", "path": "./monitoring", "dependsOn": ["policies"]},
        {"name": "legacy", "source": "legacy", "path": "."}]}],
}


@pytest.mark.parametrize("placement", ["separate", "integrated"])
def test_external_bundles_are_a_kustomization_only(placement):
    doc = run(cluster(spec=EXTERNAL, **{"flux.placement": placement}))
    ks = {o["metadata"]["name"]: o for o in objects(doc, "Kustomization")}
    assert {n: (k["spec"]["path"], k["spec"]["sourceRef"]) for n, k in ks.items()} == {
        "policies": ("./deploy/policies", {"kind": "OCIRepository", "name": "platform",
                                           "namespace": "flux-system"}),
        "monitoring": ("./monitoring", {"kind": "OCIRepository", "name": "platform",
                                        "namespace": "flux-system"}),
        "legacy": ("./", {"kind": "Bucket", "name": "legacy", "namespace": "flux-system"}),
    }
    sources = sorted((o["kind"], o["metadata"]["name"]) for o in objects(doc)
                     if o["kind"] in ("OCIRepository", "Bucket"))
    assert sources == [("Bucket", "legacy"), ("OCIRepository", "platform")]
    ks_dir = "clusters/prod/flux-system" if placement == "separate" else "clusters/prod/platform"
    assert {posixpath.dirname(item_path(k)) for k in ks.values()} == {ks_dir}
    # no directory for any external bundle
    assert not [p for p in paths(doc) if p.startswith("clusters/prod/platform/")
                and posixpath.dirname(p) != "clusters/prod/platform"]
    _assert_lists_resolve(doc)


# -- resources selection -----------------------------------------------------------

DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "frontend", "namespace": "web", "labels": {"tier": "web"}},
          "spec": {"replicas": 2}}
SERVICE = {"apiVersion": "v1", "kind": "Service",
           "metadata": {"name": "frontend", "namespace": "web", "labels": {"tier": "web"}},
           "spec": {"ports": [{"port": 80}]}}
OTHER = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "unrelated", "namespace": "x"}}


def _selecting(*selectors, **settings):
    apps = [{"name": f"pick-{i}", "resources": {"selector": s}} for i, s in enumerate(selectors)]
    spec = {"nodes": [{"name": "apps", "bundles": [{"name": "web", "applications": apps}]}]}
    return cluster(spec=spec, **settings)


def _inputs():
    return [item(DEPLOY, "manifests/web.yaml", 0), item(SERVICE, "manifests/web.yaml", 1),
            item(OTHER, "manifests/other.yaml")]


@pytest.mark.parametrize("mode", ["explicit", "recursive"])
def test_selected_items_move_by_path_annotation_only(mode):
    doc = run(_selecting({"matchLabels": {"tier": "web"}}, **{"layout.kustomizationMode": mode}),
              *_inputs())
    assert len(doc["items"]) == 3 + len(objects(doc)) + len(lists(doc)) + 1  # none copied/dropped
    moved = {it["kind"]: it for it in doc["items"] if it.get("metadata", {}).get("name") == "frontend"}
    assert item_path(moved["Deployment"]) == "clusters/prod/apps/web/pick-0/web-deployment-frontend.yaml"
    assert item_path(moved["Service"]) == "clusters/prod/apps/web/pick-0/web-service-frontend.yaml"
    for kind, original in (("Deployment", DEPLOY), ("Service", SERVICE)):
        got = {k: v for k, v in moved[kind].items() if k != "metadata"}
        assert got == {k: v for k, v in original.items() if k != "metadata"}
        meta = dict(moved[kind]["metadata"])
        anns = meta.pop("annotations")
        assert meta == original["metadata"], "namespace and labels unchanged, no ownership"
        assert "fn.kure.dev/cluster" not in anns
    assert item_path(next(it for it in doc["items"] if it["metadata"]["name"] == "unrelated")) \
        == "manifests/other.yaml"
    if mode == "explicit":
        assert lists(doc)["clusters/prod/apps/web/pick-0"] == ["web-deployment-frontend.yaml",
                                                                "web-service-frontend.yaml"]
    else:
        assert lists(doc)["clusters/prod/apps/web"] == ["pick-0/web-deployment-frontend.yaml",
                                                         "pick-0/web-service-frontend.yaml"]


def test_selection_is_stable_on_rerun():
    first = run(_selecting({"kinds": ["Deployment"]}, {"kinds": ["Service"]}), *_inputs())
    second = rerun(first)
    assert yaml.safe_dump(second) == yaml.safe_dump(first)


def test_an_item_selected_twice_is_an_error():
    doc = run(_selecting({"kinds": ["Deployment"]}, {"names": ["frontend"]}), *_inputs(), ok=False)
    [err] = messages(doc, "error")
    assert err["field"]["path"] == "spec.nodes[0].bundles[0].applications[1].resources.selector"
    assert "also selected by spec.nodes[0].bundles[0].applications[0]" in err["message"]
    assert [item_path(it) for it in doc["items"]] == [
        "cluster.yaml", "manifests/web.yaml", "manifests/web.yaml", "manifests/other.yaml"]


def test_an_empty_selection_is_a_warning_and_an_empty_directory():
    doc = run(_selecting({"kinds": ["Secret"]}), *_inputs())
    [warning] = messages(doc, "warning")
    assert warning["field"]["path"] == "spec.nodes[0].bundles[0].applications[0].resources.selector"
    assert lists(doc)["clusters/prod/apps/web"] == []
    assert [item_path(it) for it in doc["items"][:4]] == [
        "cluster.yaml", "manifests/web.yaml", "manifests/web.yaml", "manifests/other.yaml"]


# -- hand-written files -------------------------------------------------------------

HAND = {
    # a KRM object in a bundle directory: quotes, flow style, a comment, unsorted keys
    "clusters/staging/infrastructure/configs/cluster-config/extra.yaml":
        "kind: ConfigMap\napiVersion: v1\nmetadata:\n  name: extra # mine\n  namespace: 'team-a'\n"
        "data: {LEVEL: \"debug\", replicas: '3'}\n",
    # in an application directory and in flux-system
    "clusters/staging/apps/team-a/team-a-web/web/notes.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\n  namespace: team-a\n"
        "data:\n  text: |\n    keep me\n",
    "clusters/staging/flux-system/alerts.yaml":
        "apiVersion: notification.toolkit.fluxcd.io/v1beta3\nkind: Provider\nmetadata:\n"
        "  name: slack\n  namespace: flux-system\nspec:\n  type: slack\n",
    # not KRM: kpt ignores the first, .krmignore hides the second
    "clusters/staging/README.md": "# staging\nHand-written.\n",
    "clusters/staging/apps/team-a/team-a-web/web/values.txt": "replicas=3\n",
    "clusters/staging/apps/values.yaml": "replicas: 3\n",
    ".krmignore": "clusters/staging/apps/values.yaml\n",
}


@pytest.mark.e2e
def test_hand_written_files_in_the_tree_survive_every_run(tmp_path):
    need("kpt")
    need("kubectl")
    repo = kptrepo.make_repo(tmp_path / "repo", EXAMPLES / "multi-level", HAND)
    for _ in range(2):
        kptrepo.render(repo)
        for rel, text in HAND.items():
            assert (repo / rel).read_text() == text, f"{rel} changed"
    fluxsim.check(repo, "clusters/staging")
    # removing the bundle around a hand-written file removes only the generated files
    def drop_configs(doc):
        infra = doc["spec"]["nodes"][0]
        infra["children"] = [c for c in infra["children"] if c["name"] != "configs"]
        for n in doc["spec"]["nodes"][1:]:
            for child in n["children"]:
                for grand in [child, *child.get("children", [])]:
                    for b in grand.get("bundles", []):
                        b.pop("dependsOn", None)
    kptrepo.edit_config(repo / "cluster.yaml", drop_configs)
    kptrepo.render(repo)
    left = sorted(p.relative_to(repo).as_posix()
                  for p in (repo / "clusters/staging/infrastructure/configs").rglob("*") if p.is_file())
    assert left == ["clusters/staging/infrastructure/configs/cluster-config/extra.yaml"]
    for rel, text in HAND.items():
        assert (repo / rel).read_text() == text, f"{rel} changed"
    fluxsim.check(repo, "clusters/staging")


def test_a_hand_written_file_where_a_generated_one_goes_is_an_error():
    mine = item({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                 "metadata": {"name": "mine"}, "resources": ["x.yaml"]},
                "clusters/prod/apps/web/kustomization.yaml")
    doc = run(cluster(), mine, ok=False)
    [err] = messages(doc, "error")
    assert err["message"].startswith("clusters/prod/apps/web/kustomization.yaml would be overwritten")
    assert [item_path(it) for it in doc["items"]] == ["cluster.yaml",
                                                      "clusters/prod/apps/web/kustomization.yaml"]


def test_only_the_bootstrap_components_file_is_kept_from_selectors():
    doc = run(_selecting({"kinds": ["ConfigMap"]}),
              item(OTHER, "clusters/prod/flux-system/mine.yaml"))
    assert path_of(doc, "ConfigMap", "unrelated") == "clusters/prod/apps/web/pick-0/x-configmap-unrelated.yaml"


def test_manifest_app_and_helm_app_paths_are_stable():
    doc = run(cluster())
    assert path_of(doc, "ConfigMap", "web-settings") == \
        "clusters/prod/apps/web/settings/web-configmap-web-settings.yaml"
    assert path_of(doc, "HelmRelease", "cert-manager") == \
        "clusters/prod/infrastructure/controllers/cert-manager/cert-manager/" \
        "flux-system-helmrelease-cert-manager.yaml"


# -- directory mode (`kure-fn render -o DIR`) -------------------------------------------

def _render_dir(configs, out):
    import subprocess
    proc = subprocess.run([str(BIN / "kure-fn"), "render", *map(str, configs), "-o", str(out)],
                          capture_output=True, text=True)
    return proc


@pytest.mark.e2e
@pytest.mark.parametrize("pkg", example_dirs("flux"), ids=lambda p: p.name)
def test_render_directory_is_sound_under_flux(tmp_path, pkg):
    need("kubectl")
    configs = sorted(p for p in pkg.rglob("*.yaml")
                     if re.search(r"^kind: (Cluster|Profile)$", p.read_text(), re.M))
    proc = _render_dir(configs, tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the repository around the tree: directories the package keeps by hand
    # (an external bundle on the tree's own source applies one)
    shutil.copytree(pkg, tmp_path, dirs_exist_ok=True)
    outside = outside_objects(package_items(pkg))  # dependsOn outside the config: must exist
    for name, directory in kptrepo.cluster_dirs(pkg).items():
        assert fluxsim.check(tmp_path, directory, cluster=name, outside=outside).followed


@pytest.mark.e2e
def test_render_directory_lists_an_existing_gotk_components_file(tmp_path):
    need("kubectl")
    components = tmp_path / "clusters/staging/flux-system/gotk-components.yaml"
    components.parent.mkdir(parents=True)
    components.write_text(yaml.safe_dump_all(COMPONENTS))
    assert _render_dir([EXAMPLES / "multi-level/cluster.yaml"], tmp_path).returncode == 0
    listed = yaml.safe_load((components.parent / "kustomization.yaml").read_text())["resources"]
    assert "gotk-components.yaml" in listed
    fluxsim.check(tmp_path, "clusters/staging",
                  also=kptrepo.package_objects(tmp_path, "clusters/staging/flux-system"))


def test_render_directory_refuses_nesting_trees(tmp_path):
    a = tmp_path / "a.yaml"
    b = tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(cluster("a")))
    b.write_text(yaml.safe_dump(cluster("b", **{"layout.root": "clusters/a"})))
    proc = _render_dir([a, b], tmp_path / "out")
    assert proc.returncode == 1 and "nest inside each other" in proc.stderr
    assert not (tmp_path / "out").exists()


# -- found by the Flux simulation ---------------------------------------------------

def test_target_namespace_on_a_bundle_with_helm_releases_is_an_error():
    # Flux would move the HelmReleases out of the Flux namespace, and their
    # dependsOn / the bundle's health checks (namespace flux-system) would dangle.
    spec = {"nodes": [{"name": "apps", "bundles": [
        {"name": "team", "targetNamespace": "team", "applications": [HELM]}]}]}
    doc = run(cluster(spec=spec), ok=False)
    [err] = messages(doc, "error")
    assert err["field"]["path"] == "spec.nodes[0].bundles[0].targetNamespace"
    assert "out of 'flux-system'" in err["message"]


# -- edge shapes --------------------------------------------------------------------

def _cm(name):
    return {"name": name, "namespace": "ns",
            "manifests": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}]}


def _one(name):
    return [{"name": "a", "bundles": [{"name": name, "applications": [_cm("m")]}]}]


EDGE_SHAPES = {
    "empty-nodes": {"nodes": [{"name": "a"}, {"name": "b", "children": [{"name": "c"}]}]},
    "no-nodes": {"nodes": []},
    "bundle-without-applications": {"nodes": [{"name": "a", "bundles": [{"name": "x"}]}]},
    "deep-and-top-bundles": {"nodes": [{"name": "a", "bundles": [{"name": "top", "applications": [_cm("t")]}],
                                        "children": [{"name": "b", "children": [
                                            {"name": "c", "bundles": [{"name": "x", "applications": [_cm("m")]}]}]}]}]},
    "only-external-below-empty-node": {
        "sources": [{"name": "s", "git": {"url": "https://example.com/r"}}],
        "nodes": [{"name": "a", "source": "s", "children": [{"name": "b", "bundles": [{"name": "x", "path": "./x"}]}]}]},
    "declared-tree-source": {"flux": {"sourceRef": {"kind": "GitRepository", "name": "fleet"}},
                             "sources": [{"name": "fleet", "git": {"url": "https://example.com/fleet"}}],
                             "nodes": _one("x")},
    "gotk-without-sync": {"bootstrap": {"mode": "gotk", "fluxVersion": "2.9.4"}, "nodes": _one("x")},
    "operator-without-sync": {"bootstrap": {"mode": "flux-operator", "fluxVersion": "2.9.x"},
                              "nodes": _one("x")},
    "other-flux-namespace": {"flux": {"namespace": "gitops"},
                             "bootstrap": {"mode": "gotk", "fluxVersion": "2.9.4",
                                           "sync": {"kind": "GitRepository", "url": "https://example.com/f"}},
                             "nodes": _one("x")},
}
CHOICES = list(itertools.product(("separate", "integrated"), ("explicit", "recursive"),
                                 ("namespaced", "kind-name"), ("clusters", ".")))


@pytest.mark.e2e
@pytest.mark.parametrize("shape", EDGE_SHAPES, ids=str)
def test_edge_shapes_are_sound_under_flux(tmp_path, shape):
    """Each odd shape under a different combination of choices (the full
    matrix on the rich example is in test_layout_matrix.py)."""
    need("kubectl")
    placement, mode, naming, root = CHOICES[list(EDGE_SHAPES).index(shape) * 5 % len(CHOICES)]
    spec = copy.deepcopy(EDGE_SHAPES[shape])
    spec.setdefault("flux", {})["placement"] = placement
    spec["layout"] = {"kustomizationMode": mode, "fileNaming": naming, "root": root}
    doc = run(cluster(spec=spec))
    kptrepo.write_items(doc["items"], tmp_path)
    namespace = spec["flux"].get("namespace", "flux-system")
    own = {("GitRepository", "fleet")} if shape == "declared-tree-source" else set()
    fluxsim.check(tmp_path, "prod" if root == "." else "clusters/prod", own_sources=own,
                  namespace=namespace)
    assert rerun(doc) == doc


# -- the library: Engine(...) choices equal the config's --------------------------------

def test_engine_arguments_choose_the_layout_like_the_config_does():
    from fn import load_cluster
    from fn.flux import Engine

    def strip(doc):
        doc = copy.deepcopy(doc)
        doc["metadata"] = {"name": doc["metadata"]["name"]}
        return doc
    plain = load_cluster(strip(cluster()))
    chosen = load_cluster(strip(cluster(**{"flux.placement": "integrated",
                                           "layout.kustomizationMode": "recursive",
                                           "layout.fileNaming": "kind-name"})))
    by_args = Engine(kustomization_mode="recursive", placement="integrated",
                     file_naming="kind-name").create_layout_with_resources(plain)
    by_config = Engine().create_layout_with_resources(chosen)
    assert by_args.paths() == by_config.paths()
    assert [by_args.render(p) for p in by_args.paths()] == [by_config.render(p) for p in by_config.paths()]
    assert "clusters/prod/apps/kustomization-web.yaml" in by_args.paths()
