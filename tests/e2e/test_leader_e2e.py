"""Leader election that cannot split, on a test bed of its own (host + member1, audit logs
on): two controller replicas; the leader is frozen (SIGSTOP) past its lease while it has
work in flight, the standby takes over and writes; the old leader resumed (SIGCONT) must
send no write at all, to the member or to the host, and exit. Writes are attributed to a
replica by the User-Agent its clients send (``kubectl-kubefed/<identity>``), as the API
servers' audit logs record it. Then SIGTERM: the leader releases the lease and exits 0,
and a standby takes over at once instead of after a lease duration.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import client_for_context
from tests.e2e import testbed
from tests.e2e.conftest import REQUIRED, Controller, eventually, kubefed, update_retrying
from tests.e2e.test_propagation_e2e import FED, federated

pytestmark = pytest.mark.e2e

NS = "kube-federation-system"
APP = "leader-e2e"
LEASE = ("coordination.k8s.io/v1", "Lease", NS, "kubefed-controller-manager")
LEASE_SECONDS = 8.0  # short, so the test waits seconds, not minutes
# What the API server answers a request whose headers left before a freeze and whose body
# the fence then refused (the connection is closed): nothing of it was applied.
CUT_OFF = "unexpected EOF"
WRITES = ("create", "update", "patch", "delete", "deletecollection")


class Bed:
    def __init__(self, bed: testbed.TestBed, host: KubeClusterClient, member: KubeClusterClient) -> None:
        self.bed, self.host, self.member = bed, host, member

    def holder(self) -> str:
        return str((self.host.get(*LEASE).get("spec") or {}).get("holderIdentity") or "")

    def marks(self) -> dict[str, int]:
        return {name: len(c.audit_events()) for name, c in self.bed.clusters.items()}

    def writes_by(
        self, identity: str, since: dict[str, int], received_after: datetime | None = None
    ) -> list[tuple[str, str, str, str]]:
        """(cluster, verb, resource, name) of every write ``identity`` sent after ``since``
        (audit log positions) and, if given, received by the API server after
        ``received_after``, not counting requests cut off before their body."""
        agent = f"kubectl-kubefed/{identity}"
        found = []
        for name, cluster in self.bed.clusters.items():
            for event in cluster.audit_events()[since[name] :]:
                if not str(event.get("userAgent", "")).startswith(agent) or event.get("verb") not in WRITES:
                    continue
                received = datetime.fromisoformat(
                    str(event["requestReceivedTimestamp"]).replace("Z", "+00:00")
                )
                if received_after is not None and received <= received_after:
                    continue
                if (event.get("responseStatus") or {}).get("message") == CUT_OFF:
                    continue  # the fence refused its body: the server applied nothing
                ref: dict[str, str] = event.get("objectRef") or {}
                found.append((name, str(event["verb"]), ref.get("resource", ""), ref.get("name", "")))
        return found


@pytest.fixture(scope="module")
def leader_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bed]:
    if os.environ.get("KUBEFED_E2E_KUBECONFIG"):
        pytest.skip("needs the local test bed (its API servers' audit logs)")
    missing = testbed.missing_binaries()
    if missing:
        message = f"e2e binaries missing ({', '.join(missing)}): run `make testbin`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    bed = testbed.start(tmp_path_factory.mktemp("leader-bed"), names=("host", "member1"), audit=True)
    try:
        kubeconfig = str(bed.kubeconfig)
        host = client_for_context(kubeconfig, "host", name="host")
        kubefed(kubeconfig, "init", "--host-cluster-context", "host")

        def short(config: dict[str, Any]) -> None:
            config["spec"]["clusterHealthCheck"]["period"] = "2s"
            config["spec"]["leaderElect"].update(
                leaseDuration=f"{LEASE_SECONDS:g}s", renewDeadline="6s", retryPeriod="1s"
            )

        update_retrying(host, "core.kubefed.io/v1beta1", "KubeFedConfig", NS, "kubefed", short)
        kubefed(
            kubeconfig, "join", "member1", "--cluster-context", "member1", "--host-cluster-context", "host"
        )
        host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP}})
        host.create(
            {
                "apiVersion": FED,
                "kind": "FederatedNamespace",
                "metadata": {"name": APP, "namespace": APP},
                "spec": {"placement": {"clusterSelector": {}}},
            }
        )
        yield Bed(bed, host, client_for_context(kubeconfig, "member1", name="member1"))
    finally:
        bed.stop()


def _controller(bed: Bed, tmp_path_factory: pytest.TempPathFactory) -> Controller:
    return Controller(str(bed.bed.kubeconfig), "host", tmp_path_factory.mktemp("leader-controllers"))


def _exit_code(proc: subprocess.Popen[bytes], timeout: float) -> int | None:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


def test_a_leader_frozen_past_its_lease_never_writes_again(
    leader_bed: Bed, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bed = leader_bed
    ctl = _controller(bed, tmp_path_factory)
    try:
        old, _ = ctl.start("replica-a")
        eventually(lambda: bed.holder() == "replica-a", 60, what="replica-a leads")
        ctl.start("replica-b")
        bed.host.create(federated("ConfigMap", APP, "before", {"data": {"v": "1"}}))
        eventually(lambda: bed.member.get("v1", "ConfigMap", APP, "before"), 60, what="replica-a propagates")
        assert bed.writes_by("replica-a", dict.fromkeys(bed.bed.clusters, 0))  # attribution works
        assert not bed.writes_by("replica-b", dict.fromkeys(bed.bed.clusters, 0))  # a standby writes nothing

        # Work in flight when the leader freezes: frozen at its first member write of the
        # batch, its workers resume mid-reconcile, their next step a write.
        start = bed.marks()
        for i in range(40):
            bed.host.create(federated("ConfigMap", APP, f"bulk-{i}", {"data": {"n": str(i)}}))
        eventually(
            lambda: any(
                n.startswith("bulk-") for c, _, _, n in bed.writes_by("replica-a", start) if c == "member1"
            ),
            30,
            interval=0.02,
            what="replica-a propagating the batch",
        )
        old.send_signal(signal.SIGSTOP)
        try:
            eventually(lambda: bed.holder() == "replica-b", 60, interval=0.5, what="replica-b takes over")
            takeover = bed.marks()
            update_retrying(
                bed.host,
                FED,
                "FederatedConfigMap",
                APP,
                "before",
                lambda f: f["spec"]["template"].update(data={"v": "2"}),
            )
            bed.host.create(federated("ConfigMap", APP, "after", {"data": {"v": "1"}}))
            eventually(
                lambda: (
                    bed.member.get("v1", "ConfigMap", APP, "before")["data"] == {"v": "2"}
                    and bed.member.get("v1", "ConfigMap", APP, "after")
                ),
                60,
                what="replica-b propagates",
            )
            assert any(c == "member1" for c, *_ in bed.writes_by("replica-b", takeover))
        finally:
            # A request the old leader sent just before it froze may be read by a loaded API
            # server, and logged, after the takeover; what it sends once resumed is what must
            # not exist, so writes are judged by when the server received them.
            resumed = datetime.now(UTC)
            old.send_signal(signal.SIGCONT)
        code = _exit_code(old, 20)
        assert code == 1, f"the resumed old leader should have exited 1, not {code}"
        time.sleep(2)  # what it might still have sent would be in the logs by now
        assert bed.writes_by("replica-a", takeover, received_after=resumed) == []  # member or host
        assert bed.holder() == "replica-b"
        wanted = {f"bulk-{i}" for i in range(40)}  # the new leader finished the frozen one's work
        eventually(
            lambda: wanted <= {o["metadata"]["name"] for o in bed.member.list("v1", "ConfigMap", APP)[0]},
            60,
            what="the whole batch on member1",
        )
    finally:
        ctl.stop_all(signal.SIGKILL)


def test_sigterm_releases_the_lease_and_a_standby_takes_over_at_once(
    leader_bed: Bed, tmp_path_factory: pytest.TempPathFactory
) -> None:
    bed = leader_bed
    ctl = _controller(bed, tmp_path_factory)
    try:
        leader, _ = ctl.start("replica-c")
        eventually(lambda: bed.holder() == "replica-c", 60, what="replica-c leads")
        ctl.start("replica-d")
        time.sleep(2)  # replica-d has seen the lease renewed
        assert bed.holder() == "replica-c"
        leader.send_signal(signal.SIGTERM)
        began = time.monotonic()
        eventually(lambda: bed.holder() == "replica-d", 30, interval=0.2, what="replica-d takes over")
        # A released lease is taken within a retry period or so, not after a lease duration.
        assert time.monotonic() - began < LEASE_SECONDS
        assert _exit_code(leader, 20) == 0
        bed.host.create(federated("ConfigMap", APP, "after-sigterm", {"data": {"v": "1"}}))
        eventually(lambda: bed.member.get("v1", "ConfigMap", APP, "after-sigterm"), 60)
    finally:
        ctl.stop_all()
