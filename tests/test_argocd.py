"""The Argo CD engine: its parts alone, the objects it writes, sync waves from
the dependency graph, config errors, and an Argo CD simulation that follows
the app-of-apps from the root Application through `kubectl kustomize`."""

import copy

import pytest
import yaml

import fn
from argosim import build, follow, key, validate_applications, write_items
from fn import load_cluster
from fn.argocd import BootstrapGenerator, Engine, LayoutIntegrator, ResourceGenerator
from fn.argocd.waves import depths
from helpers import example_dirs, generated, item_path, package_items, resource_list, run_doc

REPO_URL = "https://github.com/acme/fleet.git"
CONFIG = yaml.safe_load(f"""
apiVersion: fn.kure.dev/v1alpha1
kind: Cluster
metadata:
  name: prod
  annotations:
    config.kubernetes.io/path: cluster.yaml
    internal.config.kubernetes.io/path: cluster.yaml
spec:
  gitops: argocd
  argocd:
    repoURL: {REPO_URL}
  sources:
  - name: tools
    git: {{url: https://github.com/acme/tools.git, tag: v1.2.0}}
  - name: charts
    helm: {{url: https://charts.acme.example}}
  - name: bundle-oci
    oci: {{url: oci://ghcr.io/acme/manifests, tag: "3.0"}}
  nodes:
  - name: infra
    bundles:
    - name: crds
      applications:
      - name: crds
        manifests:
        - {{apiVersion: v1, kind: ConfigMap, metadata: {{name: crds-marker, namespace: kube-system}}}}
    - name: cert-manager
      dependsOn: [crds]
      applications:
      - name: cert-manager
        namespace: cert-manager
        helm: {{chart: cert-manager, version: 1.16.1, repository: https://charts.jetstack.io,
                values: {{crds: {{enabled: true}}, b: 1, a: 2}}}}
      - name: trust-manager
        namespace: cert-manager
        helm: {{chart: trust-manager, version: 0.12.0, repository: https://charts.jetstack.io,
                dependsOn: [cert-manager], crds: Skip, createNamespace: false}}
    - name: tooling
      source: tools
      path: ./deploy/base
      targetNamespace: tools
      dependsOn: [cert-manager]
    children:
    - name: platform
      bundles:
      - name: web
        applications:
        - name: web
          namespace: web
          helm: {{chart: web, version: ">=1.0 <2", source: charts, dependsOn: [trust-manager]}}
        - name: extra
          namespace: web
          manifests:
          - {{apiVersion: v1, kind: Service, metadata: {{name: web}}, spec: {{ports: [{{port: 80}}]}}}}
  - name: apps
    bundles:
    - name: podinfo
      dependsOn: [web]
      prune: false
      labels: {{team: web}}
      annotations: {{note: hello}}
      patches:
      - patch: '[{{"op": "replace", "path": "/spec/replicas", "value": 3}}]'
        target: {{kind: Deployment}}
      applications:
      - name: podinfo
        namespace: podinfo
        helm: {{repository: oci://ghcr.io/stefanprodan/charts/podinfo, version: 6.7.1}}
    - name: from-oci
      source: bundle-oci
      path: .
      suspend: true
""")
OTHER = {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "keep", "annotations": {"config.kubernetes.io/path": "keep.yaml"}},
         "data": {"a": "yes"}}


def config(mutate=None) -> dict:
    c = copy.deepcopy(CONFIG)
    if mutate:
        mutate(c)
    return c


def bundles(c: dict, name: str) -> dict:
    def walk(nodes):
        for n in nodes:
            yield from n.get("bundles", [])
            yield from walk(n.get("children", []))
    return next(b for b in walk(c["spec"]["nodes"]) if b["name"] == name)


@pytest.fixture
def cluster():
    return load_cluster(config())


def apps_by_name(objs) -> dict:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == "Application"}


# -- the engine and its parts -------------------------------------------------------

def test_engine_by_name_has_the_flux_engine_interface():
    argo, flux = fn.engine_for("argocd"), fn.engine_for("flux")
    assert isinstance(argo, Engine) and argo.name == "argocd" and argo.version
    assert argo.supported_bootstrap_modes() == ["app-of-apps"]
    public = lambda e: {n for n in dir(e) if not n.startswith("_")}
    assert public(flux) <= public(argo)


def test_generate_levels(cluster):
    engine = Engine()
    names = lambda objs: sorted((o["kind"], o["metadata"]["name"]) for o in objs)
    assert names(engine.generate_from_bundle(cluster.find_bundle("cert-manager"))) == [
        ("Application", "prod-cert-manager"), ("Application", "prod-cert-manager-cert-manager"),
        ("Application", "prod-cert-manager-trust-manager")]
    platform = cluster.nodes[0].children[0]
    assert names(engine.generate_from_node(platform)) == [
        ("Application", "prod-web"), ("Application", "prod-web-web"), ("Service", "web")]
    everything = names(engine.generate_from_cluster(cluster))
    assert ("Application", "prod") not in everything  # the root is the bootstrap
    assert len(everything) == 12


def test_generator_is_pure(cluster):
    gen = ResourceGenerator()
    assert [g.obj for g in gen.generate_cluster(cluster)] == [g.obj for g in gen.generate_cluster(cluster)]


def test_bootstrap_is_the_root_application(cluster):
    (root,) = Engine().generate_bootstrap(cluster.bootstrap, cluster)
    assert root["metadata"] == {"name": "prod", "namespace": "argocd"}  # no finalizer, no wave
    assert root["spec"]["source"] == {"path": "clusters/prod", "repoURL": REPO_URL,
                                      "targetRevision": "HEAD"}
    assert root["spec"]["destination"] == {"namespace": "argocd",
                                           "server": "https://kubernetes.default.svc"}
    assert root["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert BootstrapGenerator().generate(None, cluster)[0].obj == root


def test_layout_integrator_alone(cluster):
    tree = LayoutIntegrator().integrate(cluster, ResourceGenerator().generate_cluster(cluster))
    paths = tree.paths()
    assert "clusters/prod/argocd/argocd-application-prod-web.yaml" in paths
    assert "clusters/prod/infra/platform/web/web/argocd-application-prod-web-web.yaml" in paths
    assert "clusters/prod/infra/platform/web/extra/web-service-web.yaml" in paths
    assert not any("tooling" in p or "from-oci" in p for p in paths if "/argocd/" not in p)
    top = tree.files["clusters/prod/kustomization.yaml"][0][0]
    assert top["resources"] == ["argocd"]


def test_tree_write(cluster, tmp_path):
    tree = Engine(kustomization_mode="recursive").create_layout_with_resources(cluster)
    tree.write(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml")) == tree.paths()
    ks = yaml.safe_load((tmp_path / "clusters/prod/infra/cert-manager/kustomization.yaml").read_text())
    assert ks["resources"] == ["cert-manager/argocd-application-prod-cert-manager-cert-manager.yaml",
                               "trust-manager/argocd-application-prod-cert-manager-trust-manager.yaml"]
    assert not (tmp_path / "clusters/prod/infra/cert-manager/cert-manager/kustomization.yaml").exists()


# -- what the Applications say --------------------------------------------------------

def test_bundle_applications(cluster):
    apps = apps_by_name(Engine().generate_from_cluster(cluster))
    cm = apps["prod-cert-manager"]
    assert cm["spec"]["source"] == {"path": "clusters/prod/infra/cert-manager", "repoURL": REPO_URL,
                                    "targetRevision": "HEAD"}
    assert cm["spec"]["project"] == "default"
    assert cm["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
    assert cm["spec"]["syncPolicy"] == {"automated": {"prune": True, "selfHeal": True},
                                        "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"]}
    pod = apps["prod-podinfo"]  # prune: false, labels, annotations, patches
    assert pod["spec"]["syncPolicy"]["automated"]["prune"] is False
    assert "finalizers" not in pod["metadata"]
    assert pod["metadata"]["labels"] == {"team": "web"}
    assert pod["metadata"]["annotations"]["note"] == "hello"
    assert pod["spec"]["source"]["kustomize"]["patches"][0]["target"] == {"kind": "Deployment"}
    tooling = apps["prod-tooling"]  # external git bundle
    assert tooling["spec"]["source"] == {"path": "deploy/base", "repoURL": "https://github.com/acme/tools.git",
                                         "targetRevision": "v1.2.0"}
    assert tooling["spec"]["destination"]["namespace"] == "tools"
    oci = apps["prod-from-oci"]  # external oci bundle, suspended: no automated sync
    assert oci["spec"]["source"] == {"path": ".", "repoURL": "oci://ghcr.io/acme/manifests",
                                     "targetRevision": "3.0"}
    assert "automated" not in oci["spec"]["syncPolicy"]


def test_helm_applications(cluster):
    apps = apps_by_name(Engine().generate_from_cluster(cluster))
    cm = apps["prod-cert-manager-cert-manager"]["spec"]
    assert cm["source"]["repoURL"] == "https://charts.jetstack.io"
    assert (cm["source"]["chart"], cm["source"]["targetRevision"]) == ("cert-manager", "1.16.1")
    assert cm["source"]["helm"]["releaseName"] == "cert-manager"
    assert list(cm["source"]["helm"]["valuesObject"]) == ["crds", "b", "a"]  # values exactly as given
    assert cm["destination"] == {"namespace": "cert-manager", "server": "https://kubernetes.default.svc"}
    trust = apps["prod-cert-manager-trust-manager"]["spec"]
    assert trust["source"]["helm"]["skipCrds"] is True
    assert trust["syncPolicy"]["syncOptions"] == ["ServerSideApply=true"]  # createNamespace: false
    web = apps["prod-web-web"]["spec"]["source"]  # a declared helm source, a version range
    assert web == {"chart": "web", "helm": {"releaseName": "web"}, "repoURL": "https://charts.acme.example",
                   "targetRevision": ">=1.0 <2"}
    podinfo = apps["prod-podinfo-podinfo"]["spec"]["source"]  # an oci:// chart: native OCI source
    assert podinfo == {"helm": {"releaseName": "podinfo"}, "path": ".",
                       "repoURL": "oci://ghcr.io/stefanprodan/charts/podinfo", "targetRevision": "6.7.1"}


def test_destination_and_sync_policy_settings():
    c = config(lambda c: c["spec"]["argocd"].update(
        namespace="gitops", project="platform", targetRevision="main",
        destination={"name": "prod-cluster"},
        syncPolicy={"automated": {"enabled": False}, "syncOptions": ["Validate=false"]}))
    cluster = load_cluster(c)
    engine = Engine()
    objs = engine.generate_from_cluster(cluster) + engine.generate_bootstrap(None, cluster)
    for app in (o for o in objs if o["kind"] == "Application"):
        assert app["metadata"]["namespace"] == "gitops"
        assert app["spec"]["project"] == "platform"
        assert "automated" not in app["spec"]["syncPolicy"]
        if app["metadata"]["name"] == "prod":  # the root manages Applications where Argo CD runs
            assert app["spec"]["destination"] == {"namespace": "gitops",
                                                  "server": "https://kubernetes.default.svc"}
        else:
            assert app["spec"]["destination"]["name"] == "prod-cluster"
            assert "server" not in app["spec"]["destination"]
    apps = apps_by_name(objs)
    assert apps["prod-cert-manager"]["spec"]["source"]["targetRevision"] == "main"
    assert apps["prod-cert-manager"]["spec"]["syncPolicy"]["syncOptions"] == ["Validate=false"]
    assert apps["prod-cert-manager-cert-manager"]["spec"]["syncPolicy"]["syncOptions"] == [
        "CreateNamespace=true", "Validate=false"]


def test_every_application_passes_the_argocd_schema(cluster):
    engine = Engine()
    objs = engine.generate_from_cluster(cluster) + engine.generate_bootstrap(None, cluster)
    validate_applications([o for o in objs if o["kind"] == "Application"])


@pytest.mark.parametrize("break_it", [
    lambda a: a["spec"].update(dependencies=["x"]),           # Kure's non-standard field
    lambda a: a["spec"]["source"].pop("repoURL"),
    lambda a: a["spec"].pop("project"),
    lambda a: a["spec"].update(destination={"namespace": "x"}),
    lambda a: a["metadata"]["annotations"].update({"argocd.argoproj.io/sync-wave": 1}),
], ids=["unknown-field", "no-repoURL", "no-project", "no-server-or-name", "wave-not-a-string"])
def test_the_schema_rejects_what_argocd_would_not_take(cluster, break_it):
    app = copy.deepcopy(apps_by_name(Engine().generate_from_cluster(cluster))["prod-cert-manager"])
    break_it(app)
    with pytest.raises(AssertionError):
        validate_applications([app])


# -- sync waves --------------------------------------------------------------------

def wave(app: dict) -> int:
    return int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def test_bundle_waves_are_the_depth_in_the_dependency_graph(cluster):
    apps = apps_by_name(Engine().generate_from_cluster(cluster))
    # crds 0 -> cert-manager 1 -> tooling 2; web follows cert-manager through the helm
    # dependsOn of web on trust-manager (another bundle): 2; podinfo after web: 3
    assert {b.name: wave(apps[f"prod-{b.name}"]) for b in cluster.bundles()} == {
        "crds": 0, "cert-manager": 1, "tooling": 2, "web": 2, "podinfo": 3, "from-oci": 0}
    # every bundle's wave is above the waves of all it depends on
    for b in cluster.bundles():
        for dep in b.depends_on:
            assert wave(apps[f"prod-{b.name}"]) > wave(apps[f"prod-{dep}"])


def test_a_suspended_helm_application_syncs_only_by_hand():
    c = config(lambda c: bundles(c, "cert-manager")["applications"][0]["helm"].update(suspend=True))
    apps = apps_by_name(Engine().generate_from_cluster(load_cluster(c)))
    assert "automated" not in apps["prod-cert-manager-cert-manager"]["spec"]["syncPolicy"]
    assert "automated" in apps["prod-cert-manager-trust-manager"]["spec"]["syncPolicy"]


def test_helm_waves_inside_a_bundle(cluster):
    apps = apps_by_name(Engine().generate_from_cluster(cluster))
    assert wave(apps["prod-cert-manager-cert-manager"]) == 0
    assert wave(apps["prod-cert-manager-trust-manager"]) == 1  # dependsOn cert-manager, same bundle
    assert wave(apps["prod-web-web"]) == 0  # its dependency is in another bundle: ordered by bundles


def test_depths_of_a_long_chain_and_a_cycle():
    chain = {f"b{i}": [f"b{i - 1}"] if i else [] for i in range(5000)}
    assert depths(chain)["b4999"] == 4999
    assert depths({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"]}) == {"a": 0, "b": 1, "c": 1, "d": 2}
    with pytest.raises(ValueError):
        depths({"a": ["b"], "b": ["a"]})


# -- config errors and warnings through the function ------------------------------------------

def run_config(c):
    return run_doc(resource_list([c, OTHER]))


@pytest.mark.parametrize("mutate, field_path, words", [
    (lambda c: c["spec"]["argocd"].pop("repoURL"), "spec.argocd.repoURL", "repoURL is required"),
    (lambda c: c["spec"]["argocd"].update(repoURL="github.com/acme/fleet"), "spec.argocd.repoURL",
     "not a repository URL"),
    (lambda c: c["spec"]["argocd"].update(destination={"server": "https://x", "name": "y"}),
     "spec.argocd.destination", "at most one"),
    (lambda c: c["spec"]["argocd"]["syncPolicy"].update(syncOptions=["CreateNamespace"])
     if "syncPolicy" in c["spec"]["argocd"] else c["spec"]["argocd"].update(
        syncPolicy={"syncOptions": ["CreateNamespace"]}),
     "spec.argocd.syncPolicy.syncOptions[0]", "Name=value"),
    (lambda c: c["spec"].update(gitops="argo"), "spec.gitops", "did you mean 'argocd'"),
    (lambda c: c["spec"]["sources"].append({"name": "bkt", "bucket": {"bucketName": "b", "endpoint": "s3"}})
     or bundles(c, "tooling").update(source="bkt"), "spec.nodes[0].bundles[2].source", "bucket"),
    (lambda c: c["spec"]["sources"][0]["git"].update(tag=None, semver=">=1.0"),
     "spec.sources[0].git.semver", "not semver ranges"),
    (lambda c: bundles(c, "crds").update(postBuild={"substitute": {"A": "b"}}),
     "spec.nodes[0].bundles[0].postBuild", "substitution"),
    (lambda c: bundles(c, "crds").update(decryption={"provider": "sops"}),
     "spec.nodes[0].bundles[0].decryption", "SOPS"),
    (lambda c: bundles(c, "crds").update(serviceAccountName="deployer"),
     "spec.nodes[0].bundles[0].serviceAccountName", "AppProject"),
    (lambda c: bundles(c, "cert-manager")["applications"][0]["helm"].update(
        valuesFrom=[{"kind": "ConfigMap", "name": "v"}]),
     "spec.nodes[0].bundles[1].applications[0].helm.valuesFrom", "valuesObject"),
    (lambda c: bundles(c, "crds").update(dependsOn=["web"]),
     "spec.nodes[0].children[0].bundles[0].applications[0].helm.dependsOn[0]", "cycle"),
    (lambda c: c["spec"]["nodes"].append({"name": "argocd"}), "spec.nodes[2].name", "argocd directory"),
    (lambda c: c["spec"]["nodes"].append({"name": "x", "bundles": [{"name": "cert-manager-cert-manager"}]}),
     "spec.nodes[0].bundles[1].applications[0].name", "already used"),
    (lambda c: bundles(c, "cert-manager")["applications"][0]["helm"].update(
        postRenderers=[{"kustomize": {"images": [{"name": "a", "newTag": "1"}]}}]),
     "spec.nodes[0].bundles[1].applications[0].helm.postRenderers", "post-renderer"),
    (lambda c: bundles(c, "crds").update(kubeConfig={"secretRef": {"name": "remote"}}),
     "spec.nodes[0].bundles[0].kubeConfig", "spec.argocd.destination"),
    (lambda c: bundles(c, "crds").update(namePrefix="prod-"),
     "spec.nodes[0].bundles[0].namePrefix", "not mapped"),
    (lambda c: bundles(c, "crds").update(commonMetadata={"labels": {"a": "b"}}),
     "spec.nodes[0].bundles[0].commonMetadata", "selectors"),
], ids=["no-repoURL", "bad-repoURL", "server-and-name", "bad-sync-option", "unknown-engine",
        "bucket-source", "git-semver", "postBuild", "decryption", "serviceAccountName", "valuesFrom",
        "helm-dependency-cycle", "argocd-directory", "application-name-collision", "postRenderers",
        "kubeConfig", "namePrefix", "commonMetadata"])
def test_bad_argocd_config_is_an_error_and_items_come_back(mutate, field_path, words):
    c = config(mutate)
    rc, doc = run_config(c)
    assert rc == 1
    assert doc["items"] == [c, OTHER]  # every item unchanged, nothing generated
    errors = [r for r in doc["results"] if r["severity"] == "error"]
    assert any(r.get("field", {}).get("path") == field_path and words in r["message"] for r in errors), errors
    assert all(r["file"]["path"] == "cluster.yaml" for r in errors)


def test_flux_only_settings_are_warnings():
    def mutate(c):
        c["spec"]["flux"] = {"namespace": "flux-system"}
        c["spec"]["bootstrap"] = {"fluxVersion": "2.9.x"}
        bundles(c, "crds").update(timeout="5m", wait=True)
        bundles(c, "crds").update(deletionPolicy="Orphan")
        bundles(c, "cert-manager")["applications"][0]["helm"].update(
            driftDetection="enabled", strategy="RetryOnFailure", maxHistory=3)
    rc, doc = run_config(config(mutate))
    assert rc == 0
    warned = {r["field"]["path"] for r in doc["results"] if r["severity"] == "warning"}
    helm = "spec.nodes[0].bundles[1].applications[0].helm"
    assert warned == {"spec.flux", "spec.bootstrap", "spec.nodes[0].bundles[0].timeout",
                      "spec.nodes[0].bundles[0].wait", "spec.nodes[0].bundles[0].deletionPolicy",
                      f"{helm}.driftDetection", f"{helm}.strategy", f"{helm}.maxHistory"}
    assert not any(o["kind"] == "FluxInstance" for o in generated(doc))


def test_argocd_settings_under_flux_are_a_warning():
    c = config(lambda c: c["spec"].pop("gitops"))
    rc, doc = run_config(c)
    assert rc == 0
    assert [r["field"]["path"] for r in doc["results"] if r["severity"] == "warning"] == ["spec.argocd"]
    assert any(o["kind"] == "Kustomization" and o["apiVersion"].startswith("kustomize.toolkit")
               for o in generated(doc))


def test_the_info_result_names_the_engine():
    rc, doc = run_config(config())
    assert rc == 0
    assert "generated the Argo CD tree (prod:" in doc["results"][-1]["message"]


# -- one field chooses the engine; the planner is shared -----------------------------------------

def test_switching_the_engine_keeps_the_bundle_and_application_directories():
    dirs = {}
    for gitops in ("flux", "argocd"):
        c = config(lambda c: c["spec"].update(gitops=gitops))
        rc, doc = run_config(c)
        assert rc == 0, doc["results"]
        dirs[gitops] = {item_path(o).rsplit("/", 1)[0] for o in generated(doc)
                        if o["kind"] == "Kustomization" and "kustomize.config" in o["apiVersion"]}
    assert dirs["flux"] - {"clusters/prod/flux-system"} == dirs["argocd"] - {"clusters/prod/argocd"}


@pytest.mark.parametrize("emit, present, absent", [
    ("flux", "clusters/prod/argocd/", "clusters/prod/infra/"),
    ("apps", "clusters/prod/infra/", "clusters/prod/argocd/"),
])
def test_emit(emit, present, absent):
    rc, doc = run_config(config(lambda c: c["spec"].update(output={"emit": emit})))
    assert rc == 0
    paths = [item_path(o) for o in generated(doc)]
    assert any(p.startswith(present) for p in paths)
    assert not any(p.startswith(absent) for p in paths)


# -- Argo CD, simulated --------------------------------------------------------------------------

def simulate(doc: dict, tmp_path, repo_url: str, cluster_name: str):
    """Write the output as kpt does, apply the root Application by hand, and
    follow the app-of-apps; then check what it reached."""
    write_items([o for o in doc["items"] if item_path(o)], tmp_path)
    (root,) = [o for o in generated(doc) if o["kind"] == "Application"
               and o["metadata"]["name"] == cluster_name]
    sync = follow(root, repo_url, tmp_path)
    # every object written under the cluster directory (generated or selected), except the
    # kustomization.yaml files kustomize reads as configuration, is applied exactly once
    cluster_dir = root["spec"]["source"]["path"].strip(".").strip("/")
    expected = [o for o in doc["items"] if (item_path(o) or "").startswith(cluster_dir + "/")
                and not (o["kind"] == "Kustomization" and "kustomize.config" in o["apiVersion"])]
    assert set(sync.reached) == {key(o) for o in expected}, set(sync.reached) ^ {key(o) for o in expected}
    assert all(n == 1 for n in sync.reached.values()), {k: n for k, n in sync.reached.items() if n != 1}
    validate_applications(list(sync.applications.values()))
    return sync


@pytest.mark.e2e
@pytest.mark.parametrize("variant", ["explicit", "recursive", "kind-name"])
def test_argo_simulation_reaches_every_object_once(variant, tmp_path):
    def mutate(c):
        if variant == "recursive":
            c["spec"]["layout"] = {"kustomizationMode": "recursive", "root": "fleet/clusters"}
        if variant == "kind-name":
            c["spec"]["layout"] = {"fileNaming": "kind-name", "root": "."}
    rc, doc = run_config(config(mutate))
    assert rc == 0
    sync = simulate(doc, tmp_path, REPO_URL, "prod")
    # external bundles and charts are followed by Argo CD from their own repositories
    assert set(sync.elsewhere) == {"prod-tooling", "prod-from-oci", "prod-cert-manager-cert-manager",
                                   "prod-cert-manager-trust-manager", "prod-web-web",
                                   "prod-podinfo-podinfo"}
    assert sync.synced[0] == "prod"


@pytest.mark.e2e
@pytest.mark.parametrize("pkg", example_dirs("argocd"), ids=lambda p: p.name)
def test_argo_simulation_of_the_examples(pkg, tmp_path):
    items = package_items(pkg)
    rc, doc = run_doc(resource_list(items))
    assert rc == 0
    cluster = next(o for o in items if o["kind"] == "Cluster")
    sync = simulate(doc, tmp_path, cluster["spec"]["argocd"]["repoURL"], cluster["metadata"]["name"])
    # every Application in the output is reached, and its tree path exists
    assert set(sync.synced) == {o["metadata"]["name"] for o in generated(doc) if o["kind"] == "Application"}
    for name, path in sync.paths.items():
        assert build(tmp_path / path) is not None


@pytest.mark.e2e
def test_argo_simulation_with_selected_resources(tmp_path):
    c = config(lambda c: bundles(c, "crds")["applications"].append(
        {"name": "picked", "resources": {"selector": {"names": ["keep"]}}}))
    rc, doc = run_config(c)
    assert rc == 0
    kept = next(o for o in doc["items"] if o["metadata"]["name"] == "keep")
    assert item_path(kept).startswith("clusters/prod/infra/crds/picked/")
    sync = simulate(doc, tmp_path, REPO_URL, "prod")
    assert sync.reached[key(kept)] == 1


def test_render_writes_the_tree_of_the_function(tmp_path, capsys):
    from fn.cli import main

    pkg = example_dirs("argocd")[0]
    assert main(["render", str(pkg / "cluster.yaml"), "-o", str(tmp_path)]) == 0
    rc, doc = run_doc(resource_list(package_items(pkg)))
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()
               and p.name not in ("README.md", "checksums.txt")}  # directory mode's extras
    assert written == {item_path(o) for o in generated(doc)}


def test_helm_rules_that_belong_to_flux_do_not_apply():
    def mutate(c):
        cm = bundles(c, "cert-manager")
        cm["targetNamespace"] = "cert-manager"  # Flux: would move the HelmReleases (an error there)
        helm = cm["applications"][0]["helm"]
        helm.pop("chart")  # a chart repository's chart defaults to the application name
        helm["valuesConfigMap"] = True  # Flux-only: values stay in the Application
    c = config(mutate)
    rc, doc = run_config(c)
    assert rc == 0, doc["results"]
    assert [r["field"]["path"] for r in doc["results"] if r["severity"] == "warning"] == [
        "spec.nodes[0].bundles[1].applications[0].helm.valuesConfigMap"]
    app = apps_by_name(generated(doc))["prod-cert-manager-cert-manager"]
    assert app["spec"]["source"]["chart"] == "cert-manager"
    assert app["spec"]["source"]["helm"]["valuesObject"]["b"] == 1
    assert not any(o["kind"] == "ConfigMap" and o["metadata"]["name"].endswith("-values")
                   for o in generated(doc))
    c["spec"]["gitops"] = "flux"
    rc, doc = run_config(c)
    assert rc == 1 and any(r.get("field", {}).get("path") == "spec.nodes[0].bundles[1].targetNamespace"
                           for r in doc["results"])


def test_the_policy_tables_name_config_fields():
    """The Argo CD rules read the fields their tables name: each must exist."""
    from fn.argocd import rules
    from fn.model import config as cfg
    for key in (*rules.ARGOCD_BUNDLE_ERRORS, *rules.ARGOCD_BUNDLE_IGNORED):
        assert key in cfg.BUNDLE.fields, key
    for key in (*rules.ARGOCD_HELM_ERRORS, *rules.ARGOCD_HELM_IGNORED):
        assert key in cfg.HELM_APP.fields, key
