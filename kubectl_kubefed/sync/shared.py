"""Shared member caches: one list + watch per cluster and resource, whoever needs it.

Controllers ``acquire`` a cache with their event handler and ``release`` it when done; the
last release stops it. A cluster that becomes unavailable, is removed or changes its
connection loses all its caches at once (``drop_cluster``); controllers acquire again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from kubectl_kubefed.api.objects import Obj
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.informer import Handler, Informer


@dataclass(frozen=True)
class Resource:
    """What a cache holds: one type, optionally one namespace and a label selector."""

    api_version: str
    kind: str
    namespace: str = ""
    label_selector: str = ""


class _Entry:
    def __init__(self) -> None:
        self.handlers: list[Handler] = []
        self.informer: Informer | None = None

    def emit(self, event_type: str, obj: Obj) -> None:
        for handler in list(self.handlers):
            handler(event_type, obj)


class SharedInformers:
    def __init__(self, client_of: Callable[[str], ClusterClient]) -> None:
        self._client_of = client_of  # raises when the cluster has no client
        self._lock = threading.RLock()
        self._entries: dict[tuple[str, Resource], _Entry] = {}

    def acquire(self, cluster: str, resource: Resource, handler: Handler) -> Informer:
        """The cluster's cache of ``resource``, started (and listed) on first acquisition;
        ``handler`` receives its events from now on. Raises what the client lookup raises."""
        with self._lock:
            entry = self._entries.get((cluster, resource))
            if entry is not None and entry.informer is not None:
                if handler not in entry.handlers:
                    entry.handlers.append(handler)
                return entry.informer
            client = self._client_of(cluster)
            entry = _Entry()
            entry.handlers.append(handler)
            entry.informer = Informer(
                client,
                resource.api_version,
                resource.kind,
                namespace=resource.namespace,
                label_selector=resource.label_selector,
                on_event=entry.emit,
            )
            self._entries[(cluster, resource)] = entry
        entry.informer.start()
        return entry.informer

    def get(self, cluster: str, resource: Resource) -> Informer | None:
        with self._lock:
            entry = self._entries.get((cluster, resource))
            return entry.informer if entry is not None else None

    def release(self, cluster: str, resource: Resource, handler: Handler) -> None:
        with self._lock:
            entry = self._entries.get((cluster, resource))
            if entry is None:
                return
            if handler in entry.handlers:
                entry.handlers.remove(handler)
            if entry.handlers:
                return
            del self._entries[(cluster, resource)]
        if entry.informer is not None:
            entry.informer.stop()

    def restart(self, cluster: str, resource: Resource) -> Informer | None:
        """A fresh list + watch for every holder of the cache (e.g. after a failed start)."""
        with self._lock:
            entry = self._entries.get((cluster, resource))
            if entry is None or not entry.handlers:
                return None
            del self._entries[(cluster, resource)]
        if entry.informer is not None:
            entry.informer.stop()
        first, *rest = entry.handlers
        informer = self.acquire(cluster, resource, first)
        for handler in rest:
            self.acquire(cluster, resource, handler)
        return informer

    def drop_cluster(self, cluster: str) -> None:
        with self._lock:
            gone = [k for k in self._entries if k[0] == cluster]
            entries = [self._entries.pop(k) for k in gone]
        for entry in entries:
            if entry.informer is not None:
                entry.informer.stop()

    def informers(self) -> list[tuple[str, Resource, Informer]]:
        with self._lock:
            return [(c, r, e.informer) for (c, r), e in self._entries.items() if e.informer is not None]

    def stop_all(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for entry in entries:
            if entry.informer is not None:
                entry.informer.stop()
