"""The replica scheduling controller: ReplicaSchedulingPreferences drive the placement and
``/spec/replicas`` overrides of their FederatedDeployment / FederatedReplicaSet (§7.1).

KubeFed's ``schedulingpreference`` controller with its ``ReplicaScheduler`` and plugins
(``pkg/schedulingtypes``), written once against the runtime:

* Active while the feature gate ``SchedulerPreferences`` is on; one plugin per enabled
  type ``deployments.apps`` / ``replicasets.apps`` (started and stopped with them), each
  caching its federated objects on the host and reading the managed member objects through
  the shared member caches (the same caches the propagation controller holds).
* Reconcile of the RSP ``ns/name``: the available clusters are the Ready ones (with
  ``intersectWithClusterSelector``, only those the target's ``placement.clusterSelector``
  and its FederatedNamespace's selector admit, evaluated selector-only); current replicas
  and estimated capacity per cluster as KubeFed reads them (``core.podanalysis``; Pods only
  for a member whose ``readyReplicas`` differs from ``spec.replicas``, from a shared Pod
  cache held only while some workload there needs it); the planner and merge of
  ``core.replicas``; then ``spec.placement.clusters`` and one ``/spec/replicas`` override
  per scheduled cluster are written, in one update, only when they differ.
* Pull clusters have no client on the host: they take part with no current replicas and no
  capacity estimate (as a push cluster without the member object).
* A cluster that becomes unavailable makes every RSP be planned again after KubeFed's
  ``unavailableDelay`` (+3 s; an RSP a FederatedApplication owns: its
  ``failover.tolerationSeconds`` + 3 s); one that becomes available after 3 s (KubeFed waits
  ``availableDelay``, which lets the propagation controller delete the returning cluster's
  workload first; see docs/scheduling.md).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Final

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, deep_copy, metadata, name_of, namespace_of
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core import podanalysis as pa
from kubectl_kubefed.core import replicas as rs
from kubectl_kubefed.core.application import TOLERATION_ANNOTATION
from kubectl_kubefed.core.naming import federated_name, member_name
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.controller import ControllerSpec, QueueController, process_next
from kubectl_kubefed.sync.errors import Conflict, NotFound
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.runtime import Runtime
from kubectl_kubefed.sync.shared import Resource

Key = tuple[str, str]
GATE: Final = "SchedulerPreferences"
RSP_KIND: Final = rs.KIND
# The FederatedTypeConfigs a replica scheduler plugin runs for (KubeFed's registrations).
SCHEDULED_TYPES: Final = ("deployments.apps", "replicasets.apps")
REPLICAS_PATH: Final = "/spec/replicas"
SMALL_DELAY: Final = 3.0  # KubeFed's delay of the per-RSP reconciles after a cluster change
MANAGED_SELECTOR: Final = f"{names.MANAGED_LABEL}=true"
QUEUE_NAME: Final = "replicaschedulingpreferences"


class Plugin:
    """One scheduled type: its federated objects on the host, its member objects' caches."""

    def __init__(self, ctl: SchedulingController, target: TypeConfig) -> None:
        self.ctl = ctl
        self.target = target
        self.fed_informer = Informer(
            ctl.rt.host,
            target.federated_api_version,
            target.federated_kind,
            namespace=ctl.watch_ns,
            on_event=self._on_federated_event,
        )
        self.member_resource = Resource(target.api_version, target.kind, ctl.watch_ns, MANAGED_SELECTOR)
        self._generations: dict[Key, int] = {}

    def _on_federated_event(self, event_type: str, obj: Obj) -> None:
        """A new target, or a new generation of it. Its status and metadata carry nothing
        the scheduler reads, so their updates (the propagation controller's status after
        every sync) are not acted on: KubeFed re-plans on those too, before the replicas
        just moved can be ready, and flips a schedule back and forth (docs/scheduling.md)."""
        key = (namespace_of(obj), name_of(obj))
        if event_type == "DELETED":
            self._generations.pop(key, None)
            return
        generation = int(metadata(obj).get("generation") or 0)
        if self._generations.get(key) == generation:
            return
        self._generations[key] = generation
        self.ctl.queue.add(key)

    def on_member_event(self, _event_type: str, obj: Obj) -> None:
        self.ctl.queue.add(
            (namespace_of(obj), federated_name(name_of(obj))), self.ctl.rt.settings.member_event_delay
        )


class SchedulingController(QueueController):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.watch_ns = rt.settings.watch_namespace
        self.queue = WorkQueue(rt.clock)
        self.queue_name = QUEUE_NAME
        self.rsp_informer = Informer(
            rt.host,
            names.SCHEDULING_API_VERSION,
            RSP_KIND,
            namespace=self.watch_ns,
            on_event=self._on_rsp_event,
        )
        self.pod_resource = Resource("v1", "Pod", self.watch_ns)
        self.plugins: dict[str, Plugin] = {}  # by federated kind
        self._lock = threading.RLock()
        self._held: dict[tuple[str, Resource], Informer] = {}  # shared member caches held
        self._pod_users: dict[str, set[Key]] = {}  # cluster -> RSPs whose workload needs Pods
        self.running = False
        # The host writes of federated targets this controller made (tests and benchmarks).
        self.target_writes = 0

    # -- the Controller protocol ---------------------------------------------------------

    def start(self) -> None:
        if not self.rt.settings.gate(GATE):
            return
        self.rsp_informer.start()
        self.running = True
        self._sync_plugins()
        self.enqueue_all()

    def stop(self) -> None:
        self.running = False
        self.rsp_informer.stop()
        for kind in list(self.plugins):
            self._stop_plugin(kind)
        with self._lock:
            held = list(self._held)
            self._held.clear()
            self._pod_users.clear()
        for cluster, resource in held:
            self.rt.informers.release(cluster, resource, self._handler_for(resource))

    def tick(self) -> bool:
        return self.running and self._sync_plugins()

    def cluster_changed(self, cluster: str, change: str) -> None:
        if not self.running:
            return
        if change in ("unavailable", "removed", "changed"):
            # The manager has dropped the cluster's shared caches; forget ours.
            with self._lock:
                for held in [k for k in self._held if k[0] == cluster]:
                    del self._held[held]
                self._pod_users.pop(cluster, None)
            for plugin in list(self.plugins.values()):
                self.rt.informers.release(cluster, plugin.member_resource, plugin.on_member_event)
            self.rt.informers.release(cluster, self.pod_resource, self._on_pod_event)
        member = self.rt.clusters.get(cluster)
        if member is not None and member.ready and change in ("available", "changed"):
            for plugin in list(self.plugins.values()):
                self._cache(cluster, plugin.member_resource)
            self.enqueue_all(SMALL_DELAY)
        else:
            for obj in self.rsp_informer.list():
                delay = _toleration(obj, self.rt.settings.unavailable_delay) + SMALL_DELAY
                self.queue.add((namespace_of(obj), name_of(obj)), delay)

    def host_informers(self) -> list[Informer]:
        if not self.running:
            return []
        return [self.rsp_informer, *(p.fed_informer for p in list(self.plugins.values()))]

    # -- plugins and caches ----------------------------------------------------------------

    def _sync_plugins(self) -> bool:
        """One plugin per enabled scheduled type, as KubeFed's scheduling manager keeps them."""
        wanted = {t.federated_kind: t for t in self.rt.enabled_types() if t.name in SCHEDULED_TYPES}
        changed = False
        for kind in list(self.plugins):
            if kind not in wanted or wanted[kind] != self.plugins[kind].target:
                self._stop_plugin(kind)
                changed = True
        for kind, target in wanted.items():
            if kind not in self.plugins:
                plugin = Plugin(self, target)
                self.plugins[kind] = plugin
                plugin.fed_informer.start()
                for cluster in self.rt.clusters.clusters():
                    if cluster.ready and not cluster.pull:
                        self._cache(cluster.name, plugin.member_resource)
                changed = True
        if changed:
            self.enqueue_all()
        return changed

    def _stop_plugin(self, kind: str) -> None:
        plugin = self.plugins.pop(kind)
        plugin.fed_informer.stop()
        with self._lock:
            clusters = [c for c, r in self._held if r == plugin.member_resource]
            for cluster in clusters:
                del self._held[(cluster, plugin.member_resource)]
        for cluster in clusters:
            self.rt.informers.release(cluster, plugin.member_resource, plugin.on_member_event)

    def _handler_for(self, resource: Resource) -> Any:
        if resource == self.pod_resource:
            return self._on_pod_event
        for plugin in self.plugins.values():
            if plugin.member_resource == resource:
                return plugin.on_member_event
        return self._on_pod_event

    def _on_pod_event(self, _event_type: str, _obj: Obj) -> None:
        """KubeFed ignores Pod events: a workload's own status changes bring the RSP back."""

    def _cache(self, cluster: str, resource: Resource) -> Informer | None:
        """The synced shared cache of ``resource`` in ``cluster``, acquired on first use."""
        with self._lock:
            informer = self._held.get((cluster, resource))
        if informer is None:
            try:
                informer = self.rt.informers.acquire(cluster, resource, self._handler_for(resource))
            except ClientConfigError:
                return None
            with self._lock:
                self._held[(cluster, resource)] = informer
        else:
            informer.ensure()
        return informer if informer.synced else None

    def _use_pods(self, cluster: str, key: Key, needed: bool) -> None:
        """Hold the cluster's Pod cache while some RSP's workload there needs its Pods."""
        with self._lock:
            users = self._pod_users.setdefault(cluster, set())
            if needed:
                users.add(key)
                return
            users.discard(key)
            release = not users and (cluster, self.pod_resource) in self._held
            if release:
                del self._held[(cluster, self.pod_resource)]
                del self._pod_users[cluster]
        if release:
            self.rt.informers.release(cluster, self.pod_resource, self._on_pod_event)

    # -- events and the work loop ----------------------------------------------------------

    def _on_rsp_event(self, event_type: str, obj: Obj) -> None:
        key = (namespace_of(obj), name_of(obj))
        if event_type == "DELETED":
            for cluster in list(self._pod_users):
                self._use_pods(cluster, key, False)
        self.queue.add(key)

    def enqueue_all(self, delay: float = 0.0) -> None:
        for obj in self.rsp_informer.list():
            self.queue.add((namespace_of(obj), name_of(obj)), delay)

    def process_one(self) -> bool:
        return process_next(
            self.queue,
            self.reconcile,
            what=RSP_KIND,
            log=self.rt.log,
            recheck_delay=self.rt.settings.recheck_delay,
            metrics=self.rt.metrics,
            metric_type=QUEUE_NAME,
        )

    # -- reconcile -------------------------------------------------------------------------

    def reconcile(self, key: Key) -> str:
        """Returns "ok", "error" (back-off retry) or "recheck" (retry after 10 s)."""
        rsp = self.rsp_informer.get(*key)
        if rsp is None:
            return "ok"
        ready = [c for c in self.rt.clusters.clusters() if c.ready]
        if not ready:
            return "ok"  # no joined clusters, nothing to do
        target_kind = (rsp.get("spec") or {}).get("targetKind")
        if target_kind not in rs.TARGET_KINDS:
            return "recheck"  # KubeFed: "RSP target kind ... is incorrect", checked again in 10 s
        plugin = self.plugins.get(str(target_kind))
        if plugin is None:
            return "ok"
        fed = plugin.fed_informer.get(*key)
        if fed is None:
            return "ok"  # the target does not exist (yet): its creation brings us back
        if metadata(fed).get("deletionTimestamp"):
            return "ok"  # its deletion removes it from the clusters of its placement: keep that
        try:
            pref = rs.parse_preference(rsp)
        except rs.PreferenceError as err:
            self._refuse(rsp, str(err))
            return "ok"
        candidates = sorted(c.name for c in ready)
        if pref.intersect_with_cluster_selector:
            admitted = self._admitted(plugin, fed, ready)
            if admitted is None:
                return "error"
            if not admitted:
                return "ok"
            candidates = sorted(admitted)
        state = self._replica_state(plugin, fed, key, candidates)
        if state is None:
            return "error"
        current, capacity, recheck = state
        try:
            result = rs.schedule(pref, candidates, current, capacity)
        except rs.PreferenceError as err:
            self._refuse(rsp, str(err))
            return "ok"
        if not self._write(plugin, key, fed, result.replicas):
            return "error"
        return "recheck" if recheck else "ok"

    def _refuse(self, rsp: Obj, why: str) -> None:
        self.rt.recorder.event(rsp, "Warning", "InvalidPreference", why)
        self.rt.log(f"{RSP_KIND} {namespace_of(rsp)}/{name_of(rsp)}: {why}", "warning")

    def _admitted(self, plugin: Plugin, fed: Obj, ready: list[Any]) -> frozenset[str] | None:
        """``intersectWithClusterSelector``: the Ready clusters the target's clusterSelector
        and its FederatedNamespace's admit, both evaluated selector-only (``placement.clusters``
        is the scheduler's own output, so it is ignored). None: cannot be computed (retry)."""
        clusters = [c.as_placement_cluster() for c in ready]
        spec = _spec(fed)
        try:
            own = pl.selected_names(spec.get("placement"), clusters, selector_only=True)
            if not plugin.target.namespaced:
                return own
            fed_ns = self.rt.federated_namespace(namespace_of(fed))
            if fed_ns is None:
                self.rt.log(
                    f"{RSP_KIND} {namespace_of(fed)}/{name_of(fed)}: intersectWithClusterSelector "
                    f"needs the FederatedNamespace {namespace_of(fed)}",
                    "warning",
                )
                return None
            ns_placement = _spec(fed_ns).get("placement")
            return own & pl.selected_names(ns_placement, clusters, selector_only=True)
        except pl.PlacementError as err:
            self.rt.log(f"{RSP_KIND} {namespace_of(fed)}/{name_of(fed)}: placement: {err}", "warning")
            return None

    def _replica_state(
        self, plugin: Plugin, fed: Obj, key: Key, candidates: list[str]
    ) -> tuple[dict[str, int], dict[str, int], bool] | None:
        """Current replicas and estimated capacity per candidate cluster, or None when a
        cache is not synced or a workload lacks its selector (KubeFed: retry)."""
        current: dict[str, int] = {}
        capacity: dict[str, int] = {}
        recheck = False
        ref = (namespace_of(fed), member_name(fed))
        now = self.rt.clock.now()
        for name in candidates:
            cluster = self.rt.clusters.get(name)
            if cluster is None or cluster.pull:
                continue  # no client on the host: no current replicas, unknown capacity
            cache = self._cache(name, plugin.member_resource)
            if cache is None:
                self.rt.log(
                    f"{RSP_KIND} {key}: cluster {name}: {plugin.target.name} not listed yet", "warning"
                )
                return None
            workload = cache.get(*ref)
            if workload is None:
                self._use_pods(name, key, False)
                continue
            spec, status = workload.get("spec") or {}, workload.get("status") or {}
            needs_pods = _int(spec.get("replicas")) != _int(status.get("readyReplicas"))
            self._use_pods(name, key, needs_pods)
            pods: list[Obj] = []
            if needs_pods:
                pod_cache = self._cache(name, self.pod_resource)
                if pod_cache is None:
                    self.rt.log(f"{RSP_KIND} {key}: cluster {name}: Pods not listed yet", "warning")
                    return None
                pods = pod_cache.list(ref[0])
            try:
                replica_state = pa.replica_state(workload, pods, now)
            except pa.MissingSelector as err:
                self.rt.log(f"{RSP_KIND} {key}: cluster {name}: {err}", "warning")
                return None
            current[name] = replica_state.current
            if replica_state.capacity is not None:
                capacity[name] = replica_state.capacity
            recheck |= replica_state.needs_recheck
        return current, capacity, recheck

    # -- writing the target ----------------------------------------------------------------

    def _write(self, plugin: Plugin, key: Key, fed: Obj, replicas: Mapping[str, int]) -> bool:
        """``spec.placement.clusters`` and the ``/spec/replicas`` overrides, in one update
        and only when they differ; returns False when it could not be written."""
        current: Obj | None = fed
        for _ in range(3):
            if current is None:
                try:
                    current = self.rt.host.get(
                        plugin.target.federated_api_version, plugin.target.federated_kind, *key
                    )
                except NotFound:
                    return True  # deleted meanwhile: nothing to do
            try:
                updated = apply_schedule(current, replicas)
            except ov.OverridesError as err:
                self.rt.log(f"{plugin.target.federated_kind} {key}: overrides: {err}", "warning")
                return False
            if updated is None:
                return True
            try:
                written = self.rt.host.update(updated)
            except Conflict:
                current = None
                continue
            except NotFound:
                return True
            self.target_writes += 1
            plugin.fed_informer.put(written)
            return True
        return False


def _toleration(rsp: Obj, default: float) -> float:
    """How long after a cluster becomes unavailable the RSP is planned again: its
    FederatedApplication's ``failover.tolerationSeconds`` (an annotation), else KubeFed's
    ``unavailableDelay``."""
    value = (metadata(rsp).get("annotations") or {}).get(TOLERATION_ANNOTATION)
    return float(value) if isinstance(value, str) and value.isdigit() else default


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _cluster_names(placement: Any) -> list[str]:
    listed = placement.get("clusters") if isinstance(placement, Mapping) else None
    if not isinstance(listed, list):
        return []
    return [str(c.get("name")) for c in listed if isinstance(c, Mapping)]


def _replicas_value(value: Any) -> int | None:
    """An override value as KubeFed compares it (a JSON number, truncated to an integer)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def overrides_need_update(overrides: Any, replicas: Mapping[str, int]) -> bool:
    """KubeFed's ``OverrideUpdateNeeded``: every ``/spec/replicas`` override names a
    scheduled cluster with its number, and every scheduled cluster has one."""
    found = 0
    for entry in overrides if isinstance(overrides, list) else []:
        cluster = entry.get("clusterName")
        for item in entry.get("clusterOverrides") or []:
            if item.get("path") != REPLICAS_PATH:
                continue
            value = _replicas_value(item.get("value"))
            if value is None or cluster not in replicas or replicas[cluster] != value:
                return True
            found += 1
    return found != len(replicas)


def apply_schedule(fed: Mapping[str, Any], replicas: Mapping[str, int]) -> Obj | None:
    """The federated object with the schedule written into it (KubeFed's ``Plugin.Reconcile``),
    or None when it already says exactly that. Other overrides are kept; an entry of a
    cluster no longer scheduled loses only its ``/spec/replicas`` override; entries keep
    their order and new ones follow in cluster name order (KubeFed's order is random).
    Raises OverridesError for overrides KubeFed could not read."""
    spec = _spec(fed)
    overrides = spec.get("overrides")
    ov.parse(overrides)  # duplicate clusters or paths, forbidden paths: KubeFed refuses them too
    placement = spec.get("placement")
    wanted = sorted(replicas)
    placement_dirty = sorted(_cluster_names(placement)) != wanted
    overrides_dirty = overrides_need_update(overrides, replicas)
    if not placement_dirty and not overrides_dirty:
        return None
    obj = deep_copy(fed)
    new_spec = obj.setdefault("spec", {})
    if placement_dirty:
        new_placement = new_spec.get("placement")
        if not isinstance(new_placement, dict):
            new_placement = new_spec["placement"] = {}
        new_placement["clusters"] = [{"name": c} for c in wanted]
    if overrides_dirty:
        entries: list[dict[str, Any]] = list(new_spec.get("overrides") or [])
        seen: set[str] = set()
        for entry in entries:
            cluster = str(entry.get("clusterName"))
            items: list[dict[str, Any]] = list(entry.get("clusterOverrides") or [])
            seen.add(cluster)
            if cluster in replicas:
                for item in items:
                    if item.get("path") == REPLICAS_PATH:
                        item["value"] = replicas[cluster]
                        break
                else:
                    items.append({"path": REPLICAS_PATH, "value": replicas[cluster]})
            else:
                items = [i for i in items if i.get("path") != REPLICAS_PATH]
            entry["clusterOverrides"] = items
        for cluster in wanted:
            if cluster not in seen:
                entries.append(
                    {
                        "clusterName": cluster,
                        "clusterOverrides": [{"path": REPLICAS_PATH, "value": replicas[cluster]}],
                    }
                )
        new_spec["overrides"] = entries
    return obj


SPEC = ControllerSpec(
    name="scheduling",
    watches=(
        "ReplicaSchedulingPreference",
        "FederatedDeployment",
        "FederatedReplicaSet",
        "member:Deployment (managed)",
        "member:ReplicaSet (managed)",
        "member:Pod (while needed)",
    ),
    reconciles="spec.placement.clusters and /spec/replicas overrides of the RSP's FederatedDeployment "
    "or FederatedReplicaSet",
    build=SchedulingController,
)
