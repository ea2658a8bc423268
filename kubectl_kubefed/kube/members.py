"""Clients for member clusters, built from KubeFedCluster objects (or kubeconfig contexts)."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s_client

from kubectl_kubefed.api.objects import name_of
from kubectl_kubefed.kube import credentials, kubeconfig
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.memberrest import MemberRest
from kubectl_kubefed.kube.membertoken import TokenSource
from kubectl_kubefed.kube.rest import USER_AGENT, Rest
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.errors import ApiError, NotFound


@dataclass
class ClientOptions:
    qps: float = 20.0  # KubeFed's member defaults
    burst: int = 30
    # The limit applies only while the server does not pace requests itself (kube/rest.py).
    adaptive: bool = False
    timeout: float = 10.0
    user_agent: str = USER_AGENT
    # Checked before every write leaves (kube/rest.py); the controller's leader fence.
    write_fence: Callable[[], None] | None = None

    def configure(self, rest: Rest) -> Rest:
        rest.user_agent = self.user_agent
        rest.write_fence = self.write_fence
        rest.limiter.adaptive = self.adaptive
        return rest


def paced_options(qps: float | None, burst: int, default_qps: float, **others: Any) -> ClientOptions:
    """Client options from a ``--qps`` flag: a given value always applies (0: no limit);
    none given, ``default_qps`` applies only while the server does not pace requests
    itself with API Priority and Fairness."""
    return ClientOptions(qps=default_qps if qps is None else qps, burst=burst, adaptive=qps is None, **others)


def _endpoint(api_endpoint: str) -> str:
    # Parsed as client-go does: a bare host (or host:port) means https.
    return api_endpoint if "://" in api_endpoint else f"https://{api_endpoint}"


def _ca_data(cluster: str, ca_bundle: str) -> str:
    """The PEM certificates of ``caBundle``, kept in memory (never a file left in $TMPDIR)."""
    try:
        return base64.b64decode(ca_bundle, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise ClientConfigError(
            f"KubeFedCluster {cluster}: spec.caBundle is not base64-encoded PEM"
        ) from None


class MemberClientFactory:
    """``ClientFactory`` for the sync manager: KubeFedCluster -> KubeClusterClient.

    The bearer token comes from the secret named by ``spec.secretRef`` in the system
    namespace (a bound token is renewed before it expires); TLS is verified against
    ``caBundle`` unless ``disabledTLSValidations`` says otherwise (``*``: no verification;
    ``SubjectName``: no hostname check).
    """

    def __init__(self, host: ClusterClient, namespace: str, options: ClientOptions | None = None) -> None:
        self.host = host
        self.namespace = namespace
        self.options = options or ClientOptions()

    def __call__(self, cluster: Mapping[str, Any]) -> KubeClusterClient:
        spec = cluster.get("spec") or {}
        name = name_of(cluster)
        endpoint = spec.get("apiEndpoint")
        if not endpoint:
            raise ClientConfigError(f"KubeFedCluster {name} has no spec.apiEndpoint")
        secret_name = (spec.get("secretRef") or {}).get("name")
        if not secret_name:
            raise ClientConfigError(f"KubeFedCluster {name} has no spec.secretRef.name")
        try:
            secret = self.host.get("v1", "Secret", self.namespace, str(secret_name))
        except NotFound:
            raise ClientConfigError(f"secret {self.namespace}/{secret_name} not found") from None
        except ApiError as err:
            raise ClientConfigError(f"secret {self.namespace}/{secret_name}: {err}") from None
        token_b64 = (secret.get("data") or {}).get("token")
        if not token_b64:
            raise ClientConfigError(f"secret {self.namespace}/{secret_name} has no token")
        cfg = k8s_client.Configuration()
        cfg.host = _endpoint(str(endpoint))
        token = base64.b64decode(token_b64).decode().strip()
        cfg.api_key = {"authorization": "Bearer " + token}
        disabled = set(spec.get("disabledTLSValidations") or [])
        if "*" in disabled:
            cfg.verify_ssl = False
        else:
            if spec.get("caBundle"):
                cfg.ca_cert_data = _ca_data(name, str(spec["caBundle"]))
            if "SubjectName" in disabled:
                cfg.assert_hostname = False
        if spec.get("proxyURL"):
            cfg.proxy = str(spec["proxyURL"])
        # Bound tokens are renewed before they expire (kube/membertoken.py).
        source = TokenSource(self.host, self.namespace, str(secret_name), name, token)
        cfg.refresh_api_key_hook = source.hook  # type: ignore[assignment]
        rest = MemberRest(
            cfg, name=name, qps=self.options.qps, burst=self.options.burst, timeout=self.options.timeout
        )
        source.attach(rest)
        return KubeClusterClient(self.options.configure(rest), name)


def client_for_context(
    kubeconfig_path: str | None,
    context: str | None,
    options: ClientOptions | None = None,
    name: str | None = None,
) -> KubeClusterClient:
    """A client for a kubeconfig context (the host, or a member during join)."""
    opts = options or ClientOptions(qps=50, burst=100)
    if credentials.in_cluster(kubeconfig_path, context, os.environ):  # in a Pod, no kubeconfig
        pod = credentials.in_cluster_rest(
            name or "in-cluster", qps=opts.qps, burst=opts.burst, timeout=opts.timeout
        )
        return KubeClusterClient(opts.configure(pod), name or "in-cluster")
    resolved = kubeconfig.resolve_context(kubeconfig_path, context)
    cfg = kubeconfig.configuration(kubeconfig_path, resolved.name)
    rest = Rest(cfg, name=name or resolved.name, qps=opts.qps, burst=opts.burst, timeout=opts.timeout)
    rest.reauthenticate = credentials.KubeconfigReauth(cfg, kubeconfig_path, resolved.name)  # exec plugins
    return KubeClusterClient(opts.configure(rest), name or resolved.name)
