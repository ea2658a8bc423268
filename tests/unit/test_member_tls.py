"""Member clients verify TLS against the KubeFedCluster's caBundle without writing the CA
to a file (one per member and start used to pile up in $TMPDIR)."""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import urllib3

from kubectl_kubefed.kube import rest
from kubectl_kubefed.kube.members import MemberClientFactory
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.errors import Unavailable

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def _self_signed(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"major": "1", "minor": "34", "gitVersion": "v1.34.0"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    key, cert = _self_signed(tmp_path, "server")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()


class _Host:
    name = "host"

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return {"data": {"token": base64.b64encode(b"t0ken").decode()}}


def _cluster(endpoint: str, ca: bytes) -> dict[str, Any]:
    return {
        "metadata": {"name": "m1"},
        "spec": {
            "apiEndpoint": endpoint,
            "secretRef": {"name": "m1-secret"},
            "caBundle": base64.b64encode(ca).decode(),
        },
    }


def test_ca_bundle_is_verified_from_memory_and_no_file_is_left(
    tls_server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, cert = tls_server
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    factory = MemberClientFactory(_Host(), "kube-federation-system")  # type: ignore[arg-type]
    for _ in range(3):  # three starts
        client = factory(_cluster(endpoint, cert.read_bytes()))
        assert client.version()["gitVersion"] == "v1.34.0"
    assert list(scratch.iterdir()) == []


def test_a_different_ca_is_refused(tls_server: tuple[str, Path], tmp_path: Path) -> None:
    endpoint, _ = tls_server
    _, other = _self_signed(tmp_path, "other")
    client = MemberClientFactory(_Host(), "ns")(_cluster(endpoint, other.read_bytes()))  # type: ignore[arg-type]
    with pytest.raises(Unavailable, match=r"SSL|certificate"):
        client.version()


def test_a_ca_bundle_that_is_not_base64_is_a_config_error() -> None:
    cluster = _cluster("https://127.0.0.1:1", b"")
    cluster["spec"]["caBundle"] = "not base64!"
    with pytest.raises(ClientConfigError, match="caBundle"):
        MemberClientFactory(_Host(), "ns")(cluster)  # type: ignore[arg-type]


def test_tls_verification_off_is_reported_once_and_urllib3_stays_quiet(
    tls_server: tuple[str, Path], capfd: pytest.CaptureFixture[str]
) -> None:
    endpoint, cert = tls_server
    reported: list[str] = []
    rest.on_insecure_tls(reported.append)
    cluster = _cluster(endpoint, cert.read_bytes())
    cluster["metadata"]["name"] = "insecure-member"
    cluster["spec"]["disabledTLSValidations"] = ["*"]
    factory = MemberClientFactory(_Host(), "ns")  # type: ignore[arg-type]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        for _ in range(2):  # a client rebuilt, several requests
            client = factory(cluster)
            for _ in range(3):
                client.version()
    assert [w for w in caught if issubclass(w.category, urllib3.exceptions.InsecureRequestWarning)] == []
    assert capfd.readouterr().err == ""
    assert reported == ["TLS verification is off for cluster insecure-member: its identity is not checked"]
    late: list[str] = []
    rest.on_insecure_tls(late.append)  # a reporter set later hears of clients made before
    assert any("insecure-member" in m for m in late)
