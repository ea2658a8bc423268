"""The REST layer and the cluster client against a tiny local HTTP server: list pagination,
429 with Retry-After, API errors with the server's code, reason and details, and a
connection pool that holds every watch."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes import client as k8s_client

from kubectl_kubefed.kube import rest as rest_module
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import ClientOptions, paced_options
from kubectl_kubefed.kube.rest import APF_HEADER, MAX_RETRY_AFTER, RETRIES, RateLimiter, Rest
from kubectl_kubefed.sync import errors

Answer = tuple[int, dict[str, str], Any]  # status, headers, JSON body (bytes: as is)
Route = Callable[[str, dict[str, list[str]], bytes], Answer]

DISCOVERY = {"resources": [{"name": "configmaps", "kind": "ConfigMap", "namespaced": True}]}


class Server:
    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.seen: list[tuple[str, str, dict[str, list[str]]]] = []
        self.auth: list[str] = []  # the Authorization header of each request
        self.release = threading.Event()  # ends the watches
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: connections go back to the pool

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.seen.append((self.command, parts.path, query))
                server.auth.append(self.headers.get("Authorization") or "")
                if "watch" in query:
                    self._watch()
                    return
                route = server.routes.get((self.command, parts.path))
                status, headers, payload = route(self.command, query, body) if route else (404, {}, {})
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _watch(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                line = json.dumps({"type": "ADDED", "object": {"metadata": {"name": "x"}}}).encode() + b"\n"
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
                server.release.wait(10)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def rest(self, **kwargs: Any) -> Rest:
        cfg = k8s_client.Configuration()
        cfg.host = self.url
        rest = Rest(cfg, name="test", qps=0, **kwargs)
        return rest


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    yield srv
    srv.release.set()
    srv.httpd.shutdown()
    srv.httpd.server_close()


def _status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        out["details"] = details
    return out


# -- pagination ---------------------------------------------------------------------------


def test_list_reads_every_page_and_keeps_the_last_resource_version(server: Server) -> None:
    names = [f"cm{i}" for i in range(5)]

    def pages(_m: str, query: dict[str, list[str]], _b: bytes) -> Answer:
        limit = int(query["limit"][0])
        start = int(query.get("continue", ["0"])[0])
        end = start + limit
        meta: dict[str, Any] = {"resourceVersion": str(100 + start)}
        if end < len(names):
            meta["continue"] = str(end)
        items = [{"metadata": {"name": n, "namespace": "default"}} for n in names[start:end]]
        return 200, {}, {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": meta, "items": items}

    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    server.routes[("GET", "/api/v1/configmaps")] = pages
    client = KubeClusterClient(server.rest(), "test")
    client.page_size = 2
    items, rv = client.list("v1", "ConfigMap", label_selector="app=web")
    assert [i["metadata"]["name"] for i in items] == names
    assert all(i["kind"] == "ConfigMap" and i["apiVersion"] == "v1" for i in items)
    assert rv == "104"  # the last page's
    lists = [q for m, p, q in server.seen if p == "/api/v1/configmaps"]
    assert [q.get("continue") for q in lists] == [None, ["2"], ["4"]]
    assert all(q["limit"] == ["2"] and q["labelSelector"] == ["app=web"] for q in lists)


def test_list_pages_are_500_by_default(server: Server) -> None:
    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    server.routes[("GET", "/api/v1/configmaps")] = lambda *_: (200, {}, {"metadata": {}, "items": []})
    KubeClusterClient(server.rest(), "test").list("v1", "ConfigMap")
    assert server.seen[-1][2]["limit"] == ["500"]


# -- 429 and Retry-After ------------------------------------------------------------------


def _busy_then_ok(busy: int, retry_after: str | None, status: int = 429) -> Route:
    calls = [0]

    def route(_m: str, _q: dict[str, list[str]], _b: bytes) -> Answer:
        calls[0] += 1
        if calls[0] <= busy:
            headers = {} if retry_after is None else {"Retry-After": retry_after}
            return status, headers, _status(status, "TooManyRequests", "too many requests, try later")
        return 200, {}, {"ok": calls[0]}

    return route


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_429_waits_as_long_as_the_server_says_and_retries(server: Server, method: str) -> None:
    server.routes[(method, "/x")] = _busy_then_ok(2, "3")
    rest = server.rest()
    slept: list[float] = []
    rest.sleep = slept.append
    body = {"a": 1} if method == "POST" else None
    assert rest.request("get", method, "/x", body=body) == {"ok": 3}
    assert slept == [3.0, 3.0]


def test_429_without_retry_after_waits_a_second_and_a_long_delay_is_bounded(server: Server) -> None:
    server.routes[("GET", "/a")] = _busy_then_ok(1, None)
    server.routes[("GET", "/b")] = _busy_then_ok(1, "3600")
    rest = server.rest()
    slept: list[float] = []
    rest.sleep = slept.append
    rest.request("get", "GET", "/a")
    rest.request("get", "GET", "/b")
    assert slept == [1.0, MAX_RETRY_AFTER]


def test_429_retries_are_bounded(server: Server) -> None:
    server.routes[("GET", "/x")] = _busy_then_ok(100, "1")
    rest = server.rest()
    slept: list[float] = []
    rest.sleep = slept.append
    with pytest.raises(errors.TooManyRequests) as info:
        rest.request("get", "GET", "/x")
    assert len(slept) == RETRIES
    assert info.value.code == 429 and "too many requests" in str(info.value)


def test_5xx_retried_only_with_retry_after_on_reads(server: Server) -> None:
    server.routes[("GET", "/r")] = _busy_then_ok(1, "2", status=503)
    server.routes[("GET", "/n")] = _busy_then_ok(1, None, status=503)
    server.routes[("PUT", "/w")] = _busy_then_ok(1, "2", status=503)
    rest = server.rest()
    slept: list[float] = []
    rest.sleep = slept.append
    assert rest.request("get", "GET", "/r") == {"ok": 2}
    with pytest.raises(errors.Unavailable):
        rest.request("get", "GET", "/n")
    with pytest.raises(errors.Unavailable):
        rest.request("update", "PUT", "/w", body={})
    assert slept == [2.0]


def test_a_watch_honours_429_too(server: Server) -> None:
    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    rest = server.rest()
    slept: list[float] = []
    rest.sleep = slept.append
    calls = [0]
    pool = rest._direct = rest.pool.connection_from_url(rest.host)  # the host's pool, asked directly
    real = pool.urlopen

    def first_busy(method: str, url: str, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == 1:
            return real(method, "/busy", **kwargs)
        return real(method, url, **kwargs)

    server.routes[("GET", "/busy")] = lambda *_: (429, {"Retry-After": "2"}, _status(429, "", "later"))
    pool.urlopen = first_busy  # type: ignore[method-assign]
    server.release.set()
    _, lines = rest.stream("/api/v1/configmaps", {"watch": "1"}, 5)
    assert [e["type"] for e in lines] == ["ADDED"]
    assert slept == [2.0]


# -- API errors ---------------------------------------------------------------------------

CASES = [
    (401, _status(401, "Unauthorized", "Unauthorized"), errors.Unauthorized, "Unauthorized"),
    (
        403,
        _status(403, "Forbidden", 'secrets is forbidden: User "bob" cannot list', {"kind": "secrets"}),
        errors.Forbidden,
        "Forbidden",
    ),
    (404, _status(404, "NotFound", 'configmaps "x" not found', {"name": "x"}), errors.NotFound, "NotFound"),
    (
        409,
        _status(409, "AlreadyExists", 'configmaps "x" already exists'),
        errors.AlreadyExists,
        "AlreadyExists",
    ),
    (409, _status(409, "Conflict", "the object has been modified"), errors.Conflict, "Conflict"),
    (410, _status(410, "Expired", "too old resource version: 1 (5)"), errors.Gone, "Expired"),
    (
        422,
        _status(
            422,
            "Invalid",
            'ConfigMap "X" is invalid',
            {"name": "X", "causes": [{"reason": "FieldValueInvalid", "field": "metadata.name"}]},
        ),
        errors.Invalid,
        "Invalid",
    ),
    (500, _status(500, "InternalError", "etcdserver: request timed out"), errors.ApiError, "InternalError"),
]


@pytest.mark.parametrize(("code", "body", "cls", "reason"), CASES)
def test_api_errors_keep_code_reason_and_details(
    server: Server, code: int, body: dict[str, Any], cls: type[errors.ApiError], reason: str
) -> None:
    server.routes[("GET", "/x")] = lambda *_: (code, {}, body)
    with pytest.raises(errors.ApiError) as info:
        server.rest().request("get", "GET", "/x")
    err = info.value
    assert type(err) is cls
    assert (err.code, err.reason) == (code, reason)
    assert str(err) == body["message"]
    assert err.details == body.get("details", {})


@pytest.mark.parametrize(
    ("code", "cls", "reason"),
    [
        (401, errors.Unauthorized, "Unauthorized"),
        (400, errors.ApiError, "BadRequest"),
        (504, errors.ApiError, "Timeout"),
        (418, errors.ApiError, "Unknown"),
    ],
)
def test_answers_without_a_status_body_keep_their_code(
    server: Server, code: int, cls: type[errors.ApiError], reason: str
) -> None:
    server.routes[("GET", "/x")] = lambda *_: (code, {}, b"Unauthorized\n" if code == 401 else b"<html>")
    with pytest.raises(errors.ApiError) as info:
        server.rest().request("get", "GET", "/x")
    assert type(info.value) is cls
    assert (info.value.code, info.value.reason) == (code, reason)
    assert str(info.value) == f"HTTP {code} {reason}"


def test_a_member_refusal_keeps_code_and_details(server: Server) -> None:
    from kubectl_kubefed.kube.memberrest import MemberRest

    body = _status(403, "Forbidden", "no", {"kind": "secrets"})
    server.routes[("GET", "/x")] = lambda *_: (403, {}, body)
    cfg = k8s_client.Configuration()
    cfg.host = server.url
    with pytest.raises(errors.Forbidden) as info:
        MemberRest(cfg, name="m", qps=0).request("get", "GET", "/x")
    assert (info.value.code, info.value.details) == (403, {"kind": "secrets"})


# -- the connection pool ------------------------------------------------------------------


def test_the_pool_holds_every_watch_and_request(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    rest = server.rest(pool_maxsize=2)
    client = KubeClusterClient(rest, "test")
    events: list[str] = []
    done = threading.Semaphore(0)

    def handler(event: Any) -> None:
        events.append(event.type)
        if event.type == "ERROR":
            done.release()

    with caplog.at_level(logging.WARNING, logger="urllib3"):
        for _ in range(5):
            client.watch("v1", "ConfigMap", handler)
        assert rest.pool_maxsize >= 5
        rest.request("get", "GET", "/api/v1")
        server.release.set()
        for _ in range(5):
            assert done.acquire(timeout=10)
        rest.request("get", "GET", "/api/v1")
    assert events.count("ADDED") == 5
    assert not [r for r in caplog.records if "pool is full" in r.getMessage()], caplog.text
    assert rest.pool.connection_pool_kw["maxsize"] == rest.pool_maxsize


# -- --dry-run=server ---------------------------------------------------------------------

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "default"}}
CM_PATH = "/api/v1/namespaces/default/configmaps"


def test_server_dry_run_marks_every_write(server: Server) -> None:
    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    for method, path in (("POST", CM_PATH), ("PUT", CM_PATH + "/x"), ("DELETE", CM_PATH + "/x")):
        server.routes[(method, path)] = lambda _m, _q, body: (200, {}, json.loads(body or b"{}"))
    client = KubeClusterClient(server.rest(), "test")
    client.server_dry_run = True
    client.create(CM)
    client.update(CM)
    client.delete("v1", "ConfigMap", "default", "x")
    writes = [(m, q) for m, p, q in server.seen if m != "GET"]
    assert [m for m, _ in writes] == ["POST", "PUT", "DELETE"]
    assert all(q == {"dryRun": ["All"]} for _, q in writes)
    client.server_dry_run = False
    client.create(CM)
    assert server.seen[-1][2] == {}


def test_preview_client_mode_sends_nothing(server: Server) -> None:
    from kubectl_kubefed.kube.apply import preview, preview_delete

    said: list[str] = []
    client = KubeClusterClient(server.rest(), "test")
    preview(client, CM, "configmap/x", said.append)
    preview_delete(client, ("v1", "ConfigMap", "default", "x"), "configmap/x", said.append)
    assert said == [
        "configmap/x would be created or updated (dry run)",
        "configmap/x would be deleted (dry run)",
    ]
    assert server.seen == []


def test_preview_server_mode_says_the_servers_answer(server: Server) -> None:
    from kubectl_kubefed.kube.apply import preview, preview_delete

    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    server.routes[("GET", CM_PATH + "/x")] = lambda *_: (404, {}, _status(404, "NotFound", "not found"))
    server.routes[("POST", CM_PATH)] = lambda _m, _q, body: (201, {}, json.loads(body))
    server.routes[("DELETE", CM_PATH + "/x")] = lambda *_: (200, {}, {})
    other = {**CM, "metadata": {"name": "y", "namespace": "new"}}
    said: list[str] = []
    client = KubeClusterClient(server.rest(), "test")
    client.server_dry_run = True
    preview(client, CM, "configmap/x", said.append)
    preview(client, other, "configmap/y", said.append, " in the member")
    preview_delete(client, ("v1", "ConfigMap", "default", "x"), "configmap/x", said.append)
    assert said[0] == "configmap/x created (server dry run)"
    assert said[1].startswith("configmap/y would be created in the member (server dry run: not checked")
    assert said[2] == "configmap/x deleted (server dry run)"
    assert [q.get("dryRun") for m, _, q in server.seen if m != "GET"] == [["All"], ["All"], ["All"]]
    with pytest.raises(errors.Invalid):
        server.routes[("POST", CM_PATH)] = lambda *_: (422, {}, _status(422, "Invalid", "bad"))
        preview(client, CM, "configmap/x", said.append)


def test_an_expired_continue_token_restarts_the_list(server: Server) -> None:
    served = [0]

    def pages(_m: str, query: dict[str, list[str]], _b: bytes) -> Answer:
        served[0] += 1
        if "continue" not in query:
            return (
                200,
                {},
                {
                    "metadata": {"continue": "t", "resourceVersion": "5"},
                    "items": [{"metadata": {"name": "a"}}],
                },
            )
        if served[0] == 2:  # the first continue token expires
            return 410, {}, _status(410, "Expired", "The provided continue parameter is too old")
        return 200, {}, {"metadata": {"resourceVersion": "9"}, "items": [{"metadata": {"name": "b"}}]}

    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    server.routes[("GET", "/api/v1/configmaps")] = pages
    items, rv = KubeClusterClient(server.rest(), "test").list("v1", "ConfigMap")
    assert [i["metadata"]["name"] for i in items] == ["a", "b"] and rv == "9"
    assert served[0] == 4


def test_a_list_that_keeps_expiring_fails(server: Server) -> None:
    def pages(_m: str, query: dict[str, list[str]], _b: bytes) -> Answer:
        if "continue" not in query:
            return 200, {}, {"metadata": {"continue": "t"}, "items": []}
        return 410, {}, _status(410, "Expired", "too old")

    server.routes[("GET", "/api/v1")] = lambda *_: (200, {}, DISCOVERY)
    server.routes[("GET", "/api/v1/configmaps")] = pages
    with pytest.raises(errors.Gone):
        KubeClusterClient(server.rest(), "test").list("v1", "ConfigMap")


def test_a_token_renewal_uses_its_own_bearer_and_the_pool_accounting(server: Server) -> None:
    from kubectl_kubefed.kube import membertoken

    calls = [0]

    def issue(_m: str, _q: dict[str, list[str]], body: bytes) -> Answer:
        calls[0] += 1
        if calls[0] == 1:
            return 429, {"Retry-After": "1"}, _status(429, "TooManyRequests", "later")
        assert json.loads(body)["kind"] == "TokenRequest"
        return 201, {}, {"status": {"token": "new"}}

    server.routes[("POST", "/api/v1/namespaces/kfs/serviceaccounts/sa/token")] = issue
    cfg = k8s_client.Configuration()
    cfg.host = server.url

    def hook(_cfg: Any) -> None:
        raise AssertionError("the configuration's token is not asked for")

    cfg.refresh_api_key_hook = hook
    rest = Rest(cfg, name="m", qps=0)
    slept: list[float] = []
    rest.sleep = slept.append
    assert membertoken.request_token(rest, "kfs", "sa", 3600, token="old") == "new"
    assert server.auth[-1] == "Bearer old"
    assert slept == [1.0]  # a 429 is waited out here too
    assert rest._in_use == 0


# -- client-side limits and API Priority and Fairness ---------------------------------------


def _limiter_waits(server: Server, monkeypatch: pytest.MonkeyPatch, *, apf: bool, adaptive: bool) -> int:
    """How many times 20 requests (100/s, burst 1) waited on the client-side bucket."""
    headers = {APF_HEADER: "3b9a5c1e-0000-4000-8000-000000000001"} if apf else {}
    server.routes[("GET", "/x")] = lambda *_: (200, headers, {})
    rest = server.rest()
    rest.limiter = RateLimiter(100, 1, adaptive=adaptive)
    waits: list[float] = []
    real_sleep = rest_module.time.sleep

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(rest_module.time, "sleep", sleep)
    for _ in range(20):
        rest.request("get", "GET", "/x")
    return len(waits)


def test_a_server_that_paces_requests_itself_lifts_the_default_limit(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _limiter_waits(server, monkeypatch, apf=True, adaptive=True) == 0


def test_a_server_without_priority_and_fairness_keeps_the_default_limit(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _limiter_waits(server, monkeypatch, apf=False, adaptive=True) > 0


def test_a_limit_the_user_gave_holds_even_where_the_server_paces(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _limiter_waits(server, monkeypatch, apf=True, adaptive=False) > 0


def test_the_limit_comes_back_when_the_server_stops_pacing() -> None:
    limiter = RateLimiter(1, 1, adaptive=True)
    limiter.observe({APF_HEADER: "x"})
    assert limiter.server_paced
    limiter.observe({})
    assert not limiter.server_paced


def test_qps_flags_given_apply_and_absent_ones_adapt() -> None:
    assert paced_options(None, 30, 20.0) == ClientOptions(qps=20.0, burst=30, adaptive=True)
    assert paced_options(5, 10, 20.0) == ClientOptions(qps=5, burst=10, adaptive=False)
    assert paced_options(0, 10, 20.0).qps == 0  # no limit at all, as before


# -- the connection pool and the credentials ---------------------------------------------


def test_a_server_url_with_a_path_keeps_it_before_every_request_path(server: Server) -> None:
    """A cluster behind a proxy (``https://rancher/k8s/clusters/c-1``): requests go to the
    host's connection pool directly, with the URL's own path in front."""
    server.routes[("GET", "/k8s/clusters/c-1/version")] = lambda *_: (200, {}, {"gitVersion": "v1"})
    server.routes[("POST", "/k8s/clusters/c-1/api/v1/namespaces/a/configmaps")] = lambda *_: (201, {}, {})
    cfg = k8s_client.Configuration()
    cfg.host = server.url + "/k8s/clusters/c-1/"
    rest = Rest(cfg, name="test", qps=0)
    assert rest.request("get", "GET", "/version") == {"gitVersion": "v1"}
    rest.request("create", "POST", "/api/v1/namespaces/a/configmaps", query={"dryRun": "All"}, body={})
    assert [(m, p, q) for m, p, q in server.seen] == [
        ("GET", "/k8s/clusters/c-1/version", {}),
        ("POST", "/k8s/clusters/c-1/api/v1/namespaces/a/configmaps", {"dryRun": ["All"]}),
    ]


def test_the_credential_hook_runs_at_most_once_a_second_and_again_after_a_401(server: Server) -> None:
    server.routes[("GET", "/version")] = lambda *_: (200, {}, {})
    tokens = iter(f"t{i}" for i in range(100))
    hooks: list[str] = []

    def hook(cfg: Any) -> None:
        token = next(tokens)
        hooks.append(token)
        cfg.api_key["authorization"] = "Bearer " + token

    cfg = k8s_client.Configuration()
    cfg.host = server.url
    cfg.api_key = {"authorization": "Bearer t"}
    cfg.refresh_api_key_hook = hook
    rest = Rest(cfg, name="test", qps=0)
    for _ in range(5):
        rest.request("get", "GET", "/version")
    assert hooks == ["t0"] and server.auth == ["Bearer t0"] * 5
    rest._auth = (rest._auth or ("", 0.0))[0], time.monotonic() - 1.5  # a second and a half later
    rest.request("get", "GET", "/version")
    assert hooks == ["t0", "t1"] and server.auth[-1] == "Bearer t1"
    # a 401: the configuration is asked again at once, and the request sent once more
    answers = iter([(401, {}, {"kind": "Status", "code": 401}), (200, {}, {})])
    server.routes[("GET", "/version")] = lambda *_: next(answers)
    rest.reauthenticate = lambda: True
    rest.request("get", "GET", "/version")
    assert hooks == ["t0", "t1", "t2"] and server.auth[-2:] == ["Bearer t1", "Bearer t2"]
