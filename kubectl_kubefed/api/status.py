"""Propagation status vocabulary: per-cluster codes, aggregate reasons, health reasons."""

from typing import Final

# Per-cluster propagation status (status.clusters[].status). "" means in desired state.
OK: Final = ""
WAITING_FOR_REMOVAL: Final = "WaitingForRemoval"
CLUSTER_NOT_READY: Final = "ClusterNotReady"
CACHED_RETRIEVAL_FAILED: Final = "CachedRetrievalFailed"
COMPUTE_RESOURCE_FAILED: Final = "ComputeResourceFailed"
APPLY_OVERRIDES_FAILED: Final = "ApplyOverridesFailed"
CREATION_FAILED: Final = "CreationFailed"
UPDATE_FAILED: Final = "UpdateFailed"
DELETION_FAILED: Final = "DeletionFailed"
LABEL_REMOVAL_FAILED: Final = "LabelRemovalFailed"
RETRIEVAL_FAILED: Final = "RetrievalFailed"
ALREADY_EXISTS: Final = "AlreadyExists"
FIELD_RETENTION_FAILED: Final = "FieldRetentionFailed"
VERSION_RETRIEVAL_FAILED: Final = "VersionRetrievalFailed"
CLIENT_RETRIEVAL_FAILED: Final = "ClientRetrievalFailed"
MANAGED_LABEL_FALSE: Final = "ManagedLabelFalse"
CREATION_TIMED_OUT: Final = "CreationTimedOut"
UPDATE_TIMED_OUT: Final = "UpdateTimedOut"
DELETION_TIMED_OUT: Final = "DeletionTimedOut"
LABEL_REMOVAL_TIMED_OUT: Final = "LabelRemovalTimedOut"
# Ours: a member namespace is kept (unlabelled) because it holds objects kubefed does not manage.
UNMANAGED_OBJECTS_IN_NAMESPACE: Final = "UnmanagedObjectsInNamespace"
# Ours: the member does not serve the target type (yet): e.g. its CRD has not reached it.
# Creation waits (re-checked) and deletion there is complete (nothing can exist there).
TYPE_NOT_SERVED: Final = "TypeNotServed"
# Ours (pull mode): the cluster's agent has not yet reported the latest Work as applied.
WAITING_FOR_AGENT: Final = "WaitingForAgent"

RECOVERABLE: Final = frozenset(
    {
        CREATION_FAILED,
        UPDATE_FAILED,
        DELETION_FAILED,
        LABEL_REMOVAL_FAILED,
        RETRIEVAL_FAILED,
        CLIENT_RETRIEVAL_FAILED,
        CREATION_TIMED_OUT,
        UPDATE_TIMED_OUT,
        DELETION_TIMED_OUT,
        LABEL_REMOVAL_TIMED_OUT,
    }
)

# Aggregate reasons of the Propagation condition.
CONDITION_PROPAGATION: Final = "Propagation"
REASON_OK: Final = ""
REASON_CHECK_CLUSTERS: Final = "CheckClusters"
REASON_CLUSTER_RETRIEVAL_FAILED: Final = "ClusterRetrievalFailed"
REASON_COMPUTE_PLACEMENT_FAILED: Final = "ComputePlacementFailed"
REASON_NAMESPACE_NOT_FEDERATED: Final = "NamespaceNotFederated"

# KubeFedCluster health conditions.
COND_READY: Final = "Ready"
COND_OFFLINE: Final = "Offline"
COND_CONFIG_MALFORMED: Final = "ConfigMalformed"
REASON_CLUSTER_READY: Final = "ClusterReady"
REASON_CLUSTER_NOT_READY: Final = "ClusterNotReady"
REASON_CLUSTER_NOT_REACHABLE: Final = "ClusterNotReachable"
REASON_CLUSTER_REACHABLE: Final = "ClusterReachable"
REASON_CLUSTER_CONFIG_MALFORMED: Final = "ClusterConfigMalformed"
