"""What a controller is to the manager, and how one is registered.

A controller module declares a ``ControllerSpec``: its name, what it watches and what it
reconciles (said in ``/readyz``-style logs and docs), and how to build it from a
``Runtime``. The manager builds the registered specs in order and drives them only through
the ``Controller`` protocol; it never reaches into one, and no controller reaches into
another (they talk through the runtime's bus and lookups).
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from kubectl_kubefed.sync.errors import ApiError
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.metrics import Metrics
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


class QueueController:
    """The queue half of the Controller protocol for a controller that drains one work
    queue, named ``queue_name``, while it is ``running``."""

    rt: Runtime
    queue: WorkQueue
    queue_name: str
    running: bool

    def process_one(self) -> bool:
        raise NotImplementedError

    def workers(self) -> dict[str, Workers]:
        if not self.running:
            return {}
        count = self.rt.settings.workers_for(self.queue_name)
        return {self.queue_name: Workers(count, self.process_one, self.queue, lambda: self.running)}

    def pending(self) -> bool:
        return self.running and len(self.queue) > 0

    def next_due(self) -> float | None:
        return self.queue.next_due() if self.running else None


@dataclass(frozen=True)
class ControllerSpec:
    name: str
    watches: tuple[str, ...]  # host kinds, and "member:<kind>" for member caches
    reconciles: str
    build: Callable[[Runtime], Controller]


def process_next(
    queue: WorkQueue,
    reconcile: Callable[[Any], str],
    *,
    what: str,
    log: Callable[[str, str], None],
    recheck_delay: float,
    metrics: Metrics | None = None,
    metric_type: str = "",
) -> bool:
    """Take the next due key of ``queue`` and reconcile it; False when none is due.

    ``reconcile`` returns "ok", "error" (retried with back-off) or "recheck" (again after
    ``recheck_delay``). An API error is logged at warning, anything else (a defect or an
    unforeseen input) at error with where it was raised; both are retried and the worker
    goes on. With ``metrics``, the outcome and duration are counted under ``metric_type``.
    """
    key: Hashable | None = queue.get()
    if key is None:
        return False
    started = time.perf_counter()
    try:
        outcome = reconcile(key)
    except ApiError as err:
        log(f"{what} {key}: {err}", "warning")
        outcome = "error"
    except Exception as err:
        frame = traceback.extract_tb(err.__traceback__)[-1]
        where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
        detail = str(err).splitlines()[0][:300] if str(err) else ""
        log(f"{what} {key}: unexpected {type(err).__name__} at {where}: {detail}", "error")
        outcome = "error"
    finally:
        queue.done(key)
    if metrics is not None:
        labels = (("type", metric_type),)
        metrics.inc("kubefed_reconciles_total", (*labels, ("outcome", outcome)))
        metrics.observe("kubefed_reconcile_duration_seconds", time.perf_counter() - started, labels)
    if outcome == "error":
        queue.add_rate_limited(key)
    else:
        queue.forget(key)
        if outcome == "recheck":
            queue.add(key, recheck_delay)
    return True
