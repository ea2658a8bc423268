"""Against the real test bed: N FederatedConfigMaps (default 1,000) x 2 members.

Prints one JSON object: propagation throughput compared with a plain client creating the
same objects directly in the members (a ratio from the same run), template-to-member
latency p50/p90/p99 (from each federated object's creation to its appearance in a member,
seen by a watch), API requests per propagated object, and the controller's peak RSS.
Needs .testbin/bin (``make testbin``). Usage: bench_real.py [N] [--mode pull]

``--mode pull``: member1 is a pull cluster served by ``kubectl kubefed agent`` (a local
process), member2 stays push; the same objects go to both in the same run, and the figures
are per member: throughput (pull vs push ratio), latency p50/p99, host writes per object
propagated to the pull member (Works and their status, from the host's audit log), and the
agent's peak RSS.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.core import pullaccess as pa
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.kube import controlplane
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import ClientOptions, client_for_context
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.settings import Settings
from tests.e2e import setup, testbed

BIN = Path(sys.executable).parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--mode")]
    pull = "--mode" in sys.argv[1:] and sys.argv[sys.argv.index("--mode") + 1] == "pull"
    args = [a for a in args if a != "pull"]
    n = int(args[0]) if args else 1000
    workdir = Path(tempfile.mkdtemp(prefix="kubefed-bench-"))
    bed = testbed.start(workdir, audit=pull, apf=True)  # APF on, as real clusters run
    try:
        run(bed, n, pull=pull)
    finally:
        bed.stop()
        if not os.environ.get("BENCH_KEEP"):  # etcd data and logs: hundreds of MB per run
            shutil.rmtree(workdir, ignore_errors=True)


def host_kubeconfig(bed: testbed.TestBed, path: Path) -> str:
    """The host's admin kubeconfig alone, for the agent's --host-kubeconfig."""
    host = bed.clusters["host"]
    text = pa.host_kubeconfig(host.server, host.ca_file.read_text(), host.token)
    path.write_text(text)
    return str(path)


def control_plane(
    bed: testbed.TestBed, options: ClientOptions
) -> tuple[KubeClusterClient, dict[str, KubeClusterClient]]:
    """The host and member clients: the control plane ``init`` would make (its KubeFedConfig,
    namespaces and configmaps enabled), both members joined, and the namespaces ``bench``
    (federated objects) and ``direct`` (the plain client's) everywhere."""
    kc = str(bed.kubeconfig)
    host = client_for_context(kc, "host", options, name="host")
    setup.install_control_plane(host, Settings(max_concurrent_reconciles=controlplane.INIT_WORKERS))
    for t in ("namespaces", "configmaps"):
        setup.enable(host, t)
    members = {m: client_for_context(kc, m, options, name=m) for m in ("member1", "member2")}
    for name in members:
        c = bed.clusters[name]
        setup.join(host, name, c.server, c.ca_file.read_bytes(), c.token)
    for client in (host, *members.values()):
        for ns in ("bench", "direct"):
            client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    return host, members


def watch_configmaps(
    members: dict[str, KubeClusterClient], handler: Callable[[str], Callable[[str, Any], None]]
) -> list[Informer]:
    """The members' ConfigMaps in ``bench``, seen through informers: a watch that ends (its
    timeout, a slow consumer) is resumed and, when its version is gone, re-listed, so no
    object is missed (a re-listed one is seen late, never lost)."""
    informers = []
    for name, member in members.items():
        informer = Informer(member, "v1", "ConfigMap", namespace="bench", on_event=handler(name))
        if not informer.start():
            raise RuntimeError(f"watching {name}: {informer.error}")
        informers.append(informer)
    return informers


def py_spy(pid: int, output: str, *options: str) -> None:
    """Profile ``pid`` with py-spy (this environment's: a venv need not be on PATH) into
    ``output``, raw stack counts, in the background until it stops or ``-d`` runs out."""
    command = str(Path(sys.executable).parent / "py-spy")
    subprocess.Popen(
        [command, "record", *options, "-p", str(pid), "-o", output, "-f", "raw"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def plain_creates_per_s(members: dict[str, KubeClusterClient], n: int) -> float:
    """The baseline: a plain client creating the same N ConfigMaps directly in every member."""
    start = time.perf_counter()
    for i in range(n):
        for member in members.values():
            member.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i}", "namespace": "direct"},
                    "data": {"k": f"v{i}"},
                }
            )
    return len(members) * n / (time.perf_counter() - start)


def run(bed: testbed.TestBed, n: int, *, pull: bool = False) -> None:
    kc = str(bed.kubeconfig)
    # Unthrottled: measure the system, not a limiter.
    host, members = control_plane(bed, ClientOptions(qps=0, burst=1, timeout=30))
    agent: subprocess.Popen[bytes] | None = None
    if pull:
        c = bed.clusters["member1"]
        host.create(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": wk.cluster_namespace("member1")}}
        )
        kfc = host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, setup.NS, "member1")
        kfc["spec"] = {"apiEndpoint": c.server, "syncMode": names.SYNC_MODE_PULL}
        host.update(kfc)
        agent = subprocess.Popen(
            [
                str(BIN / "kubectl-kubefed"),
                "agent",
                "--cluster-name",
                "member1",
                "--kubeconfig",
                kc,
                "--context",
                "member1",
                "--host-kubeconfig",
                host_kubeconfig(bed, bed.directory / "agent-host.kubeconfig"),
                "--qps",
                "0",
                "--workers",
                "8",
            ],
            stdout=open(bed.directory / "agent.log", "wb"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
        )
    direct_per_s = plain_creates_per_s(members, n)

    seen: dict[tuple[str, str], float] = {}
    done = threading.Event()

    def watcher(cluster: str) -> Any:
        def handle(event_type: str, obj: Any) -> None:
            if event_type == "ADDED" and obj["metadata"]["name"].startswith("cm-"):
                seen.setdefault((cluster, obj["metadata"]["name"]), time.perf_counter())
                if len(seen) >= 2 * n:
                    done.set()

        return handle

    watches = watch_configmaps(members, watcher)
    log = open(bed.directory / "controller.log", "wb")  # noqa: SIM115
    port = testbed._free_port()
    proc = subprocess.Popen(
        [
            str(BIN / "kubectl-kubefed"),
            "controller",
            "--kubeconfig",
            kc,
            "--host-cluster-context",
            "host",
            "--metrics-bind-address",
            f"127.0.0.1:{port}",
            *("--health-probe-bind-address", "0"),
            "--no-leader-elect",
            "--member-qps",
            "0",
            "--host-qps",
            "0",
            "--workers",
            "8",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        host.create(
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedNamespace",
                "metadata": {"name": "bench", "namespace": "bench"},
                "spec": {"placement": {"clusterSelector": {}}},
            }
        )
        time.sleep(3)  # let the controller start and federate the namespace
        profile = os.environ.get("BENCH_PROFILE")
        if profile:
            py_spy(proc.pid, profile, "-d", "25", "--threads")
        created: dict[str, float] = {}
        start = time.perf_counter()
        for i in range(n):
            created[f"cm-{i}"] = time.perf_counter()
            host.create(
                {
                    "apiVersion": "types.kubefed.io/v1beta1",
                    "kind": "FederatedConfigMap",
                    "metadata": {"name": f"cm-{i}", "namespace": "bench"},
                    "spec": {"template": {"data": {"k": f"v{i}"}}, "placement": {"clusterSelector": {}}},
                }
            )
        done.wait(timeout=600)
        federated_s = max(seen.values()) - start if seen else float("inf")
        latencies = [seen[(c, name)] - t for name, t in created.items() for c in members if (c, name) in seen]
        time.sleep(2)
        rss = peak_rss_mb(proc.pid)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
        controller_requests = sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("kubefed_member_requests_total{")
        )
        agent_rss = peak_rss_mb(agent.pid) if agent is not None else 0.0
    finally:
        for w in watches:
            w.stop()
        proc.terminate()
        proc.wait(timeout=20)
        if agent is not None:
            agent.terminate()
            agent.wait(timeout=20)
    if pull:
        print(json.dumps(pull_figures(bed, n, start, created, seen, members, agent_rss), indent=2))
        return
    figures = {
        "federated_objects": n,
        "members": 2,
        "propagated": len(seen),
        "direct_creates_per_s": round(direct_per_s, 1),
        "federated_member_objects_per_s": round(len(seen) / federated_s, 1),
        "throughput_ratio_federated_vs_direct": round((len(seen) / federated_s) / direct_per_s, 3),
        "latency_p50_s": round(percentile(latencies, 50), 3),
        "latency_p90_s": round(percentile(latencies, 90), 3),
        "latency_p99_s": round(percentile(latencies, 99), 3),
        "latency_mean_s": round(statistics.mean(latencies), 3),
        "controller_peak_rss_mb": rss,
        "member_requests_per_propagated_object": round(controller_requests / max(1, len(seen)), 3),
        "client_rate_limits": "none (--member-qps 0 --host-qps 0); defaults are member 20/30, host 100/200",
    }
    print(json.dumps(figures, indent=2))


def pull_figures(
    bed: testbed.TestBed,
    n: int,
    start: float,
    created: dict[str, float],
    seen: dict[tuple[str, str], float],
    members: dict[str, Any],
    agent_rss: float,
) -> dict[str, Any]:
    per: dict[str, dict[str, float]] = {}
    for cluster, mode in (("member1", "pull"), ("member2", "push")):
        times = [t for (c, _), t in seen.items() if c == cluster]
        lat = [seen[(cluster, name)] - t for name, t in created.items() if (cluster, name) in seen]
        span = (max(times) - start) if times else float("inf")
        per[mode] = {
            "propagated": len(times),
            "member_objects_per_s": round(len(times) / span, 1),
            "latency_p50_s": round(percentile(lat, 50), 3) if lat else -1,
            "latency_p99_s": round(percentile(lat, 99), 3) if lat else -1,
        }
    work_writes = [
        e
        for e in bed.clusters["host"].audit_events()
        if (e.get("objectRef") or {}).get("resource") == "works"
        and e.get("verb") in ("create", "update", "patch")
    ]
    return {
        "federated_objects": n,
        "pull": per["pull"],
        "push": per["push"],
        "throughput_ratio_pull_vs_push": round(
            per["pull"]["member_objects_per_s"] / max(per["push"]["member_objects_per_s"], 1e-9), 3
        ),
        "host_work_writes_per_pull_object": round(len(work_writes) / max(1, per["pull"]["propagated"]), 3),
        "agent_peak_rss_mb": agent_rss,
        "client_rate_limits": "none (controller --member-qps 0 --host-qps 0, agent --qps 0)",
    }


if __name__ == "__main__":
    main()
