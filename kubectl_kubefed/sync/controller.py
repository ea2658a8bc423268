"""What a controller is to the manager, and how one is registered.

A controller module declares a ``ControllerSpec``: its name, what it watches and what it
reconciles (said in ``/readyz``-style logs and docs), and how to build it from a
``Runtime``. The manager builds the registered specs in order and drives them only through
the ``Controller`` protocol; it never reaches into one, and no controller reaches into
another (they talk through the runtime's bus and lookups).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.runtime import Runtime


@dataclass(frozen=True)
class Workers:
    """A work queue and how many workers drain it (each calls ``process_one``)."""

    count: int
    process_one: Callable[[], bool]
    queue: WorkQueue
    running: Callable[[], bool]


class Controller(Protocol):
    def start(self) -> None:
        """Initial lists and the first round; the member clusters are known by now."""

    def stop(self) -> None: ...

    def tick(self) -> bool:
        """Main-loop work that is due now (not queued per key); returns whether any was done."""

    def workers(self) -> dict[str, Workers]:
        """The queues to drain, by a name unique in the manager (thread names use it)."""

    def pending(self) -> bool:
        """Whether work is waiting now."""

    def next_due(self) -> float | None:
        """When work is due next (clock time), if any is scheduled."""

    def cluster_changed(self, cluster: str, change: str) -> None:
        """A member became "available", "unavailable", was "removed" or "changed"; its
        shared caches are already dropped unless it became available."""

    def host_informers(self) -> list[Informer]:
        """The host caches this controller holds (the manager restarts failed ones)."""


@dataclass(frozen=True)
class ControllerSpec:
    name: str
    watches: tuple[str, ...]  # host kinds, and "member:<kind>" for member caches
    reconciles: str
    build: Callable[[Runtime], Controller]
