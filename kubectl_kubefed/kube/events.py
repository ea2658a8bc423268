"""Events on federated objects, written to the host as core/v1 Events (best effort).

The events of one reconcile that share an object, a type and a reason are written as one
Event (``count``: how many, message: ``... in clusters "a", "b"``), and repeated events for
the same object, reason and message are aggregated into one Event whose ``count`` grows,
as client-go's recorder does (one update, no read first). Writing happens on a
background thread: a reconcile never waits for an event, and when the host falls behind,
events are dropped rather than slowing propagation.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubectl_kubefed.api.objects import Obj, metadata, name_of, namespace_of
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.clock import Clock, rfc3339
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.events import EVENTS_CHANGES, Item, MemoryRecorder, fold, written_to_host

MAX_MESSAGE = 1024
SEEN_LIMIT = 5_000

# The involved object (apiVersion, kind, namespace, name, uid), type, reason, message, count.
Pending = tuple[tuple[str, str, str, str, str], str, str, str, int]


def _involved(obj: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    return (
        str(obj.get("apiVersion") or ""),
        str(obj.get("kind") or ""),
        namespace_of(obj),
        name_of(obj),
        str(metadata(obj).get("uid") or ""),
    )


class HostRecorder(MemoryRecorder):
    def __init__(
        self,
        host: ClusterClient,
        clock: Clock,
        log: Callable[[str], None] | None = None,
        *,
        background: bool = True,
        policy: str = EVENTS_CHANGES,
    ) -> None:
        """``background=False``: every event is written before ``event`` returns (the
        simulator's benchmarks count these writes deterministically). ``policy``: which
        events are written (``sync.events.written_to_host``); all are kept in memory."""
        super().__init__(clock, limit=2_000)
        self._policy = policy
        self._host = host
        self._log = log
        # (uid, type, reason, message) -> the Event last written for it
        self._seen: dict[tuple[str, str, str, str], Obj] = {}
        self._write_lock = threading.Lock()
        self._pending: queue.Queue[Pending] = queue.Queue(maxsize=10_000)
        self.dropped = 0
        self._background = background
        if background:
            threading.Thread(target=self._drain, name="events", daemon=True).start()

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        super().event(obj, type_, reason, message)
        if written_to_host(self._policy, obj, type_, reason):
            self._submit((_involved(obj), type_, reason, message, 1))

    def record_all(self, items: Sequence[Item]) -> None:
        super().record_all(items)
        items = [i for i in items if written_to_host(self._policy, i[0], i[1], i[2])]
        for obj, type_, reason, message, count in fold(items):
            self._submit((_involved(obj), type_, reason, message, count))

    def _submit(self, pending: Pending) -> None:
        if not self._background:
            self._write(*pending)
            return
        try:
            self._pending.put_nowait(pending)
        except queue.Full:
            self.dropped += 1

    def _drain(self) -> None:
        while True:
            self._write(*self._pending.get())

    def _write(
        self, involved: tuple[str, str, str, str, str], type_: str, reason: str, message: str, count: int
    ) -> None:
        api_version, kind, namespace, name, uid = involved
        message = message[:MAX_MESSAGE]
        key = (uid, type_, reason, message)
        now = rfc3339(self._clock.now())
        try:
            with self._write_lock:
                seen = self._seen.get(key)
                if seen is not None and self._bump(key, seen, count, now):
                    return
                # The API server takes events about cluster-scoped objects only in "default".
                ns = namespace or "default"
                created = self._host.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Event",
                        "metadata": {"generateName": f"{name or 'kubefed'}.", "namespace": ns},
                        "involvedObject": {
                            "apiVersion": api_version,
                            "kind": kind,
                            "name": name,
                            "namespace": namespace,
                            "uid": uid,
                        },
                        "type": type_,
                        "reason": reason,
                        "message": message,
                        "source": {"component": "kubefed-controller"},
                        "firstTimestamp": now,
                        "lastTimestamp": now,
                        "count": count,
                    }
                )
                if len(self._seen) > SEEN_LIMIT:
                    self._seen.clear()
                self._seen[key] = created
        except ApiError as err:
            if self._log is not None:
                self._log(f"event {reason} not recorded: {err}")

    def _bump(self, key: tuple[str, str, str, str], seen: Obj, count: int, now: str) -> bool:
        """The same event again: its count grows, in one update of the Event last written
        (read again only on a conflict). False: it is gone, create a new one."""
        current = seen
        for _ in range(2):
            bumped = {**current, "count": int(current.get("count") or 1) + count, "lastTimestamp": now}
            try:
                self._seen[key] = self._host.update(bumped)
                return True
            except NotFound:
                break
            except Conflict:
                try:
                    current = self._host.get("v1", "Event", namespace_of(seen), name_of(seen))
                except NotFound:
                    break
        self._seen.pop(key, None)
        return False
