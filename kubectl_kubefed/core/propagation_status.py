"""The ``status`` KubeFed writes on a federated object (semantics §4), as a pure function."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api import status as st


def aggregate_reason(reason: str, cluster_statuses: Mapping[str, str]) -> str:
    """The Propagation condition's reason: a failure reason wins, then CheckClusters."""
    if reason:
        return reason
    if any(cluster_statuses.values()):
        return st.REASON_CHECK_CLUSTERS
    return st.REASON_OK


def remote_status(member: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a cluster entry carries as ``remoteStatus``: the member object's top-level
    ``status``, or None while it has none (absent or empty: nothing reported yet)."""
    if member is None:
        return None
    status = member.get("status")
    if not isinstance(status, Mapping) or not status:
        return None
    return copy.deepcopy(dict(status))


def _clusters_list(
    reason: str,
    cluster_statuses: Mapping[str, str],
    messages: Mapping[str, str],
    remote: Mapping[str, Any],
) -> list[dict[str, Any]]:
    if reason in (st.REASON_CLUSTER_RETRIEVAL_FAILED, st.REASON_COMPUTE_PLACEMENT_FAILED):
        return []
    out = []
    for name in sorted(cluster_statuses):
        entry: dict[str, Any] = {"name": name}
        if cluster_statuses[name]:
            entry["status"] = cluster_statuses[name]
            if messages.get(name):
                # Not in KubeFed: the reason behind a code (e.g. the missing permission).
                entry["message"] = messages[name]
        if remote.get(name):
            entry["remoteStatus"] = copy.deepcopy(remote[name])
        out.append(entry)
    return out


def _keeps(schema: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether a structural schema keeps the field at ``path`` ("[]" steps into array
    items) instead of pruning it."""
    node: Any = schema
    for step in path:
        if not isinstance(node, Mapping):
            return True
        if step == "[]":
            node = node.get("items")
            continue
        props = node.get("properties")
        if isinstance(props, Mapping) and step in props:
            node = props[step]
            continue
        # Not declared: kept only under x-kubernetes-preserve-unknown-fields.
        return node.get("x-kubernetes-preserve-unknown-fields") is True
    return True


def crd_keeps_cluster_field(crd: Mapping[str, Any], version: str, field: str) -> bool:
    """Whether the federated CRD as installed keeps ``status.clusters[].<field>``."""
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if isinstance(entry, Mapping) and entry.get("name") == version:
            schema = (entry.get("schema") or {}).get("openAPIV3Schema")
            if not isinstance(schema, Mapping):
                return True
            return _keeps(schema, ("status", "clusters", "[]", field))
    return True


def crd_keeps_cluster_messages(crd: Mapping[str, Any], version: str) -> bool:
    """Whether the federated CRD as installed keeps ``status.clusters[].message``.

    KubeFed's CRDs (its chart, ``kubefedctl enable``) do not declare it, so the API server
    prunes it: writing it there would change nothing but make every status look stale.
    (``remoteStatus`` they keep, as preserve-unknown-fields; a CRD from before KubeFed
    v0.6 does not.)
    """
    return crd_keeps_cluster_field(crd, version, "message")


def _propagation_condition(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == st.CONDITION_PROPAGATION:
            return cond
    return {}


def next_status(
    current: Mapping[str, Any] | None,
    generation: int,
    reason: str,
    cluster_statuses: Mapping[str, str],
    now: str,
    messages: Mapping[str, str] | None = None,
    remote: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The status to write, or None when KubeFed's write-only-on-change rule says no write.

    ``reason`` is the failure reason known before looking at clusters ("" when placement
    succeeded); NamespaceNotFederated only replaces a would-be success. ``remote``: the
    member objects' statuses by cluster (statusCollection Enabled), each cluster entry's
    ``remoteStatus``. A cluster without one does not make the condition CheckClusters
    (KubeFed's does: a kind whose members report no status, or not yet, never looked
    propagated; docs/deviations.md).
    """
    current = current or {}
    if reason == st.REASON_NAMESPACE_NOT_FEDERATED and any(cluster_statuses.values()):
        reason = st.REASON_OK
    final_reason = aggregate_reason(reason, cluster_statuses)
    clusters = _clusters_list(final_reason, cluster_statuses, messages or {}, remote or {})
    old_cond = _propagation_condition(current)
    cond_status = "True" if final_reason == st.REASON_OK else "False"
    transitioned = (
        not old_cond
        or old_cond.get("status") != cond_status
        or (old_cond.get("reason") or "") != final_reason
    )
    old_clusters = [
        {k: c[k] for k in ("name", "status", "message", "remoteStatus") if c.get(k)}
        for c in current.get("clusters") or []
        if isinstance(c, Mapping)
    ]
    old_clusters.sort(key=lambda c: str(c["name"]))
    changed = old_clusters != clusters
    generation_changed = current.get("observedGeneration") != generation
    if not (generation_changed or transitioned or changed):
        return None
    cond: dict[str, Any] = {"type": st.CONDITION_PROPAGATION, "status": cond_status}
    if final_reason:
        cond["reason"] = final_reason
    cond["lastTransitionTime"] = now if transitioned else old_cond.get("lastTransitionTime", now)
    cond["lastUpdateTime"] = now if (transitioned or changed) else old_cond.get("lastUpdateTime", now)
    new: dict[str, Any] = {"observedGeneration": generation, "conditions": [cond]}
    if clusters:
        new["clusters"] = clusters
    return new


def is_recoverable(cluster_statuses: Mapping[str, str]) -> bool:
    return any(s in st.RECOVERABLE for s in cluster_statuses.values())
