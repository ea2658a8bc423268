"""A federated object the controller cannot handle never takes a worker down: it gets a
status and an event, and every other object is still propagated."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from kubectl_kubefed.api.objects import copy_json, nesting_depth
from kubectl_kubefed.core.limits import MAX_SPEC_DEPTH
from kubectl_kubefed.sync.propagation import TypeController
from tests.sim.helpers import cluster_statuses, cm, fed_configmap, fed_status, fleet, with_app


def _nested(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels - 1):
        node["a"] = {}
        node = node["a"]
    return root


def test_copy_json_and_depth_work_without_recursion() -> None:
    deep = {"x": [_nested(5000)]}
    copied = copy_json(deep)
    assert nesting_depth(copied) == nesting_depth(deep) == 5002
    node, original = copied["x"][0], deep["x"][0]
    while node:  # the same shape, and not one shared dict
        assert node is not original and list(node) == list(original) == ["a"]
        node, original = node["a"], original["a"]
    assert nesting_depth(deep, limit=10) == 11  # stops early
    assert nesting_depth("s") == 0 and nesting_depth({}) == 1


def test_a_600_level_template_is_refused_with_a_status_and_others_propagate() -> None:
    f = fleet()
    with_app(f)
    deep = fed_configmap(name="deep")
    deep["spec"]["template"]["data"] = {"k": "v"}
    deep["spec"]["template"]["x"] = _nested(600)
    f.apply([deep, fed_configmap(name="fine")])
    assert f.settle()
    assert cm(f, "c1", "fine") is not None  # the worker lived on
    assert set(cluster_statuses(f, "FederatedConfigMap", "deep").values()) == {"ComputeResourceFailed"}
    entry = fed_status(f, "FederatedConfigMap", "deep")["clusters"][0]
    assert f"more than {MAX_SPEC_DEPTH} levels" in entry["message"]
    assert any(
        e.reason == "ComputeResourceFailed" and e.name == "deep" and e.type == "Warning"
        for e in f.recorder.events
    )
    assert all(cm(f, c, "deep") is None for c in ("c1", "c2", "c3"))
    live = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "deep")
    assert "kubefed.io/sync-controller" not in (live["metadata"].get("finalizers") or [])  # never written
    # Deleting it still works (the finalizer comes off).
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "deep")
    assert f.settle()
    assert (
        f.host_server.list("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop")[0][0]["metadata"]["name"]
        == "fine"
    )


def test_a_spec_at_the_limit_is_propagated() -> None:
    f = fleet()
    with_app(f)
    ok = fed_configmap(name="ok")
    ok["spec"]["template"]["x"] = _nested(MAX_SPEC_DEPTH - 3)  # spec > template > x
    f.apply([ok])
    assert f.settle()
    assert cm(f, "c2", "ok") is not None


def test_an_unexpected_exception_is_logged_and_retried_with_back_off(monkeypatch: pytest.MonkeyPatch) -> None:
    f = fleet()
    with_app(f)
    real_sync = TypeController._sync
    failures = {"left": 2}

    def flaky(self: TypeController, key: Any, fed: Any) -> str:
        if key == ("shop", "cfg") and failures["left"]:
            failures["left"] -= 1
            raise KeyError("boom")
        return real_sync(self, key, fed)

    monkeypatch.setattr(TypeController, "_sync", flaky)
    f.apply([fed_configmap()])
    controller = f.manager.controllers["configmaps"]
    assert controller.process_one()  # raised inside, survived
    while controller.process_one():
        pass
    assert cm(f, "c1") is None
    errors = [m for level, m in f.logs if level == "error"]
    assert errors and "unexpected KeyError" in errors[0] and "('shop', 'cfg')" in errors[0]
    due = controller.queue.next_due()
    assert due is not None and due - f.clock.now() >= 5.0  # back-off, not a hot loop
    assert f.settle()
    assert cm(f, "c1") is not None and failures["left"] == 0


def test_the_manager_loop_survives_failing_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    f = fleet()
    calls = {"probe": 0, "ftcs": 0}

    def failing(what: str) -> Any:
        def fail() -> None:
            calls[what] += 1
            raise RuntimeError(f"{what} exploded")

        return fail

    monkeypatch.setattr(f.manager.health, "probe_all", failing("probe"))
    ftcs = f.manager.running["typeconfigs"]
    monkeypatch.setattr(ftcs, "sync_type_configs", failing("ftcs"))
    f.manager.health.next_probe_at = f.clock.now()  # virtual time stands still: due every round
    ftcs.dirty.set()
    stop = threading.Event()
    thread = threading.Thread(target=f.manager.run, args=(stop, 0.01), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while calls["probe"] < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    alive = thread.is_alive()
    stop.set()
    thread.join(10)
    assert alive and calls["probe"] >= 3  # the loop went on after a failed round
    assert calls["ftcs"] == 1 and ftcs.dirty.is_set()  # retried after 5 s, not in a hot loop
    assert any(level == "error" and "probe exploded" in m for level, m in f.logs)
