"""Profiles (real-repos.md §4): a cluster with profiles renders exactly what
the same cluster written out in full renders — byte for byte — and every
problem names the file and field where the offending value was written.

The bad-input cases (missing profile, cycle, enabled: false on an undefined
name, a removed bundle still depended upon, bootstrap.sync in a profile, a
field error inside a profile) are in tests/badinput/profile-*.yaml.
"""

from __future__ import annotations

import pytest
import copy
import subprocess

import yaml
from hypothesis import given
from hypothesis import strategies as st

from fn.model.profiles import Layer, resolve
from helpers import REPO, dump, example_dirs, package_items, resource_list, run, run_doc
from test_properties import SETTINGS, clusters
from test_properties import resource_list as cluster_list

OWNER = "fn.kure.dev/cluster"
API = "fn.kure.dev/v1alpha1"
NAMED = {"sources", "nodes", "children", "bundles", "applications"}


def generated_text(out: str) -> list[str]:
    """The owned items of a function run, as text (byte-identical compare)."""
    doc = yaml.safe_load(out)
    return [yaml.safe_dump(it, sort_keys=False) for it in doc["items"]
            if OWNER in ((it.get("metadata") or {}).get("annotations") or {})]


# -- splitting a config into profile + cluster ------------------------------------------

@st.composite
def split(draw, value, path=()):
    """(profile part, cluster part) of a mapping: merging the cluster part
    over the profile part gives `value` back."""
    prof, own = {}, {}
    for key, v in value.items():
        where = (*path, key)
        if where == ("bootstrap", "sync"):
            own[key] = copy.deepcopy(v)  # a profile never sets it
            continue
        how = draw(st.sampled_from(["profile", "cluster", "both", "override"]))
        if where == ("bootstrap",) and isinstance(v, dict) and "sync" in v:
            how = "both"  # sync stays with the cluster
        if how == "both" and isinstance(v, dict):
            p, c = draw(split(v, where))
            if p:
                prof[key] = p
            if c or not p:
                own[key] = c
        elif how == "both" and key in NAMED and isinstance(v, list):
            cut = draw(st.integers(0, len(v)))
            plist, clist = [], []
            for i, entry in enumerate(v):
                if i < cut:  # profile entries come first in the merge; cluster-only ones after
                    p, c = draw(split({k: x for k, x in entry.items() if k != "name"}, where))
                    plist.append({"name": entry["name"], **p})
                    if c and draw(st.booleans()):
                        clist.append({"name": entry["name"], **c})
                    else:
                        plist[-1] = copy.deepcopy(entry)
                else:
                    clist.append(copy.deepcopy(entry))
            if plist:
                prof[key] = plist
            if clist or not plist:
                own[key] = clist
        elif how == "override" and not isinstance(v, dict):
            prof[key] = "overridden by the cluster"  # any value: the cluster's wins
            own[key] = copy.deepcopy(v)
        elif how == "profile":
            prof[key] = copy.deepcopy(v)
        else:
            own[key] = copy.deepcopy(v)
    return prof, own


def with_profile(cfg: dict, prof: dict, own: dict) -> tuple[dict, dict]:
    profile = {"apiVersion": API, "kind": "Profile",
               "metadata": {"name": "base", "annotations": {
                   "config.kubernetes.io/local-config": "true"}}, "spec": prof}
    cluster = {**copy.deepcopy(cfg), "spec": {"profiles": ["base"], **own}}
    return profile, cluster


def test_the_merge_gives_the_config_back_on_a_hand_made_case():
    profile = {"spec": {"flux": {"defaults": {"interval": "1h", "prune": False}},
                        "nodes": [{"name": "a", "bundles": [
                            {"name": "x", "applications": [{"name": "x", "namespace": "x",
                                                            "helm": {"values": {"a": 1, "b": {"c": 2}}}}]},
                            {"name": "y", "dependsOn": ["x"]}]}]}}
    cluster = {"metadata": {"name": "c"}, "spec": {
        "profiles": ["base"],
        "flux": {"defaults": {"interval": "5m"}},
        "nodes": [{"name": "a", "bundles": [
            {"name": "x", "applications": [{"name": "x", "helm": {"values": {"b": {"d": 3}}}}]},
            {"name": "y", "dependsOn": []}, {"name": "z"}]}]}}
    merged = resolve(Layer("c", cluster, "c.yaml", "Cluster"),
                     {"base": Layer("base", profile, "p.yaml")})
    assert not merged.problems
    assert merged.doc["spec"] == {
        "flux": {"defaults": {"interval": "5m", "prune": False}},
        "nodes": [{"name": "a", "bundles": [
            {"name": "x", "applications": [{"name": "x", "namespace": "x",
                                            "helm": {"values": {"a": 1, "b": {"c": 2, "d": 3}}}}]},
            {"name": "y", "dependsOn": []}, {"name": "z"}]}]}
    # where each value was written
    assert merged.origin("spec.flux.defaults.prune").file == "p.yaml"
    assert merged.origin("spec.flux.defaults.interval").file == "c.yaml"
    values = "spec.nodes[0].bundles[0].applications[0].helm.values"
    assert merged.origin(f"{values}.b.c").path == f"{values}.b.c"
    assert merged.origin(f"{values}.b.c").file == "p.yaml"
    assert merged.origin(f"{values}.b.d").file == "c.yaml"
    assert merged.origin("spec.nodes[0].bundles[2].name").file == "c.yaml"


def test_a_later_profile_wins_and_profiles_of_profiles_come_first():
    a = {"spec": {"flux": {"defaults": {"interval": "1m", "timeout": "1m"}}}}
    b = {"spec": {"profiles": ["a"], "flux": {"defaults": {"interval": "2m"}}}}
    c = {"spec": {"flux": {"defaults": {"timeout": "3m"}}}}
    cluster = {"metadata": {"name": "x"}, "spec": {"profiles": ["b", "c"]}}
    merged = resolve(Layer("x", cluster, None, "Cluster"),
                     {n: Layer(n, d, f"{n}.yaml") for n, d in {"a": a, "b": b, "c": c}.items()})
    assert merged.doc["spec"]["flux"]["defaults"] == {"interval": "2m", "timeout": "3m"}
    assert merged.used == {"a", "b", "c"}


@pytest.mark.slow
@SETTINGS
@given(data=st.data())
def test_any_split_into_profile_and_cluster_renders_the_same_tree(data):
    cfg, selected = data.draw(clusters())
    prof, own = data.draw(split(cfg["spec"]))
    profile, cluster = with_profile(cfg, prof, own)
    rc, whole = run(cluster_list(cfg, selected))
    assert rc == 0, whole
    doc = yaml.safe_load(cluster_list(cluster, selected))
    doc["items"].append(profile)
    rc, parts = run(dump(doc, sort_keys=False, allow_unicode=True))
    assert rc == 0, parts
    assert generated_text(parts) == generated_text(whole)


def test_every_example_cluster_renders_the_same_from_a_profile():
    """Each example cluster, its whole spec moved into a profile (the cluster
    keeps metadata and bootstrap.sync): the same items, byte for byte."""
    for pkg in example_dirs():
        items = package_items(pkg)
        base = resource_list(items)
        rc, whole = run(base)
        assert rc == 0, (pkg, whole)
        split_items = []
        for it in items:
            if it.get("kind") != "Cluster" or it.get("apiVersion") != API or "profiles" in it["spec"]:
                split_items.append(it)
                continue
            spec = copy.deepcopy(it["spec"])
            sync = (spec.get("bootstrap") or {}).pop("sync", None)
            name = f"{it['metadata']['name']}-all"
            split_items.append({"apiVersion": API, "kind": "Profile", "metadata": {
                "name": name, "annotations": {"config.kubernetes.io/local-config": "true",
                                              "config.kubernetes.io/path": f"{name}.yaml"}},
                "spec": spec})
            own = {"profiles": [name]}
            if sync is not None:
                own["bootstrap"] = {"sync": sync}
            split_items.append({**it, "spec": own})
        rc, parts = run(resource_list(split_items))
        assert rc == 0, (pkg, parts)
        assert generated_text(parts) == generated_text(whole), pkg


def test_an_unused_profile_is_a_warning():
    doc = yaml.safe_load(cluster_list({"apiVersion": API, "kind": "Cluster",
                                       "metadata": {"name": "c"}, "spec": {}}, []))
    doc["items"].append({"apiVersion": API, "kind": "Profile", "metadata": {
        "name": "spare", "annotations": {"config.kubernetes.io/path": "spare.yaml"}}, "spec": {}})
    rc, out = run_doc(dump(doc, sort_keys=False))
    assert rc == 0
    [w] = [r for r in out["results"] if r["severity"] == "warning"]
    assert "Profile 'spare' is used by no Cluster" in w["message"]
    assert w["resourceRef"]["kind"] == "Profile" and w["file"]["path"] == "spare.yaml"
    # the profile comes back unchanged, and is never rendered
    assert any(it["kind"] == "Profile" for it in out["items"])


def test_directory_mode_reads_profiles_from_the_given_files(tmp_path):
    config = REPO / "examples" / "fleet" / "config"
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "kure-fn"), "render",
                           *sorted(str(p) for p in config.glob("*.yaml")), "-o", str(tmp_path)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "clusters/production/apps/podinfo/kustomization.yaml").is_file()
    release = (tmp_path / "clusters/production/apps/podinfo/podinfo/"
               "flux-system-helmrelease-podinfo.yaml").read_text()
    assert "replicaCount: 3" in release
    staging = (tmp_path / "clusters/staging/apps/podinfo/podinfo/"
               "flux-system-helmrelease-podinfo.yaml").read_text()
    assert "replicaCount: 1" in staging
    # a problem in the profile names the profile's file
    bad = tmp_path / "platform.yaml"
    bad.write_text((config / "platform.yaml").read_text().replace("version: \"1.16.1\"",
                                                                  "versoin: \"1.16.1\""))
    proc = subprocess.run([str(REPO / ".venv" / "bin" / "kure-fn"), "render", str(bad),
                           str(config / "staging.yaml"), "-o", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert f"{bad}: spec.nodes[0].bundles[0].applications[0].helm.versoin" in proc.stderr


@pytest.mark.e2e
def test_kustomize_transformer_reads_profiles_from_its_input(tmp_path):
    """kubectl kustomize, legacy exec plugin as a transformer: the Profile is
    a (local-config) resource of the kustomization; the build applies what
    the fully written cluster applies, and not the Profile itself."""
    import os

    from helpers import need
    from routes import applied, install_plugin, kubectl_kustomize, kustomization, reference

    need("kubectl")
    config = REPO / "examples" / "fleet" / "config"
    staging = yaml.safe_load((config / "staging.yaml").read_text())
    env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": str(install_plugin(tmp_path / "plugins"))}
    directory = kustomization(tmp_path / "k", staging, "transformer",
                              extra=(config / "platform.yaml").read_text())
    out = kubectl_kustomize(directory, env)
    assert not [o for o in out if o.get("kind") == "Profile"]
    # the reference: the fleet package through the function, staging's items only
    fleet = [o for o in reference(REPO / "examples" / "fleet")
             if ((o.get("metadata") or {}).get("annotations") or {}).get(OWNER) == "staging"]
    assert applied(out) == applied(fleet)
