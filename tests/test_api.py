"""The library API (python-api.md): the function and CLI are shells over it,
and each engine part works on its own."""

import pytest

import fn
from fn import load_cluster
from fn.flux import BootstrapGenerator, Engine, LayoutIntegrator, ResourceGenerator

CONFIG = """
apiVersion: fn.kure.dev/v1alpha1
kind: Cluster
metadata: {name: prod}
spec:
  bootstrap: {fluxVersion: 2.9.x, sync: {url: https://github.com/acme/fleet.git}}
  nodes:
  - name: infra
    bundles:
    - name: cm
      applications:
      - name: cert-manager
        namespace: cert-manager
        helm: {chart: cert-manager, version: 1.16.1, repository: https://charts.jetstack.io}
    children:
    - name: extra
      bundles:
      - name: web
        dependsOn: [cm]
        applications:
        - name: web
          namespace: web
          manifests:
          - {apiVersion: v1, kind: ConfigMap, metadata: {name: s}}
"""


@pytest.fixture
def cluster():
    return load_cluster(CONFIG)


def test_load_cluster_accepts_dicts_and_text(cluster):
    import yaml
    again = load_cluster(yaml.safe_load(CONFIG))
    assert again.name == cluster.name == "prod"
    assert [b.name for b in cluster.bundles()] == ["cm", "web"]


def test_load_cluster_raises_with_every_problem():
    with pytest.raises(fn.ConfigError) as e:
        load_cluster(CONFIG.replace("dependsOn: [cm]", "dependsOn: [nope]").replace("name: prod", "name: Prod"))
    paths = {p.path for p in e.value.problems}
    assert "metadata.name" in paths


def test_engine_by_name():
    engine = fn.engine_for("flux")
    assert engine.name == "flux" and engine.version
    assert engine.supported_bootstrap_modes() == ["flux-operator", "gotk"]
    with pytest.raises(ValueError):
        fn.engine_for("argo")


def test_generate_levels(cluster):
    engine = Engine()
    kinds = lambda objs: sorted((o["kind"], o["metadata"]["name"]) for o in objs)
    all_objs = kinds(engine.generate_from_cluster(cluster))
    assert ("HelmRelease", "cert-manager") in all_objs
    assert ("HelmRepository", "charts-jetstack-io") in all_objs
    node = cluster.nodes[0].children[0]
    assert kinds(engine.generate_from_node(node)) == [("ConfigMap", "s"), ("Kustomization", "web")]
    bundle = cluster.find_bundle("cm")
    assert kinds(engine.generate_from_bundle(bundle)) == [
        ("HelmRelease", "cert-manager"), ("HelmRepository", "charts-jetstack-io"), ("Kustomization", "cm")]


def test_generator_is_pure(cluster):
    gen = ResourceGenerator()
    assert [g.obj for g in gen.generate_cluster(cluster)] == [g.obj for g in gen.generate_cluster(cluster)]


def test_bootstrap_generator_alone(cluster):
    objs = [g.obj for g in BootstrapGenerator().generate(cluster.bootstrap, cluster)]
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [("FluxInstance", "flux")]
    assert objs[0]["spec"]["sync"]["path"] == "./clusters/prod"
    assert BootstrapGenerator().generate(None, cluster) == []


def test_layout_integrator_alone(cluster):
    generated = ResourceGenerator().generate_cluster(cluster)
    tree = LayoutIntegrator().integrate(cluster, generated)
    assert "clusters/prod/infra/extra/web/web/web-configmap-s.yaml" in tree.paths()
    assert "clusters/prod/kustomization.yaml" in tree.paths()


def test_engine_options_override_the_config(cluster):
    tree = Engine(placement="integrated").create_layout_with_resources(cluster)
    assert "clusters/prod/infra/flux-system-kustomization-cm.yaml" in tree.paths()
    assert "clusters/prod/infra/extra/flux-system-kustomization-web.yaml" in tree.paths()


def test_tree_write(cluster, tmp_path):
    tree = Engine().create_layout_with_resources(cluster)
    tree.write(tmp_path)
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml"))
    assert written == tree.paths()
    ks = (tmp_path / "clusters/prod/infra/cm/kustomization.yaml").read_text()
    assert "resources:\n- cert-manager\n" in ks


def test_the_model_exposes_typed_settings(cluster):
    """Settings are records read by attribute, spelled as in the config, with
    defaults filled; a misspelt name raises instead of reading None."""
    assert (cluster.flux.namespace, cluster.layout.root, cluster.output.emit) == \
        ("flux-system", "clusters", "all")
    assert cluster.layout.kustomizationMode == "explicit"
    assert cluster.defaults.interval == "10m" and cluster.defaults.wait is True
    assert cluster.argocd.syncPolicy.automated.selfHeal is True
    assert cluster.bootstrap.mode == "flux-operator" and cluster.bootstrap.sync.ref is None
    assert cluster.source_ref.to_data() == {"kind": "GitRepository", "name": "flux-system"}
    with pytest.raises(AttributeError):
        cluster.layout.kustomization_mode


def test_bundles_and_applications_give_their_records(cluster):
    cm, web = cluster.bundles()
    assert web.spec.dependsOn == ["cm"] and web.depends_on == ["cm"]
    assert web.spec.interval is None and web.interval == "10m"  # the cluster default
    app = cm.applications[0]
    assert app.helm.version == "1.16.1" and app.helm.releaseName is None
    assert app.chart_name == "cert-manager" and app.install_namespace == "cert-manager"
    assert web.applications[0].helm is None
    assert web.applications[0].spec.manifests[0] == \
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s"}}  # plain data


def test_an_application_knows_its_type():
    """(A `resources` application was called "manifests" once: an absent
    manifests list reads as [], not None.)"""
    cluster = load_cluster(CONFIG.replace(
        "          manifests:\n          - {apiVersion: v1, kind: ConfigMap, metadata: {name: s}}",
        "          resources: {selector: {kinds: [ConfigMap]}}"))
    assert [a.type for a in cluster.applications()] == ["helm", "resources"]
    assert [a.type for a in load_cluster(CONFIG).applications()] == ["helm", "manifests"]
