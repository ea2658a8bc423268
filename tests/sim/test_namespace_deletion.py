"""Deleting a FederatedNamespace never deletes objects kubefed does not manage: a member
namespace that holds any is kept (unlabelled), and the status and an event say so."""

from __future__ import annotations

from typing import Any

from tests.sim.helpers import cm, fed_configmap, fed_namespace, fleet, with_app

FED_NS = ("types.kubefed.io/v1beta1", "FederatedNamespace", "shop", "shop")


def _user_cm(name: str = "user-data", **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "shop", **meta},
        "data": {"precious": "yes"},
    }


def _ns(f: Any, cluster: str) -> dict[str, Any] | None:
    result: dict[str, Any] | None = f.member_object(cluster, "v1", "Namespace", "", "shop")
    return result


def test_member_namespace_with_unmanaged_objects_is_kept() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.apply([_user_cm()], cluster="c1")
    f.delete(*FED_NS)
    assert f.manager.controllers["namespaces"].process_one()  # the first pass: kept, reported
    fed = f.host_server.get(*FED_NS)
    entries = {c["name"]: c for c in fed["status"]["clusters"]}
    assert entries["c1"]["status"] == "UnmanagedObjectsInNamespace"
    assert 'ConfigMap "user-data"' in entries["c1"]["message"]
    assert "c2" not in entries or entries["c2"].get("status") != "UnmanagedObjectsInNamespace"
    assert any(e.reason == "UnmanagedObjectsInNamespace" and e.type == "Warning" for e in f.recorder.events)
    assert f.settle()
    # The federated object is gone; c1 keeps its namespace (no longer managed) and the
    # user's object; the other members lose theirs as before.
    assert f.host_server.list(*FED_NS[:2], "shop")[0] == []
    kept = _ns(f, "c1")
    assert kept is not None and not kept["metadata"].get("deletionTimestamp")
    assert "kubefed.io/managed" not in (kept["metadata"].get("labels") or {})
    assert cm(f, "c1", "user-data") is not None
    assert _ns(f, "c2") is None and _ns(f, "c3") is None


def test_managed_owned_and_generated_objects_do_not_keep_a_namespace() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    owner = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "cfg", "uid": "x"}]
    f.apply(
        [_user_cm("made-by-a-controller", ownerReferences=owner), _user_cm("kube-root-ca.crt")], cluster="c1"
    )
    f.delete(*FED_NS)
    assert f.settle()
    assert _ns(f, "c1") is None  # only managed (cfg), owned and Kubernetes-made objects were there


def test_a_namespace_removed_from_placement_is_kept_too() -> None:
    f = fleet()
    with_app(f)
    f.apply([_user_cm()], cluster="c2")
    f.apply([fed_namespace(placement={"clusters": [{"name": "c1"}]})])
    assert f.settle()
    assert _ns(f, "c2") is not None and cm(f, "c2", "user-data") is not None
    assert _ns(f, "c3") is None


def test_an_unreadable_namespace_is_not_deleted_and_retried() -> None:
    f = fleet()
    with_app(f)
    f.apply([_user_cm()], cluster="c1")
    f.set_faults("c1", error_rate=1.0, verbs=["list"])
    f.delete(*FED_NS)
    f.settle(max_seconds=5)
    fed = f.host_server.get(*FED_NS)
    entries = {c["name"]: c for c in fed["status"]["clusters"]}
    assert entries["c1"]["status"] == "RetrievalFailed"
    assert "cannot tell whether" in entries["c1"]["message"]
    assert _ns(f, "c1") is not None
    f.set_faults("c1", error_rate=0)
    assert f.settle()
    assert cm(f, "c1", "user-data") is not None
    assert f.host_server.list(*FED_NS[:2], "shop")[0] == []
