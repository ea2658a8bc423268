"""API groups, versions, kinds, labels, annotations and finalizers used by KubeFed."""

from typing import Final

CORE_GROUP: Final = "core.kubefed.io"
CORE_VERSION: Final = "v1beta1"
CORE_API_VERSION: Final = f"{CORE_GROUP}/{CORE_VERSION}"
VERSIONS_API_VERSION: Final = f"{CORE_GROUP}/v1alpha1"

TYPES_GROUP: Final = "types.kubefed.io"
TYPES_VERSION: Final = "v1beta1"

SCHEDULING_GROUP: Final = "scheduling.kubefed.io"
SCHEDULING_API_VERSION: Final = f"{SCHEDULING_GROUP}/v1alpha1"

# Pull mode: the host writes Work objects, the agent in the member applies them.
WORK_GROUP: Final = "work.kubefed.io"
WORK_API_VERSION: Final = f"{WORK_GROUP}/v1alpha1"
KIND_WORK: Final = "Work"
WORK_FINALIZER: Final = "work.kubefed.io/agent"
WORK_CLUSTER_LABEL: Final = "work.kubefed.io/cluster"
WORK_TYPE_LABEL: Final = "work.kubefed.io/type"  # the FederatedTypeConfig's name (hashed past 63)
# Each pull cluster's namespace on the host: its Works and the agent's Lease live there.
CLUSTER_NAMESPACE_PREFIX: Final = "kubefed-cluster-"
AGENT_LEASE_NAME: Final = "kubefed-agent"
SYNC_MODE_PUSH: Final = "Push"
SYNC_MODE_PULL: Final = "Pull"

KUBEFED_GROUPS: Final = frozenset({CORE_GROUP, TYPES_GROUP, SCHEDULING_GROUP, WORK_GROUP})

DEFAULT_KUBEFED_NAMESPACE: Final = "kube-federation-system"
KUBEFED_CONFIG_NAME: Final = "kubefed"

KIND_KUBEFED_CLUSTER: Final = "KubeFedCluster"
KIND_TYPE_CONFIG: Final = "FederatedTypeConfig"
KIND_KUBEFED_CONFIG: Final = "KubeFedConfig"
KIND_PROPAGATED_VERSION: Final = "PropagatedVersion"
KIND_CLUSTER_PROPAGATED_VERSION: Final = "ClusterPropagatedVersion"
KIND_FEDERATED_NAMESPACE: Final = "FederatedNamespace"
FEDERATED_PREFIX: Final = "Federated"

MANAGED_LABEL: Final = "kubefed.io/managed"
ORPHAN_ANNOTATION: Final = "kubefed.io/orphan"
DELETE_OPTION_ANNOTATION: Final = "kubefed.io/deleteoption"
# On member objects: the template (and override) annotation keys kubefed set last time.
OWNED_ANNOTATIONS_ANNOTATION: Final = "kubefed.io/owned-annotations"
SYNC_FINALIZER: Final = "kubefed.io/sync-controller"
TYPE_CONFIG_FINALIZER: Final = "core.kubefed.io/federated-type-config"

SCOPE_CLUSTER: Final = "Cluster"
SCOPE_NAMESPACED: Final = "Namespaced"

# Namespaces the namespace sync controller never propagates (KubeFed semantics §2.3).
SYSTEM_NAMESPACES: Final = frozenset({"kube-system", "kube-public", "default"})


def split_api_version(api_version: str) -> tuple[str, str]:
    """Split ``group/version`` (core group: ``v1``) into (group, version)."""
    if "/" in api_version:
        group, _, version = api_version.partition("/")
        return group, version
    return "", api_version


def join_api_version(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version
