"""Bugs the property-based tests found, pinned as plain examples."""

from __future__ import annotations

import yaml

from fn.krm import yamlio
from helpers import run_doc


def test_the_emitter_escapes_characters_yaml_forbids():
    """C1 controls (U+0080..U+009F but NEL), DEL and U+FFFE/U+FFFF were written
    raw inside double quotes: no YAML reader (ours included) accepts that."""
    for value in ("a\x96b", "del\x7f", "nel\x85", "z\ufffe", "ls\u2028", "bom\ufeff", "\x00\x1b"):
        text = yamlio.dump({"k": value})
        assert yaml.safe_load(text) == {"k": value}
        assert yamlio.load(text) == {"k": value}


def test_kustomization_resources_are_sorted_in_integrated_placement():
    """Node directories were listed in config order after the files."""
    cluster = {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
               "metadata": {"name": "dev"},
               "spec": {"flux": {"placement": "integrated"}, "nodes": [
                   {"name": "x", "bundles": [{"name": "b"}],
                    "children": [{"name": "team-b", "bundles": [{"name": "c"}]},
                                 {"name": "team-a", "bundles": [{"name": "d"}]}]},
                   {"name": "apps", "bundles": [{"name": "a"}]}]}}
    rl = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": [cluster]}
    rc, doc = run_doc(yaml.safe_dump(rl))
    assert rc == 0, doc
    lists = {it["metadata"]["annotations"]["internal.config.kubernetes.io/path"]: it["resources"]
             for it in doc["items"] if it["apiVersion"] == "kustomize.config.k8s.io/v1beta1"}
    assert lists["clusters/dev/kustomization.yaml"] == ["apps", "x"]
    assert lists["clusters/dev/x/kustomization.yaml"] == [
        "flux-system-kustomization-b.yaml", "team-a", "team-b"]
    for resources in lists.values():
        assert resources == sorted(resources)
