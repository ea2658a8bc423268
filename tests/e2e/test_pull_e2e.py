"""Pull mode against real kube-apiservers (docs/pull.md): member1 is joined with
``--mode Pull`` and served by ``kubectl kubefed agent`` running as a local process, member2
and the host stay in push mode. The module puts member1 back in push mode when it ends."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import identity
from kubectl_kubefed.core import memberpolicy as mp
from kubectl_kubefed.core import pullaccess as pa
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.kube import kubeconfig
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync.errors import ApiError, NotFound
from tests.conftest import BIN
from tests.e2e.conftest import Plane, eventually, kubefed, update_retrying
from tests.e2e.test_propagation_e2e import FED, deployment_template, federated, propagated_ok, status_of

pytestmark = pytest.mark.e2e

NS = names.DEFAULT_KUBEFED_NAMESPACE
WORKS_NS = wk.cluster_namespace("member1")
AGENT_USER = mp.member_username(WORKS_NS, pa.agent_account("member1"))


@dataclass
class AgentProcess:
    plane: Plane
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> subprocess.Popen[bytes]:
        log = open(self.log_dir / "agent.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            [
                str(BIN / "kubectl-kubefed"),
                "agent",
                "--cluster-name",
                "member1",
                "--kubeconfig",
                self.plane.kubeconfig,
                "--context",
                "member1",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def stop(self, sig: int = signal.SIGTERM) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(sig)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()

    def log(self) -> str:
        path = self.log_dir / "agent.log"
        return path.read_text(errors="replace") if path.exists() else ""


def join(plane: Plane, cluster: str, *flags: str) -> str:
    context = plane.host_context if cluster == "host" else cluster
    return kubefed(
        plane.kubeconfig,
        "join",
        cluster,
        "--update",
        "--cluster-context",
        context,
        "--host-cluster-context",
        plane.host_context,
        *flags,
    ).stdout


def kubefed_cluster(plane: Plane, name: str) -> dict[str, Any]:
    return plane.host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, NS, name)


def ready(plane: Plane, name: str) -> dict[str, Any]:
    conditions = (kubefed_cluster(plane, name).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def offline(plane: Plane, name: str) -> dict[str, Any]:
    conditions = (kubefed_cluster(plane, name).get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Offline"), {})


@pytest.fixture(scope="module")
def agent(plane: Plane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    process = AgentProcess(plane, tmp_path_factory.mktemp("agent"))
    try:  # whatever fails on the way, member1 ends in push mode for the tests after these
        out = join(plane, "member1", "--mode", "Pull")
        assert f"secret/{pa.HOST_SECRET} created in the member" in out or "updated in the member" in out
        process.start()
        eventually(lambda: ready(plane, "member1").get("status") == "True", 60, what="member1 Ready (pull)")
        yield process
    finally:
        process.stop()
        join(plane, "member1", "--mode", "Push")
        eventually(lambda: ready(plane, "member1").get("status") == "True", 60, what="member1 Ready (push)")


def test_join_pull_stores_no_credential_on_the_host(plane: Plane, agent: AgentProcess) -> None:
    kfc = kubefed_cluster(plane, "member1")
    assert kfc["spec"]["syncMode"] == "Pull" and "secretRef" not in kfc["spec"]
    member_identity = mp.member_username(NS, "member1-host")
    secrets, _ = plane.host.list("v1", "Secret")
    tokens = [
        base64.b64decode(s["data"]["token"]).decode() for s in secrets if (s.get("data") or {}).get("token")
    ]
    assert tokens  # the push members' tokens are there: the check below is not vacuous
    for token in tokens:
        assert whoami(plane, "member1", token) != member_identity
    # The member keeps the agent's host credentials, for the agent's identity only.
    secret = plane.member("member1").get("v1", "Secret", NS, pa.HOST_SECRET)
    text = base64.b64decode(secret["data"][pa.HOST_SECRET_KEY]).decode()
    assert whoami(plane, "host", pa.kubeconfig_token(text)) == AGENT_USER
    # join --update without --mode keeps the mode; --deploy-agent adds the agent's Deployment,
    # running as the member identity, non-root, with a read-only root filesystem.
    join(plane, "member1", "--deploy-agent", "--agent-image", "registry.example/kubefed:test")
    assert kubefed_cluster(plane, "member1")["spec"].get("syncMode") == "Pull"
    deployment = plane.member("member1").get("apps/v1", "Deployment", NS, pa.AGENT_DEPLOYMENT)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "member1-host"
    (container,) = pod["containers"]
    assert container["image"] == "registry.example/kubefed:test"
    assert container["args"][:3] == ["agent", "--cluster-name", "member1"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True


def whoami(plane: Plane, cluster: str, token: str) -> str:
    """Who the API server takes ``token`` for ("" when it refuses it)."""
    cfg = kubeconfig.configuration(plane.kubeconfig, plane.host_context if cluster == "host" else cluster)
    cfg.refresh_api_key_hook = None
    cfg.api_key = {"authorization": "Bearer " + token}
    client = KubeClusterClient(Rest(cfg, name=cluster), cluster)
    try:
        review = client.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    except ApiError:
        return ""
    return str(review["status"]["userInfo"]["username"])


def host_flags(plane: Plane) -> list[str]:
    return ["--context", plane.host_context, "--kubeconfig", plane.kubeconfig]


def can_i(plane: Plane, *args: str) -> bool:
    res = subprocess.run(
        ["kubectl", "auth", "can-i", *args, f"--as={AGENT_USER}", *host_flags(plane)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.stdout.strip() in ("yes", "no"), res.stdout + res.stderr
    return res.stdout.strip() == "yes"


def test_the_agent_host_identity_reads_only_its_own_work(plane: Plane, agent: AgentProcess) -> None:
    assert can_i(plane, "list", "works.work.kubefed.io", "-n", WORKS_NS)
    assert can_i(plane, "update", "works.work.kubefed.io", "--subresource", "status", "-n", WORKS_NS)
    assert can_i(plane, "update", "leases.coordination.k8s.io", "-n", WORKS_NS)
    refused = [
        ("list", "secrets", "-n", WORKS_NS),
        ("get", "secrets", "-n", NS),
        ("list", "works.work.kubefed.io", "-n", wk.cluster_namespace("member2")),
        ("list", "works.work.kubefed.io", "--all-namespaces"),
        ("list", "federatedconfigmaps.types.kubefed.io", "--all-namespaces"),
        ("get", "kubefedclusters.core.kubefed.io", "-n", NS),
        ("create", "works.work.kubefed.io", "-n", WORKS_NS),
        ("delete", "works.work.kubefed.io", "-n", WORKS_NS),
        ("create", "serviceaccounts/kubefed-agent-member2", "--subresource", "token", "-n", WORKS_NS),
        ("create", "serviceaccounts", "-n", WORKS_NS),
    ]
    for args in refused:
        assert not can_i(plane, *args), args
    own = f"serviceaccounts/{pa.agent_account('member1')}"
    assert can_i(plane, "create", own, "--subresource", "token", "-n", WORKS_NS)


def member_value(plane: Plane, cluster: str, ns: str, name: str) -> str | None:
    obj = plane.get_or_none(cluster, "v1", "ConfigMap", ns, name)
    return None if obj is None else str((obj.get("data") or {}).get("v"))


def test_crud_reaches_pull_and_push_members_alike(plane: Plane, agent: AgentProcess, ns: str) -> None:
    overrides = [{"clusterName": "member1", "clusterOverrides": [{"path": "/data/v", "value": "pulled"}]}]
    plane.host.create(federated("ConfigMap", ns, "cfg", {"data": {"v": "1"}}, overrides=overrides))
    dep_overrides = [{"clusterName": "member1", "clusterOverrides": [{"path": "/spec/replicas", "value": 3}]}]
    plane.host.create(federated("Deployment", ns, "web", deployment_template(1), overrides=dep_overrides))
    everywhere = {"host", "member1", "member2"}
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "cfg", everywhere), 60)
    eventually(lambda: propagated_ok(plane, "Deployment", ns, "web", everywhere), 60)
    assert member_value(plane, "member1", ns, "cfg") == "pulled"
    assert member_value(plane, "member2", ns, "cfg") == "1"
    assert plane.member("member1").get("apps/v1", "Deployment", ns, "web")["spec"]["replicas"] == 3
    assert plane.member("member2").get("apps/v1", "Deployment", ns, "web")["spec"]["replicas"] == 1
    # The same status shape as push: one entry per cluster, no code, a recorded version.
    clusters = status_of(plane, "ConfigMap", ns, "cfg")["clusters"]
    assert sorted(c["name"] for c in clusters) == sorted(everywhere)
    pv = plane.host.get(names.VERSIONS_API_VERSION, "PropagatedVersion", ns, "configmap-cfg")
    versions = {v["clusterName"]: v["version"] for v in pv["status"]["clusterVersions"]}
    assert set(versions) == everywhere
    live = plane.member("member1").get("v1", "ConfigMap", ns, "cfg")
    assert versions["member1"] == "rv:" + live["metadata"]["resourceVersion"]
    # status names the pull cluster in its own column only
    rows = json.loads(
        kubefed(
            plane.kubeconfig,
            "status",
            "configmaps",
            "cfg",
            "-n",
            ns,
            "-o",
            "json",
            "--context",
            plane.host_context,
        ).stdout
    )
    row = next(r for r in rows if r["name"] == "cfg")
    assert row["modes"] == {"host": "Push", "member1": "Pull", "member2": "Push"}

    update_retrying(
        plane.host,
        FED,
        "FederatedConfigMap",
        ns,
        "cfg",
        lambda f: f["spec"]["template"].update(data={"v": "2"}),
    )
    eventually(lambda: member_value(plane, "member2", ns, "cfg") == "2", 60)
    eventually(lambda: member_value(plane, "member1", ns, "cfg") == "pulled", 60)  # the override stays
    update_retrying(
        plane.host,
        FED,
        "FederatedConfigMap",
        ns,
        "cfg",
        lambda f: f["spec"].update(placement={"clusters": [{"name": "member2"}]}),
    )
    eventually(lambda: member_value(plane, "member1", ns, "cfg") is None, 60, what="removed from member1")
    assert member_value(plane, "member2", ns, "cfg") == "2"
    work_name = wk.work_name(wk_target("configmaps"), ns, "cfg")
    eventually(lambda: plane.get_or_none("host", names.WORK_API_VERSION, "Work", WORKS_NS, work_name) is None)

    plane.host.delete(FED, "FederatedDeployment", ns, "web")
    eventually(lambda: plane.get_or_none("member1", "apps/v1", "Deployment", ns, "web") is None, 60)
    eventually(lambda: plane.get_or_none("host", FED, "FederatedDeployment", ns, "web") is None, 60)


def wk_target(name: str) -> Any:
    from kubectl_kubefed.core import typeconfig as tc

    return tc.lookup(name)


def test_a_dead_agent_makes_its_cluster_not_ready_and_a_new_one_converges(
    plane: Plane, agent: AgentProcess, ns: str
) -> None:
    agent.stop(signal.SIGKILL)
    try:
        eventually(lambda: offline(plane, "member1").get("status") == "True", 90, what="member1 Offline")
        assert ready(plane, "member1").get("status") != "True"
        assert "the agent has not renewed its Lease" in offline(plane, "member1").get("message", "")
        # Meanwhile: member2 gets new objects, member1 waits (nothing is lost).
        for i in range(3):
            plane.host.create(federated("ConfigMap", ns, f"while-{i}", {"data": {"v": str(i)}}))
        eventually(lambda: all(member_value(plane, "member2", ns, f"while-{i}") for i in range(3)), 60)

        def waiting() -> bool:
            clusters = {
                c["name"]: c.get("status") for c in status_of(plane, "ConfigMap", ns, "while-0")["clusters"]
            }
            return clusters.get("member1") == "ClusterNotReady"

        eventually(waiting, 30)
        assert member_value(plane, "member1", ns, "while-0") is None
    finally:
        agent.start()
    eventually(lambda: ready(plane, "member1").get("status") == "True", 60, what="member1 Ready again")
    everywhere = {"host", "member1", "member2"}
    for i in range(3):
        eventually(lambda i=i: propagated_ok(plane, "ConfigMap", ns, f"while-{i}", everywhere), 60)
    items, _ = plane.member("member1").list("v1", "ConfigMap", ns, label_selector="kubefed.io/managed=true")
    assert sorted(o["metadata"]["name"] for o in items) == [f"while-{i}" for i in range(3)]


def test_a_changed_identity_stops_the_work(plane: Plane, agent: AgentProcess, ns: str) -> None:
    m1 = plane.member("member1")
    original = m1.get(identity.API_VERSION, identity.KIND, "", identity.ID_PROPERTY)["spec"]["value"]

    def set_id(value: str) -> None:
        update_retrying(
            m1,
            identity.API_VERSION,
            identity.KIND,
            "",
            identity.ID_PROPERTY,
            lambda p: p["spec"].update(value=value),
        )

    set_id("someone-else")
    try:

        def mismatch() -> bool:
            cond = ready(plane, "member1")
            assert cond.get("status") == "False" and cond.get("reason") == "ClusterIdentityMismatch"
            return "someone-else" in cond.get("message", "")

        eventually(mismatch, 90, what="ClusterIdentityMismatch")
        plane.host.create(federated("ConfigMap", ns, "after", {"data": {"v": "1"}}))
        eventually(lambda: member_value(plane, "member2", ns, "after") == "1", 60)
        work_name = wk.work_name(wk_target("configmaps"), ns, "after")
        assert plane.get_or_none("host", names.WORK_API_VERSION, "Work", WORKS_NS, work_name) is None
        assert member_value(plane, "member1", ns, "after") is None
    finally:
        set_id(original)
    eventually(lambda: ready(plane, "member1").get("status") == "True", 90, what="member1 Ready again")
    eventually(lambda: member_value(plane, "member1", ns, "after") == "1", 60)


def test_unjoin_removes_both_sides_and_push_rejoins(plane: Plane, agent: AgentProcess) -> None:
    agent.stop()
    kubefed(
        plane.kubeconfig,
        "unjoin",
        "member1",
        "--cluster-context",
        "member1",
        "--host-cluster-context",
        plane.host_context,
    )

    def gone() -> bool:
        try:
            plane.host.get("v1", "Namespace", "", WORKS_NS)
        except NotFound:
            return True
        return False

    eventually(gone, 60, what=f"namespace {WORKS_NS} gone")
    assert plane.get_or_none("member1", "v1", "Secret", NS, pa.HOST_SECRET) is None
    assert plane.get_or_none("member1", "apps/v1", "Deployment", NS, pa.AGENT_DEPLOYMENT) is None
    assert (
        plane.get_or_none("host", names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, NS, "member1") is None
    )
    # The module fixture rejoins member1 in push mode when it ends.
