"""The member clusters the host knows (KubeFedClusters), their readiness and their clients."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, annotations_of, labels_of, name_of
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.health import conditions_ready
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.informer import Informer


class ClientConfigError(Exception):
    """No client can be built from a KubeFedCluster (missing secret or token, bad config)."""


ClientFactory = Callable[[Mapping[str, Any]], ClusterClient]
# (cluster name, change): change is "available", "unavailable", "changed" or "removed"
ChangeListener = Callable[[str, str], None]


@dataclass
class MemberCluster:
    name: str
    obj: Obj
    ready: bool
    client: ClusterClient | None = None
    client_error: str = ""

    @property
    def labels(self) -> dict[str, str]:
        return labels_of(self.obj)

    @property
    def pull(self) -> bool:
        """Whether an agent in the member pulls its Works (the host holds no credential)."""
        return is_pull(self.obj)

    def as_placement_cluster(self) -> Cluster:
        return Cluster(self.name, self.labels, self.ready)


def is_pull(kubefed_cluster: Mapping[str, Any]) -> bool:
    return (kubefed_cluster.get("spec") or {}).get("syncMode") == names.SYNC_MODE_PULL


def _readiness(obj: Mapping[str, Any]) -> bool:
    # On the host, a cluster without a Ready=True condition is not ready (KubeFed).
    return conditions_ready((obj.get("status") or {}).get("conditions") or [])


def _identity(obj: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        repr(obj.get("spec")),
        repr(sorted(labels_of(obj).items())),
        repr(sorted(annotations_of(obj).items())),
    )


class ClusterRegistry:
    def __init__(self, host: ClusterClient, namespace: str, factory: ClientFactory) -> None:
        self._factory = factory
        self._lock = threading.RLock()
        self._clusters: dict[str, MemberCluster] = {}
        self._listeners: list[ChangeListener] = []
        self.informer = Informer(
            host,
            names.CORE_API_VERSION,
            names.KIND_KUBEFED_CLUSTER,
            namespace=namespace,
            on_event=self._on_event,
        )

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def start(self) -> bool:
        return self.informer.start()

    def _notify(self, name: str, change: str) -> None:
        for listener in list(self._listeners):
            listener(name, change)

    def _on_event(self, event_type: str, obj: Obj) -> None:
        name = name_of(obj)
        with self._lock:
            old = self._clusters.get(name)
            if event_type == "DELETED":
                self._clusters.pop(name, None)
            elif old is None:
                self._clusters[name] = MemberCluster(name, obj, _readiness(obj))
            else:
                changed = _identity(old.obj) != _identity(obj)
                self._clusters[name] = MemberCluster(
                    name,
                    obj,
                    _readiness(obj),
                    client=None if changed else old.client,
                    client_error="" if changed else old.client_error,
                )
        new = self._clusters.get(name)
        if event_type == "DELETED":
            if old is not None:
                self._notify(name, "removed")
            return
        assert new is not None
        if old is None:
            if new.ready:
                self._notify(name, "available")
            return
        if _identity(old.obj) != _identity(obj):
            self._notify(name, "changed")
        if old.ready != new.ready:
            self._notify(name, "available" if new.ready else "unavailable")

    def clusters(self) -> list[MemberCluster]:
        with self._lock:
            return [self._clusters[n] for n in sorted(self._clusters)]

    def get(self, name: str) -> MemberCluster | None:
        with self._lock:
            return self._clusters.get(name)

    def client(self, name: str) -> ClusterClient:
        """The cluster's client, built on first use; raises ClientConfigError."""
        with self._lock:
            cluster = self._clusters.get(name)
            if cluster is None:
                raise ClientConfigError(f"cluster {name} is not registered")
            if cluster.client is not None:
                return cluster.client
            if cluster.pull:
                raise ClientConfigError(
                    f"cluster {name} is in pull mode: its agent reaches the host, the host never reaches it"
                )
            obj = cluster.obj
        try:
            client = self._factory(obj)
        except ClientConfigError as err:
            with self._lock:
                cluster.client_error = str(err)
            raise
        with self._lock:
            cluster.client = client
            cluster.client_error = ""
        return client
