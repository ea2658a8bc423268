"""The host request budget of a federated object (issue 16), counted, never timed.

Steady creation: the finalizer (an update of the object), its status and the
PropagatedVersion (one create: ``init``'s CRD has no status subresource); no Event, as
the first rollout is what the status reports (``--events=changes``). Deletion: the
finalizer's removal; no status write, no Event, no host read, and no member read either
(the member caches saw the objects go). ``--events=all`` (KubeFed's) adds one Event per
object for the creates in every cluster, and one for the deletes.
"""

from __future__ import annotations

from typing import Any

from kubectl_kubefed.core.crds import kubefed_crds
from kubectl_kubefed.kube.events import HostRecorder
from kubectl_kubefed.sync.events import EVENTS_ALL, EVENTS_CHANGES
from simulator.apiserver import ClientView
from simulator.fleet import Fleet
from tests.sim.helpers import TYPES, cm, fed_configmap, with_app

CREATION_BUDGET = 3  # finalizer, status, PropagatedVersion create
DELETION_BUDGET = 1  # finalizer removal
FED_API = "types.kubefed.io/v1beta1"


class EventsFleet(Fleet):
    """Events written to the simulated host as the controller writes them, counted apart."""

    policy = EVENTS_CHANGES

    def _start_control_plane(self) -> None:
        if not hasattr(self, "events_view"):
            self.events_view = ClientView(self.host_server, "events")
            self.recorder = HostRecorder(self.events_view, self.clock, background=False, policy=self.policy)
        super()._start_control_plane()


class KubeFedEventsFleet(EventsFleet):
    policy = EVENTS_ALL


def events_fleet(clusters: int, fleet: type[EventsFleet] = EventsFleet) -> EventsFleet:
    f = fleet([{"name": f"c{i + 1}"} for i in range(clusters)])
    for t in TYPES:
        f.enable(t)
    assert f.settle()
    return f


def host_requests(f: EventsFleet) -> dict[str, int]:
    counts = {f"host {verb}": n for verb, n in f.host.requests.items()}
    counts.update({f"events {verb}": n for verb, n in f.events_view.requests.items()})
    return counts


def spent(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def member_requests(f: Fleet, verb: str) -> int:
    return sum(v.requests.get(verb, 0) for v in f.views.values())


def test_host_requests_per_federated_object_in_steady_creation_and_deletion() -> None:
    n = 12
    for clusters in (2, 5):
        f = events_fleet(clusters)
        with_app(f)
        before = host_requests(f)
        f.apply([fed_configmap(f"cm-{i}") for i in range(n)])
        assert f.settle()
        created = spent(before, host_requests(f))
        assert all(cm(f, f"c{c + 1}", f"cm-{i}") for c in range(clusters) for i in range(n))
        assert sum(created.values()) <= CREATION_BUDGET * n, created
        assert not created.get("events create") and not created.get("events update"), created
        assert not created.get("host get") and not created.get("host list"), created
        statuses = f.host.status_updates
        assert statuses["FederatedConfigMap"] >= n and not statuses.get("PropagatedVersion")
        version = f.host_server.get("core.kubefed.io/v1alpha1", "PropagatedVersion", "shop", "configmap-cm-0")
        assert len(version["status"]["clusterVersions"]) == clusters  # recorded by the create
        # in memory (and so for every test that reads events), one per cluster as before
        assert sum(1 for e in f.recorder.events if e.reason == "CreateInCluster" and e.name == "cm-0") == (
            clusters
        )

        before, gets = host_requests(f), member_requests(f, "get")
        for i in range(n):
            f.delete(FED_API, "FederatedConfigMap", "shop", f"cm-{i}")
        assert f.settle()
        deleted = spent(before, host_requests(f))
        assert not [o for o in f.federated_objects() if o["kind"] == "FederatedConfigMap"]
        assert not any(cm(f, f"c{c + 1}", f"cm-{i}") for c in range(clusters) for i in range(n))
        assert sum(deleted.values()) <= DELETION_BUDGET * n, deleted
        assert not deleted.get("host get"), deleted
        assert member_requests(f, "get") == gets  # confirmed through the caches


def test_kubefeds_events_take_one_write_per_object_for_the_creates_in_every_cluster() -> None:
    n = 6
    f = events_fleet(3, KubeFedEventsFleet)
    with_app(f)
    before = host_requests(f)
    f.apply([fed_configmap(f"cm-{i}") for i in range(n)])
    assert f.settle()
    created = spent(before, host_requests(f))
    assert created.get("events create") == n, created  # one per object, whatever the cluster count
    assert sum(created.values()) <= (CREATION_BUDGET + 1) * n, created
    event = next(
        e
        for e in f.host_server.objects()
        if e.get("kind") == "Event" and e["involvedObject"]["name"] == "cm-0"
    )
    assert event["reason"] == "CreateInCluster" and event["count"] == 3
    assert event["message"] == 'Creating ConfigMap "shop/cm-0" in clusters "c1", "c2", "c3"'
    before = host_requests(f)
    for i in range(n):
        f.delete(FED_API, "FederatedConfigMap", "shop", f"cm-{i}")
    assert f.settle()
    deleted = spent(before, host_requests(f))
    assert deleted.get("events create") == n and sum(deleted.values()) <= (DELETION_BUDGET + 1) * n, deleted


def test_changes_to_a_rolled_out_object_are_still_written_as_events() -> None:
    """``--events=changes`` leaves out only the first rollout and a deleted object's
    member deletions: a re-creation (drift), an update and a deletion by placement are
    written, and so is every Warning."""
    f = events_fleet(2)
    with_app(f, fed_configmap())
    written = lambda: [  # noqa: E731
        (e["reason"], e["message"]) for e in f.host_server.objects() if e.get("kind") == "Event"
    ]
    assert written() == []
    f.servers["c1"].delete("v1", "ConfigMap", "shop", "cfg")  # drift: somebody deleted it
    assert f.settle()
    assert cm(f, "c1") is not None
    assert ("CreateInCluster", 'Creating ConfigMap "shop/cfg" in cluster "c1"') in written()
    f.apply([fed_configmap(data={"k": "changed"})])
    assert f.settle()
    assert any(reason == "UpdateInCluster" for reason, _ in written())
    f.apply([fed_configmap(placement={"clusters": [{"name": "c2"}]})])
    assert f.settle()
    assert cm(f, "c1") is None
    assert ("DeleteInCluster", 'Deleting ConfigMap "shop/cfg" in cluster "c1"') in written()


def hold(f: Fleet, cluster: str, name: str, finalizers: list[str]) -> None:
    live = f.servers[cluster].get("v1", "ConfigMap", "shop", name)
    live["metadata"]["finalizers"] = finalizers
    f.servers[cluster].update(live)


def test_deletion_goes_on_when_the_member_object_goes_not_at_the_recheck() -> None:
    f = events_fleet(2)
    with_app(f, fed_configmap())
    hold(f, "c2", "cfg", ["example.com/hold"])
    recheck = f.settings.recheck_delay
    start = f.clock.now()
    f.delete(FED_API, "FederatedConfigMap", "shop", "cfg")
    f.advance(1.0)
    assert cm(f, "c1") is None
    held = cm(f, "c2")
    assert held is not None and held["metadata"].get("deletionTimestamp")
    fed = f.host_server.get(FED_API, "FederatedConfigMap", "shop", "cfg")
    # still there, and it says why (KubeFed's reason, KubeFed's per-cluster status)
    assert {c["name"]: c.get("status") for c in fed["status"]["clusters"]}["c2"] == "WaitingForRemoval"
    assert "WaitForRemovalInCluster" in f.recorder.reasons()
    hold(f, "c2", "cfg", [])  # the member's own controller lets go
    f.advance(0.5)
    gone: Any = [o for o in f.federated_objects() if o["kind"] == "FederatedConfigMap"]
    assert not gone
    assert f.clock.now() - start < recheck  # not held until a recheck


def test_deletion_of_plain_objects_takes_as_long_as_their_creation_in_virtual_time() -> None:
    f = events_fleet(3)
    with_app(f)
    for cluster in f.servers:
        f.set_faults(cluster, latency=0.01)  # every member request takes 10 ms
    assert f.settle()
    start = f.clock.now()
    f.apply([fed_configmap(f"cm-{i}") for i in range(10)])
    assert f.settle()
    creation = f.clock.now() - start
    start = f.clock.now()
    for i in range(10):
        f.delete(FED_API, "FederatedConfigMap", "shop", f"cm-{i}")
    assert f.settle()
    deletion = f.clock.now() - start
    assert not [o for o in f.federated_objects() if o["kind"] == "FederatedConfigMap"]
    # the members of one object are asked concurrently, and nothing is read back
    assert deletion <= creation + 1e-6, (deletion, creation)


def test_kubefeds_version_crd_with_the_status_subresource_takes_two_writes_per_version_object() -> None:
    """KubeFed's PropagatedVersion CRD has the status subresource (a create drops the
    status: a second write records it); ours has not. A host that still has KubeFed's
    CRD works, at one more write per version object."""
    f = EventsFleet([{"name": "c1"}, {"name": "c2"}])
    crd = next(c for c in kubefed_crds() if c["metadata"]["name"] == "propagatedversions.core.kubefed.io")
    for version in crd["spec"]["versions"]:
        version["subresources"] = {"status": {}}
    f.host_server.create(crd)
    for t in TYPES:
        f.enable(t)
    assert f.settle()
    with_app(f)
    n = 6
    before, version_statuses = host_requests(f), f.host.status_updates["PropagatedVersion"]
    f.apply([fed_configmap(f"cm-{i}") for i in range(n)])
    assert f.settle()
    created = spent(before, host_requests(f))
    assert sum(created.values()) == (CREATION_BUDGET + 1) * n, created
    assert f.host.status_updates["PropagatedVersion"] - version_statuses == n
    version = f.host_server.get("core.kubefed.io/v1alpha1", "PropagatedVersion", "shop", "configmap-cm-0")
    assert {v["clusterName"] for v in version["status"]["clusterVersions"]} == {"c1", "c2"}
    f.apply([fed_configmap("cm-0", data={"k": "changed"})])
    assert f.settle()
    assert cm(f, "c1", "cm-0")["data"] == {"k": "changed"}  # type: ignore[index]
    updated = f.host_server.get("core.kubefed.io/v1alpha1", "PropagatedVersion", "shop", "configmap-cm-0")
    assert updated["status"]["templateVersion"] != version["status"]["templateVersion"]
    assert not [m for level, m in f.logs if "recording versions" in m]


def test_after_a_restart_versions_are_updated_in_one_write_without_the_status_subresource() -> None:
    """A controller that starts on existing version objects learns that ``init``'s CRD has
    no status subresource from its first update, not from a create."""
    f = events_fleet(2)
    with_app(f, fed_configmap("cm-0"), fed_configmap("cm-1"))
    f.restart_controllers()
    assert f.settle()
    statuses = f.host.status_updates.get("PropagatedVersion", 0)
    f.apply([fed_configmap("cm-0", data={"k": "changed"}), fed_configmap("cm-1", data={"k": "changed"})])
    assert f.settle()
    assert cm(f, "c2", "cm-1")["data"] == {"k": "changed"}  # type: ignore[index]
    for name in ("cm-0", "cm-1"):
        version = f.host_server.get(
            "core.kubefed.io/v1alpha1", "PropagatedVersion", "shop", f"configmap-{name}"
        )
        fed = f.host_server.get(FED_API, "FederatedConfigMap", "shop", name)
        assert version["status"]["clusterVersions"] and fed["status"]["clusters"]
    assert f.host.status_updates.get("PropagatedVersion", 0) == statuses
    assert not [m for level, m in f.logs if "recording versions" in m]

    # and once more: the versions it recorded are current, nothing is rewritten
    def versions() -> list[str]:
        return [
            o["metadata"]["resourceVersion"]
            for o in f.host_server.objects()
            if o.get("kind") in ("PropagatedVersion", "FederatedConfigMap")
        ]

    before = versions()
    f.restart_controllers()
    assert f.settle()
    assert versions() == before
