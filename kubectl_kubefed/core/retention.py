"""Fields a member cluster owns and an update must keep (KubeFed semantics §3.5)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api.objects import Obj, ensure_metadata, metadata
from kubectl_kubefed.core import annotations as ann


def _ports_key(port: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    return (port.get("name"), port.get("protocol") or "TCP", port.get("port"))


def _retain_service(desired: Obj, live: Mapping[str, Any]) -> None:
    live_spec = live.get("spec") if isinstance(live.get("spec"), Mapping) else {}
    assert isinstance(live_spec, Mapping)
    spec = desired.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if live_spec.get("clusterIP"):
        spec["clusterIP"] = live_spec["clusterIP"]
    if live_spec.get("clusterIPs"):
        spec["clusterIPs"] = copy.deepcopy(live_spec["clusterIPs"])
    if (live_spec.get("healthCheckNodePort") or 0) > 0:
        spec["healthCheckNodePort"] = live_spec["healthCheckNodePort"]
    live_ports = {_ports_key(p): p for p in live_spec.get("ports") or [] if isinstance(p, Mapping)}
    for port in spec.get("ports") or []:
        if not isinstance(port, dict):
            continue
        match = live_ports.get(_ports_key(port))
        if match is not None and match.get("nodePort"):
            port["nodePort"] = match["nodePort"]


def _retain_service_account(desired: Obj, live: Mapping[str, Any]) -> None:
    if not desired.get("secrets") and live.get("secrets"):
        desired["secrets"] = copy.deepcopy(live["secrets"])


def _retain_replicas(desired: Obj, live: Mapping[str, Any], fed: Mapping[str, Any]) -> None:
    fed_spec = fed.get("spec")
    if not isinstance(fed_spec, Mapping) or fed_spec.get("retainReplicas") is not True:
        return
    live_spec = live.get("spec")
    if isinstance(live_spec, Mapping) and "replicas" in live_spec:
        spec = desired.setdefault("spec", {})
        if isinstance(spec, dict):
            spec["replicas"] = live_spec["replicas"]


def _retain_annotations(meta: Obj, live_meta: Mapping[str, Any]) -> None:
    """The member's annotations are kept, but for the keys kubefed set last time; the
    template's are laid over them (KubeFed kept the member's and dropped the template's)."""
    template = meta.get("annotations")
    if template is not None and not isinstance(template, Mapping):
        return  # not a map: the member's API server refuses it with a clear message
    live = live_meta.get("annotations")
    merged = ann.merge(live if isinstance(live, Mapping) else {}, template or {})
    if merged:
        meta["annotations"] = copy.deepcopy(merged)
    else:
        meta.pop("annotations", None)


def retain(desired: Obj, live: Mapping[str, Any], fed: Mapping[str, Any], target_kind: str) -> None:
    """Copy member-owned fields of ``live`` onto ``desired`` in place."""
    meta = ensure_metadata(desired)
    live_meta = metadata(live)
    for key in ("resourceVersion", "finalizers"):
        if live_meta.get(key):
            meta[key] = copy.deepcopy(live_meta[key])
        else:
            meta.pop(key, None)
    _retain_annotations(meta, live_meta)
    if target_kind == "Service":
        _retain_service(desired, live)
    elif target_kind == "ServiceAccount":
        _retain_service_account(desired, live)
    else:
        _retain_replicas(desired, live, fed)
