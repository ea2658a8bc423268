"""The replica scheduling controller on the simulator (issue 14): RSPs drive the placement and
``/spec/replicas`` overrides of their FederatedDeployment / FederatedReplicaSet as KubeFed's
scheduler does, with failover; the controller adds no semantics to ``core.replicas``."""

from __future__ import annotations

from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import podanalysis as pa
from kubectl_kubefed.core import replicas as rs
from kubectl_kubefed.sync.scheduling import SchedulingController, apply_schedule
from kubectl_kubefed.sync.settings import FEATURE_GATES, Settings
from kubectl_kubefed.sync.shared import Resource
from simulator.fleet import Fleet
from simulator.workloads import WorkloadSettings
from tests.sim import helpers as h

CLUSTERS = ("c1", "c2", "c3")
FED_API = "types.kubefed.io/v1beta1"
REGIONS = {"c1": "eu", "c2": "us", "c3": "asia"}
# A cluster that stops answering is NotReady after at most one health period; KubeFed then
# plans every RSP again after unavailableDelay (60 s) + 3 s.
FAILOVER_WITHIN = 10.0 + 60.0 + 3.0 + 1.0


def make(
    clusters: tuple[str, ...] = CLUSTERS,
    capacity: dict[str, int] | None = None,
    seed: int = 0,
    pull: tuple[str, ...] = (),
    gate: bool = True,
    types: tuple[str, ...] = ("namespaces", "deployments.apps"),
) -> Fleet:
    specs = [
        {"name": c, "labels": {"region": REGIONS.get(c, "x")}, **({"syncMode": "Pull"} if c in pull else {})}
        for c in clusters
    ]
    gates = dict(FEATURE_GATES, SchedulerPreferences=gate)
    f = Fleet(
        specs,
        seed=seed,
        workloads=WorkloadSettings(ready_after=5.0, capacity=capacity or {}),
        settings=Settings(feature_gates=gates),
    )
    for t in types:
        f.enable(t)
    assert f.settle()
    f.apply([h.namespace(), h.fed_namespace()])
    assert f.settle()
    return f


def workload_spec(name: str = "web", replicas: int = 1) -> dict[str, Any]:
    return {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
        },
    }


def fed_deployment(
    name: str = "web", kind: str = "FederatedDeployment", placement: Any = None, overrides: Any = None
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "template": {"spec": workload_spec(name)},
        "placement": placement if placement is not None else {"clusterSelector": {}},
    }
    if overrides is not None:
        spec["overrides"] = overrides
    return {
        "apiVersion": FED_API,
        "kind": kind,
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec,
    }


def rsp(
    total: int,
    clusters: dict[str, dict[str, int]] | None = None,
    rebalance: bool = False,
    name: str = "web",
    **extra: Any,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "targetKind": "FederatedDeployment",
        "totalReplicas": total,
        "rebalance": rebalance,
    }
    if clusters is not None:
        spec["clusters"] = clusters
    spec.update(extra)
    return {
        "apiVersion": "scheduling.kubefed.io/v1alpha1",
        "kind": "ReplicaSchedulingPreference",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec,
    }


def scheduler(f: Fleet) -> SchedulingController:
    return cast(SchedulingController, f.manager.running["scheduling"])


def target(f: Fleet, name: str = "web", kind: str = "FederatedDeployment") -> dict[str, Any]:
    return f.host_server.get(FED_API, kind, "shop", name)


def scheduled(fed: dict[str, Any]) -> dict[str, int]:
    """The /spec/replicas override of every cluster that has one."""
    out = {}
    for entry in fed["spec"].get("overrides") or []:
        for item in entry.get("clusterOverrides") or []:
            if item["path"] == "/spec/replicas":
                out[entry["clusterName"]] = item["value"]
    return out


def placed(fed: dict[str, Any]) -> list[str]:
    return [c["name"] for c in fed["spec"]["placement"].get("clusters") or []]


def uid(f: Fleet, cluster: str) -> str:
    obj = f.member_object(cluster, "apps/v1", "Deployment", "shop", "web")
    assert obj is not None
    return str(obj["metadata"]["uid"])


def member_replicas(f: Fleet, cluster: str, name: str = "web", kind: str = "Deployment") -> int | None:
    obj = f.member_object(cluster, "apps/v1", kind, "shop", name)
    return None if obj is None else int(obj["spec"].get("replicas", 1))


def member_inputs(
    f: Fleet, name: str = "web", kind: str = "Deployment"
) -> tuple[list[str], dict[str, int], dict[str, int]]:
    """The Ready clusters, current replicas and capacity, read from the members directly."""
    current: dict[str, int] = {}
    capacity: dict[str, int] = {}
    ready = sorted(c.name for c in f.manager.registry.clusters() if c.ready)
    for cluster in ready:
        if f.manager.registry.get(cluster).pull:  # type: ignore[union-attr]
            continue
        workload = f.member_object(cluster, "apps/v1", kind, "shop", name)
        if workload is None:
            continue
        pods = [o for o in f.member_objects(cluster) if o["kind"] == "Pod"]
        state = pa.replica_state(workload, pods, f.clock.now())
        current[cluster] = state.current
        if state.capacity is not None:
            capacity[cluster] = state.capacity
    return ready, current, capacity


def expected(f: Fleet, the_rsp: dict[str, Any], name: str = "web", kind: str = "Deployment") -> rs.Schedule:
    """What core.replicas plans from what the members show now (KubeFed's inputs)."""
    ready, current, capacity = member_inputs(f, name, kind)
    return rs.schedule(rs.parse_preference(the_rsp), ready, current, capacity)


# -- the basic flow ---------------------------------------------------------------------------


def test_weights_placement_and_overrides_other_overrides_kept() -> None:
    f = make()
    label = {"path": "/metadata/labels/tier", "value": "web"}
    f.apply(
        [
            fed_deployment(overrides=[{"clusterName": "c1", "clusterOverrides": [label]}]),
            rsp(10, {"c1": {"weight": 1}, "c2": {"weight": 2}, "*": {"weight": 1}}, rebalance=True),
        ]
    )
    assert f.settle()
    fed = target(f)
    assert placed(fed) == ["c1", "c2", "c3"]
    assert fed["spec"]["placement"]["clusterSelector"] == {}  # kept; the list now decides
    assert scheduled(fed) == {"c1": 3, "c2": 5, "c3": 2}
    assert fed["spec"]["overrides"][0]["clusterOverrides"][0] == label
    assert {c: member_replicas(f, c) for c in CLUSTERS} == {"c1": 3, "c2": 5, "c3": 2}
    c1 = f.member_object("c1", "apps/v1", "Deployment", "shop", "web")
    assert c1 is not None and c1["metadata"]["labels"]["tier"] == "web"
    assert (
        scheduled(fed)
        == expected(f, rsp(10, {"c1": {"weight": 1}, "c2": {"weight": 2}, "*": {"weight": 1}})).replicas
    )
    assert scheduler(f).target_writes == 1


def test_no_clusters_preference_means_every_cluster_weight_one_and_zero_replica_clusters_placed() -> None:
    f = make()
    f.apply([fed_deployment(), rsp(2)])
    assert f.settle()
    fed = target(f)
    assert placed(fed) == ["c1", "c2", "c3"]  # the cluster given 0 is placed too (KubeFed)
    assert sorted(scheduled(fed).values()) == [0, 1, 1]
    assert sum(member_replicas(f, c) or 0 for c in CLUSTERS) == 2


def test_federated_replicaset_target() -> None:
    f = make(types=("namespaces", "replicasets.apps"))
    f.apply([fed_deployment(kind="FederatedReplicaSet"), rsp(4, targetKind="FederatedReplicaSet")])
    assert f.settle()
    fed = target(f, kind="FederatedReplicaSet")
    assert sum(scheduled(fed).values()) == 4
    assert {c: member_replicas(f, c, kind="ReplicaSet") for c in CLUSTERS} == scheduled(fed)


def test_rsp_before_its_target_and_target_kind_not_enabled() -> None:
    f = make()
    f.apply([rsp(3)])
    assert f.settle()
    f.apply([fed_deployment()])
    assert f.settle()
    assert sum(scheduled(target(f)).values()) == 3
    # an RSP for a kind whose type is not enabled does nothing (no plugin), and no harm
    f.apply([rsp(5, name="other", targetKind="FederatedReplicaSet")])
    assert f.settle()
    assert not [line for line in f.logs if line[0] == "error"]


def test_feature_gate_off_leaves_targets_alone() -> None:
    f = make(gate=False)
    f.apply([fed_deployment(), rsp(6)])
    assert f.settle()
    fed = target(f)
    assert "clusters" not in fed["spec"]["placement"] and scheduled(fed) == {}
    assert {c: member_replicas(f, c) for c in CLUSTERS} == dict.fromkeys(CLUSTERS, 1)


def test_intersect_with_cluster_selector() -> None:
    f = make()
    selector = {"matchExpressions": [{"key": "region", "operator": "In", "values": ["eu", "us"]}]}
    f.apply(
        [fed_deployment(placement={"clusterSelector": selector}), rsp(6, intersectWithClusterSelector=True)]
    )
    assert f.settle()
    fed = target(f)
    assert placed(fed) == ["c1", "c2"] and sum(scheduled(fed).values()) == 6
    assert member_replicas(f, "c3") is None
    # without it, every Ready cluster is a candidate (the selector is not consulted)
    f.apply([rsp(6, intersectWithClusterSelector=False)])
    assert f.settle()
    assert placed(target(f)) == ["c1", "c2", "c3"]


def test_bad_preference_is_refused_in_an_event_and_nothing_written() -> None:
    f = make()
    f.apply([fed_deployment(), rsp(3, {"c1": {"weight": 2**62}, "c2": {"weight": 2**62}})])
    assert f.settle()
    assert "clusters" not in target(f)["spec"]["placement"]
    assert any(e.reason == "InvalidPreference" for e in f.recorder.events)


# -- properties -------------------------------------------------------------------------------

pref_st = st.fixed_dictionaries(
    {},
    optional={
        "minReplicas": st.integers(0, 3),
        "maxReplicas": st.integers(3, 8),
        "weight": st.integers(0, 3),
    },
)
prefs_st = st.dictionaries(st.sampled_from([*CLUSTERS, "*"]), pref_st, max_size=4)
few = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@few
@given(prefs=prefs_st, total=st.integers(0, 14), rebalance=st.booleans())
def test_property_schedule_is_core_replicas_and_respects_the_preference(
    prefs: dict[str, dict[str, int]], total: int, rebalance: bool
) -> None:
    f = make()
    the_rsp = rsp(total, prefs or None, rebalance)
    f.apply([fed_deployment(), the_rsp])
    assert f.settle()
    fed = target(f)
    got = scheduled(fed)
    # the controller adds no semantics: the same inputs give core.replicas' answer
    assert got == expected(f, the_rsp).replicas
    assert placed(fed) == sorted(got)
    assert {c: member_replicas(f, c) for c in got} == got
    effective = prefs or {"*": {"weight": 1}}

    def pref_of(cluster: str) -> dict[str, int] | None:
        return effective.get(cluster, effective.get("*"))

    participating = {c: p for c in CLUSTERS if (p := pref_of(c)) is not None}
    for cluster, p in participating.items():
        if "maxReplicas" in p:
            assert got[cluster] <= p["maxReplicas"]
        if sum(q.get("minReplicas", 0) for q in participating.values()) <= total:
            assert got[cluster] >= p.get("minReplicas", 0)
    unbounded = all("maxReplicas" not in p for p in participating.values())
    if unbounded and any(p.get("weight", 0) > 0 for p in participating.values()):
        assert sum(got.values()) == total  # no capacity limit here: every replica is placed
    for cluster in set(CLUSTERS) - set(participating):
        assert got[cluster] == 0


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefs=prefs_st, total=st.integers(0, 14), rebalance=st.booleans())
def test_property_deterministic(prefs: dict[str, dict[str, int]], total: int, rebalance: bool) -> None:
    results = []
    for seed in (0, 7):
        f = make(seed=seed)
        f.apply([fed_deployment(), rsp(total, prefs or None, rebalance)])
        assert f.settle()
        fed = target(f)
        results.append((placed(fed), fed["spec"].get("overrides")))
    assert results[0] == results[1]


# -- capacity ---------------------------------------------------------------------------------


def test_capacity_from_unschedulable_pods_is_core_replicas_overflow() -> None:
    f = make(capacity={"c1": 2})
    the_rsp = rsp(9, rebalance=True)
    f.apply([fed_deployment(), the_rsp])
    assert f.settle()
    fed = target(f)
    # c1 runs 2 and has Pods unschedulable for over 60 s: its capacity is estimated and the
    # excess is overflow, which KubeFed's merge still asks of it
    state = expected(f, the_rsp)
    assert state.overflow.get("c1", 0) > 0
    assert scheduled(fed) == state.replicas


# -- failover ---------------------------------------------------------------------------------

WEIGHTS = {"c1": {"weight": 1}, "c2": {"weight": 2}, "c3": {"weight": 1}}


def _moved_within(f: Fleet, seconds: float, check: Any) -> bool:
    waited = 0.0
    while waited <= seconds:
        if check():
            return True
        f.advance(1.0)
        waited += 1.0
    return bool(check())


def test_not_ready_cluster_replicas_move_and_come_back_with_rebalance() -> None:
    f = make()
    f.apply([fed_deployment(), rsp(10, WEIGHTS, rebalance=True)])
    assert f.settle()
    before = scheduled(target(f))
    assert before == {"c1": 3, "c2": 5, "c3": 2}
    before_uid = uid(f, "c2")
    f.set_ready("c2", False)
    assert _moved_within(f, FAILOVER_WITHIN, lambda: "c2" not in placed(target(f)))
    after = scheduled(target(f))
    assert "c2" not in after and sum(after.values()) == 10
    assert f.settle()
    assert member_replicas(f, "c1") + member_replicas(f, "c3") == 10  # type: ignore[operator]
    f.set_ready("c2", True)
    assert _moved_within(f, 10.0 + 3.0 + 1.0, lambda: scheduled(target(f)) == before)
    assert f.settle()
    assert {c: member_replicas(f, c) for c in CLUSTERS} == before
    # the returning cluster's workload was resized, never deleted and created again
    assert uid(f, "c2") == before_uid


def test_not_ready_cluster_without_rebalance_replicas_stay_moved() -> None:
    f = make()
    f.apply([fed_deployment(), rsp(10, WEIGHTS, rebalance=False)])
    assert f.settle()
    f.set_ready("c2", False)
    assert _moved_within(f, FAILOVER_WITHIN, lambda: "c2" not in placed(target(f)))
    assert f.settle()
    moved = scheduled(target(f))
    assert sum(moved.values()) == 10
    # the cluster comes back empty (its workload was lost while it was away)
    f.delete("apps/v1", "Deployment", "shop", "web", cluster="c2")
    f.set_ready("c2", True)
    f.advance(30)
    assert f.settle()
    back = scheduled(target(f))
    assert back == {**moved, "c2": 0}
    assert member_replicas(f, "c2") == 0


def test_pull_cluster_takes_part_without_current_replicas() -> None:
    f = make(pull=("c3",))
    the_rsp = rsp(6, rebalance=False)
    f.apply([fed_deployment(), the_rsp])
    assert f.settle()
    fed = target(f)
    assert placed(fed) == ["c1", "c2", "c3"] and sum(scheduled(fed).values()) == 6
    assert scheduled(fed) == expected(f, the_rsp).replicas
    assert not [line for line in f.logs if line[0] == "error"]


# -- no writes when idle ----------------------------------------------------------------------


def test_idle_fleet_makes_no_writes_after_convergence() -> None:
    f = make(capacity={"c1": 2})
    f.apply([fed_deployment(), rsp(9, WEIGHTS, rebalance=True), fed_deployment("api"), rsp(4, name="api")])
    assert f.settle()
    sc = scheduler(f)
    writes, target_writes = f.write_requests(), sc.target_writes

    def host_updates() -> int:  # all but the health controller's KubeFedCluster status writes
        return f.host.requests["update"] - f.host.status_updates.get("KubeFedCluster", 0)

    host_before = host_updates()
    generation = target(f)["metadata"]["generation"]
    sc.enqueue_all()  # a full resync, then virtual time passing
    f.advance(600)
    assert f.settle()
    assert f.write_requests() == writes
    assert sc.target_writes == target_writes
    assert target(f)["metadata"]["generation"] == generation
    assert host_updates() == host_before


# -- the write itself (KubeFed's Plugin.Reconcile) ---------------------------------------------


def test_apply_schedule_writes_only_what_differs() -> None:
    fed = fed_deployment(
        placement={"clusters": [{"name": "b"}, {"name": "a"}]},
        overrides=[
            {"clusterName": "a", "clusterOverrides": [{"op": "add", "path": "/spec/replicas", "value": 2}]},
            {"clusterName": "b", "clusterOverrides": [{"path": "/spec/replicas", "value": 1.0}]},
        ],
    )
    assert apply_schedule(fed, {"a": 2, "b": 1}) is None  # same names, same numbers
    out = apply_schedule(fed, {"a": 3, "c": 0})
    assert out is not None
    assert out["spec"]["placement"]["clusters"] == [{"name": "a"}, {"name": "c"}]
    assert out["spec"]["overrides"] == [
        {"clusterName": "a", "clusterOverrides": [{"op": "add", "path": "/spec/replicas", "value": 3}]},
        {"clusterName": "b", "clusterOverrides": []},
        {"clusterName": "c", "clusterOverrides": [{"path": "/spec/replicas", "value": 0}]},
    ]
    # a value that is no number is rewritten
    odd = fed_deployment(
        placement={"clusters": [{"name": "a"}]},
        overrides=[{"clusterName": "a", "clusterOverrides": [{"path": "/spec/replicas", "value": "2"}]}],
    )
    rewritten = apply_schedule(odd, {"a": 2})
    assert rewritten is not None and scheduled(rewritten) == {"a": 2}


def test_pod_cache_held_only_while_a_workload_needs_it() -> None:
    pods = Resource("v1", "Pod")
    f = make(capacity={"c1": 1})
    f.apply([fed_deployment(), rsp(6, rebalance=True)])
    assert f.settle()
    # c1 cannot run its share: its Pods are read (and its capacity estimated) for good
    assert f.manager.informers.get("c1", pods) is not None
    assert f.manager.informers.get("c2", pods) is None
    f.set_capacity("c1", None)
    f.advance(30)
    assert f.settle()
    # every workload is ready again: nobody needs c1's Pods any more
    assert f.manager.informers.get("c1", pods) is None


def test_cluster_label_change_reaches_intersecting_rsps() -> None:
    f = make()
    selector = {"matchLabels": {"region": "eu"}}
    f.apply(
        [fed_deployment(placement={"clusterSelector": selector}), rsp(4, intersectWithClusterSelector=True)]
    )
    assert f.settle()
    assert placed(target(f)) == ["c1"]
    f.set_labels("c3", {"region": "eu"})
    f.advance(10)
    assert f.settle()
    assert placed(target(f)) == ["c1", "c3"] and sum(scheduled(target(f)).values()) == 4


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefs=prefs_st,
    total=st.integers(0, 14),
    rebalance=st.booleans(),
    caps=st.dictionaries(st.sampled_from(CLUSTERS), st.integers(0, 4), max_size=3),
)
def test_property_controller_reads_members_as_kubefed_does(
    prefs: dict[str, dict[str, int]], total: int, rebalance: bool, caps: dict[str, int]
) -> None:
    """Under limited capacity (Pods pending, then unschedulable beyond 60 s), at every moment
    the controller's current replicas and capacity are those read from the members directly,
    and the schedule it would write is core.replicas' for them."""
    f = make(capacity=caps)
    the_rsp = rsp(total, prefs or None, rebalance)
    f.apply([fed_deployment(), the_rsp])
    sc = scheduler(f)
    plugin = sc.plugins["FederatedDeployment"]
    for _ in range(30):
        f.advance(5.0)
        fed = target(f)
        ready, current, capacity = member_inputs(f)
        state = sc._replica_state(plugin, fed, ("shop", "web"), ready)
        assert state is not None and state[:2] == (current, capacity)


def test_target_being_deleted_is_not_rescheduled() -> None:
    f = make()
    f.apply([fed_deployment(), rsp(6, rebalance=True)])
    assert f.settle()
    f.set_ready("c2", False)
    f.advance(5)  # c2 is NotReady: the target's deletion waits for it
    f.delete(FED_API, "FederatedDeployment", "shop", "web")
    f.advance(FAILOVER_WITHIN + 10)
    fed = f.host_server.get(FED_API, "FederatedDeployment", "shop", "web")
    assert fed["metadata"].get("deletionTimestamp")
    assert "c2" in placed(fed)  # still placed there, so its Deployment there is removed too
    f.set_ready("c2", True)
    f.advance(30)
    assert f.settle()
    assert member_replicas(f, "c2") is None and member_replicas(f, "c1") is None
