"""Control-plane settings: KubeFedConfig with KubeFed's defaults (semantics §1.3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names


def parse_duration(value: Any, default: float) -> float:
    """Go durations as KubeFedConfig holds them: ``20s``, ``1m30s``, ``500ms``."""
    if value is None or value == "":
        return default
    if isinstance(value, int | float):
        return float(value)
    total, matched = 0.0, False
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", str(value)):
        matched = True
        total += float(number) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    if not matched:
        raise ValueError(f"invalid duration {value!r}")
    return total


# KubeFed's feature gates and their defaults (pkg/features). PushReconciler and
# SchedulerPreferences are honoured (off: no propagation, no replica scheduling);
# RawResourceStatusCollection is not needed (see ``gate_notes``).
FEATURE_GATES = {"PushReconciler": True, "RawResourceStatusCollection": False, "SchedulerPreferences": True}
RESOURCE_LOCKS = ("configmaps", "endpoints")


class SettingsError(ValueError):
    """A KubeFedConfig KubeFed itself would refuse (its validation webhook, its start-up)."""


@dataclass
class Settings:
    namespace: str = names.DEFAULT_KUBEFED_NAMESPACE
    scope: str = names.SCOPE_CLUSTER
    adopt_resources: bool = True
    available_delay: float = 20.0
    unavailable_delay: float = 60.0
    health_period: float = 10.0
    health_timeout: float = 3.0
    failure_threshold: int = 3
    success_threshold: int = 1
    # KubeFed's default of one worker per type was its scale bottleneck; ours is 4, and
    # ``workers_per_type`` overrides it by FederatedTypeConfig name.
    max_concurrent_reconciles: int = 4
    workers_per_type: dict[str, int] = field(default_factory=dict)
    dispatch_timeout: float = 30.0
    recheck_delay: float = 10.0
    member_event_delay: float = 10.0
    # leaderElect (KubeFed's defaults); ``resource_lock`` names the kind of KubeFed's own
    # lock (configmaps or endpoints), which we respect next to our Lease.
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 5.0
    resource_lock: str = "configmaps"
    # Pull clusters: the agent renews its Lease this often; the host calls the cluster
    # offline when it has seen no renewal for ``agent_lease_timeout`` (its own clock).
    agent_renew_period: float = 10.0
    agent_lease_timeout: float = 40.0
    feature_gates: dict[str, bool] = field(default_factory=lambda: dict(FEATURE_GATES))

    @property
    def watch_namespace(self) -> str:
        """Where controllers list and watch: the KubeFed namespace for a namespaced control
        plane (its identity may read nothing else), every namespace ("") otherwise."""
        return self.namespace if self.scope == names.SCOPE_NAMESPACED else ""

    def gate(self, name: str) -> bool:
        return self.feature_gates.get(name, FEATURE_GATES.get(name, False))

    def workers_for(self, type_name: str) -> int:
        return max(1, self.workers_per_type.get(type_name, self.max_concurrent_reconciles))

    @classmethod
    def from_kubefed_config(cls, obj: Mapping[str, Any] | None, namespace: str) -> Settings:
        s = cls(namespace=namespace)
        spec = (obj or {}).get("spec") or {}
        s.scope = str(spec.get("scope") or names.SCOPE_CLUSTER)
        durations = spec.get("controllerDuration") or {}
        s.available_delay = parse_duration(durations.get("availableDelay"), s.available_delay)
        s.unavailable_delay = parse_duration(durations.get("unavailableDelay"), s.unavailable_delay)
        health = spec.get("clusterHealthCheck") or {}
        s.health_period = parse_duration(health.get("period"), s.health_period)
        s.health_timeout = parse_duration(health.get("timeout"), s.health_timeout)
        s.failure_threshold = int(health.get("failureThreshold") or s.failure_threshold)
        s.success_threshold = int(health.get("successThreshold") or s.success_threshold)
        sync = spec.get("syncController") or {}
        s.adopt_resources = (sync.get("adoptResources") or "Enabled") == "Enabled"
        if sync.get("maxConcurrentReconciles"):
            s.max_concurrent_reconciles = int(sync["maxConcurrentReconciles"])
        s._read_leader_elect(spec.get("leaderElect") or {})
        s._read_feature_gates(spec.get("featureGates") or [])
        return s

    def _read_leader_elect(self, elect: Mapping[str, Any]) -> None:
        try:
            self.lease_duration = parse_duration(elect.get("leaseDuration"), self.lease_duration)
            self.renew_deadline = parse_duration(elect.get("renewDeadline"), self.renew_deadline)
            self.retry_period = parse_duration(elect.get("retryPeriod"), self.retry_period)
        except ValueError as err:
            raise SettingsError(f"KubeFedConfig leaderElect: {err}") from None
        self.resource_lock = str(elect.get("resourceLock") or self.resource_lock)
        # KubeFed's validation: all positive, leaseDuration > renewDeadline > 1.2 retryPeriod.
        if not 0 < self.retry_period * 1.2 < self.renew_deadline < self.lease_duration:
            raise SettingsError(
                "KubeFedConfig leaderElect: need leaseDuration > renewDeadline > 1.2 x retryPeriod > 0, "
                f"got {self.lease_duration:g}s, {self.renew_deadline:g}s, {self.retry_period:g}s"
            )
        if self.resource_lock not in RESOURCE_LOCKS:
            raise SettingsError(
                f"KubeFedConfig leaderElect.resourceLock {self.resource_lock!r}: "
                f"one of {', '.join(RESOURCE_LOCKS)}"
            )

    def _read_feature_gates(self, gates: Any) -> None:
        if not isinstance(gates, list):
            raise SettingsError("KubeFedConfig featureGates: a list of {name, configuration}")
        for gate in gates:
            name = gate.get("name") if isinstance(gate, Mapping) else None
            value = gate.get("configuration") if isinstance(gate, Mapping) else None
            if name not in FEATURE_GATES:
                raise SettingsError(
                    f"KubeFedConfig featureGates: unknown gate {name!r} "
                    f"(known: {', '.join(sorted(FEATURE_GATES))})"
                )
            if value not in ("Enabled", "Disabled"):
                raise SettingsError(
                    f"KubeFedConfig featureGates: {name} configuration {value!r}, want Enabled or Disabled"
                )
            self.feature_gates[str(name)] = value == "Enabled"

    def gate_notes(self) -> list[tuple[str, str]]:
        """(level, line) for every gate we do not act on as KubeFed would."""
        notes = []
        if not self.gate("PushReconciler"):
            notes.append(("warning", "feature gate PushReconciler is Disabled: no type is propagated"))
        if not self.gate("SchedulerPreferences"):
            notes.append(
                (
                    "info",
                    "feature gate SchedulerPreferences is Disabled: "
                    "ReplicaSchedulingPreferences are not acted on",
                )
            )
        if self.gate("RawResourceStatusCollection"):
            notes.append(
                (
                    "info",
                    "feature gate RawResourceStatusCollection is not needed: a FederatedTypeConfig "
                    "with statusCollection: Enabled collects status.clusters[].remoteStatus either way",
                )
            )
        return notes


def kubefed_config_object(settings: Settings) -> dict[str, Any]:
    """The KubeFedConfig ``init`` writes, with KubeFed's defaults filled in."""
    return {
        "apiVersion": names.CORE_API_VERSION,
        "kind": names.KIND_KUBEFED_CONFIG,
        "metadata": {"name": names.KUBEFED_CONFIG_NAME, "namespace": settings.namespace},
        "spec": {
            "scope": settings.scope,
            "controllerDuration": {
                "availableDelay": f"{settings.available_delay:g}s",
                "unavailableDelay": f"{settings.unavailable_delay:g}s",
                "cacheSyncTimeout": "5m0s",
            },
            "leaderElect": {
                "leaseDuration": "15s",
                "renewDeadline": "10s",
                "retryPeriod": "5s",
                "resourceLock": "configmaps",
            },
            "clusterHealthCheck": {
                "period": f"{settings.health_period:g}s",
                "timeout": f"{settings.health_timeout:g}s",
                "failureThreshold": settings.failure_threshold,
                "successThreshold": settings.success_threshold,
            },
            "syncController": {
                "maxConcurrentReconciles": settings.max_concurrent_reconciles,
                "adoptResources": "Enabled" if settings.adopt_resources else "Disabled",
            },
            "statusController": {"maxConcurrentReconciles": 1},
            "featureGates": [
                {"name": "PushReconciler", "configuration": "Enabled"},
                {"name": "RawResourceStatusCollection", "configuration": "Disabled"},
                {"name": "SchedulerPreferences", "configuration": "Enabled"},
            ],
        },
    }
