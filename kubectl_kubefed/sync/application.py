"""The FederatedApplication controller (issue 15): each ``apps.kubefed.io/v1alpha1
FederatedApplication`` is expanded (``core.application``) into the Federated<Kind> objects
and ReplicaSchedulingPreferences it owns, on the host; their propagation is the
propagation and scheduling controllers' own (no second path).

* Reconcile of ``ns/name``: parse; expand against the known clusters (their labels resolve
  selector overrides, so a cluster change expands every application again); create what
  is missing, update what differs (a scheduled FederatedDeployment keeps the placement
  and ``/spec/replicas`` overrides its RSP wrote), delete the owned objects that are no
  longer components; then roll the status up from the owned objects' status (their
  propagation status and collected remote status), written only when it changes.
* Owned objects carry the ``apps.kubefed.io/application`` label and an owner reference
  (controller, blockOwnerDeletion): deleting the application deletes them through the
  garbage collector. An object of the same name that the application does not own is
  never touched (the application is Degraded instead).
* Only writes on change: an application at rest costs no request.
"""

from __future__ import annotations

from typing import Final

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, deep_copy, kind_of, metadata, name_of, namespace_of
from kubectl_kubefed.core import application as ap
from kubectl_kubefed.core import replicas as rs
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.clock import rfc3339
from kubectl_kubefed.sync.controller import ControllerSpec, QueueController, process_next
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, Conflict, NotFound
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.queue import WorkQueue
from kubectl_kubefed.sync.runtime import Runtime

Key = tuple[str, str]
QUEUE_NAME: Final = "federatedapplications"
OWNED_SELECTOR: Final = ap.APP_LABEL  # exists


class ApplicationController(QueueController):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.watch_ns = rt.settings.watch_namespace
        self.queue = WorkQueue(rt.clock)
        self.queue_name = QUEUE_NAME
        self.app_informer = Informer(
            rt.host, ap.API_VERSION, ap.KIND, namespace=self.watch_ns, on_event=self._on_app_event
        )
        self.rsp_informer = Informer(
            rt.host,
            names.SCHEDULING_API_VERSION,
            rs.KIND,
            namespace=self.watch_ns,
            label_selector=OWNED_SELECTOR,
            on_event=self._on_owned_event,
        )
        # federated apiVersion + kind -> (type, cache of the owned objects of that kind)
        self.owned: dict[tuple[str, str], tuple[TypeConfig, Informer]] = {}
        self.running = False
        self.writes = 0  # host writes of owned objects and statuses (tests, benchmarks)

    # -- the Controller protocol ---------------------------------------------------------

    def start(self) -> None:
        self.app_informer.start()
        self.rsp_informer.start()
        self.running = True
        self._sync_types()
        self.enqueue_all()

    def stop(self) -> None:
        self.running = False
        self.app_informer.stop()
        self.rsp_informer.stop()
        for _, informer in self.owned.values():
            informer.stop()
        self.owned.clear()

    def tick(self) -> bool:
        return self.running and self._sync_types()

    def cluster_changed(self, cluster: str, change: str) -> None:
        """Cluster labels resolve selector overrides, and a cluster's readiness is part of
        the status: expand every application again."""
        if self.running and change in ("available", "unavailable", "changed", "removed"):
            self.enqueue_all()

    def host_informers(self) -> list[Informer]:
        if not self.running:
            return []
        return [self.app_informer, self.rsp_informer, *(i for _, i in self.owned.values())]

    # -- types and events --------------------------------------------------------------------

    def _sync_types(self) -> bool:
        """One cache of owned objects per enabled federated type."""
        wanted = {(t.federated_api_version, t.federated_kind): t for t in self.rt.enabled_types()}
        changed = False
        for key in list(self.owned):
            if key not in wanted or wanted[key] != self.owned[key][0]:
                self.owned.pop(key)[1].stop()
                changed = True
        for key, target in wanted.items():
            if key not in self.owned:
                informer = Informer(
                    self.rt.host,
                    key[0],
                    key[1],
                    namespace=self.watch_ns,
                    label_selector=OWNED_SELECTOR,
                    on_event=self._on_owned_event,
                )
                self.owned[key] = (target, informer)
                informer.start()
                changed = True
        if changed:
            self.enqueue_all()
        return changed

    def _on_app_event(self, _event_type: str, obj: Obj) -> None:
        self.queue.add((namespace_of(obj), name_of(obj)))

    def _on_owned_event(self, _event_type: str, obj: Obj) -> None:
        app = (metadata(obj).get("labels") or {}).get(ap.APP_LABEL)
        if isinstance(app, str) and app:
            self.queue.add((namespace_of(obj), app))

    def enqueue_all(self, delay: float = 0.0) -> None:
        for obj in self.app_informer.list():
            self.queue.add((namespace_of(obj), name_of(obj)), delay)

    def process_one(self) -> bool:
        return process_next(
            self.queue,
            lambda key: "ok" if self.reconcile(key) else "error",
            what=ap.KIND,
            log=self.rt.log,
            recheck_delay=self.rt.settings.recheck_delay,
            metrics=self.rt.metrics,
            metric_type=QUEUE_NAME,
        )

    # -- reconcile -------------------------------------------------------------------------

    def _informer_for(self, obj: Obj) -> Informer | None:
        if kind_of(obj) == rs.KIND:
            return self.rsp_informer
        entry = self.owned.get((str(obj.get("apiVersion")), kind_of(obj)))
        return entry[1] if entry is not None else None

    def reconcile(self, key: Key) -> bool:
        """Returns False when something could not be written (retried with back-off)."""
        app_obj = self.app_informer.get(*key)
        if app_obj is None or metadata(app_obj).get("deletionTimestamp"):
            return True  # the garbage collector deletes what it owned
        try:
            app = ap.parse(app_obj, self.rt.enabled_types())
            if not app.uid:
                raise ap.ApplicationError("metadata.uid is not set")
            clusters = [c.as_placement_cluster() for c in self.rt.clusters.clusters()]
            expansion = ap.expand(app, clusters)
        except ap.ApplicationError as err:
            self.rt.recorder.event(app_obj, "Warning", "InvalidSpec", str(err))
            generation = metadata(app_obj).get("generation")
            return self._write_status(
                app_obj, ap.invalid_status(generation if isinstance(generation, int) else 0, str(err))
            )
        ok = True
        problems: list[str] = []
        desired: set[tuple[str, str, str]] = set()
        scheduled = {name_of(p) for p in expansion.preferences()}
        for obj in expansion.objects:
            what = f"{kind_of(obj)} {name_of(obj)}"
            informer = self._informer_for(obj)
            if informer is None:
                problems.append(f"{what}: the type is not enabled (kubectl kubefed enable)")
                continue
            desired.add((str(obj.get("apiVersion")), kind_of(obj), name_of(obj)))
            current = informer.get(app.namespace, name_of(obj))
            if current is not None and not ap.is_owned_by(current, app.name, app.uid):
                problems.append(f"{what} exists and is not owned by the application")
                continue
            is_target = kind_of(obj) == rs.TARGET_KINDS[0] and name_of(obj) in scheduled
            try:
                if not self._apply(informer, obj, current, is_target):
                    ok = False
            except AlreadyExists:
                # Not in our cache of owned objects: someone else's object of that name.
                problems.append(f"{what} exists and is not owned by the application")
            except ApiError as err:
                problems.append(f"{what}: {err}")
                ok = False
        for informer in [self.rsp_informer, *(i for _, i in self.owned.values())]:
            for obj in informer.list(app.namespace):
                ident = (str(obj.get("apiVersion")), kind_of(obj), name_of(obj))
                if ident in desired or not ap.is_owned_by(obj, app.name, app.uid):
                    continue
                ok = self._delete(informer, obj) and ok
        feds = [
            current
            for obj in expansion.federated()
            if (informer := self._informer_for(obj)) is not None
            and (current := informer.get(app.namespace, name_of(obj))) is not None
            and ap.is_owned_by(current, app.name, app.uid)
        ]
        computed = ap.rollup(
            app.generation,
            feds,
            total=len(app.components),
            problems=problems,
            conflicts=expansion.conflicts,
            not_ready=[c.name for c in self.rt.clusters.clusters() if not c.ready],
        )
        return self._write_status(app_obj, computed) and ok

    def _apply(self, informer: Informer, obj: Obj, current: Obj | None, is_target: bool) -> bool:
        """Create ``obj``, or update ``current`` to say what it does; only on change."""
        if current is None:
            try:
                written = self.rt.host.create(obj)
            except AlreadyExists:
                existing = self.rt.host.get(
                    str(obj["apiVersion"]), kind_of(obj), namespace_of(obj), name_of(obj)
                )
                if not ap.is_owned_by(existing, *_owner(obj)):
                    raise
                informer.put(existing)  # ours, and the cache is behind: compare again
                return False
            self.writes += 1
            informer.put(written)
            return True
        want = ap.with_schedule(obj, current) if is_target else obj
        have = ap.normalized_overrides(current) if is_target else current
        if ap.same_content(want, have):
            return True
        updated = deep_copy(current)
        updated["spec"] = deep_copy(want)["spec"]
        meta = updated.setdefault("metadata", {})
        want_meta = metadata(want)
        meta["labels"] = {**(meta.get("labels") or {}), **(want_meta.get("labels") or {})}
        if want_meta.get("annotations"):
            meta["annotations"] = {**(meta.get("annotations") or {}), **want_meta["annotations"]}
        meta["ownerReferences"] = want_meta.get("ownerReferences")
        try:
            written = self.rt.host.update(updated)
        except Conflict:
            return False
        except NotFound:
            return False
        self.writes += 1
        informer.put(written)
        return True

    def _delete(self, informer: Informer, obj: Obj) -> bool:
        try:
            self.rt.host.delete(str(obj["apiVersion"]), kind_of(obj), namespace_of(obj), name_of(obj))
        except NotFound:
            pass
        except ApiError as err:
            self.rt.log(
                f"{ap.KIND}: delete {kind_of(obj)} {namespace_of(obj)}/{name_of(obj)}: {err}", "warning"
            )
            return False
        self.writes += 1
        informer.forget(namespace_of(obj), name_of(obj))
        return True

    def _write_status(self, app_obj: Obj, computed: dict[str, object]) -> bool:
        new = ap.next_status(app_obj.get("status") or {}, computed, rfc3339(self.rt.clock.now()))
        if new is None:
            return True
        updated = deep_copy(app_obj)
        updated["status"] = new
        try:
            written = self.rt.host.update_status(updated)
        except (Conflict, NotFound):
            return False
        self.writes += 1
        self.app_informer.put(written)
        return True


def _owner(obj: Obj) -> tuple[str, str]:
    """The application name and uid an expanded object names."""
    refs = metadata(obj).get("ownerReferences") or [{}]
    return str((metadata(obj).get("labels") or {}).get(ap.APP_LABEL)), str(refs[0].get("uid"))


SPEC = ControllerSpec(
    name="application",
    watches=(
        ap.KIND,
        "Federated<Kind> (owned by an application)",
        "ReplicaSchedulingPreference (owned by an application)",
    ),
    reconciles="the Federated<Kind> objects and RSPs a FederatedApplication expands into, and its status",
    build=ApplicationController,
)
