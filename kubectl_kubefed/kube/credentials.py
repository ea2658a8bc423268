"""The host connection of a long-running controller: in-cluster service account or a
kubeconfig, with credentials that are refreshed while it runs.

Where the configuration comes from (controller-runtime's order): ``--kubeconfig``, else
``$KUBECONFIG``, else, in a Pod (``KUBERNETES_SERVICE_HOST`` and ``_PORT`` set, no
``--context``), the Pod's service account, else ``~/.kube/config``.

* In a Pod the token file is a projected token that the kubelet rotates (hourly): it is
  re-read every ``TOKEN_RELOAD_SECONDS`` and at once after a ``401``.
* From a kubeconfig with an ``exec`` credential plugin, the kubernetes client re-runs the
  plugin before the credential's ``expirationTimestamp``; after a ``401`` (a credential
  revoked early, or one without an expiry) the plugin is run again and the request
  repeated once.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client as k8s_client

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.kube import kubeconfig
from kubectl_kubefed.kube.rest import Rest

SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Only for tests: the service account files of a Pod in another directory.
SERVICE_ACCOUNT_DIR_ENV = "KUBEFED_SERVICE_ACCOUNT_DIR"
TOKEN_RELOAD_SECONDS = 60.0
REAUTH_MIN_SECONDS = 5.0  # at most one re-authentication per this many seconds


def in_cluster(kubeconfig_path: str | None, context: str | None, environ: Mapping[str, str]) -> bool:
    """Whether the controller uses the Pod's service account (see the module's docstring)."""
    if kubeconfig_path or environ.get("KUBECONFIG") or context:
        return False
    return bool(environ.get("KUBERNETES_SERVICE_HOST") and environ.get("KUBERNETES_SERVICE_PORT"))


def service_account_dir(environ: Mapping[str, str]) -> Path:
    return Path(environ.get(SERVICE_ACCOUNT_DIR_ENV) or SERVICE_ACCOUNT_DIR)


def pod_namespace(environ: Mapping[str, str]) -> str:
    """The Pod's namespace (the service account's ``namespace`` file), "" without one."""
    try:
        return (service_account_dir(environ) / "namespace").read_text().strip()
    except OSError:
        return ""


class FileToken:
    """A bearer token read from a file: again every ``reload_seconds``, and on ``refresh``."""

    def __init__(
        self,
        path: Path,
        reload_seconds: float = TOKEN_RELOAD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.reload_seconds = reload_seconds
        self.clock = clock
        self.reads = 0
        self._lock = threading.Lock()
        self._token = ""
        self._read_at = float("-inf")
        self._refreshed_at = float("-inf")
        self.current()

    def _read(self, now: float) -> None:
        try:
            token = self.path.read_text().strip()
        except OSError as err:
            if self._token:  # keep the last token while the kubelet swaps the file
                return
            raise InputError(f"service account token {self.path}: {err.strerror}") from None
        if not token and not self._token:
            raise InputError(f"service account token {self.path} is empty")
        self._token = token or self._token
        self._read_at = now
        self.reads += 1

    def current(self) -> str:
        now = self.clock()
        with self._lock:
            if now - self._read_at >= self.reload_seconds:
                self._read(now)
            return self._token

    def hook(self, configuration: Any) -> None:
        configuration.api_key = {"BearerToken": "Bearer " + self.current()}

    def refresh(self) -> bool:
        """After a 401: read the file again; True when the token changed."""
        now = self.clock()
        with self._lock:
            if now - self._refreshed_at < REAUTH_MIN_SECONDS:
                return False
            self._refreshed_at = now
            old = self._token
            self._read(now)
            return self._token != old


@dataclass(frozen=True)
class InCluster:
    host: str
    namespace: str


def _join(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def in_cluster_configuration(environ: Mapping[str, str]) -> tuple[Any, FileToken, InCluster]:
    """The Configuration of the Pod's service account, with its token kept fresh."""
    base = service_account_dir(environ)
    ca = base / "ca.crt"
    if not ca.is_file():
        raise InputError(f"in-cluster: no service account CA at {ca}")
    token = FileToken(base / "token")
    namespace = pod_namespace(environ)
    cfg: Any = k8s_client.Configuration()
    cfg.host = "https://" + _join(environ["KUBERNETES_SERVICE_HOST"], environ["KUBERNETES_SERVICE_PORT"])
    cfg.ssl_ca_cert = str(ca)
    token.hook(cfg)
    cfg.refresh_api_key_hook = token.hook
    return cfg, token, InCluster(cfg.host, namespace)


class KubeconfigReauth:
    """After a 401: load the context again (re-running an exec plugin) and take its token.

    It also serialises the kubernetes client's refresh hook (called before every request):
    when a credential nears its expiry, one worker re-runs the exec plugin and the others
    wait for its token, instead of every worker running the plugin at once."""

    def __init__(self, configuration: Any, kubeconfig_path: str | None, context: str) -> None:
        self.configuration = configuration
        self.kubeconfig_path = kubeconfig_path
        self.context = context
        self.reloads = 0
        self._lock = threading.Lock()
        self._hook_lock = threading.Lock()
        self._at = float("-inf")
        configuration.refresh_api_key_hook = self._serialised(configuration.refresh_api_key_hook)

    def _serialised(self, hook: Callable[[Any], None] | None) -> Callable[[Any], None] | None:
        if hook is None or getattr(hook, SERIALISED, False):
            return hook

        def refresh(configuration: Any) -> None:
            with self._hook_lock:
                hook(configuration)
                # The kubernetes client's hook re-installs itself (unwrapped) when it runs:
                # wrap whatever is installed now, or only the first refresh is serialised.
                installed = configuration.refresh_api_key_hook
                if installed is not None and not getattr(installed, SERIALISED, False):
                    configuration.refresh_api_key_hook = self._serialised(installed)

        setattr(refresh, SERIALISED, True)
        return refresh

    def __call__(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._at < REAUTH_MIN_SECONDS:
                return False
            self._at = now
            try:
                fresh = kubeconfig.configuration(self.kubeconfig_path, self.context)
            except InputError:
                return False
            self.reloads += 1
            old = dict(self.configuration.api_key)
            self.configuration.api_key = dict(fresh.api_key)
            self.configuration.refresh_api_key_hook = self._serialised(fresh.refresh_api_key_hook)
            return dict(fresh.api_key) != old


SERIALISED = "_kubefed_serialised"


def in_cluster_rest(name: str, *, qps: float, burst: int, timeout: float) -> Rest:
    """A REST client on the Pod's service account (token re-read, and again after a 401)."""
    cfg, token, _ = in_cluster_configuration(os.environ)
    rest = Rest(cfg, name=name, qps=qps, burst=burst, timeout=timeout)
    rest.reauthenticate = token.refresh
    return rest
