"""FederatedApplication against real kube-apiservers (docs/application.md): one object with
a Deployment, a Service and a ConfigMap reaches the clusters its selector picks, a selector
override touches only the matching cluster, the status rolls up what the members report
(their Pods made Ready through the status subresource: the test bed runs no kubelet), a
member going down moves its replicas after the toleration, and deleting the application
removes everything from the members. (A whole chart as one application, through Helm's
post-renderer, is in test_helm.py.)"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import application as app
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.sync.errors import AlreadyExists, NotFound
from tests.e2e.conftest import Plane, eventually, kubefed, update_retrying
from tests.e2e.test_propagation_e2e import FED, deployment_template

pytestmark = pytest.mark.e2e

NS_SYSTEM = names.DEFAULT_KUBEFED_NAMESPACE
NODE = "e2e-app-node"  # a Node object for the members' Pods to be bound to (no kubelet)
TOLERATION = 8


def cluster_labels(plane: Plane, cluster: str, labels: dict[str, str | None]) -> None:
    """Set (None: remove) labels of a KubeFedCluster, as `kubectl label` would."""

    def change(obj: dict[str, Any]) -> None:
        current = obj["metadata"].setdefault("labels", {})
        for key, value in labels.items():
            if value is None:
                current.pop(key, None)
            else:
                current[key] = value

    update_retrying(
        plane.host, names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, NS_SYSTEM, cluster, change
    )


@pytest.fixture
def labelled(plane: Plane) -> Iterator[str]:
    """member1 and member2 labelled with a fresh selector value; member2 is in 'asia'."""
    token = secrets.token_hex(3)
    cluster_labels(plane, "member1", {"e2e-app": token, "e2e-region": "eu"})
    cluster_labels(plane, "member2", {"e2e-app": token, "e2e-region": "asia"})
    yield token
    for member in ("member1", "member2"):
        cluster_labels(plane, member, {"e2e-app": None, "e2e-region": None})
        with contextlib.suppress(NotFound):
            plane.member(member).delete("v1", "Node", "", NODE)


def application(ns: str, token: str, **spec: Any) -> dict[str, Any]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", **deployment_template(2)["metadata"]},
        "spec": deployment_template(2)["spec"],
    }
    return {
        "apiVersion": app.API_VERSION,
        "kind": app.KIND,
        "metadata": {"name": "shop", "namespace": ns},
        "spec": {
            "components": [
                deployment,
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "web"},
                    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
                },
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "settings"},
                    "data": {"tier": "std"},
                },
            ],
            "placement": {"clusterSelector": {"matchLabels": {"e2e-app": token}}},
            "overrides": [
                {
                    "clusterSelector": {"matchLabels": {"e2e-region": "asia"}},
                    "component": {"kind": "ConfigMap", "name": "settings"},
                    "clusterOverrides": [{"path": "/data/tier", "value": "asia"}],
                }
            ],
            **spec,
        },
    }


def app_status(plane: Plane, ns: str, name: str = "shop") -> dict[str, Any]:
    return dict(plane.host.get(app.API_VERSION, app.KIND, ns, name).get("status") or {})


def condition(status: dict[str, Any], kind: str) -> str:
    return next((str(c["status"]) for c in status.get("conditions") or [] if c["type"] == kind), "")


def make_pods_ready(member: KubeClusterClient, ns: str) -> int:
    """Bind every Pod of the namespace to a Node object and report it Running and Ready, as a
    kubelet would; the member's own ReplicaSet and Deployment controllers then count it."""
    with contextlib.suppress(AlreadyExists):
        member.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}})
    pods = member.list("v1", "Pod", ns)[0]
    for pod in pods:
        name = pod["metadata"]["name"]
        base = f"/api/v1/namespaces/{ns}/pods/{name}"
        if not pod["spec"].get("nodeName"):
            binding = {
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": NODE},
            }
            member.rest.request("create", "POST", base + "/binding", body=binding)
        if (pod.get("status") or {}).get("phase") != "Running":
            ready = {"type": "Ready", "status": "True"}
            status = {
                "status": {
                    "phase": "Running",
                    "conditions": [ready, {"type": "ContainersReady", "status": "True"}],
                }
            }
            member.rest.request(
                "patch", "PATCH", base + "/status", body=status, content_type="application/merge-patch+json"
            )
    return len(pods)


def member_deployment(plane: Plane, cluster: str, ns: str) -> dict[str, Any] | None:
    return plane.get_or_none(cluster, "apps/v1", "Deployment", ns, "web")


def test_an_application_propagates_rolls_up_fails_over_and_is_deleted(
    plane: Plane, ns: str, labelled: str
) -> None:
    if plane.bed is None:
        pytest.skip("needs the local test bed to stop an API server")
    spec = {
        "replicas": {"rebalance": True, "totalReplicas": 4, "clusters": {"*": {"weight": 1}}},
        "failover": {"tolerationSeconds": TOLERATION},
    }
    plane.host.create(application(ns, labelled, **spec))

    # Expanded into owned federated objects and an RSP.
    fed = eventually(lambda: plane.host.get(FED, "FederatedConfigMap", ns, "settings"), 60, what="expansion")
    assert fed["metadata"]["labels"][app.APP_LABEL] == "shop"
    assert fed["metadata"]["ownerReferences"][0]["kind"] == app.KIND
    rsp = eventually(
        lambda: plane.host.get(names.SCHEDULING_API_VERSION, "ReplicaSchedulingPreference", ns, "web"),
        60,
        what="the application's RSP",
    )
    assert rsp["metadata"]["annotations"][app.TOLERATION_ANNOTATION] == str(TOLERATION)

    # Components reach the selected members only; the selector override only asia.
    for member in ("member1", "member2"):
        eventually(
            lambda m=member: plane.member(m).get("v1", "Service", ns, "web"), 60, what=f"service on {member}"
        )
    eventually(
        lambda: plane.member("member2").get("v1", "ConfigMap", ns, "settings")["data"] == {"tier": "asia"},
        60,
        what="asia's override",
    )
    assert plane.member("member1").get("v1", "ConfigMap", ns, "settings")["data"] == {"tier": "std"}
    assert plane.get_or_none("host", "v1", "ConfigMap", ns, "settings") is None  # not selected
    eventually(
        lambda: (
            {
                c: (member_deployment(plane, c, ns) or {}).get("spec", {}).get("replicas")
                for c in ("member1", "member2")
            }
            == {"member1": 2, "member2": 2}
        ),
        60,
        what="replicas spread 2/2",
    )

    # Status: Progressing while Pods are not Ready; Ready once the members report them.
    status = eventually(lambda: app_status(plane, ns).get("clusters"), 60, what="status clusters")
    assert {c["name"] for c in status} == {"member1", "member2"}
    assert condition(app_status(plane, ns), app.COND_READY) != "True"

    def members_ready() -> bool:
        for member in ("member1", "member2"):
            assert make_pods_ready(plane.member(member), ns) == 2
        got = app_status(plane, ns)
        assert got.get("summary") == "2/2 clusters ready", got
        return True

    eventually(members_ready, 90, interval=1.0, what="status rolled up to ready")
    rolled = app_status(plane, ns)
    assert condition(rolled, app.COND_READY) == "True"
    assert condition(rolled, app.COND_DEGRADED) == "False"
    by_cluster = {c["name"]: c for c in rolled["clusters"]}
    assert by_cluster["member1"]["readyReplicas"] == 2 and by_cluster["member1"]["desiredReplicas"] == 2
    assert by_cluster["member2"]["componentsApplied"] == 3
    shown = kubefed(
        plane.kubeconfig, "app", "status", "shop", "-n", ns, "--context", plane.host_context
    ).stdout
    assert "2/2 clusters ready" in shown

    # member2 goes down: its replicas move to member1 after the toleration, and back.
    plane.bed.stop_apiserver("member2")
    try:
        eventually(
            lambda: (member_deployment(plane, "member1", ns) or {})["spec"]["replicas"] == 4,
            120,
            what="member2's replicas moved to member1",
        )
        eventually(
            lambda: app_status(plane, ns).get("summary") != "2/2 clusters ready",
            60,
            what="status not all ready",
        )
    finally:
        plane.bed.start_apiserver("member2")
    eventually(
        lambda: (member_deployment(plane, "member1", ns) or {})["spec"]["replicas"] == 2,
        120,
        what="rebalanced back to 2/2",
    )

    # Deleting the application deletes everything it made, on the host and the members.
    plane.host.delete(app.API_VERSION, app.KIND, ns, "shop")

    def gone() -> bool:
        for cluster in ("member1", "member2"):
            for api_version, kind, name in (
                ("apps/v1", "Deployment", "web"),
                ("v1", "Service", "web"),
                ("v1", "ConfigMap", "settings"),
            ):
                assert plane.get_or_none(cluster, api_version, kind, ns, name) is None, (cluster, kind)
        for kind in ("FederatedDeployment", "FederatedService", "FederatedConfigMap"):
            assert plane.host.list(FED, kind, ns)[0] == [], kind
        return True

    eventually(gone, 120, interval=1.0, what="the application's objects gone everywhere")


def test_removing_a_component_removes_it_from_every_member(plane: Plane, ns: str, labelled: str) -> None:
    plane.host.create(application(ns, labelled))
    for member in ("member1", "member2"):
        for kind, name in (("ConfigMap", "settings"), ("Service", "web")):
            eventually(
                lambda m=member, k=kind, n=name: plane.member(m).get("v1", k, ns, n),
                60,
                what=f"{kind} on {member}",
            )

    def drop(obj: dict[str, Any]) -> None:
        obj["spec"]["components"] = [c for c in obj["spec"]["components"] if c["kind"] != "ConfigMap"]
        obj["spec"]["overrides"] = []

    update_retrying(plane.host, app.API_VERSION, app.KIND, ns, "shop", drop)
    eventually(
        lambda: all(
            plane.get_or_none(m, "v1", "ConfigMap", ns, "settings") is None for m in ("member1", "member2")
        ),
        90,
        what="the ConfigMap removed from the members",
    )
    assert plane.member("member1").get("v1", "Service", ns, "web")  # the others stay
    plane.host.delete(app.API_VERSION, app.KIND, ns, "shop")
