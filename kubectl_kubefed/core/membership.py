"""The objects ``join`` puts in a member and on the host (KubeFed semantics §8.1), as data.

KubeFed's over-broad grant is fixed in ``core.memberpolicy`` (RBAC per enabled type, an
admission policy, bound tokens; docs/security.md).
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_kubefed.api import names

RBAC_API = "rbac.authorization.k8s.io/v1"
_HOST_NAME_RE = re.compile(r"^[^/:]+$")


def service_account_name(cluster: str, host_cluster_name: str) -> str:
    return f"{cluster}-{host_cluster_name}"


def role_name(sa: str) -> str:
    return f"kubefed-controller-manager:{sa}"


def healthcheck_role_name(namespace: str, sa: str) -> str:
    return f"kubefed-controller-manager:{namespace}:healthcheck-{sa}"


def validate_host_cluster_name(name: str) -> str:
    if not name or not _HOST_NAME_RE.match(name):
        raise ValueError(f'host cluster name "{name}" must not contain "/" or ":"; give --host-cluster-name')
    return name


def member_objects(namespace: str, sa: str, *, legacy_token: bool) -> list[dict[str, Any]]:
    """Namespace and service account of the member identity (its RBAC and admission policy
    are in ``core.memberpolicy``); with ``legacy_token`` also KubeFed's non-expiring token
    Secret, for members without the TokenRequest API."""
    objs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": sa,
                "namespace": namespace,
                "annotations": {"kubernetes.io/enforce-mountable-secrets": "true"},
            },
            "automountServiceAccountToken": False,
        },
    ]
    if legacy_token:
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/service-account-token",
                "metadata": {
                    "name": sa,
                    "namespace": namespace,
                    "annotations": {"kubernetes.io/service-account.name": sa},
                },
            }
        )
    return objs


def kubefed_cluster(
    name: str,
    namespace: str,
    endpoint: str,
    ca_bundle_b64: str,
    secret: str,
    insecure: bool,
    proxy_url: str,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"apiEndpoint": endpoint, "secretRef": {"name": secret}}
    if ca_bundle_b64:
        spec["caBundle"] = ca_bundle_b64
    if insecure:
        spec["disabledTLSValidations"] = ["*"]
    if proxy_url:
        spec["proxyURL"] = proxy_url
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": names.CORE_API_VERSION,
        "kind": names.KIND_KUBEFED_CLUSTER,
        "metadata": meta,
        "spec": spec,
    }
