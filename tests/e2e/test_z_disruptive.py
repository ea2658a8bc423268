"""Disruptions against the real test bed: a member API server down, the controller killed
mid-propagation, and two controller replicas. Runs last (it stops and restarts processes)."""

from __future__ import annotations

import signal
import time

import pytest

from tests.e2e.conftest import Plane, eventually, metric, update_retrying
from tests.e2e.test_propagation_e2e import FED, federated, propagated_ok, status_of

pytestmark = pytest.mark.e2e


def kubefed_cluster_conditions(plane: Plane, name: str) -> dict[str, str]:
    kfc = plane.host.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", name)
    return {c["type"]: c["status"] for c in (kfc.get("status") or {}).get("conditions", [])}


def test_member_apiserver_down_then_back(plane: Plane, ns: str) -> None:
    if plane.bed is None:
        pytest.skip("needs the local test bed to stop an API server")
    plane.host.create(federated("ConfigMap", ns, "cfg", {"data": {"v": "1"}}))
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "cfg", {"host", "member1", "member2"}))
    plane.bed.stop_apiserver("member2")
    try:
        eventually(
            lambda: kubefed_cluster_conditions(plane, "member2").get("Offline") == "True",
            60,
            what="member2 Offline",
        )
        update_retrying(
            plane.host,
            FED,
            "FederatedConfigMap",
            ns,
            "cfg",
            lambda fed: fed["spec"]["template"].update(data={"v": "2"}),
        )
        eventually(
            lambda: (
                {
                    c["name"]: c.get("status", "")
                    for c in status_of(plane, "ConfigMap", ns, "cfg").get("clusters", [])
                }.get("member2")
                == "ClusterNotReady"
            ),
            60,
            what="ClusterNotReady",
        )
        eventually(lambda: plane.member("member1").get("v1", "ConfigMap", ns, "cfg")["data"] == {"v": "2"})
    finally:
        plane.bed.start_apiserver("member2")
    eventually(
        lambda: kubefed_cluster_conditions(plane, "member2").get("Ready") == "True", 60, what="Ready again"
    )
    eventually(
        lambda: plane.member("member2").get("v1", "ConfigMap", ns, "cfg")["data"] == {"v": "2"},
        60,
        what="member2 caught up",
    )
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "cfg", {"host", "member1", "member2"}), 60)


def test_controller_killed_mid_propagation_converges(plane: Plane, ns: str) -> None:
    names = [f"bulk-{i}" for i in range(40)]
    for name in names:
        plane.host.create(federated("ConfigMap", ns, name, {"data": {"n": name}}))
    time.sleep(0.3)
    plane.controller.stop_all(signal.SIGKILL)
    plane.controller.start("replica-a")

    def converged() -> bool:
        for cluster in ("member1", "member2"):
            items, _ = plane.member(cluster).list("v1", "ConfigMap", ns, "kubefed.io/managed=true")
            assert sorted(i["metadata"]["name"] for i in items) == sorted(names)
        return all(propagated_ok(plane, "ConfigMap", ns, n, {"host", "member1", "member2"}) for n in names)

    eventually(converged, 120, interval=1.0, what="convergence after a kill -9")


def test_two_replicas_only_the_leader_works_and_the_standby_takes_over(plane: Plane, ns: str) -> None:
    ctl = plane.controller
    leader_port = ctl.ports[0]
    _, standby_port = ctl.start("replica-b")
    lease = plane.host.get(
        "coordination.k8s.io/v1", "Lease", "kube-federation-system", "kubefed-controller-manager"
    )
    assert lease["spec"]["holderIdentity"] == "replica-a"
    assert metric(ctl.get(standby_port, "/metrics"), "kubefed_leader") == 0
    plane.host.create(federated("ConfigMap", ns, "during-standby", {"data": {"a": "b"}}))
    eventually(lambda: plane.member("member1").get("v1", "ConfigMap", ns, "during-standby"))
    assert "kubefed_reconciles_total" not in ctl.get(standby_port, "/metrics")  # the standby wrote nothing
    assert "kubefed_reconciles_total" in ctl.get(leader_port, "/metrics")
    leader = ctl.procs[0]
    leader.kill()
    leader.wait()
    eventually(
        lambda: (
            plane.host.get(
                "coordination.k8s.io/v1", "Lease", "kube-federation-system", "kubefed-controller-manager"
            )["spec"]["holderIdentity"]
            == "replica-b"
        ),
        60,
        what="standby took the lease",
    )
    plane.host.create(federated("ConfigMap", ns, "after-failover", {"data": {"a": "b"}}))
    eventually(lambda: plane.member("member2").get("v1", "ConfigMap", ns, "after-failover"), 60)
    assert metric(ctl.get(standby_port, "/metrics"), "kubefed_leader") == 1


def test_unjoin_remove_resources_deletes_only_managed_then_rejoin(plane: Plane, ns: str) -> None:
    from tests.e2e.conftest import kubefed

    plane.host.create(federated("ConfigMap", ns, "managed", {"data": {"a": "b"}}))
    m2 = plane.member("member2")
    eventually(lambda: m2.get("v1", "ConfigMap", ns, "managed"), 60)
    m2.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "theirs", "namespace": ns}})
    res = kubefed(
        plane.kubeconfig,
        "unjoin",
        "member2",
        "--remove-resources",
        "--host-cluster-context",
        plane.host_context,
    )
    assert "deleted" in res.stdout
    assert plane.get_or_none("member2", "v1", "ConfigMap", ns, "managed") is None
    assert plane.get_or_none("member2", "v1", "ConfigMap", ns, "theirs") is not None
    ns_obj = m2.get("v1", "Namespace", "", ns)  # namespaces are unlabelled, never deleted
    assert "kubefed.io/managed" not in (ns_obj["metadata"].get("labels") or {})
    assert (
        plane.get_or_none(
            "host", "core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "member2"
        )
        is None
    )
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "managed", {"host", "member1"}), 60)
    kubefed(
        plane.kubeconfig,
        "join",
        "member2",
        "--cluster-context",
        "member2",
        "--host-cluster-context",
        plane.host_context,
    )
    eventually(lambda: m2.get("v1", "ConfigMap", ns, "managed"), 90, what="member2 rejoined and caught up")
