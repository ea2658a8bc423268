"""KubeFed's e2e suite (reference §10) against real kube-apiservers, with the controller
running as a separate process."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kubectl_kubefed.core import versions
from tests.e2e.conftest import Plane, eventually, rejoin, update_retrying

pytestmark = pytest.mark.e2e
FED = "types.kubefed.io/v1beta1"
MANAGED = "kubefed.io/managed"


def federated(kind: str, ns: str, name: str, template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": FED,
        "kind": f"Federated{kind}",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": template, "placement": spec.pop("placement", {"clusterSelector": {}}), **spec},
    }


def deployment_template(replicas: int = 1, image: str = "nginx:1.25") -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            },
        },
    }


# kind -> (apiVersion, template, override path, override value, field getter)
CASES: dict[str, tuple[str, dict[str, Any], str, Any, Callable[[dict[str, Any]], Any]]] = {
    "ConfigMap": ("v1", {"data": {"k": "v"}}, "/data/k", "override", lambda o: o["data"]["k"]),
    "Secret": (
        "v1",
        {"type": "Opaque", "stringData": {"k": "v"}},
        "/metadata/labels/tier",
        "gold",
        lambda o: o["metadata"]["labels"]["tier"],
    ),
    "ServiceAccount": (
        "v1",
        {"automountServiceAccountToken": False},
        "/automountServiceAccountToken",
        True,
        lambda o: o["automountServiceAccountToken"],
    ),
    "Service": (
        "v1",
        {"spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}},
        "/spec/ports/0/port",
        8080,
        lambda o: o["spec"]["ports"][0]["port"],
    ),
    "Deployment": ("apps/v1", deployment_template(), "/spec/replicas", 3, lambda o: o["spec"]["replicas"]),
}


def status_of(plane: Plane, kind: str, ns: str, name: str) -> dict[str, Any]:
    return dict(plane.host.get(FED, f"Federated{kind}", ns, name).get("status") or {})


def propagated_ok(plane: Plane, kind: str, ns: str, name: str, clusters: set[str]) -> bool:
    status = status_of(plane, kind, ns, name)
    cond = (status.get("conditions") or [{}])[0]
    return (
        cond.get("status") == "True"
        and {c["name"] for c in status.get("clusters", [])} == clusters
        and all(not c.get("status") for c in status.get("clusters", []))
    )


@pytest.mark.parametrize("kind", list(CASES))
def test_crud(plane: Plane, ns: str, kind: str) -> None:
    api, template, path, value, field = CASES[kind]
    name = f"crud-{kind.lower()}"
    overrides = [{"clusterName": "member2", "clusterOverrides": [{"path": path, "value": value}]}]
    plane.host.create(federated(kind, ns, name, template, overrides=overrides))
    everywhere = {"host", "member1", "member2"}

    def members_have_it() -> bool:
        for cluster in everywhere:
            obj = plane.get_or_none(cluster, api, kind, ns, name)
            assert obj is not None, cluster
            assert obj["metadata"]["labels"][MANAGED] == "true"
        assert field(plane.member("member2").get(api, kind, ns, name)) == value
        return True

    eventually(members_have_it, what=f"{kind} in every cluster")
    eventually(lambda: propagated_ok(plane, kind, ns, name, everywhere), what="status OK")
    fed = plane.host.get(FED, f"Federated{kind}", ns, name)
    assert status_of(plane, kind, ns, name)["observedGeneration"] == fed["metadata"]["generation"]
    pv = plane.host.get("core.kubefed.io/v1alpha1", "PropagatedVersion", ns, f"{kind.lower()}-{name}")
    assert pv["status"]["templateVersion"] == versions.template_version(fed)
    assert pv["status"]["overridesVersion"] == versions.overrides_version(fed)
    assert {v["clusterName"] for v in pv["status"]["clusterVersions"]} == everywhere

    # Update: a label added to the template reaches every cluster.
    def label(fed: dict[str, Any]) -> None:
        fed["spec"]["template"].setdefault("metadata", {}).setdefault("labels", {})["updated"] = "yes"

    update_retrying(plane.host, FED, f"Federated{kind}", ns, name, label)
    eventually(
        lambda: all(
            plane.get_or_none(c, api, kind, ns, name)["metadata"]["labels"].get("updated") == "yes"
            for c in everywhere
        ),
        what="update propagated",
    )

    # Placement change: member1 is deselected, its object removed.
    update_retrying(
        plane.host,
        FED,
        f"Federated{kind}",
        ns,
        name,
        lambda fed: fed["spec"].update(placement={"clusters": [{"name": "host"}, {"name": "member2"}]}),
    )
    eventually(lambda: plane.get_or_none("member1", api, kind, ns, name) is None, what="removed from member1")
    eventually(
        lambda: propagated_ok(plane, kind, ns, name, {"host", "member2"}), what="status after deselect"
    )

    plane.host.delete(FED, f"Federated{kind}", ns, name)
    eventually(
        lambda: all(plane.get_or_none(c, api, kind, ns, name) is None for c in everywhere),
        what="deleted everywhere",
    )
    eventually(
        lambda: plane.get_or_none("host", FED, f"Federated{kind}", ns, name) is None,
        what="federated object gone (finalizer removed)",
    )


def test_service_cluster_ip_and_node_ports_are_retained(plane: Plane, ns: str) -> None:
    template = {"spec": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]}}
    plane.host.create(federated("Service", ns, "svc", template))
    before = eventually(lambda: plane.member("member1").get("v1", "Service", ns, "svc")["spec"])
    update_retrying(
        plane.host,
        FED,
        "FederatedService",
        ns,
        "svc",
        lambda fed: fed["spec"]["template"]["spec"].update(selector={"app": "web"}),
    )
    after = eventually(
        lambda: (s := plane.member("member1").get("v1", "Service", ns, "svc")["spec"]).get("selector") and s
    )
    assert after["clusterIP"] == before["clusterIP"]
    assert after["ports"][0]["nodePort"] == before["ports"][0]["nodePort"]
    eventually(lambda: propagated_ok(plane, "Service", ns, "svc", {"host", "member1", "member2"}))


def test_deployment_generation_and_retain_replicas(plane: Plane, ns: str) -> None:
    plane.host.create(
        federated("Deployment", ns, "web", deployment_template(replicas=2), retainReplicas=True)
    )
    eventually(lambda: plane.member("member1").get("apps/v1", "Deployment", ns, "web"))
    # an HPA in the member scaled it (the member's deployment controller writes it too)
    update_retrying(
        plane.member("member1"),
        "apps/v1",
        "Deployment",
        ns,
        "web",
        lambda live: live["spec"].update(replicas=5),
    )

    def roll(fed: dict[str, Any]) -> None:
        fed["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"

    update_retrying(plane.host, FED, "FederatedDeployment", ns, "web", roll)

    def rolled() -> bool:
        obj = plane.member("member1").get("apps/v1", "Deployment", ns, "web")
        assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
        assert obj["spec"]["replicas"] == 5
        assert plane.member("member2").get("apps/v1", "Deployment", ns, "web")["spec"]["replicas"] == 2
        return True

    eventually(rolled, what="image rolled, member replicas kept")
    pv = eventually(
        lambda: plane.host.get("core.kubefed.io/v1alpha1", "PropagatedVersion", ns, "deployment-web")
    )
    assert all(v["version"].startswith("gen:") for v in pv["status"]["clusterVersions"])
    # Drift of a label on a generation-tracked kind is reverted through the metadata check.
    update_retrying(
        plane.member("member2"),
        "apps/v1",
        "Deployment",
        ns,
        "web",
        lambda live: live["metadata"]["labels"].update(drift="x"),
    )
    eventually(
        lambda: (
            "drift"
            not in plane.member("member2").get("apps/v1", "Deployment", ns, "web")["metadata"]["labels"]
        ),
        what="label drift reverted",
    )


def test_namespace_not_federated(plane: Plane) -> None:
    plane.host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "e2e-nofed"}})
    plane.host.create(federated("ConfigMap", "e2e-nofed", "cfg", {"data": {"a": "b"}}))
    eventually(
        lambda: (
            (status_of(plane, "ConfigMap", "e2e-nofed", "cfg").get("conditions") or [{}])[0].get("reason")
            == "NamespaceNotFederated"
        ),
        what="NamespaceNotFederated",
    )
    assert status_of(plane, "ConfigMap", "e2e-nofed", "cfg")["conditions"][0]["status"] == "False"


def test_managed_label_removed_from_orphans_and_unlabelled_never_deleted(plane: Plane, ns: str) -> None:
    m1 = plane.member("member1")
    m1.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "stray", "namespace": ns, "labels": {MANAGED: "true"}},
        }
    )
    eventually(
        lambda: MANAGED not in (m1.get("v1", "ConfigMap", ns, "stray")["metadata"].get("labels") or {}),
        what="managed label removed from an orphan",
    )
    m1.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "mine", "namespace": ns},
            "data": {"keep": "me"},
        }
    )
    plane.host.create(federated("ConfigMap", ns, "mine", {"data": {"x": "y"}}, placement={"clusters": []}))
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "mine", set()), what="empty placement")
    assert m1.get("v1", "ConfigMap", ns, "mine")["data"] == {"keep": "me"}


def test_orphaning_deletion(plane: Plane, ns: str) -> None:
    fed = federated("ConfigMap", ns, "kept", {"data": {"a": "b"}})
    fed["metadata"]["annotations"] = {"kubefed.io/orphan": "true"}
    plane.host.create(fed)
    eventually(lambda: plane.member("member2").get("v1", "ConfigMap", ns, "kept"))
    plane.host.delete(FED, "FederatedConfigMap", ns, "kept")
    eventually(lambda: plane.get_or_none("host", FED, "FederatedConfigMap", ns, "kept") is None)
    for name in ("member1", "member2"):
        obj = eventually(lambda n=name: plane.member(n).get("v1", "ConfigMap", ns, "kept"))
        eventually(
            lambda n=name: (
                MANAGED
                not in (plane.member(n).get("v1", "ConfigMap", ns, "kept")["metadata"].get("labels") or {})
            ),
            what="unlabelled orphan",
        )
        assert obj["data"] == {"a": "b"}


def test_delete_option_orphan_keeps_replicasets(plane: Plane, ns: str) -> None:
    fed = federated("Deployment", ns, "keeprs", deployment_template())
    fed["metadata"]["annotations"] = {"kubefed.io/deleteoption": json.dumps({"propagationPolicy": "Orphan"})}
    plane.host.create(fed)
    m1 = plane.member("member1")
    eventually(
        lambda: m1.list("apps/v1", "ReplicaSet", ns)[0],
        60,
        what="the member's deployment controller made a ReplicaSet",
    )
    plane.host.delete(FED, "FederatedDeployment", ns, "keeprs")
    eventually(lambda: plane.get_or_none("member1", "apps/v1", "Deployment", ns, "keeprs") is None)
    rs = eventually(
        lambda: [
            r for r in m1.list("apps/v1", "ReplicaSet", ns)[0] if not r["metadata"].get("ownerReferences")
        ],
        30,
        what="orphaned ReplicaSet",
    )
    assert rs


def test_host_namespace_is_never_deleted(plane: Plane, ns: str) -> None:
    update_retrying(
        plane.host,
        FED,
        "FederatedNamespace",
        ns,
        ns,
        lambda fedns: fedns["spec"].update(placement={"clusters": [{"name": "member1"}]}),
    )
    eventually(
        lambda: (
            plane.get_or_none("member2", "v1", "Namespace", "", ns) is None
            or plane.get_or_none("member2", "v1", "Namespace", "", ns)["metadata"].get("deletionTimestamp")
        ),
        what="member2 namespace removed",
    )
    host_ns = eventually(
        lambda: (
            (o := plane.host.get("v1", "Namespace", "", ns))
            and MANAGED not in (o["metadata"].get("labels") or {})
            and o
        ),
        what="host namespace unlabelled",
    )
    assert not host_ns["metadata"].get("deletionTimestamp")


def test_crd_enabled_on_the_fly_needs_join_update(plane: Plane, ns: str) -> None:
    from kubectl_kubefed.kube.apply import apply, wait_crd_served
    from tests.e2e.conftest import kubefed

    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                            },
                        }
                    },
                }
            ],
        },
    }
    for client in plane.all_clusters().values():
        apply(client, crd)
        wait_crd_served(client, "example.com/v1", "Widget")
    res = kubefed(plane.kubeconfig, "enable", "widgets", "--host-cluster-context", plane.host_context)
    assert "federatedtypeconfig.core.kubefed.io/widgets.example.com created" in res.stdout
    plane.host.create(
        {
            "apiVersion": FED,
            "kind": "FederatedWidget",
            "metadata": {"name": "w", "namespace": ns},
            "spec": {
                "template": {"spec": {"size": 1}},
                "placement": {"clusterSelector": {}},
                "overrides": [
                    {"clusterName": "member1", "clusterOverrides": [{"path": "/spec/size", "value": 7}]}
                ],
            },
        }
    )

    def forbidden() -> bool:
        clusters = status_of(plane, "Widget", ns, "w").get("clusters", [])
        member1 = next((c for c in clusters if c["name"] == "member1"), {})
        assert member1.get("status") == "CachedRetrievalFailed"
        assert "forbidden" in member1.get("message", "") and "widgets" in member1["message"]
        return True

    # The member role was made before widgets were enabled: the status names the missing permission.
    eventually(forbidden, 60, what="a Forbidden status naming widgets")
    rejoin(plane)
    obj = eventually(lambda: plane.member("member1").get("example.com/v1", "Widget", ns, "w"), 60)
    assert obj["spec"]["size"] == 7
    assert (
        eventually(lambda: plane.member("member2").get("example.com/v1", "Widget", ns, "w"))["spec"]["size"]
        == 1
    )
    eventually(lambda: propagated_ok(plane, "Widget", ns, "w", {"host", "member1", "member2"}), 60)
