"""Migration from KubeFed (docs/migrate.md) on a test bed of its own: KubeFed v0.10.0's
controller-manager (``hack/testbin.sh kubefed``) with the CRDs of its chart populates a
member, is stopped, ours takes over, then KubeFed takes the host back. The member API
server's audit log counts every write the federation identity makes.

Expected: ours writes only what docs/deviations.md announces (template annotations KubeFed
dropped now reach the member: one update), leaves the host status of every federated object
alone (KubeFed's CRDs have no ``message``), updates PropagatedVersions in place, and waits
for KubeFed's ConfigMap lock to expire before leading; KubeFed, back, writes nothing but
the change made meanwhile.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import client_for_context
from kubectl_kubefed.sync.settings import Settings, kubefed_config_object
from tests.e2e import testbed
from tests.e2e.conftest import REQUIRED, Controller, _free_port, eventually, kubefed, metric, update_retrying

pytestmark = pytest.mark.e2e

NS = "kube-federation-system"
APP = "mig"
FED = "types.kubefed.io/v1beta1"
KUBEFED = testbed.BIN / "kubefed-controller-manager"
FEDERATION_USER = f"system:serviceaccount:{NS}:"  # the joined member identity, KubeFed's and ours
WRITES = ("create", "update", "patch", "delete", "deletecollection")
PROPAGATED = (
    ("ConfigMap", "plain"),
    ("ConfigMap", "annotated"),
    ("Deployment", "web"),
    ("Deployment", "annotated"),
)


def _chart_crds() -> list[Path]:
    """KubeFed's CRDs from its chart in the module zip (read here, never committed)."""
    res = subprocess.run(
        ["go", "mod", "download", "-json", "sigs.k8s.io/kubefed@v0.10.0"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd="/",
        env={**os.environ, "GOFLAGS": ""},
    )
    if res.returncode != 0:
        raise AssertionError(f"go mod download sigs.k8s.io/kubefed@v0.10.0: {res.stderr or res.stdout}")
    chart = Path(json.loads(res.stdout)["Dir"]) / "charts" / "kubefed"
    return [chart / "charts" / "controllermanager" / "crds" / "crds.yaml", chart / "crds" / "crds.yaml"]


@pytest.fixture(scope="module")
def kubefed_bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[testbed.TestBed]:
    if os.environ.get("KUBEFED_E2E_KUBECONFIG"):
        pytest.skip("needs the local test bed (KubeFed's CRDs replace ours on the host)")
    missing = testbed.missing_binaries()
    if not KUBEFED.exists():
        missing.append("kubefed-controller-manager")
    if missing or shutil.which("go") is None:
        message = f"missing {', '.join(missing) or 'go'}: run `make testbin`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    bed = testbed.start(tmp_path_factory.mktemp("migrate-bed"), names=("host", "member1"), audit=True)
    yield bed
    bed.stop()


def _kubectl(kubeconfig: Path, *args: str) -> None:
    res = subprocess.run(
        ["kubectl", "--kubeconfig", str(kubeconfig), "--context", "host", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if res.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {res.stderr}")


def _lock_record(host: KubeClusterClient) -> dict[str, Any]:
    """The leader record KubeFed (and ours beside its Lease) keeps in a ConfigMap annotation."""
    items, _ = host.list("v1", "ConfigMap", NS)
    for cm in items:
        record = (cm["metadata"].get("annotations") or {}).get("control-plane.alpha.kubernetes.io/leader")
        if record:
            parsed: dict[str, Any] = json.loads(record)
            return parsed
    raise AssertionError(f"no leader ConfigMap in {NS}")


def _seconds(timestamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


class KubeFedProcess:
    def __init__(self, bed: testbed.TestBed, log: Path) -> None:
        self.bed, self.log = bed, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [
                    str(KUBEFED),
                    "--kubeconfig",
                    str(self.bed.clusters["host"].directory / "admin.kubeconfig"),
                    "--kubefed-namespace",
                    NS,
                    f"--healthz-addr=127.0.0.1:{_free_port()}",
                    f"--metrics-addr=127.0.0.1:{_free_port()}",
                    "-v=2",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def leads(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"KubeFed's controller-manager exited: {self.log.read_text()[-3000:]}")
        return "successfully acquired lease" in self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _fed(kind: str, name: str, template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": FED,
        "kind": f"Federated{kind}",
        "metadata": {"name": name, "namespace": APP},
        "spec": {"template": template, "placement": {"clusters": [{"name": "member1"}]}, **spec},
    }


def _deployment(name: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    labels = {"app": name}
    meta: dict[str, Any] = {"labels": labels}
    if annotations:
        meta["annotations"] = annotations
    return _fed(
        "Deployment",
        name,
        {
            "metadata": meta,
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c", "image": "registry.invalid/web:1"}]},
                },
            },
        },
    )


def _objects() -> list[dict[str, Any]]:
    return [
        _fed(
            "ConfigMap",
            "plain",
            {"data": {"v": "1"}},
            overrides=[
                {
                    "clusterName": "member1",
                    "clusterOverrides": [{"op": "add", "path": "/data/extra", "value": "x"}],
                }
            ],
        ),
        # KubeFed dropped the template's annotations. A ConfigMap is versioned by its
        # resourceVersion, so ours sees it current and leaves it until the template changes.
        _fed(
            "ConfigMap",
            "annotated",
            {"metadata": {"annotations": {"example.com/a": "1"}}, "data": {"v": "1"}},
        ),
        _fed("ConfigMap", "refused", {"data": {"v": "1"}}),  # the member's copy says managed: "false"
        _deployment("web"),
        # A Deployment's metadata is compared (generation-versioned): ours adds the annotation.
        _deployment("annotated", {"example.com/a": "1"}),
    ]


def _federation_writes(cluster: testbed.Cluster, after: int) -> tuple[list[tuple[str, str, str]], list[str]]:
    """Writes the federation identity made (verb, resource, name), and those the API server
    refused (KubeFed's algorithm tries to create what its cache of managed objects lacks,
    e.g. an object labelled ``kubefed.io/managed: "false"``, at every reconcile)."""
    done, refused = [], []
    for event in cluster.audit_events()[after:]:
        user = str((event.get("user") or {}).get("username", ""))
        ref: dict[str, str] = event.get("objectRef") or {}
        if not user.startswith(FEDERATION_USER) or event.get("verb") not in WRITES:
            continue
        sub = f"/{ref['subresource']}" if ref.get("subresource") else ""
        write = (str(event["verb"]), f"{ref.get('resource')}{sub}", str(ref.get("name")))
        code = int((event.get("responseStatus") or {}).get("code") or 0)
        if code < 400:
            done.append(write)
        else:
            refused.append(f"{' '.join(write)} {code}")
    return done, refused


def _propagated(host: KubeClusterClient, member: KubeClusterClient) -> bool:
    for kind, name in PROPAGATED:
        api = "apps/v1" if kind == "Deployment" else "v1"
        obj = member.get(api, kind, APP, name)
        assert obj["metadata"]["labels"]["kubefed.io/managed"] == "true"
    assert member.get("v1", "ConfigMap", APP, "plain")["data"] == {"v": "1", "extra": "x"}
    for kind, name in PROPAGATED:
        pv = host.get("core.kubefed.io/v1alpha1", "PropagatedVersion", APP, f"{kind.lower()}-{name}")
        assert pv["status"]["clusterVersions"][0]["clusterName"] == "member1"
    refused = host.get(FED, "FederatedConfigMap", APP, "refused")
    assert refused["status"]["clusters"] == [{"name": "member1", "status": "ManagedLabelFalse"}]
    return True


def _reconciles(metrics: str) -> float:
    return sum(float(m) for m in re.findall(r"^kubefed_reconciles_total\{[^}]*\} (\S+)$", metrics, re.M))


def test_kubefed_host_taken_over_and_back_without_member_writes(
    kubefed_bed: testbed.TestBed, tmp_path: Path
) -> None:
    bed = kubefed_bed
    kubeconfig = bed.kubeconfig
    host = client_for_context(str(kubeconfig), "host", name="host")
    member = client_for_context(str(kubeconfig), "member1", name="member1")
    # -- a KubeFed host: its chart's CRDs, a KubeFedConfig, FTCs, a member -------------------
    for crds in _chart_crds():
        _kubectl(kubeconfig, "apply", "--server-side", "-f", str(crds))
    _kubectl(kubeconfig, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
    host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    config = kubefed_config_object(Settings(namespace=NS, available_delay=2, unavailable_delay=2))
    config["spec"]["clusterHealthCheck"]["period"] = "2s"
    host.create(config)
    for name in ("namespaces", "configmaps", "deployments.apps"):
        ftc = tc.type_config_object(tc.lookup(name), NS)
        ftc["spec"].pop("statusCollection", None)  # KubeFed's chart sets none (ours: workloads collect)
        host.create(ftc)
    # kubefedctl join's rights: a wildcard role and a non-expiring token
    kubefed(
        str(kubeconfig),
        "join",
        "member1",
        "--host-cluster-context",
        "host",
        "--rbac",
        "admin",
        "--legacy-token",
    )
    kubefed_cm = KubeFedProcess(bed, tmp_path / "kubefed-controller-manager.log")
    kubefed_cm.start()
    try:
        eventually(kubefed_cm.leads, 60, what="KubeFed leading")
        host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP}})
        member.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": APP}})
        member.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "refused", "namespace": APP, "labels": {"kubefed.io/managed": "false"}},
            }
        )
        host.create(
            {
                "apiVersion": FED,
                "kind": "FederatedNamespace",
                "metadata": {"name": APP, "namespace": APP},
                "spec": {"placement": {"clusters": [{"name": "member1"}]}},
            }
        )
        for obj in _objects():
            host.create(obj)
        eventually(lambda: _propagated(host, member), 90, interval=1, what="KubeFed populating member1")
        time.sleep(12)  # KubeFed's re-enqueues after its own writes (10 s) are done
    finally:
        kubefed_cm.stop()
    # -- ours takes over -----------------------------------------------------------------------
    member_mark = len(bed.clusters["member1"].audit_events())
    host_mark = len(bed.clusters["host"].audit_events())
    feds = [("FederatedNamespace", APP), *((o["kind"], o["metadata"]["name"]) for o in _objects())]
    versions = {f: host.get(FED, f[0], APP, f[1])["metadata"]["resourceVersion"] for f in feds}
    kubefed_record = _lock_record(host)
    ours = Controller(str(kubeconfig), "host", tmp_path)
    _, port = ours.start("ours")
    try:
        eventually(lambda: metric(ours.get(port, "/metrics"), "kubefed_leader") == 1, 60, what="ours leading")
        # KubeFed's ConfigMap lock was not released: ours led only once it had gone unrenewed
        # for its lease duration (wall clock of one machine; the lock records whole seconds).
        waited = time.time() - _seconds(kubefed_record["renewTime"])
        assert waited >= kubefed_record["leaseDurationSeconds"] - 1, (kubefed_record, waited)
        eventually(lambda: _reconciles(ours.get(port, "/metrics")) >= 5, 60, what="ours reconciling")
        # (the member's deployment controller annotates it too: wait for ours, not for any)
        eventually(
            lambda: (
                (
                    member.get("apps/v1", "Deployment", APP, "annotated")["metadata"].get("annotations") or {}
                ).get("example.com/a")
                == "1"
            ),
            60,
            what="the template annotation KubeFed dropped",
        )
        time.sleep(12)  # past the member-event delay: any follow-up reconcile has run
        writes, refused = _federation_writes(bed.clusters["member1"], member_mark)
        # The one write docs/deviations.md announces; nothing else.
        assert writes == [("update", "deployments", "annotated")], writes
        assert set(refused) <= {"create configmaps refused 409"}, refused
        assert "annotations" not in member.get("v1", "ConfigMap", APP, "annotated")["metadata"]
        host_writes = [
            (e["verb"], e["objectRef"]["resource"], e["objectRef"].get("subresource", ""))
            for e in bed.clusters["host"].audit_events()[host_mark:]
            if e.get("verb") in WRITES
        ]
        assert ("create", "propagatedversions", "") not in host_writes, host_writes
        for f, rv in versions.items():  # no status rewrites, no finalizer churn
            assert host.get(FED, f[0], APP, f[1])["metadata"]["resourceVersion"] == rv, f
        refused_status = host.get(FED, "FederatedConfigMap", APP, "refused")["status"]
        assert refused_status["clusters"] == [{"name": "member1", "status": "ManagedLabelFalse"}]
    finally:
        ours.stop_all()
    # -- and back: KubeFed leads at once (ours released both locks), writes only the change --
    member_mark = len(bed.clusters["member1"].audit_events())
    kubefed_cm.log = tmp_path / "kubefed-controller-manager-back.log"
    kubefed_cm.start()
    try:
        eventually(kubefed_cm.leads, 20, what="KubeFed leading again")
        time.sleep(5)  # KubeFed's first pass over every object
        update_retrying(
            host,
            FED,
            "FederatedConfigMap",
            APP,
            "plain",
            lambda o: o["spec"]["template"].update(data={"v": "2"}),
        )
        eventually(
            lambda: member.get("v1", "ConfigMap", APP, "plain")["data"]["v"] == "2",
            60,
            what="KubeFed propagating",
        )
        time.sleep(12)
        writes, refused = _federation_writes(bed.clusters["member1"], member_mark)
        assert writes == [("update", "configmaps", "plain")], writes
        assert set(refused) <= {"create configmaps refused 409"}, refused
    finally:
        kubefed_cm.stop()
