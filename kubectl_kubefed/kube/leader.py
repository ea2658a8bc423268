"""Leader election on a coordination.k8s.io Lease, so two controller replicas run safely.

The holder renews every ``retry_period``. Expiry is judged as client-go does, never by
another replica's clock: a standby records, on its own monotonic clock, when it last saw
the lease record change (holder, renew time, resource version, ...), and takes over only
once the record has not changed for ``leaseDurationSeconds`` of its own time. The
``renewTime`` a replica writes is informational.

KubeFed's controller-manager locks with a ConfigMap (or Endpoints) of the same name,
holding client-go's leader record as JSON in the annotation
``control-plane.alpha.kubernetes.io/leader``. With ``legacy_lock`` the elector also
respects and holds that lock (as client-go's ConfigMap+Lease multi-lock did for its
migration): it does not lead while a KubeFed replica's record is live (changed within its
``leaseDurationSeconds`` on our monotonic clock), and while leading it writes its own
record there, so a KubeFed replica started next to it waits as a standby.

A leader that cannot renew within ``renew_deadline`` (measured from the start of its
last successful renewal, so before the write reached the server) stops leading: the
controller stops its workers and exits. Should it still be running when half of the time
between the renew deadline and the lease duration is left, the process is aborted, so it
never writes after another replica may have taken the lease.

The watchdog alone is not enough when time jumps: a process frozen (SIGSTOP, a paused
VM, a long GC or swap stall) past the lease duration resumes every thread at once, and a
worker could send a write before the watchdog runs. So every write of the controller's
clients passes ``fence`` right before it leaves (``Rest.write_fence``): it is refused,
with ``NotLeading``, unless this replica leads and its last successful renewal started
less than ``renew_deadline`` ago on the monotonic clock. A leader past its deadline never
renews again (client-go's renew loop gives up at the deadline too): it has lost.

The clock is ``CLOCK_BOOTTIME`` where the system has it: monotonic, and unlike
``CLOCK_MONOTONIC`` it counts a suspended machine's sleep, which other replicas' clocks
count as well.
"""

from __future__ import annotations

import json
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
LEGACY_ANNOTATION = "control-plane.alpha.kubernetes.io/leader"
LEGACY_LOCKS = {"configmaps": "ConfigMap", "endpoints": "Endpoints"}


def _seconds(ts: float) -> str:
    """metav1.Time as client-go's leader record holds it (RFC 3339, whole seconds)."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _abort_process() -> None:
    os._exit(1)


_CLOCK_ID = getattr(time, "CLOCK_BOOTTIME", None)


def monotonic() -> float:
    """Seconds on a clock no one sets: CLOCK_BOOTTIME (counts suspend), else time.monotonic."""
    if _CLOCK_ID is not None:
        return time.clock_gettime(_CLOCK_ID)
    return time.monotonic()


class NotLeading(ApiError):
    """A write refused before it left: this replica does not lead, or may no longer."""

    code, reason = 503, "NotLeading"


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
        clock: Callable[[], float] = monotonic,
        wall_clock: Callable[[], float] = time.time,
        abort: Callable[[], None] = _abort_process,
        legacy_lock: str | None = None,
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
        # KubeFed's lock (ConfigMap or Endpoints): its raw record, when it last changed.
        self.legacy_kind = LEGACY_LOCKS[legacy_lock] if legacy_lock else None
        self._legacy_raw: str | None = None
        self._legacy_seen_at = 0.0
        self._legacy_holder = ""  # a live holder other than us, or ""
        self._legacy_logged = ""

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
        if self._legacy_holder:
            return self._legacy_holder
        return str(self._observed[0]) if self._observed else ""

    # -- the write fence ------------------------------------------------------------------

    def may_write(self) -> bool:
        """Leading, and the last successful renewal started within ``renew_deadline``."""
        with self._lock:
            last = self._last_renew
            if last is None or self.lost.is_set() or not self.leading.is_set():
                return False
        return self._clock() - last <= self.renew_deadline

    def fence(self) -> None:
        """``Rest.write_fence``: raise NotLeading unless a write may leave now."""
        if not self.may_write():
            raise NotLeading(f"{self.identity} does not hold the lease {self.namespace}/{self.name}")

    def renewal_fence(self) -> None:
        """``Rest.write_fence`` of the elector's own client: a leader past its renew deadline,
        or one that lost, sends no lease write either (a renewal begun before a freeze and
        resumed after it); a standby's attempt to acquire and the release pass."""
        if self.lost.is_set() or (self.leading.is_set() and self._past_deadline()):
            raise NotLeading(f"{self.identity} is past its renew deadline")

    def _past_deadline(self) -> bool:
        with self._lock:
            last = self._last_renew
        return last is not None and self._clock() - last > self.renew_deadline

    # -- KubeFed's lock ----------------------------------------------------------------

    def _legacy_read(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """KubeFed's lock object and its leader record ({} when none); notes when it changed."""
        assert self.legacy_kind is not None
        try:
            obj: dict[str, Any] | None = self.host.get("v1", self.legacy_kind, self.namespace, self.name)
        except NotFound:
            obj = None
        raw = str(((obj or {}).get("metadata") or {}).get("annotations", {}).get(LEGACY_ANNOTATION) or "")
        if raw != self._legacy_raw:
            self._legacy_raw = raw
            self._legacy_seen_at = self._clock()
        try:
            record = json.loads(raw) if raw else {}
        except ValueError:
            record = {}
        return obj, record if isinstance(record, dict) else {}

    def _legacy_live_holder(self, record: dict[str, Any]) -> str:
        holder = str(record.get("holderIdentity") or "")
        if not holder or holder == self.identity:
            return ""
        try:
            duration = float(record.get("leaseDurationSeconds") or self.lease_duration)
        except (TypeError, ValueError):
            duration = self.lease_duration
        return holder if self._clock() - self._legacy_seen_at < duration else ""

    def _legacy_write(
        self, obj: dict[str, Any] | None, record: dict[str, Any], now: float, *, release: bool = False
    ) -> None:
        assert self.legacy_kind is not None
        ours = record.get("holderIdentity") == self.identity
        transitions = int(record.get("leaderTransitions") or 0)
        new = {
            "holderIdentity": "" if release else self.identity,
            "leaseDurationSeconds": 1 if release else int(self.lease_duration),
            "acquireTime": record.get("acquireTime") if ours and not release else _seconds(now),
            "renewTime": _seconds(now),
            "leaderTransitions": transitions if ours or release or not record else transitions + 1,
        }
        raw = json.dumps(new, separators=(",", ":"))
        if obj is None:
            self.host.create(
                {
                    "apiVersion": "v1",
                    "kind": self.legacy_kind,
                    "metadata": {
                        "name": self.name,
                        "namespace": self.namespace,
                        "annotations": {LEGACY_ANNOTATION: raw},
                    },
                }
            )
        else:
            meta = dict(metadata(obj))
            meta["annotations"] = {**(meta.get("annotations") or {}), LEGACY_ANNOTATION: raw}
            self.host.update({**obj, "metadata": meta})
        self._legacy_raw = raw
        self._legacy_seen_at = self._clock()

    def _legacy_check(self) -> tuple[dict[str, Any] | None, dict[str, Any]] | None:
        """KubeFed's lock when we may hold it, None while a KubeFed replica holds it."""
        obj, record = self._legacy_read()
        self._legacy_holder = self._legacy_live_holder(record)
        if self._legacy_holder:
            if self._legacy_logged != self._legacy_holder:
                self._legacy_logged = self._legacy_holder
                self._log(
                    "info",
                    f"{self.legacy_kind} {self.namespace}/{self.name} (the leader lock KubeFed uses) "
                    f"is held by {self._legacy_holder}: waiting until it is released or left "
                    "unrenewed for its lease duration",
                )
            return None
        return obj, record

    # -- the Lease -----------------------------------------------------------------------

    def try_acquire_or_renew(self) -> bool:
        started = self._clock()
        now = self._wall_clock()
        legacy: tuple[dict[str, Any] | None, dict[str, Any]] | None = None
        if self.legacy_kind is not None:
            try:
                legacy = self._legacy_check()
            except ApiError as err:
                self._log("warning", f"leader election: reading {self.legacy_kind} {self.name}: {err}")
                return False
            if legacy is None:
                return False
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
            if legacy is not None:
                self._legacy_write(legacy[0], legacy[1], now)
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
            if self._past_deadline():  # e.g. frozen past it: never renew, the lease may be gone
                self.check_renewal(on_stopped)
                return
            if self.try_acquire_or_renew():
                continue
            if self.observed_holder not in ("", self.identity):
                self._lose(on_stopped, f"the lease is held by {self.observed_holder}")
            else:
                self.check_renewal(on_stopped)

    def release(self) -> None:
        if self.legacy_kind is not None:
            try:
                obj, record = self._legacy_read()
                if obj is not None and record.get("holderIdentity") == self.identity:
                    self._legacy_write(obj, record, self._wall_clock(), release=True)
            except ApiError as err:
                self._log("warning", f"releasing the {self.legacy_kind} lock: {err}")
        try:
            lease = self._lease()
            if lease is not None and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                spec = {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1}
                self.host.update({**lease, "spec": spec, "metadata": metadata(lease)})
        except ApiError as err:
            self._log("warning", f"releasing the lease: {err}")
