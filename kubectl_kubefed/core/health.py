"""KubeFedCluster health conditions and KubeFed's flap damping (semantics §6).

The failure threshold is a flap damper, not a consecutive-failure counter: a flip is
suppressed only while the *published* state is younger than the threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from kubectl_kubefed.api import status as st


class Probe(Enum):
    READY = "ready"
    NOT_OK = "not-ok"  # /healthz answered, but not "ok"
    OFFLINE = "offline"  # request failed
    MALFORMED = "malformed"  # no client could be built from the KubeFedCluster
    IDENTITY_MISMATCH = "identity-mismatch"  # reachable, but not the cluster that joined


@dataclass(frozen=True)
class HealthRecord:
    """What the controller published last, and for how many probes it has held."""

    conditions: tuple[Mapping[str, Any], ...]
    result_run: int

    @property
    def ready(self) -> bool:
        return conditions_ready(self.conditions)


def conditions_ready(conditions: Sequence[Mapping[str, Any]]) -> bool:
    return any(c.get("type") == st.COND_READY and c.get("status") == "True" for c in conditions)


def _cond(ctype: str, status: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": status,
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }


def probe_conditions(probe: Probe, now: str, error: str = "") -> tuple[dict[str, Any], ...]:
    """The raw conditions one probe produces."""
    if probe is Probe.MALFORMED:
        return (
            _cond(
                st.COND_CONFIG_MALFORMED,
                "True",
                st.REASON_CLUSTER_CONFIG_MALFORMED,
                "cluster's configuration may be malformed",
                now,
            ),
        )
    if probe is Probe.OFFLINE:
        return (
            _cond(
                st.COND_OFFLINE,
                "True",
                st.REASON_CLUSTER_NOT_REACHABLE,
                f"cluster is not reachable: {error}".rstrip(": "),
                now,
            ),
        )
    if probe is Probe.IDENTITY_MISMATCH:
        return (
            _cond(st.COND_READY, "False", "ClusterIdentityMismatch", error, now),
            _cond(st.COND_OFFLINE, "False", st.REASON_CLUSTER_REACHABLE, "cluster is reachable", now),
        )
    if probe is Probe.NOT_OK:
        return (
            _cond(
                st.COND_READY,
                "False",
                st.REASON_CLUSTER_NOT_READY,
                "/healthz responded without ok",
                now,
            ),
            _cond(st.COND_OFFLINE, "False", st.REASON_CLUSTER_REACHABLE, "cluster is reachable", now),
        )
    return (_cond(st.COND_READY, "True", st.REASON_CLUSTER_READY, "/healthz responded with ok", now),)


def damp(
    stored: HealthRecord | None,
    probed: Sequence[Mapping[str, Any]],
    now: str,
    failure_threshold: int = 3,
    success_threshold: int = 1,
) -> HealthRecord:
    """Decide what to publish after a probe, given what was published before."""
    if stored is None:
        return HealthRecord(tuple(dict(c) for c in probed), 1)
    probe_ready = conditions_ready(probed)
    threshold = success_threshold if probe_ready else failure_threshold
    if stored.result_run < threshold:
        kept = tuple({**c, "lastProbeTime": now} for c in stored.conditions)
        published = kept
    elif probe_ready == stored.ready:
        # Same readiness: publish the new conditions but keep the old transition times.
        old = {c.get("type"): c for c in stored.conditions}
        published = tuple(
            {**c, "lastTransitionTime": old[c["type"]].get("lastTransitionTime", now)}
            if c.get("type") in old and old[c["type"]].get("status") == c.get("status")
            else dict(c)
            for c in probed
        )
    else:
        published = tuple(dict(c) for c in probed)
    ready_now = conditions_ready(published)
    run = stored.result_run + 1 if ready_now == stored.ready else 1
    return HealthRecord(published, run)
