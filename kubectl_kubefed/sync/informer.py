"""A cache of one type in one cluster, kept current by list + watch.

A watch that ends (network, server restart) is resumed from the last resourceVersion
seen; when the server says that version is gone, the cache is re-listed and the
differences are delivered as events, so handlers never miss a change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kubectl_kubefed.api.objects import Obj, metadata, name_of, namespace_of
from kubectl_kubefed.sync.client import ClusterClient, Watch, WatchEvent
from kubectl_kubefed.sync.errors import ApiError, Gone, NotFound

Handler = Callable[[str, Obj], None]  # (event type, object)
Key = tuple[str, str]  # (namespace, name)


def key_of(obj: Obj) -> Key:
    return (namespace_of(obj), name_of(obj))


class Informer:
    def __init__(
        self,
        client: ClusterClient,
        api_version: str,
        kind: str,
        *,
        namespace: str = "",
        label_selector: str = "",
        on_event: Handler | None = None,
    ) -> None:
        self.client = client
        self.api_version = api_version
        self.kind = kind
        self.namespace = namespace
        self.label_selector = label_selector
        self._on_event = on_event
        self._lock = threading.RLock()
        self._store: dict[Key, Obj] = {}
        # resourceVersion at which a key was last seen deleted: our own write results
        # (put) must never bring a deleted object back into the cache.
        self._tombstones: dict[Key, int] = {}
        self._watch: Watch | None = None
        self._watch_starts = 0
        self._resource_version = ""
        self._stopped = False
        self.synced = False
        self.error: str = ""
        # The last list failed with 404: the cluster does not serve the type (a list of a
        # served type never 404s, not even in a missing namespace).
        self.not_served = False

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> bool:
        """List and watch; returns whether the cache is synced. Errors are kept in ``error``."""
        self._stopped = False
        try:
            self._relist()
        except ApiError as err:
            self.synced = False
            self.error = str(err)
            self.not_served = isinstance(err, NotFound)
            return False
        self._start_watch()
        return self.synced

    def ensure(self) -> None:
        """Restart a cache whose list or watch failed (e.g. while its cluster was down)."""
        if not self._stopped and (not self.synced or self._watch is None):
            self.start()

    def stop(self) -> None:
        self._stopped = True
        if self._watch is not None:
            self._watch.stop()
            self._watch = None

    def _relist(self) -> None:
        items, rv = self.client.list(self.api_version, self.kind, self.namespace, self.label_selector)
        fresh = {key_of(o): o for o in items}
        with self._lock:
            old = self._store
            self._store = fresh
            self._resource_version = rv
            self.synced = True
            self.error = ""
            self.not_served = False
        for key, obj in fresh.items():
            before = old.get(key)
            if before is None:
                self._emit("ADDED", obj)
            elif metadata(before).get("resourceVersion") != metadata(obj).get("resourceVersion"):
                self._emit("MODIFIED", obj)
        for key, obj in old.items():
            if key not in fresh:
                with self._lock:
                    self._tombstones[key] = int(rv) if rv.isdigit() else _rv_int(obj)
                self._emit("DELETED", obj)

    def _start_watch(self) -> None:
        self._watch_starts += 1
        start = self._watch_starts
        try:
            watch = self.client.watch(
                self.api_version,
                self.kind,
                self._handle,
                namespace=self.namespace,
                label_selector=self.label_selector,
                resource_version=self._resource_version,
            )
            # The watch may have ended before ``watch`` returned (the simulator delivers a
            # 410 at once; a real stream can end on its thread), and its handler may have
            # started the next one: keep only the newest, stop this one.
            if start == self._watch_starts:
                self._watch = watch
            else:
                watch.stop()
        except Gone:
            self._relist()
            self._start_watch()
        except ApiError as err:
            self.synced = False
            self.error = str(err)

    def _handle(self, event: WatchEvent) -> None:
        if self._stopped:
            return
        if event.type == "ERROR":
            # The watch ended: resume from where we were, or re-list when the server says
            # that version is gone (410).
            self._watch = None
            if event.obj.get("code") == 410:
                try:
                    self._relist()
                except ApiError as err:
                    self.synced = False
                    self.error = str(err)
                    return
            self._start_watch()
            return
        rv = metadata(event.obj).get("resourceVersion")
        with self._lock:
            if rv:
                self._resource_version = str(rv)
            if event.type == "BOOKMARK":
                return
            if event.type == "DELETED":
                self._store.pop(key_of(event.obj), None)
                self._tombstones[key_of(event.obj)] = _rv_int(event.obj)
            else:
                self._store[key_of(event.obj)] = event.obj
                self._tombstones.pop(key_of(event.obj), None)
        self._emit(event.type, event.obj)

    def _emit(self, event_type: str, obj: Obj) -> None:
        if self._on_event is not None:
            self._on_event(event_type, obj)

    # -- reads ------------------------------------------------------------------------

    def get(self, namespace: str, name: str) -> Obj | None:
        with self._lock:
            return self._store.get((namespace, name))

    def list(self, namespace: str | None = None) -> list[Obj]:
        with self._lock:
            return [o for (ns, _), o in self._store.items() if namespace is None or ns == namespace]

    def put(self, obj: Obj) -> None:
        """Record our own write at once, so the next reconcile does not act on stale data."""
        key = key_of(obj)
        with self._lock:
            current = self._store.get(key)
            if current is not None and _rv_int(current) > _rv_int(obj):
                return
            if current is None and key in self._tombstones and self._tombstones[key] >= _rv_int(obj):
                return
            if metadata(obj).get("deletionTimestamp") and not metadata(obj).get("finalizers"):
                self._store.pop(key, None)  # that write removed the object
                return
            self._store[key] = obj

    def forget(self, namespace: str, name: str) -> None:
        with self._lock:
            self._store.pop((namespace, name), None)


def _rv_int(obj: Any) -> int:
    try:
        return int(metadata(obj).get("resourceVersion") or 0)
    except ValueError:
        return 0
