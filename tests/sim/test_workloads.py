"""The simulated members' workload controller: Pods for Deployments, capacity, readiness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.core import podanalysis as pa
from simulator import scenario as sc
from simulator.fleet import Fleet
from simulator.workloads import HASH_LABEL, WorkloadSettings
from tests.conftest import run_cli
from tests.sim import helpers as h

replicas_st = st.integers(min_value=0, max_value=7)
capacity_st = st.none() | st.integers(min_value=0, max_value=7)
few = settings(max_examples=25)


def make(
    capacity: int | None = None, ready_after: float = 5.0, clusters: tuple[str, ...] = ("c1",), seed: int = 0
) -> Fleet:
    caps = {c: capacity for c in clusters if capacity is not None}
    f = Fleet([{"name": c} for c in clusters], seed=seed, workloads=WorkloadSettings(ready_after, caps))
    for c in clusters:
        f.apply([h.namespace()], cluster=c)
    assert f.settle()
    return f


def deployment(replicas: int | None = 3, name: str = "web", image: str = "nginx:1") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": name}},
        "template": {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": "c", "image": image}]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec,
    }


def pods(f: Fleet, cluster: str = "c1") -> list[dict[str, Any]]:
    return [o for o in f.member_objects(cluster) if o["kind"] == "Pod"]


def conditions(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in pod.get("status", {}).get("conditions", [])}


def ready(pod: dict[str, Any]) -> bool:
    return pod["status"]["phase"] == "Running" and conditions(pod).get("Ready", {}).get("status") == "True"


def unschedulable(pod: dict[str, Any]) -> bool:
    c = conditions(pod).get("PodScheduled", {})
    return (
        pod["status"]["phase"] == "Pending"
        and c.get("status") == "False"
        and c.get("reason") == "Unschedulable"
    )


def member_deployment(f: Fleet, cluster: str = "c1", name: str = "web") -> dict[str, Any]:
    obj = f.member_object(cluster, "apps/v1", "Deployment", "shop", name)
    assert obj is not None
    return obj


def counts(f: Fleet, cluster: str = "c1") -> tuple[int, int, int]:
    """(pods, ready, unschedulable) in a member."""
    ps = pods(f, cluster)
    return len(ps), sum(map(ready, ps)), sum(map(unschedulable, ps))


@few
@given(replicas=replicas_st, capacity=capacity_st, ready_after=st.integers(min_value=2, max_value=40))
def test_min_of_replicas_and_capacity_become_ready_after_the_delay(
    replicas: int, capacity: int | None, ready_after: int
) -> None:
    f = make(capacity, float(ready_after))
    f.apply([deployment(replicas)], cluster="c1")
    f.advance(ready_after - 1)
    fitting = replicas if capacity is None else min(replicas, capacity)
    assert counts(f) == (replicas, 0, replicas - fitting)  # created, none ready yet
    f.advance(1)
    assert counts(f) == (replicas, fitting, replicas - fitting)
    status = member_deployment(f)["status"]
    assert status.get("readyReplicas", 0) == fitting == status.get("availableReplicas", 0)
    assert status.get("replicas", 0) == replicas == status.get("updatedReplicas", 0)
    assert status.get("unavailableReplicas", 0) == replicas - fitting
    assert status["observedGeneration"] == member_deployment(f)["metadata"]["generation"]
    assert f.settle()


def test_pods_are_owned_labelled_and_named_after_their_deployment() -> None:
    f = make()
    f.apply([deployment(2)], cluster="c1")
    assert f.settle()
    d = member_deployment(f)
    ps = pods(f)
    hashes = {p["metadata"]["labels"][HASH_LABEL] for p in ps}
    assert len(hashes) == 1
    assert sorted(p["metadata"]["name"] for p in ps) == [f"web-{h}-{n}" for h in hashes for n in (0, 1)]
    for p in ps:
        assert p["metadata"]["labels"]["app"] == "web"
        assert p["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": "web",
                "uid": d["metadata"]["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert p["spec"] == {"containers": [{"name": "c", "image": "nginx:1"}]}


def test_absent_replicas_means_one() -> None:
    f = make()
    f.apply([deployment(None)], cluster="c1")
    assert f.settle()
    assert counts(f) == (1, 1, 0)


@few
@given(before=replicas_st, after=replicas_st, capacity=capacity_st)
def test_scaling_deletes_or_creates_pods(before: int, after: int, capacity: int | None) -> None:
    f = make(capacity)
    f.apply([deployment(before)], cluster="c1")
    assert f.settle()
    names_before = {p["metadata"]["name"] for p in pods(f)}
    ready_before = {p["metadata"]["name"] for p in pods(f) if ready(p)}
    f.apply([deployment(after)], cluster="c1")
    assert f.settle()
    names_after = {p["metadata"]["name"] for p in pods(f)}
    fitting = after if capacity is None else min(after, capacity)
    assert counts(f) == (after, fitting, after - fitting)
    if after <= before:
        assert names_after <= names_before  # scaling down deletes, it does not replace
        # Ready pods are the last to go
        assert len(ready_before & names_after) == min(len(ready_before), after)
    else:
        assert names_before <= names_after
    assert member_deployment(f)["status"].get("replicas", 0) == after


@few
@given(replicas=replicas_st, first=capacity_st, second=capacity_st)
def test_capacity_changes_move_pods_between_pending_and_running(
    replicas: int, first: int | None, second: int | None
) -> None:
    f = make(first)
    f.apply([deployment(replicas)], cluster="c1")
    assert f.settle()
    f.set_capacity("c1", second)
    assert f.settle()
    fitting = replicas if second is None else min(replicas, second)
    assert counts(f) == (replicas, fitting, replicas - fitting)
    assert member_deployment(f)["status"].get("readyReplicas", 0) == fitting


def test_capacity_is_shared_by_the_workloads_of_a_cluster() -> None:
    f = make(capacity=3)
    f.apply([deployment(2, name="a")], cluster="c1")
    assert f.settle()
    f.apply([deployment(2, name="b")], cluster="c1")
    assert f.settle()
    # the older Pods keep their places; the newer wait
    assert member_deployment(f, name="a")["status"]["readyReplicas"] == 2
    assert member_deployment(f, name="b")["status"]["readyReplicas"] == 1
    assert counts(f) == (4, 3, 1)


def test_unschedulable_pods_carry_the_virtual_time_and_keep_it() -> None:
    f = make(capacity=0)
    f.apply([deployment(1)], cluster="c1")
    f.advance(1)
    stamp = conditions(pods(f)[0])["PodScheduled"]["lastTransitionTime"]
    f.advance(300)
    pod = pods(f)[0]
    assert conditions(pod)["PodScheduled"]["lastTransitionTime"] == stamp
    assert "Too many pods" in conditions(pod)["PodScheduled"]["message"]
    # KubeFed now takes them as unschedulable beyond its threshold
    state = pa.replica_state(member_deployment(f), pods(f), f.clock.now())
    assert state == pa.ReplicaState(0, 0, False)


def test_kubefed_reading_of_a_partly_fitting_cluster() -> None:
    f = make(capacity=2)
    f.apply([deployment(5)], cluster="c1")
    f.advance(10)
    state = pa.replica_state(member_deployment(f), pods(f), f.clock.now())
    assert state == pa.ReplicaState(2, None, True)  # unschedulable, but not for 60 s yet
    f.advance(60)
    state = pa.replica_state(member_deployment(f), pods(f), f.clock.now())
    assert state == pa.ReplicaState(2, 2, False)  # 5 replicas - 3 unschedulable


def test_template_change_replaces_the_pods() -> None:
    f = make()
    f.apply([deployment(2)], cluster="c1")
    assert f.settle()
    old = {p["metadata"]["name"] for p in pods(f)}
    f.apply([deployment(2, image="nginx:2")], cluster="c1")
    assert f.settle()
    new = pods(f)
    assert old.isdisjoint(p["metadata"]["name"] for p in new)
    assert {p["spec"]["containers"][0]["image"] for p in new} == {"nginx:2"}
    status = member_deployment(f)["status"]
    assert status["observedGeneration"] == 2
    assert (status["updatedReplicas"], status["readyReplicas"]) == (2, 2)


def test_replicaset_owns_pods_and_deleting_the_owner_removes_them() -> None:
    f = make()
    rs = {**deployment(2, name="cache"), "kind": "ReplicaSet"}
    f.apply([rs, deployment(1)], cluster="c1")
    assert f.settle()
    names = sorted(
        p["metadata"]["name"] for p in pods(f) if p["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    )
    assert names == ["cache-0", "cache-1"]
    status = f.member_object("c1", "apps/v1", "ReplicaSet", "shop", "cache")
    assert status is not None
    assert status["status"] == {
        "observedGeneration": 1,
        "replicas": 2,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 2,
    }
    f.delete("apps/v1", "ReplicaSet", "shop", "cache", cluster="c1")
    f.delete("apps/v1", "Deployment", "shop", "web", cluster="c1")
    assert f.settle()
    assert pods(f) == []


@few
@given(
    replicas=replicas_st,
    capacity=capacity_st,
    later=capacity_st,
    seed=st.integers(min_value=0, max_value=3),
)
def test_deterministic_given_the_same_inputs(
    replicas: int, capacity: int | None, later: int | None, seed: int
) -> None:
    def run() -> list[Any]:
        f = make(capacity, seed=seed)
        f.apply([deployment(replicas)], cluster="c1")
        f.advance(7)
        f.set_capacity("c1", later)
        f.advance(30)
        return f.member_objects("c1")

    assert run() == run()


@few
@given(replicas=replicas_st, capacity=capacity_st)
def test_an_idle_fleet_makes_no_writes(replicas: int, capacity: int | None) -> None:
    f = make(capacity, clusters=("c1", "c2"))
    for t in h.TYPES:
        f.enable(t)
    h.with_app(f, h.fed_deployment(replicas=replicas))
    assert f.workloads is not None
    fitting = replicas if capacity is None else min(replicas, capacity)
    assert counts(f, "c2") == (replicas, fitting, replicas - fitting)
    writes, member_writes = f.write_requests(), f.workloads.writes()
    versions = {c: s.resource_version for c, s in f.servers.items()}
    f.advance(900)
    assert f.settle()
    assert (f.write_requests(), f.workloads.writes()) == (writes, member_writes)
    assert {c: s.resource_version for c, s in f.servers.items()} == versions
    assert member_writes > 0 or replicas == 0
    # a change elsewhere in a member makes the controller look again, and write nothing
    f.apply(
        [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "shop"}}],
        cluster="c1",
    )
    assert f.settle()
    assert f.workloads.writes() == member_writes


def test_federated_deployment_runs_where_capacity_allows() -> None:
    f = make(capacity=None, clusters=("c1", "c2"))
    f.set_capacity("c1", 1)
    for t in h.TYPES:
        f.enable(t)
    h.with_app(f, h.fed_deployment(replicas=3))
    assert counts(f, "c1") == (3, 1, 2)
    assert counts(f, "c2") == (3, 3, 0)
    assert member_deployment(f, "c2")["status"]["readyReplicas"] == 3
    # the federation leaves the member's status alone and does not fight the controller
    f.advance(120)
    assert f.settle()
    assert member_deployment(f, "c1")["status"]["readyReplicas"] == 1


def test_capacity_needs_workloads() -> None:
    f = Fleet([{"name": "c1"}])
    try:
        f.set_capacity("c1", 1)
    except ValueError as err:
        assert "workloads" in str(err)
    else:
        raise AssertionError("set_capacity without workloads was accepted")
    assert f.workloads is None


# -- scenarios (kubectl kubefed simulate) ------------------------------------------------

SCENARIO = """
clusters:
  - {name: c1, capacity: {pods: 1}}
  - {name: c2}
workloads: {readyAfter: 20s}
steps:
  - apply:
      - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
      - apiVersion: types.kubefed.io/v1beta1
        kind: FederatedNamespace
        metadata: {name: shop, namespace: shop}
        spec: {placement: {clusterSelector: {}}}
      - apiVersion: types.kubefed.io/v1beta1
        kind: FederatedDeployment
        metadata: {name: web, namespace: shop}
        spec:
          placement: {clusterSelector: {}}
          template:
            spec:
              replicas: 3
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: c, image: "nginx:1"}]}
  - cluster: {name: c1, capacity: {pods: 3}}
  - cluster: {name: c2, capacity: {pods: 0}}
"""


def _pod_phases(state: dict[str, Any], cluster: str) -> list[str]:
    return sorted(
        o["status"]["phase"] + ("/Unschedulable" if unschedulable(o) else "")
        for o in state["clusters"][cluster]["objects"]
        if o["kind"] == "Pod"
    )


def _scenario(text: str) -> sc.Scenario:
    return sc.parse(yaml.safe_load(text), "s.yaml", Path("."))


def test_scenario_capacity_and_capacity_steps() -> None:
    scenario = _scenario(SCENARIO)
    assert scenario.workloads == WorkloadSettings(20.0, {"c1": 1})
    results = sc.run(scenario)
    deployed, grown, emptied = (r.snapshot for r in results[1:])
    assert all(r.error == "" for r in results)
    assert _pod_phases(deployed, "c1") == ["Pending/Unschedulable", "Pending/Unschedulable", "Running"]
    assert _pod_phases(deployed, "c2") == ["Running"] * 3
    assert _pod_phases(grown, "c1") == ["Running"] * 3
    assert _pod_phases(emptied, "c2") == ["Pending/Unschedulable"] * 3
    member = next(o for o in emptied["clusters"]["c2"]["objects"] if o["kind"] == "Deployment")
    assert "readyReplicas" not in member["status"]
    assert results[1].step is not None and "capacity" not in results[1].step.describe()
    assert "capacity={'pods': 3}" in results[2].step.describe()  # type: ignore[union-attr]


def test_scenario_without_workloads_has_no_pods() -> None:
    text = SCENARIO.replace("workloads: {readyAfter: 20s}\n", "").replace(", capacity: {pods: 1}", "")
    text = text.split("  - cluster:")[0]
    scenario = _scenario(text)
    assert scenario.workloads is None
    final = sc.run(scenario)[-1].snapshot
    assert not [o for o in final["clusters"]["c2"]["objects"] if o["kind"] == "Pod"]


def test_scenario_readiness_delay_is_virtual_time() -> None:
    first = sc.run(_scenario(SCENARIO.replace("readyAfter: 20s", "readyAfter: 2m")))[1].snapshot
    second = sc.run(_scenario(SCENARIO))[1].snapshot
    assert first["virtualSeconds"] - second["virtualSeconds"] >= 100


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("capacity: {pods: 1}", "capacity: {pods: -1}"),
            "clusters[1]: capacity.pods must be a whole number",
        ),
        (("capacity: {pods: 1}", "capacity: 3"), "clusters[1]: capacity must be {pods: N}"),
        (("capacity: {pods: 1}", "capacity: {cpu: 1}"), "clusters[1]: capacity must be {pods: N}"),
        (("capacity: {pods: 3}", "capacity: {pods: x}"), "step 2: capacity.pods must be a whole number"),
        (("readyAfter: 20s", "readyAfter: soon"), "workloads.readyAfter"),
        (("readyAfter: 20s", "delay: 20s"), "workloads must be a map with an optional readyAfter"),
    ],
)
def test_scenario_bad_workload_fields_are_one_line(change: tuple[str, str], message: str) -> None:
    with pytest.raises(InputError) as err:
        _scenario(SCENARIO.replace(*change))
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_simulate_cli_runs_a_capacity_scenario(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO)
    res = run_cli("simulate", str(path), "-o", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert _pod_phases(out, "c1") == ["Running"] * 3
    assert _pod_phases(out, "c2") == ["Pending/Unschedulable"] * 3


@few
@given(replicas=replicas_st, capacity=capacity_st)
def test_kubefed_reads_a_converged_member_as_its_capacity(replicas: int, capacity: int | None) -> None:
    f = make(capacity)
    f.apply([deployment(replicas)], cluster="c1")
    assert f.settle()
    f.advance(61)  # past KubeFed's 60 s threshold for unschedulable Pods
    fitting = replicas if capacity is None else min(replicas, capacity)
    state = pa.replica_state(member_deployment(f), pods(f), f.clock.now())
    assert state.current == fitting
    assert state.capacity == (fitting if fitting < replicas else None)
    assert not state.needs_recheck
