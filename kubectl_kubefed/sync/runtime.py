"""What a controller is given: the host, time, member clusters and their shared caches,
settings, events, metrics, a log, and a signal bus to the other controllers.

Controllers depend on this and never on the manager or on each other; the manager builds
one ``Runtime`` and wires the registered controllers to it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from kubectl_kubefed.api.objects import Obj
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.client import ClusterClient, Executor
from kubectl_kubefed.sync.clock import Clock
from kubectl_kubefed.sync.clusters import ClusterRegistry
from kubectl_kubefed.sync.events import Recorder
from kubectl_kubefed.sync.metrics import Metrics
from kubectl_kubefed.sync.settings import Settings
from kubectl_kubefed.sync.shared import SharedInformers

# Signals one controller sends and others may receive (payload in brackets).
NAMESPACE_CHANGED = "federated-namespace-changed"  # (namespace) a FederatedNamespace changed
SERVED_TYPES_CHANGED = "served-types-changed"  # (cluster) a CRD was written in a member


class Bus:
    """Fire-and-forget signals between controllers: the sender does not know who listens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: dict[str, list[Callable[..., None]]] = {}

    def subscribe(self, topic: str, handler: Callable[..., None]) -> None:
        with self._lock:
            self._handlers.setdefault(topic, []).append(handler)

    def unsubscribe(self, topic: str, handler: Callable[..., None]) -> None:
        with self._lock:
            handlers = self._handlers.get(topic, [])
            if handler in handlers:
                handlers.remove(handler)

    def publish(self, topic: str, *args: Any) -> None:
        with self._lock:
            handlers = list(self._handlers.get(topic, []))
        for handler in handlers:
            handler(*args)


class Runtime:
    def __init__(
        self,
        host: ClusterClient,
        clusters: ClusterRegistry,
        informers: SharedInformers,
        *,
        clock: Clock,
        executor: Executor,
        recorder: Recorder,
        settings: Settings,
        metrics: Metrics,
        logger: Callable[[str, str], None] | None = None,
    ) -> None:
        self.host = host
        self.clusters = clusters
        self.informers = informers
        self.clock = clock
        self.executor = executor
        self.recorder = recorder
        self.settings = settings
        self.metrics = metrics
        self.bus = Bus()
        self._logger = logger
        # Lookups one controller answers for the others (set by whoever owns the data).
        self.federated_namespace: Callable[[str], Obj | None] = lambda _ns: None
        self.enabled_types: Callable[[], list[TypeConfig]] = list

    def log(self, message: str, level: str = "info") -> None:
        """Through the injected ``logger(level, message)``; level is info, warning or error."""
        if self._logger is not None:
            self._logger(level, message)
