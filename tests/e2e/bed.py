"""The session test bed: host + two member kube-apiservers (tests/e2e/testbed.py), or the
existing clusters of ``KUBEFED_E2E_KUBECONFIG``.

Registered once for the whole suite by tests/conftest.py, so that tests/e2e and
tests/conformance share one bed in a session (a fixture defined in two conftests would
be two fixtures, and start two beds).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from tests.e2e import testbed

REQUIRED = os.environ.get("KUBEFED_E2E") == "required"


@pytest.fixture(scope="session")
def bed(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[str, str, list[str], testbed.TestBed | None]]:
    existing = os.environ.get("KUBEFED_E2E_KUBECONFIG")
    if existing:
        members = os.environ.get("KUBEFED_E2E_MEMBER_CONTEXTS", "member1,member2").split(",")
        yield existing, os.environ.get("KUBEFED_E2E_HOST_CONTEXT", "host"), members, None
        return
    missing = testbed.missing_binaries()
    if missing:
        message = f"e2e binaries missing ({', '.join(missing)}): run `make testbin`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    started = testbed.start(tmp_path_factory.mktemp("testbed"))
    line = f"test bed: host + 2 members started in {started.startup_seconds:.1f}s"
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if capture is not None:  # into the test log itself, not the captured output
        with capture.global_and_fixture_disabled():
            print(f"\n{line}", file=sys.stderr)
    else:
        print(line, file=sys.stderr)
    yield str(started.kubeconfig), "host", ["member1", "member2"], started
    started.stop()
