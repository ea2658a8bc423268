"""Replica scheduling against real kube-apiservers (docs/scheduling.md): a
ReplicaSchedulingPreference spreads a FederatedDeployment by weight, a member going down
moves its replicas to the other, and with ``rebalance: true`` they come back."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import replicas as rs
from tests.e2e.conftest import Plane, eventually
from tests.e2e.test_propagation_e2e import FED, deployment_template, federated

pytestmark = pytest.mark.e2e


def rsp(ns: str, total: int) -> dict[str, Any]:
    return {
        "apiVersion": names.SCHEDULING_API_VERSION,
        "kind": "ReplicaSchedulingPreference",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "targetKind": "FederatedDeployment",
            "totalReplicas": total,
            "rebalance": True,
            "clusters": {"member1": {"weight": 1}, "member2": {"weight": 2}},
        },
    }


def member_replicas(plane: Plane, ns: str) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for cluster in ("host", "member1", "member2"):
        obj = plane.get_or_none(cluster, "apps/v1", "Deployment", ns, "web")
        found[cluster] = None if obj is None else int(obj["spec"]["replicas"])
    return found


def scheduled(plane: Plane, ns: str) -> dict[str, int]:
    """The target's placement and /spec/replicas overrides, as the scheduler wrote them."""
    fed = plane.host.get(FED, "FederatedDeployment", ns, "web")
    clusters = [c["name"] for c in fed["spec"]["placement"].get("clusters") or []]
    replicas = {
        o["clusterName"]: o2["value"]
        for o in fed["spec"].get("overrides") or []
        for o2 in o.get("clusterOverrides") or []
        if o2.get("path") == "/spec/replicas"
    }
    return {c: int(replicas.get(c, -1)) for c in clusters}


def is_scheduled(plane: Plane, ns: str, want: dict[str, int]) -> bool:
    got = scheduled(plane, ns)
    assert got == want, got  # the last value is in eventually's message
    return True


def test_weights_failover_and_rebalance(plane: Plane, ns: str) -> None:
    if plane.bed is None:
        pytest.skip("needs the local test bed to stop an API server")
    pref = rsp(ns, 6)
    expected = rs.schedule(rs.parse_preference(pref), ["host", "member1", "member2"]).replicas
    # KubeFed's planner: weights 1:2, rounding up; an available cluster the preference does
    # not name (the host) is planned 0 replicas, so it is placed and runs none.
    assert expected == {"host": 0, "member1": 2, "member2": 4}
    # Placed nowhere until the RSP decides (docs/scheduling.md).
    plane.host.create(federated("Deployment", ns, "web", deployment_template(1), placement={"clusters": []}))
    plane.host.create(pref)
    eventually(lambda: is_scheduled(plane, ns, expected), 60, what="the RSP's schedule on the target")
    eventually(lambda: member_replicas(plane, ns) == expected, 60, what="members at 0/2/4")

    plane.bed.stop_apiserver("member2")
    try:
        eventually(
            lambda: is_scheduled(plane, ns, {"host": 0, "member1": 6}), 120, what="member2's replicas moved"
        )
        eventually(
            lambda: plane.member("member1").get("apps/v1", "Deployment", ns, "web")["spec"]["replicas"] == 6,
            60,
            what="member1 runs all 6",
        )
    finally:
        plane.bed.start_apiserver("member2")
    eventually(lambda: is_scheduled(plane, ns, expected), 120, what="rebalanced back to 2/4")
    eventually(lambda: member_replicas(plane, ns) == expected, 60, what="members at 0/2/4 again")

    plane.host.delete(names.SCHEDULING_API_VERSION, "ReplicaSchedulingPreference", ns, "web")
    plane.host.delete(FED, "FederatedDeployment", ns, "web")
    eventually(lambda: member_replicas(plane, ns) == {"host": None, "member1": None, "member2": None}, 60)
