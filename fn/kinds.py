"""Which kinds are cluster-scoped (config decision 8, amended), and inline
manifests' namespaces.

A kind's scope is decided by its API group and kind, never the kind alone
(metallb.io IPAddressPool is namespaced, networking.k8s.io IPAddress is not):
a CustomResourceDefinition of the input decides for its kind; otherwise the
table below of Kubernetes' own cluster-scoped kinds and those of common
add-ons; any other kind is namespaced.
"""

from collections.abc import Iterable, Mapping

from .krm.yamlio import copy_data

# API group -> its cluster-scoped kinds
_CLUSTER_SCOPED_BY_GROUP = {
    # Kubernetes
    "": ("Namespace", "Node", "PersistentVolume", "ComponentStatus"),
    "rbac.authorization.k8s.io": ("ClusterRole", "ClusterRoleBinding"),
    "apiextensions.k8s.io": ("CustomResourceDefinition",),
    "apiregistration.k8s.io": ("APIService",),
    "admissionregistration.k8s.io": (
        "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding"),
    "storage.k8s.io": ("StorageClass", "CSIDriver", "CSINode", "VolumeAttachment",
                       "VolumeAttributesClass"),
    "scheduling.k8s.io": ("PriorityClass",),
    "flowcontrol.apiserver.k8s.io": ("PriorityLevelConfiguration", "FlowSchema"),
    "node.k8s.io": ("RuntimeClass",),
    "networking.k8s.io": ("IngressClass", "IPAddress", "ServiceCIDR"),
    "certificates.k8s.io": ("CertificateSigningRequest", "ClusterTrustBundle"),
    "policy": ("PodSecurityPolicy",),
    "resource.k8s.io": ("DeviceClass", "ResourceSlice", "DeviceTaintRule"),
    "internal.apiserver.k8s.io": ("StorageVersion",),
    "storagemigration.k8s.io": ("StorageVersionMigration",),
    "authentication.k8s.io": ("SelfSubjectReview", "TokenReview"),
    "authorization.k8s.io": ("SubjectAccessReview", "SelfSubjectAccessReview",
                             "SelfSubjectRulesReview"),
    # add-ons
    "gateway.networking.k8s.io": ("GatewayClass",),
    "snapshot.storage.k8s.io": ("VolumeSnapshotClass", "VolumeSnapshotContent"),
    "cert-manager.io": ("ClusterIssuer",),
    "trust.cert-manager.io": ("Bundle",),
    "kyverno.io": ("ClusterPolicy", "ClusterCleanupPolicy"),
    "wgpolicyk8s.io": ("ClusterPolicyReport",),
    "external-secrets.io": ("ClusterSecretStore", "ClusterExternalSecret"),
    "serving.kserve.io": ("ClusterServingRuntime",),
    "templates.gatekeeper.sh": ("ConstraintTemplate",),
    "nfd.k8s-sigs.io": ("NodeFeatureRule",),
    "karpenter.sh": ("NodePool", "NodeClaim"),
    "karpenter.k8s.aws": ("EC2NodeClass",),
    "tekton.dev": ("ClusterTask",),
    "triggers.tekton.dev": ("ClusterTriggerBinding", "ClusterInterceptor"),
    "keda.sh": ("ClusterTriggerAuthentication",),
    "nvidia.com": ("ClusterPolicy",),
    "olm.operatorframework.io": ("ClusterExtension", "ClusterCatalog"),
    "cilium.io": ("CiliumClusterwideNetworkPolicy", "CiliumNode", "CiliumIdentity",
                  "CiliumLoadBalancerIPPool", "CiliumL2AnnouncementPolicy",
                  "CiliumBGPClusterConfig", "CiliumBGPPeerConfig", "CiliumBGPAdvertisement",
                  "CiliumBGPPeeringPolicy", "CiliumEgressGatewayPolicy", "CiliumPodIPPool",
                  "CiliumCIDRGroup", "CiliumClusterwideEnvoyConfig"),
    # Calico: the CRDs (crd.projectcalico.org) and its API server (projectcalico.org)
    **{group: ("GlobalNetworkPolicy", "GlobalNetworkSet", "IPPool", "IPReservation",
               "FelixConfiguration", "BGPConfiguration", "BGPPeer", "BGPFilter",
               "HostEndpoint", "ClusterInformation", "KubeControllersConfiguration")
       for group in ("crd.projectcalico.org", "projectcalico.org")},
    "operator.tigera.io": ("Installation", "APIServer"),
    "pkg.crossplane.io": ("Provider", "Configuration", "Function", "DeploymentRuntimeConfig"),
    "apiextensions.crossplane.io": ("CompositeResourceDefinition", "Composition",
                                    "EnvironmentConfig"),
}

CLUSTER_SCOPED = frozenset((group, kind) for group, kinds in _CLUSTER_SCOPED_BY_GROUP.items()
                           for kind in kinds)

CRD_GROUP = "apiextensions.k8s.io"
CRD_KIND = "CustomResourceDefinition"
_SCOPES = {"Namespaced": True, "Cluster": False}


def api_group(api_version: object) -> str:
    """The API group of an apiVersion ("" for the core group: `v1`)."""
    text = api_version if isinstance(api_version, str) else ""
    return text.rsplit("/", 1)[0] if "/" in text else ""


def crd_scopes(objects: Iterable) -> dict[tuple[str, str], bool]:
    """{(API group, kind): namespaced} declared by the CustomResourceDefinitions
    among `objects`; the first one for a kind wins, malformed ones are skipped."""
    out: dict[tuple[str, str], bool] = {}
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("kind") != CRD_KIND \
                or api_group(obj.get("apiVersion")) != CRD_GROUP:
            continue
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
        names = spec.get("names") if isinstance(spec.get("names"), dict) else {}
        group, kind, scope = spec.get("group"), names.get("kind"), spec.get("scope")
        if isinstance(group, str) and isinstance(kind, str) and kind and scope in _SCOPES:
            out.setdefault((group, kind), _SCOPES[scope])
    return out


def with_input_crds(scopes: Mapping[tuple[str, str], bool],
                    objects: Iterable) -> dict[tuple[str, str], bool]:
    """A cluster's CRD scopes (from its inline manifests) completed by the
    CustomResourceDefinitions among other input objects; the cluster's win."""
    return {**crd_scopes(objects), **scopes}


def is_namespaced(api_version: object, kind: object,
                  crds: Mapping[tuple[str, str], bool] | None = None) -> bool:
    """Whether objects of this apiVersion and kind live in a namespace: as a
    CRD of `crds` says, else as the table says; unknown kinds are namespaced."""
    key = (api_group(api_version), kind)
    if crds and key in crds:
        return crds[key]
    return key not in CLUSTER_SCOPED


def with_default_namespace(manifest: dict, namespace: str | None,
                           crds: Mapping[tuple[str, str], bool] | None = None) -> dict:
    """A copy of an inline manifest with `namespace` when it is of a namespaced
    kind and has none ("" or None: left as is)."""
    obj = copy_data(manifest)
    meta = obj["metadata"]
    if namespace and not meta.get("namespace") \
            and is_namespaced(obj.get("apiVersion"), obj["kind"], crds):
        meta["namespace"] = namespace
    return obj
