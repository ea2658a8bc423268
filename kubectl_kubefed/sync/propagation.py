"""The propagation (sync) controller of one federated type: KubeFed's algorithm, §3.

One ``TypeController`` per enabled FederatedTypeConfig. It caches the federated objects
on the host, reads the members through their shared caches, and reconciles one federated
object at a time: the plan (``planner``), one ``ClusterSyncer`` per member, then the
PropagatedVersion and the status on the host (``aggregate``).
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Callable
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import (
    Obj,
    annotations_of,
    deep_copy,
    ensure_metadata,
    labels_of,
    metadata,
    name_of,
    namespace_of,
)
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.core.limits import spec_too_deep
from kubectl_kubefed.core.naming import federated_name, may_be_mapped, member_name
from kubectl_kubefed.core.propagation_status import is_recoverable, remote_status
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.aggregate import StatusWriter, collect
from kubectl_kubefed.sync.clusters import ClientConfigError, MemberCluster
from kubectl_kubefed.sync.controller import process_next
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.events import EventBatch, Recorder
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.planner import not_ready_message, place, plan
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.runtime import NAMESPACE_CHANGED, SERVED_TYPES_CHANGED, Runtime
from kubectl_kubefed.sync.shared import Resource
from kubectl_kubefed.sync.syncer import (
    ClusterSyncer,
    MemberAccess,
    OpResult,
    api_message,
    describe,
    is_terminating,
    member_ref,
)
from kubectl_kubefed.sync.versionstore import VersionStore
from kubectl_kubefed.sync.works import HostWorks, federated_key

Key = tuple[str, str]
MANAGED_SELECTOR = f"{names.MANAGED_LABEL}=true"
# A member that does not serve the type is asked again at most this often, however many
# objects wait for it (a list per waiting object and re-check would be wasted).
NOT_SERVED_RECHECK = 5.0


class TypeController:
    def __init__(self, rt: Runtime, target: TypeConfig) -> None:
        self.rt = rt
        self.target = target
        self.is_namespace_type = target.kind == "Namespace"
        self.queue = WorkQueue(rt.clock)
        # A namespaced control plane reads and writes only in the KubeFed namespace, on the
        # host and in the members (its member identity holds a Role there, nothing more).
        self.limited = rt.settings.scope == names.SCOPE_NAMESPACED
        watch_ns = rt.settings.watch_namespace
        self.versions = VersionStore(rt.host, target, namespace=watch_ns)
        self.fed_informer = Informer(
            rt.host,
            target.federated_api_version,
            target.federated_kind,
            namespace=watch_ns,
            on_event=self._on_federated_event,
        )
        # What this controller reads in every member: the managed objects of its type.
        self.member_resource = Resource(target.api_version, target.kind, watch_ns, MANAGED_SELECTOR)
        self.member_informers: dict[str, Informer] = {}  # the shared caches this one holds
        self._not_served_at: dict[str, float] = {}  # cluster -> when it last said "not served"
        self._members_lock = threading.RLock()
        # (namespace, name) -> (generation, when it was first seen): propagation latency.
        self._seen_at: dict[Key, tuple[int, float]] = {}
        self.status = StatusWriter(rt, target, self.fed_informer)
        # Pull clusters: the Works of this type on the host (started when one is joined).
        self.works = HostWorks(rt, target, self._on_work_event)
        # The events of the reconcile running on this thread (written together at its end).
        self._local = threading.local()
        # Federated objects being deleted -> cluster -> when this controller deleted the
        # member object there (-inf: only seen in the cache). Once that cache no longer
        # holds it, its removal is confirmed without asking the member again.
        self._removing: dict[Key, dict[str, float]] = {}
        self.running = False

    @property
    def recorder(self) -> Recorder:
        batch: EventBatch | None = getattr(self._local, "batch", None)
        return batch if batch is not None else self.rt.recorder

    @property
    def status_messages(self) -> bool:
        """Whether the federated CRD keeps status.clusters[].message."""
        return self.status.messages

    # -- lifecycle and events -------------------------------------------------------

    def start(self) -> None:
        self.versions.load()
        self.status.read_schema()
        self.fed_informer.start()
        if self.is_namespace_type:
            self.rt.federated_namespace = self._federated_namespace
        if self.target.namespaced:
            self.rt.bus.subscribe(NAMESPACE_CHANGED, self._namespace_changed)
        self.rt.bus.subscribe(SERVED_TYPES_CHANGED, self.served_types_changed)
        for cluster in self.rt.clusters.clusters():
            if cluster.ready:
                self._start_member(cluster.name)
        self.running = True

    def stop(self) -> None:
        self.fed_informer.stop()
        self.works.stop()
        self.rt.bus.unsubscribe(NAMESPACE_CHANGED, self._namespace_changed)
        self.rt.bus.unsubscribe(SERVED_TYPES_CHANGED, self.served_types_changed)
        if self.is_namespace_type and self.rt.federated_namespace == self._federated_namespace:
            self.rt.federated_namespace = lambda _ns: None
        with self._members_lock:
            clusters = list(self.member_informers)
            self.member_informers.clear()
        for cluster in clusters:
            self.rt.informers.release(cluster, self.member_resource, self._on_member_event)
        self.running = False

    def _federated_namespace(self, namespace: str) -> Obj | None:
        return self.fed_informer.get(namespace, namespace)

    def _namespace_changed(self, namespace: str) -> None:
        self.enqueue_all(namespace=namespace)

    def enqueue_all(self, delay: float = 0.0, namespace: str | None = None) -> None:
        for obj in self.fed_informer.list(namespace):
            self.queue.add((namespace_of(obj), name_of(obj)), delay)

    def _on_federated_event(self, event_type: str, obj: Obj) -> None:
        key = (namespace_of(obj), name_of(obj))
        generation = int(metadata(obj).get("generation") or 0)
        if event_type == "DELETED":
            self._seen_at.pop(key, None)
        elif self._seen_at.get(key, (None,))[0] != generation:
            self._seen_at[key] = (generation, self.rt.clock.now())
        self.queue.add(key)
        if self.is_namespace_type:
            self.rt.bus.publish(NAMESPACE_CHANGED, namespace_of(obj))

    def _fed_key_for_member(self, obj: Obj) -> Key:
        if self.is_namespace_type:
            return (name_of(obj), name_of(obj))
        return (namespace_of(obj), federated_name(name_of(obj)))

    def _member_ref(self, key: Key) -> Key:
        """(namespace, name) of the member object for a (namespace, member name) key."""
        return member_ref(self.target, *key)

    def _member_ref_of(self, fed: Obj) -> Key:
        """(namespace, name) of the one member object ``fed`` writes."""
        return self._member_ref((namespace_of(fed), member_name(fed)))

    def _on_work_event(self, event_type: str, work: Obj) -> None:
        """An agent reported (or a Work went away): the federated object's status follows."""
        self.queue.add(federated_key(work))

    def _on_member_event(self, event_type: str, obj: Obj) -> None:
        key = self._fed_key_for_member(obj)
        delay = self.rt.settings.member_event_delay
        if event_type == "DELETED" and key in self._removing:
            delay = 0.0  # a deletion waits for exactly this: go on now, not at the recheck
        self.queue.add(key, delay)

    def _start_member(self, cluster: str) -> Informer | None:
        if self.limited and self.is_namespace_type:
            # Namespaces are cluster-scoped, and a namespaced plane never propagates the one
            # it lives in (reconcile returns early), so nothing would read this cache.
            return None
        try:
            informer = self.rt.informers.acquire(cluster, self.member_resource, self._on_member_event)
        except ClientConfigError:
            return None
        with self._members_lock:
            self.member_informers[cluster] = informer
        return informer

    def cluster_changed(self, cluster: str, change: str) -> None:
        """The shared caches of a cluster that is no longer available, or changed, are
        already dropped (the manager does that first); this acquires them again."""
        settings = self.rt.settings
        if change == "available":
            self._start_member(cluster)
            self.enqueue_all(settings.available_delay)
        elif change in ("unavailable", "removed", "changed"):
            with self._members_lock:
                self.member_informers.pop(cluster, None)
            self.rt.informers.release(cluster, self.member_resource, self._on_member_event)
            member = self.rt.clusters.get(cluster)
            if change == "changed" and member is not None and member.ready:
                self._start_member(cluster)
            self.enqueue_all(settings.unavailable_delay)

    def served_types_changed(self, cluster: str) -> None:
        """A CRD was written in ``cluster``: objects waiting for this type there try again."""
        if self._not_served(cluster):
            self._not_served_at.pop(cluster, None)
            self.enqueue_all()

    def _member_cache(self, cluster: str) -> Informer | None:
        """The synced cache of a ready member; one failing member never blocks the others."""
        with self._members_lock:
            informer = self.member_informers.get(cluster)
        now = self.rt.clock.now()
        if informer is None:
            informer = self._start_member(cluster)
        elif informer.not_served and now - self._not_served_at.get(cluster, -math.inf) < NOT_SERVED_RECHECK:
            return None
        else:
            informer.ensure()
        if informer is not None and informer.not_served:
            self._not_served_at[cluster] = now
        return informer if informer is not None and informer.synced else None

    def _syncer(self, cluster: MemberCluster) -> ClusterSyncer:
        rt = self.rt
        access = MemberAccess(
            cluster=cluster.name,
            client=functools.partial(rt.clusters.client, cluster.name),
            recorder=self.recorder,
            adopt_resources=rt.settings.adopt_resources,
            enabled_types=rt.enabled_types,
            crd_written=functools.partial(rt.bus.publish, SERVED_TYPES_CHANGED, cluster.name),
        )
        return ClusterSyncer(access, self.target, self.member_informers.get(cluster.name))

    # -- the work loop --------------------------------------------------------------

    def process_one(self) -> bool:
        return process_next(
            self.queue,
            self._reconcile_batched,
            what=self.target.federated_kind,
            log=self.rt.log,
            recheck_delay=self.rt.settings.recheck_delay,
            metrics=self.rt.metrics,
            metric_type=self.target.name,
        )

    def _reconcile_batched(self, key: Key) -> str:
        """One reconcile; its events are written to the host together at its end."""
        batch = self._local.batch = EventBatch(self.rt.recorder)
        try:
            return self.reconcile(key)
        finally:
            self._local.batch = None
            batch.flush()

    def reconcile(self, key: Key) -> str:
        """Returns "ok", "error" (back-off retry) or "recheck" (retry after 10 s)."""
        namespace, name = key
        fed = self.fed_informer.get(namespace, name)
        if self.is_namespace_type and (
            namespace in names.SYSTEM_NAMESPACES or namespace == self.rt.settings.namespace
        ):
            return "ok"
        if self.is_namespace_type and fed is not None and name != namespace:
            self.recorder.event(
                fed, "Warning", "InvalidName", "FederatedNamespace must be named like its namespace"
            )
            return "ok"
        if fed is None:
            self.versions.forget(key)
            self._removing.pop(key, None)
            if not self.is_namespace_type:
                return self._orphan_cleanup(key)
            return "ok"
        if is_terminating(fed):
            return self._ensure_deletion(fed)
        too_deep = spec_too_deep(fed)
        if too_deep:
            return self._refuse(key, fed, too_deep)
        if names.SYNC_FINALIZER not in (metadata(fed).get("finalizers") or []):
            try:
                fed = self._update_fed(
                    key,
                    lambda o: ensure_metadata(o).setdefault("finalizers", []).append(names.SYNC_FINALIZER),
                )
            except ApiError as err:
                self.recorder.event(fed, "Warning", "EnsureFinalizerError", api_message(err))
                return "error"
        return self._sync(key, fed)

    # -- sync -----------------------------------------------------------------------

    def _refuse(self, key: Key, fed: Obj, why: str) -> str:
        """ComputeResourceFailed for every selected cluster, members untouched; decided
        before the finalizer is added and before anything copies, patches or hashes the
        spec, so the only write is the status (which is sent without the spec)."""
        placement = place(self.rt, self.target, fed)
        self.recorder.event(fed, "Warning", st.COMPUTE_RESOURCE_FAILED, why)
        refused = dict.fromkeys(placement.clusters, st.COMPUTE_RESOURCE_FAILED)
        self.status.write(key, fed, placement.reason, refused, dict.fromkeys(refused, why))
        return "ok"

    def _host_namespace_uid(self, namespace: str) -> str | None:
        try:
            return str(metadata(self.rt.host.get("v1", "Namespace", "", namespace)).get("uid") or "")
        except NotFound:
            return None

    def _sync(self, key: Key, fed: Obj) -> str:
        the_plan = plan(self.rt, self.target, fed)
        placement = the_plan.placement
        if placement.reason == st.REASON_COMPUTE_PLACEMENT_FAILED:
            self.recorder.event(fed, "Warning", placement.reason, placement.message)
            self.status.write(key, fed, placement.reason, {}, {})
            return "ok"
        host_ns_uid = ""
        if self.is_namespace_type:
            uid = self._host_namespace_uid(key[0])
            if uid is None:
                return "ok"  # the host namespace is gone: nothing to do
            host_ns_uid = uid
        recorded = self.versions.recorded(key, the_plan.template_version, the_plan.overrides_version)
        statuses: dict[str, str] = {}
        messages: dict[str, str] = {}
        calls: list[Callable[[], OpResult]] = []
        kinds: list[tuple[str, str]] = []
        retry_cache = False
        wait_for_type = False
        ref = self._member_ref_of(fed)
        for cluster in self.rt.clusters.clusters():
            selected = the_plan.selects(cluster.name)
            if not cluster.ready:
                if selected:
                    statuses[cluster.name] = st.CLUSTER_NOT_READY
                    messages[cluster.name] = not_ready_message(cluster)
                    self.recorder.event(
                        fed,
                        "Warning",
                        st.CLUSTER_NOT_READY,
                        f'Cluster "{cluster.name}" is not ready',
                    )
                continue
            if cluster.pull:
                if not self.works.ensure():
                    retry_cache = True  # also unselected: whether a Work must go is unknown
                    if selected:
                        statuses[cluster.name] = st.CACHED_RETRIEVAL_FAILED
                        messages[cluster.name] = f"cannot list Works: {self.works.informer.error}"
                elif not selected:
                    if self.works.get(cluster.name, key) is not None:
                        calls.append(_bind(self.works.release, cluster.name, key))
                        kinds.append((cluster.name, "delete"))
                elif the_plan.overrides_error:
                    statuses[cluster.name] = st.APPLY_OVERRIDES_FAILED
                    messages[cluster.name] = the_plan.overrides_error
                else:
                    calls.append(_bind(self.works.sync, fed, cluster.name))
                    kinds.append((cluster.name, "update"))
                continue
            cache = self._member_cache(cluster.name)
            if cache is None:
                if selected and self._not_served(cluster.name):
                    # Not an error: e.g. the CRD has not reached this member yet.
                    statuses[cluster.name] = st.TYPE_NOT_SERVED
                    messages[cluster.name] = self._not_served_message(cluster.name)
                    wait_for_type = True
                elif selected:
                    statuses[cluster.name] = st.CACHED_RETRIEVAL_FAILED
                    messages[cluster.name] = self._cache_error(cluster)
                    retry_cache = True
                elif not self._not_served(cluster.name):
                    # Whether an object must go from there is unknown until its cache is
                    # back; a cache that comes back unchanged brings no event, so try again
                    # (a member cut off and back within a health check stays Ready).
                    retry_cache = True
                continue
            obj = cache.get(*ref)
            syncer = self._syncer(cluster)
            if not selected:
                if obj is None:
                    continue
                if is_terminating(obj):
                    statuses[cluster.name] = st.WAITING_FOR_REMOVAL
                    continue
                calls.append(_bind(syncer.remove, fed, obj, host_ns_uid, None))
                kinds.append((cluster.name, "delete"))
                continue
            if the_plan.overrides_error:
                statuses[cluster.name] = st.APPLY_OVERRIDES_FAILED
                messages[cluster.name] = the_plan.overrides_error
                continue
            if obj is None:
                calls.append(_bind(syncer.create, fed, recorded, host_ns_uid))
                kinds.append((cluster.name, "create"))
            else:
                calls.append(_bind(syncer.update, fed, obj, recorded))
                kinds.append((cluster.name, "update"))
        results = self.rt.executor.run_all(calls, self.rt.settings.dispatch_timeout)
        new_versions = collect(kinds, results, statuses, messages)
        for _ in new_versions:
            self._observe_latency(key, fed)
        versions = {c: v for c, v in recorded.items() if c in placement.clusters}
        versions.update({c: v for c, v in new_versions.items() if c in placement.clusters})
        try:
            self.versions.write(fed, the_plan.template_version, the_plan.overrides_version, versions)
        except ApiError as err:
            self.rt.log(f"recording versions of {key}: {err}", "warning")  # only logged, as in KubeFed
        remote = self._remote_statuses(key, ref, statuses, the_plan.selects)
        self.status.write(key, fed, placement.reason, statuses, messages, remote)
        if is_recoverable(statuses) or retry_cache:
            return "error"
        return "recheck" if wait_for_type else "ok"

    def _remote_statuses(
        self, key: Key, ref: Key, statuses: dict[str, str], selects: Callable[[str], bool]
    ) -> dict[str, Any] | None:
        """statusCollection Enabled: the member object's status of every selected cluster
        in ``statuses``, from the shared cache (push, our own writes included) or from
        what the agent put in the Work (pull); None when the type does not collect."""
        if not self.target.status_collection:
            return None
        remote: dict[str, Any] = {}
        for cluster in statuses:
            member = self.rt.clusters.get(cluster)
            if member is None or not member.ready or not selects(cluster):
                continue
            if member.pull:
                work = self.works.get(cluster, key)
                found = wk.remote_status_of(work) if work is not None else None
            else:
                informer = self.member_informers.get(cluster)
                found = remote_status(informer.get(*ref) if informer is not None else None)
            if found is not None:
                remote[cluster] = found
        return remote

    def _observe_latency(self, key: Key, fed: Obj) -> None:
        seen = self._seen_at.get(key)
        if seen is not None and seen[0] == int(metadata(fed).get("generation") or 0):
            self.rt.metrics.observe(
                "kubefed_propagation_latency_seconds",
                self.rt.clock.now() - seen[1],
                (("type", self.target.name),),
            )

    def _not_served(self, cluster: str) -> bool:
        informer = self.member_informers.get(cluster)
        return informer is not None and informer.not_served

    def _not_served_message(self, cluster: str) -> str:
        t = self.target
        custom = "." in t.group and not t.group.endswith(".k8s.io")
        what = f"CRD {t.name}" if custom else f"{t.api_version} {t.kind}"
        return f"waiting for {what} to be served in cluster {cluster}"

    def _cache_error(self, cluster: MemberCluster) -> str:
        informer = self.member_informers.get(cluster.name)
        if informer is not None and informer.error:
            return f"cannot list {self.target.name}: {informer.error}"
        return cluster.client_error or "no client for this cluster"

    # -- orphans and deletion -------------------------------------------------------

    def _orphan_cleanup(self, key: Key) -> str:
        """Managed objects whose federated object is gone lose the label; never deleted."""
        failed = False
        for cluster in self.rt.clusters.clusters():
            if cluster.pull:
                # The agent removes the label (it keeps the object) and lets the Work go.
                if not self.works.ensure():
                    failed = True
                elif self.works.get(cluster.name, key) is not None:
                    failed |= self.works.release(cluster.name, key, orphan=True).status == st.DELETION_FAILED
                continue
            if not cluster.ready:
                continue
            cache = self._member_cache(cluster.name)
            if cache is None:
                # Unknown until its cache is back (a member cut off and back within a health
                # check stays Ready, and its cache returns unchanged, with no event): retry.
                failed |= not self._not_served(cluster.name)
                continue
            for obj in self._members_for_key(cache, key):
                if labels_of(obj).get(names.MANAGED_LABEL) == "true":
                    failed |= self._syncer(cluster).unlabel(None, obj).status != st.OK
        return "error" if failed else "ok"

    def _members_for_key(self, cache: Informer, key: Key) -> list[Obj]:
        """The cached member objects a gone federated object may have written: the one of
        its name, and those whose names map to it (``system:x``, when it ends in a hash)."""
        ref = self._member_ref(key)
        found = [obj] if (obj := cache.get(*ref)) is not None else []
        if may_be_mapped(key[1]) and not self.is_namespace_type:
            found += [
                o for o in cache.list(ref[0]) if name_of(o) != ref[1] and federated_name(name_of(o)) == key[1]
            ]
        return found

    def _ensure_deletion(self, fed: Obj) -> str:
        key = (namespace_of(fed), name_of(fed))
        self.versions.forget(key)
        if names.SYNC_FINALIZER not in (metadata(fed).get("finalizers") or []):
            self._removing.pop(key, None)
            return "ok"
        outcome = self._delete_members(key, fed)
        if outcome == "ok":
            self._removing.pop(key, None)
        return outcome

    def _delete_members(self, key: Key, fed: Obj) -> str:
        placement = place(self.rt, self.target, fed)
        ref = self._member_ref_of(fed)
        if annotations_of(fed).get(names.ORPHAN_ANNOTATION) == "true":
            try:
                self._remove_finalizer(key)
            except ApiError:
                return "error"
            failed = False
            for cluster in self.rt.clusters.clusters():
                if cluster.pull and cluster.name in placement.clusters:
                    if not self.works.ensure():
                        failed = True
                    elif self.works.get(cluster.name, key) is not None:
                        released = self.works.release(cluster.name, key, orphan=True)
                        failed |= released.status == st.DELETION_FAILED
                    continue
                cache = self.member_informers.get(cluster.name)
                if cluster.name not in placement.clusters or not cluster.ready or cache is None:
                    continue
                obj = cache.get(*ref)
                if obj is not None:
                    failed |= self._syncer(cluster).unlabel(fed, obj).status != st.OK
            return "error" if failed else "ok"
        raw_options = annotations_of(fed).get(names.DELETE_OPTION_ANNOTATION)
        options: dict[str, Any] | None = None
        if raw_options:
            try:
                options = json.loads(raw_options)
                if not isinstance(options, dict):
                    raise ValueError("not an object")
            except ValueError as err:
                self.recorder.event(
                    fed,
                    "Warning",
                    "DeleteOptionInvalid",
                    f"{names.DELETE_OPTION_ANNOTATION}: {err}",
                )
                return "error"
        host_ns_uid = ""
        if self.is_namespace_type:
            host_ns_uid = self._host_namespace_uid(key[0]) or ""
        statuses: dict[str, str] = {}
        messages: dict[str, str] = {}
        waiting_on_unready = False
        removing = self._removing.setdefault(key, {})
        now = self.rt.clock.now()
        just_deleted: set[str] = set()  # WaitingForRemoval only because of a delete just sent
        calls: list[Callable[[], OpResult]] = []
        kinds: list[tuple[str, str]] = []
        for cluster in self.rt.clusters.clusters():
            if cluster.name not in placement.clusters:
                continue
            if cluster.pull:
                # The Work is deleted even while the agent is away: its finalizer keeps it
                # (and this object) until the agent has removed the member object.
                if not self.works.ensure():
                    statuses[cluster.name] = st.CACHED_RETRIEVAL_FAILED
                    messages[cluster.name] = f"cannot list Works: {self.works.informer.error}"
                    waiting_on_unready = True
                    continue
                if self.works.get(cluster.name, key) is None:
                    if not cluster.ready:
                        # As for a push cluster: a NotReady cluster in the placement holds the
                        # deletion until it is back (or orphaning, or unjoin, releases it).
                        statuses[cluster.name] = st.CLUSTER_NOT_READY
                        messages[cluster.name] = "deletion waits for this cluster's agent to be ready"
                        waiting_on_unready = True
                    continue
                released = self.works.release(cluster.name, key, delete_options=options)
                statuses[cluster.name] = released.status
                if released.message:
                    messages[cluster.name] = released.message
                if not cluster.ready:
                    statuses[cluster.name] = st.CLUSTER_NOT_READY
                    messages[cluster.name] = "deletion waits for this cluster's agent to be ready"
                    waiting_on_unready = True
                continue
            if not cluster.ready:
                # KubeFed blocks here silently; we keep waiting but say why (or let the
                # user release the object with kubefed.io/orphan or by unjoining).
                statuses[cluster.name] = st.CLUSTER_NOT_READY
                messages[cluster.name] = "deletion waits for this cluster to be ready"
                waiting_on_unready = True
                continue
            cache = self._member_cache(cluster.name)
            if cache is None and self._not_served(cluster.name):
                continue  # the member does not serve the type: nothing can exist there
            if cache is None:
                statuses[cluster.name] = st.CACHED_RETRIEVAL_FAILED
                messages[cluster.name] = self._cache_error(cluster)
                waiting_on_unready = True
                continue
            obj = cache.get(*ref)
            if obj is None:
                continue
            is_host_ns = bool(host_ns_uid) and metadata(obj).get("uid") == host_ns_uid
            if is_host_ns and is_terminating(obj):
                continue
            if is_host_ns:
                result = self._syncer(cluster).unlabel(fed, obj)
                if result.status:
                    statuses[cluster.name] = result.status
                continue
            statuses[cluster.name] = st.WAITING_FOR_REMOVAL
            deleted_at = removing.setdefault(cluster.name, -math.inf)
            if is_terminating(obj):
                continue
            if now - deleted_at < self.rt.settings.recheck_delay:
                # Deleted by us a moment ago; the cache has not seen it go yet (its DELETED
                # event brings this object back): not deleted twice.
                just_deleted.add(cluster.name)
                continue
            calls.append(_bind(self._syncer(cluster).remove, fed, obj, "", options))
            kinds.append((cluster.name, "delete"))
        # The members are asked concurrently, as when creating.
        collect(kinds, self.rt.executor.run_all(calls, self.rt.settings.dispatch_timeout), statuses, messages)
        for cluster_name, _ in kinds:
            if statuses[cluster_name] == st.WAITING_FOR_REMOVAL and not messages.get(cluster_name):
                removing[cluster_name] = now
                just_deleted.add(cluster_name)
        if statuses and not waiting_on_unready and set(statuses) == just_deleted:
            # Every member object left was deleted just now (the common case): no status
            # and no WaitForRemovalInCluster yet. The members' DELETED events bring this
            # object back at once, and only an object still there then is reported.
            return "recheck"
        if statuses:
            self.status.write(key, fed, "", statuses, messages)
            if waiting_on_unready or is_recoverable(statuses):
                return "error"
            if st.WAITING_FOR_REMOVAL in statuses.values():
                self.recorder.event(
                    fed,
                    "Normal",
                    "WaitForRemovalInCluster",
                    f"Waiting for removal of {describe(self.target, fed)}",
                )
            return "recheck"
        # Nothing left in the caches: confirm with the API servers before letting go.
        for cluster in self.rt.clusters.clusters():
            if cluster.name not in placement.clusters:
                continue
            if cluster.pull:
                if not self.works.gone(cluster.name, key):
                    return "recheck"
                continue
            if cluster.name in removing:
                cache = self.member_informers.get(cluster.name)
                if cache is not None and cache.synced and cache.get(*ref) is None:
                    continue  # seen in this cache, and seen leaving it: removed
            try:
                live = self.rt.clusters.client(cluster.name).get(
                    self.target.api_version, self.target.kind, *ref
                )
            except NotFound:
                continue
            except (ApiError, ClientConfigError):
                return "error"
            if labels_of(live).get(names.MANAGED_LABEL) != "true":
                continue
            if bool(host_ns_uid) and metadata(live).get("uid") == host_ns_uid and is_terminating(live):
                continue
            return "recheck"
        try:
            self._remove_finalizer(key)
        except ApiError:
            return "error"
        return "ok"

    # -- host writes ----------------------------------------------------------------

    def _update_fed(self, key: Key, mutate: Callable[[Obj], None]) -> Obj:
        """Read-modify-write of the federated object, retrying conflicts."""
        current = self.fed_informer.get(*key)
        for attempt in range(3):
            if current is None or attempt:
                current = self.rt.host.get(
                    self.target.federated_api_version, self.target.federated_kind, *key
                )
            obj = deep_copy(current)
            mutate(obj)
            try:
                updated = self.rt.host.update(obj)
            except Conflict:
                current = None
                continue
            self.fed_informer.put(updated)
            return updated
        raise Conflict(f"could not update {key} after retries")

    def _remove_finalizer(self, key: Key) -> None:
        def drop(obj: Obj) -> None:
            meta = ensure_metadata(obj)
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != names.SYNC_FINALIZER]

        try:
            self._update_fed(key, drop)
        except NotFound:
            return


def _bind(fn: Callable[..., OpResult], *args: Any) -> Callable[[], OpResult]:
    return lambda: fn(*args)
