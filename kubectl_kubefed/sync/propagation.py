"""The propagation (sync) controller of one federated type: KubeFed's algorithm, §3.

One ``TypeController`` per enabled FederatedTypeConfig. It caches the federated objects
on the host and the managed objects in every ready member, and reconciles one federated
object at a time: placement, then per cluster create / update / delete, then the
PropagatedVersion and the status on the host.
"""

from __future__ import annotations

import json
import math
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core import versions as ver
from kubectl_kubefed.core.limits import spec_too_deep
from kubectl_kubefed.core.member import desired_object
from kubectl_kubefed.core.naming import federated_name, may_be_mapped, member_name
from kubectl_kubefed.core.ownership import describe_some, unmanaged
from kubectl_kubefed.core.propagation_status import (
    crd_keeps_cluster_messages,
    is_recoverable,
    next_status,
)
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.client import TIMED_OUT, ClusterClient
from kubectl_kubefed.sync.clock import rfc3339
from kubectl_kubefed.sync.clusters import ClientConfigError, MemberCluster
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, Conflict, NotFound
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.versionstore import VersionStore

if TYPE_CHECKING:
    from kubectl_kubefed.sync.manager import Manager

Key = tuple[str, str]
MANAGED_SELECTOR = f"{names.MANAGED_LABEL}=true"
CRD_GROUP_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")
CRD_API_VERSION = "apiextensions.k8s.io/v1"
# A member that does not serve the type is asked again at most this often, however many
# objects wait for it (a list per waiting object and re-check would be wasted).
NOT_SERVED_RECHECK = 5.0


@dataclass
class OpResult:
    cluster: str
    status: str = st.OK
    message: str = ""
    version: str | None = None  # member version to record, when the op produced one
    report: bool = True  # False: no status.clusters entry (e.g. label removed from host namespace)


_TIMEOUT_STATUS = {
    "create": st.CREATION_TIMED_OUT,
    "update": st.UPDATE_TIMED_OUT,
    "delete": st.DELETION_TIMED_OUT,
    "unlabel": st.LABEL_REMOVAL_TIMED_OUT,
}


def _is_terminating(obj: Mapping[str, Any]) -> bool:
    return bool(metadata(obj).get("deletionTimestamp"))


def _api_message(err: Exception) -> str:
    return str(err).splitlines()[0][:300]


class TypeController:
    def __init__(self, manager: Manager, target: TypeConfig) -> None:
        self.mgr = manager
        self.target = target
        self.is_namespace_type = target.kind == "Namespace"
        self.queue = WorkQueue(manager.clock)
        # A namespaced control plane reads and writes only in the KubeFed namespace, on the
        # host and in the members (its member identity holds a Role there, nothing more).
        self.limited = manager.settings.scope == names.SCOPE_NAMESPACED
        watch_ns = manager.settings.namespace if self.limited else ""
        self.versions = VersionStore(manager.host, target, namespace=watch_ns)
        self.fed_informer = Informer(
            manager.host,
            target.federated_api_version,
            target.federated_kind,
            namespace=watch_ns,
            on_event=self._on_federated_event,
        )
        self.member_informers: dict[str, Informer] = {}
        self._not_served_at: dict[str, float] = {}  # cluster -> when it last said "not served"
        self._members_lock = threading.RLock()
        # (namespace, name) -> (generation, when it was first seen): propagation latency.
        self._seen_at: dict[Key, tuple[int, float]] = {}
        # Whether the installed federated CRD keeps status.clusters[].message (KubeFed's
        # CRDs do not): known from the CRD at start, or learnt from the first status write.
        self.status_messages = True
        self.running = False

    # -- lifecycle and events -------------------------------------------------------

    def start(self) -> None:
        self.versions.load()
        self._read_status_schema()
        self.fed_informer.start()
        for cluster in self.mgr.registry.clusters():
            if cluster.ready:
                self._start_member(cluster.name)
        self.running = True

    def _read_status_schema(self) -> None:
        try:
            crd = self.mgr.host.get(CRD_API_VERSION, CRD_GROUP_KIND[1], "", self.target.crd_name)
        except ApiError:
            return  # not readable: learnt from the first status write instead
        self.status_messages = crd_keeps_cluster_messages(crd, self.target.federated_version)
        if not self.status_messages:
            self.mgr.log(
                f"CRD {self.target.crd_name} has no status.clusters[].message (a KubeFed CRD): "
                "status is written without messages; `kubectl kubefed init` or `enable` upgrades it"
            )

    def stop(self) -> None:
        self.fed_informer.stop()
        for informer in self.member_informers.values():
            informer.stop()
        self.member_informers.clear()
        self.running = False

    def enqueue_all(self, delay: float = 0.0, namespace: str | None = None) -> None:
        for obj in self.fed_informer.list(namespace):
            self.queue.add((namespace_of(obj), name_of(obj)), delay)

    def _on_federated_event(self, event_type: str, obj: Obj) -> None:
        key = (namespace_of(obj), name_of(obj))
        generation = int(metadata(obj).get("generation") or 0)
        if event_type == "DELETED":
            self._seen_at.pop(key, None)
        elif self._seen_at.get(key, (None,))[0] != generation:
            self._seen_at[key] = (generation, self.mgr.clock.now())
        self.queue.add(key)
        if self.is_namespace_type:
            self.mgr.federated_namespace_changed(namespace_of(obj))

    def _fed_key_for_member(self, obj: Obj) -> Key:
        if self.is_namespace_type:
            return (name_of(obj), name_of(obj))
        return (namespace_of(obj), federated_name(name_of(obj)))

    def _member_ref(self, key: Key) -> Key:
        """(namespace, name) of the member object for a (namespace, member name) key."""
        if self.is_namespace_type or not self.target.namespaced:
            return ("", key[1])
        return key

    def _member_ref_of(self, fed: Obj) -> Key:
        """(namespace, name) of the one member object ``fed`` writes."""
        return self._member_ref((namespace_of(fed), member_name(fed)))

    def _on_member_event(self, event_type: str, obj: Obj) -> None:
        self.queue.add(self._fed_key_for_member(obj), self.mgr.settings.member_event_delay)

    def _start_member(self, cluster: str) -> Informer | None:
        old = self.member_informers.pop(cluster, None)
        if old is not None:
            old.stop()
        if self.limited and self.is_namespace_type:
            # Namespaces are cluster-scoped, and a namespaced plane never propagates the one
            # it lives in (reconcile returns early), so nothing would read this cache.
            return None
        try:
            client = self.mgr.registry.client(cluster)
        except ClientConfigError:
            return None
        informer = Informer(
            client,
            self.target.api_version,
            self.target.kind,
            namespace=self.mgr.settings.namespace if self.limited else "",
            label_selector=MANAGED_SELECTOR,
            on_event=self._on_member_event,
        )
        self.member_informers[cluster] = informer
        informer.start()
        return informer

    def cluster_changed(self, cluster: str, change: str) -> None:
        settings = self.mgr.settings
        if change == "available":
            self._start_member(cluster)
            self.enqueue_all(settings.available_delay)
        elif change in ("unavailable", "removed", "changed"):
            with self._members_lock:
                informer = self.member_informers.pop(cluster, None)
            if informer is not None:
                informer.stop()
            member = self.mgr.registry.get(cluster)
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
        now = self.mgr.clock.now()
        if informer is None:
            informer = self._start_member(cluster)
        elif informer.not_served and now - self._not_served_at.get(cluster, -math.inf) < NOT_SERVED_RECHECK:
            return None
        else:
            informer.ensure()
        if informer is not None and informer.not_served:
            self._not_served_at[cluster] = now
        return informer if informer is not None and informer.synced else None

    # -- the work loop --------------------------------------------------------------

    def process_one(self) -> bool:
        key = self.queue.get()
        if key is None:
            return False
        started = time.perf_counter()
        try:
            outcome = self.reconcile(key)  # type: ignore[arg-type]
        except ApiError as err:
            self.mgr.log(f"{self.target.federated_kind} {key}: {err}", "warning")
            outcome = "error"
        except Exception as err:  # a defect or an unforeseen input: retry this key, keep the worker
            frame = traceback.extract_tb(err.__traceback__)[-1]
            where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
            self.mgr.log(
                f"{self.target.federated_kind} {key}: unexpected {type(err).__name__} at {where}: "
                f"{_api_message(err) if str(err) else ''}",
                "error",
            )
            outcome = "error"
        finally:
            self.queue.done(key)
        labels = (("type", self.target.name),)
        self.mgr.metrics.inc("kubefed_reconciles_total", (*labels, ("outcome", outcome)))
        self.mgr.metrics.observe("kubefed_reconcile_duration_seconds", time.perf_counter() - started, labels)
        if outcome == "error":
            self.queue.add_rate_limited(key)
        elif outcome == "recheck":
            self.queue.forget(key)
            self.queue.add(key, self.mgr.settings.recheck_delay)
        else:
            self.queue.forget(key)
        return True

    def reconcile(self, key: Key) -> str:
        """Returns "ok", "error" (back-off retry) or "recheck" (retry after 10 s)."""
        namespace, name = key
        fed = self.fed_informer.get(namespace, name)
        if self.is_namespace_type and (
            namespace in names.SYSTEM_NAMESPACES or namespace == self.mgr.settings.namespace
        ):
            return "ok"
        if self.is_namespace_type and fed is not None and name != namespace:
            self.mgr.recorder.event(
                fed, "Warning", "InvalidName", "FederatedNamespace must be named like its namespace"
            )
            return "ok"
        if fed is None:
            self.versions.forget(key)
            if not self.is_namespace_type:
                return self._orphan_cleanup(key)
            return "ok"
        if _is_terminating(fed):
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
                self.mgr.recorder.event(fed, "Warning", "EnsureFinalizerError", _api_message(err))
                return "error"
        return self._sync(key, fed)

    # -- sync -----------------------------------------------------------------------

    def _refuse(self, key: Key, fed: Obj, why: str) -> str:
        """ComputeResourceFailed for every selected cluster, members untouched; decided
        before the finalizer is added and before anything copies, patches or hashes the
        spec, so the only write is the status (which is sent without the spec)."""
        placement = self._placement(fed)
        self.mgr.recorder.event(fed, "Warning", st.COMPUTE_RESOURCE_FAILED, why)
        refused = dict.fromkeys(placement.clusters, st.COMPUTE_RESOURCE_FAILED)
        self._write_status(key, fed, placement.reason, refused, dict.fromkeys(refused, why))
        return "ok"

    def _placement(self, fed: Obj) -> pl.PlacementResult:
        clusters = [c.as_placement_cluster() for c in self.mgr.registry.clusters()]
        fed_ns = None
        if self.target.namespaced:
            fed_ns = self.mgr.federated_namespace(namespace_of(fed))
        return pl.compute(
            fed,
            clusters,
            namespaced_target=self.target.namespaced,
            federated_namespace=fed_ns,
            scope=self.mgr.settings.scope,
        )

    def _host_namespace_uid(self, namespace: str) -> str | None:
        try:
            return str(metadata(self.mgr.host.get("v1", "Namespace", "", namespace)).get("uid") or "")
        except NotFound:
            return None

    def _sync(self, key: Key, fed: Obj) -> str:
        placement = self._placement(fed)
        if placement.reason == st.REASON_COMPUTE_PLACEMENT_FAILED:
            self.mgr.recorder.event(fed, "Warning", placement.reason, placement.message)
            self._write_status(key, fed, placement.reason, {}, {})
            return "ok"
        host_ns_uid = ""
        if self.is_namespace_type:
            uid = self._host_namespace_uid(key[0])
            if uid is None:
                return "ok"  # the host namespace is gone: nothing to do
            host_ns_uid = uid
        template_v, overrides_v = ver.template_version(fed), ver.overrides_version(fed)
        recorded = self.versions.recorded(key, template_v, overrides_v)
        overrides_error = ov.problem((fed.get("spec") or {}).get("overrides"))
        statuses: dict[str, str] = {}
        messages: dict[str, str] = {}
        calls: list[Callable[[], OpResult]] = []
        kinds: list[tuple[str, str]] = []
        retry_cache = False
        wait_for_type = False
        ref = self._member_ref_of(fed)
        for cluster in self.mgr.registry.clusters():
            selected = cluster.name in placement.clusters
            if not cluster.ready:
                if selected:
                    statuses[cluster.name] = st.CLUSTER_NOT_READY
                    messages[cluster.name] = self._not_ready_message(cluster)
                    self.mgr.recorder.event(
                        fed,
                        "Warning",
                        st.CLUSTER_NOT_READY,
                        f'Cluster "{cluster.name}" is not ready',
                    )
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
                continue
            obj = cache.get(*ref)
            if not selected:
                if obj is None:
                    continue
                if _is_terminating(obj):
                    statuses[cluster.name] = st.WAITING_FOR_REMOVAL
                    continue
                calls.append(self._bind(self._remove, fed, cluster, obj, host_ns_uid, None))
                kinds.append((cluster.name, "delete"))
                continue
            if overrides_error:
                statuses[cluster.name] = st.APPLY_OVERRIDES_FAILED
                messages[cluster.name] = overrides_error
                continue
            if obj is None:
                calls.append(self._bind(self._create, fed, cluster, recorded, host_ns_uid))
                kinds.append((cluster.name, "create"))
            else:
                calls.append(self._bind(self._update, fed, cluster, obj, recorded))
                kinds.append((cluster.name, "update"))
        results = self.mgr.executor.run_all(calls, self.mgr.settings.dispatch_timeout)
        new_versions: dict[str, str] = {}
        for (cluster_name, op), result in zip(kinds, results, strict=True):
            if result is TIMED_OUT or not isinstance(result, OpResult):
                statuses[cluster_name] = _TIMEOUT_STATUS[op]
                continue
            if result.report:
                statuses[cluster_name] = result.status
                if result.message:
                    messages[cluster_name] = result.message
            if result.version is not None:
                new_versions[cluster_name] = result.version
                self._observe_latency(key, fed)
        versions = {c: v for c, v in recorded.items() if c in placement.clusters}
        versions.update({c: v for c, v in new_versions.items() if c in placement.clusters})
        try:
            self.versions.write(fed, template_v, overrides_v, versions)
        except ApiError as err:
            self.mgr.log(f"recording versions of {key}: {err}", "warning")  # only logged, as in KubeFed
        self._write_status(key, fed, placement.reason, statuses, messages)
        if is_recoverable(statuses) or retry_cache:
            return "error"
        return "recheck" if wait_for_type else "ok"

    def _observe_latency(self, key: Key, fed: Obj) -> None:
        seen = self._seen_at.get(key)
        if seen is not None and seen[0] == int(metadata(fed).get("generation") or 0):
            self.mgr.metrics.observe(
                "kubefed_propagation_latency_seconds",
                self.mgr.clock.now() - seen[1],
                (("type", self.target.name),),
            )

    @staticmethod
    def _bind(fn: Callable[..., OpResult], *args: Any) -> Callable[[], OpResult]:
        return lambda: fn(*args)

    def _not_ready_message(self, cluster: MemberCluster) -> str:
        for cond in (cluster.obj.get("status") or {}).get("conditions") or []:
            if (cond.get("status") == "True" and cond.get("type") != "Ready") or (
                cond.get("type") == "Ready" and cond.get("status") != "True"
            ):
                return str(cond.get("message") or cond.get("reason") or "")
        return "no health probe has succeeded yet"

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

    # -- member operations (each returns one OpResult) -----------------------------

    def _client(self, cluster: MemberCluster) -> ClusterClient:
        return self.mgr.registry.client(cluster.name)

    def _record_in_cache(self, cluster: str, obj: Obj) -> None:
        informer = self.member_informers.get(cluster)
        if informer is None:
            return
        if labels_of(obj).get(names.MANAGED_LABEL) == "true":
            informer.put(obj)
        else:
            informer.forget(namespace_of(obj), name_of(obj))

    def _describe(self, fed: Obj) -> str:
        ns = namespace_of(fed)
        prefix = ns + "/" if ns and not self.is_namespace_type else ""
        return f'{self.target.kind} "{prefix}{member_name(fed)}"'

    def _create(
        self, fed: Obj, cluster: MemberCluster, recorded: dict[str, str], host_ns_uid: str
    ) -> OpResult:
        try:
            member = desired_object(fed, self.target, cluster.name)
        except ov.OverridesError as err:
            return self._overrides_failed(fed, cluster, err)
        self._warn(fed, member.warnings)
        try:
            client = self._client(cluster)
            created = client.create(member.obj)
        except ClientConfigError as err:
            return OpResult(cluster.name, st.CLIENT_RETRIEVAL_FAILED, str(err))
        except AlreadyExists:
            try:
                live = client.get(
                    self.target.api_version,
                    self.target.kind,
                    *self._member_ref((namespace_of(member.obj), name_of(member.obj))),
                )
            except ApiError as err:
                return OpResult(cluster.name, st.RETRIEVAL_FAILED, _api_message(err))
            is_host_ns = bool(host_ns_uid) and metadata(live).get("uid") == host_ns_uid
            if not self.mgr.settings.adopt_resources and not is_host_ns:
                return OpResult(
                    cluster.name,
                    st.ALREADY_EXISTS,
                    "the object exists and adoptResources is Disabled",
                )
            self.mgr.recorder.event(
                fed,
                "Warning",
                "CreateInClusterFailed",
                "An update will be attempted instead of a creation due to an existing resource",
            )
            return self._update(fed, cluster, live, recorded)
        except ApiError as err:
            return self._failed(fed, cluster, "CreateInClusterFailed", "create", st.CREATION_FAILED, err)
        return self._written(fed, cluster, "CreateInCluster", "Creating", created)

    def _update(self, fed: Obj, cluster: MemberCluster, live: Obj, recorded: dict[str, str]) -> OpResult:
        if labels_of(live).get(names.MANAGED_LABEL) == "false":
            return OpResult(
                cluster.name,
                st.MANAGED_LABEL_FALSE,
                f'the object is labelled {names.MANAGED_LABEL}: "false"',
            )
        try:
            member = desired_object(fed, self.target, cluster.name, live)
        except ov.OverridesError as err:
            return self._overrides_failed(fed, cluster, err)
        self._warn(fed, member.warnings)
        if not ver.update_needed(recorded.get(cluster.name, ""), member.obj, live):
            return OpResult(cluster.name, st.OK)
        try:
            updated = self._client(cluster).update(member.obj)
        except ClientConfigError as err:
            return OpResult(cluster.name, st.CLIENT_RETRIEVAL_FAILED, str(err))
        except ApiError as err:
            return self._failed(fed, cluster, "UpdateInClusterFailed", "update", st.UPDATE_FAILED, err)
        return self._written(fed, cluster, "UpdateInCluster", "Updating", updated)

    def _failed(
        self, fed: Obj, cluster: MemberCluster, reason: str, doing: str, status: str, err: Exception
    ) -> OpResult:
        message = _api_message(err)
        self.mgr.recorder.event(
            fed,
            "Warning",
            reason,
            f'Failed to {doing} {self._describe(fed)} in cluster "{cluster.name}": {message}',
        )
        return OpResult(cluster.name, status, message)

    def _written(self, fed: Obj, cluster: MemberCluster, reason: str, doing: str, obj: Obj) -> OpResult:
        self._record_in_cache(cluster.name, obj)
        if (self.target.group, self.target.kind) == CRD_GROUP_KIND:
            self.mgr.served_types_changed(cluster.name)  # custom resources may wait for this one
        self.mgr.recorder.event(
            fed, "Normal", reason, f'{doing} {self._describe(fed)} in cluster "{cluster.name}"'
        )
        return OpResult(cluster.name, st.OK, version=ver.object_version(obj))

    def _unlabel(self, fed: Obj | None, cluster: MemberCluster, obj: Obj) -> OpResult:
        """Stop managing an object without deleting it."""
        copy_ = deep_copy(obj)
        labels = ensure_metadata(copy_).get("labels") or {}
        labels.pop(names.MANAGED_LABEL, None)
        ensure_metadata(copy_)["labels"] = labels
        try:
            updated = self._client(cluster).update(copy_)
        except NotFound:
            return OpResult(cluster.name, report=False)
        except (ApiError, ClientConfigError) as err:
            if fed is not None:
                self.mgr.recorder.event(
                    fed, "Warning", "RemoveManagedLabelFromInClusterFailed", _api_message(err)
                )
            return OpResult(cluster.name, st.LABEL_REMOVAL_FAILED, _api_message(err))
        self._record_in_cache(cluster.name, updated)
        if fed is not None:
            self.mgr.recorder.event(
                fed,
                "Normal",
                "RemoveManagedLabelFromInCluster",
                f'Removing managed label from {self._describe(fed)} in cluster "{cluster.name}"',
            )
        return OpResult(cluster.name, report=False)

    def _remove(
        self,
        fed: Obj,
        cluster: MemberCluster,
        obj: Obj,
        host_ns_uid: str,
        options: Mapping[str, Any] | None,
    ) -> OpResult:
        """Delete from a cluster (the host namespace is only unlabelled, never deleted)."""
        if host_ns_uid and metadata(obj).get("uid") == host_ns_uid:
            return self._unlabel(fed, cluster, obj)
        if self.is_namespace_type:
            kept = self._keep_namespace(fed, cluster, obj)
            if kept is not None:
                return kept
        try:
            self._client(cluster).delete(
                self.target.api_version, self.target.kind, namespace_of(obj), name_of(obj), options
            )
        except NotFound:
            return OpResult(cluster.name, report=False)
        except (ApiError, ClientConfigError) as err:
            self.mgr.recorder.event(
                fed,
                "Warning",
                "DeleteInClusterFailed",
                f'Failed to delete {self._describe(fed)} in cluster "{cluster.name}": {_api_message(err)}',
            )
            return OpResult(cluster.name, st.DELETION_FAILED, _api_message(err))
        self.mgr.recorder.event(
            fed,
            "Normal",
            "DeleteInCluster",
            f'Deleting {self._describe(fed)} in cluster "{cluster.name}"',
        )
        return OpResult(cluster.name, st.WAITING_FOR_REMOVAL)

    def _overrides_failed(self, fed: Obj, cluster: MemberCluster, err: ov.OverridesError) -> OpResult:
        if isinstance(err, ov.IdentityChangeError):
            # An attempt to reach another object: say so where the owner looks, not only in status.
            self.mgr.recorder.event(fed, "Warning", st.APPLY_OVERRIDES_FAILED, str(err))
        return OpResult(cluster.name, st.APPLY_OVERRIDES_FAILED, str(err))

    def _keep_namespace(self, fed: Obj, cluster: MemberCluster, ns: Obj) -> OpResult | None:
        """A member namespace that holds objects kubefed does not manage is not deleted
        (that would delete them too): it is unlabelled and reported. Only the enabled
        namespaced types are inspected (the controller may read those). None: delete it."""
        found: list[Obj] = []
        try:
            client = self._client(cluster)
            for controller in list(self.mgr.controllers.values()):
                target = controller.target
                if target.namespaced and target.kind != "Namespace":
                    try:
                        objs, _ = client.list(target.api_version, target.kind, name_of(ns))
                    except NotFound:
                        continue  # a type this member does not serve holds nothing
                    found.extend(o for o in objs if unmanaged(o))
        except (ApiError, ClientConfigError) as err:
            return OpResult(
                cluster.name,
                st.RETRIEVAL_FAILED,
                f"cannot tell whether the namespace holds objects kubefed does not manage, "
                f"so it is not deleted yet: {_api_message(err)}",
            )
        if not found:
            return None
        unlabelled = self._unlabel(fed, cluster, ns)
        if unlabelled.status:
            return unlabelled
        message = (
            f"namespace kept and no longer managed: it holds objects kubefed does not manage "
            f"({describe_some(found)}); delete them and the namespace by hand to remove it"
        )
        self.mgr.recorder.event(
            fed, "Warning", st.UNMANAGED_OBJECTS_IN_NAMESPACE, f'cluster "{cluster.name}": {message}'
        )
        return OpResult(cluster.name, st.UNMANAGED_OBJECTS_IN_NAMESPACE, message)

    def _warn(self, fed: Obj, warnings: list[str]) -> None:
        for warning in warnings:
            reason, _, message = warning.partition(": ")
            self.mgr.recorder.event(fed, "Warning", reason, message)

    # -- orphans and deletion -------------------------------------------------------

    def _orphan_cleanup(self, key: Key) -> str:
        """Managed objects whose federated object is gone lose the label; never deleted."""
        failed = False
        for cluster in self.mgr.registry.clusters():
            if not cluster.ready:
                continue
            cache = self.member_informers.get(cluster.name)
            if cache is None or not cache.synced:
                continue
            for obj in self._members_for_key(cache, key):
                if labels_of(obj).get(names.MANAGED_LABEL) == "true":
                    failed |= self._unlabel(None, cluster, obj).status != st.OK
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
            return "ok"
        placement = self._placement(fed)
        ref = self._member_ref_of(fed)
        if annotations_of(fed).get(names.ORPHAN_ANNOTATION) == "true":
            try:
                self._remove_finalizer(key)
            except ApiError:
                return "error"
            failed = False
            for cluster in self.mgr.registry.clusters():
                cache = self.member_informers.get(cluster.name)
                if cluster.name not in placement.clusters or not cluster.ready or cache is None:
                    continue
                obj = cache.get(*ref)
                if obj is not None:
                    failed |= self._unlabel(fed, cluster, obj).status != st.OK
            return "error" if failed else "ok"
        raw_options = annotations_of(fed).get(names.DELETE_OPTION_ANNOTATION)
        options: dict[str, Any] | None = None
        if raw_options:
            try:
                options = json.loads(raw_options)
                if not isinstance(options, dict):
                    raise ValueError("not an object")
            except ValueError as err:
                self.mgr.recorder.event(
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
        for cluster in self.mgr.registry.clusters():
            if cluster.name not in placement.clusters:
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
            if is_host_ns and _is_terminating(obj):
                continue
            if is_host_ns:
                result = self._unlabel(fed, cluster, obj)
                if result.status:
                    statuses[cluster.name] = result.status
                continue
            statuses[cluster.name] = st.WAITING_FOR_REMOVAL
            if not _is_terminating(obj):
                result = self._remove(fed, cluster, obj, "", options)
                if result.report:
                    statuses[cluster.name] = result.status
                    if result.message:
                        messages[cluster.name] = result.message
        if statuses:
            self._write_status(key, fed, "", statuses, messages)
            if waiting_on_unready or is_recoverable(statuses):
                return "error"
            if st.WAITING_FOR_REMOVAL in statuses.values():
                self.mgr.recorder.event(
                    fed,
                    "Normal",
                    "WaitForRemovalInCluster",
                    f"Waiting for removal of {self._describe(fed)}",
                )
            return "recheck"
        # Nothing left in the caches: confirm with the API servers before letting go.
        for cluster in self.mgr.registry.clusters():
            if cluster.name not in placement.clusters:
                continue
            try:
                live = self._client(cluster).get(self.target.api_version, self.target.kind, *ref)
            except NotFound:
                continue
            except (ApiError, ClientConfigError):
                return "error"
            if labels_of(live).get(names.MANAGED_LABEL) != "true":
                continue
            if bool(host_ns_uid) and metadata(live).get("uid") == host_ns_uid and _is_terminating(live):
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
                current = self.mgr.host.get(
                    self.target.federated_api_version, self.target.federated_kind, *key
                )
            obj = deep_copy(current)
            mutate(obj)
            try:
                updated = self.mgr.host.update(obj)
            except Conflict:
                current = None
                continue
            self.fed_informer.put(updated)
            return updated
        raise Conflict(f"could not update {key} after retries")

    def _learn_pruning(self, sent: Mapping[str, Any], written: Mapping[str, Any]) -> None:
        """A message sent and not stored: the schema prunes it, so send none from now on."""
        if not any(c.get("message") for c in sent.get("clusters") or []):
            return
        stored = (written.get("status") or {}).get("clusters") or []
        if not any(isinstance(c, Mapping) and c.get("message") for c in stored):
            self.status_messages = False
            self.mgr.log(
                f"{self.target.federated_kind}: the API server prunes status.clusters[].message "
                "(a KubeFed CRD): status is written without messages from now on"
            )

    def _remove_finalizer(self, key: Key) -> None:
        def drop(obj: Obj) -> None:
            meta = ensure_metadata(obj)
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != names.SYNC_FINALIZER]

        try:
            self._update_fed(key, drop)
        except NotFound:
            return

    def _write_status(
        self, key: Key, fed: Obj, reason: str, statuses: dict[str, str], messages: dict[str, str]
    ) -> None:
        now = rfc3339(self.mgr.clock.now())
        current = fed
        for _ in range(5):
            new = next_status(
                current.get("status"),
                int(metadata(current).get("generation") or 0),
                reason,
                statuses,
                now,
                messages if self.status_messages else {},
            )
            if new is None:
                return
            # The status subresource ignores everything but status: the spec is not sent.
            body = {k: v for k, v in current.items() if k not in ("spec", "status")}
            try:
                updated = self.mgr.host.update_status({**body, "status": new})
                self._learn_pruning(new, updated)
            except Conflict:
                try:
                    current = self.mgr.host.get(
                        self.target.federated_api_version, self.target.federated_kind, *key
                    )
                except NotFound:
                    return
                continue
            except NotFound:
                return
            self.fed_informer.put(updated)
            return
