"""KubeFed v0.10.0's controller-manager against ours, on the same kind of fresh test bed.

Issue 16, goal 6: the anchor every performance change is judged against, in one run.
Each run starts a fresh test bed (host + member1 + member2, every API request in each API
server's audit log), installs the control plane with the project's own helpers (the
KubeFed-compatible CRDs, KubeFedConfig, FederatedTypeConfigs, KubeFedClusters of
``kubectl kubefed init/enable/join``), measures a plain client creating the same objects
directly in the members (the baseline of the same run), then runs one controller with its
DEFAULT flags (ours: ``kubectl-kubefed controller`` without --member-qps/--host-qps/--workers;
KubeFed: ``kubefed-controller-manager`` as its chart starts it, default flags) on:

- ``backlog``: N FederatedConfigMaps already on the host when the controller starts; the
  time from the controller's start to the last member object (and from the first).
- ``stream``: the controller running (a warm-up object propagated), N objects created one
  by one at --rate per second; template-to-member latency p50/p99 from watches on the members.

Runs are interleaved (kubefed, ours, kubefed, ours ... per mode). Figures per run: member
objects/s and the ratio to the plain client, latency, host requests and host writes per
federated object (the host's audit log, attributed by user agent: ours sends
``kubectl-kubefed/<identity>``, KubeFed ``kubefed-controller-manager/<version> ...``),
member requests per member object, the controller's CPU seconds and peak RSS, and member
writes in the 10 s after convergence. ``summary`` holds medians per controller and the
ratio ours/KubeFed per figure.

Needs .testbin/bin (``make testbin``; KubeFed's binary is built by ``hack/testbin.sh kubefed``
when missing). Test beds are heavy: run under the shared lock, e.g.
``flock /tmp/testbed.lock env PYTHONPATH=. .venv/bin/python benchmarks/bench_kubefed.py --n 1000``.
``BENCH_KEEP=1`` keeps each bed's directory (logs, audit logs).

Usage: bench_kubefed.py [--n N] [--runs R] [--modes backlog,stream] [--controllers kubefed,ours]
                        [--rate PER_S] [--timeout S]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the project's packages
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_real import control_plane, plain_creates_per_s, py_spy, watch_configmaps  # noqa: E402
from kubectl_kubefed.kube.members import ClientOptions  # noqa: E402
from tests.e2e import setup, testbed  # noqa: E402

BIN = Path(sys.executable).parent
KUBEFED = testbed.BIN / "kubefed-controller-manager"
FED = "types.kubefed.io/v1beta1"
NS = setup.NS
WRITES = frozenset(("create", "update", "patch", "delete", "deletecollection"))
# Every request, at Metadata level (who, what), once answered: reads count too.
AUDIT_ALL = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
- level: Metadata
"""
BENCH_AGENT = "kubefed-bench"  # the benchmark's own clients (setup, baseline, objects, watches)
USER_AGENTS = {  # how each controller's requests are told apart in the audit logs
    "ours": "kubectl-kubefed/",
    "kubefed": "kubefed-controller-manager/",  # client-go: binary name/version (os/arch) ...
}
IDLE_SECONDS = 10.0


# -- pure helpers (tests/unit/test_bench_kubefed.py) ------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def audit_time(event: dict[str, Any]) -> float:
    """When the API server answered (epoch seconds), from an audit event."""
    stamp = str(event.get("stageTimestamp") or event.get("requestReceivedTimestamp") or "")
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() if stamp else 0.0


def controller_requests(
    events: Iterable[dict[str, Any]],
    agent_prefix: str,
    *,
    writes_only: bool = False,
    since: float | None = None,
    until: float | None = None,
) -> list[dict[str, Any]]:
    """The audit events of requests whose user agent starts with ``agent_prefix``
    (optionally writes only, optionally answered within [since, until])."""
    out = []
    for e in events:
        if not str(e.get("userAgent", "")).startswith(agent_prefix):
            continue
        if writes_only and e.get("verb") not in WRITES:
            continue
        if since is not None or until is not None:
            t = audit_time(e)
            if (since is not None and t < since) or (until is not None and t > until):
                continue
        out.append(e)
    return out


def breakdown(events: Iterable[dict[str, Any]], *, codes: bool = False) -> dict[str, int]:
    """``verb resource[/subresource][ code]`` -> count, most frequent first."""
    counts: Counter[str] = Counter()
    for e in events:
        ref = e.get("objectRef") or {}
        resource = str(ref.get("resource", e.get("requestURI", "?")))
        if ref.get("subresource"):
            resource += f"/{ref['subresource']}"
        code = f" {(e.get('responseStatus') or {}).get('code', '?')}" if codes else ""
        counts[f"{e.get('verb')} {resource}{code}"] += 1
    return dict(counts.most_common())


def user_agents(events: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Requests per user agent (cut at the first space), to check the attribution."""
    return dict(Counter(str(e.get("userAgent", "")).split(" ")[0] for e in events).most_common())


def cpu_seconds(stat: str, ticks: int) -> float:
    """utime + stime of a /proc/<pid>/stat line (fields 14 and 15; the command may hold spaces)."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Per mode: the median of each figure per controller, and ours/KubeFed."""
    out: dict[str, Any] = {}
    for mode in sorted({r["mode"] for r in runs}):
        per: dict[str, dict[str, float]] = {}
        for controller in ("kubefed", "ours"):
            rows = [
                r for r in runs if r["mode"] == mode and r["controller"] == controller and "error" not in r
            ]
            figures: dict[str, float] = {}
            for key in rows[0] if rows else []:
                values = [r[key] for r in rows if isinstance(r.get(key), int | float) and key != "run"]
                if values and not isinstance(values[0], bool):
                    figures[key] = round(statistics.median(values), 3)
            per[controller] = figures
        keys = sorted(set(per["kubefed"]) & set(per["ours"]))
        out[mode] = {
            "kubefed": per["kubefed"],
            "ours": per["ours"],
            "ratio_ours_vs_kubefed": {k: ratio(per["ours"][k], per["kubefed"][k]) for k in keys},
        }
    return out


# -- processes --------------------------------------------------------------------------------


def proc_cpu_seconds(pid: int) -> float:
    try:
        return round(cpu_seconds(Path(f"/proc/{pid}/stat").read_text(), os.sysconf("SC_CLK_TCK")), 2)
    except (OSError, ValueError, IndexError):
        return -1.0


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return -1.0


def kubefed_binary() -> Path:
    if not KUBEFED.exists():
        subprocess.run([str(ROOT / "hack" / "testbin.sh"), "kubefed"], check=True, cwd=ROOT, timeout=1800)
    return KUBEFED


def start_controller(controller: str, bed: testbed.TestBed) -> subprocess.Popen[bytes]:
    """The controller with its default flags (addresses and where to find the host aside)."""
    if controller == "kubefed":
        args = [
            str(kubefed_binary()),
            "--kubeconfig",
            str(bed.clusters["host"].directory / "admin.kubeconfig"),
            "--kubefed-namespace",
            NS,
            f"--healthz-addr=127.0.0.1:{testbed._free_port()}",
            f"--metrics-addr=127.0.0.1:{testbed._free_port()}",
        ]
    else:
        args = [
            str(BIN / "kubectl-kubefed"),
            "controller",
            "--kubeconfig",
            str(bed.kubeconfig),
            "--host-cluster-context",
            "host",
            "--metrics-bind-address",
            f"127.0.0.1:{testbed._free_port()}",
            *("--health-probe-bind-address", "0"),
            # Experiments only (the comparison is of defaults): e.g. "--workers 8".
            *os.environ.get("BENCH_OURS_FLAGS", "").split(),
        ]
    with open(bed.directory / f"{controller}.log", "ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    profile = os.environ.get("BENCH_PROFILE")
    if profile and controller == "ours":  # the thread holding the GIL, one file per start
        py_spy(proc.pid, f"{profile}.{proc.pid}", "--gil", "--nonblocking", "--threads")
    return proc


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- one run ----------------------------------------------------------------------------------


def fed_configmap(name: str, i: int) -> dict[str, Any]:
    return {
        "apiVersion": FED,
        "kind": "FederatedConfigMap",
        "metadata": {"name": name, "namespace": "bench"},
        "spec": {"template": {"data": {"k": f"v{i}"}}, "placement": {"clusterSelector": {}}},
    }


FED_NAMESPACE = {
    "apiVersion": FED,
    "kind": "FederatedNamespace",
    "metadata": {"name": "bench", "namespace": "bench"},
    "spec": {"placement": {"clusterSelector": {}}},
}


def wait_for(condition: Callable[[], bool], timeout: float, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise RuntimeError(f"the controller exited ({proc.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:g}s")
        time.sleep(0.05)


def run_one(controller: str, mode: str, n: int, rate: float, timeout: float) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"kubefed-bench-{controller}-{mode}-"))
    testbed.AUDIT_POLICY = AUDIT_ALL  # read when each API server starts
    bed = testbed.start(workdir, audit=True, apf=True)  # as real clusters run
    try:
        return measure(bed, controller, mode, n, rate, timeout)
    finally:
        bed.stop()
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {workdir}", file=sys.stderr)
        else:  # etcd data, logs and audit logs: hundreds of MB per run
            shutil.rmtree(workdir, ignore_errors=True)


# docs/migrate.md, "Back from kubectl-kubefed to KubeFed": ``init``'s version CRDs have no
# status subresource, KubeFed's have (its version manager writes the status through it).
STATUS_SUBRESOURCE = '[{"op":"add","path":"/spec/versions/0/subresources","value":{"status":{}}}]'


def kubefeds_version_crds(bed: testbed.TestBed) -> None:
    for crd in ("propagatedversions", "clusterpropagatedversions"):
        subprocess.run(
            [
                *("kubectl", "--kubeconfig", str(bed.kubeconfig), "--context", "host", "patch", "crd"),
                *(f"{crd}.core.kubefed.io", "--type=json", "-p", STATUS_SUBRESOURCE),
            ],
            check=True,
            capture_output=True,
        )


def measure(
    bed: testbed.TestBed, controller: str, mode: str, n: int, rate: float, timeout: float
) -> dict[str, Any]:
    fast = ClientOptions(qps=0, burst=1, timeout=30, user_agent=BENCH_AGENT)  # the bench itself: unthrottled
    host, members = control_plane(bed, fast)
    if controller == "kubefed":
        kubefeds_version_crds(bed)
    direct_per_s = plain_creates_per_s(members, n)

    seen: dict[tuple[str, str], float] = {}
    gone: dict[tuple[str, str], float] = {}
    lock = threading.Lock()

    def watcher(cluster: str) -> Callable[[str, Any], None]:
        def handle(event_type: str, obj: Any) -> None:
            if event_type in ("ADDED", "DELETED"):
                with lock:
                    (seen if event_type == "ADDED" else gone).setdefault(
                        (cluster, obj["metadata"]["name"]), time.perf_counter()
                    )

        return handle

    def count(prefix: str) -> int:
        with lock:
            return sum(1 for _, name in seen if name.startswith(prefix))

    watches = watch_configmaps(members, watcher)
    created: dict[str, float] = {}
    federated = 1  # the FederatedNamespace
    figures: dict[str, Any] = {}
    proc: subprocess.Popen[bytes] | None = None
    deletion_start_wall = 0.0
    try:
        if mode == "backlog":
            host.create(FED_NAMESPACE)
            for i in range(n):
                host.create(fed_configmap(f"cm-{i}", i))
            start_wall, start = time.time(), time.perf_counter()
            proc = start_controller(controller, bed)
            wait_for(lambda: count("cm-") >= 2 * n, timeout, proc, f"{2 * n} member objects")
            times = [t for (_, name), t in seen.items() if name.startswith("cm-")]
            first, last = min(times), max(times)
            figures["seconds_to_first_member_object"] = round(first - start, 2)
            figures["seconds_to_last_member_object"] = round(last - start, 2)
            per_s = 2 * n / (last - start)
            figures["steady_member_objects_per_s"] = round(2 * n / max(last - first, 1e-9), 1)
        else:
            start_wall = time.time()
            proc = start_controller(controller, bed)
            host.create(FED_NAMESPACE)
            host.create(fed_configmap("warmup", -1))
            federated += 1
            wait_for(lambda: count("warmup") >= 2, timeout, proc, "the warm-up object in both members")
            begin = time.perf_counter()
            for i in range(n):
                delay = begin + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                created[f"cm-{i}"] = time.perf_counter()
                host.create(fed_configmap(f"cm-{i}", i))
            wait_for(lambda: count("cm-") >= 2 * n, timeout, proc, f"{2 * n} member objects")
            last = max(t for (_, name), t in seen.items() if name.startswith("cm-"))
            per_s = 2 * n / (last - begin)
            latencies = [seen[(c, name)] - t for name, t in created.items() for c in members]
            figures["latency_p50_s"] = round(percentile(latencies, 50), 3)
            figures["latency_p99_s"] = round(percentile(latencies, 99), 3)
        converged_wall = time.time() - (time.perf_counter() - last)
        figures["member_objects_per_s"] = round(per_s, 1)
        figures["direct_member_objects_per_s"] = round(direct_per_s, 1)
        figures["ratio_vs_direct"] = round(per_s / direct_per_s, 3)
        time.sleep(IDLE_SECONDS + 1)  # idle, after convergence (+1 s: the audit log's buffer)
        figures["cpu_s"] = proc_cpu_seconds(proc.pid)
        figures["peak_rss_mb"] = peak_rss_mb(proc.pid)
        if mode == "backlog":
            # Deletion the same way: the controller stopped, every federated object deleted
            # (each held by the controller's finalizer), the controller started again.
            stop_process(proc)
            deletion_start_wall = time.time()
            for i in range(n):
                host.delete(FED, "FederatedConfigMap", "bench", f"cm-{i}")
            start = time.perf_counter()
            proc = start_controller(controller, bed)
            wait_for(
                lambda: sum(1 for _, name in list(gone) if name.startswith("cm-")) >= 2 * n,
                timeout,
                proc,
                f"{2 * n} member objects deleted",
            )
            wait_for(
                lambda: len(host.list(FED, "FederatedConfigMap", "bench")[0]) == 0,
                timeout,
                proc,
                "the federated objects gone",
            )
            done = time.perf_counter()
            deleted_per_s = (
                2 * n / (max(t for (_, name), t in gone.items() if name.startswith("cm-")) - start)
            )
            figures["deletion_member_objects_per_s"] = round(deleted_per_s, 1)
            figures["deletion_seconds_to_last_federated_object"] = round(done - start, 2)
            figures["deletion_vs_creation_throughput"] = round(deleted_per_s / per_s, 3)
            time.sleep(2)  # the audit log's buffer
    finally:
        for w in watches:
            w.stop()
        if proc is not None:
            stop_process(proc)
    if mode == "backlog":
        deleting = controller_requests(
            bed.clusters["host"].audit_events(),
            USER_AGENTS[controller],
            writes_only=True,
            since=deletion_start_wall,
        )
        figures["deletion_host_writes_per_federated_object"] = round(len(deleting) / n, 3)
        figures["deletion_host_writes"] = breakdown(deleting)
    federated += n
    member_objects = 2 * (federated)  # the namespace (adopted or not) counts as one per member
    agent = USER_AGENTS[controller]
    host_events = bed.clusters["host"].audit_events()
    # the creation's figures end where the deletion (backlog mode) begins
    until = deletion_start_wall if mode == "backlog" else None
    host_all = controller_requests(host_events, agent, since=start_wall, until=until)
    host_writes = [e for e in host_all if e.get("verb") in WRITES]
    member_events = [e for m in members for e in bed.clusters[m].audit_events()]
    member_all = controller_requests(member_events, agent, since=start_wall, until=until)
    idle = controller_requests(
        member_events,
        agent,
        writes_only=True,
        since=converged_wall + 0.5,
        until=converged_wall + IDLE_SECONDS,
    )
    figures.update(
        {
            "host_requests_per_federated_object": round(len(host_all) / federated, 3),
            "host_writes_per_federated_object": round(len(host_writes) / federated, 3),
            "member_requests_per_member_object": round(len(member_all) / member_objects, 3),
            "member_writes_per_member_object": round(
                sum(1 for e in member_all if e.get("verb") in WRITES) / member_objects, 3
            ),
            "idle_member_writes_10s": len(idle),
            "idle_member_writes": breakdown(idle, codes=True),
            "host_writes": breakdown(host_writes),
            "host_user_agents": user_agents(e for e in host_events if audit_time(e) >= start_wall),
        }
    )
    return figures


# -- main -------------------------------------------------------------------------------------


def git_state() -> dict[str, Any]:
    """The commit measured, and the tracked files changed in the work tree (they ran too)."""
    res = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, cwd=ROOT
    )
    return {
        "git_commit": res.stdout.strip(),
        "git_changed_files": [line[3:] for line in dirty.stdout.splitlines() if line.strip()],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="federated objects (each goes to 2 members)")
    parser.add_argument("--runs", type=int, default=1, help="runs per controller and mode, interleaved")
    parser.add_argument("--modes", default="backlog,stream")
    parser.add_argument("--controllers", default="kubefed,ours")
    parser.add_argument("--rate", type=float, default=50.0, help="stream mode: objects created per second")
    parser.add_argument("--timeout", type=float, default=900.0, help="per wait, seconds")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    controllers = [c for c in args.controllers.split(",") if c]
    for m in modes:
        if m not in ("backlog", "stream"):
            parser.error(f"unknown mode {m}")
    for c in controllers:
        if c not in USER_AGENTS:
            parser.error(f"unknown controller {c}")
    if "kubefed" in controllers:
        kubefed_binary()
    began = time.time()
    runs: list[dict[str, Any]] = []
    for mode in modes:
        for r in range(args.runs):
            for controller in controllers:
                row: dict[str, Any] = {"controller": controller, "mode": mode, "run": r + 1}
                print(f"{mode} run {r + 1}: {controller} ...", file=sys.stderr, flush=True)
                try:
                    row.update(run_one(controller, mode, args.n, args.rate, args.timeout))
                except Exception as err:  # one failed run must not lose the others
                    row["error"] = f"{type(err).__name__}: {err}"
                print(json.dumps({k: v for k, v in row.items() if not isinstance(v, dict)}), file=sys.stderr)
                runs.append(row)
    result = {
        "benchmark": "bench_kubefed",
        **git_state(),
        "date": datetime.fromtimestamp(began).astimezone().isoformat(timespec="seconds"),
        "wall_seconds": round(time.time() - began),
        "federated_objects": args.n,
        "members": 2,
        "stream_rate_per_s": args.rate,
        "flags": "defaults for both: ours `kubectl-kubefed controller` "
        "(no --member-qps/--host-qps/--workers), "
        "KubeFed v0.10.0 `kubefed-controller-manager --kubefed-namespace` (its defaults); "
        "KubeFedConfig as `kubectl kubefed init` writes it",
        "notes": "requests per object count every request the controller's user agent made from its start "
        "to its stop (10 s idle included): reads, watches, leases, events; the denominators include the "
        "FederatedNamespace (and the stream's warm-up object)",
        "cpu_count": os.cpu_count(),
        "runs": runs,
        "summary": summarize(runs),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
