"""Events on federated objects: recorded in memory, and optionally written to the host."""

from __future__ import annotations

import collections
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kubectl_kubefed.api.objects import kind_of, name_of, namespace_of


@dataclass(frozen=True)
class Event:
    time: float
    kind: str
    namespace: str
    name: str
    type: str  # Normal | Warning
    reason: str
    message: str


class Recorder(Protocol):
    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None: ...


# (object, type, reason, message) of one event
Item = tuple[Mapping[str, Any], str, str, str]


def record_all(recorder: Recorder, items: Sequence[Item]) -> None:
    """Hand a reconcile's events to ``recorder`` together (a recorder that writes them
    somewhere may fold those of one object and reason into one write)."""
    if not items:
        return
    batch = getattr(recorder, "record_all", None)
    if batch is not None:
        batch(items)
        return
    for obj, type_, reason, message in items:
        recorder.event(obj, type_, reason, message)


# What ``kubectl kubefed controller --events`` writes to the host (the in-memory record
# that the simulator and tests read always has every event).
EVENTS_ALL = "all"  # KubeFed's: every event
EVENTS_CHANGES = "changes"  # the default: see ``written_to_host``
EVENTS_WARNINGS = "warnings"
EVENT_POLICIES = (EVENTS_ALL, EVENTS_CHANGES, EVENTS_WARNINGS)


def written_to_host(policy: str, obj: Mapping[str, Any], type_: str, reason: str) -> bool:
    """Whether an event goes to the host under ``policy``.

    ``changes`` leaves out the Normal events that only repeat what the user just did and
    what the object's status already says: the creations of a federated object's first
    rollout (it has no status yet) and the deletions of the member objects of a federated
    object being deleted. At scale these were one host write per object out of five
    (issue 16), for Events that expire within the hour. Every Warning is written, and so
    is every Normal event about a change to a federated object that was already rolled
    out (a member object re-created, updated, deleted by placement, or unlabelled).
    """
    if type_ != "Normal" or policy == EVENTS_ALL:
        return True
    if policy == EVENTS_WARNINGS:
        return False
    if reason == "CreateInCluster":
        return "observedGeneration" in (obj.get("status") or {})
    if reason == "DeleteInCluster":
        return not (obj.get("metadata") or {}).get("deletionTimestamp")
    return True


class EventBatch:
    """A recorder that holds the events of one reconcile until ``flush`` (thread-safe: the
    member calls of a reconcile run concurrently)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._lock = threading.Lock()
        self._items: list[Item] = []

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        with self._lock:
            self._items.append((obj, type_, reason, message))

    def flush(self) -> None:
        with self._lock:
            items, self._items = self._items, []
        record_all(self.recorder, items)


_IN_CLUSTER = re.compile(r'^(?P<head>.*) in cluster "(?P<cluster>[^"]*)"(?P<tail>.*)$', re.DOTALL)


def fold_messages(messages: Sequence[str]) -> str:
    """One message for events of the same object and reason: ``Creating ConfigMap "a/b"
    in clusters "c1", "c2"`` when they differ only by cluster, else joined by "; "."""
    distinct = list(dict.fromkeys(messages))
    if len(distinct) == 1:
        return distinct[0]
    parts = [_IN_CLUSTER.match(m) for m in distinct]
    if all(parts) and len({(p["head"], p["tail"]) for p in parts if p}) == 1:
        first = parts[0]
        assert first is not None
        clusters = ", ".join(f'"{p["cluster"]}"' for p in parts if p)
        return f"{first['head']} in clusters {clusters}{first['tail']}"
    return "; ".join(distinct)


def fold(items: Sequence[Item]) -> list[tuple[Mapping[str, Any], str, str, str, int]]:
    """Events of one object with the same type and reason become one (object, type,
    reason, message, count), in the order they were first recorded."""
    groups: dict[tuple[str, str, str, str, str], list[Item]] = {}
    for item in items:
        obj = item[0]
        meta = obj.get("metadata") or {}
        key = (str(meta.get("uid") or ""), namespace_of(obj), name_of(obj), item[1], item[2])
        groups.setdefault(key, []).append(item)
    return [
        (group[0][0], group[0][1], group[0][2], fold_messages([i[3] for i in group]), len(group))
        for group in groups.values()
    ]


class MemoryRecorder:
    """Keeps the newest events; the simulator reports them, tests assert on them."""

    def __init__(self, clock: Any, limit: int = 20_000) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.events: collections.deque[Event] = collections.deque(maxlen=limit)

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        with self._lock:
            self.events.append(
                Event(
                    self._clock.now(),
                    kind_of(obj),
                    namespace_of(obj),
                    name_of(obj),
                    type_,
                    reason,
                    message,
                )
            )

    def record_all(self, items: Sequence[Item]) -> None:
        for obj, type_, reason, message in items:
            MemoryRecorder.event(self, obj, type_, reason, message)

    def reasons(self) -> list[str]:
        with self._lock:
            return [e.reason for e in self.events]
