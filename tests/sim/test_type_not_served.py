"""Members that do not serve a type (yet): a chart's CRDs and custom resources converge,
and deletion never waits on a member where nothing can exist (docs/deviations.md)."""

from __future__ import annotations

from typing import Any

from kubectl_kubefed import postrender
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.manifests import dump_yaml, parse_documents
from simulator.fleet import Fleet
from tests.sim.helpers import (
    CLUSTERS,
    TYPES,
    cluster_statuses,
    fed_namespace,
    fed_status,
    fleet,
    namespace,
    with_app,
)

FED = "types.kubefed.io/v1beta1"
WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}
WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {"name": "w", "namespace": "shop"},
    "spec": {"size": 3},
}
MONITOR_TYPE = tc.TypeConfig("ServiceMonitor", "monitoring.coreos.com", "v1", "servicemonitors", True)


def crd_fleet(**kwargs: Any) -> Fleet:
    f = Fleet(CLUSTERS, crds_required=True, **kwargs)
    for t in (*TYPES, "customresourcedefinitions"):
        f.enable(t)
    f.enable(tc.from_crd(WIDGET_CRD))
    f.apply([namespace(), fed_namespace()])
    assert f.settle()
    return f


def chart(*objs: dict[str, Any], flags: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """What the post-renderer makes of a chart's rendered objects."""
    opts, _ = postrender.parse_args(list(flags))
    return [d.obj for d in parse_documents(postrender.render(dump_yaml(objs), opts), "<out>")]


def widget(f: Fleet, cluster: str) -> dict[str, Any] | None:
    return f.member_object(cluster, "example.com/v1", "Widget", "shop", "w")


def test_federate_crds_converts_crds_and_only_when_asked() -> None:
    assert [o["kind"] for o in chart(WIDGET_CRD)] == ["CustomResourceDefinition"]
    assert [o["kind"] for o in chart(WIDGET_CRD, flags=("--federate-crds",))] == [
        "FederatedCustomResourceDefinition"
    ]


def test_custom_resources_wait_for_their_crd_then_propagate() -> None:
    f = crd_fleet()
    # The chart's custom resource arrives first (or in the same install): it waits.
    f.apply(chart(WIDGET))
    assert not f.settle(max_seconds=60)  # still re-checking, not failing
    statuses = cluster_statuses(f, "FederatedWidget", "w")
    assert statuses == dict.fromkeys(("c1", "c2", "c3"), "TypeNotServed")
    messages = {c["name"]: c["message"] for c in fed_status(f, "FederatedWidget", "w")["clusters"]}
    assert messages["c2"] == "waiting for CRD widgets.example.com to be served in cluster c2"
    assert not any(level == "warning" and "Widget" in msg for level, msg in f.logs)
    # The federated CRD reaches c1 and c2; their widgets follow at once.
    f.apply(chart(WIDGET_CRD, flags=("--federate-crds", "--clusters=c1,c2")))
    f.advance(5)
    assert f.member_object(
        "c1", "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com"
    )
    assert (widget(f, "c1") or {}).get("spec") == {"size": 3}
    assert widget(f, "c2") is not None
    assert cluster_statuses(f, "FederatedWidget", "w")["c3"] == "TypeNotServed"
    # c3 gets the CRD from someone else: the periodic re-check finds it.
    f.apply([WIDGET_CRD], cluster="c3")
    f.advance(15)
    assert widget(f, "c3") is not None
    assert f.settle()
    assert cluster_statuses(f, "FederatedWidget", "w") == dict.fromkeys(("c1", "c2", "c3"), "")


def test_deletion_completes_where_the_type_is_not_served() -> None:
    f = fleet()  # c1 and c3 serve every type; c2 (Ready) does not serve ServiceMonitors
    f.servers["c2"].faults.missing_kinds.add("monitoring.coreos.com/ServiceMonitor")
    f.enable(MONITOR_TYPE)
    with_app(f)
    monitor = {
        "apiVersion": FED,
        "kind": "FederatedServiceMonitor",
        "metadata": {"name": "m", "namespace": "shop"},
        "spec": {
            "template": {"spec": {"endpoints": [{"port": "web"}]}},
            "placement": {"clusterSelector": {}},
        },
    }
    f.apply([monitor])
    f.settle(max_seconds=60)
    assert cluster_statuses(f, "FederatedServiceMonitor", "m") == {"c1": "", "c2": "TypeNotServed", "c3": ""}
    f.delete(FED, "FederatedServiceMonitor", "shop", "m")
    f.settle(max_seconds=120)
    assert not [o for o in f.federated_objects() if o["kind"] == "FederatedServiceMonitor"]
    assert f.member_object("c1", "monitoring.coreos.com/v1", "ServiceMonitor", "shop", "m") is None
    # Its namespace goes too: a type the member does not serve holds nothing there.
    f.delete(FED, "FederatedNamespace", "shop", "shop")
    f.settle(max_seconds=120)
    assert f.member_object("c2", "v1", "Namespace", "", "shop") is None
    assert not [o for o in f.federated_objects() if o["kind"] == "FederatedNamespace"]


def test_a_type_not_served_is_not_a_list_failure() -> None:
    """Any other list failure (e.g. Forbidden) still reports CachedRetrievalFailed."""
    f = crd_fleet()
    f.servers["c2"].faults.error_rate["list"] = 1.0
    f.restart_controllers()
    f.apply(chart(WIDGET_CRD, WIDGET, flags=("--federate-crds",)))
    f.settle(max_seconds=60)
    assert cluster_statuses(f, "FederatedWidget", "w")["c2"] == "CachedRetrievalFailed"


def test_a_member_not_serving_the_type_is_asked_rarely() -> None:
    f = crd_fleet()
    widgets = [{**WIDGET, "metadata": {"name": f"w{i}", "namespace": "shop"}} for i in range(20)]
    f.apply(chart(*widgets))
    f.settle(max_seconds=30)
    before = f.requests()["c1"]["list"]
    f.advance(60)
    # 20 waiting objects re-checked every 10 s, but c1 is listed at most every 5 s.
    assert f.requests()["c1"]["list"] - before <= 60 / 5 + 1
    assert cluster_statuses(f, "FederatedWidget", "w7")["c1"] == "TypeNotServed"
