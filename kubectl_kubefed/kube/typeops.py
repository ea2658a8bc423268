"""Enabling and disabling federation of a type on a host cluster (KubeFed semantics §8.3, §8.4)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import name_of
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube.apply import apply, preview, preview_delete, wait_crd_served
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.discovery import ApiResource
from kubectl_kubefed.sync.errors import NotFound

CRD_API = "apiextensions.k8s.io/v1"


def require_control_plane(host: KubeClusterClient, namespace: str) -> dict[str, Any]:
    """The KubeFedConfig, or a clear error suggesting ``init``."""
    try:
        return host.get(
            names.CORE_API_VERSION, names.KIND_KUBEFED_CONFIG, namespace, names.KUBEFED_CONFIG_NAME
        )
    except NotFound:
        raise InputError(
            f"no KubeFed control plane in namespace {namespace} (is a KubeFed control plane running "
            f"in this namespace? run `kubectl kubefed init`)"
        ) from None


def _crd_scalable(host: KubeClusterClient, resource: ApiResource) -> bool:
    try:
        crd = host.get(CRD_API, "CustomResourceDefinition", "", resource.qualified)
    except NotFound:
        return False
    for version in (crd.get("spec") or {}).get("versions") or []:
        if version.get("name") == resource.version:
            spec = (
                ((version.get("schema") or {}).get("openAPIV3Schema") or {})
                .get("properties", {})
                .get("spec", {})
            )
            return bool((spec.get("properties") or {}).get("replicas", {}).get("type") == "integer")
    return False


def type_config_for(host: KubeClusterClient, resource: ApiResource) -> tc.TypeConfig:
    builtin = next(
        (t for t in tc.BUILTIN_TYPES if t.kind == resource.kind and t.group == resource.group), None
    )
    if builtin is not None:
        return replace(
            builtin, version=resource.version, short_names=resource.short_names or builtin.short_names
        )
    return tc.TypeConfig(
        kind=resource.kind,
        group=resource.group,
        version=resource.version,
        plural=resource.plural,
        namespaced=resource.namespaced,
        short_names=resource.short_names,
        scalable=_crd_scalable(host, resource),
        tracks_generation=True,
    )


def enabled_type_configs(
    host: KubeClusterClient, namespace: str
) -> list[tuple[dict[str, Any], tc.TypeConfig]]:
    items, _ = host.list(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace)
    out = []
    for ftc in items:
        try:
            out.append((ftc, tc.from_ftc(ftc)))
        except tc.TypeConfigError:
            continue
    return out


def enable(
    host: KubeClusterClient, t: tc.TypeConfig, namespace: str, *, dry_run: bool, say: Callable[[str], None]
) -> None:
    require_control_plane(host, namespace)
    for ftc, existing in enabled_type_configs(host, namespace):
        if name_of(ftc) == t.name and (existing.federated_kind, existing.federated_group) != (
            t.federated_kind,
            t.federated_group,
        ):
            raise InputError(
                f"federatedtypeconfig {t.name} already uses {existing.federated_kind} in "
                f"{existing.federated_group}; disable it first"
            )
        if name_of(ftc) != t.name and existing.crd_name == t.crd_name:
            raise InputError(
                f"federated CRD {t.crd_name} is already used by federatedtypeconfig {name_of(ftc)}; "
                "choose another --federated-group"
            )
    crd = tc.federated_crd(t)
    ftc_obj = tc.type_config_object(t, namespace)
    if dry_run:
        preview(host, crd, f"customresourcedefinition.apiextensions.k8s.io/{t.crd_name}", say)
        preview(
            host, ftc_obj, f"federatedtypeconfig.core.kubefed.io/{t.name}", say, f" in namespace {namespace}"
        )
        return
    _, action = apply(host, crd)
    say(f"customresourcedefinition.apiextensions.k8s.io/{t.crd_name} {action}")
    wait_crd_served(host, t.federated_api_version, t.federated_kind)
    _, action = apply(host, ftc_obj)
    say(f"federatedtypeconfig.core.kubefed.io/{t.name} {action} in namespace {namespace}")


def _instances(host: KubeClusterClient, t: tc.TypeConfig) -> int:
    try:
        items, _ = host.list(t.federated_api_version, t.federated_kind)
    except NotFound:
        return 0
    return len(items)


def disable(
    host: KubeClusterClient,
    ftc_name: str,
    namespace: str,
    *,
    delete_crd: bool,
    dry_run: bool,
    say: Callable[[str], None],
    wait_seconds: float = 10.0,
) -> None:
    require_control_plane(host, namespace)
    try:
        ftc = host.get(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace, ftc_name)
    except NotFound:
        raise InputError(
            f"type {ftc_name} is not enabled (no federatedtypeconfig {ftc_name} in {namespace})"
        ) from None
    t = tc.from_ftc(ftc)
    if delete_crd and _instances(host, t):
        raise InputError(
            f"cannot delete CRD {t.crd_name}: {_instances(host, t)} {t.federated_kind} objects exist"
        )
    if dry_run:
        ref = f"federatedtypeconfig.core.kubefed.io/{ftc_name}"
        if delete_crd:
            target = (CRD_API, "CustomResourceDefinition", "", t.crd_name)
            preview_delete(host, target, f"customresourcedefinition.apiextensions.k8s.io/{t.crd_name}", say)
        preview_delete(host, (names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace, ftc_name), ref, say)
        return
    ftc["spec"]["propagation"] = "Disabled"
    ftc = host.update(ftc)
    say(f"federatedtypeconfig.core.kubefed.io/{ftc_name} propagation disabled")
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        current = host.get(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace, ftc_name)
        if (current.get("status") or {}).get("propagationController") in (None, "NotRunning"):
            break
        time.sleep(0.5)
    if delete_crd:
        if _instances(host, t):
            raise InputError(f"cannot delete CRD {t.crd_name}: {t.federated_kind} objects exist")
        try:
            host.delete(CRD_API, "CustomResourceDefinition", "", t.crd_name)
            say(f"customresourcedefinition.apiextensions.k8s.io/{t.crd_name} deleted")
        except NotFound:
            pass
    host.delete(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace, ftc_name)
    say(f"federatedtypeconfig.core.kubefed.io/{ftc_name} deleted")
