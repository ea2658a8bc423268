"""The controller manager: type controllers per FederatedTypeConfig, cluster health, and
the loop that drives them, on virtual time (``step``) or real time (``run``)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, deep_copy, ensure_metadata, metadata, name_of
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.sync.client import ClusterClient, Executor
from kubectl_kubefed.sync.clock import Clock
from kubectl_kubefed.sync.clusters import ClientFactory, ClusterRegistry
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.events import MemoryRecorder, Recorder
from kubectl_kubefed.sync.health import HealthController
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.metrics import Metrics
from kubectl_kubefed.sync.propagation import TypeController
from kubectl_kubefed.sync.settings import Settings


class Manager:
    def __init__(
        self,
        host: ClusterClient,
        client_factory: ClientFactory,
        *,
        clock: Clock,
        executor: Executor,
        recorder: Recorder | None = None,
        namespace: str = names.DEFAULT_KUBEFED_NAMESPACE,
        settings: Settings | None = None,
        logger: Callable[[str, str], None] | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.host = host
        self.clock = clock
        self.executor = executor
        self.recorder: Recorder = recorder or MemoryRecorder(clock)
        self._explicit_settings = settings
        self.settings = settings or Settings(namespace=namespace)
        self._logger = logger
        self.metrics = metrics or Metrics()
        self.metrics.describe("kubefed_reconciles_total", "counter", "Reconciles by type and outcome.")
        self.metrics.describe(
            "kubefed_propagation_latency_seconds",
            "histogram",
            "From a federated object's new generation to a member write.",
        )
        self.metrics.gauge(
            "kubefed_queue_depth",
            lambda: [((("type", n),), float(len(c.queue))) for n, c in list(self.controllers.items())],
        )
        self.registry = ClusterRegistry(host, self.settings.namespace, client_factory)
        self.registry.add_listener(self._cluster_changed)
        self.health = HealthController(self)
        self.controllers: dict[str, TypeController] = {}
        self._generations: dict[str, int] = {}
        self._ftc_informer = Informer(
            host,
            names.CORE_API_VERSION,
            names.KIND_TYPE_CONFIG,
            namespace=self.settings.namespace,
            on_event=lambda _t, _o: self._ftcs_dirty.set(),
        )
        self._ftcs_dirty = threading.Event()
        self._lock = threading.RLock()
        self._host_errors: dict[tuple[str, str], str] = {}  # (apiVersion, kind) -> last logged

    def log(self, message: str, level: str = "info") -> None:
        """Through the injected ``logger(level, message)``; level is info, warning or error."""
        if self._logger is not None:
            self._logger(level, message)

    # -- start-up -------------------------------------------------------------------

    def start(self) -> None:
        if self._explicit_settings is None:
            try:
                config = self.host.get(
                    names.CORE_API_VERSION,
                    names.KIND_KUBEFED_CONFIG,
                    self.settings.namespace,
                    names.KUBEFED_CONFIG_NAME,
                )
            except NotFound:
                config = None
            self.settings = Settings.from_kubefed_config(config, self.settings.namespace)
        for level, line in self.settings.gate_notes():
            self.log(line, level)
        self.registry.start()
        self._ftc_informer.start()
        self.sync_type_configs()
        self.health.probe_all()

    def stop(self) -> None:
        for controller in self.controllers.values():
            controller.stop()
        self.controllers.clear()
        self._ftc_informer.stop()
        self.registry.informer.stop()

    # -- type configs ---------------------------------------------------------------

    def sync_type_configs(self) -> None:
        """Start, restart and stop type controllers to match the FederatedTypeConfigs."""
        self._ftcs_dirty.clear()
        wanted: dict[str, tuple[tc.TypeConfig, Obj]] = {}
        for ftc in self._ftc_informer.list():
            if metadata(ftc).get("deletionTimestamp"):
                self._release_ftc(ftc)
                continue
            try:
                t = tc.from_ftc(ftc)
            except tc.TypeConfigError as err:
                self.log(str(err), "warning")
                continue
            if t.propagation_enabled and self.settings.gate("PushReconciler"):
                wanted[name_of(ftc)] = (t, ftc)
        if "namespaces" not in wanted:
            wanted = {n: v for n, v in wanted.items() if not v[0].namespaced}
        if self.settings.scope == names.SCOPE_NAMESPACED:
            wanted = {n: v for n, v in wanted.items() if v[0].namespaced or v[0].kind == "Namespace"}
        with self._lock:
            for name in list(self.controllers):
                generation = int(metadata(wanted[name][1]).get("generation") or 0) if name in wanted else -1
                if name not in wanted or generation != self._generations.get(name):
                    self.controllers.pop(name).stop()
            started = []
            for name, (t, ftc) in sorted(wanted.items(), key=lambda kv: kv[1][0].kind != "Namespace"):
                if name not in self.controllers:
                    controller = TypeController(self, t)
                    self.controllers[name] = controller
                    self._generations[name] = int(metadata(ftc).get("generation") or 0)
                    controller.start()
                    started.append(controller)
            for controller in started:
                controller.enqueue_all()
        for ftc in self._ftc_informer.list():
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
                ftc = self.host.update(obj)
            if ftc.get("status") != status:
                self.host.update_status({**ftc, "status": status})
        except (Conflict, NotFound):
            self._ftcs_dirty.set()
        except ApiError as err:
            self.log(f"FederatedTypeConfig {name_of(ftc)}: {err}", "warning")

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
                self.host.update(obj)
            except ApiError:
                self._ftcs_dirty.set()

    # -- cross-controller plumbing --------------------------------------------------

    def federated_namespace(self, namespace: str) -> Obj | None:
        controller = self.controllers.get(tc.NAMESPACES_TYPE.name)
        if controller is None:
            return None
        return controller.fed_informer.get(namespace, namespace)

    def federated_namespace_changed(self, namespace: str) -> None:
        for controller in list(self.controllers.values()):
            if controller.target.namespaced:
                controller.enqueue_all(namespace=namespace)

    def served_types_changed(self, cluster: str) -> None:
        """A CRD was written in a member: types waiting to be served there are re-checked now."""
        for controller in list(self.controllers.values()):
            controller.served_types_changed(cluster)

    def _cluster_changed(self, cluster: str, change: str) -> None:
        for controller in list(self.controllers.values()):
            controller.cluster_changed(cluster, change)

    # -- driving --------------------------------------------------------------------

    def step(self) -> bool:
        """Do everything that is due now; returns whether anything was done."""
        did = False
        if self._ftcs_dirty.is_set():
            self.sync_type_configs()
            did = True
        if self.clock.now() >= self.health.next_probe_at:
            self.health.probe_all()
            did = True
        for controller in list(self.controllers.values()):
            while controller.running and controller.process_one():
                did = True
        return did

    def host_informers(self) -> list[Informer]:
        return [
            self.registry.informer,
            self._ftc_informer,
            *(c.fed_informer for c in list(self.controllers.values())),
        ]

    def check_host(self) -> None:
        """Restart failed host caches; a host connection failure is logged at warning once
        per cache and error, its end at info."""
        for informer in self.host_informers():
            informer.ensure()
            key = (informer.api_version, informer.kind)
            before, now = self._host_errors.get(key, ""), informer.error
            if now and now != before:
                self.log(f"host: cannot list or watch {informer.kind}: {now}", "warning")
            elif before and not now:
                self.log(f"host: {informer.kind} is listed and watched again")
            self._host_errors[key] = now

    def pending(self) -> bool:
        return self._ftcs_dirty.is_set() or any(len(c.queue) for c in self.controllers.values())

    def next_due(self) -> float:
        dues = [c.queue.next_due() for c in self.controllers.values()]
        return min([d for d in dues if d is not None] + [self.health.next_probe_at])

    def run(self, stop: threading.Event, poll: float = 0.2) -> None:
        """Real-time operation: worker threads per type, health probes every period."""
        threads: dict[tuple[str, int], threading.Thread] = {}

        def worker(name: str) -> None:
            while not stop.is_set():
                controller = self.controllers.get(name)
                if controller is None or not controller.running:
                    return
                if not controller.process_one():
                    due = controller.queue.next_due()
                    wait = poll if due is None else min(poll, max(0.0, due - self.clock.now()))
                    controller.queue.wait(wait)

        def guarded(what: str, task: Callable[[], object]) -> bool:
            try:
                task()
            except Exception as err:  # one failed round never stops the manager
                self.log(f"{what}: unexpected {type(err).__name__}: {err}", "error")
                return False
            return True

        last_ensure = 0.0
        ftcs_retry_at = 0.0
        while not stop.is_set():
            if self.clock.now() - last_ensure >= 5.0:
                last_ensure = self.clock.now()
                guarded("checking the host caches", self.check_host)
            due = self._ftcs_dirty.is_set() and self.clock.now() >= ftcs_retry_at
            if due and not guarded("starting type controllers", self.sync_type_configs):
                self._ftcs_dirty.set()
                ftcs_retry_at = self.clock.now() + 5.0
            if self.clock.now() >= self.health.next_probe_at:
                guarded("probing cluster health", self.health.probe_all)
            for name in list(self.controllers):
                for i in range(self.settings.workers_for(name)):
                    thread = threads.get((name, i))
                    if thread is None or not thread.is_alive():
                        thread = threading.Thread(
                            target=worker, args=(name,), daemon=True, name=f"sync-{name}-{i}"
                        )
                        threads[(name, i)] = thread
                        thread.start()
            stop.wait(poll)
        for thread in threads.values():
            thread.join(timeout=5)
        self.stop()
