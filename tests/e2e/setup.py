"""Putting a KubeFed control plane on the test bed with the project's own Python API.

(The CLI's ``init``/``join``/``enable`` will replace this; until then the e2e tests
build the same objects here.)
"""

from __future__ import annotations

import base64
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.core import crds
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube.apply import apply, wait_crd_served
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.settings import Settings, kubefed_config_object

NS = names.DEFAULT_KUBEFED_NAMESPACE


def install_control_plane(host: ClusterClient, settings: Settings | None = None) -> None:
    apply(host, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    for crd in crds.kubefed_crds():
        apply(host, crd)
    for crd in crds.kubefed_crds():
        version = crd["spec"]["versions"][0]["name"]
        wait_crd_served(host, f"{crd['spec']['group']}/{version}", crd["spec"]["names"]["kind"])
    apply(host, kubefed_config_object(settings or Settings()))


def enable(host: ClusterClient, t: tc.TypeConfig | str) -> tc.TypeConfig:
    t = tc.lookup(t) if isinstance(t, str) else t
    apply(host, tc.federated_crd(t))
    wait_crd_served(host, t.federated_api_version, t.federated_kind)
    apply(host, tc.type_config_object(t, NS))
    return t


def join(
    host: ClusterClient,
    name: str,
    server: str,
    ca_pem: bytes,
    token: str,
    labels: dict[str, str] | None = None,
) -> None:
    apply(
        host,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-token", "namespace": NS},
            "data": {"token": base64.b64encode(token.encode()).decode()},
        },
    )
    spec: dict[str, Any] = {
        "apiEndpoint": server,
        "caBundle": base64.b64encode(ca_pem).decode(),
        "secretRef": {"name": f"{name}-token"},
    }
    apply(
        host,
        {
            "apiVersion": names.CORE_API_VERSION,
            "kind": names.KIND_KUBEFED_CLUSTER,
            "metadata": {"name": name, "namespace": NS, "labels": labels or {}},
            "spec": spec,
        },
    )
