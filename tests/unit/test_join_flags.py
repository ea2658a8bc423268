"""The join flags of docs/security.md are checked before any cluster is contacted."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--token-expiration", "5m"], "--token-expiration must be between 10m and 24h"),
        (["--token-expiration", "48h"], "--token-expiration must be between 10m and 24h"),
        (["--token-expiration", "soon"], "invalid duration"),
        (["--protect-namespaces", "kube-system,kube-federation-system"], "cannot be protected"),
        (["--rbac", "root"], "--rbac must be minimal or admin"),
    ],
)
def test_bad_join_flags_are_one_line_errors(flags: list[str], message: str) -> None:
    res = run_cli("join", "member1", "--kubeconfig", "/nonexistent/kubeconfig", *flags)
    assert res.returncode == 2, res.stderr
    assert message in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "Traceback" not in res.stderr
