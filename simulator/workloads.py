"""A minimal workload controller, scheduler and kubelet inside each simulated member.

Off unless asked for (``Fleet(..., workloads=WorkloadSettings(...))`` or a scenario with
``workloads:`` or a cluster ``capacity:``). Per member cluster, on the fleet's virtual clock:

* every Deployment and every ReplicaSet without a controlling owner (apps/v1) owns Pods
  (``ownerReferences``, the template's labels; a Deployment's Pods are named
  ``<deployment>-<template hash>-<n>`` and labelled ``pod-template-hash``, a ReplicaSet's
  ``<replicaset>-<n>``), created or deleted to match ``spec.replicas`` (1 when absent). A
  Deployment whose template changed replaces its Pods (the Recreate strategy).
* ``capacity`` (pods, for the whole cluster; None: unlimited) bounds the scheduled Pods. A Pod
  without room stays ``Pending`` with the condition ``PodScheduled=False``, reason
  ``Unschedulable``, stamped with the virtual time it became so; when capacity drops below the
  scheduled Pods, the newest are evicted (deleted, then re-created by their owner, Pending).
* a scheduled Pod becomes ``Running`` with ``Ready=True`` ``ready_after`` virtual seconds after
  it was scheduled.
* each workload's status (``replicas``, ``readyReplicas``, ``availableReplicas``,
  ``updatedReplicas``, ``observedGeneration``, ...) follows its Pods, written through the status
  subresource, so watches see it.

It writes only when something changes: an idle fleet makes no writes. Its writes go straight
to the member's API server (the member's own controllers, not the federation's), counted in
``requests`` apart from the control plane's.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubectl_kubefed.api.objects import Obj, kind_of, metadata, name_of, namespace_of
from kubectl_kubefed.sync.clock import VirtualClock, rfc3339
from kubectl_kubefed.sync.errors import ApiError
from simulator.apiserver import ApiServer

HASH_LABEL = "pod-template-hash"
UNSCHEDULABLE_MESSAGE = "0/1 nodes are available: 1 Too many pods."
_MAX_PASSES = 64  # a bound on passes per step; each pass changes one aspect


@dataclass
class WorkloadSettings:
    ready_after: float = 5.0  # virtual seconds from scheduled to Running and Ready
    capacity: Mapping[str, int] = field(default_factory=dict)  # cluster -> pods; absent: unlimited


def _time(value: Any) -> float:
    if not isinstance(value, str):
        return -math.inf
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return -math.inf


def _condition(pod: Mapping[str, Any], kind: str) -> Mapping[str, Any] | None:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if isinstance(c, Mapping) and c.get("type") == kind:
            return c
    return None


def _scheduled(pod: Mapping[str, Any]) -> bool:
    c = _condition(pod, "PodScheduled")
    return c is not None and c.get("status") == "True"


def _ready(pod: Mapping[str, Any]) -> bool:
    c = _condition(pod, "Ready")
    return (pod.get("status") or {}).get("phase") == "Running" and c is not None and c.get("status") == "True"


def _unschedulable(pod: Mapping[str, Any]) -> bool:
    c = _condition(pod, "PodScheduled")
    return c is not None and c.get("status") == "False" and c.get("reason") == "Unschedulable"


def _finished(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def _age_key(pod: Mapping[str, Any]) -> tuple[float, str, str]:
    return (_time(metadata(pod).get("creationTimestamp")), namespace_of(pod), name_of(pod))


def template_hash(template: Any) -> str:
    """A stable short hash of a pod template (the ``pod-template-hash`` label)."""
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def _controller_uid(obj: Mapping[str, Any]) -> str | None:
    for ref in metadata(obj).get("ownerReferences") or []:
        if isinstance(ref, Mapping) and ref.get("controller"):
            return str(ref.get("uid"))
    return None


class MemberWorkloads:
    """Workload controllers, scheduler and kubelet of one member cluster."""

    def __init__(self, server: ApiServer, clock: VirtualClock, settings: WorkloadSettings) -> None:
        self.server = server
        self.clock = clock
        self.ready_after = settings.ready_after
        self.capacity: int | None = settings.capacity.get(server.name)
        self.requests: collections.Counter[str] = collections.Counter()  # create, update, delete
        self._seen_rv = -1
        self._next_due = math.inf

    def set_capacity(self, pods: int | None) -> None:
        self.capacity = pods
        self._seen_rv = -1  # look again at the next step

    def next_due(self) -> float:
        """When a scheduled Pod becomes Ready next (inf: nothing is waiting)."""
        return self._next_due

    def step(self) -> None:
        """Bring Pods and statuses up to date; nothing at all if nothing changed."""
        if self.server.resource_version == self._seen_rv and self.clock.now() < self._next_due:
            return
        for _ in range(_MAX_PASSES):
            if not self._pass():
                break
        self._seen_rv = self.server.resource_version

    # -- one pass: the first aspect that needs writes gets them ---------------------------

    def _pass(self) -> int:
        now = self.clock.now()
        pods = [p for p in self.server.list("v1", "Pod")[0] if not metadata(p).get("deletionTimestamp")]
        workloads = [
            w
            for kind in ("Deployment", "ReplicaSet")
            for w in self.server.list("apps/v1", kind)[0]
            if not metadata(w).get("deletionTimestamp")
            and not (kind == "ReplicaSet" and _controller_uid(w) is not None)
        ]
        owned: dict[str, list[Obj]] = collections.defaultdict(list)
        for pod in pods:
            uid = _controller_uid(pod)
            if uid is not None:
                owned[uid].append(pod)
        names = {(namespace_of(p), name_of(p)) for p in pods}
        writes = sum(self._scale(w, owned[str(metadata(w).get("uid"))], names) for w in workloads)
        if writes:
            return writes
        writes = self._schedule(pods, now)
        if writes:
            return writes
        writes = self._become_ready(pods, now)
        if writes:
            return writes
        return sum(self._write_status(w, owned[str(metadata(w).get("uid"))]) for w in workloads)

    def _scale(self, workload: Obj, pods: list[Obj], names: set[tuple[str, str]]) -> int:
        spec = workload.get("spec") or {}
        replicas = spec.get("replicas")
        desired = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
        is_deployment = kind_of(workload) == "Deployment"
        template = spec.get("template") or {}
        hashed = template_hash(template)
        writes = 0
        if is_deployment:
            outdated = [p for p in pods if (metadata(p).get("labels") or {}).get(HASH_LABEL) != hashed]
            writes += sum(self._delete(p) for p in outdated)
            pods = [p for p in pods if p not in outdated]
        if len(pods) > desired:
            # As the ReplicaSet controller: unscheduled first, then not ready, newest first.
            ranked = sorted(pods, key=_age_key, reverse=True)
            ranked.sort(key=lambda p: (_scheduled(p), _ready(p)))
            writes += sum(self._delete(p) for p in ranked[: len(pods) - desired])
        prefix = f"{name_of(workload)}-{hashed}-" if is_deployment else f"{name_of(workload)}-"
        namespace = namespace_of(workload)
        n = 0
        for _ in range(desired - len(pods)):
            while (namespace, f"{prefix}{n}") in names:
                n += 1
            names.add((namespace, f"{prefix}{n}"))
            writes += self._create_pod(workload, template, f"{prefix}{n}", hashed if is_deployment else None)
        return writes

    def _create_pod(self, workload: Obj, template: Mapping[str, Any], name: str, hashed: str | None) -> int:
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        if hashed is not None:
            labels[HASH_LABEL] = hashed
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace_of(workload),
                "labels": labels,
                "ownerReferences": [
                    {
                        "apiVersion": str(workload.get("apiVersion")),
                        "kind": kind_of(workload),
                        "name": name_of(workload),
                        "uid": str(metadata(workload).get("uid")),
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": dict(template.get("spec") or {}),
        }
        try:
            self.server.create(pod)
        except ApiError:
            return 0  # e.g. a terminating namespace: the next change tries again
        self.requests["create"] += 1
        return 1

    def _delete(self, pod: Obj) -> int:
        try:
            self.server.delete("v1", "Pod", namespace_of(pod), name_of(pod))
        except ApiError:
            return 0
        self.requests["delete"] += 1
        return 1

    def _set_status(self, obj: Obj, status: dict[str, Any]) -> int:
        if obj.get("status") == status:
            return 0
        try:
            self.server.update_status({**obj, "status": status})
        except ApiError:
            return 0
        self.requests["update"] += 1
        return 1

    # -- the scheduler and the kubelet -------------------------------------------------

    def _schedule(self, pods: list[Obj], now: float) -> int:
        scheduled = sorted((p for p in pods if _scheduled(p) and not _finished(p)), key=_age_key)
        if self.capacity is not None and len(scheduled) > self.capacity:
            # The cluster shrank: evict the newest; their owners re-create them, Pending.
            return sum(self._delete(p) for p in scheduled[max(self.capacity, 0) :])
        room = math.inf if self.capacity is None else self.capacity - len(scheduled)
        waiting = sorted(
            (
                p
                for p in pods
                if not _scheduled(p) and (p.get("status") or {}).get("phase", "Pending") == "Pending"
            ),
            key=_age_key,
        )
        writes = 0
        stamp = rfc3339(now)
        for pod in waiting:
            if room > 0:
                room -= 1
                condition = {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp}
                writes += self._set_status(pod, {"phase": "Pending", "conditions": [condition]})
            elif not _unschedulable(pod):
                condition = {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": UNSCHEDULABLE_MESSAGE,
                    "lastTransitionTime": stamp,
                }
                writes += self._set_status(pod, {"phase": "Pending", "conditions": [condition]})
        return writes

    def _become_ready(self, pods: list[Obj], now: float) -> int:
        writes = 0
        self._next_due = math.inf
        for pod in pods:
            if not _scheduled(pod) or _finished(pod) or _ready(pod):
                continue
            since = _condition(pod, "PodScheduled") or {}
            due = _time(since.get("lastTransitionTime")) + self.ready_after
            if due > now:
                self._next_due = min(self._next_due, due)
                continue
            stamp = rfc3339(now)
            conditions = [
                dict(since),
                {"type": "Ready", "status": "True", "lastTransitionTime": stamp},
            ]
            writes += self._set_status(
                pod, {"phase": "Running", "startTime": stamp, "conditions": conditions}
            )
        return writes

    def _write_status(self, workload: Obj, pods: list[Obj]) -> int:
        spec = workload.get("spec") or {}
        replicas = spec.get("replicas")
        desired = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
        ready = sum(1 for p in pods if _ready(p))
        status: dict[str, Any] = {"observedGeneration": metadata(workload).get("generation") or 0}
        if kind_of(workload) == "Deployment":
            hashed = template_hash(spec.get("template") or {})
            counts = {
                "replicas": len(pods),
                "updatedReplicas": sum(
                    1 for p in pods if (metadata(p).get("labels") or {}).get(HASH_LABEL) == hashed
                ),
                "readyReplicas": ready,
                "availableReplicas": ready,
                "unavailableReplicas": max(desired - ready, 0),
            }
            status.update({k: v for k, v in counts.items() if v})  # omitempty, as the API writes it
        else:
            status["replicas"] = len(pods)
            counts = {"fullyLabeledReplicas": len(pods), "readyReplicas": ready, "availableReplicas": ready}
            status.update({k: v for k, v in counts.items() if v})
        return self._set_status(workload, status)


class Workloads:
    """The workload controllers of every member of a fleet (new members are picked up)."""

    def __init__(
        self, servers: MutableMapping[str, ApiServer], clock: VirtualClock, settings: WorkloadSettings
    ) -> None:
        self._servers = servers
        self.clock = clock
        self.settings = settings
        self.members: dict[str, MemberWorkloads] = {}

    def member(self, cluster: str) -> MemberWorkloads:
        found = self.members.get(cluster)
        if found is None or found.server is not self._servers[cluster]:
            found = self.members[cluster] = MemberWorkloads(self._servers[cluster], self.clock, self.settings)
        return found

    def step(self) -> None:
        for name in sorted(self._servers):
            self.member(name).step()

    def next_due(self) -> float:
        return min((m.next_due() for m in self.members.values()), default=math.inf)

    def writes(self) -> int:
        return sum(sum(m.requests.values()) for m in self.members.values())
