"""``federate TYPE NAME --dry-run``: client says what would be created; server creates it
as the API server's dry run and says the answer (kube.federate_online)."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube import discovery, federate_online, typeops
from kubectl_kubefed.kube.federate_online import FederateOptions, Federator
from kubectl_kubefed.sync.errors import AlreadyExists, NotFound

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "shop"}, "data": {}}


class Host:
    def __init__(self, server_dry_run: bool, fail: Exception | None = None) -> None:
        self.server_dry_run = server_dry_run
        self.fail = fail
        self.created: list[dict[str, Any]] = []

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.fail is not None:
            raise self.fail
        self.created.append(obj)
        return obj


def _federator(monkeypatch: pytest.MonkeyPatch, host: Host, said: list[str], dry_run: bool) -> Federator:
    monkeypatch.setattr(discovery, "preferred_resources", lambda *_a, **_k: [])
    monkeypatch.setattr(typeops, "enabled_type_configs", lambda *_a, **_k: [])
    opts = FederateOptions("shop", None, [], False, False, False, dry_run=dry_run)
    return Federator(host, "kube-federation-system", opts, said.append)  # type: ignore[arg-type]


def test_client_dry_run_creates_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    host, said = Host(server_dry_run=False), []  # type: ignore[var-annotated]
    _federator(monkeypatch, host, said, True).one(tc.lookup("configmaps"), dict(CM))
    assert host.created == []
    assert said == ["federatedconfigmap.types.kubefed.io/web would be created in namespace shop (dry run)"]


def test_server_dry_run_sends_the_create(monkeypatch: pytest.MonkeyPatch) -> None:
    host, said = Host(server_dry_run=True), []  # type: ignore[var-annotated]
    _federator(monkeypatch, host, said, True).one(tc.lookup("configmaps"), dict(CM))
    assert [o["kind"] for o in host.created] == ["FederatedConfigMap"]
    assert said == ["federatedconfigmap.types.kubefed.io/web created in namespace shop (server dry run)"]


def test_server_dry_run_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    host = Host(server_dry_run=True, fail=NotFound("the server does not serve FederatedConfigMap"))
    _federator(monkeypatch, host, said, True).one(tc.lookup("configmaps"), dict(CM))
    assert "(server dry run: not checked, the server does not serve FederatedConfigMap)" in said[0]
    host = Host(server_dry_run=True, fail=AlreadyExists("exists"))
    with pytest.raises(InputError, match="already exists"):
        _federator(monkeypatch, host, said, True).one(tc.lookup("configmaps"), dict(CM))


def test_without_dry_run_it_creates(monkeypatch: pytest.MonkeyPatch) -> None:
    host, said = Host(server_dry_run=False), []  # type: ignore[var-annotated]
    _federator(monkeypatch, host, said, False).one(tc.lookup("configmaps"), dict(CM))
    assert len(host.created) == 1 and said[0].endswith("created in namespace shop")
    assert federate_online  # the module under test
