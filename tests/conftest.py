from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.e2e.bed import bed

__all__ = ["bed"]  # the session test bed fixture, one for tests/e2e and tests/conformance

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Wall-clock deadlines make property tests flaky on a loaded 2-core machine.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


def run_cli(
    *args: str, stdin: str | None = None, exe: str = "kubectl-kubefed", cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run an installed executable of this project as a user would."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        [str(BIN / exe), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd or ROOT,
        timeout=120,
    )


@pytest.fixture
def cli() -> object:
    return run_cli


def require_binary(name: str) -> str:
    """The path of a binary the test needs; skip locally, fail when CI requires e2e."""
    import shutil

    path = shutil.which(name)
    if path is None:
        if os.environ.get("KUBEFED_E2E") == "required":
            pytest.fail(f"{name} is required (KUBEFED_E2E=required) but not on PATH")
        pytest.skip(f"{name} is not installed")
    return path


def require_oracle(name: str) -> Path:
    """The Go oracle ``hack/oracles/NAME`` built by ``hack/testbin.sh oracles``.

    Skips without it locally; fails when CI requires the real components.
    """
    path = ROOT / ".testbin" / "bin" / f"{name}-oracle"
    if not path.exists():
        if os.environ.get("KUBEFED_E2E") == "required":
            pytest.fail(f"{path} is required (KUBEFED_E2E=required); run hack/testbin.sh oracles")
        pytest.skip(f"{path} is not built (hack/testbin.sh oracles)")
    return path
