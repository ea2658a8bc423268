"""The controller's logs: stdlib logging, JSON or text lines, -v levels, warnings captured;
and its endpoints' addresses."""

from __future__ import annotations

import io
import json
import logging
import urllib.request
import warnings
from collections.abc import Iterator

import pytest
import urllib3

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.cli import endpoints, logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("kubefed").level)
    out = io.StringIO()
    yield out
    logging.captureWarnings(False)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])
    logging.getLogger("kubefed").setLevel(saved[2])


def _lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_parse_with_fields(stream: io.StringIO) -> None:
    logs.configure("info", 0, "json", stream)
    log = logs.Logger()
    log.info("starting", host="https://127.0.0.1:6443", types=["a", "b"])
    log.debug("not shown")
    log.error('a "quoted"\nmessage')
    lines = _lines(stream)
    assert [line["msg"] for line in lines] == ["starting", 'a "quoted"\nmessage']
    assert lines[0]["level"] == "info" and lines[0]["types"] == ["a", "b"]
    assert lines[0]["component"] == "kubefed-controller" and str(lines[0]["ts"]).endswith("Z")


def test_v_turns_on_debug(stream: io.StringIO) -> None:
    logs.configure("info", 1, "json", stream)
    logs.Logger().debug("details")
    logging.getLogger("urllib3.connectionpool").debug("library chatter")
    assert [line["msg"] for line in _lines(stream)] == ["details"]  # libraries from -v 4


def test_v4_shows_library_debug(stream: io.StringIO) -> None:
    logs.configure("info", 4, "json", stream)
    logging.getLogger("urllib3.connectionpool").debug("library chatter")
    assert _lines(stream)[0]["logger"] == "urllib3.connectionpool"


def test_library_warnings_are_captured_as_json(stream: io.StringIO) -> None:
    logs.configure("info", 0, "json", stream)
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("Unverified HTTPS request", urllib3.exceptions.InsecureRequestWarning, stacklevel=1)
    logging.getLogger("kubernetes.config").error("exec: missing token")
    lines = _lines(stream)
    assert lines[0]["level"] == "warning" and "Unverified HTTPS request" in str(lines[0]["msg"])
    assert lines[1]["logger"] == "kubernetes.config"


def test_text_format(stream: io.StringIO) -> None:
    logs.configure("warning", 0, "text", stream)
    logs.Logger().info("hidden")
    logs.Logger().warning("cluster offline", cluster="m1")
    (line,) = stream.getvalue().splitlines()
    assert "WARNING" in line and line.endswith('cluster offline cluster="m1"')


def test_bad_values_are_refused() -> None:
    with pytest.raises(ValueError, match="--log-format"):
        logs.configure("info", 0, "xml")
    with pytest.raises(ValueError, match="--log-level"):
        logs.configure("loud", 0, "json")


# -- endpoints -------------------------------------------------------------------------------


def test_default_addresses() -> None:
    assert endpoints.addresses(None, None, in_cluster=True) == (":8080", ":8081")
    assert endpoints.addresses(None, None, in_cluster=False) == ("127.0.0.1:8080", "127.0.0.1:8081")
    assert endpoints.addresses("127.0.0.1:9", "0", in_cluster=True) == ("127.0.0.1:9", "0")
    assert endpoints.split("x", ":8080") == ("", 8080)
    assert endpoints.split("x", "[::1]:80") == ("::1", 80)
    with pytest.raises(InputError, match="expected HOST:PORT"):
        endpoints.split("--metrics-bind-address", "8080x")


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_probe_port_serves_probes_not_metrics() -> None:
    ready = {"v": False}
    servers = endpoints.serve("127.0.0.1:0", "127.0.0.1:0", lambda: ready["v"], lambda: "m 1\n")
    try:
        # "127.0.0.1:0" twice is one address, so one server; now two distinct ones:
        assert len(servers) == 1
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
    metrics, probe = (
        endpoints.serve("127.0.0.1:0", "0", lambda: ready["v"], lambda: "m 1\n")[0],
        endpoints.serve("0", "127.0.0.1:0", lambda: ready["v"], lambda: "m 1\n")[0],
    )
    try:
        mport, pport = metrics.server_address[1], probe.server_address[1]
        assert _get(pport, "/readyz")[0] == 503
        ready["v"] = True
        assert _get(pport, "/readyz") == (200, "ok") and _get(pport, "/healthz") == (200, "ok")
        assert _get(pport, "/metrics")[0] == 404
        assert _get(mport, "/metrics") == (200, "m 1\n") and _get(mport, "/healthz") == (200, "ok")
    finally:
        for s in (metrics, probe):
            s.shutdown()
            s.server_close()


def test_an_address_in_use_is_one_line() -> None:
    (first,) = endpoints.serve("127.0.0.1:0", "0", lambda: True, lambda: "")
    try:
        port = first.server_address[1]
        with pytest.raises(InputError, match=f"--health-probe-bind-address 127.0.0.1:{port}"):
            endpoints.serve("0", f"127.0.0.1:{port}", lambda: True, lambda: "")
    finally:
        first.shutdown()
        first.server_close()
