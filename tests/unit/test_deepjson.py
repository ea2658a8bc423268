"""API server traffic decodes and encodes at any depth: an object nested a few thousand
levels deep (an API server stores it) must not break the cache of its type."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as hs
from kubernetes import client as k8s_client

from kubectl_kubefed.api.objects import nesting_depth
from kubectl_kubefed.kube import deepjson
from kubectl_kubefed.kube.rest import Rest

DEPTH = 3000
DEEP_TEXT = '{"a": ' * DEPTH + "1" + "}" * DEPTH

json_values = hs.recursive(
    hs.none() | hs.booleans() | hs.integers() | hs.floats(allow_nan=False, allow_infinity=False) | hs.text(),
    lambda inner: hs.lists(inner, max_size=4) | hs.dictionaries(hs.text(), inner, max_size=4),
    max_leaves=30,
)


@given(json_values)
def test_the_fallbacks_agree_with_the_json_module(value: Any) -> None:
    text = json.dumps(value)
    assert deepjson._dumps_iteratively(value) == text
    assert deepjson._loads_iteratively(text) == value
    assert deepjson._loads_iteratively(json.dumps(value, indent=1)) == value


@pytest.mark.parametrize(
    "bad", ["", "{", "[1,]", '{"a" 1}', "[1 2]", '{"a":1,}', "nul", "1 2", "-", '{"a":}', '"\x01"', "[}"]
)
def test_invalid_json_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        deepjson._loads_iteratively(bad)


def test_deep_documents_round_trip() -> None:
    value = deepjson.loads(DEEP_TEXT.encode())
    assert nesting_depth(value) == DEPTH
    assert deepjson.dumps(value) == DEEP_TEXT


class _Handler(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_GET(self) -> None:
        if "watch" in self.path:
            event = '{"type": "ADDED", "object": {"x": 1, "deep": ' + DEEP_TEXT + "}}\n"
            self._reply(event.encode() + b'{"type": "BOOKMARK", "object": {}}\n')
        else:
            self._reply(DEEP_TEXT.encode())

    def do_PUT(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        _Handler.received.append(data)
        self._reply(data)

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def rest() -> Iterator[Rest]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    cfg = k8s_client.Configuration()
    cfg.host = f"http://127.0.0.1:{server.server_address[1]}"
    yield Rest(cfg, name="deep")
    server.shutdown()


def test_rest_reads_writes_and_watches_deep_objects(rest: Rest) -> None:
    got = rest.request("get", "GET", "/api/v1/thing")
    assert nesting_depth(got) == DEPTH
    echoed = rest.request("update", "PUT", "/api/v1/thing", body=got)
    assert nesting_depth(echoed) == DEPTH and _Handler.received[-1].decode() == DEEP_TEXT
    _, lines = rest.stream("/api/v1/thing", {"watch": "1"}, timeout=5)
    events = list(lines)
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert nesting_depth(events[0]["object"]["deep"]) == DEPTH
