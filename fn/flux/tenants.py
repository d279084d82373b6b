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
from ..model.cluster import Bundle, Cluster, Tenant

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
