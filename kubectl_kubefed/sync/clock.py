"""Time for controllers: injected, so the simulator and tests run on virtual time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch (or since the start of a simulation)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class VirtualClock:
    """A clock that only moves when told to; deterministic runs start at a fixed epoch."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self._start = start
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self._now += seconds

    def set(self, instant: float) -> None:
        self._now = instant

    @property
    def elapsed(self) -> float:
        return self._now - self._start


def rfc3339(instant: float) -> str:
    """Second-precision UTC timestamps, as Kubernetes writes them."""
    return datetime.fromtimestamp(int(instant), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micro(instant: float) -> str:
    """A MicroTime (e.g. a Lease's renewTime): RFC 3339 with exactly six fraction digits."""
    return datetime.fromtimestamp(instant, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
