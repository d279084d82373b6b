"""Which kinds are cluster-scoped (config decision 8).

Kubernetes' own cluster-scoped kinds and those of common add-ons; any other
kind is treated as namespaced.
"""

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
