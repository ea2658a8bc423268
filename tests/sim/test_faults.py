"""Failures: injected errors, latency, offline clusters, a member missing a type, watches."""

from __future__ import annotations

from tests.sim.helpers import cluster_statuses, cm, condition, fed_configmap, fleet, with_app


def test_injected_create_errors_retry_with_backoff_until_success() -> None:
    f = fleet(seed=3)
    with_app(f)
    f.set_faults("c2", error_rate=1.0, verbs=["create"])
    f.apply([fed_configmap()])
    assert not f.settle(max_seconds=120)  # keeps retrying
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "CreationFailed"
    assert cm(f, "c1") is not None and cm(f, "c2") is None
    creates = f.views["c2"].requests["create"]
    f.advance(200)
    retries = f.views["c2"].requests["create"] - creates
    assert 2 <= retries <= 6  # back-off: 5, 10, 20, 40, 60 s...
    f.set_faults("c2", error_rate=0)
    assert f.settle()
    assert cm(f, "c2") is not None
    assert condition(f, "FederatedConfigMap", "cfg") == ("True", "")


def test_update_and_delete_failures_are_reported() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.set_faults("c1", error_rate=1.0, verbs=["update"])
    f.set_faults("c3", error_rate=1.0, verbs=["delete"])
    f.apply([fed_configmap(data={"k": "new"}, placement={"clusters": [{"name": "c1"}, {"name": "c2"}]})])
    f.settle(max_seconds=60)
    statuses = cluster_statuses(f, "FederatedConfigMap", "cfg")
    assert statuses == {"c1": "UpdateFailed", "c2": "", "c3": "DeletionFailed"}
    f.set_faults("c1", error_rate=0)
    f.set_faults("c3", error_rate=0)
    assert f.settle()
    assert cluster_statuses(f, "FederatedConfigMap", "cfg") == {"c1": "", "c2": ""}
    assert cm(f, "c3") is None


def test_latency_beyond_dispatch_timeout_is_timed_out_then_ok() -> None:
    f = fleet()
    with_app(f)
    f.set_faults("c1", latency=35.0)
    f.apply([fed_configmap()])
    f.settle(max_seconds=60)
    # The create went through but too slowly; retries then time out on the update path.
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c1"] in ("CreationTimedOut", "UpdateTimedOut")
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == ""
    f.set_faults("c1", latency=0.0)
    assert f.settle()
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c1"] == ""


def test_member_without_the_type_does_not_stop_the_others() -> None:
    f = fleet()
    f.servers["c2"].faults.missing_kinds.add("/ConfigMap")
    f.restart_controllers()
    with_app(f)
    f.apply([fed_configmap()])
    f.settle(max_seconds=120)
    assert cm(f, "c1") is not None and cm(f, "c3") is not None
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "TypeNotServed"
    message = next(
        c
        for c in f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")["status"][
            "clusters"
        ]
        if c["name"] == "c2"
    )["message"]
    assert message == "waiting for v1 ConfigMap to be served in cluster c2"
    f.servers["c2"].faults.missing_kinds.clear()  # the type gets installed
    assert f.settle()
    assert f.servers["c2"].get("v1", "ConfigMap", "shop", "cfg")["data"] == {"k": "v"}


def test_watch_disconnect_loses_no_change() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.disconnect_watches("c1")
    live = f.servers["c1"].get("v1", "ConfigMap", "shop", "cfg")
    live["data"] = {"k": "drift"}
    f.servers["c1"].update(live)
    assert f.settle()
    assert cm(f, "c1")["data"] == {"k": "v"}  # type: ignore[index]


def test_flapping_cluster_is_damped() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.advance(30)
    # Ready for many probes: the first failed probe marks it not ready.
    f.set_ready("c2", False)
    f.advance(10)
    assert not f.ready("c2")
    # Just became ready again: one failed probe is not enough to flip it back.
    f.set_ready("c2", True)
    f.advance(10)
    assert f.ready("c2")
    f.set_ready("c2", False)
    f.advance(10)
    assert f.ready("c2")
    f.advance(20)
    assert not f.ready("c2")


def test_offline_cluster_health_conditions() -> None:
    f = fleet()
    f.set_ready("c3", False)
    assert f.settle()
    kfc = f.host_server.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "c3")
    types = {c["type"]: c for c in kfc["status"]["conditions"]}
    assert types["Offline"]["status"] == "True"
    assert types["Offline"]["reason"] == "ClusterNotReachable"
    assert "kubernetesVersion" not in kfc["status"]
    ok = f.host_server.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "c1")
    assert ok["status"]["kubernetesVersion"] == "v1.34.4"
    assert ok["status"]["conditions"][0]["reason"] == "ClusterReady"


def test_missing_secret_is_config_malformed() -> None:
    f = fleet()
    f.host_server.delete("v1", "Secret", "kube-federation-system", "c2-token")
    kfc = f.host_server.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "c2")
    kfc["spec"]["apiEndpoint"] = "sim://c2"  # touch nothing; force a client rebuild via a label
    kfc["metadata"]["labels"]["rebuild"] = "1"
    f.host_server.update(kfc)
    f.set_labels("c2", {"rebuild": "2"})
    assert f.settle()
    kfc = f.host_server.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "c2")
    assert kfc["status"]["conditions"][0]["type"] == "ConfigMalformed"
    assert not f.ready("c2")
