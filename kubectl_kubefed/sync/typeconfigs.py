"""The FederatedTypeConfig controller: one propagation controller per enabled type,
started, restarted (new generation) and stopped as FTCs change; the FTC's finalizer and
status say whether its type is propagated."""

from __future__ import annotations

import threading

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, deep_copy, ensure_metadata, metadata, name_of
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.sync.controller import ControllerSpec, Workers
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.propagation import TypeController
from kubectl_kubefed.sync.runtime import Runtime

# After a failed round, the FTCs are looked at again this much later (not in a hot loop).
RETRY_AFTER = 5.0


class TypeConfigController:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.controllers: dict[str, TypeController] = {}
        self._generations: dict[str, int] = {}
        self.dirty = threading.Event()
        self._retry_at = float("-inf")
        self._lock = threading.RLock()
        self.informer = Informer(
            rt.host,
            names.CORE_API_VERSION,
            names.KIND_TYPE_CONFIG,
            namespace=rt.settings.namespace,
            on_event=lambda _t, _o: self.dirty.set(),
        )
        rt.enabled_types = lambda: [c.target for c in list(self.controllers.values())]
        rt.metrics.describe("kubefed_reconciles_total", "counter", "Reconciles by type and outcome.")
        rt.metrics.describe(
            "kubefed_propagation_latency_seconds",
            "histogram",
            "From a federated object's new generation to a member write.",
        )
        rt.metrics.gauge(
            "kubefed_queue_depth",
            lambda: [((("type", n),), float(len(c.queue))) for n, c in list(self.controllers.items())],
        )

    # -- the Controller protocol ---------------------------------------------------------

    def start(self) -> None:
        self.informer.start()
        self.sync_type_configs()

    def stop(self) -> None:
        for controller in self.controllers.values():
            controller.stop()
        self.controllers.clear()
        self.informer.stop()

    def tick(self) -> bool:
        if not self.dirty.is_set() or self.rt.clock.now() < self._retry_at:
            return False
        try:
            self.sync_type_configs()
        except Exception:
            self.dirty.set()
            self._retry_at = self.rt.clock.now() + RETRY_AFTER
            raise
        return True

    def workers(self) -> dict[str, Workers]:
        return {name: self._workers_of(name, c) for name, c in list(self.controllers.items())}

    def _workers_of(self, name: str, controller: TypeController) -> Workers:
        return Workers(
            self.rt.settings.workers_for(name),
            controller.process_one,
            controller.queue,
            lambda: controller.running,
        )

    def pending(self) -> bool:
        return self.dirty.is_set() or any(len(c.queue) for c in self.controllers.values())

    def next_due(self) -> float | None:
        dues = [d for c in self.controllers.values() if (d := c.queue.next_due()) is not None]
        return min(dues, default=None)

    def cluster_changed(self, cluster: str, change: str) -> None:
        for controller in list(self.controllers.values()):
            controller.cluster_changed(cluster, change)

    def host_informers(self) -> list[Informer]:
        return [self.informer, *(c.fed_informer for c in list(self.controllers.values()))]

    # -- type configs ----------------------------------------------------------------

    def sync_type_configs(self) -> None:
        """Start, restart and stop type controllers to match the FederatedTypeConfigs."""
        self.dirty.clear()
        wanted: dict[str, tuple[tc.TypeConfig, Obj]] = {}
        for ftc in self.informer.list():
            if metadata(ftc).get("deletionTimestamp"):
                self._release_ftc(ftc)
                continue
            try:
                t = tc.from_ftc(ftc)
            except tc.TypeConfigError as err:
                self.rt.log(str(err), "warning")
                continue
            if t.propagation_enabled and self.rt.settings.gate("PushReconciler"):
                wanted[name_of(ftc)] = (t, ftc)
        if "namespaces" not in wanted:
            wanted = {n: v for n, v in wanted.items() if not v[0].namespaced}
        if self.rt.settings.scope == names.SCOPE_NAMESPACED:
            wanted = {n: v for n, v in wanted.items() if v[0].namespaced or v[0].kind == "Namespace"}
        with self._lock:
            for name in list(self.controllers):
                generation = int(metadata(wanted[name][1]).get("generation") or 0) if name in wanted else -1
                if name not in wanted or generation != self._generations.get(name):
                    self.controllers.pop(name).stop()
            started = []
            for name, (t, ftc) in sorted(wanted.items(), key=lambda kv: kv[1][0].kind != "Namespace"):
                if name not in self.controllers:
                    controller = TypeController(self.rt, t)
                    self.controllers[name] = controller
                    self._generations[name] = int(metadata(ftc).get("generation") or 0)
                    controller.start()
                    started.append(controller)
            for controller in started:
                controller.enqueue_all()
        for ftc in self.informer.list():
            if not metadata(ftc).get("deletionTimestamp"):
                self._publish_ftc(ftc, name_of(ftc) in self.controllers)

    def _publish_ftc(self, ftc: Obj, running: bool) -> None:
        status = {
            "observedGeneration": int(metadata(ftc).get("generation") or 0),
            "propagationController": "Running" if running else "NotRunning",
            "statusController": "NotRunning",
        }
        finalizers = metadata(ftc).get("finalizers") or []
        try:
            if names.TYPE_CONFIG_FINALIZER not in finalizers:
                obj = deep_copy(ftc)
                ensure_metadata(obj)["finalizers"] = [*finalizers, names.TYPE_CONFIG_FINALIZER]
                ftc = self.rt.host.update(obj)
            if ftc.get("status") != status:
                self.rt.host.update_status({**ftc, "status": status})
        except (Conflict, NotFound):
            self.dirty.set()
        except ApiError as err:
            self.rt.log(f"FederatedTypeConfig {name_of(ftc)}: {err}", "warning")

    def _release_ftc(self, ftc: Obj) -> None:
        """A deleted FTC stops its controller; federated and member objects stay as they are."""
        controller = self.controllers.pop(name_of(ftc), None)
        if controller is not None:
            controller.stop()
        if names.TYPE_CONFIG_FINALIZER in (metadata(ftc).get("finalizers") or []):
            obj = deep_copy(ftc)
            meta = ensure_metadata(obj)
            meta["finalizers"] = [f for f in meta["finalizers"] if f != names.TYPE_CONFIG_FINALIZER]
            try:
                self.rt.host.update(obj)
            except ApiError:
                self.dirty.set()


SPEC = ControllerSpec(
    name="typeconfigs",
    watches=("FederatedTypeConfig", "Federated<Kind> per enabled type", "member:<Kind> (managed)"),
    reconciles="FederatedTypeConfig status; per enabled type, member objects, PropagatedVersions "
    "and federated object status (sync.propagation)",
    build=TypeConfigController,
)
