"""tests/e2e/testbed.py without the real binaries: relative directories, and how ``down``
stops processes (stand-ins named like the bed's binaries) before removing the directory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e import testbed

# A process whose argv[0] is ``name`` (what procfs shows), that ignores SIGTERM if asked.
STAND_IN = "import signal, sys, time\nif sys.argv[1] == 'stubborn': signal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(120)\n"


@pytest.fixture
def spawn() -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def run(name: str, *args: str, stubborn: bool = False) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [name, "-c", STAND_IN, "stubborn" if stubborn else "meek", *args],
            executable=sys.executable,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        procs.append(proc)
        return proc

    yield run
    for proc in procs:
        proc.kill()
        proc.wait()


def make_bed_dir(directory: Path, pids: dict[str, int]) -> None:
    (directory / "ca").mkdir(parents=True)
    (directory / "ca" / "ca.crt").write_text("x")
    (directory / "pids.json").write_text(json.dumps(pids))


def test_down_terms_waits_kills_the_stubborn_then_removes(tmp_path: Path, spawn: object) -> None:
    # Nobody reaps the stand-ins until the end: a zombie counts as gone, as it must for the
    # bed's detached processes when their reaper (init) is slow or absent.
    bed = tmp_path / "bed"
    etcd = spawn("etcd")  # type: ignore[operator]
    apiserver = spawn("kube-apiserver", stubborn=True)  # type: ignore[operator]
    make_bed_dir(bed, {"host/etcd": etcd.pid, "host/kube-apiserver": apiserver.pid})
    testbed.down(bed, timeout=1.0)
    assert not bed.exists()
    assert not testbed.alive(etcd.pid, "etcd") and not testbed.alive(apiserver.pid, "kube-apiserver")
    assert etcd.wait(5) == -15 and apiserver.wait(5) == -9  # TERM, then KILL for the stubborn one


def test_down_spares_a_reused_pid_and_finds_processes_pids_json_lost(tmp_path: Path, spawn: object) -> None:
    bed = tmp_path / "bed"
    unrelated = spawn("kubectl")  # type: ignore[operator]
    lost = spawn("kube-controller-manager", f"--kubeconfig={bed}/host/admin.kubeconfig")  # type: ignore[operator]
    elsewhere = spawn("etcd", f"--data-dir={tmp_path}/bed-2/host/etcd")  # type: ignore[operator]
    make_bed_dir(bed, {"host/etcd": unrelated.pid})
    assert testbed.bed_processes(bed) == {lost.pid: "kube-controller-manager"}
    testbed.down(bed, timeout=5.0)
    assert not bed.exists()
    assert lost.wait(5) == -15
    assert unrelated.poll() is None and elsewhere.poll() is None


def test_up_when_up_says_so_in_one_line(
    tmp_path: Path, spawn: object, capsys: pytest.CaptureFixture[str]
) -> None:
    etcd = spawn("etcd")  # type: ignore[operator]
    make_bed_dir(tmp_path, {"host/etcd": etcd.pid})
    testbed.up(tmp_path)
    assert capsys.readouterr().out == f"test bed already up: export KUBECONFIG={tmp_path / 'kubeconfig'}\n"
    etcd.kill()
    etcd.wait()
    with pytest.raises(testbed.TestBedError, match=r"broken \(host/etcd exited\)"):
        testbed.up(tmp_path)


def test_up_refuses_a_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(testbed.TestBedError, match="not a test bed directory"):
        testbed.up(tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_missing_binaries_name_make_testbin(tmp_path: Path) -> None:
    with pytest.raises(
        testbed.TestBedError, match=r"missing etcd, kube-apiserver, kube-controller-manager .*`make testbin`"
    ):
        testbed.start(tmp_path / "bed", bin_dir=tmp_path)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_certificates_with_relative_directories(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make testbed-up` passes ``--dir .testbed``; openssl runs inside the cluster directory."""
    monkeypatch.chdir(tmp_path)
    testbed.make_ca(Path("rel/ca"))
    testbed.make_cluster_certs(Path("rel/ca"), Path("rel/host"))
    assert (tmp_path / "rel/host/apiserver.crt").exists()


def test_cli_resolves_a_relative_dir_and_errors_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    make_bed_dir(tmp_path / "rel", {})
    res = subprocess.run(
        [sys.executable, "-m", "tests.e2e.testbed", "down", "--dir", "rel"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"test bed stopped (0 processes) and {tmp_path / 'rel'} removed\n"
    (tmp_path / "rel").mkdir()
    (tmp_path / "rel" / "pids.json").write_text("{not json")
    res = subprocess.run(
        [sys.executable, "-m", "tests.e2e.testbed", "up", "--dir", "rel"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.startswith(f"testbed: cannot read {tmp_path / 'rel' / 'pids.json'}: ")
    assert res.stderr.count("\n") == 1


def test_cli_error_with_a_log_tail_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def failing(directory: Path) -> None:
        raise testbed.TestBedError(f"host: etcd exited (1), see {directory}/host/etcd.log\nthe log's tail")

    monkeypatch.setattr(testbed, "up", failing)
    monkeypatch.setattr(sys, "argv", ["testbed", "up", "--dir", str(tmp_path)])
    with pytest.raises(SystemExit) as exited:
        testbed.main()
    assert exited.value.code == 2
    assert capsys.readouterr().err == f"testbed: host: etcd exited (1), see {tmp_path}/host/etcd.log\n"
