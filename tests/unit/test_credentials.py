"""Credentials of a long-running controller: the Pod's service account token (re-read, and
after a 401), exec plugins (re-run before expiry and after a 401), and when the in-cluster
configuration is used."""

from __future__ import annotations

import datetime
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s_client

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.kube import credentials
from kubectl_kubefed.kube.members import client_for_context
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync import errors
from tests.unit.test_rest_http import Answer, Server, server  # noqa: F401  (the fixture)

VERSION = {"major": "1", "minor": "34", "gitVersion": "v1.34.0"}


def _accepting(srv: Server, token: str) -> None:
    def answer(_m: str, _q: dict[str, list[str]], _b: bytes) -> Answer:
        if srv.auth[-1] != f"Bearer {token}":
            return (
                401,
                {},
                {"kind": "Status", "code": 401, "reason": "Unauthorized", "message": "Unauthorized"},
            )
        return 200, {}, VERSION

    srv.routes[("GET", "/version")] = answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_token_file_is_read_again_after_its_period(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("one\n")
    clock = Clock()
    token = credentials.FileToken(path, reload_seconds=60, clock=clock)
    path.write_text("two")  # the kubelet rotated the projected token
    clock.now += 59
    assert token.current() == "one"
    clock.now += 1
    assert token.current() == "two"


def test_a_missing_or_empty_token_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"service account token .*token"):
        credentials.FileToken(tmp_path / "token")
    (tmp_path / "token").write_text("")
    with pytest.raises(InputError, match="is empty"):
        credentials.FileToken(tmp_path / "token")


def test_a_401_reads_the_token_file_again_and_repeats_the_request(server: Server, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "token"
    path.write_text("old")
    token = credentials.FileToken(path, reload_seconds=3600)
    rest = server.rest()
    rest.configuration.refresh_api_key_hook = token.hook
    rest.reauthenticate = token.refresh
    _accepting(server, "new")
    path.write_text("new")  # rotated before the periodic re-read
    assert rest.request("get", "GET", "/version") == VERSION
    assert server.auth[-2:] == ["Bearer old", "Bearer new"]


def test_a_401_with_unchanged_credentials_is_not_repeated(server: Server, tmp_path: Path) -> None:  # noqa: F811
    path = tmp_path / "token"
    path.write_text("revoked")
    token = credentials.FileToken(path, reload_seconds=3600)
    rest = server.rest()
    rest.configuration.refresh_api_key_hook = token.hook
    rest.reauthenticate = token.refresh
    _accepting(server, "other")
    with pytest.raises(errors.Unauthorized):
        rest.request("get", "GET", "/version")
    assert len(server.auth) == 1


@pytest.mark.parametrize(
    ("kubeconfig", "env", "context", "expected"),
    [
        (None, {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, None, True),
        ("kc", {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, None, False),
        (
            None,
            {"KUBECONFIG": "/k", "KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"},
            None,
            False,
        ),
        (None, {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}, "host", False),
        (None, {}, None, False),
    ],
)
def test_when_the_service_account_is_used(
    kubeconfig: str | None, env: dict[str, str], context: str | None, expected: bool
) -> None:
    assert credentials.in_cluster(kubeconfig, context, env) is expected


def test_in_cluster_configuration(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "namespace").write_text("kube-federation-system")
    env = {
        "KUBERNETES_SERVICE_HOST": "fd00::1",
        "KUBERNETES_SERVICE_PORT": "443",
        credentials.SERVICE_ACCOUNT_DIR_ENV: str(tmp_path),
    }
    cfg, _, pod = credentials.in_cluster_configuration(env)
    assert cfg.host == "https://[fd00::1]:443"
    assert cfg.ssl_ca_cert == str(tmp_path / "ca.crt")
    assert cfg.get_api_key_with_prefix("BearerToken") == "Bearer sa-token"
    assert pod.namespace == "kube-federation-system"
    assert credentials.service_account_dir({}) == Path("/var/run/secrets/kubernetes.io/serviceaccount")


def test_client_for_context_uses_the_service_account_in_a_pod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "6443")
    monkeypatch.setenv(credentials.SERVICE_ACCOUNT_DIR_ENV, str(tmp_path))
    client = client_for_context(None, None, name="host")
    assert client.rest.host == "https://127.0.0.1:6443"
    assert client.rest.reauthenticate is not None


# -- exec credential plugins -----------------------------------------------------------------


def _exec_kubeconfig(tmp_path: Path, url: str, expiry: datetime.datetime | None) -> tuple[Path, Path, Path]:
    """A kubeconfig whose user is an exec plugin printing the token in ``token`` (each run
    appends a line to ``runs``)."""
    token, runs = tmp_path / "token", tmp_path / "runs"
    token.write_text("first")
    status: dict[str, Any] = {}
    if expiry is not None:
        status["expirationTimestamp"] = expiry.strftime("%Y-%m-%dT%H:%M:%SZ")
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import json, pathlib\n"
        f"pathlib.Path({str(runs)!r}).open('a').write('run\\n')\n"
        f"status = {status!r}\n"
        f"status['token'] = pathlib.Path({str(token)!r}).read_text()\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', "
        "'kind': 'ExecCredential', 'status': status}))\n"
    )
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": url}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": sys.executable,
                        "args": [str(plugin)],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    return path, token, runs


def test_exec_plugin_runs_again_after_a_401(server: Server, tmp_path: Path) -> None:  # noqa: F811
    kubeconfig, token, runs = _exec_kubeconfig(tmp_path, server.url, expiry=None)
    client = client_for_context(str(kubeconfig), None, name="host")
    _accepting(server, "second")
    token.write_text("second")  # the first credential was revoked early
    assert client.rest.request("get", "GET", "/version") == VERSION
    assert server.auth == ["Bearer first", "Bearer second"]
    assert len(runs.read_text().splitlines()) == 2


def test_exec_plugin_runs_again_before_the_credential_expires(server: Server, tmp_path: Path) -> None:  # noqa: F811
    soon = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(minutes=2)  # within the skew
    kubeconfig, token, runs = _exec_kubeconfig(tmp_path, server.url, expiry=soon)
    client = client_for_context(str(kubeconfig), None, name="host")
    _accepting(server, "second")
    token.write_text("second")
    assert client.rest.request("get", "GET", "/version") == VERSION
    assert server.auth == ["Bearer second"]  # no 401 first: renewed before it expired
    assert len(runs.read_text().splitlines()) >= 2


def test_reauth_is_rate_limited() -> None:
    cfg = k8s_client.Configuration()
    reauth = credentials.KubeconfigReauth(cfg, "/nonexistent", "ctx")
    assert reauth() is False  # the kubeconfig is gone: nothing changed, no exception
    assert reauth() is False and reauth.reloads == 0


def test_a_watch_refused_with_401_is_opened_again_with_the_new_token(tmp_path: Path) -> None:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization") or "")
            if seen[-1] != "Bearer new":
                body = b'{"kind":"Status","code":401,"reason":"Unauthorized","message":"Unauthorized"}'
                self.send_response(401)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            line = b'{"type":"ADDED","object":{"metadata":{"name":"x"}}}\n'
            self.send_response(200)
            self.send_header("Content-Length", str(len(line)))
            self.end_headers()
            self.wfile.write(line)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        path = tmp_path / "token"
        path.write_text("old")
        token = credentials.FileToken(path, reload_seconds=3600)
        cfg = k8s_client.Configuration()
        cfg.host = f"http://127.0.0.1:{httpd.server_address[1]}"
        cfg.refresh_api_key_hook = token.hook
        rest = Rest(cfg, name="test", qps=0)
        rest.reauthenticate = token.refresh
        path.write_text("new")
        _, events = rest.stream("/api/v1/configmaps", {"watch": "1"}, timeout=5)
        assert [e["type"] for e in events] == ["ADDED"]
        assert seen == ["Bearer old", "Bearer new"]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_concurrent_requests_near_expiry_run_the_exec_plugin_once(tmp_path: Path) -> None:
    """The first credential is inside the client's 5 min skew, the next one is not: eight
    workers asking at once get the new token from one run of the plugin."""
    token, runs = tmp_path / "token", tmp_path / "runs"
    token.write_text("t")
    plugin = tmp_path / "plugin.py"
    plugin.write_text(
        "import datetime, json, pathlib, time\n"
        f"runs = pathlib.Path({str(runs)!r})\n"
        "n = len(runs.read_text().splitlines()) if runs.exists() else 0\n"
        "runs.open('a').write('run\\n')\n"
        "time.sleep(0.2)\n"
        "minutes = 1 if n == 0 else 60\n"
        "at = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        " 'status': {'token': f't{n}', 'expirationTimestamp': at.strftime('%Y-%m-%dT%H:%M:%SZ')}}))\n"
    )
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [
            {
                "name": "u",
                "user": {
                    "exec": {
                        "apiVersion": "client.authentication.k8s.io/v1",
                        "command": sys.executable,
                        "args": [str(plugin)],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(config))
    client = client_for_context(str(path), None, name="host")
    assert len(runs.read_text().splitlines()) == 1
    seen: list[str | None] = []
    workers = [
        threading.Thread(target=lambda: seen.append(client.rest._headers().get("Authorization")))
        for _ in range(8)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(runs.read_text().splitlines()) == 2
    assert seen == ["Bearer t1"] * 8


def test_pod_namespace(tmp_path: Path) -> None:
    env = {credentials.SERVICE_ACCOUNT_DIR_ENV: str(tmp_path)}
    assert credentials.pod_namespace(env) == ""
    (tmp_path / "namespace").write_text("kubefed\n")
    assert credentials.pod_namespace(env) == "kubefed"


def test_the_refresh_hook_stays_serialised_after_the_client_reinstalls_its_own() -> None:
    """The kubernetes client's exec hook puts itself back (unwrapped) each time it runs; every
    later refresh must still be serialised, not only the first."""
    cfg = k8s_client.Configuration()
    inside = 0
    overlaps: list[int] = []

    def client_hook(configuration: Any) -> None:  # what KubeConfigLoader installs
        nonlocal inside
        inside += 1
        overlaps.append(inside)
        time.sleep(0.01)
        configuration.refresh_api_key_hook = client_hook  # as _set_config does
        inside -= 1

    cfg.refresh_api_key_hook = client_hook
    credentials.KubeconfigReauth(cfg, "/nonexistent", "ctx")
    for _ in range(3):
        threads = [threading.Thread(target=cfg.refresh_api_key_hook, args=(cfg,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert getattr(cfg.refresh_api_key_hook, credentials.SERIALISED, False)
    assert len(overlaps) == 12 and max(overlaps) == 1
