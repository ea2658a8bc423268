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
        return s


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
