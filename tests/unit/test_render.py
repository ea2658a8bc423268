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


def test_federated_kinds_render_does_not_know_round_trip() -> None:
    """`federate` keeps the apiVersion in the template of a kind that is not built in, so
    `render` needs no FederatedTypeConfig for it (a chart's webhook configuration, its
    custom resources); built-in kinds still get none (KubeFed's form)."""
    from kubectl_kubefed.core import typeconfig as tc
    from kubectl_kubefed.core.federate import federate

    hook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": "cert-manager-webhook", "labels": {"app": "webhook"}},
        "webhooks": [{"name": "webhook.cert-manager.io", "sideEffects": "None"}],
    }
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "ksm", "namespace": "mon"},
        "spec": {"endpoints": [{"port": "http"}]},
    }
    feds = [
        federate(o, tc.for_kind(o["apiVersion"], o["kind"], bool(o["metadata"].get("namespace")))).obj
        for o in (hook, monitor)
    ]
    assert [f["spec"]["template"]["apiVersion"] for f in feds] == [hook["apiVersion"], monitor["apiVersion"]]
    out = rd.render([*feds, fns("mon")], CLUSTERS[:1], scope="Namespaced").as_dict()
    got = {o["kind"]: o for o in out["clusters"]["c1"]}
    assert got["ValidatingWebhookConfiguration"] == {
        **hook,
        "metadata": {
            "name": "cert-manager-webhook",
            "labels": {"app": "webhook", "kubefed.io/managed": "true"},
        },
    }
    assert got["ServiceMonitor"]["metadata"] == {
        "name": "ksm",
        "namespace": "mon",
        "labels": {"kubefed.io/managed": "true"},
    }
    assert got["ServiceMonitor"]["apiVersion"] == "monitoring.coreos.com/v1"
    configmap = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}
    assert "apiVersion" not in federate(configmap, tc.for_kind("v1", "ConfigMap")).obj["spec"]["template"]
