"""Shared member caches: one list + watch per cluster and resource, whoever acquires it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from kubectl_kubefed.sync.client import WatchEvent
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.runtime import Bus
from kubectl_kubefed.sync.shared import Resource, SharedInformers

CM = Resource("v1", "ConfigMap", "", "kubefed.io/managed=true")


class _Watch:
    def __init__(self) -> None:
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class FakeClient:
    """Lists one object and keeps every watch's handler, so a test can send events."""

    def __init__(self) -> None:
        self.lists = 0
        self.watches: list[tuple[_Watch, Callable[[WatchEvent], None]]] = []

    def list(self, api_version: str, kind: str, namespace: str = "", label_selector: str = "") -> Any:
        self.lists += 1
        obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "a", "resourceVersion": "1"}}
        return [obj], "1"

    def watch(self, api_version: str, kind: str, handler: Callable[[WatchEvent], None], **kw: Any) -> _Watch:
        w = _Watch()
        self.watches.append((w, handler))
        return w

    def send(self, type_: str, obj: Mapping[str, Any]) -> None:
        for w, handler in self.watches:
            if not w.stopped:
                handler(WatchEvent(type_, dict(obj)))


def _hub() -> tuple[SharedInformers, dict[str, FakeClient]]:
    clients = {"c1": FakeClient(), "c2": FakeClient()}

    def client_of(name: str) -> Any:
        if name not in clients:
            raise ClientConfigError(f"cluster {name} is not registered")
        return clients[name]

    return SharedInformers(client_of), clients


def test_two_holders_share_one_list_and_watch_and_both_get_events() -> None:
    hub, clients = _hub()
    seen_a: list[str] = []
    seen_b: list[str] = []
    first = hub.acquire("c1", CM, lambda t, o: seen_a.append(t))
    second = hub.acquire("c1", CM, lambda t, o: seen_b.append(t))
    assert first is second
    assert clients["c1"].lists == 1 and len(clients["c1"].watches) == 1
    assert seen_a == ["ADDED"] and seen_b == []  # the second holder joins a synced cache
    clients["c1"].send("MODIFIED", {"metadata": {"name": "a", "resourceVersion": "2"}})
    assert seen_a == ["ADDED", "MODIFIED"] and seen_b == ["MODIFIED"]


def test_the_last_release_stops_the_cache() -> None:
    hub, clients = _hub()

    def a(t: str, o: Any) -> None:
        pass

    def b(t: str, o: Any) -> None:
        pass

    hub.acquire("c1", CM, a)
    hub.acquire("c1", CM, b)
    hub.release("c1", CM, a)
    watch = clients["c1"].watches[0][0]
    assert not watch.stopped and hub.get("c1", CM) is not None
    hub.release("c1", CM, b)
    assert watch.stopped and hub.get("c1", CM) is None
    hub.release("c1", CM, b)  # releasing again is harmless


def test_a_cluster_leaving_drops_only_its_caches_and_they_are_listed_again() -> None:
    hub, clients = _hub()

    def h(t: str, o: Any) -> None:
        pass

    hub.acquire("c1", CM, h)
    hub.acquire("c2", CM, h)
    hub.drop_cluster("c1")
    assert hub.get("c1", CM) is None and hub.get("c2", CM) is not None
    assert clients["c1"].watches[0][0].stopped and not clients["c2"].watches[0][0].stopped
    hub.acquire("c1", CM, h)
    assert clients["c1"].lists == 2


def test_a_cluster_without_a_client_gets_no_cache() -> None:
    hub, _ = _hub()
    with pytest.raises(ClientConfigError):
        hub.acquire("gone", CM, lambda t, o: None)
    assert hub.get("gone", CM) is None


def test_the_bus_reaches_subscribers_until_they_leave() -> None:
    bus = Bus()
    got: list[str] = []
    bus.subscribe("x", got.append)
    bus.publish("x", "one")
    bus.publish("y", "other topic")
    bus.unsubscribe("x", got.append)
    bus.publish("x", "two")
    assert got == ["one"]
