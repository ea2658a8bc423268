"""Finding federated types and objects on a host: by federated or target type name."""

from __future__ import annotations

from typing import Any

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.typeops import enabled_type_configs, require_control_plane


def federated_type(host: KubeClusterClient, namespace: str, name: str) -> tc.TypeConfig:
    """A type by its federated name (``FederatedConfigMap``, ``federatedconfigmaps``, ``fcm``,
    ``federatedconfigmaps.types.kubefed.io``) or its target name (``configmaps``, ``cm``)."""
    require_control_plane(host, namespace)
    wanted = name.lower()
    types = [t for _, t in enabled_type_configs(host, namespace)]
    for t in types:
        fed_names = {
            t.federated_kind.lower(),
            t.federated_plural,
            t.crd_name,
            *("f" + s for s in t.short_names),
        }
        if wanted in fed_names:
            return t
    try:
        return tc.lookup(name, types)
    except tc.TypeConfigError:
        pass
    raise InputError(f'type "{name}" is not enabled: run `kubectl kubefed enable {name}`')


def list_federated(host: KubeClusterClient, t: tc.TypeConfig, namespace: str = "") -> list[dict[str, Any]]:
    items, _ = host.list(
        t.federated_api_version, t.federated_kind, namespace if t.federated_namespaced else ""
    )
    return items


def all_types(host: KubeClusterClient, namespace: str) -> list[tc.TypeConfig]:
    require_control_plane(host, namespace)
    return [t for _, t in enabled_type_configs(host, namespace)]
