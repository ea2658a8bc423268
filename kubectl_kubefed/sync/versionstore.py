"""PropagatedVersion / ClusterPropagatedVersion bookkeeping on the host (semantics §1.4).

The store answers "which member version did we last write to this cluster, for this
template and these overrides?"; a changed template or overrides hash invalidates every
recorded version, which forces an update everywhere.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, metadata, name_of, namespace_of
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, Conflict, NotFound


class VersionStore:
    def __init__(self, host: ClusterClient, target: TypeConfig, namespace: str = "") -> None:
        self._host = host
        self._namespace = namespace  # "": every namespace (a cluster-scoped control plane)
        self._target = target
        self._namespaced = target.federated_namespaced
        self._kind = (
            names.KIND_PROPAGATED_VERSION if self._namespaced else names.KIND_CLUSTER_PROPAGATED_VERSION
        )
        self._prefix = target.kind.lower() + "-"
        self._lock = threading.Lock()
        self._status: dict[tuple[str, str], dict[str, Any]] = {}  # fed key -> status
        # The last version object read or written, so a write needs no GET first.
        self._objects: dict[tuple[str, str], Obj] = {}
        # Whether the version CRD has the status subresource (KubeFed's has: a create
        # drops the status, which takes a second write; ours has not). Learnt from the
        # first create, which always carries the status, or from the first update's answer.
        self.status_subresource = False

    def load(self) -> None:
        items, _ = self._host.list(names.VERSIONS_API_VERSION, self._kind, self._namespace)
        with self._lock:
            for obj in items:
                if name_of(obj).startswith(self._prefix):
                    key = (namespace_of(obj), name_of(obj)[len(self._prefix) :])
                    self._status[key] = dict(obj.get("status") or {})
                    # Kept, so the first write after a start (or a take-over from KubeFed)
                    # updates the existing object instead of create -> AlreadyExists -> GET.
                    self._objects[key] = obj

    def version_name(self, fed: Mapping[str, Any]) -> str:
        return self._prefix + name_of(fed)

    def recorded(self, fed_key: tuple[str, str], template_v: str, overrides_v: str) -> dict[str, str]:
        """Per-cluster versions, or nothing when the hashes changed since they were written."""
        with self._lock:
            status = self._status.get(fed_key)
        if (
            not status
            or status.get("templateVersion") != template_v
            or status.get("overridesVersion") != overrides_v
        ):
            return {}
        return {str(v.get("clusterName")): str(v.get("version")) for v in status.get("clusterVersions") or []}

    def forget(self, fed_key: tuple[str, str]) -> None:
        with self._lock:
            self._status.pop(fed_key, None)
            self._objects.pop(fed_key, None)

    def write(
        self, fed: Mapping[str, Any], template_v: str, overrides_v: str, versions: Mapping[str, str]
    ) -> None:
        """Record versions; writes to the host only when something changed."""
        key = (namespace_of(fed), name_of(fed))
        status: dict[str, Any] = {"templateVersion": template_v, "overridesVersion": overrides_v}
        if versions:  # KubeFed's ``clusterVersions,omitempty``: absent when empty, as it writes
            status["clusterVersions"] = [{"clusterName": c, "version": versions[c]} for c in sorted(versions)]
        with self._lock:
            if self._status.get(key) == status:
                return
        self._persist(fed, status)
        with self._lock:
            self._status[key] = status

    def _persist(self, fed: Mapping[str, Any], status: dict[str, Any]) -> None:
        meta: Obj = {
            "name": self.version_name(fed),
            "ownerReferences": [
                {
                    "apiVersion": fed.get("apiVersion"),
                    "kind": fed.get("kind"),
                    "name": name_of(fed),
                    "uid": metadata(fed).get("uid", ""),
                }
            ],
        }
        if self._namespaced:
            meta["namespace"] = namespace_of(fed)
        ns = namespace_of(fed) if self._namespaced else ""
        key = (namespace_of(fed), name_of(fed))
        with self._lock:
            current: Obj | None = self._objects.get(key)
        for _ in range(5):
            if current is None:
                try:
                    current = self._host.create(
                        {
                            "apiVersion": names.VERSIONS_API_VERSION,
                            "kind": self._kind,
                            "metadata": meta,
                            "status": status,
                        }
                    )
                    if current.get("status") == status:  # no status subresource: written
                        self.status_subresource = False
                        with self._lock:
                            self._objects[key] = current
                        return
                    self.status_subresource = True
                except AlreadyExists:
                    current = self._host.get(names.VERSIONS_API_VERSION, self._kind, ns, meta["name"])
            try:
                body = {**current, "status": status}
                if self.status_subresource:
                    written = self._host.update_status(body)
                else:
                    written = self._host.update(body)
            except (Conflict, NotFound) as err:
                current = None
                with contextlib.suppress(NotFound):
                    current = self._host.get(names.VERSIONS_API_VERSION, self._kind, ns, meta["name"])
                if isinstance(err, NotFound) and current is not None and self.status_subresource:
                    # The object is there but its status is not: a CRD without the status
                    # subresource (ours) met after a start, before any create taught us.
                    self.status_subresource = False
                continue
            if written.get("status") != status:
                # A plain update to a CRD with the status subresource (KubeFed's, installed
                # since) kept the old status: write it through the subresource.
                self.status_subresource = True
                current = written
                continue
            with self._lock:
                self._objects[key] = written
            return
        raise ApiError(f"could not record propagated versions for {meta['name']}")
