"""One ``ClusterClient`` conformance suite, two backends: the simulator (``sim``) and a
member kube-apiserver of the session test bed (``real``, marked e2e).

Each test gets a ``Backend``: the client, a fresh namespace, the backend's own apply
(``Fleet.apply`` for the simulator, ``kubectl kubefed``'s apply for a real cluster), a way
to make a client with a restricted identity, and ``eventually`` (the real API server's
controllers, e.g. the garbage collector, act asynchronously; the simulator's at once).
"""

from __future__ import annotations

import contextlib
import copy
import secrets
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from kubectl_kubefed.api.objects import Obj
from kubectl_kubefed.kube.apply import wait_crd_served
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import client_for_context
from kubectl_kubefed.kube.membertoken import request_token
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync.apply import apply
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.errors import NotFound
from simulator.apiserver import ClientView, Rule
from simulator.fleet import Fleet
from tests.e2e import testbed
from tests.e2e.conftest import eventually

T = TypeVar("T")
MEMBER = "member1"
CRD_GROUP = "conformance.example.com"


@dataclass
class Backend:
    name: str
    client: ClusterClient
    namespace: str
    apply: Callable[[Mapping[str, Any]], Obj]
    restricted: Callable[[str, list[str], str], ClusterClient]  # (namespace, verbs, plural)
    eventually: Callable[..., Any]

    def configmap(self, name: str, **fields: Any) -> Obj:
        meta = {"name": name, "namespace": self.namespace, **fields.pop("metadata", {})}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, **fields}

    def ensure_crd(self, crd: Mapping[str, Any]) -> None:
        """A CRD, applied and waited for until its kind is served."""
        apply(self.client, crd)
        spec = crd["spec"]
        version = spec["versions"][0]["name"]
        wait_crd_served(self.client, f"{spec['group']}/{version}", spec["names"]["kind"])


def crd(kind: str, plural: str, *, status: bool, group: str = CRD_GROUP, scope: str = "Namespaced") -> Obj:
    version: dict[str, Any] = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
    if status:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": scope,
            "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
            "versions": [version],
        },
    }


def _at_once(check: Callable[[], T], timeout: float = 0.0, interval: float = 0.0, what: str = "") -> T:
    """The simulator's ``eventually``: its controllers have acted when the call returns."""
    result = check()
    assert result, f"not so: {what or check}"
    return result


def _sim_backend() -> Backend:
    fleet = Fleet([{"name": MEMBER}], crds_required=True)
    server = fleet.servers[MEMBER]
    client = ClientView(server, MEMBER)
    namespace = f"conf-{secrets.token_hex(3)}"
    client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})

    def restricted(ns: str, verbs: list[str], plural: str) -> ClusterClient:
        return ClientView(server, "restricted", rules=[Rule(tuple(verbs), "", plural, ns)])

    return Backend(
        "sim",
        client,
        namespace,
        lambda obj: fleet.apply([obj], cluster=MEMBER)[0],
        restricted,
        _at_once,
    )


def _token_client(admin: KubeClusterClient, token: str) -> KubeClusterClient:
    cfg = copy.copy(admin.rest.configuration)
    cfg.api_key = {"authorization": "Bearer " + token}
    cfg.api_key_prefix = {}
    cfg.refresh_api_key_hook = None
    return KubeClusterClient(Rest(cfg, name="restricted"), "restricted")


def _real_backend(admin: KubeClusterClient) -> Iterator[Backend]:
    namespace = f"conf-{secrets.token_hex(3)}"
    admin.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})

    def restricted(ns: str, verbs: list[str], plural: str) -> ClusterClient:
        sa = f"limited-{secrets.token_hex(2)}"
        rbac = "rbac.authorization.k8s.io/v1"
        admin.create(
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}}
        )
        admin.create(
            {
                "apiVersion": rbac,
                "kind": "Role",
                "metadata": {"name": sa, "namespace": ns},
                "rules": [{"apiGroups": [""], "resources": [plural], "verbs": verbs}],
            }
        )
        admin.create(
            {
                "apiVersion": rbac,
                "kind": "RoleBinding",
                "metadata": {"name": sa, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
            }
        )
        return _token_client(admin, request_token(admin.rest, ns, sa, 600))

    yield Backend(
        "real",
        admin,
        namespace,
        lambda obj: apply(admin, obj)[0],
        restricted,
        eventually,
    )
    with contextlib.suppress(NotFound):
        admin.delete("v1", "Namespace", "", namespace)


@pytest.fixture(scope="session")
def real_member(bed: tuple[str, str, list[str], testbed.TestBed | None]) -> Iterator[KubeClusterClient]:
    kubeconfig, _, members, _ = bed
    client = client_for_context(kubeconfig, members[0], name=MEMBER)
    yield client
    # The suite's CRDs go with it (existing clusters, e.g. kind, outlive the session).
    crds, _ = client.list("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    for definition in crds:
        if str(definition["metadata"]["name"]).endswith("." + CRD_GROUP):
            with contextlib.suppress(NotFound):
                client.delete(
                    "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", definition["metadata"]["name"]
                )


@pytest.fixture(params=["sim", pytest.param("real", marks=pytest.mark.e2e)])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "sim":
        yield _sim_backend()
        return
    admin: KubeClusterClient = request.getfixturevalue("real_member")
    yield from _real_backend(admin)
