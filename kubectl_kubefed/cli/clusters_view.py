"""``kubectl kubefed clusters``: the joined clusters at a glance."""

from __future__ import annotations

from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import annotations_of, name_of
from kubectl_kubefed.cli.output import Format, emit
from kubectl_kubefed.cli.status_view import format_table
from kubectl_kubefed.core import identity
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.typeops import require_control_plane


def row(kfc: dict[str, Any]) -> dict[str, Any]:
    status = kfc.get("status") or {}
    conditions: dict[str, dict[str, Any]] = {str(c.get("type")): c for c in status.get("conditions") or []}
    ready = conditions.get("Ready", {})
    offline = conditions.get("Offline", {})
    state = "True" if ready.get("status") == "True" else ("False" if ready or offline else "Unknown")
    reason = ready.get("reason") or offline.get("reason") or ""
    return {
        "name": name_of(kfc),
        "id": annotations_of(kfc).get(identity.ID_ANNOTATION, ""),
        "clusterset": annotations_of(kfc).get(identity.CLUSTERSET_ANNOTATION, ""),
        "ready": state,
        "reason": "" if state == "True" else reason,
        "message": "" if state == "True" else (ready.get("message") or offline.get("message") or ""),
        "kubernetesVersion": status.get("kubernetesVersion", ""),
        "endpoint": (kfc.get("spec") or {}).get("apiEndpoint", ""),
        "mode": (kfc.get("spec") or {}).get("syncMode") or names.SYNC_MODE_PUSH,
    }


def run(host: KubeClusterClient, namespace: str, output: Format) -> None:
    require_control_plane(host, namespace)
    items, _ = host.list(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, namespace)
    rows = sorted((row(k) for k in items), key=lambda r: r["name"])
    emit(rows, output, human=human)


def human(rows: list[dict[str, Any]]) -> str:
    headers = ["NAME", "MODE", "ID", "CLUSTERSET", "READY", "KUBERNETES", "ENDPOINT"]
    body = [
        [
            r["name"],
            r["mode"],
            r["id"] or "-",
            r["clusterset"] or "-",
            r["ready"] + (f" ({r['reason']})" if r["reason"] else ""),
            r["kubernetesVersion"] or "-",
            r["endpoint"],
        ]
        for r in rows
    ]
    return format_table(headers, body) if rows else "no clusters joined\n"
