"""Which kinds are cluster-scoped (config decision 8), and inline manifests' namespaces.

Kubernetes' own cluster-scoped kinds and those of common add-ons; any other
kind is treated as namespaced.
"""

import copy

CLUSTER_SCOPED = frozenset({
    # core and built-in APIs
    "Namespace", "Node", "PersistentVolume", "ComponentStatus",
    "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "APIService",
    "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    "StorageClass", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeAttributesClass",
    "PriorityClass", "PriorityLevelConfiguration", "FlowSchema", "RuntimeClass",
    "IngressClass", "CertificateSigningRequest", "PodSecurityPolicy",
    "DeviceClass", "ResourceSlice", "IPAddress", "ServiceCIDR", "StorageVersion",
    "SelfSubjectReview", "TokenReview", "SubjectAccessReview", "SelfSubjectAccessReview",
    "SelfSubjectRulesReview",
    # common add-ons
    "ClusterIssuer",                                   # cert-manager
    "ClusterPolicy", "ClusterPolicyReport", "ClusterCleanupPolicy",  # kyverno
    "ClusterSecretStore", "ClusterExternalSecret",      # external-secrets
    "GatewayClass",                                     # gateway API
    "ClusterServingRuntime",                            # kserve
    "IPAddressPool", "ClusterIP",
    "ConstraintTemplate",                               # gatekeeper
    "NodeFeatureRule", "NodePool", "EC2NodeClass",     # nfd, karpenter
    "ClusterTriggerBinding", "ClusterTask",             # tekton
    "ClusterRoleTemplate", "VolumeSnapshotClass", "VolumeSnapshotContent",
    "CiliumClusterwideNetworkPolicy", "CiliumNode", "CiliumIdentity", "CiliumLoadBalancerIPPool",
    "GlobalNetworkPolicy", "GlobalNetworkSet", "IPPool", "FelixConfiguration",  # calico
    "BGPConfiguration", "ClusterInformation",
    "ClusterExtension", "ClusterCatalog",
})


def is_namespaced(kind: str) -> bool:
    return kind not in CLUSTER_SCOPED


def with_default_namespace(manifest: dict, namespace: str | None) -> dict:
    """A copy of an inline manifest with `namespace` when it is of a namespaced
    kind and has none ("" or None: left as is)."""
    obj = copy.deepcopy(manifest)
    meta = obj["metadata"]
    if namespace and not meta.get("namespace") and is_namespaced(obj["kind"]):
        meta["namespace"] = namespace
    return obj
