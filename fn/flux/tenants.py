"""Tenant objects, as `flux create tenant --export` writes them: per
namespace of a tenant a Namespace, a ServiceAccount named after the tenant,
and a RoleBinding `<tenant>-reconciler` of the tenant's ClusterRole to that
ServiceAccount and to the user `gotk:<namespace>:reconciler` (whom the
controllers impersonate for a Flux object without serviceAccountName).

They sit in the flux-system directory, one file per tenant, applied by the bootstrap sync in the
same apply as the tenant's Flux objects: Flux applies Namespaces first and
ServiceAccounts and RoleBindings before custom resources, so a tenant's
Kustomizations and HelmReleases come into being only once its RBAC exists.
"""

from __future__ import annotations

from ..engine import Generated, canonical
from ..model.cluster import Application, Bundle, Cluster, Tenant
from ..model.schema import Problem
from .sources import tree_source_copy

TENANT_LABEL = "toolkit.fluxcd.io/tenant"
RBAC_API = "rbac.authorization.k8s.io"


def reconciler_user(namespace: str) -> str:
    return f"gotk:{namespace}:reconciler"


def service_account(bundle: Bundle) -> str | None:
    """The ServiceAccount a tenant bundle's Flux objects impersonate (None
    without a tenant): the Kustomization's and its HelmReleases'."""
    tenant = bundle.tenant
    return tenant.service_account if tenant is not None else None


def tenant_namespaces(cluster: Cluster) -> set[str]:
    return {ns for t in cluster.tenants.values() for ns in t.namespaces}


def tenant_objects(tenant: Tenant) -> list[dict]:
    labels = {TENANT_LABEL: tenant.name}
    out: list[dict] = []
    for ns in tenant.namespaces:
        out.append({"apiVersion": "v1", "kind": "Namespace",
                    "metadata": {"name": ns, "labels": dict(labels)}})
        out.append({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": tenant.service_account, "namespace": ns,
                                 "labels": dict(labels)}})
        out.append(canonical({
            "apiVersion": f"{RBAC_API}/v1", "kind": "RoleBinding",
            "metadata": {"name": f"{tenant.name}-reconciler", "namespace": ns,
                         "labels": dict(labels)},
            "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": tenant.role},
            "subjects": [{"apiGroup": RBAC_API, "kind": "User", "name": reconciler_user(ns)},
                         {"kind": "ServiceAccount", "name": tenant.service_account,
                          "namespace": ns}]}))
    return out


def tenant_file(tenant: Tenant) -> str:
    """One file per tenant, as `flux create tenant --export > <file>` makes it."""
    return f"tenant-{tenant.name}.yaml"


def generated_tenants(cluster: Cluster) -> list[Generated]:
    """Every declared tenant's objects, in its file, each from the tenant's name."""
    return [Generated(obj, "tenant", None, tenant_file(t), path=f"{t.path}.name")
            for t in cluster.tenants.values() for obj in tenant_objects(t)]


# -- rules: a tenant's objects stay in its namespaces ---------------------------

def tenant_rules(cluster: Cluster, problems: list[Problem]) -> None:
    """A tenant's Flux objects live in its namespaces and every reference they
    carry stays in their own namespace, as the controllers' lockdown
    (--no-cross-namespace-refs, FluxInstance cluster.multitenant) demands;
    what they apply stays in the tenant's namespaces, where its
    ServiceAccount is bound. Each error names both ends."""
    for t in cluster.tenants.values():
        for i, ns in enumerate(t.namespaces):
            if ns == cluster.namespace:
                where = f"{t.path}.namespaces[{i}]" if t.spec.namespaces else f"{t.path}.name"
                problems.append(Problem(where, f"namespace {ns!r} is spec.flux.namespace: tenant "
                                               f"{t.name!r} would hold {t.role!r} over Flux "
                                               "itself; give the tenant its own namespaces"))
    for b in cluster.bundles():
        if b.tenant is not None:
            _bundle(cluster, b, b.tenant, problems)


def _outside(t: Tenant, ns: str) -> str:
    return (f"outside {ns!r}, the one namespace where the ServiceAccount {t.service_account!r} "
            f"that this bundle of tenant {t.name!r} reconciles as is bound; keep it in {ns!r} "
            "or give the bundle the fluxNamespace it writes to (one of the tenant's)")


def _bundle(cluster: Cluster, b: Bundle, t: Tenant, problems: list[Problem]) -> None:
    """Everything a tenant bundle carries lives in its Kustomization's
    namespace: `flux create tenant` binds a ServiceAccount per namespace, to
    that namespace only."""
    ns = b.flux_namespace
    # with crossNamespaceRefs: false, fn.flux.rules reports every crossing reference already
    crossing_reported_here = cluster.flux.crossNamespaceRefs
    if ns not in t.namespaces:
        problems.append(Problem(b.flux_namespace_path,
                                f"the Kustomization of bundle {b.name!r} would live in {ns!r}, "
                                f"not a namespace of tenant {t.name!r} ({', '.join(t.namespaces)}; "
                                f"set at {b.tenant_path}); choose one of them"))
        return  # every reference below would be reported again
    use = cluster.source_use(b.source_name) if b.is_external else None
    if use is not None:
        if use.namespace != ns and crossing_reported_here:
            where = f" ({use.declared.path})" if use.declared is not None else ""
            problems.append(Problem(f"{b.path}.source" if b.spec.source else f"{b.path}.path",
                                    f"bundle {b.name!r} of tenant {t.name!r} lives in {ns!r} but "
                                    f"its source {use.name!r}{where} lives in "
                                    f"{use.namespace!r}: a tenant's references stay in its "
                                    f"namespace; declare a source with namespace {ns!r}"))
    elif not b.is_external and tree_source_copy(cluster, ns) is None:
        problems.append(Problem(b.tenant_path or f"{b.path}.name",
                                f"bundle {b.name!r} of tenant {t.name!r} is rendered into this "
                                f"tree, so its Kustomization needs the tree's source "
                                f"{cluster.source_ref.name!r} in {ns!r}; kure-fn copies it there "
                                "only when it knows it: declare it in spec.sources or set "
                                "spec.bootstrap.sync"))
    for d in b.dependencies:
        where = d.namespace or ns
        if where != ns and crossing_reported_here:
            other = cluster.bundle_by_name.get(d.name) if d.internal else None
            set_at = f" (set at {other.flux_namespace_path})" if other is not None else ""
            problems.append(Problem(f"{b.path}.dependsOn[{d.index}]",
                                    f"bundle {b.name!r} of tenant {t.name!r} lives in {ns!r}, "
                                    f"bundle {d.name!r} in {where!r}{set_at}: a tenant's "
                                    "dependsOn stays in its namespace; put both in one namespace "
                                    "or drop the entry"))
    target = b.spec.targetNamespace
    if target and target != ns:
        problems.append(Problem(f"{b.path}.targetNamespace", f"{target!r} is {_outside(t, ns)}"))
    for i, hc in enumerate(b.spec.healthChecks):
        if (hc.namespace or ns) != ns:
            problems.append(Problem(f"{b.path}.healthChecks[{i}].namespace",
                                    f"{hc.namespace!r} is {_outside(t, ns)}"))
    for app in b.applications:
        _application(cluster, app, t, ns, problems)


def _application(cluster: Cluster, app: Application, t: Tenant, ns: str,
                 problems: list[Problem]) -> None:
    if app.helm is None:
        if app.bundle.spec.targetNamespace:
            return  # every namespaced object moves there (checked above)
        if app.namespace and app.namespace != ns:
            problems.append(Problem(f"{app.path}.namespace", f"{app.namespace!r} is "
                                                              f"{_outside(t, ns)}"))
        for i, m in enumerate(app.spec.manifests):
            where = (m.get("metadata") or {}).get("namespace")
            if where and where != ns:
                problems.append(Problem(f"{app.path}.manifests[{i}].metadata.namespace",
                                        f"{where!r} is {_outside(t, ns)}"))
        return
    h = app.helm
    crossing_reported_here = cluster.flux.crossNamespaceRefs  # as in _bundle
    if app.flux_namespace != ns:
        problems.append(Problem(app.flux_namespace_path,
                                f"the HelmRelease {app.name!r} would live in "
                                f"{app.flux_namespace!r}, {_outside(t, ns)}"))
        return
    if app.install_namespace != ns:
        field = "helm.targetNamespace" if h.targetNamespace else \
            "namespace" if app.namespace else "name"
        problems.append(Problem(f"{app.path}.{field}",
                                f"the chart would install into {app.install_namespace!r}, "
                                f"{_outside(t, ns)}; install it into {ns!r}"))
    use = cluster.source_use(h.source) if h.source else None
    if use is not None and use.namespace != ns and crossing_reported_here:
        where = f" ({use.declared.path})" if use.declared is not None else ""
        problems.append(Problem(f"{app.path}.helm.source",
                                f"HelmRelease {app.name!r} of tenant {t.name!r} lives in {ns!r} "
                                f"but its chart source {use.name!r}{where} lives in "
                                f"{use.namespace!r}: a tenant's references stay in its "
                                f"namespace; declare a source with namespace {ns!r}"))
    for d in app.dependencies:
        where = d.namespace or ns
        if where != ns and crossing_reported_here:
            other = cluster.helm_app_by_name.get(d.name) if d.internal else None
            set_at = f" (set at {other.flux_namespace_path})" if other is not None else ""
            problems.append(Problem(f"{app.path}.helm.dependsOn[{d.index}]",
                                    f"HelmRelease {app.name!r} of tenant {t.name!r} lives in "
                                    f"{ns!r}, HelmRelease {d.name!r} in {where!r}{set_at}: a "
                                    "tenant's dependsOn stays in its namespace"))
