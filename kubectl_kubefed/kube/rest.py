"""A small REST layer: one urllib3 pool per cluster, auth from the kubernetes Configuration,
QPS/burst limiting, timeouts, request counters, ``429``/``Retry-After`` honoured, and API
errors mapped to ours with the server's code, reason and details.

It touches the internals of the kubernetes client (``RESTClientObject.pool_manager``) and
of urllib3 (a pool's queue, to grow it): pyproject.toml pins both below their next major."""

from __future__ import annotations

import json
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode

import urllib3
from kubernetes.client.rest import RESTClientObject
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from kubectl_kubefed.kube import deepjson
from kubectl_kubefed.sync import errors

_BY_REASON: dict[str, type[errors.ApiError]] = {
    "AlreadyExists": errors.AlreadyExists,
    "Conflict": errors.Conflict,
    "NotFound": errors.NotFound,
    "Forbidden": errors.Forbidden,
    "Invalid": errors.Invalid,
    "Expired": errors.Gone,
    "Gone": errors.Gone,
    "MethodNotAllowed": errors.MethodNotAllowed,
    "TooManyRequests": errors.TooManyRequests,
    "ServiceUnavailable": errors.Unavailable,
    "Unauthorized": errors.Unauthorized,
}
_BY_CODE: dict[int, type[errors.ApiError]] = {
    401: errors.Unauthorized,
    429: errors.TooManyRequests,
    404: errors.NotFound,
    403: errors.Forbidden,
    410: errors.Gone,
    422: errors.Invalid,
    405: errors.MethodNotAllowed,
    409: errors.Conflict,
    503: errors.Unavailable,
}
# The Status reason of an answer without one (apimachinery's StatusReason values).
_REASON_OF_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
RETRIES = 3  # further attempts after a 429 (or a 5xx with Retry-After on a read)
# How long an Authorization header is reused before the configuration's refresh hook is
# asked again (it re-checks an exec credential's expiry, re-reads a token file; the
# kubernetes client runs it before every request, a few percent of the controller's CPU).
AUTH_REUSE_SECONDS = 1.0
MAX_RETRY_AFTER = 10.0  # seconds: a longer Retry-After is cut to this
USER_AGENT = "kubectl-kubefed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# The write fence of the request this thread is sending (see Rest.write_fence).
_in_flight = threading.local()


def _fence_now(conn: HTTPConnection) -> None:
    """Checked by the connection right before any byte of a write (its headers, each piece
    of its body) is handed to the socket: refused, the connection is closed unsent."""
    fence: Callable[[], None] | None = getattr(_in_flight, "fence", None)
    if fence is None:
        return
    try:
        fence()
    except BaseException:
        conn.close()
        raise


class _FencedHTTPConnection(HTTPConnection):
    def send(self, data: Any) -> None:
        _fence_now(self)
        super().send(data)


class _FencedHTTPSConnection(HTTPSConnection):
    def send(self, data: Any) -> None:
        _fence_now(self)
        super().send(data)


class _FencedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _FencedHTTPConnection


class _FencedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _FencedHTTPSConnection


def _fence_connections(pool: Any) -> None:
    """The pool manager's plain HTTP(S) pools make fenced connections (others, e.g. SOCKS,
    are left as they are)."""
    fenced = {HTTPConnectionPool: _FencedHTTPPool, HTTPSConnectionPool: _FencedHTTPSPool}
    classes = dict(pool.pool_classes_by_scheme)
    pool.pool_classes_by_scheme = {scheme: fenced.get(cls, cls) for scheme, cls in classes.items()}


def user_agent(identity: str) -> str:
    """``kubectl-kubefed/<identity>``: which replica sent a request, in the API server's
    audit log; the identity cut to printable ASCII (a header value)."""
    safe = "".join(c if " " < c < "\x7f" else "_" for c in identity)[:100]
    return f"{USER_AGENT}/{safe}" if safe else USER_AGENT


_insecure_lock = threading.Lock()
_insecure_clusters: list[str] = []
_insecure_report: list[Callable[[str], None]] = []


def _insecure_message(cluster: str) -> str:
    return f"TLS verification is off for cluster {cluster}: its identity is not checked"


def on_insecure_tls(report: Callable[[str], None]) -> None:
    """Say through ``report``, once per cluster, that TLS verification is off for it (for
    the clients made so far and those made later). urllib3's InsecureRequestWarning, one
    per request on stderr, is silenced: it broke one-line errors and JSON logs."""
    with _insecure_lock:
        _insecure_report[:] = [report]
        known = list(_insecure_clusters)
    for cluster in known:
        report(_insecure_message(cluster))


def _insecure(cluster: str) -> None:
    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    with _insecure_lock:
        if cluster in _insecure_clusters:
            return
        _insecure_clusters.append(cluster)
        reports = list(_insecure_report)
    for report in reports:
        report(_insecure_message(cluster))


def api_error(status: int, body: bytes) -> errors.ApiError:
    """Our error for an API server answer: the class by the Status reason, else by the HTTP
    code; the code, reason and details as the server sent them."""
    message, reason, details = "", "", {}
    try:
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            message = str(parsed.get("message") or "")
            reason = str(parsed.get("reason") or "")
            if isinstance(parsed.get("details"), dict):
                details = parsed["details"]
    except ValueError:
        pass
    cls = _BY_REASON.get(reason) or _BY_CODE.get(status) or errors.ApiError
    reason = reason or _REASON_OF_CODE.get(status, "Unknown")
    return cls(message or f"HTTP {status} {reason}", code=status, reason=reason, details=details)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The ``Retry-After`` delay in seconds (at least 0, at most MAX_RETRY_AFTER), None without one."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return 1.0  # an HTTP date or garbage: a short pause, as client-go does
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


# Set by an API server that does API Priority and Fairness on every request it classifies
# (not on watches, which APF does not queue).
APF_HEADER = "X-Kubernetes-PF-FlowSchema-UID"


class RateLimiter:
    """Token bucket: ``qps`` per second sustained, bursts up to ``burst``.

    ``adaptive``: the bucket is bypassed while the server paces requests itself (its last
    answer carried ``APF_HEADER``): API Priority and Fairness queues, or refuses with
    ``429``/``Retry-After`` (which ``Rest`` honours), whatever would overload it, so a
    client-side limit then only slows a healthy server down. A server without it (APF
    switched off, or a proxy that strips the header) gets the bucket again."""

    def __init__(self, qps: float, burst: int, *, adaptive: bool = False) -> None:
        self.qps = qps
        self.burst = max(1, burst)
        self.adaptive = adaptive
        self.server_paced = False
        self._tokens = float(self.burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def observe(self, headers: Mapping[str, str]) -> None:
        """Called with the headers of each answered request (not watches)."""
        if self.adaptive:
            self.server_paced = APF_HEADER in headers

    def acquire(self) -> None:
        if self.qps <= 0 or self.server_paced:
            return
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.qps
            time.sleep(wait)


class Rest:
    def __init__(
        self,
        configuration: Any,
        *,
        name: str,
        qps: float = 20.0,
        burst: int = 30,
        timeout: float = 10.0,
        pool_maxsize: int = 16,
        adaptive: bool = False,
    ) -> None:
        configuration.retries = False  # a failed request is reported, not silently retried
        self.name = name
        if not configuration.verify_ssl:
            _insecure(name)
        self.configuration = configuration
        self.host = str(configuration.host).rstrip("/")
        configuration.connection_pool_maxsize = max(1, pool_maxsize)
        self.pool = RESTClientObject(configuration).pool_manager
        _fence_connections(self.pool)
        ca_data = getattr(configuration, "ca_cert_data", None)
        if ca_data:  # CA certificates in memory, no file (older kubernetes clients ignore the attribute)
            self.pool.connection_pool_kw["ca_cert_data"] = ca_data
        self.pool_maxsize = max(1, pool_maxsize)
        self.limiter = RateLimiter(qps, burst, adaptive=adaptive)
        self.timeout = timeout
        self.requests: dict[str, int] = {}
        self.sleep: Callable[[float], None] = time.sleep
        # After a 401: refresh the credentials (re-read a token file, re-run an exec plugin);
        # True when they changed, and the request is sent once more (kube/credentials.py).
        self.reauthenticate: Callable[[], bool] | None = None
        self.user_agent = USER_AGENT
        # Called before every write leaves (each attempt), and again by the connection right
        # before its bytes go to the socket; raises to refuse it. The controller's leader
        # fence (kube/leader.py): no write after the renew deadline.
        self.write_fence: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._in_use = 0  # requests in flight plus open watches
        self._auth: tuple[str, float] | None = None  # (header, when read)
        # The host's connection pool, asked directly (see ``_send``); None: through the
        # pool manager (a proxy's, which adds its headers or tunnel).
        self._direct: Any = None
        self._direct_ok = type(self.pool) is urllib3.PoolManager
        # A server URL's own path (a proxy's, e.g. ``https://rancher/k8s/clusters/c-1``)
        # goes before every request path.
        self._prefix = (urllib3.util.parse_url(self.host).path or "").rstrip("/")

    def _authorization(self) -> str:
        now = time.monotonic()
        cached = self._auth
        if cached is not None and now - cached[1] < AUTH_REUSE_SECONDS:
            return cached[0]
        auth = str(self.configuration.get_api_key_with_prefix("BearerToken", alias="authorization") or "")
        self._auth = (auth, now)
        return auth

    def _headers(self, content_type: str | None = None, bearer: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if content_type:
            headers["Content-Type"] = content_type
        auth = "Bearer " + bearer if bearer is not None else self._authorization()
        if auth:
            headers["Authorization"] = auth
        return headers

    def _count(self, verb: str) -> None:
        with self._lock:
            self.requests[verb] = self.requests.get(verb, 0) + 1

    def _take_connection(self) -> None:
        """Count a connection in use and grow the pool to hold all of them: a watch holds
        its connection for minutes, and a pool smaller than the watches plus the workers'
        requests would close and reopen (TLS handshake) a connection on every request."""
        with self._lock:
            self._in_use += 1
            if self._in_use <= self.pool_maxsize:
                return
            self.pool_maxsize = size = max(self._in_use, 2 * self.pool_maxsize)
        self.pool.connection_pool_kw["maxsize"] = size  # pools made from now on
        for key in list(self.pool.pools.keys()):
            pool = self.pool.pools.get(key)
            queue = getattr(pool, "pool", None)
            if queue is not None:  # urllib3 2.x: a LifoQueue of idle connections
                with queue.mutex:
                    queue.maxsize = max(queue.maxsize, size)

    def _give_connection(self) -> None:
        with self._lock:
            self._in_use -= 1

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        """One HTTP exchange, repeated (at most RETRIES times) while the server says to come
        back later: 429, or a 5xx with Retry-After on a read; waits as long as it asks."""
        for attempt in range(RETRIES + 1):
            self.limiter.acquire()
            fence = self.write_fence if method in WRITE_METHODS else None
            if fence is not None:
                fence()  # after the rate limiter's wait; the connection checks once more
            _in_flight.fence = fence
            try:
                if self._direct_ok:
                    # Straight to the host's pool: the pool manager would parse the URL and
                    # look the pool up again for every request (a tenth of the controller's
                    # CPU in issue 16's profile). Its pools are the ones it would pick.
                    if self._direct is None:
                        self._direct = self.pool.connection_from_url(self.host)
                    resp = self._direct.urlopen(
                        method,
                        self._prefix + url,
                        retries=False,
                        redirect=False,
                        assert_same_host=False,
                        **kwargs,
                    )
                else:
                    resp = self.pool.request(method, self.host + url, retries=False, **kwargs)
            except urllib3.exceptions.HTTPError as err:
                raise errors.Unavailable(f"{self.name}: {type(err).__name__}: {_short(err)}") from None
            finally:
                _in_flight.fence = None
            delay = retry_after(resp.headers)
            again = resp.status == 429 or (resp.status >= 500 and method == "GET" and delay is not None)
            if not again or attempt == RETRIES:
                return resp
            resp.drain_conn()
            resp.release_conn()
            self.sleep(1.0 if delay is None else delay)
        raise AssertionError("unreachable")

    def _retry_unauthorized(self, resp: Any, bearer: str | None) -> bool:
        """A 401 on the configuration's credentials that ``reauthenticate`` just renewed."""
        if resp.status != 401 or bearer is not None or self.reauthenticate is None:
            return False
        self._auth = None  # whatever it says, ask the configuration again
        return self.reauthenticate()

    def request(
        self,
        verb: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
        raw: bool = False,
        content_type: str = "application/json",
        bearer: str | None = None,
    ) -> Any:
        """One API call; returns parsed JSON (or text when ``raw``). Raises our ApiErrors.
        ``bearer``: this token instead of the configuration's (whose hook is not called)."""
        self._count(verb)
        url = path + (("?" + urlencode(query)) if query else "")
        data = deepjson.dumps(body).encode() if body is not None else None
        self._take_connection()
        try:
            for attempt in (1, 2):
                resp = self._send(
                    method,
                    url,
                    body=data,
                    headers=self._headers(content_type if data else None, bearer),
                    timeout=urllib3.Timeout(total=timeout or self.timeout),
                    preload_content=True,
                )
                if attempt == 2 or not self._retry_unauthorized(resp, bearer):
                    break
        finally:
            self._give_connection()
        self.limiter.observe(resp.headers)
        if resp.status >= 400:
            raise api_error(resp.status, resp.data)
        if raw:
            return resp.data.decode("utf-8", errors="replace")
        return deepjson.loads(resp.data) if resp.data else {}

    def stream(
        self, path: str, query: Mapping[str, Any], timeout: float
    ) -> tuple[Any, Iterator[dict[str, Any]]]:
        """(response, JSON lines) of a watch; ends when the server closes it or on timeout."""
        self._count("watch")
        url = path + "?" + urlencode(query)
        self._take_connection()
        try:
            for attempt in (1, 2):
                resp = self._send(
                    "GET",
                    url,
                    headers=self._headers(),
                    preload_content=False,
                    timeout=urllib3.Timeout(connect=self.timeout, read=timeout),
                )
                if attempt == 2 or not self._retry_unauthorized(resp, None):
                    break
                resp.drain_conn()
                resp.release_conn()
        except BaseException:
            self._give_connection()
            raise
        if resp.status >= 400:
            body = resp.read()
            resp.release_conn()
            self._give_connection()
            raise api_error(resp.status, body)
        return resp, _lines(resp, self._give_connection)


def _lines(resp: Any, done: Callable[[], None]) -> Iterator[dict[str, Any]]:
    buffer = b""
    try:
        for chunk in resp.stream(4096, decode_content=True):
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield deepjson.loads(line)
    except (urllib3.exceptions.HTTPError, OSError):
        return
    finally:
        resp.release_conn()
        done()


def _short(err: Exception) -> str:
    # Never echo request headers (tokens); urllib3 messages name only host and reason.
    return str(err).splitlines()[0][:200]
