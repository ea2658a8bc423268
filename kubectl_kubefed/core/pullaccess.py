"""What ``join --mode Pull`` writes, as data: the agent's identity on the host, the Secret
that carries it into the member, and the agent's Deployment (docs/pull.md).

The host keeps no credential for a pull cluster. The agent's host identity may read the
Works of its own cluster, write their status and finalizers, keep its Lease and renew its
own token, all in its cluster's namespace; nothing else (no Secrets, no other namespace,
no federated objects).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Final

import yaml

from kubectl_kubefed.api import names
from kubectl_kubefed.core.memberpolicy import MANAGED_BY
from kubectl_kubefed.core.membership import RBAC_API
from kubectl_kubefed.core.work import cluster_namespace

AGENT_ROLE: Final = "kubefed-agent"
# In the member: the agent's host credentials, as a kubeconfig under this key.
HOST_SECRET: Final = "kubefed-agent-host"
HOST_SECRET_KEY: Final = "kubeconfig"
AGENT_DEPLOYMENT: Final = "kubefed-agent"
DEFAULT_IMAGE: Final = "ghcr.io/kubectl-kubefed/kubectl-kubefed:latest"


def agent_account(cluster: str) -> str:
    return f"kubefed-agent-{cluster}"


def host_rules(cluster: str) -> list[dict[str, Any]]:
    return [
        {
            "apiGroups": [names.WORK_GROUP],
            "resources": ["works"],
            "verbs": ["get", "list", "watch", "update"],
        },
        {"apiGroups": [names.WORK_GROUP], "resources": ["works/status"], "verbs": ["get", "update"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "create", "update"]},
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts/token"],
            "verbs": ["create"],
            "resourceNames": [agent_account(cluster)],
        },
    ]


def host_objects(cluster: str) -> list[dict[str, Any]]:
    """The cluster's namespace on the host, the agent's ServiceAccount and its Role."""
    namespace = cluster_namespace(cluster)
    account = agent_account(cluster)
    labels = {**MANAGED_BY, names.WORK_CLUSTER_LABEL: cluster}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": account, "namespace": namespace, "labels": labels},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": RBAC_API,
            "kind": "Role",
            "metadata": {"name": AGENT_ROLE, "namespace": namespace, "labels": labels},
            "rules": host_rules(cluster),
        },
        {
            "apiVersion": RBAC_API,
            "kind": "RoleBinding",
            "metadata": {"name": AGENT_ROLE, "namespace": namespace, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": AGENT_ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
        },
    ]


def host_kubeconfig(server: str, ca_pem: str, token: str, *, insecure: bool = False) -> str:
    """A kubeconfig for the agent's host identity (one cluster, user and context)."""
    cluster: dict[str, Any] = {"server": server}
    if ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem.encode()).decode()
    if insecure:
        cluster["insecure-skip-tls-verify"] = True
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "host", "cluster": cluster}],
        "users": [{"name": "kubefed-agent", "user": {"token": token}}],
        "contexts": [{"name": "host", "context": {"cluster": "host", "user": "kubefed-agent"}}],
        "current-context": "host",
    }
    return yaml.safe_dump(config, sort_keys=False)


def kubeconfig_token(text: str) -> str:
    """The bearer token of the (first) user in a kubeconfig, or ""."""
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError:
        return ""
    users = config.get("users") if isinstance(config, Mapping) else None
    for user in users if isinstance(users, list) else []:
        token = ((user or {}).get("user") or {}).get("token") if isinstance(user, Mapping) else None
        if isinstance(token, str):
            return token
    return ""


def with_token(text: str, token: str) -> str:
    """The kubeconfig ``text`` with every user's token replaced (renewal)."""
    config = yaml.safe_load(text)
    for user in config.get("users") or []:
        user.setdefault("user", {})["token"] = token
    return yaml.safe_dump(config, sort_keys=False)


def host_secret(namespace: str, kubeconfig_text: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": HOST_SECRET, "namespace": namespace, "labels": dict(MANAGED_BY)},
        "data": {HOST_SECRET_KEY: base64.b64encode(kubeconfig_text.encode()).decode()},
    }


MEMBER_SECRET_ROLE: Final = "kubefed-agent-host-secret"


def member_agent_objects(namespace: str, cluster: str, sa: str) -> list[dict[str, Any]]:
    """In the member: the member identity (which the deployed agent runs as) may read its
    host credentials and store renewed ones, in that one Secret."""
    labels = {**MANAGED_BY, names.WORK_CLUSTER_LABEL: cluster}
    rule = {
        "apiGroups": [""],
        "resources": ["secrets"],
        "verbs": ["get", "update"],
        "resourceNames": [HOST_SECRET],
    }
    return [
        {
            "apiVersion": RBAC_API,
            "kind": "Role",
            "metadata": {"name": MEMBER_SECRET_ROLE, "namespace": namespace, "labels": labels},
            "rules": [rule],
        },
        {
            "apiVersion": RBAC_API,
            "kind": "RoleBinding",
            "metadata": {"name": MEMBER_SECRET_ROLE, "namespace": namespace, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": MEMBER_SECRET_ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": namespace}],
        },
    ]


def agent_deployment(namespace: str, cluster: str, sa: str, image: str) -> dict[str, Any]:
    """The agent in the member: non-root, read-only root filesystem, the member identity."""
    labels = {"app.kubernetes.io/name": AGENT_DEPLOYMENT, names.WORK_CLUSTER_LABEL: cluster}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": AGENT_DEPLOYMENT, "namespace": namespace, "labels": {**MANAGED_BY, **labels}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": sa,
                    "automountServiceAccountToken": True,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": "agent",
                            "image": image,
                            "args": ["agent", "--cluster-name", cluster, "--namespace", namespace],
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "96Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                        }
                    ],
                },
            },
        },
    }
