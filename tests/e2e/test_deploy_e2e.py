"""Running the controller in a cluster: the chart (charts/kubefed) with real Helm 4 and 3
(lint, template, install on the host; no kubelet, so no Pod runs), and the in-cluster code
path: the controller process with exactly the environment a Pod gives it (service account
token, ca.crt and namespace files; KUBERNETES_SERVICE_HOST/PORT), against the host."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from kubectl_kubefed.kube import kubeconfig
from kubectl_kubefed.kube.membertoken import request_token
from kubectl_kubefed.sync.errors import NotFound
from tests.conftest import BIN, ROOT
from tests.e2e import testbed
from tests.e2e.conftest import REQUIRED, Plane, _free_port, eventually, metric

pytestmark = pytest.mark.e2e
CHART = str(ROOT / "charts" / "kubefed")
HELM = {4: testbed.BIN / "helm", 3: testbed.BIN / "helm3"}


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not all(exe.exists() for exe in HELM.values()):
        message = "helm binaries missing: run `make testbin`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("helm-chart")
    return {
        **os.environ,
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
    }


def helm(env: dict[str, str], version: int, *args: str) -> str:
    res = subprocess.run([str(HELM[version]), *args], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr
    return res.stdout


def _objects(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


@pytest.mark.parametrize("version", [4, 3])
def test_chart_lints(helm_env: dict[str, str], version: int) -> None:
    out = helm(helm_env, version, "lint", "--strict", CHART, "--set", "serviceMonitor.enabled=true")
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize("version", [4, 3])
def test_chart_template(helm_env: dict[str, str], version: int) -> None:
    objs = _objects(helm(helm_env, version, "template", "kf", CHART, "-n", "fed", "--include-crds"))
    by = {(o["kind"], o["metadata"]["name"]): o for o in objs}
    kinds = {o["kind"] for o in objs}
    assert {
        "CustomResourceDefinition",
        "KubeFedConfig",
        "FederatedTypeConfig",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    } <= kinds
    assert "ServiceMonitor" not in kinds  # optional, off by default
    assert by[("KubeFedConfig", "kubefed")]["metadata"]["namespace"] == "fed"
    deploy = by[("Deployment", "kf-controller")]
    assert deploy["spec"]["replicas"] == 2
    pod = deploy["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"]["drop"] == ["ALL"]
    assert sc["allowPrivilegeEscalation"] is False
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"metrics": 8080, "probes": 8081}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "probes"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "probes"}
    assert "--kubefed-namespace=fed" in container["args"]
    assert "--health-probe-bind-address=:8081" in container["args"]
    assert {v["mountPath"] for v in container["volumeMounts"]} == {"/tmp"}
    pdb = by[("PodDisruptionBudget", "kf-controller")]
    assert pdb["spec"]["selector"]["matchLabels"] == deploy["spec"]["selector"]["matchLabels"]
    # least privilege: no delete but of pull clusters' Works (and what the FederatedApplication
    # controller owns), Secrets only in the namespace
    cluster_rules = by[("ClusterRole", "kubefed:fed:kf-controller")]["rules"]
    role_rules = by[("Role", "kf-controller")]["rules"]
    # (Federated<Kind> as "*" in types.kubefed.io, and ReplicaSchedulingPreferences)
    deletable = {"works", "*", "replicaschedulingpreferences"}
    for rule in cluster_rules + role_rules:
        assert not {"deletecollection", "*", "patch", "escalate", "bind"} & set(rule["verbs"]), rule
        if "delete" in rule["verbs"]:
            assert set(rule["resources"]) <= deletable, rule
            assert rule["resources"] != ["*"] or rule["apiGroups"] == ["types.kubefed.io"], rule
    assert not any("secrets" in r["resources"] for r in cluster_rules)
    assert any("secrets" in r["resources"] for r in role_rules)
    with_monitor = _objects(
        helm(helm_env, version, "template", "kf", CHART, "-n", "fed", "--set", "serviceMonitor.enabled=true")
    )
    monitor = next(o for o in with_monitor if o["kind"] == "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


@pytest.mark.parametrize("version", [4, 3])
def test_chart_installs_on_the_host(plane: Plane, helm_env: dict[str, str], version: int) -> None:
    ns = f"kubefed-chart{version}"
    common = ["--kubeconfig", plane.kubeconfig, "--kube-context", plane.host_context, "-n", ns]
    helm(helm_env, version, "install", "kf", CHART, *common, "--create-namespace")
    try:
        host = plane.host
        deploy = host.get("apps/v1", "Deployment", ns, "kf-controller")
        assert deploy["spec"]["replicas"] == 2  # accepted; no kubelet, so no Pod runs
        host.get("policy/v1", "PodDisruptionBudget", ns, "kf-controller")
        host.get("rbac.authorization.k8s.io/v1", "ClusterRole", "", f"kubefed:{ns}:kf-controller")
        host.get("core.kubefed.io/v1beta1", "KubeFedConfig", ns, "kubefed")
        host.get("core.kubefed.io/v1beta1", "FederatedTypeConfig", ns, "deployments.apps")
    finally:
        helm(helm_env, version, "uninstall", "kf", *common)
        with contextlib.suppress(NotFound):
            plane.host.delete("v1", "Namespace", "", ns)


# -- the in-cluster code path ------------------------------------------------------------------


def _pod_files(plane: Plane, directory: Path, ns: str, sa: str) -> Path:
    """The files a Pod of ServiceAccount ``ns/sa`` gets: token (TokenRequest), ca.crt, namespace."""
    directory.mkdir()
    (directory / "token").write_text(request_token(plane.host.rest, ns, sa, 3600))
    cfg = kubeconfig.configuration(plane.kubeconfig, plane.host_context)
    shutil.copy(cfg.ssl_ca_cert, directory / "ca.crt")
    (directory / "namespace").write_text(ns)
    return directory


@pytest.fixture
def pod_identity(plane: Plane, tmp_path: Path) -> Iterator[Path]:
    """A ServiceAccount bound to cluster-admin for the test, and the files a Pod of it gets."""
    ns, sa = "kube-federation-system", f"incluster-{secrets.token_hex(3)}"
    host = plane.host
    host.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}})
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": sa},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
    }
    host.create(binding)
    yield _pod_files(plane, tmp_path / "serviceaccount", ns, sa)
    host.delete("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", sa)
    host.delete("v1", "ServiceAccount", ns, sa)


@dataclass
class InCluster:
    plane: Plane
    log: Path
    metrics: int
    probes: int

    def get(self, port: int, path: str) -> str:
        return self.plane.controller.get(port, path)

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def wait(self, check: Callable[[], object], what: str) -> None:
        try:
            eventually(check, 60, what=what)
        except AssertionError as err:
            raise AssertionError(f"{err}\n{self.log.read_text()[-3000:]}") from None


@contextmanager
def in_cluster_controller(plane: Plane, sa_dir: Path, tmp_path: Path, *args: str) -> Iterator[InCluster]:
    """``kubectl-kubefed controller`` with the environment of a Pod and no kubeconfig."""
    server = urlsplit(plane.host.rest.host)
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env.update(
        {
            "HOME": str(tmp_path),  # no ~/.kube/config to fall back on
            "KUBERNETES_SERVICE_HOST": str(server.hostname),
            "KUBERNETES_SERVICE_PORT": str(server.port),
            "KUBEFED_SERVICE_ACCOUNT_DIR": str(sa_dir),
        }
    )
    run = InCluster(plane, tmp_path / f"controller-{secrets.token_hex(2)}.log", _free_port(), _free_port())
    with run.log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(BIN / "kubectl-kubefed"),
                "controller",
                f"--metrics-bind-address=127.0.0.1:{run.metrics}",
                f"--health-probe-bind-address=127.0.0.1:{run.probes}",
                "--v=1",
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        yield run
        assert proc.poll() is None, run.log.read_text()[-3000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert proc.returncode == 0, run.log.read_text()[-3000:]


def test_controller_runs_in_cluster(plane: Plane, pod_identity: Path, tmp_path: Path) -> None:
    """No kubeconfig: the Pod's service account. It joins as a standby (the fixture's
    controller leads), is ready and serves /metrics."""
    with in_cluster_controller(plane, pod_identity, tmp_path, "--identity=in-cluster-standby") as run:
        run.wait(lambda: run.get(run.probes, "/readyz") == "ok", "/readyz of the in-cluster controller")
        assert run.get(run.probes, "/healthz") == "ok"
        assert run.get(run.probes, "/metrics") == ""  # 404: metrics are on their own port
        text = run.get(run.metrics, "/metrics")
        assert "# TYPE kubefed_leader gauge" in text and metric(text, "kubefed_leader") == 0
        start = next(line for line in run.lines() if line["msg"] == "starting")
        assert start["in_cluster"] is True and start["host"] == plane.host.rest.host


def test_the_charts_rbac_is_enough(plane: Plane, helm_env: dict[str, str], tmp_path: Path) -> None:
    """The chart's ServiceAccount and RBAC, nothing else: the controller of the chart's own
    control plane (its namespace, no clusters joined) takes the lease, starts every
    controller and meets no refusal from the API server."""
    ns = "kubefed-chart-rbac"
    common = ["--kubeconfig", plane.kubeconfig, "--kube-context", plane.host_context, "-n", ns]
    helm(helm_env, 4, "install", "kf", CHART, *common, "--create-namespace")
    try:
        sa_dir = _pod_files(plane, tmp_path / "serviceaccount", ns, "kf-controller")
        # no --kubefed-namespace: in a Pod the controller takes its own namespace
        with in_cluster_controller(plane, sa_dir, tmp_path, "--identity=chart-pod") as run:
            run.wait(lambda: metric(run.get(run.metrics, "/metrics"), "kubefed_leader") == 1, "the lease")
            run.wait(lambda: run.get(run.probes, "/readyz") == "ok", "/readyz")
            run.wait(
                lambda: any(line["msg"] == "controllers started" for line in run.lines()),
                "controllers started",
            )
            start = next(line for line in run.lines() if line["msg"] == "starting")
            assert start["namespace"] == ns
            time.sleep(3)  # the informers' first lists and watches
            refused = [line for line in run.lines() if "forbidden" in json.dumps(line).lower()]
            assert not refused, refused
    finally:
        helm(helm_env, 4, "uninstall", "kf", *common)
        with contextlib.suppress(NotFound):
            plane.host.delete("v1", "Namespace", "", ns)
