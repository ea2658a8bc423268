"""The pull agent's connection to the host: a kubeconfig from the member's Secret
``kubefed-agent-host`` (written by ``join --mode Pull``) or from a file.

The token in it is a bound token of the agent's host identity. Before it expires the agent
asks the host for a new one with the token itself (its Role allows that for its own
ServiceAccount only) and writes it back into the Secret, so a restarted agent finds a
valid one.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from typing import Any

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.core import pullaccess as pa
from kubectl_kubefed.kube import kubeconfig
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import ClientOptions
from kubectl_kubefed.kube.membertoken import SecretCodec, TokenSource
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import ApiError, NotFound


class KubeconfigCodec(SecretCodec):
    """The token inside the Secret's kubeconfig (``data.kubeconfig``)."""

    def decode(self, secret: dict[str, Any]) -> str:
        return pa.kubeconfig_token(_text(secret))

    def encode(self, secret: dict[str, Any], token: str) -> dict[str, Any]:
        text = pa.with_token(_text(secret), token)
        return {**(secret.get("data") or {}), pa.HOST_SECRET_KEY: base64.b64encode(text.encode()).decode()}


def _text(secret: dict[str, Any]) -> str:
    raw = (secret.get("data") or {}).get(pa.HOST_SECRET_KEY) or ""
    return base64.b64decode(raw).decode() if raw else ""


def read_secret_kubeconfig(member: ClusterClient, namespace: str) -> str:
    try:
        secret = member.get("v1", "Secret", namespace, pa.HOST_SECRET)
    except NotFound:
        raise InputError(
            f"no Secret {namespace}/{pa.HOST_SECRET} in the member: run `kubectl kubefed join NAME "
            "--mode Pull` first, or give --host-kubeconfig"
        ) from None
    except ApiError as err:
        raise InputError(f"reading Secret {namespace}/{pa.HOST_SECRET} in the member: {err}") from None
    text = _text(secret)
    if not text:
        raise InputError(f"Secret {namespace}/{pa.HOST_SECRET} has no {pa.HOST_SECRET_KEY}")
    return text


def host_client(
    member: ClusterClient,
    namespace: str,
    cluster: str,
    *,
    host_kubeconfig: str | None,
    options: ClientOptions,
    log: Any,
) -> KubeClusterClient:
    """A client of the host as the agent's identity; its token is renewed before it expires
    (and stored back into the member's Secret when it came from there)."""
    if host_kubeconfig:
        try:
            text = Path(host_kubeconfig).read_text()
        except OSError as err:
            raise InputError(f"--host-kubeconfig {host_kubeconfig}: {err.strerror}") from None
        store: ClusterClient | None = None
    else:
        text = read_secret_kubeconfig(member, namespace)
        store = member
    cfg = _configuration(text)
    token = pa.kubeconfig_token(text)
    rest = Rest(cfg, name="host", qps=options.qps, burst=options.burst, timeout=options.timeout)
    if token:
        source = TokenSource(
            store, namespace, pa.HOST_SECRET, "host", token, log=log, codec=KubeconfigCodec()
        )
        cfg.api_key = {"authorization": "Bearer " + token}
        cfg.refresh_api_key_hook = source.hook
        source.attach(rest)
    return KubeClusterClient(options.configure(rest), "host")


def _configuration(text: str) -> Any:
    """The kubeconfig's current context as a client Configuration (read from a private
    temporary file: the loader takes files only)."""
    fd, path = tempfile.mkstemp(prefix="kubefed-agent-", suffix=".kubeconfig")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        return kubeconfig.configuration(path, None)
    finally:
        os.unlink(path)
