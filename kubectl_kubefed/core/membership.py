"""The objects ``join`` puts in a member and on the host (KubeFed semantics §8.1), as data.

Fix of KubeFed's over-broad grant: by default the member role allows only what
federation needs (the enabled types' verbs, namespaces, events, health and version
endpoints); ``admin`` restores KubeFed's wildcard grant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.core.typeconfig import TypeConfig

RBAC_API = "rbac.authorization.k8s.io/v1"
OBJECT_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"]
HEALTH_URLS = ["/healthz", "/readyz", "/livez", "/version"]
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


def minimal_rules(types: Iterable[TypeConfig]) -> list[dict[str, Any]]:
    """What the sync and health controllers need in a member, for the enabled types."""
    by_group: dict[str, set[str]] = {}
    for t in types:
        by_group.setdefault(t.group, set()).add(t.plural)
    by_group.setdefault("", set()).add("namespaces")
    rules: list[dict[str, Any]] = [
        {"apiGroups": [group], "resources": sorted(plurals), "verbs": list(OBJECT_VERBS)}
        for group, plurals in sorted(by_group.items())
    ]
    rules.append(
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]}
    )
    # The health controller verifies the cluster's ID (KEP-2149) at every probe.
    rules.append(
        {"apiGroups": ["about.k8s.io"], "resources": ["clusterproperties"], "verbs": ["get", "list", "watch"]}
    )
    rules.append({"nonResourceURLs": list(HEALTH_URLS), "verbs": ["get"]})
    return rules


def admin_rules() -> list[dict[str, Any]]:
    return [
        {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
        {"nonResourceURLs": ["*"], "verbs": ["get"]},
    ]


def member_objects(namespace: str, sa: str, scope: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Namespace, service account, token secret and RBAC for the controller in a member."""
    subject = [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}]
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
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/service-account-token",
            "metadata": {
                "name": sa,
                "namespace": namespace,
                "annotations": {"kubernetes.io/service-account.name": sa},
            },
        },
    ]
    name = role_name(sa)
    if scope == names.SCOPE_NAMESPACED:
        namespaced_rules = [r for r in rules if "nonResourceURLs" not in r]
        objs += [
            {
                "apiVersion": RBAC_API,
                "kind": "Role",
                "metadata": {"name": name, "namespace": namespace},
                "rules": namespaced_rules,
            },
            {
                "apiVersion": RBAC_API,
                "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": subject,
            },
        ]
        health = healthcheck_role_name(namespace, sa)
        objs += [
            {
                "apiVersion": RBAC_API,
                "kind": "ClusterRole",
                "metadata": {"name": health},
                "rules": [{"nonResourceURLs": list(HEALTH_URLS), "verbs": ["get"]}],
            },
            {
                "apiVersion": RBAC_API,
                "kind": "ClusterRoleBinding",
                "metadata": {"name": health},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": health},
                "subjects": subject,
            },
        ]
    else:
        objs += [
            {"apiVersion": RBAC_API, "kind": "ClusterRole", "metadata": {"name": name}, "rules": rules},
            {
                "apiVersion": RBAC_API,
                "kind": "ClusterRoleBinding",
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
                "subjects": subject,
            },
        ]
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
