"""Small Cluster configs and views of the function's output, for layout tests."""

from __future__ import annotations

import copy
import posixpath

import yaml

from helpers import generated, item_path, resource_list, run_doc

API = "fn.kure.dev/v1alpha1"
LAYOUT_API = "kustomize.config.k8s.io/v1beta1"

HELM_APP = {"name": "cert-manager", "namespace": "cert-manager",
            "helm": {"chart": "cert-manager", "version": "1.16.1",
                     "repository": "https://charts.jetstack.io"}}
OCI_APP = {"name": "podinfo", "namespace": "podinfo",
           "helm": {"repository": "oci://ghcr.io/stefanprodan/charts/podinfo", "version": "6.7.1"}}
MANIFEST_APP = {"name": "settings", "namespace": "web",
                "manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "web-settings"}, "data": {"MODE": "prod"}}]}

SPEC = {
    "sources": [{"name": "gateway-api", "git": {"url": "https://github.com/kubernetes-sigs/gateway-api",
                                                "tag": "v1.2.1"}}],
    "nodes": [
        {"name": "infrastructure", "children": [
            {"name": "controllers", "bundles": [
                {"name": "cert-manager", "applications": [HELM_APP]},
                {"name": "gateway-crds", "source": "gateway-api", "path": "./config/crd"}]}]},
        {"name": "apps", "bundles": [
            {"name": "web", "dependsOn": ["cert-manager"], "applications": [MANIFEST_APP]},
            {"name": "podinfo", "dependsOn": ["gateway-crds"], "applications": [OCI_APP]}]},
    ],
}


def cluster(name: str = "prod", spec: dict | None = None, path: str = "cluster.yaml",
            **settings) -> dict:
    """A Cluster item (with kpt path annotations); settings are dotted spec keys,
    e.g. cluster(**{"flux.placement": "integrated"})."""
    s = copy.deepcopy(SPEC if spec is None else spec)
    for dotted, value in settings.items():
        node = s
        *parents, last = dotted.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return {"apiVersion": API, "kind": "Cluster",
            "metadata": {"name": name, "annotations": {
                "config.kubernetes.io/local-config": "true",
                "config.kubernetes.io/path": path, "internal.config.kubernetes.io/path": path}},
            "spec": s}


def item(obj: dict, path: str, index: int = 0) -> dict:
    """An input item placed at `path` (kpt annotations added)."""
    obj = copy.deepcopy(obj)
    anns = obj.setdefault("metadata", {}).setdefault("annotations", {})
    for key in ("config.kubernetes.io/path", "internal.config.kubernetes.io/path"):
        anns[key] = path
    for key in ("config.kubernetes.io/index", "internal.config.kubernetes.io/index"):
        anns[key] = str(index)
    return obj


def run(*items: dict, ok: bool = True) -> dict:
    rc, doc = run_doc(resource_list(list(items)))
    if ok:
        assert rc == 0, doc.get("results")
    return doc


def rerun(doc: dict) -> dict:
    """Run the function again on its own output (as kpt does on the next render)."""
    return run(*doc["items"])


def paths(doc: dict) -> list[str]:
    return sorted({item_path(it) for it in generated(doc)})


def objects(doc: dict, kind: str | None = None) -> list[dict]:
    """Generated objects except kustomization.yaml layout files."""
    return [it for it in generated(doc) if it.get("apiVersion") != LAYOUT_API
            and (kind is None or it["kind"] == kind)]


def lists(doc: dict) -> dict[str, list[str]]:
    """Directory -> the `resources` of its kustomization.yaml."""
    return {posixpath.dirname(item_path(it)): it.get("resources") or []
            for it in generated(doc) if it.get("apiVersion") == LAYOUT_API}


def path_of(doc: dict, kind: str, name: str) -> str:
    found = [item_path(it) for it in doc["items"]
             if it.get("kind") == kind and (it.get("metadata") or {}).get("name") == name
             and it.get("apiVersion") != LAYOUT_API]
    assert len(found) == 1, (kind, name, found)
    return found[0]


def key(obj: dict) -> tuple:
    meta = obj.get("metadata") or {}
    return (obj.get("apiVersion"), obj.get("kind"), meta.get("namespace"), meta.get("name"))


def messages(doc: dict, severity: str) -> list[dict]:
    return [r for r in doc.get("results") or [] if r.get("severity") == severity]


def dump(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=False)
