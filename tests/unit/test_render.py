from typing import Any

from kubectl_kubefed.core import render as rd
from kubectl_kubefed.core.clusters import Cluster

CLUSTERS = [
    Cluster("c1", {"region": "eu"}),
    Cluster("c2", {"region": "us"}),
    Cluster("c3", {"region": "asia"}, ready=False),
]


def fns(name: str, placement: Any = None) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedNamespace",
        "metadata": {"name": name, "namespace": name},
        "spec": {"placement": placement if placement is not None else {"clusterSelector": {}}},
    }


def fcm(name: str, ns: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"template": {"data": {"k": "v"}}, "placement": {"clusterSelector": {}}, **spec},
    }


def test_render_places_and_reports_not_ready() -> None:
    out = rd.render([fns("shop"), fcm("cfg", "shop")], CLUSTERS).as_dict()
    assert sorted(out["clusters"]) == ["c1", "c2", "c3"]
    assert [o["kind"] for o in out["clusters"]["c1"]] == ["ConfigMap", "Namespace"]
    assert out["clusters"]["c3"] == []
    cm = next(f for f in out["federated"] if f["kind"] == "FederatedConfigMap")
    assert cm["clusters"] == ["c1", "c2"]
    assert cm["errors"] == {"c3": "ClusterNotReady: cluster is not ready"}
    assert cm["reason"] == ""


def test_namespace_not_federated() -> None:
    out = rd.render([fcm("cfg", "shop")], CLUSTERS).as_dict()
    assert out["federated"][0]["reason"] == "NamespaceNotFederated"
    assert out["federated"][0]["clusters"] == []
    out = rd.render([fcm("cfg", "shop")], CLUSTERS, scope="Namespaced").as_dict()
    assert out["federated"][0]["clusters"] == ["c1", "c2"]


def test_invalid_overrides_reported_per_cluster() -> None:
    bad = fcm(
        "cfg",
        "shop",
        overrides=[{"clusterName": "c1", "clusterOverrides": [{"path": "/kind", "value": "x"}]}],
    )
    out = rd.render([fns("shop"), bad], CLUSTERS).as_dict()
    cm = next(f for f in out["federated"] if f["kind"] == "FederatedConfigMap")
    assert cm["clusters"] == []
    assert cm["errors"]["c1"].startswith("ApplyOverridesFailed: ")
    assert cm["errors"]["c2"].startswith("ApplyOverridesFailed: ")


def test_inapplicable_override_only_fails_that_cluster() -> None:
    f = fcm(
        "cfg",
        "shop",
        overrides=[{"clusterName": "c2", "clusterOverrides": [{"op": "remove", "path": "/data/nope"}]}],
    )
    cm = next(
        x
        for x in rd.render([fns("shop"), f], CLUSTERS).as_dict()["federated"]
        if x["kind"] == "FederatedConfigMap"
    )
    assert cm["clusters"] == ["c1"]
    assert list(cm["errors"]) == ["c2", "c3"]


def test_compute_placement_failed() -> None:
    f = fcm(
        "cfg",
        "shop",
        placement={"clusterSelector": {"matchExpressions": [{"key": "a", "operator": "Bad"}]}},
    )
    cm = next(
        x
        for x in rd.render([fns("shop"), f], CLUSTERS).as_dict()["federated"]
        if x["kind"] == "FederatedConfigMap"
    )
    assert cm["reason"] == "ComputePlacementFailed"


def test_unknown_federated_kind_uses_template_api_version() -> None:
    f = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedWidget",
        "metadata": {"name": "w"},
        "spec": {
            "template": {"apiVersion": "example.com/v1", "spec": {}},
            "placement": {"clusterSelector": {}},
        },
    }
    out = rd.render([f], CLUSTERS).as_dict()
    assert out["clusters"]["c1"][0]["apiVersion"] == "example.com/v1"
    assert out["clusters"]["c1"][0]["kind"] == "Widget"


def test_system_namespace_never_propagated() -> None:
    out = rd.render([fns("kube-system")], CLUSTERS).as_dict()
    assert out["federated"][0]["clusters"] == []
