"""Leader election on a coordination.k8s.io Lease, so two controller replicas run safely.

The holder renews every ``retry_period``. Expiry is judged as client-go does, never by
another replica's clock: a standby records, on its own monotonic clock, when it last saw
the lease record change (holder, renew time, resource version, ...), and takes over only
once the record has not changed for ``leaseDurationSeconds`` of its own time. The
``renewTime`` a replica writes is informational.

A leader that cannot renew within ``renew_deadline`` (measured from the start of its
last successful renewal, so before the write reached the server) stops leading: the
controller stops its workers and exits. Should it still be running when half of the time
between the renew deadline and the lease duration is left, the process is aborted, so it
never writes after another replica may have taken the lease.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubectl_kubefed.api.objects import metadata
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, Conflict, NotFound

LEASE_API = "coordination.k8s.io/v1"


def _micro(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _abort_process() -> None:
    os._exit(1)


class LeaderElector:
    def __init__(
        self,
        host: ClusterClient,
        namespace: str,
        name: str,
        identity: str,
        *,
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        log: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        abort: Callable[[], None] = _abort_process,
    ) -> None:
        if not retry_period < renew_deadline < lease_duration:
            raise ValueError("leader election needs retry period < renew deadline < lease duration")
        self.host = host
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        # Abort midway between the renew deadline and the earliest take-over by another replica.
        self.abort_after = (renew_deadline + lease_duration) / 2
        self._log = log or (lambda _level, _m: None)  # (level, message)
        self._clock = clock
        self._wall_clock = wall_clock
        self._abort = abort
        self.leading = threading.Event()
        self.lost = threading.Event()
        self._lock = threading.Lock()
        self._observed: tuple[Any, ...] | None = None  # the lease record last seen
        self._observed_at = 0.0  # when it was first seen, on our monotonic clock
        self._last_renew: float | None = None  # start of our last successful acquire/renew
        self._aborted = False

    def _lease(self) -> dict[str, Any] | None:
        try:
            return self.host.get(LEASE_API, "Lease", self.namespace, self.name)
        except NotFound:
            return None

    def _observe(self, lease: dict[str, Any]) -> None:
        spec = lease.get("spec") or {}
        record = (
            spec.get("holderIdentity") or "",
            spec.get("renewTime"),
            spec.get("acquireTime"),
            spec.get("leaseTransitions"),
            spec.get("leaseDurationSeconds"),
            metadata(lease).get("resourceVersion"),
        )
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()

    @property
    def observed_holder(self) -> str:
        return str(self._observed[0]) if self._observed else ""

    def try_acquire_or_renew(self) -> bool:
        started = self._clock()
        now = self._wall_clock()
        spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "renewTime": _micro(now),
        }
        try:
            lease = self._lease()
            if lease is None:
                lease = self.host.create(
                    {
                        "apiVersion": LEASE_API,
                        "kind": "Lease",
                        "metadata": {"name": self.name, "namespace": self.namespace},
                        "spec": {**spec, "acquireTime": _micro(now), "leaseTransitions": 0},
                    }
                )
            else:
                self._observe(lease)
                current = lease.get("spec") or {}
                holder = current.get("holderIdentity") or ""
                duration = float(current.get("leaseDurationSeconds") or self.lease_duration)
                if holder and holder != self.identity and self._clock() - self._observed_at < duration:
                    return False  # held, and we saw it change less than a lease duration ago
                new_spec = {**current, **spec}
                if holder != self.identity:
                    new_spec["acquireTime"] = _micro(now)
                    new_spec["leaseTransitions"] = int(current.get("leaseTransitions") or 0) + 1
                lease = self.host.update({**lease, "spec": new_spec})
        except (Conflict, AlreadyExists):
            return False
        except ApiError as err:
            self._log("warning", f"leader election: {err}")
            return False
        self._observe(lease)
        with self._lock:
            self._last_renew = started
        return True

    def check_renewal(self, on_stopped: Callable[[], None]) -> None:
        """The watchdog's tick while leading: stop leading at the renew deadline, abort the
        process if it is still running at ``abort_after``. Never blocks on the API server."""
        with self._lock:
            last = self._last_renew
        if last is None or not (self.leading.is_set() or self.lost.is_set()):
            return
        elapsed = self._clock() - last
        if elapsed > self.renew_deadline:
            self._lose(on_stopped, f"could not renew the lease for {elapsed:.1f}s")
        if self.lost.is_set() and elapsed >= self.abort_after and not self._aborted:
            self._aborted = True
            self._log("error", "lost leadership and still running: aborting before another replica may lead")
            self._abort()

    def _lose(self, on_stopped: Callable[[], None], why: str) -> None:
        with self._lock:
            if self.lost.is_set():
                return
            self.lost.set()
            self.leading.clear()
        self._log("error", f"lost leadership: {why}")
        on_stopped()

    def _watchdog(self, stop: threading.Event, on_stopped: Callable[[], None]) -> None:
        tick = min(0.5, self.retry_period / 4)
        while not self._aborted:
            time.sleep(tick)
            if stop.is_set() and not self.lost.is_set():
                return  # an orderly shutdown
            self.check_renewal(on_stopped)

    def run(
        self, stop: threading.Event, on_started: Callable[[], None], on_stopped: Callable[[], None]
    ) -> None:
        """Block until leading (calling ``on_started``), renew until stopped or lost."""
        while not stop.is_set():
            if self.try_acquire_or_renew():
                break
            stop.wait(self.retry_period)
        if stop.is_set():
            return
        self.leading.set()
        self._log("info", f"became leader as {self.identity}")
        threading.Thread(
            target=self._watchdog, args=(stop, on_stopped), name="leader-watchdog", daemon=True
        ).start()
        # Renewals go on while on_started runs, however long starting the controllers takes.
        renewer = threading.Thread(
            target=self._renew_loop, args=(stop, on_stopped), name="leader-renew", daemon=True
        )
        renewer.start()
        on_started()
        renewer.join()
        if self.lost.is_set():
            return
        self.leading.clear()
        on_stopped()
        self.release()

    def _renew_loop(self, stop: threading.Event, on_stopped: Callable[[], None]) -> None:
        while not stop.is_set() and not self.lost.is_set():
            stop.wait(self.retry_period)
            if stop.is_set() or self.lost.is_set():
                return
            if self.try_acquire_or_renew():
                continue
            if self.observed_holder not in ("", self.identity):
                self._lose(on_stopped, f"the lease is held by {self.observed_holder}")
            else:
                self.check_renewal(on_stopped)

    def release(self) -> None:
        try:
            lease = self._lease()
            if lease is not None and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                spec = {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1}
                self.host.update({**lease, "spec": spec, "metadata": metadata(lease)})
        except ApiError as err:
            self._log("warning", f"releasing the lease: {err}")
