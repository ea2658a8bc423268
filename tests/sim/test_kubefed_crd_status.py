"""A federated CRD KubeFed installed has no ``status.clusters[].message``: the status is
written without messages there (the API server would prune them, and every status would
look stale, so each start rewrote the status of every failing object)."""

from __future__ import annotations

import copy
from typing import Any

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.propagation_status import crd_keeps_cluster_messages
from kubectl_kubefed.sync.settings import Settings
from simulator.fleet import Fleet
from tests.sim.helpers import CLUSTERS, fed_configmap, fed_status, with_app


def kubefed_crd(t: tc.TypeConfig) -> dict[str, Any]:
    """Our federated CRD with KubeFed's status schema: clusters[] items name, status, remoteStatus."""
    crd = copy.deepcopy(tc.federated_crd(t))
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    del schema["properties"]["status"]["properties"]["clusters"]["items"]["properties"]["message"]
    return crd


def test_crd_schema_decides_whether_messages_are_kept() -> None:
    t = tc.lookup("configmaps")
    assert crd_keeps_cluster_messages(tc.federated_crd(t), "v1beta1")
    assert not crd_keeps_cluster_messages(kubefed_crd(t), "v1beta1")
    open_status = copy.deepcopy(kubefed_crd(t))
    props = open_status["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    props["status"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    assert crd_keeps_cluster_messages(open_status, "v1beta1")
    assert crd_keeps_cluster_messages(tc.federated_crd(t), "v2")  # no such version: keep


def _fleet(crd_of: Any) -> Fleet:
    f = Fleet(CLUSTERS)
    for name in ("namespaces", "configmaps"):
        t = tc.lookup(name)
        f.apply([crd_of(t), tc.type_config_object(t, f.settings.namespace)])
    assert f.settle()
    return f


def test_status_has_no_message_on_a_kubefed_crd_and_is_not_rewritten() -> None:
    f = _fleet(kubefed_crd)
    f.set_ready("c2", False)
    f.settle(max_seconds=120)
    with_app(f, fed_configmap())
    clusters = {c["name"]: c for c in fed_status(f, "FederatedConfigMap", "cfg")["clusters"]}
    assert clusters["c2"]["status"] == "ClusterNotReady"
    assert "message" not in clusters["c2"]
    rv = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")["metadata"][
        "resourceVersion"
    ]
    controller = f.manager.controllers["configmaps"]
    controller.enqueue_all()
    while controller.process_one():
        pass
    after = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert after["metadata"]["resourceVersion"] == rv  # no status rewrite


def test_our_crd_keeps_the_message() -> None:
    f = _fleet(tc.federated_crd)
    f.set_ready("c2", False)
    f.settle(max_seconds=120)
    with_app(f, fed_configmap())
    clusters = {c["name"]: c for c in fed_status(f, "FederatedConfigMap", "cfg")["clusters"]}
    assert clusters["c2"]["status"] == "ClusterNotReady"
    assert clusters["c2"].get("message")


def test_pruning_is_learnt_from_a_write_when_the_crd_cannot_be_read() -> None:
    f = _fleet(tc.federated_crd)  # the CRD says "kept", the server prunes anyway
    host = f.manager.host
    real_update_status = host.update_status

    def pruning(obj: dict[str, Any]) -> dict[str, Any]:
        obj = copy.deepcopy(obj)
        for c in (obj.get("status") or {}).get("clusters") or []:
            c.pop("message", None)
        return real_update_status(obj)

    host.update_status = pruning  # type: ignore[method-assign,assignment]
    f.set_ready("c2", False)
    f.settle(max_seconds=120)
    with_app(f, fed_configmap())
    controller = f.manager.controllers["configmaps"]
    assert not controller.status_messages
    rv = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")["metadata"][
        "resourceVersion"
    ]
    controller.enqueue_all()
    while controller.process_one():
        pass
    after = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert after["metadata"]["resourceVersion"] == rv


def test_push_reconciler_disabled_propagates_nothing() -> None:
    f = Fleet(CLUSTERS, settings=Settings(feature_gates={"PushReconciler": False}))
    for name in ("namespaces", "configmaps"):
        f.enable(name)
    assert f.settle()
    assert f.manager.controllers == {}
    with_app(f, fed_configmap())
    assert f.member_object("c1", "v1", "ConfigMap", "shop", "cfg") is None
