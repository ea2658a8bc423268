"""A local multi-cluster test bed: etcd, kube-apiserver and kube-controller-manager per
cluster, on 127.0.0.1, from the binaries ``hack/testbin.sh`` builds into .testbin/bin.

Used by the e2e fixture (tests/e2e/conftest.py) and by ``make testbed-up`` /
``make testbed-down``::

    python -m tests.e2e.testbed up [--dir .testbed]     # background; writes DIR/kubeconfig
    python -m tests.e2e.testbed down [--dir .testbed]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".testbin" / "bin"
CLUSTERS = ("host", "member1", "member2")
BINARIES = ("etcd", "kube-apiserver", "kube-controller-manager")
STOP_ORDER = ("kube-controller-manager", "kube-apiserver", "etcd")
# Write requests only, at Metadata level (who, what, which object), once they completed.
AUDIT_POLICY = """apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted, Panic]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
- level: None
"""


class TestBedError(RuntimeError):
    pass


def missing_binaries(bin_dir: Path = BIN) -> list[str]:
    return [b for b in BINARIES if not (bin_dir / b).exists()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    try:
        subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, text=True)
    except FileNotFoundError as err:
        raise TestBedError("openssl is not installed (needed for the test bed's certificates)") from err
    except subprocess.CalledProcessError as err:
        last = (err.stderr or "").strip().splitlines()[-1:] or [f"exit {err.returncode}"]
        raise TestBedError(f"openssl {args[0]} failed in {cwd}: {last[0]}") from err


def make_ca(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / "ca.crt").exists():
        return
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "365",
        "-subj",
        "/CN=kubefed-testbed-ca",
        cwd=directory,
    )


def make_cluster_certs(ca_dir: Path, directory: Path) -> None:
    ca_dir = ca_dir.resolve()  # openssl runs in ``directory``
    directory.mkdir(parents=True, exist_ok=True)
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "apiserver.key",
        "-out",
        "apiserver.csr",
        "-subj",
        "/CN=kube-apiserver",
        cwd=directory,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "apiserver.csr",
        "-CA",
        str(ca_dir / "ca.crt"),
        "-CAkey",
        str(ca_dir / "ca.key"),
        "-CAcreateserial",
        "-out",
        "apiserver.crt",
        "-days",
        "365",
        "-extfile",
        "san.ext",
        cwd=directory,
    )
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=directory)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=directory)


@dataclass
class Cluster:
    name: str
    directory: Path
    api_port: int
    etcd_port: int
    token: str
    ca_file: Path
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    audit: bool = False  # write requests logged to DIR/audit.log (JSON lines), for write counting
    # API Priority and Fairness, as every real cluster has it (on by default since 1.20).
    # Off for the tests (less work for two cores); on for the benchmarks, which measure
    # what the controller does against a cluster as users run it.
    apf: bool = False

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.api_port}"

    def _spawn(self, name: str, args: list[str], detach: bool) -> None:
        with open(self.directory / f"{name}.log", "ab") as log:  # the child keeps its own copy
            self.procs[name] = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=detach,
                cwd=self.directory,
            )

    def start_etcd(self, bin_dir: Path, detach: bool) -> None:
        peer = _free_port()
        self._spawn(
            "etcd",
            [
                str(bin_dir / "etcd"),
                "--name",
                "default",
                "--data-dir",
                str(self.directory / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{self.etcd_port}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{self.etcd_port}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{peer}",
                "--initial-cluster",
                f"default=http://127.0.0.1:{peer}",
                "--unsafe-no-fsync",
                "--log-level",
                "warn",
            ],
            detach,
        )

    def start_apiserver(self, bin_dir: Path, detach: bool) -> None:
        d = self.directory
        (d / "tokens.csv").write_text(f'{self.token},admin,admin,"system:masters"\n')
        self._spawn(
            "kube-apiserver",
            [
                str(bin_dir / "kube-apiserver"),
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                f"--secure-port={self.api_port}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--cert-dir={d / 'certs'}",
                f"--tls-cert-file={d / 'apiserver.crt'}",
                f"--tls-private-key-file={d / 'apiserver.key'}",
                f"--client-ca-file={self.ca_file}",
                f"--token-auth-file={d / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.0.0.0/24",
                "--allow-privileged=true",
                f"--service-account-issuer=https://127.0.0.1:{self.api_port}",
                f"--service-account-key-file={d / 'sa.pub'}",
                f"--service-account-signing-key-file={d / 'sa.key'}",
                "--profiling=false",
                f"--enable-priority-and-fairness={str(self.apf).lower()}",
                *self._audit_args(),
            ],
            detach,
        )

    def _audit_args(self) -> list[str]:
        if not self.audit:
            return []
        policy = self.directory / "audit-policy.yaml"
        policy.write_text(AUDIT_POLICY)
        return [f"--audit-policy-file={policy}", f"--audit-log-path={self.directory / 'audit.log'}"]

    def audit_events(self) -> list[dict[str, Any]]:
        """The write requests the API server answered so far (``audit=True``)."""
        try:
            text = (self.directory / "audit.log").read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def start_controller_manager(self, bin_dir: Path, detach: bool) -> None:
        d = self.directory
        write_kubeconfig(d / "admin.kubeconfig", [self], current=self.name)
        self._spawn(
            "kube-controller-manager",
            [
                str(bin_dir / "kube-controller-manager"),
                f"--kubeconfig={d / 'admin.kubeconfig'}",
                f"--service-account-private-key-file={d / 'sa.key'}",
                f"--root-ca-file={self.ca_file}",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--secure-port=0",
                "--controllers=*,-nodeipam,-nodelifecycle,-service-lb-controller,-route,-cloud-node-lifecycle",
            ],
            detach,
        )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def get(self, path: str, timeout: float = 2.0) -> tuple[int, str]:
        req = urllib.request.Request(self.server + path, headers={"Authorization": f"Bearer {self.token}"})
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, ""

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    log = self.directory / f"{name}.log"
                    tail = log.read_text(errors="replace")[-2000:]
                    raise TestBedError(f"{self.name}: {name} exited ({proc.returncode}), see {log}\n{tail}")
            try:
                if self.get("/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        raise TestBedError(f"{self.name}: kube-apiserver not ready after {timeout:.0f}s")

    def wait_token_controller(self, timeout: float = 60.0) -> None:
        """Service account tokens are only issued once the controller manager runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _ = self.get("/api/v1/namespaces/default/serviceaccounts/default")
            if status == 200:
                return
            time.sleep(0.25)
        raise TestBedError(f"{self.name}: kube-controller-manager did not create the default service account")


def write_kubeconfig(path: Path, clusters: list[Cluster], current: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": c.name,
                "cluster": {
                    "server": c.server,
                    "certificate-authority-data": base64.b64encode(c.ca_file.read_bytes()).decode(),
                },
            }
            for c in clusters
        ],
        "users": [{"name": f"{c.name}-admin", "user": {"token": c.token}} for c in clusters],
        "contexts": [
            {"name": c.name, "context": {"cluster": c.name, "user": f"{c.name}-admin"}} for c in clusters
        ],
        "current-context": current,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)


@dataclass
class TestBed:
    directory: Path
    clusters: dict[str, Cluster]
    kubeconfig: Path
    startup_seconds: float

    def stop(self) -> None:
        for cluster in self.clusters.values():
            for name in ("kube-controller-manager", "kube-apiserver", "etcd"):
                cluster.stop(name)

    def stop_apiserver(self, name: str) -> None:
        self.clusters[name].stop("kube-apiserver")

    def start_apiserver(self, name: str, bin_dir: Path = BIN) -> None:
        cluster = self.clusters[name]
        cluster.start_apiserver(bin_dir, detach=False)
        cluster.wait_ready()


def start(
    directory: Path,
    names: tuple[str, ...] = CLUSTERS,
    bin_dir: Path = BIN,
    detach: bool = False,
    audit: bool = False,
    apf: bool = False,
) -> TestBed:
    missing = missing_binaries(bin_dir)
    if missing:
        raise TestBedError(f"missing {', '.join(missing)} in {bin_dir}: run `make testbin`")
    began = time.monotonic()
    # Absolute from here on: openssl and every process run with their cluster's directory
    # as working directory, where a relative path would point elsewhere.
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    make_ca(directory / "ca")
    clusters = {
        name: Cluster(
            name,
            directory / name,
            _free_port(),
            _free_port(),
            secrets.token_hex(16),
            directory / "ca" / "ca.crt",
            audit=audit,
            apf=apf,
        )
        for name in names
    }
    with ThreadPoolExecutor(len(clusters)) as pool:
        list(pool.map(lambda c: make_cluster_certs(directory / "ca", c.directory), clusters.values()))
    bed = TestBed(directory, clusters, directory / "kubeconfig", 0.0)
    try:
        for c in clusters.values():
            c.start_etcd(bin_dir, detach)
        for c in clusters.values():
            c.start_apiserver(bin_dir, detach)
        with ThreadPoolExecutor(len(clusters)) as pool:
            list(pool.map(lambda c: c.wait_ready(), clusters.values()))
        for c in clusters.values():
            c.start_controller_manager(bin_dir, detach)
        with ThreadPoolExecutor(len(clusters)) as pool:
            list(pool.map(lambda c: c.wait_token_controller(), clusters.values()))
    except BaseException:
        bed.stop()
        raise
    write_kubeconfig(bed.kubeconfig, list(clusters.values()), current=names[0])
    bed.startup_seconds = time.monotonic() - began
    return bed


def _pids_file(directory: Path) -> Path:
    return directory / "pids.json"


def _is_bed_dir(directory: Path) -> bool:
    return _pids_file(directory).exists() or (directory / "ca" / "ca.crt").exists()


def _read_pids(directory: Path) -> dict[str, int]:
    try:
        return {str(k): int(v) for k, v in json.loads(_pids_file(directory).read_text()).items()}
    except (OSError, ValueError, AttributeError) as err:
        raise TestBedError(f"cannot read {_pids_file(directory)}: {err}") from err


def _binary(name: str) -> str:
    """``member1/kube-apiserver`` -> ``kube-apiserver``."""
    return name.rsplit("/", 1)[-1]


def _proc_argv(pid: int) -> list[str] | None:
    """The command line of a live process, or None for a gone one or a zombie (procfs)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if stat.rsplit(")", 1)[-1].split()[:1] in (["Z"], ["X"]):
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def alive(pid: int, binary: str) -> bool:
    """Whether ``pid`` is still a running ``binary``: not exited, not a zombie waiting for
    its reaper, and not a reused pid now running something else."""
    if not Path("/proc/self").exists():  # no procfs: a signal probe is all there is
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    argv = _proc_argv(pid)
    return argv is not None and len(argv) > 0 and os.path.basename(argv[0]) == binary


def bed_processes(directory: Path) -> dict[int, str]:
    """pid -> binary of every live etcd, kube-apiserver or kube-controller-manager whose
    command line names a path inside ``directory`` (also finds processes pids.json lost)."""
    marker = str(directory.resolve()) + os.sep
    found: dict[int, str] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        argv = _proc_argv(int(entry.name))
        if argv and os.path.basename(argv[0]) in BINARIES and any(marker in a for a in argv[1:]):
            found[int(entry.name)] = os.path.basename(argv[0])
    return found


def _wait_gone(targets: dict[int, str], timeout: float) -> dict[int, str]:
    deadline = time.monotonic() + timeout
    left = dict(targets)
    while True:
        left = {pid: b for pid, b in left.items() if alive(pid, b)}
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _signal(targets: dict[int, str], sig: signal.Signals) -> None:
    for pid in targets:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def stop_processes(targets: dict[int, str], timeout: float = 20.0) -> dict[int, str]:
    """SIGTERM the controller managers, then the API servers, then etcd; wait for each tier
    to exit, SIGKILL what outlives ``timeout``. Returns the processes still alive after that."""
    stuck: dict[int, str] = {}
    for binary in STOP_ORDER:
        tier = {pid: b for pid, b in targets.items() if b == binary and alive(pid, b)}
        _signal(tier, signal.SIGTERM)
        left = _wait_gone(tier, timeout)
        if left:
            _signal(left, signal.SIGKILL)
            stuck.update(_wait_gone(left, 10.0))
    return stuck


def _down_command(directory: Path) -> str:
    if directory == (ROOT / ".testbed").resolve():
        return "make testbed-down"
    return f"python -m tests.e2e.testbed down --dir {directory}"


def up(directory: Path) -> None:
    """Start a detached test bed in ``directory`` (absolute); a running one is left as is."""
    if _pids_file(directory).exists():
        pids = _read_pids(directory)
        dead = sorted(name for name, pid in pids.items() if not alive(pid, _binary(name)))
        if not dead:
            print(f"test bed already up: export KUBECONFIG={directory / 'kubeconfig'}")
            return
        raise TestBedError(
            f"the test bed in {directory} is broken ({', '.join(dead)} exited): `{_down_command(directory)}` first"
        )
    if bed_processes(directory):
        raise TestBedError(
            f"processes of an earlier test bed still use {directory}: `{_down_command(directory)}` first"
        )
    if directory.is_dir() and any(directory.iterdir()):
        if not _is_bed_dir(directory):
            raise TestBedError(f"{directory} is not empty and not a test bed directory; choose another --dir")
        shutil.rmtree(directory)  # what a failed start left: old certificates and etcd data
    # Let a SIGTERM (e.g. a Ctrl-C'd make) unwind through start(), which stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    bed = start(directory, detach=True)
    pids = {f"{c.name}/{n}": p.pid for c in bed.clusters.values() for n, p in c.procs.items()}
    _pids_file(directory).write_text(json.dumps(pids, indent=2))
    print(f"test bed up in {bed.startup_seconds:.1f}s: export KUBECONFIG={bed.kubeconfig}")
    print("contexts: " + ", ".join(bed.clusters))


def down(directory: Path, timeout: float = 20.0) -> None:
    """Stop every process of the test bed in ``directory``, then remove the directory."""
    recorded = _read_pids(directory) if _pids_file(directory).exists() else {}
    targets = {pid: _binary(name) for name, pid in recorded.items() if alive(pid, _binary(name))}
    targets.update(bed_processes(directory))
    if not targets and not _is_bed_dir(directory):
        print(f"no test bed runs in {directory}")
        return
    stuck = stop_processes(targets, timeout)
    if stuck:
        listed = ", ".join(f"{b} ({pid})" for pid, b in sorted(stuck.items()))
        raise TestBedError(f"{listed} still running after SIGKILL; {directory} kept")
    try:
        shutil.rmtree(directory)
    except OSError as err:
        raise TestBedError(f"stopped {len(targets)} processes but cannot remove {directory}: {err}") from err
    print(f"test bed stopped ({len(targets)} processes) and {directory} removed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--dir", default=str(ROOT / ".testbed"))
    args = parser.parse_args()
    # Absolute before anything runs: the processes and openssl work in subdirectories.
    directory = Path(args.dir).resolve()
    try:
        (up if args.action == "up" else down)(directory)
    except (TestBedError, OSError) as err:
        # One line; a process's log tail stays in the file the message names.
        print(f"testbed: {(str(err).splitlines() or [repr(err)])[0]}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
