"""Pull reconciliation on the simulator (issue 13): pull members converge like push members,
nothing is deleted from a member while it is cut off, the agent's Lease decides health, and
the agent's host identity stays in its namespace.

Convergence is checked against a twin fleet: the same cluster names, labels, objects and
partitions, with every cluster in push mode. Same names keep placement and per-cluster
overrides identical, so the members of the two fleets must hold the same objects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.core import work as wk
from simulator import scenario as sc
from simulator.apiserver import ClientView
from simulator.fleet import Fleet
from tests.conftest import run_cli
from tests.sim.helpers import (
    cluster_statuses,
    cm,
    fed_configmap,
    fed_deployment,
    fed_namespace,
    fed_status,
    fleet,
    namespace,
    with_app,
)

FED = "types.kubefed.io/v1beta1"
KFC = ("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system")
SYNC_FINALIZER = "kubefed.io/sync-controller"
LEASE_TIMEOUT = 40.0
# Lease timeout, the probe period and KubeFed's flap damping: when a silent agent's
# cluster must have been called not ready.
NOT_READY_WITHIN = 100.0
VOLATILE = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


def clusters(*pull: str) -> list[dict[str, Any]]:
    """c1 (eu), c2 (us), c3 (eu); the named ones in pull mode."""
    regions = {"c1": "eu", "c2": "us", "c3": "eu"}
    return [
        {"name": n, "labels": {"region": r}, **({"syncMode": "Pull"} if n in pull else {})}
        for n, r in regions.items()
    ]


def kfc(f: Fleet, name: str) -> dict[str, Any]:
    return f.host_server.get(KFC[0], KFC[1], KFC[2], name)


def conditions(f: Fleet, name: str) -> list[dict[str, Any]]:
    return list((kfc(f, name).get("status") or {}).get("conditions") or [])


def member_writes(f: Fleet, cluster: str) -> int:
    r = f.views[cluster].requests
    return r["create"] + r["update"] + r["delete"]


def normalized(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k not in VOLATILE}
    return {**obj, "metadata": meta}


def managed(f: Fleet, cluster: str) -> dict[tuple[str, str, str], dict[str, Any]]:
    """What the federation put in a member (cluster identity objects left out: random IDs)."""
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): normalized(o)
        for o in f.member_objects(cluster)
        if o["kind"] != "ClusterProperty"
    }


def uids(f: Fleet, cluster: str) -> dict[tuple[str, str, str], str]:
    return {
        (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o["metadata"]["uid"]
        for o in f.member_objects(cluster)
    }


def works(f: Fleet, cluster: str) -> dict[str, str]:
    """Name -> resourceVersion of every Work in a pull cluster's namespace on the host."""
    return {
        o["metadata"]["name"]: o["metadata"]["resourceVersion"]
        for o in f.host_server.objects()
        if o["kind"] == "Work" and o["metadata"].get("namespace") == wk.cluster_namespace(cluster)
    }


def federated(f: Fleet, kind: str, name: str, ns: str = "shop") -> dict[str, Any] | None:
    return next(
        (
            o
            for o in f.federated_objects()
            if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"]["namespace"] == ns
        ),
        None,
    )


def cut_off_until_not_ready(f: Fleet, cluster: str) -> None:
    f.set_connected(cluster, False)
    f.advance(NOT_READY_WITHIN)
    assert not f.ready(cluster)


# -- scenarios --------------------------------------------------------------------------


def _app_steps() -> list[dict[str, Any]]:
    return [
        {"apply": [namespace(), fed_namespace(), fed_configmap()]},
    ]


def test_scenario_pull_cluster_cut_off_keeps_its_object_until_reconnected() -> None:
    data = {
        "clusters": [{"name": "a"}, {"name": "b", "syncMode": "Pull"}],
        "steps": [
            *_app_steps(),
            {"cluster": {"name": "b", "connected": False}},
            {"advance": "2m"},
            {"delete": {"apiVersion": FED, "kind": "FederatedConfigMap", "namespace": "shop", "name": "cfg"}},
            {"cluster": {"name": "b", "connected": True}},
        ],
    }
    results = sc.run(sc.parse(data, "s.yaml", Path(".")))

    def has_cfg(i: int, cluster: str) -> bool:
        objs = results[i].snapshot["clusters"][cluster]["objects"]
        return any(o["kind"] == "ConfigMap" and o["metadata"]["name"] == "cfg" for o in objs)

    assert has_cfg(1, "a") and has_cfg(1, "b")
    assert not results[3].snapshot["clusters"]["b"]["ready"]
    # deleted on the host while b is cut off: gone from a, kept in b, the object waits
    assert not has_cfg(4, "a") and has_cfg(4, "b")
    waiting = [o for o in results[4].snapshot["federated"] if o["kind"] == "FederatedConfigMap"]
    assert waiting and SYNC_FINALIZER in waiting[0]["finalizers"]
    # reconnected: the deletion happens and the federated object goes
    assert not has_cfg(5, "b")
    assert not any(o["kind"] == "FederatedConfigMap" for o in results[5].snapshot["federated"])


def test_scenario_agent_step_stops_and_restarts_the_agent() -> None:
    data = {
        "clusters": [{"name": "a"}, {"name": "b", "syncMode": "Pull"}],
        "steps": [
            *_app_steps(),
            {"agent": {"name": "b", "running": False}},
            {"advance": "2m"},
            {"apply": [fed_configmap(data={"k": "new"})]},
            {"agent": {"name": "b", "running": True}},
        ],
    }
    results = sc.run(sc.parse(data, "s.yaml", Path(".")))
    assert results[2].snapshot["clusters"]["b"]["ready"]
    assert not results[3].snapshot["clusters"]["b"]["ready"]

    def data_in_b(i: int) -> Any:
        objs = results[i].snapshot["clusters"]["b"]["objects"]
        return next(o["data"] for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "cfg")

    assert data_in_b(4) == {"k": "v"}  # nobody applies b's Work while the agent is stopped
    assert results[5].snapshot["clusters"]["b"]["ready"]
    assert data_in_b(5) == {"k": "new"}


def test_scenario_connected_on_a_push_cluster_makes_it_unreachable() -> None:
    data = {
        "clusters": [{"name": "a"}, {"name": "b"}],
        "steps": [
            {"cluster": {"name": "b", "connected": False}},
            {"cluster": {"name": "b", "connected": True}},
        ],
    }
    results = sc.run(sc.parse(data, "s.yaml", Path(".")))
    assert [r.snapshot["clusters"]["b"]["ready"] for r in results] == [True, False, True]


@pytest.mark.parametrize(
    ("clusters_", "step", "message"),
    [
        ([{"name": "a", "syncMode": "pull"}], None, "clusters[1].syncMode must be Push or Pull"),
        ([{"name": "a", "syncMode": True}], None, "clusters[1].syncMode must be Push or Pull"),
        ([{"name": "a" * 50, "syncMode": "Pull"}], None, "a pull cluster's name must make the namespace"),
        ([{"name": "a"}], {"cluster": {"name": "a", "connected": "no"}}, "connected must be true or false"),
        ([{"name": "a"}], {"cluster": {"name": "x", "connected": False}}, "unknown cluster x"),
        ([{"name": "a"}], {"cluster": {"name": "a", "linked": False}}, "does not support linked"),
        ([{"name": "a"}], {"agent": {"name": "a", "running": False}}, "cluster a has no agent"),
        ([{"name": "a", "syncMode": "Pull"}], {"agent": {"name": "a"}}, "running must be true or false"),
        ([{"name": "a", "syncMode": "Pull"}], {"agent": {"name": "a", "running": 1}}, "running must be"),
        ([{"name": "a", "syncMode": "Pull"}], {"agent": "a"}, "agent needs a name"),
        ([{"name": "a", "syncMode": "Pull"}], {"agent": {"name": "b", "running": True}}, "unknown cluster b"),
        (
            [{"name": "a", "syncMode": "Pull"}],
            {"agent": {"name": "a", "running": True, "image": "x"}},
            "agent step does not support image",
        ),
    ],
)
def test_scenario_bad_pull_keys_are_one_line_errors(
    clusters_: list[dict[str, Any]], step: dict[str, Any] | None, message: str
) -> None:
    data = {"clusters": clusters_, "steps": [step] if step else []}
    with pytest.raises(InputError) as err:
        sc.parse(data, "s.yaml", Path("."))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("s.yaml")


def test_scenario_pull_cluster_json_output_through_the_cli(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("""
clusters: [{name: a, syncMode: Push}, {name: b, syncMode: Pull}]
steps:
- agent: {name: b, running: false}
- advance: 2m
- agent: {name: b, running: true}
""")
    res = run_cli("simulate", str(tmp_path / "s.yaml"), "-o", "json", "--every-step")
    assert res.returncode == 0, res.stderr
    states = json.loads(res.stdout)
    # one state per step: the Lease goes stale only after the advance
    assert [s["clusters"]["b"]["ready"] for s in states] == [True, False, True]


# -- convergence: pull members end as push members would --------------------------------

PLACEMENTS = [
    {"clusterSelector": {}},
    {"clusters": [{"name": "c1"}, {"name": "c2"}]},
    {"clusters": [{"name": "c2"}, {"name": "c3"}]},
    {"clusters": [{"name": "c3"}]},
    {"clusters": []},
    {"clusterSelector": {"matchLabels": {"region": "eu"}}},
]
CM_OVERRIDES = [
    [],
    [{"clusterName": "c2", "clusterOverrides": [{"path": "/data/k", "value": "for-c2"}]}],
    [
        {"clusterName": "c3", "clusterOverrides": [{"path": "/data/extra", "op": "add", "value": "e"}]},
        {"clusterName": "c1", "clusterOverrides": [{"path": "/metadata/labels/tier", "value": "one"}]},
    ],
    [{"clusterName": "c2", "clusterOverrides": [{"path": "/metadata/annotations/note", "value": "hi"}]}],
]


def _deployment_overrides(replicas: int) -> list[list[dict[str, Any]]]:
    return [
        [],
        [{"clusterName": "c2", "clusterOverrides": [{"path": "/spec/replicas", "value": replicas + 1}]}],
        [{"clusterName": "c3", "clusterOverrides": [{"path": "/spec/replicas", "value": 0}]}],
    ]


Op = tuple[Any, ...]
edit_cm = st.tuples(
    st.just("cm"),
    st.sampled_from(["a", "b"]),
    st.sampled_from(["v", "w"]),
    st.integers(0, len(PLACEMENTS) - 1),
    st.integers(0, len(CM_OVERRIDES) - 1),
)
edit_deployment = st.tuples(
    st.just("deployment"), st.integers(1, 3), st.integers(0, len(PLACEMENTS) - 1), st.integers(0, 2)
)
delete = st.tuples(
    st.just("delete"),
    st.sampled_from(["FederatedConfigMap:a", "FederatedConfigMap:b", "FederatedDeployment:web"]),
)
partition = st.tuples(st.sampled_from(["cut", "heal"]), st.sampled_from(["c1", "c2", "c3"]))
ops = st.lists(
    st.tuples(st.one_of(edit_cm, edit_deployment, delete, partition), st.sampled_from([0, 5, 30, 90])),
    min_size=1,
    max_size=10,
)


def _run(f: Fleet, op: Op) -> None:
    kind = op[0]
    if kind == "cm":
        _, name, value, placement, overrides = op
        f.apply(
            [
                fed_configmap(
                    name,
                    data={"k": value},
                    placement=PLACEMENTS[placement],
                    overrides=CM_OVERRIDES[overrides],
                )
            ]
        )
    elif kind == "deployment":
        _, replicas, placement, overrides = op
        f.apply(
            [
                fed_deployment(
                    replicas=replicas,
                    placement=PLACEMENTS[placement],
                    overrides=_deployment_overrides(replicas)[overrides],
                )
            ]
        )
    elif kind == "delete":
        fed_kind, name = op[1].split(":")
        if federated(f, fed_kind, name) is not None:
            f.delete(FED, fed_kind, "shop", name)
    else:
        f.set_connected(op[1], kind == "heal")


def _terminating(f: Fleet, op: Op) -> bool:
    kind, name = ("FederatedConfigMap", op[1]) if op[0] == "cm" else ("FederatedDeployment", "web")
    obj = federated(f, kind, str(name))
    return obj is not None and bool(obj["metadata"].get("deletionTimestamp"))


def _twins() -> tuple[Fleet, Fleet]:
    pulls = fleet(clusters=clusters("c2", "c3"))
    pushes = fleet(clusters=clusters())
    for f in (pulls, pushes):
        with_app(f)
    return pulls, pushes


@settings(max_examples=30, deadline=None)
@given(ops)
# deleted and re-applied while a pull cluster that never got it is cut off (fixed in d94636b)
@example(
    [
        (("cut", "c3"), 90),
        (("deployment", 1, 0, 0), 0),
        (("delete", "FederatedDeployment:web"), 0),
        (("deployment", 1, 0, 0), 0),
    ]
)
# a push member cut off and back within a health check (it stays Ready) while the object
# left its placement: its cache came back unchanged, so the deletion had to be retried
@example(
    [
        (("deployment", 1, 0, 0), 0),
        (("delete", "FederatedConfigMap:a"), 0),
        (("cut", "c3"), 0),
        (("deployment", 1, 1, 0), 0),
    ]
)
@example(
    [
        (("deployment", 1, 0, 0), 0),
        (("cm", "a", "v", 0, 0), 0),
        (("cut", "c3"), 0),
        (("delete", "FederatedConfigMap:a"), 0),
        (("heal", "c3"), 0),
        (("cm", "a", "v", 0, 0), 0),
    ]
)
# the same, then the federated object deleted: its managed copy there loses the label
# (push retries until the cache is back; pull's agent unlabels on its orphaned Work)
@example(
    [
        (("deployment", 1, 0, 0), 0),
        (("cut", "c2"), 0),
        (("deployment", 1, 3, 0), 0),
        (("delete", "FederatedDeployment:web"), 0),
    ]
)
def test_pull_members_converge_to_what_push_members_hold(steps: list[tuple[Op, int]]) -> None:
    pulls, pushes = _twins()
    for op, seconds in steps:
        if op[0] in ("cm", "deployment") and any(_terminating(f, op) for f in (pulls, pushes)):
            # An apply to an object still being deleted is lost with it (as kubectl's
            # would be); a push deletion waits for a cut-off member, a pull one does not,
            # so the twins would differ by timing alone.
            continue
        for f in (pulls, pushes):
            _run(f, op)
            f.advance(seconds)
    for f in (pulls, pushes):
        for c in ("c1", "c2", "c3"):
            f.set_connected(c, True)
        assert f.settle()
    for c in ("c1", "c2", "c3"):
        assert managed(pulls, c) == managed(pushes, c), c
    # and the federated objects say the same about every cluster
    for obj in pushes.federated_objects():
        twin = federated(pulls, obj["kind"], obj["metadata"]["name"], obj["metadata"]["namespace"])
        assert twin is not None
        assert twin.get("status", {}).get("clusters") == obj.get("status", {}).get("clusters")
    assert len(pulls.federated_objects()) == len(pushes.federated_objects())


# -- partitions: nothing deleted while cut off --------------------------------------------

NAMES = ["a", "b", "c", "d"]


def _cut_and_change(
    f: Fleet, removed: list[str], moved: list[str], updated: list[str], wait: float
) -> dict[tuple[str, str, str], str]:
    """Cut c2 off, change the host, let time pass; what c2 held at the cut."""
    with_app(f, *(fed_configmap(n) for n in NAMES))
    f.set_connected("c2", False)
    at_cut = uids(f, "c2")
    deletes_at_cut = f.views["c2"].requests["delete"]
    for n in moved:
        f.apply([fed_configmap(n, placement={"clusters": [{"name": "c1"}]})])
    for n in updated:
        if n not in moved:
            f.apply([fed_configmap(n, data={"k": "new"})])
    for n in removed:
        f.delete(FED, "FederatedConfigMap", "shop", n)
    f.advance(wait)
    assert not f.ready("c2")
    assert uids(f, "c2") == at_cut  # every object still there, none re-created
    assert f.views["c2"].requests["delete"] == deletes_at_cut
    for n in removed:  # the push member did as told meanwhile
        assert cm(f, "c1", n) is None
    f.set_connected("c2", True)
    assert f.settle()
    return at_cut


@settings(max_examples=30, deadline=None)
@given(
    removed=st.lists(st.sampled_from(NAMES), unique=True),
    moved=st.lists(st.sampled_from(NAMES), unique=True),
    updated=st.lists(st.sampled_from(NAMES), unique=True),
    wait=st.sampled_from([LEASE_TIMEOUT * 2, 300.0, 900.0]),
)
def test_nothing_is_deleted_from_a_cut_off_pull_member(
    removed: list[str], moved: list[str], updated: list[str], wait: float
) -> None:
    f = fleet(clusters=clusters("c2"))
    at_cut = _cut_and_change(f, removed, moved, updated, wait)
    # After the heal: moved off c2 or deleted, the object goes from c2. Both: the federated
    # object went without waiting (c2 was not placed), so c2's copy is only unlabelled, as
    # push does for a managed object whose federated object is gone.
    both = set(removed) & set(moved)
    gone = (set(removed) | set(moved)) - both
    for n in NAMES:
        obj = cm(f, "c2", n)
        assert (obj is None) == (n in gone), n
        if n in both:
            assert obj is not None and obj["metadata"]["uid"] == at_cut[("ConfigMap", "shop", n)]
            assert "kubefed.io/managed" not in obj["metadata"].get("labels", {})
        elif n not in gone:
            assert obj is not None and obj["data"] == {"k": "new" if n in updated else "v"}
    for n in removed:
        assert federated(f, "FederatedConfigMap", n) is None
    # and exactly what a push member cut off the same way ends with
    twin = fleet(clusters=clusters())
    _cut_and_change(twin, removed, moved, updated, wait)
    assert managed(f, "c2") == managed(twin, "c2")


# -- deletion while cut off waits, orphaning or unjoining releases it ---------------------


@pytest.mark.parametrize("release", ["orphan", "unjoin"])
def test_deleting_while_a_pull_member_is_cut_off_waits_until_released(release: str) -> None:
    f = fleet(clusters=clusters("c2"))
    with_app(f, fed_configmap())
    cut_off_until_not_ready(f, "c2")
    f.delete(FED, "FederatedConfigMap", "shop", "cfg")
    assert not f.settle(max_seconds=300)  # it keeps waiting for c2
    waiting = federated(f, "FederatedConfigMap", "cfg")
    assert waiting is not None and SYNC_FINALIZER in waiting["metadata"]["finalizers"]
    assert waiting["metadata"].get("deletionTimestamp")
    assert cluster_statuses(f, "FederatedConfigMap", "cfg") == {"c2": "ClusterNotReady"}
    assert cm(f, "c1") is None and cm(f, "c2") is not None
    if release == "orphan":
        waiting["metadata"].setdefault("annotations", {})["kubefed.io/orphan"] = "true"
        f.host_server.update(waiting)
    else:
        f.unjoin("c2")
    assert f.settle()
    assert federated(f, "FederatedConfigMap", "cfg") is None
    assert cm(f, "c2") is not None  # released, not deleted
    if release == "orphan":
        f.set_connected("c2", True)
        assert f.settle()
        kept = cm(f, "c2")
        assert kept is not None and kept["metadata"].get("labels", {}).get("kubefed.io/managed") != "true"
        assert wk.work_name(_cm_type(f), "shop", "cfg") not in works(f, "c2")  # let go
    else:
        assert not any(o["kind"] == "Work" for o in f.host_server.objects())


def _cm_type(f: Fleet) -> Any:
    return next(c.target for c in f.manager.controllers.values() if c.target.kind == "ConfigMap")


def test_a_cut_link_stays_cut_across_an_agent_restart() -> None:
    f = fleet(clusters=clusters("c2"))
    with_app(f, fed_configmap())
    f.stop_agent("c2")
    f.set_connected("c2", False)
    f.start_agent("c2")
    assert f.agent_views["c2"].link_down  # the agent's link to the host is what is cut
    assert not f.views["c2"].link_down  # not the member's own API
    f.apply([fed_configmap(data={"k": "new"})])
    f.advance(NOT_READY_WITHIN)
    assert not f.ready("c2")
    assert cm(f, "c2")["data"] == {"k": "v"}  # type: ignore[index]
    f.set_connected("c2", True)
    assert f.settle()
    assert f.ready("c2")
    assert cm(f, "c2")["data"] == {"k": "new"}  # type: ignore[index]


# -- the agent's Lease ------------------------------------------------------------------


def test_a_stopped_agent_makes_its_cluster_not_ready_and_a_restart_converges() -> None:
    f = fleet(clusters=clusters("c2"))
    with_app(f, fed_configmap("a"), fed_configmap("b"), fed_deployment())
    before = uids(f, "c2")
    f.stop_agent("c2")
    f.advance(LEASE_TIMEOUT - 10)
    assert f.ready("c2")  # a Lease younger than the timeout
    f.advance(NOT_READY_WITHIN - (LEASE_TIMEOUT - 10))
    assert not f.ready("c2")
    offline = [c for c in conditions(f, "c2") if c["status"] == "True" and c["type"] == "Offline"]
    assert offline, conditions(f, "c2")
    assert offline[0]["reason"] == "ClusterNotReachable"
    assert "has not renewed its Lease" in offline[0]["message"]
    assert wk.cluster_namespace("c2") in offline[0]["message"]
    assert f.ready("c1") and f.ready("c3")
    # while it is away: one change, one deletion
    f.apply([fed_configmap("a", data={"k": "changed"})])
    f.delete(FED, "FederatedConfigMap", "shop", "b")
    f.advance(60)
    assert uids(f, "c2") == before  # nobody touches c2
    writes = f.views["c2"].requests.copy()
    f.start_agent("c2")
    assert f.settle()
    assert f.ready("c2")
    after = uids(f, "c2")
    expected = {k: v for k, v in before.items() if k != ("ConfigMap", "shop", "b")}
    assert after == expected  # nothing re-created, duplicated or lost; b deleted
    assert cm(f, "c2", "a")["data"] == {"k": "changed"}  # type: ignore[index]
    assert federated(f, "FederatedConfigMap", "b") is None
    now = f.views["c2"].requests
    # exactly the writes needed: update a, delete b
    assert (now["create"] - writes["create"], now["update"] - writes["update"]) == (0, 1)
    assert now["delete"] - writes["delete"] == 1


def test_restarting_an_agent_with_nothing_to_do_writes_nothing() -> None:
    f = fleet(clusters=clusters("c2", "c3"))
    with_app(f, fed_configmap(), fed_deployment())
    writes = f.write_requests()
    before = uids(f, "c2")
    f.start_agent("c2")  # restart from nothing
    assert f.settle()
    f.advance(120)
    assert f.write_requests() == writes
    assert uids(f, "c2") == before


# -- identity -----------------------------------------------------------------------------


def test_a_changed_member_id_stops_the_works_and_restoring_it_resumes() -> None:
    f = fleet(clusters=clusters("c2"))
    with_app(f, fed_configmap())
    original = f.cluster_id("c2")
    f.set_cluster_id("c2", "rebuilt-cluster")
    assert f.settle()
    assert not f.ready("c2")
    ready = next(c for c in conditions(f, "c2") if c["type"] == "Ready")
    assert ready["reason"] == "ClusterIdentityMismatch"
    assert original in ready["message"] and "rebuilt-cluster" in ready["message"]
    held = works(f, "c2")
    writes = member_writes(f, "c2")
    f.apply([fed_configmap(data={"k": "changed"}), fed_configmap("other")])
    assert f.settle()
    assert works(f, "c2") == held  # no new Work, no Work changed
    assert member_writes(f, "c2") == writes
    assert cm(f, "c2")["data"] == {"k": "v"}  # type: ignore[index]
    assert cm(f, "c2", "other") is None and cm(f, "c1", "other") is not None
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "ClusterNotReady"
    f.set_cluster_id("c2", original)
    assert f.settle()
    assert f.ready("c2")
    assert cm(f, "c2")["data"] == {"k": "changed"}  # type: ignore[index]
    assert cm(f, "c2", "other") is not None


# -- the agent's rights on the host -------------------------------------------------------


@pytest.fixture
def agent_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, str, str, str]]]:
    """(identity, verb, kind, namespace) of every request an agent makes to the host."""
    seen: list[tuple[str, str, str, str]] = []
    enter = ClientView._enter

    def recording(
        self: ClientView, verb: str, api_version: str = "", kind: str = "", namespace: str = ""
    ) -> None:
        if self.name.startswith("kubefed-agent-"):
            seen.append((self.name, verb, kind, namespace))
        enter(self, verb, api_version, kind, namespace)

    monkeypatch.setattr(ClientView, "_enter", recording)
    yield seen


def test_the_agent_stays_in_its_namespace_and_the_host_holds_no_credential(
    agent_requests: list[tuple[str, str, str, str]],
) -> None:
    f = fleet(clusters=clusters("c2", "c3"))
    with_app(f, fed_configmap(), fed_deployment(placement={"clusters": [{"name": "c2"}]}))
    f.set_connected("c2", False)
    f.advance(60)
    f.apply([fed_configmap(data={"k": "w"})])
    f.delete(FED, "FederatedDeployment", "shop", "web")
    f.set_connected("c2", True)
    f.stop_agent("c3")
    f.start_agent("c3")
    assert f.settle()
    assert cm(f, "c2")["data"] == {"k": "w"}  # type: ignore[index]
    assert agent_requests, "the agents made no request"
    for identity, verb, kind, ns in agent_requests:
        cluster = identity.removeprefix("kubefed-agent-")
        assert ns == wk.cluster_namespace(cluster), (identity, verb, kind, ns)
        assert kind in ("Work", "Lease"), (identity, verb, kind, ns)
        assert verb != "delete"
    for cluster in ("c2", "c3"):
        assert f.agent_views[cluster].read_scopes <= {
            ("list", "Work", wk.cluster_namespace(cluster)),
            ("watch", "Work", wk.cluster_namespace(cluster)),
        }
    assert not [m for level, m in f.logs if "forbidden" in m.lower()]
    secrets = [o["metadata"]["name"] for o in f.host_server.objects() if o["kind"] == "Secret"]
    assert secrets == ["c1-token"]
    for cluster in ("c2", "c3"):
        spec = kfc(f, cluster)["spec"]
        assert spec["syncMode"] == "Pull" and "secretRef" not in spec


# -- mixed fleets and idleness ------------------------------------------------------------

OVERRIDES = [
    {"clusterName": "c2", "clusterOverrides": [{"path": "/data/k", "value": "two"}]},
    {"clusterName": "c1", "clusterOverrides": [{"path": "/data/k", "value": "one"}]},
]


def _without_times(status: dict[str, Any]) -> dict[str, Any]:
    conds = [{k: v for k, v in c.items() if not k.startswith("last")} for c in status.get("conditions", [])]
    return {**status, "conditions": conds}


@pytest.mark.parametrize("placed", [["c1", "c2"], ["c2", "c3"], ["c1", "c2", "c3"]])
def test_mixed_fleet_status_is_the_same_as_an_all_push_fleet(placed: list[str]) -> None:
    placement = {"clusters": [{"name": c} for c in placed]}
    objs = [
        fed_configmap(placement=placement, overrides=OVERRIDES),
        fed_deployment(placement=placement),
    ]
    mixed = fleet(clusters=clusters("c2"))
    pushes = fleet(clusters=clusters())
    for f in (mixed, pushes):
        with_app(f, *objs)
    for kind, name in (("FederatedConfigMap", "cfg"), ("FederatedDeployment", "web")):
        status = fed_status(mixed, kind, name)
        assert status["clusters"] == [{"name": c} for c in sorted(placed)]
        assert _without_times(status) == _without_times(fed_status(pushes, kind, name))
    assert cm(mixed, "c2")["data"] == {"k": "two"}  # type: ignore[index]
    for c in ("c1", "c2", "c3"):
        assert managed(mixed, c) == managed(pushes, c)


def test_idle_after_convergence_writes_nothing() -> None:
    f = fleet(clusters=clusters("c2", "c3"))
    with_app(
        f,
        fed_configmap(overrides=OVERRIDES),
        fed_configmap("other", placement={"clusters": [{"name": "c3"}]}),
        fed_deployment(),
    )
    writes = f.write_requests()
    held = {c: works(f, c) for c in ("c2", "c3")}
    renewals = {c: f.agents[c].renewals for c in ("c2", "c3")}
    f.advance(600)
    assert f.write_requests() == writes
    assert {c: works(f, c) for c in ("c2", "c3")} == held  # no Work rewritten either
    assert all(f.ready(c) for c in ("c1", "c2", "c3"))
    for c in ("c2", "c3"):  # while the agents kept their Leases fresh
        assert f.agents[c].renewals - renewals[c] >= 600 / 10 - 1
