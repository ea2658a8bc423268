"""``kubectl kubefed status``: each federated object's condition and per-cluster codes."""

from __future__ import annotations

from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import name_of, namespace_of
from kubectl_kubefed.cli.output import Format, emit
from kubectl_kubefed.core.naming import federated_name, member_name
from kubectl_kubefed.kube import fedobjects
from kubectl_kubefed.kube.client import KubeClusterClient

# Workload kinds: (ready field in the member's status, where the desired count is).
# "spec:<field>" is the federated template's (the cluster's override wins), default 1;
# "status:<field>" is the member's own. Jobs show completions, as `kubectl get jobs`.
_WORKLOADS: dict[str, tuple[str, str]] = {
    "FederatedDeployment": ("readyReplicas", "spec:replicas"),
    "FederatedReplicaSet": ("readyReplicas", "spec:replicas"),
    "FederatedStatefulSet": ("readyReplicas", "spec:replicas"),
    "FederatedDaemonSet": ("numberReady", "status:desiredNumberScheduled"),
    "FederatedJob": ("succeeded", "spec:completions"),
}


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _desired(obj: dict[str, Any], cluster: str, field: str, remote: dict[str, Any]) -> int | None:
    """The count ``cluster`` is asked for: the template's, or the last override of
    ``/spec/<field>`` for the cluster; the member's own with ``retainReplicas``."""
    spec = _map(obj.get("spec"))
    if field == "replicas" and spec.get("retainReplicas") is True:
        return _count(remote.get("replicas"))
    desired = _count(_map(_map(spec.get("template")).get("spec")).get(field, 1))
    for entry in spec.get("overrides") or []:
        if not isinstance(entry, dict) or entry.get("clusterName") != cluster:
            continue
        for op in entry.get("clusterOverrides") or []:
            if isinstance(op, dict) and op.get("path") == f"/spec/{field}":
                desired = 1 if op.get("op") == "remove" else _count(op.get("value"))
    return desired


def replicas(obj: dict[str, Any]) -> dict[str, dict[str, int | None]]:
    """Workloads: cluster -> {"ready", "desired"} from each entry's remoteStatus
    (statusCollection Enabled); clusters without one, and other kinds, are left out."""
    fields = _WORKLOADS.get(str(obj.get("kind")))
    if fields is None:
        return {}
    ready_field, where = fields
    source, _, field = where.partition(":")
    out = {}
    for entry in (obj.get("status") or {}).get("clusters") or []:
        remote = entry.get("remoteStatus") if isinstance(entry, dict) else None
        if not isinstance(remote, dict) or not remote:
            continue
        name = str(entry.get("name"))
        desired = _count(remote.get(field)) if source == "status" else _desired(obj, name, field, remote)
        out[name] = {"ready": _count(remote.get(ready_field, 0)), "desired": desired}
    return out


def _ready_column(counts: dict[str, dict[str, int | None]]) -> str:
    def show(n: int | None) -> str:
        return "?" if n is None else str(n)

    return ",".join(f"{c}={show(v['ready'])}/{show(v['desired'])}" for c, v in sorted(counts.items())) or "-"


def summary(obj: dict[str, Any], pull: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One federated object; ``pull``: the clusters joined in pull mode (the only way the
    modes show: their status is the same)."""
    status = obj.get("status") or {}
    cond: dict[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Propagation"), {}
    )
    return {
        "kind": obj.get("kind"),
        "namespace": namespace_of(obj),
        "name": name_of(obj),
        "memberName": member_name(obj),  # differs for names like system:x
        "propagation": cond.get("status", "Unknown"),
        "reason": cond.get("reason", ""),
        "clusters": {c["name"]: c.get("status", "") for c in status.get("clusters") or []},
        "modes": {
            c["name"]: names.SYNC_MODE_PULL if c["name"] in pull else names.SYNC_MODE_PUSH
            for c in status.get("clusters") or []
        },
        "messages": {c["name"]: c["message"] for c in status.get("clusters") or [] if c.get("message")},
        "replicas": replicas(obj),
        "deleting": bool((obj.get("metadata") or {}).get("deletionTimestamp")),
        "observedGeneration": status.get("observedGeneration"),
        "generation": (obj.get("metadata") or {}).get("generation"),
    }


def format_table(headers: list[str], body: list[list[str]]) -> str:
    """Left-aligned columns, two spaces apart, as kubectl prints them."""
    lines = [headers, *body]
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(headers))]
    return (
        "\n".join(
            "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
        )
        + "\n"
    )


def table(rows: list[dict[str, Any]]) -> str:
    headers = ["NAMESPACE", "KIND", "NAME", "PROPAGATION", "REASON", "CLUSTERS", "NOT OK", "READY", "PULL"]
    body = []
    for r in rows:
        ok = sum(1 for s in r["clusters"].values() if not s)
        problems = ", ".join(f"{c}={s}" for c, s in sorted(r["clusters"].items()) if s)
        propagation = r["propagation"] + (" (deleting)" if r["deleting"] else "")
        body.append(
            [
                r["namespace"] or "-",
                r["kind"],
                r["name"] + (f" ({r['memberName']})" if r["memberName"] != r["name"] else ""),
                propagation,
                r["reason"] or "-",
                f"{ok}/{len(r['clusters'])}",
                problems or "-",
                _ready_column(r["replicas"]),
                ",".join(c for c, m in sorted(r["modes"].items()) if m == names.SYNC_MODE_PULL) or "-",
            ]
        )
    return format_table(headers, body)


def matches(obj: dict[str, Any], name: str | None) -> bool:
    """NAME is the federated object's name or its member objects' (``system:x``)."""
    return name is None or name_of(obj) == federated_name(name)


def run(
    host: KubeClusterClient,
    kubefed_namespace: str,
    type_name: str | None,
    name: str | None,
    namespace: str | None,
    output: Format,
) -> None:
    types = (
        [fedobjects.federated_type(host, kubefed_namespace, type_name)]
        if type_name
        else fedobjects.all_types(host, kubefed_namespace)
    )
    clusters, _ = host.list(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, kubefed_namespace)
    pull = frozenset(
        name_of(c) for c in clusters if (c.get("spec") or {}).get("syncMode") == names.SYNC_MODE_PULL
    )
    rows = []
    for t in types:
        for obj in fedobjects.list_federated(host, t, namespace or ""):
            if matches(obj, name):
                rows.append(summary(obj, pull))
    if name is not None and not rows:
        raise InputError(f'{types[0].federated_kind} "{name}" not found')
    rows.sort(key=lambda r: (r["namespace"], r["kind"], r["name"]))
    emit(rows, output, human=lambda rows: table(rows) if rows else "no federated objects\n")
