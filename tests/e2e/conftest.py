"""The e2e fixtures: a host and two member kube-apiservers, a KubeFed control plane on them,
and the controller as a separate process (``kubectl-kubefed controller``).

With ``KUBEFED_E2E_KUBECONFIG`` (and optionally ``KUBEFED_E2E_HOST_CONTEXT``,
``KUBEFED_E2E_MEMBER_CONTEXTS=a,b``) the suite uses existing clusters, e.g. kind on a
laptop, and starts nothing. ``KUBEFED_E2E=required`` (CI) turns a missing binary into a
failure instead of a skip.
"""

from __future__ import annotations

import copy
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import client_for_context
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from tests.conftest import BIN
from tests.e2e import setup, testbed

T = TypeVar("T")
REQUIRED = os.environ.get("KUBEFED_E2E") == "required"
TYPES = ("namespaces", "configmaps", "secrets", "serviceaccounts", "services", "deployments.apps")


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.2, what: str = "") -> T:
    """Retry ``check`` until it returns a truthy value without raising."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (AssertionError, ApiError, KeyError, TypeError, StopIteration) as err:
            last = err
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or check}: {last!r}")


def update_retrying(
    client: ClusterClient,
    api_version: str,
    kind: str,
    namespace: str,
    name: str,
    change: Callable[[dict[str, Any]], object],
    attempts: int = 5,
) -> dict[str, Any]:
    """Read the object, ``change`` it in place, update it; on a Conflict (the controller, or
    a member's own controllers, wrote it in between) read it again and re-apply the change,
    as kubectl edit/apply and client-go's RetryOnConflict do."""
    for attempt in range(1, attempts + 1):
        obj = copy.deepcopy(client.get(api_version, kind, namespace, name))
        change(obj)
        try:
            return client.update(obj)
        except Conflict:
            if attempt == attempts:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def metric(text: str, name: str) -> float | None:
    """The value of an unlabelled sample in a Prometheus exposition (HELP lines are not samples)."""
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Controller:
    kubeconfig: str
    context: str
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    namespace: str = ""  # --kubefed-namespace; "": the default

    def start(self, identity: str = "replica-a") -> tuple[subprocess.Popen[bytes], int]:
        port = _free_port()
        log = open(self.log_dir / f"controller-{identity}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                str(BIN / "kubectl-kubefed"),
                "controller",
                "--kubeconfig",
                self.kubeconfig,
                "--host-cluster-context",
                self.context,
                "--metrics-bind-address",
                f"127.0.0.1:{port}",
                *("--health-probe-bind-address", "0"),  # probes on the metrics port (one per replica)
                "--identity",
                identity,
                *(["--kubefed-namespace", self.namespace] if self.namespace else []),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        self.ports.append(port)
        eventually(lambda: self.get(port, "/healthz") == "ok", 30, what="controller /healthz")
        return proc, port

    def get(self, port: int, path: str) -> str:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
                return str(resp.read().decode())
        except OSError:
            return ""

    def stop_all(self, sig: int = signal.SIGTERM) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(sig)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()
        self.ports.clear()


@dataclass
class Plane:
    host: KubeClusterClient
    members: dict[str, KubeClusterClient]
    kubeconfig: str
    host_context: str
    controller: Controller
    bed: testbed.TestBed | None

    def member(self, name: str) -> KubeClusterClient:
        return self.members[name]

    def all_clusters(self) -> dict[str, KubeClusterClient]:
        return {"host": self.host, **self.members}

    def get_or_none(
        self, cluster: str, api_version: str, kind: str, ns: str, name: str
    ) -> dict[str, Any] | None:
        try:
            return self.all_clusters()[cluster].get(api_version, kind, ns, name)
        except NotFound:
            return None


def kubefed(
    kubeconfig: str, *args: str, check: bool = True, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``kubectl kubefed ...`` through the real kubectl's plugin discovery."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run(
        ["kubectl", "kubefed", *args, "--kubeconfig", kubeconfig],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        input=stdin,
    )
    if check and res.returncode != 0:
        raise AssertionError(f"kubectl kubefed {' '.join(args)} failed ({res.returncode}): {res.stderr}")
    return res


def rejoin(plane: Plane, *flags: str) -> None:
    """``join CLUSTER --update`` for the host and every member (after enabling a type, or
    to change the member identity's grant), with these flags."""
    for name in ("host", *plane.members):
        context = plane.host_context if name == "host" else name
        kubefed(
            plane.kubeconfig,
            "join",
            name,
            "--update",
            *flags,
            "--cluster-context",
            context,
            "--host-cluster-context",
            plane.host_context,
        )


@pytest.fixture(scope="session")
def plane(
    bed: tuple[str, str, list[str], testbed.TestBed | None], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Plane]:
    kubeconfig, host_context, member_contexts, started = bed
    host = client_for_context(kubeconfig, host_context, name="host")
    kubefed(kubeconfig, "init", "--host-cluster-context", host_context)
    # Faster health checks than KubeFed's defaults, so failures show within seconds.

    def faster(config: dict[str, Any]) -> None:
        config["spec"]["clusterHealthCheck"]["period"] = "2s"
        config["spec"]["controllerDuration"] = {"availableDelay": "2s", "unavailableDelay": "2s"}

    update_retrying(host, "core.kubefed.io/v1beta1", "KubeFedConfig", setup.NS, "kubefed", faster)
    members = {name: client_for_context(kubeconfig, name, name=name) for name in member_contexts}
    for name in ("host", *member_contexts):
        context = host_context if name == "host" else name
        kubefed(
            kubeconfig, "join", name, "--cluster-context", context, "--host-cluster-context", host_context
        )
    controller = Controller(kubeconfig, host_context, tmp_path_factory.mktemp("controller"))
    controller.start()
    plane = Plane(host, members, kubeconfig, host_context, controller, started)
    eventually(
        lambda: all(
            any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (
                    host.get("core.kubefed.io/v1beta1", "KubeFedCluster", setup.NS, n).get("status") or {}
                ).get("conditions", [])
            )
            for n in ("host", *member_contexts)
        ),
        60,
        what="all clusters Ready",
    )
    yield plane
    controller.stop_all()


@pytest.fixture
def ns(plane: Plane) -> Iterator[str]:
    """A fresh namespace on the host, federated to every cluster."""
    name = f"e2e-{secrets.token_hex(3)}"
    plane.host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    plane.host.create(
        {
            "apiVersion": "types.kubefed.io/v1beta1",
            "kind": "FederatedNamespace",
            "metadata": {"name": name, "namespace": name},
            "spec": {"placement": {"clusterSelector": {}}},
        }
    )
    for member in plane.members.values():
        eventually(lambda m=member: m.get("v1", "Namespace", "", name), 30, what=f"namespace {name}")
    yield name
