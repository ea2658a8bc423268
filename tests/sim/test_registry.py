"""The controller registry and shared member caches, on the simulator."""

from __future__ import annotations

from typing import Any

from kubectl_kubefed.sync.controller import ControllerSpec, Workers
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.manager import Manager
from kubectl_kubefed.sync.propagation import MANAGED_SELECTOR
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.runtime import Runtime
from kubectl_kubefed.sync.shared import Resource
from simulator.fleet import VirtualExecutor

from .helpers import fed_configmap, fleet, with_app

CONFIGMAPS = Resource("v1", "ConfigMap", "", MANAGED_SELECTOR)


class Counting:
    """A controller that only counts: built from a spec, driven through the protocol."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.calls: list[str] = []
        self.queue = WorkQueue(rt.clock)
        self.done: list[Any] = []

    def start(self) -> None:
        self.calls.append("start")
        self.queue.add("key")

    def stop(self) -> None:
        self.calls.append("stop")

    def tick(self) -> bool:
        self.calls.append("tick")
        return False

    def _process(self) -> bool:
        key = self.queue.get()
        if key is None:
            return False
        self.done.append(key)
        self.queue.done(key)
        return True

    def workers(self) -> dict[str, Workers]:
        return {"counting": Workers(1, self._process, self.queue, lambda: True)}

    def pending(self) -> bool:
        return len(self.queue) > 0

    def next_due(self) -> float | None:
        return self.queue.next_due()

    def cluster_changed(self, cluster: str, change: str) -> None:
        self.calls.append(f"{cluster}:{change}")

    def host_informers(self) -> list[Informer]:
        return []


def test_a_registered_controller_is_built_started_and_driven_by_the_manager_alone() -> None:
    f = fleet()
    built: list[Counting] = []

    def build(rt: Runtime) -> Counting:
        built.append(Counting(rt))
        return built[-1]

    spec = ControllerSpec("counting", watches=(), reconciles="nothing", build=build)
    manager = Manager(
        f.host, f._client_for, clock=f.clock, executor=VirtualExecutor(f.clock), controllers=[spec]
    )
    manager.start()
    (controller,) = built
    assert manager.pending()
    assert manager.step()
    assert controller.done == ["key"]
    assert [c for c in controller.calls if ":" not in c] == ["start", "tick"]
    assert "c1:available" in controller.calls  # the clusters the registry found
    assert not manager.pending()
    f.set_ready("c2", False)
    f.settle(max_seconds=120)  # the fleet's own manager probes; this one watches the clusters
    assert "c2:unavailable" in controller.calls
    manager.stop()
    assert controller.calls[-1] == "stop"


def test_member_caches_are_shared_one_list_per_cluster_and_resource() -> None:
    f = fleet()
    with_app(f)
    lists = {c: v.requests["list"] for c, v in f.views.items()}
    events: list[str] = []
    cache = f.manager.informers.acquire("c1", CONFIGMAPS, lambda t, o: events.append(t))
    assert cache is f.manager.controllers["configmaps"].member_informers["c1"]
    assert {c: v.requests["list"] for c, v in f.views.items()} == lists  # nothing listed again
    f.apply([fed_configmap()])
    assert f.settle()
    assert "ADDED" in events  # the second holder sees the propagation controller's write


def test_a_cluster_that_becomes_unavailable_loses_its_caches_and_gets_them_back() -> None:
    f = fleet()
    with_app(f)
    before = f.manager.informers.get("c2", CONFIGMAPS)
    assert before is not None
    f.set_ready("c2", False)
    f.settle(max_seconds=120)
    assert f.manager.informers.get("c2", CONFIGMAPS) is None
    f.set_ready("c2", True)
    f.settle(max_seconds=120)
    after = f.manager.informers.get("c2", CONFIGMAPS)
    assert after is not None and after is not before and after.synced
