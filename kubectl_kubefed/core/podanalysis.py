"""What KubeFed's replica scheduler reads from one member cluster: current replicas and capacity.

Pure, on plain dicts, exactly as KubeFed v0.10 does it (reference §7.1 step 4):

* ``pkg/schedulingtypes/replicascheduler.go`` (``clustersReplicaState``): a member workload whose
  ``spec.replicas`` equals ``status.readyReplicas`` (each read as 0 when absent) has that many
  current replicas; otherwise its Pods are analysed: the Pods in the workload's namespace that
  match ``spec.selector.matchLabels`` (a workload without it is an error, "missing selector on
  object"). Current replicas = running-and-ready Pods; if some Pods are unschedulable beyond the
  threshold, the cluster's estimated capacity is ``spec.replicas - unschedulable``.
* ``pkg/controller/util/podanalyzer/pod_helper.go`` (``AnalyzePods``): per Pod and per condition,
  a Pod in phase ``Running`` counts as running-and-ready for a condition of type ``Ready``
  (whatever its status); a Pod in any other phase counts as unschedulable for a ``PodScheduled``
  condition with status ``False`` and reason ``Unschedulable``, and as unschedulable *beyond the
  threshold* when ``lastTransitionTime + 60s`` is strictly before now
  (``UnschedulableThreshold = 60 * time.Second``). If the two unschedulable counts differ, the
  scheduler asks for a recheck (KubeFed: ``StatusNeedsRecheck``, retried after 10 s).

A missing or unreadable ``lastTransitionTime`` is Go's zero time, so such a Pod is unschedulable
beyond the threshold at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

UNSCHEDULABLE_THRESHOLD_SECONDS = 60.0  # podanalyzer.UnschedulableThreshold
RECHECK_SECONDS = 10.0  # KubeFed's delay for StatusNeedsRecheck


class MissingSelector(ValueError):
    """The workload has no ``spec.selector.matchLabels`` and its Pods had to be listed."""


@dataclass(frozen=True)
class PodAnalysis:
    """``podanalyzer.PodAnalysisResult``, plus the count that decides a recheck."""

    total: int
    running_and_ready: int
    unschedulable: int  # unschedulable for longer than the threshold
    unschedulable_now: int  # unschedulable, however recently

    @property
    def needs_recheck(self) -> bool:
        """Some Pods are unschedulable, but not yet for longer than the threshold."""
        return self.unschedulable_now != self.unschedulable


@dataclass(frozen=True)
class ReplicaState:
    """One member cluster's input to the planner."""

    current: int  # currentReplicasPerCluster[cluster]
    capacity: int | None  # estimatedCapacity[cluster]; None: no entry (not limited)
    needs_recheck: bool = False


def _int(obj: Mapping[str, Any], *path: str) -> int:
    value: Any = obj
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def analyze_pods(pods: Iterable[Mapping[str, Any]], now: float) -> PodAnalysis:
    """``AnalyzePods(pods, now)``; ``now`` in seconds since the epoch."""
    total = running_and_ready = unschedulable = unschedulable_now = 0
    for pod in pods:
        total += 1
        status = pod.get("status") or {}
        running = status.get("phase") == "Running"
        for condition in status.get("conditions") or []:
            if not isinstance(condition, Mapping):
                continue
            if running:
                if condition.get("type") == "Ready":
                    running_and_ready += 1
            elif (
                condition.get("type") == "PodScheduled"
                and condition.get("status") == "False"
                and condition.get("reason") == "Unschedulable"
            ):
                unschedulable_now += 1
                since = _timestamp(condition.get("lastTransitionTime"))
                if since is None or since + UNSCHEDULABLE_THRESHOLD_SECONDS < now:
                    unschedulable += 1
    return PodAnalysis(total, running_and_ready, unschedulable, unschedulable_now)


def pod_selector(workload: Mapping[str, Any]) -> dict[str, str]:
    """The labels KubeFed lists the workload's Pods by (``spec.selector.matchLabels``)."""
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels")
    if not isinstance(labels, Mapping):
        raise MissingSelector("missing selector on object")
    return {str(k): str(v) for k, v in labels.items()}


def selected_pods(workload: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The Pods KubeFed would list for the workload: its namespace, its ``matchLabels``."""
    wanted = pod_selector(workload)
    namespace = (workload.get("metadata") or {}).get("namespace") or ""
    out = []
    for pod in pods:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        if (meta.get("namespace") or "") == namespace and all(labels.get(k) == v for k, v in wanted.items()):
            out.append(pod)
    return out


def replica_state(workload: Mapping[str, Any], pods: Iterable[Mapping[str, Any]], now: float) -> ReplicaState:
    """Current replicas and estimated capacity of one member Deployment/ReplicaSet.

    ``pods``: the cluster's Pods (any; those the workload selects are picked here). They are
    read only when ``spec.replicas != status.readyReplicas``, as in KubeFed; a workload without
    ``spec.selector.matchLabels`` then raises MissingSelector.
    """
    replicas = _int(workload, "spec", "replicas")
    ready = _int(workload, "status", "readyReplicas")
    if replicas == ready:
        return ReplicaState(ready, None)
    analysis = analyze_pods(selected_pods(workload, pods), now)
    capacity = replicas - analysis.unschedulable if analysis.unschedulable > 0 else None
    return ReplicaState(analysis.running_and_ready, capacity, analysis.needs_recheck)
