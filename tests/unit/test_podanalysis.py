"""KubeFed's view of a member workload: podanalyzer.AnalyzePods and clustersReplicaState."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_kubefed.core import podanalysis as pa
from kubectl_kubefed.sync.clock import rfc3339

NOW = 1_767_225_600.0


def pod(
    phase: str = "Pending",
    conditions: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    ns: str = "shop",
    name: str = "p",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": labels if labels is not None else {"app": "web"},
        },
        "status": {"phase": phase, "conditions": conditions or []},
    }


def running(ready_status: str = "True", **kw: Any) -> dict[str, Any]:
    return pod("Running", [{"type": "Ready", "status": ready_status}], **kw)


def unschedulable(seconds_ago: float | None, **kw: Any) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}
    if seconds_ago is not None:
        condition["lastTransitionTime"] = rfc3339(NOW - seconds_ago)
    return pod("Pending", [condition], **kw)


def deployment(replicas: int | None, ready: int | None, selector: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app": "web"}} if selector is None else selector}
    if replicas is not None:
        spec["replicas"] = replicas
    obj: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
    }
    if ready is not None:
        obj["status"] = {"readyReplicas": ready}
    return obj


def test_kubefed_vector_running_unschedulable_and_recheck() -> None:
    # pod_helper_test.go TestAnalyze: 3 running, 2 unschedulable for 10 minutes, 1 right now
    pods = [running()] * 3 + [unschedulable(600)] * 2 + [unschedulable(0)]
    result = pa.analyze_pods(pods, NOW)
    assert (result.total, result.running_and_ready, result.unschedulable) == (6, 3, 2)
    assert result.unschedulable_now == 3
    assert result.needs_recheck


def test_kubefed_vector_other_pod_counts_only_in_total() -> None:
    result = pa.analyze_pods([pod("Pending", [])], NOW)
    assert result == pa.PodAnalysis(1, 0, 0, 0)
    assert not result.needs_recheck


def test_threshold_is_sixty_seconds_strictly() -> None:
    assert pa.UNSCHEDULABLE_THRESHOLD_SECONDS == 60.0
    assert pa.analyze_pods([unschedulable(60)], NOW).unschedulable == 0
    assert pa.analyze_pods([unschedulable(61)], NOW).unschedulable == 1
    assert pa.analyze_pods([unschedulable(59)], NOW).needs_recheck


def test_missing_transition_time_is_go_zero_time() -> None:
    result = pa.analyze_pods([unschedulable(None)], NOW)
    assert result.unschedulable == 1
    assert not result.needs_recheck


def test_ready_condition_status_is_not_checked_and_phase_is() -> None:
    # KubeFed counts a Running pod with any Ready condition, and no pod in another phase.
    assert pa.analyze_pods([running("False")], NOW).running_and_ready == 1
    assert (
        pa.analyze_pods([pod("Pending", [{"type": "Ready", "status": "True"}])], NOW).running_and_ready == 0
    )
    assert pa.analyze_pods([pod("Running", [])], NOW).running_and_ready == 0


def test_running_pod_is_never_unschedulable_and_other_reasons_do_not_count() -> None:
    cond = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": None}
    assert pa.analyze_pods([pod("Running", [cond])], NOW).unschedulable_now == 0
    other = {**cond, "reason": "SchedulerError"}
    assert pa.analyze_pods([pod("Pending", [other])], NOW).unschedulable_now == 0
    scheduled = {**cond, "status": "True"}
    assert pa.analyze_pods([pod("Pending", [scheduled])], NOW).unschedulable_now == 0


def test_ready_replicas_equal_to_replicas_skips_the_pods() -> None:
    state = pa.replica_state(deployment(3, 3, selector={}), [unschedulable(600)], NOW)
    assert state == pa.ReplicaState(3, None, False)


def test_absent_replicas_and_ready_replicas_read_as_zero() -> None:
    assert pa.replica_state(deployment(None, None), [running()], NOW) == pa.ReplicaState(0, None)


def test_pods_decide_when_not_all_ready() -> None:
    pods = [running(name="a"), running(name="b"), unschedulable(120, name="c"), unschedulable(5, name="d")]
    state = pa.replica_state(deployment(4, 1), pods, NOW)
    assert state.current == 2
    assert state.capacity == 3  # 4 replicas - 1 unschedulable beyond the threshold
    assert state.needs_recheck


def test_no_capacity_entry_without_long_unschedulable_pods() -> None:
    state = pa.replica_state(deployment(4, 1), [running(), unschedulable(5)], NOW)
    assert state == pa.ReplicaState(1, None, True)


def test_only_selected_pods_in_the_namespace_count() -> None:
    pods = [
        running(name="mine"),
        running(name="other-app", labels={"app": "db"}),
        running(name="other-ns", ns="elsewhere"),
        running(name="more-labels", labels={"app": "web", "tier": "fe"}),
    ]
    assert [p["metadata"]["name"] for p in pa.selected_pods(deployment(1, 0), pods)] == [
        "mine",
        "more-labels",
    ]
    assert pa.replica_state(deployment(5, 0), pods, NOW).current == 2


def test_missing_selector_is_an_error_only_when_pods_are_read() -> None:
    with pytest.raises(pa.MissingSelector, match="missing selector on object"):
        pa.replica_state(deployment(2, 1, selector={"matchExpressions": []}), [], NOW)
    assert pa.replica_state(deployment(2, 2, selector={}), [], NOW).current == 2
