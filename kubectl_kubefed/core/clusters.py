"""Member clusters as placement and rendering see them: a name, labels, readiness."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import labels_of, name_of


@dataclass(frozen=True)
class Cluster:
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ready: bool = True


def is_ready(kubefed_cluster: Mapping[str, Any]) -> bool:
    """KubeFed's readiness: a ``Ready`` condition with status ``True``.

    Offline rendering treats a cluster without any status as ready: the user describes
    a fleet, and only says so when a cluster is down.
    """
    status = kubefed_cluster.get("status")
    if not isinstance(status, Mapping) or not status.get("conditions"):
        return True
    conditions = status.get("conditions")
    for cond in conditions if isinstance(conditions, list) else []:
        if isinstance(cond, Mapping) and cond.get("type") == st.COND_READY:
            return cond.get("status") == "True"
    return False


def from_kubefed_cluster(obj: Mapping[str, Any]) -> Cluster:
    return Cluster(name=name_of(obj), labels=labels_of(obj), ready=is_ready(obj))
