from kubectl_kubefed.core.health import HealthRecord, Probe, damp, probe_conditions
from kubectl_kubefed.core.propagation_status import next_status
from kubectl_kubefed.sync.clock import VirtualClock
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.settings import Settings, parse_duration

READY = probe_conditions(Probe.READY, "t0")
NOT_READY = probe_conditions(Probe.OFFLINE, "t0", "boom")


def test_damping_vector_first_probe_published() -> None:
    record = damp(None, READY, "t1")
    assert record.ready and record.result_run == 1


def test_damping_vector_young_ready_holds() -> None:
    record = damp(HealthRecord(READY, 2), NOT_READY, "t1")
    assert record.ready
    assert record.result_run == 3
    assert record.conditions[0]["lastProbeTime"] == "t1"
    assert record.conditions[0]["lastTransitionTime"] == "t0"


def test_damping_vector_old_ready_flips() -> None:
    record = damp(HealthRecord(READY, 3), NOT_READY, "t1")
    assert not record.ready
    assert record.result_run == 1
    assert record.conditions[0]["lastTransitionTime"] == "t0"  # the probe's own time


def test_damping_vector_not_ready_to_ready_flips_at_once() -> None:
    record = damp(HealthRecord(NOT_READY, 1), probe_conditions(Probe.READY, "t2"), "t2")
    assert record.ready and record.result_run == 1
    assert record.conditions[0]["lastTransitionTime"] == "t2"


def test_same_readiness_keeps_transition_time() -> None:
    record = damp(HealthRecord(READY, 5), probe_conditions(Probe.READY, "t9"), "t9")
    assert record.conditions[0]["lastTransitionTime"] == "t0"
    assert record.result_run == 6


def test_probe_conditions() -> None:
    assert probe_conditions(Probe.MALFORMED, "t")[0]["type"] == "ConfigMalformed"
    not_ok = probe_conditions(Probe.NOT_OK, "t")
    assert [(c["type"], c["status"]) for c in not_ok] == [("Ready", "False"), ("Offline", "False")]


def test_queue_dedupes_delays_and_backs_off() -> None:
    clock = VirtualClock()
    q = WorkQueue(clock)
    q.add("a", 10)
    q.add("a", 5)  # earlier wins
    q.add("a", 20)
    assert q.get() is None
    clock.advance(5)
    assert q.get() == "a"
    assert q.get() is None
    q.done("a")
    delays = []
    for _ in range(6):
        start = clock.now()
        q.add_rate_limited("b")
        due = q.next_due()
        assert due is not None
        delays.append(due - start)
        clock.set(due)
        assert q.get() == "b"
        q.done("b")
    assert delays == [5, 10, 20, 40, 60, 60]
    q.forget("b")
    q.add_rate_limited("b")
    assert q.next_due() == clock.now() + 5


def test_queue_key_readded_while_processing_runs_again() -> None:
    clock = VirtualClock()
    q = WorkQueue(clock)
    q.add("a")
    assert q.get() == "a"
    q.add("a")
    assert q.get() is None  # never processed twice at once
    q.done("a")
    assert q.get() == "a"


def test_status_written_only_on_change() -> None:
    first = next_status(None, 1, "", {"c1": ""}, "t1")
    assert first is not None
    assert first["conditions"][0] == {
        "type": "Propagation",
        "status": "True",
        "lastTransitionTime": "t1",
        "lastUpdateTime": "t1",
    }
    assert next_status(first, 1, "", {"c1": ""}, "t2") is None
    changed = next_status(first, 1, "", {"c1": "", "c2": "CreationFailed"}, "t3")
    assert changed is not None
    assert changed["conditions"][0]["reason"] == "CheckClusters"
    assert changed["conditions"][0]["lastTransitionTime"] == "t3"
    assert changed["clusters"] == [{"name": "c1"}, {"name": "c2", "status": "CreationFailed"}]
    bumped = next_status(first, 2, "", {"c1": ""}, "t4")
    assert bumped is not None and bumped["observedGeneration"] == 2
    assert bumped["conditions"][0]["lastUpdateTime"] == "t1"  # only generation changed


def test_status_failure_reasons_clear_clusters() -> None:
    s = next_status(None, 1, "ComputePlacementFailed", {"c1": ""}, "t")
    assert s is not None and "clusters" not in s
    s = next_status(None, 1, "NamespaceNotFederated", {}, "t")
    assert s is not None and s["conditions"][0]["reason"] == "NamespaceNotFederated"


def test_settings_from_kubefed_config() -> None:
    s = Settings.from_kubefed_config(
        {
            "spec": {
                "scope": "Namespaced",
                "controllerDuration": {"availableDelay": "1m30s"},
                "syncController": {"adoptResources": "Disabled"},
            }
        },
        "ns",
    )
    assert (s.scope, s.available_delay, s.adopt_resources, s.namespace) == ("Namespaced", 90.0, False, "ns")
    assert parse_duration("500ms", 0) == 0.5
