"""Tenants: spec.tenants and `tenant:` (docs/tenants.md).

The tenant objects are those `flux create tenant --export` writes; a tenant
bundle's Flux objects live in the tenant's namespace, reconcile as its
ServiceAccount, and every reference they carry stays in that namespace
(lockdown: --no-cross-namespace-refs, FluxInstance cluster.multitenant).
Everything runs through the function's real output, as kpt feeds it.
"""

from __future__ import annotations

import copy
from string import Template
from pathlib import Path

import pytest
import yaml

import fluxsim
import kpt
from helpers import EXAMPLES, generated, item_path, need, package_items, resource_list, run_doc, \
    validate_flux

EXAMPLE = EXAMPLES / "tenants"
NODE = "spec.nodes[0]"
BUNDLE = f"{NODE}.bundles[0]"


def cluster(*bundles: dict, tenants=None, sources=None, node: dict | None = None,
            gitops: str | None = None, bootstrap: bool = True) -> dict:
    spec: dict = {"tenants": [{"name": "dev-team"}] if tenants is None else tenants,
                  "nodes": [{"name": "teams", "bundles": list(bundles), **(node or {})}]}
    if bootstrap:
        spec["bootstrap"] = {"fluxVersion": "2.9.x",
                             "sync": {"url": "https://github.com/acme/fleet.git"}}
    if sources:
        spec["sources"] = sources
    if gitops:
        spec["gitops"] = gitops
    return {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Cluster",
            "metadata": {"name": "prod", "annotations": {"config.kubernetes.io/path": "cluster.yaml"}},
            "spec": spec}


def podinfo(**helm) -> dict:
    return {"name": "podinfo", "namespace": "dev-team",
            "helm": {"repository": "oci://ghcr.io/stefanprodan/charts/podinfo", "version": "6.7.0",
                     **helm}}


def render(cfg: dict) -> list[dict]:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 0, doc.get("results")
    return generated(doc)


def errors(cfg: dict) -> list[dict]:
    rc, doc = run_doc(resource_list([cfg]))
    assert rc == 1
    return [r for r in doc["results"] if r.get("severity") == "error"]


def by_key(items: list[dict]) -> dict[tuple, dict]:
    return {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in items}


def strip(obj: dict) -> dict:
    """The object without kure-fn's and kpt's annotations."""
    obj = copy.deepcopy(obj)
    obj["metadata"].pop("annotations", None)
    return obj


# -- the tenant objects ----------------------------------------------------------

# `flux create tenant` (flux2 cmd/flux/create_tenant.go) for one namespace $ns
FLUX_CREATE_TENANT = """\
apiVersion: v1
kind: Namespace
metadata:
  labels:
    toolkit.fluxcd.io/tenant: data-team
  name: $ns
---
apiVersion: v1
kind: ServiceAccount
metadata:
  labels:
    toolkit.fluxcd.io/tenant: data-team
  name: data-team
  namespace: $ns
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  labels:
    toolkit.fluxcd.io/tenant: data-team
  name: data-team-reconciler
  namespace: $ns
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: edit
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: gotk:$ns:reconciler
- kind: ServiceAccount
  name: data-team
  namespace: $ns
"""


def test_objects_are_what_flux_create_tenant_writes():
    """`flux create tenant data-team --with-namespace=data --with-namespace=data-staging
    --cluster-role=edit --export`: per namespace these three objects."""
    items = render(cluster(tenants=[{"name": "data-team", "namespaces": ["data", "data-staging"],
                                     "role": "edit"}]))
    tenant = [o for o in items if item_path(o) == "clusters/prod/flux-system/tenant-data-team.yaml"]
    expected = [o for ns in ("data", "data-staging")
                for o in yaml.safe_load_all(Template(FLUX_CREATE_TENANT).substitute(ns=ns))]
    assert [strip(o) for o in tenant] == expected
    listed = next(o for o in items if item_path(o) == "clusters/prod/flux-system/kustomization.yaml")
    assert "tenant-data-team.yaml" in listed["resources"]


def test_defaults_one_namespace_named_after_the_tenant_and_admin():
    items = by_key(render(cluster()))
    assert items[("Namespace", "", "dev-team")]["metadata"]["labels"] == {
        "toolkit.fluxcd.io/tenant": "dev-team"}
    assert items[("RoleBinding", "dev-team", "dev-team-reconciler")]["roleRef"]["name"] == "admin"
    assert ("ServiceAccount", "dev-team", "dev-team") in items


# -- tenant bundles ---------------------------------------------------------------

def test_a_tenant_bundle_lives_in_the_tenant_namespace_and_impersonates_it():
    """Set on the node, inherited by the bundle, its helm applications and the
    sources they use; every reference in the tenant namespace."""
    items = by_key(render(cluster({"name": "apps", "applications": [podinfo()]},
                                  node={"tenant": "dev-team"})))
    ks = items[("Kustomization", "dev-team", "apps")]
    assert ks["spec"]["serviceAccountName"] == "dev-team"
    assert ks["spec"]["sourceRef"] == {"kind": "GitRepository", "name": "flux-system",
                                       "namespace": "dev-team"}
    copy_ = items[("GitRepository", "dev-team", "flux-system")]  # the tree's source, copied
    assert copy_["spec"]["url"] == "https://github.com/acme/fleet.git"
    hr = items[("HelmRelease", "dev-team", "podinfo")]
    assert hr["spec"]["serviceAccountName"] == "dev-team"
    assert hr["spec"]["chartRef"]["namespace"] == "dev-team"
    assert ("OCIRepository", "dev-team", hr["spec"]["chartRef"]["name"]) in items
    assert "install" not in hr["spec"]  # a tenant may not create namespaces
    assert [k for k in items if k[0] == "Namespace"] == [("Namespace", "", "dev-team")]


def test_own_settings_win_over_the_tenant():
    app = podinfo(serviceAccountName="deployer")
    items = by_key(render(cluster({"name": "apps", "tenant": "dev-team",
                                   "serviceAccountName": "applier", "applications": [app]})))
    assert items[("Kustomization", "dev-team", "apps")]["spec"]["serviceAccountName"] == "applier"
    assert items[("HelmRelease", "dev-team", "podinfo")]["spec"]["serviceAccountName"] == "deployer"


def test_a_source_only_the_tenant_uses_moves_into_its_namespace():
    src = {"name": "team-repo", "git": {"url": "https://github.com/acme/team"}}
    items = by_key(render(cluster({"name": "apps", "tenant": "dev-team", "path": "./deploy",
                                   "source": "team-repo"}, sources=[src], bootstrap=False)))
    assert ("GitRepository", "dev-team", "team-repo") in items
    assert items[("Kustomization", "dev-team", "apps")]["spec"]["sourceRef"]["namespace"] == \
        "dev-team"


# -- lockdown: every reference stays inside ---------------------------------------

def refs(obj: dict) -> list[tuple[str, dict]]:
    spec = obj.get("spec") or {}
    out = [("sourceRef", spec["sourceRef"])] if "sourceRef" in spec else []
    out += [("chartRef", spec["chartRef"])] if "chartRef" in spec else []
    chart = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef")
    out += [("chart.spec.sourceRef", chart)] if chart else []
    out += [("dependsOn", d) for d in spec.get("dependsOn") or []]
    out += [("healthChecks", c) for c in spec.get("healthChecks") or []]
    return out


def test_lockdown_every_reference_of_a_tenant_object_stays_in_its_namespace():
    items = package_items(EXAMPLE)
    rc, doc = run_doc(resource_list(items))
    assert rc == 0, doc.get("results")
    tenant_objects = [o for o in generated(doc) if (o.get("spec") or {}).get("serviceAccountName")]
    assert {o["kind"] for o in tenant_objects} == {"Kustomization", "HelmRelease"}
    for obj in tenant_objects:
        ns = obj["metadata"]["namespace"]
        for what, ref in refs(obj):
            assert ref.get("namespace", ns) == ns, (obj["metadata"]["name"], what, ref)
        assert obj["spec"].get("targetNamespace", ns) == ns


def _bundle(c: dict) -> dict:
    return c["spec"]["nodes"][0]["bundles"][0]


def _chart_from_declared_source(c: dict) -> None:
    helm = _bundle(c)["applications"][0]["helm"]
    del helm["repository"], helm["version"]
    helm["source"] = "charts"


OUTSIDE = [
    # (change to a sound tenant config, field of the error, words naming the other end)
    (lambda c: _bundle(c).update(dependsOn=["base"]),
     f"{BUNDLE}.dependsOn[0]", "bundle 'base' in 'flux-system' (set at spec.flux.namespace)"),
    (lambda c: _bundle(c).update(applications=[], path="./deploy", source="shared"),
     f"{BUNDLE}.source", "its source 'shared' (spec.sources[0]) lives in 'flux-system'"),
    (_chart_from_declared_source,
     f"{BUNDLE}.applications[0].helm.source", "'charts' (spec.sources[1]) lives in 'flux-system'"),
    (lambda c: _bundle(c).update(targetNamespace="default"),
     f"{BUNDLE}.targetNamespace", "outside 'dev-team'"),
    (lambda c: _bundle(c)["applications"][0].update(namespace="default"),
     f"{BUNDLE}.applications[0].namespace", "the chart would install into 'default'"),
    (lambda c: _bundle(c).update(fluxNamespace="elsewhere"),
     f"{BUNDLE}.fluxNamespace", "not a namespace of tenant 'dev-team'"),
    (lambda c: _bundle(c).update(
        healthChecks=[{"kind": "Deployment", "name": "x", "namespace": "kube-system"}]),
     f"{BUNDLE}.healthChecks[0].namespace", "outside 'dev-team'"),
    (lambda c: c["spec"].pop("bootstrap"),
     f"{NODE}.tenant", "declare it in spec.sources or set spec.bootstrap.sync"),
]


def sound() -> dict:
    """A tenant bundle beside a platform bundle, sources in flux-system."""
    shared = {"name": "shared", "namespace": "flux-system",
              "git": {"url": "https://github.com/acme/shared"}}
    charts = {"name": "charts", "namespace": "flux-system",
              "oci": {"url": "oci://ghcr.io/stefanprodan/charts/podinfo", "tag": "6.7.0"}}
    cfg = cluster({"name": "apps", "applications": [podinfo()]}, node={"tenant": "dev-team"},
                  sources=[shared, charts])
    cfg["spec"]["nodes"].append({"name": "platform", "bundles": [
        {"name": "base", "path": "./base", "source": "shared"},
        {"name": "charts-user", "applications": [
            {"name": "other", "namespace": "other", "helm": {"source": "charts"}}]}]})
    return cfg


@pytest.mark.parametrize("change,field,words", OUTSIDE, ids=[c[1].rsplit(".", 1)[-1] for c in OUTSIDE])
def test_lockdown_a_reference_out_of_the_tenant_namespace_is_an_error(change, field, words):
    render(sound())  # the config before the change is sound
    cfg = sound()
    change(cfg)
    found = errors(cfg)
    assert any(r["field"]["path"] == field and words in r["message"] for r in found), found


# -- rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("tenants,node,field,words", [
    ([{"name": "ops", "role": "cluster-admin"}], {}, "spec.tenants[0].role", "defeats the tenant"),
    ([{"name": "a"}, {"name": "b", "namespaces": ["b", "a"]}], {}, "spec.tenants[1].namespaces[1]",
     "already belongs to tenant 'a'"),
    ([{"name": "a"}, {"name": "a", "namespaces": ["x"]}], {}, "spec.tenants[1].name",
     "tenant name 'a' is already used"),
    ([{"name": "ops", "namespaces": ["flux-system"]}], {}, "spec.tenants[0].namespaces[0]",
     "is spec.flux.namespace"),
    ([{"name": "a"}], {"tenant": "b"}, f"{NODE}.tenant", "tenant 'b' is not declared"),
])
def test_tenant_rules(tenants, node, field, words):
    found = errors(cluster({"name": "apps", "path": "./x", "source": "s"}, tenants=tenants,
                           node=node, sources=[{"name": "s", "git": {"url": "https://g.example/s"}}]))
    assert any(r["field"]["path"] == field and words in r["message"] for r in found), found


def test_argocd_refuses_tenants():
    cfg = cluster(gitops="argocd", bootstrap=False)
    cfg["spec"]["argocd"] = {"repoURL": "https://github.com/acme/fleet.git"}
    found = errors(cfg)
    assert [r["field"]["path"] for r in found] == ["spec.tenants"]
    assert "AppProjects" in found[0]["message"]


# -- the example, as Flux sees it -----------------------------------------------------

def test_every_object_of_the_example_passes_the_flux_validator():
    rc, doc = run_doc(resource_list(package_items(EXAMPLE)))
    assert rc == 0
    validate_flux(generated(doc))


def write(objects: list[dict], repo: Path) -> None:
    files: dict[str, list[dict]] = {}
    for o in objects:
        files.setdefault(item_path(o), []).append(o)
    for path, objs in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(yaml.safe_dump_all(objs))


def example_tree(tmp_path: Path, **flux) -> Path:
    """The example rendered to disk; `flux`: spec.flux / spec.bootstrap settings changed."""
    need("kubectl")
    items = package_items(EXAMPLE)
    if flux:
        cfg = next(i for i in items if i.get("kind") == "Cluster")
        cfg["spec"]["flux"].update(flux.get("flux", {}))
        cfg["spec"]["bootstrap"].update(flux.get("bootstrap", {}))
    rc, doc = run_doc(resource_list(items))
    assert rc == 0, doc.get("results")
    write(generated(doc), tmp_path)
    return tmp_path


@pytest.mark.parametrize("settings", [{}, {"flux": {"placement": "integrated"}},
                                      {"bootstrap": {"mode": "gotk"}}],
                         ids=["separate", "integrated", "gotk"])
def test_fluxsim_follows_the_tenants_under_lockdown(tmp_path, settings):
    sim = fluxsim.check(example_tree(tmp_path, **settings), "clusters/shared", lockdown=True)
    assert "Kustomization.kustomize.toolkit.fluxcd.io dev-team/dev-team-podinfo" in sim.followed
    assert "Kustomization.kustomize.toolkit.fluxcd.io data-staging/data-settings" in sim.followed


def test_fluxsim_catches_a_tenant_writing_where_it_is_not_bound(tmp_path):
    repo = example_tree(tmp_path)
    cm = repo / "clusters/shared/teams/data-team/data-settings/settings/data-staging-configmap-pipeline-settings.yaml"
    cm.write_text(cm.read_text().replace("namespace: data-staging", "namespace: data"))
    sim = fluxsim.simulate(repo, "clusters/shared", lockdown=True)
    assert any("into 'data', where 'data-team' is not bound" in p for p in sim.problems), sim.problems


def test_fluxsim_catches_a_missing_service_account_and_a_cross_namespace_ref(tmp_path):
    repo = example_tree(tmp_path)
    (repo / "clusters/shared/flux-system/tenant-dev-team.yaml").write_text(
        (repo / "clusters/shared/flux-system/tenant-dev-team.yaml").read_text()
        .replace("name: dev-team\n  namespace: dev-team", "name: someone\n  namespace: dev-team", 1))
    ks = repo / "clusters/shared/flux-system/dev-team-kustomization-dev-team-apps.yaml"
    ks.write_text(ks.read_text().replace("namespace: dev-team\n  sourceRef", "namespace: dev-team\n  sourceRef")
                  .replace("name: dev-team-podinfo\n    namespace: dev-team",
                           "name: dev-team-podinfo\n    namespace: flux-system"))
    sim = fluxsim.simulate(repo, "clusters/shared", lockdown=True)
    assert any("impersonates ServiceAccount dev-team/dev-team, which is not applied" in p
               for p in sim.problems), sim.problems
    assert any("dependsOn Kustomization.kustomize.toolkit.fluxcd.io flux-system/dev-team-podinfo "
               "crosses namespaces" in p for p in sim.problems), sim.problems


@pytest.mark.e2e
def test_example_through_kpt_twice_is_clean_and_sound_under_lockdown(tmp_path):
    need("kpt")
    need("kubectl")
    repo = kpt.make_repo(EXAMPLE, tmp_path)
    for _ in range(2):
        kpt.render(repo)
        fluxsim.check(repo, "clusters/shared", lockdown=True)
        kpt.commit_all(repo)
    assert kpt.status(repo) == ""


def test_profiles_merge_tenants_by_name():
    profile = {"apiVersion": "fn.kure.dev/v1alpha1", "kind": "Profile",
               "metadata": {"name": "teams", "annotations": {"config.kubernetes.io/local-config": "true",
                                                             "config.kubernetes.io/path": "teams.yaml"}},
               "spec": {"tenants": [{"name": "dev-team", "role": "edit"}, {"name": "ops"}]}}
    cfg = cluster(tenants=[{"name": "dev-team", "namespaces": ["dev"]}, {"name": "data"}])
    cfg["spec"]["profiles"] = ["teams"]
    rc, doc = run_doc(resource_list([profile, cfg]))
    assert rc == 0, doc.get("results")
    items = by_key(generated(doc))
    assert items[("RoleBinding", "dev", "dev-team-reconciler")]["roleRef"]["name"] == "edit"
    assert {k[2] for k in items if k[0] == "Namespace"} == {"dev", "ops", "data"}


def test_with_cross_namespace_refs_off_a_crossing_reference_is_reported_once():
    cfg = sound()
    _bundle(cfg).update(dependsOn=["base"])
    cfg["spec"]["flux"] = {"crossNamespaceRefs": False}
    found = [r for r in errors(cfg) if r["field"]["path"] == f"{BUNDLE}.dependsOn[0]"]
    assert len(found) == 1 and "'flux-system'" in found[0]["message"], found
