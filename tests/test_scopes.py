"""Which inline manifests get the application namespace (real-repos.md
amendment A): a kind's scope is decided by API group and kind; a
CustomResourceDefinition of the input (an item, another document of a file
given to `kure-fn render`, or an inline manifest) decides for its kind;
unknown kinds are namespaced; `namespace: ""` opts out."""

from __future__ import annotations

import pytest
import yaml

from fn.cli import main
from fn.kinds import CLUSTER_SCOPED, crd_scopes, is_namespaced
from helpers import generated, resource_list, run_doc

POOL = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
        "metadata": {"name": "pool"}, "spec": {"addresses": ["10.0.0.0/28"]}}
ADDRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "IPAddress",
           "metadata": {"name": "10.96.0.20"}, "spec": {"parentRef": {"resource": "services",
                                                                      "name": "dns", "namespace": "x"}}}
WIDGET = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
GADGET = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
SPROCKET = {"apiVersion": "example.com/v1", "kind": "Sprocket", "metadata": {"name": "s"}}


def crd(kind: str, scope: str, group: str = "example.com") -> dict:
    plural = kind.lower() + "s"
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": scope,
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower()},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object"}}}]}}


def config(manifests: list[dict], namespace: str = "metallb-system", gitops: str = "flux") -> dict:
    spec: dict = {"nodes": [{"name": "infra", "bundles": [{"name": "net", "applications": [
        {"name": "pools", "namespace": namespace, "manifests": manifests}]}]}]}
    if gitops == "argocd":
        spec.update(gitops="argocd", argocd={"repoURL": "https://github.com/acme/fleet.git"})
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "prod", "annotations": {"config.kubernetes.io/local-config": "true"}},
            "spec": spec}


def namespaces(objects: list[dict]) -> dict[str, str | None]:
    """kind -> metadata.namespace of the generated objects of example.com,
    metallb.io and networking.k8s.io."""
    return {o["kind"]: o["metadata"].get("namespace") for o in objects
            if o["apiVersion"].split("/")[0] in ("example.com", "metallb.io", "networking.k8s.io")}


def through_function(items: list[dict]) -> dict[str, str | None]:
    rc, doc = run_doc(resource_list(items))
    assert rc == 0, doc.get("results")
    return namespaces(generated(doc))


def through_render(tmp_path, *documents: dict) -> dict[str, str | None]:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    out = tmp_path / "out"
    assert main(["render", str(path), "-o", str(out)]) == 0
    objects = [d for f in sorted(out.rglob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    return namespaces(objects)


# -- the table ---------------------------------------------------------------------------

def test_scope_is_decided_by_group_and_kind():
    assert is_namespaced("metallb.io/v1beta1", "IPAddressPool")
    assert not is_namespaced("networking.k8s.io/v1", "IPAddress")
    assert is_namespaced("example.com/v1", "IPAddress")  # same kind, another group
    assert not is_namespaced("v1", "Namespace")
    assert is_namespaced("example.com/v1", "Namespace")
    assert not is_namespaced("rbac.authorization.k8s.io/v1", "ClusterRole")
    assert not is_namespaced("cert-manager.io/v1", "ClusterIssuer")
    assert is_namespaced("cert-manager.io/v1", "Issuer")
    assert not is_namespaced("crd.projectcalico.org/v1", "IPPool")
    assert not is_namespaced("projectcalico.org/v3", "IPPool")
    assert not is_namespaced("cilium.io/v2alpha1", "CiliumLoadBalancerIPPool")
    assert is_namespaced("example.com/v1", "Widget")  # unknown: namespaced


def test_the_table_names_groups_not_bare_kinds():
    assert all(isinstance(g, str) and "/" not in g and k[:1].isupper() for g, k in CLUSTER_SCOPED)
    assert ("metallb.io", "IPAddressPool") not in CLUSTER_SCOPED
    assert not any(k == "IPAddressPool" for _, k in CLUSTER_SCOPED)


def test_a_crd_decides_its_kinds_scope():
    crds = crd_scopes([crd("Widget", "Cluster"), crd("IPAddress", "Namespaced", "networking.k8s.io"),
                       crd("Widget", "Namespaced"),  # the first one for a kind wins
                       {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                        "metadata": {"name": "broken"}, "spec": {"group": "x.io", "scope": "Both",
                                                                 "names": {"kind": "Thing"}}},
                       {"kind": "CustomResourceDefinition", "spec": "not a mapping"}, "text"])
    assert crds == {("example.com", "Widget"): False, ("networking.k8s.io", "IPAddress"): True}
    assert not is_namespaced("example.com/v1", "Widget", crds)
    assert is_namespaced("networking.k8s.io/v1", "IPAddress", crds)


# -- through the function and kure-fn render ------------------------------------------------

@pytest.mark.parametrize("gitops", ["flux", "argocd"])
def test_metallb_pool_gets_the_namespace_and_ipaddress_does_not(gitops):
    got = through_function([config([POOL, ADDRESS], gitops=gitops)])
    assert got == {"IPAddressPool": "metallb-system", "IPAddress": None}


def test_metallb_pool_gets_the_namespace_in_render(tmp_path):
    assert through_render(tmp_path, config([POOL, ADDRESS])) == {
        "IPAddressPool": "metallb-system", "IPAddress": None}


@pytest.mark.parametrize("gitops", ["flux", "argocd"])
def test_crd_items_decide_the_scope_of_custom_kinds(gitops):
    items = [config([WIDGET, GADGET, SPROCKET], gitops=gitops),
             crd("Widget", "Cluster"), crd("Gadget", "Namespaced")]
    assert through_function(items) == {"Widget": None, "Gadget": "metallb-system",
                                       "Sprocket": "metallb-system"}


def test_inline_crds_decide_the_scope_of_custom_kinds():
    items = [config([crd("Widget", "Cluster"), WIDGET, crd("Gadget", "Namespaced"), GADGET])]
    got = through_function(items)
    assert got == {"Widget": None, "Gadget": "metallb-system"}


def test_an_inline_crd_wins_over_an_item():
    items = [config([crd("Widget", "Namespaced"), WIDGET]), crd("Widget", "Cluster")]
    assert through_function(items) == {"Widget": "metallb-system"}


def test_crds_decide_the_scope_in_render(tmp_path):
    got = through_render(tmp_path, config([WIDGET, GADGET, crd("Sprocket", "Cluster"), SPROCKET]),
                         crd("Widget", "Cluster"), crd("Gadget", "Namespaced"))
    assert got == {"Widget": None, "Gadget": "metallb-system", "Sprocket": None}


def test_an_empty_namespace_opts_out():
    assert through_function([config([POOL, WIDGET], namespace="")]) == {
        "IPAddressPool": None, "Widget": None}
