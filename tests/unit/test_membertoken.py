"""Renewal of the member identity's bound token (kube.membertoken), with a fake host and clock."""

from __future__ import annotations

import base64
import json
from typing import Any, cast

import pytest

from kubectl_kubefed.kube import membertoken
from kubectl_kubefed.kube.membertoken import TokenExpired, TokenSource
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import Conflict, Forbidden, NotFound

NS = "kube-federation-system"
SUB = f"system:serviceaccount:{NS}:member1-host"


def jwt(iat: float, exp: float | None, sub: str = SUB) -> str:
    claims: dict[str, Any] = {"sub": sub, "iat": iat}
    if exp is not None:
        claims["exp"] = exp

    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.sig"


class FakeHost:
    def __init__(self, token: str) -> None:
        self.secret: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "member1-abc", "namespace": NS, "resourceVersion": "1"},
            "data": {"token": base64.b64encode(token.encode()).decode()},
        }
        self.conflicts = 0
        self.gets = 0

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        self.gets += 1
        if name != "member1-abc":
            raise NotFound(name)
        copied: dict[str, Any] = json.loads(json.dumps(self.secret))
        return copied

    def update(self, obj: dict[str, Any]) -> dict[str, Any]:
        if self.conflicts:
            self.conflicts -= 1
            raise Conflict("conflict")
        assert obj["metadata"]["resourceVersion"] == self.secret["metadata"]["resourceVersion"]
        self.secret = json.loads(json.dumps(obj))
        self.secret["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
        return self.secret

    def stored(self) -> str:
        return base64.b64decode(self.secret["data"]["token"]).decode()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int, str | None]]:
    calls: list[tuple[str, str, int, str | None]] = []
    monkeypatch.delenv(membertoken.REFRESH_AFTER_ENV, raising=False)

    def fake_request(rest: Any, namespace: str, sa: str, seconds: int, token: str | None = None) -> str:
        calls.append((namespace, sa, seconds, token))
        return jwt(clock_now[0], clock_now[0] + seconds)

    clock_now[0] = 0.0
    monkeypatch.setattr(membertoken, "request_token", fake_request)
    return calls


clock_now = [0.0]


def _source(token: str, clock: Clock, host: FakeHost, logs: list[str] | None = None) -> TokenSource:
    source = TokenSource(
        cast(ClusterClient, host),
        NS,
        "member1-abc",
        "member1",
        token,
        clock=clock,
        log=None if logs is None else logs.append,
    )
    source.attach(object())  # type: ignore[arg-type]
    return source


def test_bound_token_is_renewed_at_two_thirds_of_its_lifetime_and_stored_on_the_host(
    issued: list[tuple[str, str, int, str | None]],
) -> None:
    first = jwt(1000, 4600)
    host, clock = FakeHost(first), Clock(1000)
    source = _source(first, clock, host)
    clock.now = 3399
    assert source.current() == first and issued == []
    clock.now = clock_now[0] = 3400
    renewed = source.current()
    assert renewed != first
    assert issued == [(NS, "member1-host", 3600, first)]  # asked as itself, same lifetime
    assert host.stored() == renewed
    assert source.renewals == 1
    cfg = type("Cfg", (), {})()
    source.hook(cfg)
    assert cfg.api_key == {"authorization": "Bearer " + renewed}


def test_renewal_survives_a_conflict_on_the_host_secret(issued: list[Any]) -> None:
    first = jwt(0, 3600)
    host, clock = FakeHost(first), Clock(0)
    host.conflicts = 2
    source = _source(first, clock, host)
    clock.now = clock_now[0] = 2500
    assert source.current() == host.stored() != first


def test_legacy_tokens_are_never_renewed(issued: list[Any]) -> None:
    legacy = jwt(0, None)
    host, clock = FakeHost(legacy), Clock(0)
    source = _source(legacy, clock, host)
    clock.now = 10**9
    assert source.current() == legacy
    assert issued == []


def test_a_failed_renewal_keeps_the_token_and_retries_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(membertoken.REFRESH_AFTER_ENV, raising=False)
    attempts: list[float] = []

    def refuse(*args: Any, **kwargs: Any) -> str:
        attempts.append(clock.now)
        raise Forbidden("no")

    monkeypatch.setattr(membertoken, "request_token", refuse)
    first = jwt(0, 3600)
    host, clock = FakeHost(first), Clock(2400)
    logs: list[str] = []
    source = _source(first, clock, host, logs)
    assert source.current() == first
    assert source.current() == first  # no second attempt at once
    clock.now += membertoken.RETRY_SECONDS
    assert source.current() == first
    assert attempts == [2400, 2400 + membertoken.RETRY_SECONDS]
    assert len(logs) == 1 and "renewing the member token failed" in logs[0]  # not once per retry
    clock.now = 3600
    with pytest.raises(TokenExpired, match="kubectl kubefed join member1 --update"):
        source.current()


def test_a_token_replaced_on_the_host_is_picked_up(issued: list[Any]) -> None:
    first = jwt(0, 3600)
    host, clock = FakeHost(first), Clock(0)
    source = _source(first, clock, host)
    newer = jwt(100, 3700)
    host.secret["data"]["token"] = base64.b64encode(newer.encode()).decode()
    clock.now = membertoken.RECHECK_SECONDS - 1
    assert source.current() == first
    clock.now = membertoken.RECHECK_SECONDS
    assert source.current() == newer
    # an older token (e.g. a slower replica's write) does not replace a newer one
    host.secret["data"]["token"] = base64.b64encode(first.encode()).decode()
    clock.now += membertoken.RECHECK_SECONDS
    assert source.current() == newer
    # a legacy token written by join --legacy-token does
    legacy = jwt(0, None)
    host.secret["data"]["token"] = base64.b64encode(legacy.encode()).decode()
    clock.now += membertoken.RECHECK_SECONDS
    assert source.current() == legacy
    assert issued == []


def test_refresh_after_env_renews_early(issued: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(membertoken.REFRESH_AFTER_ENV, "20")
    first = jwt(0, 3600)
    host, clock = FakeHost(first), Clock(19)
    source = _source(first, clock, host)
    assert source.current() == first
    clock.now = clock_now[0] = 20
    assert source.current() != first
    assert len(issued) == 1


def test_no_renewal_without_a_service_account_subject(issued: list[Any]) -> None:
    odd = jwt(0, 3600, sub="someone")
    host, clock = FakeHost(odd), Clock(3000)
    source = _source(odd, clock, host)
    assert source.current() == odd
    assert issued == []
