"""Events on federated objects: recorded in memory, and optionally written to the host."""

from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
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

    def reasons(self) -> list[str]:
        with self._lock:
            return [e.reason for e in self.events]
