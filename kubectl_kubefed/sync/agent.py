"""The pull agent: runs next to one member cluster and applies that cluster's Works.

It lists and watches the Works in its cluster's host namespace, makes the member hold
exactly what they ask for with the same ``ClusterSyncer`` the host runs for push clusters
(adoption, retention, versions, the per-cluster status codes), reports each outcome in the
Work's status, and renews its Lease on the host. A deleted Work is let go only after the
member object is gone (or, when the host asked to orphan it, after its managed label is
removed). Nothing is deleted because the host cannot be reached: a partitioned member keeps
what it last applied and converges when the link is back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import (
    Obj,
    deep_copy,
    ensure_metadata,
    labels_of,
    metadata,
    name_of,
    namespace_of,
)
from kubectl_kubefed.core import agentlease
from kubectl_kubefed.core import identity as ids
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.core.naming import member_name
from kubectl_kubefed.core.propagation_status import remote_status
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.clock import Clock, rfc3339_micro
from kubectl_kubefed.sync.controller import process_next
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.identity import read_property
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.settings import Settings
from kubectl_kubefed.sync.shared import Resource, SharedInformers
from kubectl_kubefed.sync.syncer import ClusterSyncer, MemberAccess, OpResult, is_terminating, member_ref

MANAGED_SELECTOR = f"{names.MANAGED_LABEL}=true"
MemberKey = tuple[str, str, str, str]  # (API group, kind, namespace, name) of a member object
Logger = Callable[[str, str], None]  # (level, message)


class _LogRecorder:
    """The agent cannot write events on the host: warnings about a Work go to its log."""

    def __init__(self, log: Callable[[str, str], None]) -> None:
        self._log = log

    def event(self, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
        if type_ == "Warning":
            self._log(
                f"{obj.get('kind', '')} {namespace_of(obj)}/{name_of(obj)}: {reason}: {message}", "warning"
            )


class Agent:
    def __init__(
        self,
        host: ClusterClient,
        member: ClusterClient,
        cluster: str,
        *,
        clock: Clock,
        settings: Settings | None = None,
        holder: str = "",
        logger: Logger | None = None,
    ) -> None:
        self.host = host
        self.member = member
        self.cluster = cluster
        self.clock = clock
        self.settings = settings or Settings()
        self.holder = holder or f"kubefed-agent-{cluster}"
        self._logger = logger
        self.namespace = wk.cluster_namespace(cluster)
        self.queue = WorkQueue(clock)
        self.works = Informer(
            host, names.WORK_API_VERSION, names.KIND_WORK, namespace=self.namespace, on_event=self._on_work
        )
        self.caches = SharedInformers(lambda _cluster: member)
        self._lock = threading.RLock()
        self._by_member: dict[MemberKey, str] = {}  # member object -> the Work asking for it
        self._types: dict[tuple[str, str], TypeConfig] = {}  # (group, kind) -> type of some Work
        self._waiting_for_type: set[str] = set()
        self.recorder = _LogRecorder(self.log)
        self.next_renew_at = clock.now()
        self.version = ""
        self._host_error = ""
        self.renewals = 0

    def log(self, message: str, level: str = "info") -> None:
        if self._logger is not None:
            self._logger(level, message)

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.renew()
        self.works.start()
        for work in self.works.list():
            self.queue.add(name_of(work))

    def stop(self) -> None:
        self.works.stop()
        self.caches.stop_all()

    def tick(self) -> bool:
        """The Lease when due, and the Works' cache restarted after a lost link."""
        self.works.ensure()
        self._report_host(self.works.error)
        if self.clock.now() < self.next_renew_at:
            return False
        self.renew()
        return True

    def _report_host(self, error: str) -> None:
        if error and error != self._host_error:
            self.log(f"cannot reach the host: {error}", "warning")
        elif self._host_error and not error:
            self.log("the host is reachable again")
        self._host_error = error

    # -- the Lease ----------------------------------------------------------------------

    def renew(self) -> bool:
        """Renew the Lease with the member's cluster ID (read every time: an identity
        change is reported at the next renewal)."""
        self.next_renew_at = self.clock.now() + self.settings.agent_renew_period
        try:
            cluster_id = read_property(self.member, ids.ID_PROPERTY)
            if not self.version:
                self.version = str(self.member.version().get("gitVersion") or "")
        except ApiError as err:
            self.log(f"cannot read the member's identity: {err}", "warning")
            return False  # no renewal: the host will call this cluster offline, as it is for us
        try:
            try:
                existing: Obj | None = self.host.get(
                    agentlease.LEASE_API_VERSION, "Lease", self.namespace, names.AGENT_LEASE_NAME
                )
            except NotFound:
                existing = None
            lease = agentlease.renewed(
                existing,
                self.cluster,
                holder=self.holder,
                now=rfc3339_micro(self.clock.now()),
                duration=self.settings.agent_lease_timeout,
                cluster_id=cluster_id,
                version=self.version,
            )
            if existing is None:
                self.host.create(lease)
            else:
                self.host.update(lease)
        except ApiError as err:
            self._report_host(f"renewing the Lease: {err}")
            return False
        self.renewals += 1
        return True

    # -- events -------------------------------------------------------------------------

    def _on_work(self, event_type: str, work: Obj) -> None:
        self.queue.add(name_of(work))

    def _on_member(self, event_type: str, obj: Obj) -> None:
        group = names.split_api_version(str(obj.get("apiVersion") or ""))[0]
        key = (group, str(obj.get("kind") or ""), namespace_of(obj), name_of(obj))
        with self._lock:
            work_name = self._by_member.get(key)
        if work_name is not None:
            delay = 0.0 if event_type == "DELETED" else self.settings.member_event_delay
            self.queue.add(work_name, delay)

    def _cache(self, target: TypeConfig) -> Informer:
        resource = Resource(target.api_version, target.kind, "", MANAGED_SELECTOR)
        informer = self.caches.acquire(self.cluster, resource, self._on_member)
        informer.ensure()
        return informer

    def _crd_written(self) -> None:
        with self._lock:
            waiting, self._waiting_for_type = self._waiting_for_type, set()
        for work_name in waiting:
            self.queue.add(work_name)

    def _access(self) -> MemberAccess:
        return MemberAccess(
            cluster=self.cluster,
            client=lambda: self.member,
            recorder=self.recorder,
            adopt_resources=self.settings.adopt_resources,
            enabled_types=lambda: list(self._types.values()),
            crd_written=self._crd_written,
        )

    # -- the work loop ------------------------------------------------------------------

    def process_one(self) -> bool:
        return process_next(
            self.queue,
            lambda key: self.reconcile(str(key)),
            what="Work",
            log=self.log,
            recheck_delay=self.settings.recheck_delay,
        )

    def reconcile(self, name: str) -> str:
        """Returns "ok", "error" (back-off retry) or "recheck" (retry after a while)."""
        work = self.works.get(self.namespace, name)
        if work is None:
            with self._lock:
                for key in [k for k, v in self._by_member.items() if v == name]:
                    del self._by_member[key]
            return "ok"
        try:
            target = wk.target_of(work)
        except wk.WorkError as err:
            return self._report(work, OpResult(self.cluster, st.COMPUTE_RESOURCE_FAILED, str(err)))
        fed = wk.federated_view(work, self.cluster)
        ref = member_ref(target, namespace_of(fed), member_name(fed))
        with self._lock:
            self._types[(target.group, target.kind)] = target
            self._by_member[(target.group, target.kind, *ref)] = name
        cache = self._cache(target)
        if not cache.synced:
            if cache.not_served and not is_terminating(work):
                with self._lock:
                    self._waiting_for_type.add(name)
                what = f"{target.api_version} {target.kind}"
                message = f"waiting for {what} to be served in cluster {self.cluster}"
                self._report(work, OpResult(self.cluster, st.TYPE_NOT_SERVED, message))
                return "recheck"
            if cache.not_served:
                return self._let_go(work)  # nothing of a type the member does not serve exists
            message = f"cannot list {target.name}: {cache.error}"
            self._report(work, OpResult(self.cluster, st.CACHED_RETRIEVAL_FAILED, message))
            return "error"
        syncer = ClusterSyncer(self._access(), target, cache)
        live = cache.get(*ref)
        if is_terminating(work):
            return self._release(work, syncer, fed, target, ref, live)
        recorded = wk.recorded_version(work)
        if live is None:
            result = syncer.create(fed, {self.cluster: recorded}, "")
        else:
            result = syncer.update(fed, live, {self.cluster: recorded})
        if result.status == st.OK and result.version is None:
            result.version = recorded  # up to date: the recorded version stands
        # statusCollection: the member's status (our write included) goes to the host too.
        remote = remote_status(cache.get(*ref)) if wk.collects_status(work) else None
        return self._report(work, result, remote)

    def _release(
        self,
        work: Obj,
        syncer: ClusterSyncer,
        fed: Obj,
        target: TypeConfig,
        ref: tuple[str, str],
        live: Obj | None,
    ) -> str:
        orphan, options = wk.release_of(work)
        if live is None:
            try:  # the cache says gone: the member's API server must agree before letting go
                live = self.member.get(target.api_version, target.kind, *ref)
            except NotFound:
                return self._let_go(work)
            if labels_of(live).get(names.MANAGED_LABEL) != "true":
                return self._let_go(work)
        if orphan:
            result = syncer.unlabel(fed, live)
            if result.status:
                self._report(work, result)
                return "error"
            return self._let_go(work)
        if is_terminating(live):
            return "recheck"
        result = syncer.remove(fed, live, "", options)
        if result.status == st.UNMANAGED_OBJECTS_IN_NAMESPACE:
            self._report(work, result)  # kept and unlabelled: said, and let go
            return self._let_go(work)
        if not result.report:
            return self._let_go(work)  # already gone
        if result.status == st.WAITING_FOR_REMOVAL:
            return "recheck"  # the member's DELETED event brings it back sooner
        self._report(work, result)
        return "error"

    def _let_go(self, work: Obj) -> str:
        """Remove the agent's finalizer: the host sees the Work go."""
        current = work
        for _ in range(3):
            updated = deep_copy(current)
            meta = ensure_metadata(updated)
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != names.WORK_FINALIZER]
            try:
                self.host.update(updated)
                return "ok"
            except NotFound:
                return "ok"
            except Conflict:
                try:
                    current = self.host.get(
                        names.WORK_API_VERSION, names.KIND_WORK, self.namespace, name_of(work)
                    )
                except NotFound:
                    return "ok"
        return "error"

    def _report(self, work: Obj, result: OpResult, remote: dict[str, Any] | None = None) -> str:
        """Write the outcome into the Work's status (only when it changed)."""
        generation = int(metadata(work).get("generation") or 0)
        version = result.version or ""
        status = wk.Result(result.status, result.message, version, remote).as_status(generation)
        if work.get("status") == status:
            return self._outcome(result)
        body = {k: v for k, v in work.items() if k not in ("spec", "status")}
        try:
            updated = self.host.update_status({**body, "status": status})
        except NotFound:
            return "ok"
        except Conflict:
            return "error"  # the Work changed meanwhile: it is queued again anyway
        self.works.put(updated)
        return self._outcome(result)

    @staticmethod
    def _outcome(result: OpResult) -> str:
        if result.status in st.RECOVERABLE:
            return "error"
        return "ok"

    # -- driving --------------------------------------------------------------------------

    def step(self) -> bool:
        """Everything due now (virtual time: the simulator)."""
        did = self.tick()
        while self.process_one():
            did = True
        return did

    def next_due(self) -> float:
        due = self.queue.next_due()
        return min(self.next_renew_at, due if due is not None else float("inf"))

    def run(self, stop: threading.Event, workers: int = 4, poll: float = 0.2) -> None:
        """Real time: ``workers`` threads drain the queue; the Lease is renewed on time."""

        def work() -> None:
            while not stop.is_set():
                if not self.process_one():
                    due = self.queue.next_due()
                    wait = poll if due is None else min(poll, max(0.0, due - self.clock.now()))
                    self.queue.wait(wait)

        self.start()
        threads = [
            threading.Thread(target=work, daemon=True, name=f"agent-{i}") for i in range(max(1, workers))
        ]
        for thread in threads:
            thread.start()
        while not stop.is_set():
            try:
                self.tick()
            except Exception as err:  # one failed round never stops the agent
                self.log(f"agent: unexpected {type(err).__name__}: {err}", "error")
            stop.wait(poll)
        for thread in threads:
            thread.join(timeout=5)
        self.stop()
