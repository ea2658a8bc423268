"""Simulator benchmark: N federated objects x M clusters converging from empty.

Prints one JSON object: virtual and wall time to converge, write requests per member
object (target: exactly one create, no update), status writes per federated object,
the cost of a steady-state resync (target: zero writes) and peak RSS.
Usage: bench_sim.py [N] [M]   (default 5000 x 10)
"""

from __future__ import annotations

import json
import resource
import sys
import time

from simulator.fleet import Fleet


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    m = int(sys.argv[2]) if len(sys.argv) > 2 else 10
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
    version_writes = fleet.host.status_updates.get("PropagatedVersion", 0) - versions_base
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


if __name__ == "__main__":
    main()
