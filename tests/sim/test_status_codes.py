"""Per-cluster status codes the simulator can provoke, beyond the common ones."""

from __future__ import annotations

from tests.sim.helpers import cluster_statuses, cm, fed_configmap, fleet, with_app


def test_waiting_for_removal_while_member_finalizer_holds() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    live = f.servers["c2"].get("v1", "ConfigMap", "shop", "cfg")
    live["metadata"]["finalizers"] = ["example.com/hold"]
    f.servers["c2"].update(live)
    f.apply([fed_configmap(placement={"clusters": [{"name": "c1"}, {"name": "c3"}]})])
    f.settle(max_seconds=60)
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "WaitingForRemoval"
    live = f.servers["c2"].get("v1", "ConfigMap", "shop", "cfg")
    live["metadata"]["finalizers"] = []
    f.servers["c2"].update(live)
    assert f.settle()
    assert "c2" not in cluster_statuses(f, "FederatedConfigMap", "cfg")


def test_retrieval_failed_when_existing_object_cannot_be_read() -> None:
    f = fleet()
    with_app(f)
    f.apply(
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop"}}],
        cluster="c1",
    )
    f.set_faults("c1", error_rate=1.0, verbs=["get"])
    f.apply([fed_configmap()])
    # One reconcile, before the next health probe (which would also fail to read the
    # cluster ID and take c1 offline).
    assert f.manager.controllers["configmaps"].process_one()
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c1"] == "RetrievalFailed"


def test_label_removal_failed_on_orphaning_is_retried() -> None:
    f = fleet()
    with_app(f, fed_configmap(meta={"annotations": {"kubefed.io/orphan": "true"}}))
    f.set_faults("c3", error_rate=1.0, verbs=["update"])
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    f.settle(max_seconds=60)
    assert "kubefed.io/managed" in cm(f, "c3")["metadata"]["labels"]  # type: ignore[index]
    f.set_faults("c3", error_rate=0)
    assert f.settle()
    assert "kubefed.io/managed" not in cm(f, "c3")["metadata"].get("labels", {})  # type: ignore[index]


def test_deletion_timed_out_becomes_waiting_then_clears() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.set_faults("c2", latency=40.0)
    f.apply([fed_configmap(placement={"clusters": [{"name": "c1"}]})])
    assert f.manager.controllers["configmaps"].process_one()  # exactly one reconcile
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "DeletionTimedOut"
    f.set_faults("c2", latency=0.0)
    assert f.settle()
    assert cm(f, "c2") is None


def test_cluster_scoped_types_use_cluster_propagated_version() -> None:
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    f.apply(
        [
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedClusterRole",
                "metadata": {"name": "reader"},
                "spec": {
                    "template": {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]},
                    "placement": {"clusterSelector": {}},
                },
            }
        ]
    )
    assert f.settle()
    role = f.member_object("c2", "rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader")
    assert role is not None and role["rules"][0]["verbs"] == ["get"]
    cpv = f.host_server.get("core.kubefed.io/v1alpha1", "ClusterPropagatedVersion", "", "clusterrole-reader")
    assert len(cpv["status"]["clusterVersions"]) == 3
