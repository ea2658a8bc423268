"""Leader election: expiry judged on the local monotonic clock (never another replica's
wall clock), and a leader that cannot renew stops, then aborts, before anyone takes over."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest

from kubectl_kubefed.kube.leader import LeaderElector
from kubectl_kubefed.sync.errors import AlreadyExists, Conflict, NotFound, Unavailable

START = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t


class LeaseStore:
    """One Lease with resourceVersions; each replica reaches it through its own view."""

    def __init__(self) -> None:
        self.lease: dict[str, Any] | None = None
        self.rv = 0

    def _stored(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.rv += 1
        new = copy.deepcopy(dict(obj))
        new["metadata"] = {**new["metadata"], "resourceVersion": str(self.rv)}
        self.lease = new
        return copy.deepcopy(new)


class View:
    def __init__(self, store: LeaseStore) -> None:
        self.store = store
        self.down = False  # a partition: every request fails
        self.name = "host"

    def _check(self) -> None:
        if self.down:
            raise Unavailable("connection refused")

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        self._check()
        if self.store.lease is None:
            raise NotFound("lease not found")
        return copy.deepcopy(self.store.lease)

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self._check()
        if self.store.lease is not None:
            raise AlreadyExists("exists")
        return self.store._stored(obj)

    def update(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self._check()
        assert self.store.lease is not None
        if obj["metadata"].get("resourceVersion") != self.store.lease["metadata"]["resourceVersion"]:
            raise Conflict("modified")
        return self.store._stored(obj)


class Replica:
    def __init__(self, store: LeaseStore, clock: Clock, identity: str, skew: float = 0.0) -> None:
        self.view = View(store)
        self.clock = clock
        self.stopped_at: float | None = None
        self.aborted_at: float | None = None
        self.elector = LeaderElector(
            self.view,  # type: ignore[arg-type]
            "kube-federation-system",
            "kubefed-controller-manager",
            identity,
            clock=clock.monotonic,
            wall_clock=lambda: START + clock.t + skew,
            abort=self._abort,
        )

    def _abort(self) -> None:
        self.aborted_at = self.clock.t

    def on_stopped(self) -> None:
        self.stopped_at = self.clock.t

    def lead(self) -> None:
        assert self.elector.try_acquire_or_renew()
        self.elector.leading.set()


def _tick(clock: Clock, step: float = 0.5) -> None:
    clock.t += step


def test_a_replica_whose_clock_is_ahead_never_takes_a_renewed_lease() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    b = Replica(store, clock, "b", skew=60.0)  # its wall clock is a minute ahead
    a.lead()
    for step in range(60):  # two minutes: a renews every 2 s, b tries every 2 s
        _tick(clock, 1.0)
        if step % 2 == 0:
            assert a.elector.try_acquire_or_renew()
        else:
            assert not b.elector.try_acquire_or_renew()
    assert store.lease is not None and store.lease["spec"]["holderIdentity"] == "a"


def test_a_replica_whose_clock_is_behind_still_takes_over_a_dead_leader() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    b = Replica(store, clock, "b", skew=-3600.0)
    a.lead()
    assert not b.elector.try_acquire_or_renew()  # first sight of the record
    _tick(clock, 14.5)
    assert not b.elector.try_acquire_or_renew()
    _tick(clock, 0.5)  # the record has not changed for 15 s of b's time
    assert b.elector.try_acquire_or_renew()
    assert store.lease is not None and store.lease["spec"]["leaseTransitions"] == 1


def test_a_fresh_standby_waits_a_full_lease_duration_even_for_a_stale_lease() -> None:
    store, clock = LeaseStore(), Clock()
    Replica(store, clock, "a", skew=-1000.0).lead()  # renewTime long in the past
    b = Replica(store, clock, "b")
    assert not b.elector.try_acquire_or_renew()
    _tick(clock, 10.0)
    assert not b.elector.try_acquire_or_renew()
    _tick(clock, 5.0)
    assert b.elector.try_acquire_or_renew()


def test_a_released_lease_is_taken_at_once() -> None:
    store, clock = LeaseStore(), Clock()
    a, b = Replica(store, clock, "a"), Replica(store, clock, "b")
    a.lead()
    assert not b.elector.try_acquire_or_renew()
    a.elector.release()
    assert b.elector.try_acquire_or_renew()


def test_a_partitioned_leader_stops_then_aborts_before_another_replica_leads() -> None:
    store, clock = LeaseStore(), Clock()
    a, b = Replica(store, clock, "a"), Replica(store, clock, "b")
    a.lead()
    assert not b.elector.try_acquire_or_renew()
    a.view.down = True  # a can no longer reach the API server; b can
    b_acquired_at = None
    while b_acquired_at is None and clock.t < 60:
        _tick(clock, 0.5)
        a.elector.check_renewal(a.on_stopped)  # the watchdog tick
        if clock.t % 2 == 0:
            assert not a.elector.try_acquire_or_renew()
            if b.elector.try_acquire_or_renew():
                b_acquired_at = clock.t
    assert a.stopped_at is not None and a.aborted_at is not None and b_acquired_at is not None
    assert a.stopped_at <= a.elector.renew_deadline + 0.5
    assert a.stopped_at < a.aborted_at < b_acquired_at
    assert b_acquired_at >= a.elector.lease_duration
    assert a.elector.lost.is_set() and not a.elector.leading.is_set()


def test_a_leader_that_stops_in_time_is_not_aborted() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    a.lead()
    a.view.down = True
    _tick(clock, 10.5)
    a.elector.check_renewal(a.on_stopped)
    assert a.stopped_at == 10.5 and a.aborted_at is None  # stopping, not yet aborting
    _tick(clock, 1.5)
    a.elector.check_renewal(a.on_stopped)
    assert a.aborted_at is None
    _tick(clock, 0.5)  # 12.5 s: midway to the lease duration, still running
    a.elector.check_renewal(a.on_stopped)
    assert a.aborted_at == 12.5


def test_durations_must_be_ordered() -> None:
    with pytest.raises(ValueError):
        LeaderElector(View(LeaseStore()), "ns", "l", "a", lease_duration=10, renew_deadline=10)  # type: ignore[arg-type]


def test_run_stops_leading_when_renewals_hang() -> None:
    """The real loop, on real (short) time: a renewal that never comes back still stops the
    leader at the deadline, through the watchdog."""
    store = LeaseStore()
    view = View(store)
    gate = threading.Event()
    calls = {"n": 0}
    real_get = view.get

    def hanging_get(*args: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] > 2:  # acquire + first renewal work, then the API server hangs
            gate.wait(5)
        return real_get(*args)

    view.get = hanging_get  # type: ignore[method-assign]
    stopped, aborted, started = threading.Event(), threading.Event(), threading.Event()
    stop = threading.Event()
    aborted_at: list[float] = []
    elector = LeaderElector(
        view,  # type: ignore[arg-type]
        "ns",
        "lease",
        "a",
        lease_duration=1.2,
        renew_deadline=0.6,
        retry_period=0.1,
        abort=lambda: (aborted_at.append(time.monotonic()), aborted.set()),  # type: ignore[func-returns-value]
    )

    def on_stopped() -> None:
        stopped.set()
        stop.set()

    t0 = time.monotonic()
    thread = threading.Thread(target=elector.run, args=(stop, started.set, on_stopped), daemon=True)
    thread.start()
    assert started.wait(2)
    assert stopped.wait(3)
    assert time.monotonic() - t0 < 1.2  # stopped before the lease could expire for others
    assert aborted.wait(3)  # and, still "running", aborted before it did
    assert aborted_at[0] - t0 < 0.1 + 1.2  # (the last renewal began about 0.1 s in)
    gate.set()
    thread.join(6)


def test_run_stops_leading_at_once_when_another_replica_holds_the_lease() -> None:
    store = LeaseStore()
    stopped, started, stop = threading.Event(), threading.Event(), threading.Event()
    elector = LeaderElector(
        View(store),  # type: ignore[arg-type]
        "ns",
        "lease",
        "a",
        lease_duration=30,
        renew_deadline=20,
        retry_period=0.05,
        abort=lambda: None,
    )

    def on_stopped() -> None:
        stopped.set()
        stop.set()

    thread = threading.Thread(target=elector.run, args=(stop, started.set, on_stopped), daemon=True)
    thread.start()
    assert started.wait(2)
    assert store.lease is not None
    store._stored({**store.lease, "spec": {**store.lease["spec"], "holderIdentity": "b"}})
    assert stopped.wait(2)  # long before the 20 s renew deadline
    thread.join(2)
    assert elector.lost.is_set()


def test_renewals_go_on_while_the_controllers_start_slowly() -> None:
    store = LeaseStore()
    stop, stopped = threading.Event(), threading.Event()
    aborted = threading.Event()
    elector = LeaderElector(
        View(store),  # type: ignore[arg-type]
        "ns",
        "lease",
        "a",
        lease_duration=1.2,
        renew_deadline=0.6,
        retry_period=0.1,
        abort=aborted.set,
    )
    versions: list[int] = []

    def slow_start() -> None:  # longer than the lease duration
        for _ in range(15):
            time.sleep(0.1)
            versions.append(store.rv)

    thread = threading.Thread(target=elector.run, args=(stop, slow_start, stopped.set), daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while len(versions) < 15 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not elector.lost.is_set() and not stopped.is_set() and not aborted.is_set()
    assert versions[-1] - versions[0] >= 5  # renewed all along
    stop.set()
    thread.join(5)
    assert stopped.is_set() and store.lease is not None and store.lease["spec"]["holderIdentity"] == ""
