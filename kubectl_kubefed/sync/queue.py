"""A de-duplicating, delaying work queue with per-key exponential back-off.

Semantics of client-go's workqueue that KubeFed relies on: a key is never processed by
two workers at once; a key added while being processed is processed again afterwards;
adding a key that is already waiting keeps the earliest due time.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Hashable

from kubectl_kubefed.sync.clock import Clock

BACKOFF_INITIAL = 5.0
BACKOFF_MAX = 60.0


class WorkQueue:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._due: dict[Hashable, float] = {}  # key -> due time of its waiting entry
        self._heap: list[tuple[float, int, Hashable]] = []
        self._seq = itertools.count()
        self._processing: set[Hashable] = set()
        self._dirty: dict[Hashable, float] = {}  # re-added while processing
        self._failures: dict[Hashable, int] = {}

    def add(self, key: Hashable, delay: float = 0.0) -> None:
        due = self._clock.now() + max(0.0, delay)
        with self._lock:
            if key in self._processing:
                self._dirty[key] = min(due, self._dirty.get(key, due))
                return
            if key in self._due and self._due[key] <= due:
                return
            self._due[key] = due
            heapq.heappush(self._heap, (due, next(self._seq), key))
            self._wakeup.notify()

    def add_rate_limited(self, key: Hashable) -> None:
        """Re-add after the key's back-off: 5 s, doubling, at most 60 s."""
        with self._lock:
            failures = self._failures.get(key, 0)
            self._failures[key] = failures + 1
        self.add(key, min(BACKOFF_MAX, BACKOFF_INITIAL * (2**failures)))

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._failures.pop(key, None)

    def _prune(self) -> None:
        while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)

    def get(self) -> Hashable | None:
        """The next due key (now marked processing), or None."""
        now = self._clock.now()
        with self._lock:
            self._prune()
            if not self._heap or self._heap[0][0] > now:
                return None
            _, _, key = heapq.heappop(self._heap)
            del self._due[key]
            self._processing.add(key)
            return key

    def done(self, key: Hashable) -> None:
        with self._lock:
            self._processing.discard(key)
            due = self._dirty.pop(key, None)
        if due is not None:
            self.add(key, max(0.0, due - self._clock.now()))

    def wait(self, timeout: float) -> None:
        """Block (real time) until a key is added or ``timeout`` passes."""
        with self._wakeup:
            self._wakeup.wait(timeout)

    def next_due(self) -> float | None:
        with self._lock:
            self._prune()
            return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._due) + len(self._processing)
