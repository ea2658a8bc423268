"""Events on federated objects, written to the host as core/v1 Events (best effort).

Repeated events for the same object, reason and message are aggregated into one Event
whose ``count`` grows, as client-go's recorder does. Writing happens on a background
thread: a reconcile never waits for an event, and when the host falls behind, events
are dropped rather than slowing propagation.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

from kubectl_kubefed.api.objects import metadata, name_of, namespace_of
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.clock import Clock, rfc3339
from kubectl_kubefed.sync.errors import ApiError
from kubectl_kubefed.sync.events import MemoryRecorder


class HostRecorder(MemoryRecorder):
    def __init__(
        self,
        host: ClusterClient,
        clock: Clock,
        default_namespace: str,
        log: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(clock, limit=2_000)
        self._host = host
        self._namespace = default_namespace
        self._log = log
        self._seen: dict[tuple[str, str, str, str], tuple[str, str, int]] = {}
        self._write_lock = threading.Lock()
        self._pending: queue.Queue[tuple[dict[str, Any], str, str, str]] = queue.Queue(maxsize=10_000)
        self.dropped = 0
        threading.Thread(target=self._drain, name="events", daemon=True).start()

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        super().event(obj, type_, reason, message)
        try:
            self._pending.put_nowait((dict(obj), type_, reason, message))
        except queue.Full:
            self.dropped += 1

    def _drain(self) -> None:
        while True:
            obj, type_, reason, message = self._pending.get()
            self._write(obj, type_, reason, message)

    def _write(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        uid = str(metadata(obj).get("uid") or "")
        ns = namespace_of(obj) or self._namespace
        key = (uid, type_, reason, message)
        now = rfc3339(self._clock.now())
        try:
            with self._write_lock:
                seen = self._seen.get(key)
                if seen is not None:
                    name, event_ns, count = seen
                    current = self._host.get("v1", "Event", event_ns, name)
                    current["count"] = count + 1
                    current["lastTimestamp"] = now
                    self._host.update(current)
                    self._seen[key] = (name, event_ns, count + 1)
                    return
                created = self._host.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Event",
                        "metadata": {"generateName": f"{name_of(obj) or 'kubefed'}.", "namespace": ns},
                        "involvedObject": {
                            "apiVersion": obj.get("apiVersion"),
                            "kind": obj.get("kind"),
                            "name": name_of(obj),
                            "namespace": namespace_of(obj),
                            "uid": uid,
                        },
                        "type": type_,
                        "reason": reason,
                        "message": message[:1024],
                        "source": {"component": "kubefed-controller"},
                        "firstTimestamp": now,
                        "lastTimestamp": now,
                        "count": 1,
                    }
                )
                if len(self._seen) > 5_000:
                    self._seen.clear()
                self._seen[key] = (name_of(created), ns, 1)
        except ApiError as err:
            if self._log is not None:
                self._log(f"event {reason} not recorded: {err}")
