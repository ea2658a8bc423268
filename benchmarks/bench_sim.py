"""Simulator benchmark: N federated objects x M clusters converging from empty.

Prints one JSON object: virtual and wall time to converge, write requests per member
object (target: exactly one create, no update), status writes per federated object,
the cost of a steady-state resync (target: zero writes) and peak RSS.
Usage: bench_sim.py [N] [M]   (default 5000 x 10)

With ``--rsp`` (default 1000 x 10): N FederatedDeployments, each driven by a
ReplicaSchedulingPreference, on M clusters whose simulated workloads run Pods; it prints
the time to converge, member writes per member Deployment, scheduler writes per
federated Deployment, and the writes of a full resync of every RSP (target: zero).
Usage: bench_sim.py --rsp [--unplaced] [N] [M]   (--unplaced: the FederatedDeployments are
created with ``placement: {clusters: []}``, so members are created only once scheduled)

With ``--host-requests`` (default 1000 x 2, bench_real's shape): host requests per federated
object, by verb, in steady creation and in deletion, Events included (written to the
simulated host as the controller writes them, through a view of their own), and the
virtual time (each member request takes 5 ms of it) and wall time of deleting the N objects
against creating them.
Usage: bench_sim.py --host-requests [N] [M]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from typing import Any

from kubectl_kubefed.kube.events import HostRecorder
from simulator.apiserver import ClientView
from simulator.fleet import Fleet
from simulator.workloads import WorkloadSettings


def _version_objects(fleet: Fleet) -> int:
    return sum(1 for o in fleet.host_server.objects() if o.get("kind") == "PropagatedVersion")


def main() -> None:
    args = [a for a in sys.argv[1:] if a not in ("--rsp", "--unplaced", "--host-requests")]
    if "--host-requests" in sys.argv[1:]:
        host_requests_main(int(args[0]) if args else 1000, int(args[1]) if len(args) > 1 else 2)
        return
    if "--rsp" in sys.argv[1:]:
        unplaced = "--unplaced" in sys.argv[1:]
        rsp_main(int(args[0]) if args else 1000, int(args[1]) if len(args) > 1 else 10, unplaced)
        return
    n = int(args[0]) if args else 5000
    m = int(args[1]) if len(args) > 1 else 10
    fleet = Fleet([{"name": f"c{i}", "labels": {"zone": str(i % 3)}} for i in range(m)])
    for t in ("namespaces", "configmaps"):
        fleet.enable(t)
    fleet.settle()
    fleet.apply(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}},
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedNamespace",
                "metadata": {"name": "bench", "namespace": "bench"},
                "spec": {"placement": {"clusterSelector": {}}},
            },
        ]
    )
    fleet.settle()
    base = {c: dict(v.requests) for c, v in fleet.views.items()}
    status_base = fleet.host.status_updates.get("FederatedConfigMap", 0)
    versions_base = fleet.host.status_updates.get("PropagatedVersion", 0)
    version_objects_base = _version_objects(fleet)
    objs = [
        {
            "apiVersion": "types.kubefed.io/v1beta1",
            "kind": "FederatedConfigMap",
            "metadata": {"name": f"cm-{i}", "namespace": "bench"},
            "spec": {"template": {"data": {"key": f"value-{i}"}}, "placement": {"clusterSelector": {}}},
        }
        for i in range(n)
    ]
    virtual_start = fleet.clock.now()
    wall = time.perf_counter()
    fleet.apply(objs)
    settled = fleet.settle(max_seconds=3600)
    wall_converge = time.perf_counter() - wall
    virtual_converge = fleet.clock.now() - virtual_start
    member_objects = n * m
    creates = sum(v.requests["create"] - base[c]["create"] for c, v in fleet.views.items())
    updates = sum(v.requests["update"] - base[c]["update"] for c, v in fleet.views.items())
    status_writes = fleet.host.status_updates.get("FederatedConfigMap", 0) - status_base
    # a create each (init's CRD: the create carries the status), plus any status updates
    version_writes = (
        _version_objects(fleet)
        - version_objects_base
        + fleet.host.status_updates.get("PropagatedVersion", 0)
        - versions_base
    )
    writes_before = fleet.write_requests()
    wall = time.perf_counter()
    fleet.manager.controllers["configmaps"].enqueue_all()  # a full resync of every object
    fleet.settle()
    resync_wall = time.perf_counter() - wall
    figures = {
        "federated_objects": n,
        "clusters": m,
        "settled": settled,
        "virtual_seconds_to_converge": round(virtual_converge, 1),
        "wall_seconds_to_converge": round(wall_converge, 2),
        "member_objects_per_wall_second": round(member_objects / wall_converge),
        "creates_per_member_object": round(creates / member_objects, 3),
        "updates_per_member_object": round(updates / member_objects, 3),
        "status_writes_per_federated_object": round(status_writes / n, 3),
        "propagated_version_writes_per_federated_object": round(version_writes / n, 3),
        "resync_write_requests": fleet.write_requests() - writes_before,
        "resync_wall_seconds": round(resync_wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures, indent=2))


class EventsFleet(Fleet):
    """A fleet whose controllers write their Events to the simulated host, as the real
    controller does (synchronously, through a view of their own, so they are counted)."""

    def _start_control_plane(self) -> None:
        if not hasattr(self, "events_view"):
            self.events_view = ClientView(self.host_server, "events")
            self.recorder = HostRecorder(self.events_view, self.clock, background=False)
        super()._start_control_plane()


def _host_counts(fleet: EventsFleet) -> dict[str, int]:
    counts = {f"controller_{verb}": n for verb, n in fleet.host.requests.items() if n}
    counts.update({f"events_{verb}": n for verb, n in fleet.events_view.requests.items() if n})
    counts.update({f"status_{kind}": n for kind, n in fleet.host.status_updates.items()})
    return counts


def _per_object(before: dict[str, int], after: dict[str, int], n: int) -> dict[str, float]:
    diff = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(set(before) | set(after))}
    return {k: round(v / n, 3) for k, v in diff.items() if v}


WRITE_VERBS = ("create", "update", "delete")
MEMBER_LATENCY = 0.005


def _writes(per: dict[str, float]) -> float:
    return round(
        sum(
            v
            for k, v in per.items()
            if k.split("_", 1)[0] in ("controller", "events") and k.endswith(WRITE_VERBS)
        ),
        3,
    )


def _requests(per: dict[str, float]) -> float:
    return round(sum(v for k, v in per.items() if not k.startswith("status_")), 3)


def _bench_configmaps(fleet: Fleet) -> int:
    return sum(
        1
        for c in fleet.servers
        for o in fleet.member_objects(c)
        if o.get("kind") == "ConfigMap" and o["metadata"].get("name", "").startswith("cm-")
    )


def host_requests_main(n: int, m: int) -> None:
    fleet = EventsFleet([{"name": f"c{i}"} for i in range(m)])
    for t in ("namespaces", "configmaps"):
        fleet.enable(t)
    fleet.settle()
    fleet.apply(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}},
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedNamespace",
                "metadata": {"name": "bench", "namespace": "bench"},
                "spec": {"placement": {"clusterSelector": {}}},
            },
        ]
    )
    fleet.settle()
    objs = [
        {
            "apiVersion": "types.kubefed.io/v1beta1",
            "kind": "FederatedConfigMap",
            "metadata": {"name": f"cm-{i}", "namespace": "bench"},
            "spec": {"template": {"data": {"key": f"value-{i}"}}, "placement": {"clusterSelector": {}}},
        }
        for i in range(n)
    ]
    for cluster in fleet.servers:  # every member request takes 5 ms of virtual time
        fleet.set_faults(cluster, latency=MEMBER_LATENCY)
    fleet.settle()
    before = _host_counts(fleet)
    virtual_start, wall = fleet.clock.now(), time.perf_counter()
    fleet.apply(objs)
    created_settled = fleet.settle(max_seconds=3600)
    create_wall, create_virtual = time.perf_counter() - wall, fleet.clock.now() - virtual_start
    creation = _per_object(before, _host_counts(fleet), n)
    members = _bench_configmaps(fleet)
    before = _host_counts(fleet)
    virtual_start, wall = fleet.clock.now(), time.perf_counter()
    for obj in objs:
        fleet.delete(obj["apiVersion"], obj["kind"], "bench", obj["metadata"]["name"])
    deleted_settled = fleet.settle(max_seconds=3600)
    delete_wall, delete_virtual = time.perf_counter() - wall, fleet.clock.now() - virtual_start
    deletion = _per_object(before, _host_counts(fleet), n)
    left = _bench_configmaps(fleet)
    left_fed = sum(1 for o in fleet.federated_objects() if o.get("kind") == "FederatedConfigMap")
    figures = {
        "federated_objects": n,
        "clusters": m,
        "creation": {
            "settled": created_settled,
            "member_objects": members,
            "host_writes_per_federated_object": _writes(creation),
            "host_requests_per_federated_object": _requests(creation),
            "by_verb": creation,
            "virtual_seconds": round(create_virtual, 1),
            "wall_seconds": round(create_wall, 2),
        },
        "deletion": {
            "settled": deleted_settled,
            "member_objects_left": left,
            "federated_objects_left": left_fed,
            "host_writes_per_federated_object": _writes(deletion),
            "host_requests_per_federated_object": _requests(deletion),
            "by_verb": deletion,
            "virtual_seconds": round(delete_virtual, 1),
            "wall_seconds": round(delete_wall, 2),
        },
        "deletion_vs_creation_wall": round(delete_wall / max(create_wall, 1e-9), 2),
        "deletion_vs_creation_virtual": round(delete_virtual / max(create_virtual, 1e-9), 2),
    }
    print(json.dumps(figures, indent=2))


def _rsp_objects(i: int, m: int, unplaced: bool) -> list[dict[str, Any]]:
    name = f"web-{i}"
    template = {
        "replicas": 1,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
        },
    }
    # a mix of shapes: even spread, one preferred cluster with a minimum, and capped clusters
    clusters: dict[str, Any] = {"*": {"weight": 1}}
    if i % 3 == 1:
        clusters[f"c{i % m}"] = {"weight": 3, "minReplicas": 2}
    elif i % 3 == 2:
        clusters = {"*": {"weight": 1, "maxReplicas": 2}}
    return [
        {
            "apiVersion": "types.kubefed.io/v1beta1",
            "kind": "FederatedDeployment",
            "metadata": {"name": name, "namespace": "bench"},
            "spec": {
                "template": {"spec": template},
                "placement": {"clusters": []} if unplaced else {"clusterSelector": {}},
            },
        },
        {
            "apiVersion": "scheduling.kubefed.io/v1alpha1",
            "kind": "ReplicaSchedulingPreference",
            "metadata": {"name": name, "namespace": "bench"},
            "spec": {
                "targetKind": "FederatedDeployment",
                "totalReplicas": 10 + i % 7,
                "rebalance": i % 2 == 0,
                "clusters": clusters,
            },
        },
    ]


def rsp_main(n: int, m: int, unplaced: bool = False) -> None:
    fleet = Fleet(
        [{"name": f"c{i}"} for i in range(m)],
        workloads=WorkloadSettings(ready_after=5.0, capacity={}),
    )
    for t in ("namespaces", "deployments.apps"):
        fleet.enable(t)
    fleet.settle()
    fleet.apply(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}},
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedNamespace",
                "metadata": {"name": "bench", "namespace": "bench"},
                "spec": {"placement": {"clusterSelector": {}}},
            },
        ]
    )
    fleet.settle()
    scheduler = fleet.manager.running["scheduling"]
    base = {c: dict(v.requests) for c, v in fleet.views.items()}
    writes_base = getattr(scheduler, "target_writes", 0)
    objs = [o for i in range(n) for o in _rsp_objects(i, m, unplaced)]
    virtual_start = fleet.clock.now()
    wall = time.perf_counter()
    fleet.apply(objs)
    settled = fleet.settle(max_seconds=3600)
    wall_converge = time.perf_counter() - wall
    virtual_converge = fleet.clock.now() - virtual_start
    member_objects = sum(
        1
        for c in fleet.servers
        for o in fleet.servers[c].objects()
        if o.get("kind") == "Deployment" and o["metadata"].get("namespace") == "bench"
    )
    creates = sum(v.requests["create"] - base[c]["create"] for c, v in fleet.views.items())
    updates = sum(v.requests["update"] - base[c]["update"] for c, v in fleet.views.items())
    target_writes = getattr(scheduler, "target_writes", 0) - writes_base
    replicas = 0
    for o in fleet.host_server.objects():
        if o.get("kind") == "FederatedDeployment":
            for entry in o["spec"].get("overrides") or []:
                replicas += sum(
                    int(item["value"])
                    for item in entry.get("clusterOverrides") or []
                    if item["path"] == "/spec/replicas"
                )
    writes_before = fleet.write_requests()
    target_before = getattr(scheduler, "target_writes", 0)
    wall = time.perf_counter()
    scheduler.enqueue_all()  # type: ignore[attr-defined]  # a full resync of every RSP
    fleet.settle()
    resync_wall = time.perf_counter() - wall
    figures = {
        "rsp_federated_deployments": n,
        "created_unplaced": unplaced,
        "clusters": m,
        "settled": settled,
        "virtual_seconds_to_converge": round(virtual_converge, 1),
        "wall_seconds_to_converge": round(wall_converge, 2),
        "member_deployments": member_objects,
        "scheduled_replicas": replicas,
        "creates_per_member_object": round(creates / max(member_objects, 1), 3),
        "updates_per_member_object": round(updates / max(member_objects, 1), 3),
        "scheduler_writes_per_federated_object": round(target_writes / n, 3),
        "resync_write_requests": fleet.write_requests() - writes_before,
        "resync_scheduler_writes": getattr(scheduler, "target_writes", 0) - target_before,
        "resync_wall_seconds": round(resync_wall, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
