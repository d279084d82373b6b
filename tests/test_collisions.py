"""What one tree must not hold twice, and names a file system cannot hold,
beyond the bad-input corpus (tests/badinput): directory mode, the library
API, Argo CD, and fleets."""

from __future__ import annotations

import pytest
import yaml

from fn import ConfigError, engine_for
from fn import load_cluster
from fn.cli import main


def config(nodes, name="dev", **spec) -> dict:
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster", "metadata": {"name": name},
            "spec": {"nodes": nodes, **spec}}


def manifests_app(name, *objs, **app) -> dict:
    return {"name": name, "manifests": list(objs), **app}


def cm(name, **meta) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, **meta}}


TWICE = config([{"name": "apps", "bundles": [
    {"name": "one", "applications": [manifests_app("a", cm("x", namespace="web"))]},
    {"name": "two", "applications": [manifests_app("a", cm("x"), namespace="web")]}]}])
FIRST = "spec.nodes[0].bundles[0].applications[0].manifests[0]"
SECOND = "spec.nodes[0].bundles[1].applications[0].manifests[0]"


def test_the_library_refuses_a_tree_with_one_object_twice():
    cluster = load_cluster(TWICE)
    with pytest.raises(ConfigError) as e:
        engine_for("flux").create_layout_with_resources(cluster)
    (p,) = e.value.problems
    assert p.path == SECOND and FIRST in p.message


def test_directory_mode_writes_nothing_when_an_object_comes_twice(tmp_path, capsys):
    other = tmp_path / "ok.yaml"
    other.write_text(yaml.safe_dump(config([{"name": "apps", "bundles": [{"name": "b"}]}], name="ok")))
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(TWICE))
    assert main(["render", str(other), str(bad), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: {SECOND}: ConfigMap 'x' in namespace 'web' comes from two places" in err
    assert not (tmp_path / "out").exists()


def test_argocd_trees_are_checked_alike():
    cluster = load_cluster(config(TWICE["spec"]["nodes"], gitops="argocd",
                                  argocd={"repoURL": "https://github.com/o/r.git"}))
    with pytest.raises(ConfigError) as e:
        engine_for("argocd").create_layout_with_resources(cluster)
    assert [p.path for p in e.value.problems] == [SECOND]


def test_argocd_keeps_an_object_its_namespace_under_a_target_namespace():
    """Argo CD's destination namespace fills in a missing namespace only;
    Flux's targetNamespace replaces every namespace (kustomize)."""
    nodes = [{"name": "apps", "bundles": [{"name": "b", "targetNamespace": "t", "applications": [
        manifests_app("a", cm("x", namespace="a")), manifests_app("c", cm("x", namespace="c"))]}]}]
    argo = load_cluster(config(nodes, gitops="argocd", argocd={"repoURL": "https://github.com/o/r.git"}))
    engine_for("argocd").create_layout_with_resources(argo)
    with pytest.raises(ConfigError):
        engine_for("flux").create_layout_with_resources(load_cluster(config(nodes)))


def _chart_sources(cluster) -> dict[str, str]:
    objs = engine_for("flux").generate_from_cluster(cluster)
    return {o["metadata"]["name"]: o["kind"] for o in objs if o["kind"].endswith("Repository")}


def helm_bundle(*repos) -> list[dict]:
    return [{"name": "apps", "bundles": [{"name": "b", "applications": [
        {"name": f"a{i}", "helm": {"repository": r, "version": "1.0.0"}}
        for i, r in enumerate(repos)]}]}]


@pytest.mark.parametrize("mode", ["gotk", "flux-operator"])
def test_a_chart_source_is_never_named_like_the_source_bootstrap_creates(mode):
    """oci://flux/system would derive flux-system: the bootstrap source's name."""
    cluster = load_cluster(config(helm_bundle("oci://flux/system"), bootstrap={
        "mode": mode, "fluxVersion": "2.6.x",
        "sync": {"kind": "OCIRepository", "url": "oci://ghcr.io/o/fleet"}}))
    names = _chart_sources(cluster)
    assert "flux-system" not in names and list(names)[0].startswith("flux-system-")
    engine_for("flux").create_layout_with_resources(cluster)  # no clash left


def test_a_chart_source_is_never_named_like_an_undeclared_tree_source():
    cluster = load_cluster(config(helm_bundle("https://charts.example.com"),
                                  flux={"sourceRef": {"kind": "GitRepository", "name": "charts-example-com"}}))
    (name,) = _chart_sources(cluster)
    assert name.startswith("charts-example-com-")


ONE_APP = config([{"name": "apps", "bundles": [{"name": "web", "applications": [
    manifests_app("web", cm("x"))]}]}])


@pytest.mark.parametrize("rival", ["kustomization.yml", "Kustomization"])
def test_directory_mode_refuses_a_second_kustomization_file(tmp_path, capsys, rival):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(ONE_APP))
    app_dir = tmp_path / "out" / "clusters" / "dev" / "apps" / "web"
    app_dir.mkdir(parents=True)
    (app_dir / rival).write_text("resources: []\n")
    assert main(["render", str(cfg), "-o", str(tmp_path / "out")]) == 1
    assert (f"spec.layout.root: clusters/dev/apps/web/{rival} sits where kure-fn writes "
            "clusters/dev/apps/web/kustomization.yaml") in capsys.readouterr().err
    assert sorted(p.name for p in app_dir.iterdir()) == [rival]  # nothing written


def test_directory_mode_refuses_a_root_that_is_a_file(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(ONE_APP))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "clusters").write_text("a file\n")
    assert main(["render", str(cfg), "-o", str(tmp_path / "out")]) == 1
    assert f"{tmp_path / 'out' / 'clusters'} is a file, where kure-fn needs a directory" \
        in capsys.readouterr().err
    assert (tmp_path / "out" / "clusters").read_text() == "a file\n"


def argo(name, bundle, namespace="argocd") -> dict:
    return config([{"name": "apps", "bundles": [{"name": bundle}]}], name=name, gitops="argocd",
                  argocd={"repoURL": "https://github.com/o/r.git", "namespace": namespace})


def test_argocd_application_names_of_a_fleet_may_meet_in_different_namespaces(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(argo("a", "b-c")))
    b.write_text(yaml.safe_dump(argo("a-b", "c", namespace="argocd-two")))
    assert main(["render", str(a), str(b), "-o", str(tmp_path / "out")]) == 0


def test_directory_mode_names_both_clusters_files(tmp_path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(argo("a", "b")))  # root Application a, bundle Application a-b
    b.write_text(yaml.safe_dump(argo("a-b", "c")))  # root Application a-b
    assert main(["render", str(a), str(b), "-o", str(tmp_path / "out")]) == 1
    assert (f"{b}: metadata.name: the Argo CD Application name 'a-b' (the namespace 'argocd' holds "
            "the Applications of every cluster) is also the name that cluster 'a' gives at "
            f"spec.nodes[0].bundles[0].name, in {a}") in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
