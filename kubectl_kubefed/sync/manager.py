"""The controller manager: builds the runtime (host, member clusters, shared member
caches), builds the registered controllers and drives them, on virtual time (``step``) or
real time (``run``). It only wires: what each controller watches and does is its own."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import cast

from kubectl_kubefed.api import names
from kubectl_kubefed.sync.client import ClusterClient, Executor
from kubectl_kubefed.sync.clock import Clock
from kubectl_kubefed.sync.clusters import ClientFactory, ClusterRegistry
from kubectl_kubefed.sync.controller import Controller, ControllerSpec, Workers
from kubectl_kubefed.sync.controllers import DEFAULT
from kubectl_kubefed.sync.errors import NotFound
from kubectl_kubefed.sync.events import MemoryRecorder, Recorder
from kubectl_kubefed.sync.health import HealthController
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.metrics import Metrics
from kubectl_kubefed.sync.propagation import TypeController
from kubectl_kubefed.sync.runtime import Runtime
from kubectl_kubefed.sync.settings import Settings
from kubectl_kubefed.sync.shared import SharedInformers
from kubectl_kubefed.sync.typeconfigs import TypeConfigController

WORKER_IDLE_WAIT = 1.0  # seconds


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
        controllers: Sequence[ControllerSpec] = DEFAULT,
    ) -> None:
        self.host = host
        self.clock = clock
        self.executor = executor
        self._explicit_settings = settings
        settings = settings or Settings(namespace=namespace)
        self.registry = ClusterRegistry(host, settings.namespace, client_factory)
        self.informers = SharedInformers(self.registry.client)
        self.rt = Runtime(
            host,
            self.registry,
            self.informers,
            clock=clock,
            executor=executor,
            recorder=recorder or MemoryRecorder(clock),
            settings=settings,
            metrics=metrics or Metrics(),
            logger=logger,
        )
        self.registry.add_listener(self._cluster_changed)
        self.specs = tuple(controllers)
        self.running: dict[str, Controller] = {spec.name: spec.build(self.rt) for spec in self.specs}
        self._host_errors: dict[tuple[str, str], str] = {}  # (apiVersion, kind) -> last logged

    @property
    def settings(self) -> Settings:
        return self.rt.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.rt.settings = value

    @property
    def recorder(self) -> Recorder:
        return self.rt.recorder

    @property
    def metrics(self) -> Metrics:
        return self.rt.metrics

    def log(self, message: str, level: str = "info") -> None:
        self.rt.log(message, level)

    # -- conveniences for the CLI, the simulator and tests (not used by controllers) --

    @property
    def health(self) -> HealthController:
        return cast(HealthController, self.running["health"])

    @property
    def controllers(self) -> dict[str, TypeController]:
        """The running propagation controllers, by type name."""
        return cast(TypeConfigController, self.running["typeconfigs"]).controllers

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
        for controller in self.running.values():
            controller.start()

    def stop(self) -> None:
        for controller in self.running.values():
            controller.stop()
        self.informers.stop_all()
        self.registry.informer.stop()

    def _cluster_changed(self, cluster: str, change: str) -> None:
        if change in ("unavailable", "removed", "changed"):
            self.informers.drop_cluster(cluster)  # members are listed again when needed
        for controller in list(self.running.values()):
            controller.cluster_changed(cluster, change)

    # -- driving --------------------------------------------------------------------

    def _workers(self) -> dict[str, Workers]:
        found: dict[str, Workers] = {}
        for controller in list(self.running.values()):
            found.update(controller.workers())
        return found

    def step(self) -> bool:
        """Do everything that is due now; returns whether anything was done."""
        did = False
        for controller in self.running.values():
            did |= controller.tick()
        for workers in self._workers().values():
            while workers.running() and workers.process_one():
                did = True
        return did

    def host_informers(self) -> list[Informer]:
        return [self.registry.informer, *(i for c in self.running.values() for i in c.host_informers())]

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
        return any(c.pending() for c in self.running.values())

    def next_due(self) -> float:
        dues = [d for c in self.running.values() if (d := c.next_due()) is not None]
        return min(dues, default=float("inf"))

    def run(self, stop: threading.Event, poll: float = 0.2) -> None:
        """Real-time operation: worker threads per queue, main-loop duties every ``poll``."""
        threads: dict[tuple[str, int], threading.Thread] = {}

        def worker(name: str) -> None:
            while not stop.is_set():
                workers = self._workers().get(name)
                if workers is None or not workers.running():
                    return
                if not workers.process_one():
                    # An added key wakes a worker at once; the wait's cap only bounds how
                    # late a stop is noticed (every type has its workers: at the main
                    # loop's poll they woke hundreds of times a second for nothing).
                    due = workers.queue.next_due()
                    cap = max(poll, WORKER_IDLE_WAIT)
                    wait = cap if due is None else min(cap, max(0.0, due - self.clock.now()))
                    workers.queue.wait(wait)

        def guarded(what: str, task: Callable[[], object]) -> None:
            try:
                task()
            except Exception as err:  # one failed round never stops the manager
                self.log(f"{what}: unexpected {type(err).__name__}: {err}", "error")

        last_ensure = 0.0
        while not stop.is_set():
            if self.clock.now() - last_ensure >= 5.0:
                last_ensure = self.clock.now()
                guarded("checking the host caches", self.check_host)
            for name, controller in list(self.running.items()):
                guarded(f"controller {name}", controller.tick)
            for name, workers in self._workers().items():
                for i in range(workers.count):
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
