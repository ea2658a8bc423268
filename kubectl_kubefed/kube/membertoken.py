"""The member identity's bound token: requested by ``join``, renewed by the controller.

The token lives on the host, in the Secret named by the KubeFedCluster's ``secretRef``.
A bound token (TokenRequest API) expires; before it does (at two thirds of its lifetime)
the controller asks the member for a new one *with the current token*: the member identity
may create tokens for its own ServiceAccount and for no other (RBAC ``resourceNames``), and
the member's admission policy caps their lifetime. The new token is written back to the
host Secret, so other replicas and restarts pick it up. Legacy tokens (no ``exp`` claim)
are used as they are. Every ``RECHECK_SECONDS`` the Secret is re-read, so a token that
``join --update`` replaced is used within that time.
"""

from __future__ import annotations

import base64
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from kubectl_kubefed.core.memberpolicy import MIN_TOKEN_SECONDS, TokenClaims, token_claims
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import ApiError, Conflict

RECHECK_SECONDS = 30.0
RETRY_SECONDS = 10.0
# Renew once a token is this many seconds old instead of at two thirds of its lifetime
# (for tests and for operators who want shorter-lived credentials on the host).
REFRESH_AFTER_ENV = "KUBEFED_MEMBER_TOKEN_REFRESH_AFTER"


class TokenExpired(ApiError):
    code, reason = 401, "Unauthorized"


def request_token(rest: Rest, namespace: str, sa: str, seconds: int, token: str | None = None) -> str:
    """A bound token of the service account, valid ``seconds`` (TokenRequest API); with
    ``token``, asked as that bearer (the member identity renewing its own token)."""
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": max(MIN_TOKEN_SECONDS, int(seconds))},
    }
    path = f"/api/v1/namespaces/{quote(namespace)}/serviceaccounts/{quote(sa)}/token"
    if token is None:
        result = rest.request("create", "POST", path, body=body)
    else:
        result = _post_as(rest, path, body, token)
    issued = str((result.get("status") or {}).get("token") or "")
    if not issued:
        raise ApiError(f"the member issued no token for {namespace}/{sa}")
    return issued


def _post_as(rest: Rest, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    """POST with an explicit bearer (not the hook's, which is what is being renewed)."""
    result: dict[str, Any] = Rest.request(rest, "create", "POST", path, body=body, bearer=token)
    return result


def _refresh_after() -> float | None:
    value = os.environ.get(REFRESH_AFTER_ENV, "")
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _decode(secret: dict[str, Any]) -> str:
    raw = (secret.get("data") or {}).get("token") or ""
    return base64.b64decode(raw).decode().strip() if raw else ""


def _encode(secret: dict[str, Any], token: str) -> dict[str, Any]:
    return {**(secret.get("data") or {}), "token": base64.b64encode(token.encode()).decode()}


class SecretCodec:
    """Where in a Secret the token is kept: ``data.token`` (a member's token on the host),
    or elsewhere (the pull agent's host kubeconfig in the member, ``kube/agenthost.py``)."""

    def decode(self, secret: dict[str, Any]) -> str:
        return _decode(secret)

    def encode(self, secret: dict[str, Any], token: str) -> dict[str, Any]:
        """The Secret's new ``data`` holding ``token``."""
        return _encode(secret, token)


class TokenSource:
    """The current token of one member; ``hook`` is the Configuration's refresh hook."""

    def __init__(
        self,
        host: ClusterClient | None,
        namespace: str,
        secret_name: str,
        cluster: str,
        token: str,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] | None = None,
        codec: SecretCodec | None = None,
    ) -> None:
        self.host = host  # where the Secret is (None: the token is renewed in memory only)
        self.codec = codec or SecretCodec()
        self.namespace = namespace
        self.secret_name = secret_name
        self.cluster = cluster
        self.clock = clock
        self.renewals = 0
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self.rest: Rest | None = None  # the member's connection pool, set by attach()
        self._lock = threading.Lock()
        self._token = token
        self._claims: TokenClaims | None = token_claims(token)
        self._check_at = clock() + RECHECK_SECONDS
        self._retry_at = 0.0
        self._last_error = ""

    def attach(self, rest: Rest) -> None:
        self.rest = rest

    @property
    def token(self) -> str:
        return self._token

    def hook(self, configuration: Any) -> None:
        configuration.api_key = {"authorization": "Bearer " + self.current()}

    def _due(self, now: float) -> bool:
        claims = self._claims
        if claims is None or not claims.bound:
            return False
        at = claims.refresh_at(_refresh_after())
        return at is not None and now >= at

    def current(self) -> str:
        now = self.clock()
        with self._lock:
            if now >= self._check_at or (self._due(now) and now >= self._retry_at):
                self._check_at = now + RECHECK_SECONDS
                self._reload()
                if self._due(now) and now >= self._retry_at:
                    self._renew(now)
            claims = self._claims
            if claims is not None and claims.expires_at is not None and now >= claims.expires_at:
                raise TokenExpired(
                    f"the token of cluster {self.cluster} expired and could not be renewed: "
                    f"run `kubectl kubefed join {self.cluster} --update`"
                )
            return self._token

    def _adopt(self, token: str) -> None:
        self._token = token
        self._claims = token_claims(token)

    def _reload(self) -> None:
        """Use the host Secret's token if it changed (another replica renewed it, or join)."""
        if self.host is None:
            return
        try:
            secret = self.host.get("v1", "Secret", self.namespace, self.secret_name)
        except ApiError:
            return
        stored = self.codec.decode(secret)
        if stored and stored != self._token:
            old, new = self._claims, token_claims(stored)
            if new is None or not new.bound or old is None or (new.expires_at or 0) >= (old.expires_at or 0):
                self._adopt(stored)

    def _renew(self, now: float) -> None:
        claims = self._claims
        assert claims is not None
        account = claims.service_account()
        if account is None or (claims.expires_at or 0) <= now:
            self._retry_at = now + RETRY_SECONDS
            return
        if self.rest is None:
            return
        lifetime = claims.lifetime or MIN_TOKEN_SECONDS
        try:
            token = request_token(self.rest, account[0], account[1], round(lifetime), token=self._token)
        except ApiError as err:
            self._retry_at = now + RETRY_SECONDS
            if str(err) != self._last_error:  # once per distinct failure, not once per retry
                self._last_error = str(err)
                self._log(f"cluster {self.cluster}: renewing the member token failed: {err}")
            return
        self._adopt(token)
        self._last_error = ""
        self.renewals += 1
        try:
            self._store(token)
        except ApiError as err:
            # The new token works; only restarts (which read the Secret) miss it until stored.
            self._log(f"cluster {self.cluster}: storing the renewed token failed: {err}")

    def _store(self, token: str) -> None:
        if self.host is None:
            return
        for _ in range(5):
            secret = self.host.get("v1", "Secret", self.namespace, self.secret_name)
            try:
                self.host.update({**secret, "data": self.codec.encode(secret, token)})
                return
            except Conflict:
                continue
        raise ApiError(f"secret {self.namespace}/{self.secret_name}: conflicts")
