"""The pull agent's Lease on the host: proof of life, the member's ID and its version.

The agent renews ``coordination.k8s.io/v1 Lease kubefed-agent`` in its cluster's host
namespace; the host's health controller judges a pull cluster by it (``sync.health``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj
from kubectl_kubefed.core.work import cluster_namespace

LEASE_API_VERSION: Final = "coordination.k8s.io/v1"
# The member's cluster.clusterset.k8s.io ClusterProperty, as the agent read it.
AGENT_CLUSTER_ID_ANNOTATION: Final = "kubefed.io/cluster-id"
AGENT_VERSION_ANNOTATION: Final = "kubefed.io/kubernetes-version"


def renewed(
    existing: Mapping[str, Any] | None,
    cluster: str,
    *,
    holder: str,
    now: str,
    duration: float,
    cluster_id: str,
    version: str,
) -> Obj:
    """The Lease to write: ``existing`` (as read, keeping its resourceVersion) renewed at
    ``now`` (RFC 3339 with microseconds) by ``holder``, or a new one."""
    lease: Obj = (
        copy.deepcopy(dict(existing))
        if existing is not None
        else {
            "apiVersion": LEASE_API_VERSION,
            "kind": "Lease",
            "metadata": {"name": names.AGENT_LEASE_NAME, "namespace": cluster_namespace(cluster)},
        }
    )
    meta = lease.setdefault("metadata", {})
    annotations = dict(meta.get("annotations") or {})
    annotations[AGENT_CLUSTER_ID_ANNOTATION] = cluster_id
    if version:
        annotations[AGENT_VERSION_ANNOTATION] = version
    meta["annotations"] = annotations
    spec = dict(lease.get("spec") or {})
    if spec.get("holderIdentity") != holder:
        spec["acquireTime"] = now
        spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + (1 if existing else 0)
    spec.update({"holderIdentity": holder, "renewTime": now, "leaseDurationSeconds": max(1, round(duration))})
    lease["spec"] = spec
    return lease
