"""init retries a write the API server refuses while its admission mapper learns a new CRD."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_kubefed.kube import controlplane
from kubectl_kubefed.kube.apply import apply
from kubectl_kubefed.sync.errors import ApiError, NotFound

LAG = (
    "Resource kind core.kubefed.io/v1beta1, Kind=KubeFedConfig not found. There can be a delay "
    "between when CustomResourceDefinitions are created and when they are available."
)
CONFIG = {
    "apiVersion": "core.kubefed.io/v1beta1",
    "kind": "KubeFedConfig",
    "metadata": {"name": "kubefed", "namespace": "ns"},
}


class Host:
    def __init__(self, failures: int, message: str = LAG) -> None:
        self.failures = failures
        self.message = message
        self.creates = 0

    def get(self, *args: Any) -> dict[str, Any]:
        raise NotFound("no")

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.creates += 1
        if self.creates <= self.failures:
            raise ApiError(self.message)
        return obj


def test_the_mapper_lag_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controlplane.time, "sleep", lambda s: None)
    host = Host(failures=3)
    _, action = controlplane.once_admitted(lambda: apply(host, CONFIG))  # type: ignore[arg-type]
    assert action == "created" and host.creates == 4


def test_other_errors_are_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controlplane.time, "sleep", lambda s: None)
    host = Host(failures=1, message="admission webhook denied the request")
    with pytest.raises(ApiError):
        controlplane.once_admitted(lambda: apply(host, CONFIG))  # type: ignore[arg-type]
    assert host.creates == 1


def test_the_lag_is_not_retried_forever(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(controlplane.time, "sleep", lambda s: None)
    with pytest.raises(ApiError):
        controlplane.once_admitted(lambda: apply(Host(failures=10**9), CONFIG), timeout=0.05)  # type: ignore[arg-type]
