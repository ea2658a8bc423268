"""Status aggregation on the host: the per-cluster results of one reconcile become the
federated object's status (conditions and ``status.clusters``), written only when it
changes, through the status subresource, retrying conflicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubectl_kubefed.api.objects import Obj, metadata
from kubectl_kubefed.core.propagation_status import (
    crd_keeps_cluster_field,
    crd_keeps_cluster_messages,
    next_status,
)
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.client import TIMED_OUT, TimedOut
from kubectl_kubefed.sync.clock import rfc3339
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.runtime import Runtime
from kubectl_kubefed.sync.syncer import TIMEOUT_STATUS, OpResult

CRD_API_VERSION = "apiextensions.k8s.io/v1"
Key = tuple[str, str]


def collect(
    ops: Sequence[tuple[str, str]],
    results: Sequence[OpResult | TimedOut],
    statuses: dict[str, str],
    messages: dict[str, str],
) -> dict[str, str]:
    """Fold the syncers' results ((cluster, op) each) into the per-cluster status codes and
    messages; returns the member versions to record, by cluster."""
    new_versions: dict[str, str] = {}
    for (cluster, op), result in zip(ops, results, strict=True):
        if result is TIMED_OUT or not isinstance(result, OpResult):
            statuses[cluster] = TIMEOUT_STATUS[op]
            continue
        if result.report:
            statuses[cluster] = result.status
            if result.message:
                messages[cluster] = result.message
        if result.version is not None:
            new_versions[cluster] = result.version
    return new_versions


class StatusWriter:
    def __init__(self, rt: Runtime, target: TypeConfig, fed_informer: Informer) -> None:
        self.rt = rt
        self.target = target
        self.fed_informer = fed_informer
        # Whether the installed federated CRD keeps status.clusters[].message (KubeFed's
        # CRDs do not): known from the CRD at start, or learnt from the first status write.
        self.messages = True
        # Whether it keeps status.clusters[].remoteStatus (statusCollection Enabled; every
        # CRD since KubeFed v0.6 does): not sent where it would be pruned.
        self.remote_status = True

    def read_schema(self) -> None:
        try:
            crd = self.rt.host.get(CRD_API_VERSION, "CustomResourceDefinition", "", self.target.crd_name)
        except ApiError:
            return  # not readable: learnt from the first status write instead
        self.messages = crd_keeps_cluster_messages(crd, self.target.federated_version)
        self.remote_status = crd_keeps_cluster_field(crd, self.target.federated_version, "remoteStatus")
        if self.target.status_collection and not self.remote_status:
            self.rt.log(
                f"CRD {self.target.crd_name} has no status.clusters[].remoteStatus (older than "
                "KubeFed v0.6): statusCollection is ignored; `kubectl kubefed enable` upgrades it",
                "warning",
            )
        if not self.messages:
            self.rt.log(
                f"CRD {self.target.crd_name} has no status.clusters[].message (a KubeFed CRD): "
                "status is written without messages; `kubectl kubefed init` or `enable` upgrades it"
            )

    def _learn_pruning(self, sent: Mapping[str, Any], written: Mapping[str, Any]) -> None:
        """A message sent and not stored: the schema prunes it, so send none from now on."""
        if not any(c.get("message") for c in sent.get("clusters") or []):
            return
        stored = (written.get("status") or {}).get("clusters") or []
        if not any(isinstance(c, Mapping) and c.get("message") for c in stored):
            self.messages = False
            self.rt.log(
                f"{self.target.federated_kind}: the API server prunes status.clusters[].message "
                "(a KubeFed CRD): status is written without messages from now on"
            )

    def write(
        self,
        key: Key,
        fed: Obj,
        reason: str,
        statuses: dict[str, str],
        messages: dict[str, str],
        remote: Mapping[str, Any] | None = None,
    ) -> None:
        """``remote``: the members' statuses by cluster (statusCollection Enabled)."""
        now = rfc3339(self.rt.clock.now())
        current = fed
        for _ in range(5):
            new = next_status(
                current.get("status"),
                int(metadata(current).get("generation") or 0),
                reason,
                statuses,
                now,
                messages if self.messages else {},
                remote if self.remote_status else None,
            )
            if new is None:
                return
            # The status subresource ignores everything but status: the spec is not sent.
            body = {k: v for k, v in current.items() if k not in ("spec", "status")}
            try:
                updated = self.rt.host.update_status({**body, "status": new})
                self._learn_pruning(new, updated)
            except Conflict:
                try:
                    current = self.rt.host.get(
                        self.target.federated_api_version, self.target.federated_kind, *key
                    )
                except NotFound:
                    return
                continue
            except NotFound:
                return
            self.fed_informer.put(updated)
            return
