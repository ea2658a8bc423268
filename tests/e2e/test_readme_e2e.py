"""The README's commands, exactly as written, from the root of a fresh clone.

The clone (of this repository's HEAD, in a temporary directory) is what a reader has
after ``git clone``, with two caches borrowed so the test takes seconds, not the minutes
of a first ``pip install`` and Go build:

- ``.venv`` is a symlink to the virtual environment running these tests, and the clone's
  pyproject.toml is dated before that venv's install stamp, so make finds the ``venv``
  target done (checked with ``make -q`` before anything runs: otherwise make would
  re-create and reinstall the shared venv from the clone).
- ``.testbin/`` is a real directory: ``cache/`` holds a symlink per entry of this
  repository's build cache and ``bin/`` links to the built binaries, so the ``make
  testbin-kube`` that ``make testbed-up`` runs finds everything cached and only re-links
  inside the clone; nothing it does writes into this repository's ``.testbin``.

The venv's editable install points at this repository's working tree, so ``make demo`` and
the demo script run its ``kubectl_kubefed``; the Makefile, README, scripts, examples and
``tests.e2e.testbed`` are the clone's.

The playground gets its own test bed in the clone's ``.testbed/`` (the README's demo on
real clusters runs on it too): free ports and its own directory, so it never meets the
session test bed of the other e2e tests, nor a playground a developer runs in this
repository.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_binary
from tests.e2e import testbed
from tests.e2e.conftest import REQUIRED

pytestmark = pytest.mark.e2e
CONTEXTS = ("host", "member1", "member2")


def sh_blocks(markdown: str) -> list[list[str]]:
    """The command lines of every ```sh block, as written (blank and comment lines left out)."""
    blocks = re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.M | re.S)
    return [
        [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        for block in blocks
    ]


def inline_commands(markdown: str, containing: str) -> list[str]:
    """The `inline code` spans of the prose (outside fenced blocks) that contain ``containing``."""
    prose = re.sub(r"^```.*?^```", "", markdown, flags=re.M | re.S)
    return [span for span in re.findall(r"`([^`\n]+)`", prose) if containing in span]


def block_with(clone: Path, command: str) -> list[str]:
    blocks = sh_blocks((clone / "README.md").read_text())
    found = [b for b in blocks if any(line.split("#")[0].split() == command.split() for line in b)]
    assert found, f"README.md has no ```sh block with `{command}`: {blocks}"
    return found[0]


def shell_env() -> dict[str, str]:
    """A reader's shell: nothing of a surrounding make, venv choice or kubeconfig."""
    dropped = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEFILES", "VENV", "KUBECONFIG", "VIRTUAL_ENV")
    return {k: v for k, v in os.environ.items() if k not in dropped}


def sh(clone: Path, line: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run one README line through sh, in the clone's root, as a reader pastes it. On a
    timeout the whole process group goes (make's children too, e.g. a Go build)."""
    with subprocess.Popen(
        line,
        shell=True,
        cwd=clone,
        env=shell_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            pytest.fail(f"`{line}` timed out after {timeout:.0f}s:\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(line, proc.returncode, out, err)


def working_in(directory: Path) -> dict[int, str]:
    """pid -> command line of every live process whose working directory is in ``directory``:
    whatever the README's commands started (make, the bed, the demo's controller)."""
    found: dict[int, str] = {}
    root = str(directory.resolve())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cwd = os.readlink(entry / "cwd")
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (cwd == root or cwd.startswith(root + os.sep)) and argv:  # zombies have no cmdline
            found[int(entry.name)] = argv
    return found


def ok(res: subprocess.CompletedProcess[str], line: str) -> str:
    assert res.returncode == 0, (
        f"`{line}` exited {res.returncode}:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    )
    return res.stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_binary("git")
    require_binary("make")
    venv = Path(sys.prefix)
    stamp = venv / ".installed-stamp"
    if not stamp.exists():
        message = f"{venv} was not made by `make venv` (no .installed-stamp)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    dest = tmp_path_factory.mktemp("readme") / "kubectl-kubefed"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, timeout=120)
    (dest / ".venv").symlink_to(venv)
    before = stamp.stat().st_mtime - 60
    os.utime(dest / "pyproject.toml", (before, before))
    for sub in ("bin", "cache"):
        (dest / ".testbin" / sub).mkdir(parents=True)
        shared = ROOT / ".testbin" / sub
        for entry in sorted(shared.iterdir()) if shared.is_dir() else []:
            (dest / ".testbin" / sub / entry.name).symlink_to(entry.resolve() if sub == "bin" else entry)
    # The guard: make must have nothing to do for the shared venv.
    res = subprocess.run(["make", "-q", ".venv/.installed-stamp"], cwd=dest, env=shell_env(), timeout=60)
    assert res.returncode == 0, "make would rebuild the shared venv from the clone"
    return dest


def test_make_demo_as_written(clone: Path) -> None:
    line = next(line for line in block_with(clone, "make demo") if line.split()[:2] == ["make", "demo"])
    out = ok(sh(clone, line, timeout=120), line)
    assert "FederatedDeployment demo/demo-app: Propagation=True" in out
    assert "what each cluster gets" in out


def test_playground_as_written(clone: Path) -> None:
    missing = testbed.missing_binaries()
    if missing:
        message = f"e2e binaries missing ({', '.join(missing)}): run `make testbin`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    block = block_with(clone, "make testbed-up")
    assert block[0].split()[:2] == ["make", "testbed-up"], block
    assert block[-1].split()[:2] == ["make", "testbed-down"], block
    bed_dir = clone / ".testbed"
    pids: dict[str, int] = {}
    try:
        for line in block:
            out = ok(sh(clone, line), line)
            if line.startswith("make testbed-up"):
                assert "test bed up in" in out
                pids = json.loads((bed_dir / "pids.json").read_text())
                assert len(pids) == 3 * len(testbed.BINARIES)
                # The kubeconfig the README names works for every context it promises.
                for context in CONTEXTS:
                    got = ok(
                        sh(
                            clone,
                            f"kubectl --kubeconfig .testbed/kubeconfig --context {context} get ns kube-system -o name",
                        ),
                        context,
                    )
                    assert got.strip() == "namespace/kube-system"
                # Up again while up: one line, nothing restarted.
                again = ok(sh(clone, line), line)
                assert f"test bed already up: export KUBECONFIG={bed_dir.resolve() / 'kubeconfig'}" in again
                assert json.loads((bed_dir / "pids.json").read_text()) == pids
                # The README's demo on real clusters, on this playground, as written.
                demo = inline_commands((clone / "README.md").read_text(), "examples/demo/real.sh")
                assert len(demo) == 1, demo
                assert "FederatedDeployment" in ok(sh(clone, demo[0], timeout=600), demo[0])
            elif line.startswith("kubectl ") and " get ns" in line:
                assert "kube-system" in out
            elif line.startswith("make testbed-down"):
                assert "test bed stopped" in out
        assert not bed_dir.exists()
        alive = {name: pid for name, pid in pids.items() if testbed.alive(pid, name.rsplit("/", 1)[-1])}
        assert not alive, f"still running after `make testbed-down`: {alive}"
        assert testbed.bed_processes(bed_dir) == {}
        assert working_in(clone) == {}, "left running by the README's commands"
    finally:
        if bed_dir.exists() or testbed.bed_processes(bed_dir):
            testbed.down(bed_dir.resolve())
