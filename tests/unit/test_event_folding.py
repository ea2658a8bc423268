"""Events of one reconcile folded into one host Event per object, type and reason; a
repeated Event bumped with one update (issue 16)."""

from __future__ import annotations

import random
from typing import Any

from kubectl_kubefed.kube.events import HostRecorder
from kubectl_kubefed.sync.clock import VirtualClock
from kubectl_kubefed.sync.events import EventBatch, MemoryRecorder, fold, fold_messages
from simulator.apiserver import ApiServer, ClientView


def fed(name: str = "cm", uid: str = "u1") -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": name, "namespace": "shop", "uid": uid},
        "spec": {"template": {"data": {"big": "x" * 100}}},
    }


def creating(cluster: str) -> str:
    return f'Creating ConfigMap "shop/cm" in cluster "{cluster}"'


def test_messages_that_differ_by_cluster_name_the_clusters() -> None:
    assert fold_messages([creating("a")]) == creating("a")
    assert (
        fold_messages([creating("a"), creating("b")]) == 'Creating ConfigMap "shop/cm" in clusters "a", "b"'
    )
    assert fold_messages([creating("a"), creating("a")]) == creating("a")
    assert fold_messages(["x", "y", "x"]) == "x; y"
    assert fold_messages([creating("a"), "other"]) == f"{creating('a')}; other"


def test_fold_groups_by_object_type_and_reason_in_first_seen_order() -> None:
    a, b = fed("cm", "u1"), fed("other", "u2")
    items = [
        (a, "Normal", "CreateInCluster", creating("c1")),
        (a, "Warning", "CreateInClusterFailed", "boom"),
        (b, "Normal", "CreateInCluster", "x"),
        (a, "Normal", "CreateInCluster", creating("c2")),
    ]
    folded = fold(items)
    assert [(f[0]["metadata"]["name"], f[2], f[4]) for f in folded] == [
        ("cm", "CreateInCluster", 2),
        ("cm", "CreateInClusterFailed", 1),
        ("other", "CreateInCluster", 1),
    ]
    assert folded[0][3] == 'Creating ConfigMap "shop/cm" in clusters "c1", "c2"'


def test_a_batch_keeps_every_event_in_memory_and_hands_them_over_at_flush() -> None:
    memory = MemoryRecorder(VirtualClock())
    batch = EventBatch(memory)
    batch.event(fed(), "Normal", "CreateInCluster", creating("c1"))
    batch.event(fed(), "Normal", "CreateInCluster", creating("c2"))
    assert not memory.events
    batch.flush()
    assert [e.message for e in memory.events] == [creating("c1"), creating("c2")]
    batch.flush()
    assert len(memory.events) == 2


def test_host_recorder_writes_one_event_per_reason_and_bumps_repeats_without_reading() -> None:
    clock = VirtualClock()
    server = ApiServer("host", clock, random.Random(0))
    server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    view = ClientView(server)
    recorder = HostRecorder(view, clock, background=False, policy="all")
    batch = EventBatch(recorder)
    for cluster in ("c1", "c2", "c3"):
        batch.event(fed(), "Normal", "CreateInCluster", creating(cluster))
    batch.flush()
    events = [o for o in server.objects() if o.get("kind") == "Event"]
    assert len(events) == 1 and view.requests["create"] == 1
    event = events[0]
    assert event["count"] == 3 and event["reason"] == "CreateInCluster"
    assert event["message"] == 'Creating ConfigMap "shop/cm" in clusters "c1", "c2", "c3"'
    assert event["involvedObject"] == {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "name": "cm",
        "namespace": "shop",
        "uid": "u1",
    }
    assert len(recorder.events) == 3  # in memory: each one
    for _ in range(2):
        recorder.event(fed(), "Warning", "ClusterNotReady", 'Cluster "c1" is not ready')
    assert view.requests["create"] == 2 and view.requests["update"] == 1 and view.requests["get"] == 0
    warning = next(o for o in server.objects() if o.get("reason") == "ClusterNotReady")
    assert warning["count"] == 2
    # deleted meanwhile (e.g. by the API server's TTL): written again
    server.delete("v1", "Event", "shop", warning["metadata"]["name"])
    recorder.event(fed(), "Warning", "ClusterNotReady", 'Cluster "c1" is not ready')
    again = [o for o in server.objects() if o.get("reason") == "ClusterNotReady"]
    assert len(again) == 1 and again[0]["count"] == 1


def test_events_about_cluster_scoped_objects_go_to_default() -> None:
    """The API server refuses an Event whose involvedObject has no namespace unless the Event
    is in "default" (or none): not in the KubeFed namespace."""
    clock = VirtualClock()
    server = ApiServer("host", clock, random.Random(0))
    view = ClientView(server)
    recorder = HostRecorder(view, clock, background=False, policy="all")
    role = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedClusterRole",
        "metadata": {"name": "view", "uid": "u2"},
    }
    recorder.event(role, "Normal", "CreateInCluster", 'Creating ClusterRole "view" in cluster "c1"')
    (event,) = [o for o in server.objects() if o.get("kind") == "Event"]
    assert event["metadata"]["namespace"] == "default"
    assert event["involvedObject"]["namespace"] == ""


def test_which_events_each_policy_writes_to_the_host() -> None:
    from kubectl_kubefed.sync.events import written_to_host

    new = {"metadata": {"name": "a"}}
    rolled_out = {"metadata": {"name": "a"}, "status": {"observedGeneration": 1}}
    deleting = {"metadata": {"name": "a", "deletionTimestamp": "t"}, "status": {"observedGeneration": 1}}
    cases = [
        # object, type, reason: all, changes, warnings
        (new, "Normal", "CreateInCluster", (True, False, False)),
        (rolled_out, "Normal", "CreateInCluster", (True, True, False)),  # re-created: drift
        (rolled_out, "Normal", "UpdateInCluster", (True, True, False)),
        (rolled_out, "Normal", "DeleteInCluster", (True, True, False)),  # placement changed
        (deleting, "Normal", "DeleteInCluster", (True, False, False)),
        (deleting, "Normal", "WaitForRemovalInCluster", (True, True, False)),
        (new, "Warning", "CreateInClusterFailed", (True, True, True)),
        (deleting, "Warning", "DeleteInClusterFailed", (True, True, True)),
    ]
    for obj, type_, reason, expected in cases:
        got = tuple(written_to_host(p, obj, type_, reason) for p in ("all", "changes", "warnings"))
        assert got == expected, (obj, reason)
