"""The controller's HTTP endpoints, as controller-runtime lays them out.

``--metrics-bind-address`` serves ``/metrics`` (and ``/healthz``, ``/readyz``, as before),
``--health-probe-bind-address`` serves ``/healthz`` and ``/readyz`` for the kubelet's
probes. Defaults: in a Pod controller-runtime's ``:8080`` and ``:8081`` (every
interface: Prometheus and the kubelet connect from outside), elsewhere loopback only
(``127.0.0.1:8080``, ``127.0.0.1:8081``). ``0`` turns an endpoint off; the same address
for both is one server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.sync.metrics import CONTENT_TYPE

METRICS_FLAG = "--metrics-bind-address"
PROBE_FLAG = "--health-probe-bind-address"
IN_CLUSTER = (":8080", ":8081")
LOCAL = ("127.0.0.1:8080", "127.0.0.1:8081")


def addresses(metrics: str | None, probe: str | None, in_cluster: bool) -> tuple[str, str]:
    """The metrics and probe addresses: the flags, else the defaults for where it runs."""
    default_metrics, default_probe = IN_CLUSTER if in_cluster else LOCAL
    return metrics or default_metrics, probe or default_probe


def split(flag: str, bind: str) -> tuple[str, int]:
    """``host:port`` (``:port`` is every interface, ``[::1]:port`` IPv6) to a socket address."""
    host, sep, port = bind.rpartition(":")
    try:
        number = int(port)
    except ValueError:
        number = -1
    if not sep or not 0 <= number <= 65535:
        raise InputError(f"{flag} {bind}: expected HOST:PORT, :PORT or 0")
    return host.strip("[]"), number


def serve(
    metrics_bind: str,
    probe_bind: str,
    ready: Callable[[], bool],
    render: Callable[[], str],
) -> list[ThreadingHTTPServer]:
    """Start the servers (threads); an address in use is one line, exit code 2."""
    routes: dict[str, set[str]] = {}
    if metrics_bind != "0":
        routes.setdefault(metrics_bind, set()).update({"/metrics", "/healthz", "/readyz"})
    if probe_bind != "0":
        routes.setdefault(probe_bind, set()).update({"/healthz", "/readyz"})
    flags = {metrics_bind: METRICS_FLAG, probe_bind: PROBE_FLAG}
    servers: list[ThreadingHTTPServer] = []
    try:
        for bind, paths in routes.items():
            servers.append(_server(flags[bind], bind, frozenset(paths), ready, render))
    except InputError:
        for server in servers:
            server.server_close()
        raise
    for server in servers:
        threading.Thread(target=server.serve_forever, name="endpoints", daemon=True).start()
    return servers


def _server(
    flag: str, bind: str, paths: frozenset[str], ready: Callable[[], bool], render: Callable[[], str]
) -> ThreadingHTTPServer:
    host, port = split(flag, bind)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path not in paths:
                self._reply(404, "not found")
            elif path == "/healthz":
                self._reply(200, "ok")
            elif path == "/readyz":
                ok = ready()
                self._reply(200 if ok else 503, "ok" if ok else "starting")
            else:
                self._reply(200, render(), CONTENT_TYPE)

        def _reply(self, code: int, body: str, ctype: str = "text/plain") -> None:
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    try:
        return ThreadingHTTPServer((host, port), Handler)
    except OSError as err:
        raise InputError(f"{flag} {bind}: {err.strerror or err}") from None
