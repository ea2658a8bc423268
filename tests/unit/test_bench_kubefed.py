"""The pure helpers of benchmarks/bench_kubefed.py: attributing audit events to a
controller by user agent, CPU time from /proc/<pid>/stat, the summary's ratios."""

from __future__ import annotations

from typing import Any

from benchmarks import bench_kubefed as bk


def _event(
    agent: str, verb: str, resource: str, stamp: str, sub: str = "", code: int = 200
) -> dict[str, Any]:
    ref = {"resource": resource, **({"subresource": sub} if sub else {})}
    return {
        "userAgent": agent,
        "verb": verb,
        "objectRef": ref,
        "stageTimestamp": stamp,
        "responseStatus": {"code": code},
    }


KUBEFED = "kubefed-controller-manager/v0.0.0 (linux/amd64) kubernetes/$Format/kubefed-controller"
EVENTS = [
    _event(KUBEFED, "create", "configmaps", "2026-01-01T00:00:01.000000Z"),
    _event(KUBEFED, "watch", "configmaps", "2026-01-01T00:00:02.000000Z"),
    _event("kubectl-kubefed/host-1", "update", "federatedconfigmaps", "2026-01-01T00:00:03.5Z", "status"),
    _event("kubectl-kubefed", "create", "federatedconfigmaps", "2026-01-01T00:00:04Z"),  # the bench
    _event(KUBEFED, "create", "namespaces", "2026-01-01T00:00:05Z", code=409),
]


def test_requests_attributed_by_user_agent_prefix() -> None:
    assert len(bk.controller_requests(EVENTS, bk.USER_AGENTS["kubefed"])) == 3
    assert len(bk.controller_requests(EVENTS, bk.USER_AGENTS["kubefed"], writes_only=True)) == 2
    ours = bk.controller_requests(EVENTS, bk.USER_AGENTS["ours"])  # not the bench's own client
    assert [e["verb"] for e in ours] == ["update"]


def test_requests_within_a_window() -> None:
    t0 = bk.audit_time(EVENTS[0])
    window = bk.controller_requests(EVENTS, bk.USER_AGENTS["kubefed"], since=t0 + 0.5, until=t0 + 3.5)
    assert [e["verb"] for e in window] == ["watch"]
    assert bk.audit_time(EVENTS[2]) - t0 == 2.5


def test_breakdown_and_user_agents() -> None:
    assert bk.breakdown(EVENTS[2:4]) == {
        "update federatedconfigmaps/status": 1,
        "create federatedconfigmaps": 1,
    }
    assert bk.breakdown(EVENTS[4:], codes=True) == {"create namespaces 409": 1}
    assert bk.user_agents(EVENTS)["kubefed-controller-manager/v0.0.0"] == 3


def test_cpu_seconds_from_proc_stat() -> None:
    stat = "4242 (kubectl kubefed) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 8 0 100 0 0"
    assert bk.cpu_seconds(stat, 100) == 3.0


def test_summary_medians_and_ratios() -> None:
    runs = [
        {"controller": "kubefed", "mode": "backlog", "run": 1, "per_s": 40.0, "writes": {"x": 1}},
        {"controller": "kubefed", "mode": "backlog", "run": 2, "per_s": 44.0},
        {"controller": "ours", "mode": "backlog", "run": 1, "per_s": 126.0},
        {"controller": "ours", "mode": "backlog", "run": 2, "error": "TimeoutError: ..."},
    ]
    summary = bk.summarize(runs)["backlog"]
    assert summary["kubefed"] == {"per_s": 42.0}
    assert summary["ratio_ours_vs_kubefed"] == {"per_s": 3.0}
