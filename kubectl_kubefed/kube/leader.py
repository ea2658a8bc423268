"""Leader election on a coordination.k8s.io Lease, so two controller replicas run safely.

The holder renews every ``retry_period``; a standby takes over once the lease has not
been renewed for ``lease_duration``. A leader that cannot renew within ``renew_deadline``
stops leading (the controller then exits, as controller-runtime does).
"""

from __future__ import annotations

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


def _parse(value: str) -> float:
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return 0.0


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
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.host = host
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self._log = log or (lambda _m: None)
        self.leading = threading.Event()

    def _lease(self) -> dict[str, Any] | None:
        try:
            return self.host.get(LEASE_API, "Lease", self.namespace, self.name)
        except NotFound:
            return None

    def try_acquire_or_renew(self) -> bool:
        now = time.time()
        spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": int(self.lease_duration),
            "renewTime": _micro(now),
        }
        try:
            lease = self._lease()
            if lease is None:
                self.host.create(
                    {
                        "apiVersion": LEASE_API,
                        "kind": "Lease",
                        "metadata": {"name": self.name, "namespace": self.namespace},
                        "spec": {**spec, "acquireTime": _micro(now), "leaseTransitions": 0},
                    }
                )
                return True
            current = lease.get("spec") or {}
            holder = current.get("holderIdentity") or ""
            expires = _parse(str(current.get("renewTime") or "")) + float(
                current.get("leaseDurationSeconds") or self.lease_duration
            )
            if holder and holder != self.identity and expires > now:
                return False
            new_spec = {**current, **spec}
            if holder != self.identity:
                new_spec["acquireTime"] = _micro(now)
                new_spec["leaseTransitions"] = int(current.get("leaseTransitions") or 0) + 1
            self.host.update({**lease, "spec": new_spec})
            return True
        except (Conflict, AlreadyExists):
            return False
        except ApiError as err:
            self._log(f"leader election: {err}")
            return False

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
        self._log(f"became leader as {self.identity}")
        on_started()
        last_renew = time.monotonic()
        while not stop.is_set():
            stop.wait(self.retry_period)
            if stop.is_set():
                break
            if self.try_acquire_or_renew():
                last_renew = time.monotonic()
            elif time.monotonic() - last_renew > self.renew_deadline:
                self._log("lost leadership")
                break
        self.leading.clear()
        on_stopped()
        if stop.is_set():
            self.release()

    def release(self) -> None:
        try:
            lease = self._lease()
            if lease is not None and (lease.get("spec") or {}).get("holderIdentity") == self.identity:
                spec = {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1}
                self.host.update({**lease, "spec": spec, "metadata": metadata(lease)})
        except ApiError as err:
            self._log(f"releasing the lease: {err}")
