"""Scenarios with FederatedApplications (docs/simulate.md): the types of its components are
enabled, the JSON output lists the applications with their status, and the table shows
each application's status and the replicas of the workloads created or resized."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubectl_kubefed.cli.simulate import format_table
from kubectl_kubefed.core import application as ap
from simulator import scenario as sc

NAMESPACE = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedNamespace",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"placement": {"clusterSelector": {}}},
    },
]


def application(**spec: Any) -> dict[str, Any]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "w:1"}]},
            },
        },
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"k": "v"}}
    return {
        "apiVersion": ap.API_VERSION,
        "kind": ap.KIND,
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"components": [deployment, config], **spec},
    }


def scenario(*steps: dict[str, Any], workloads: bool = False) -> sc.Scenario:
    data: dict[str, Any] = {"clusters": [{"name": "c1"}, {"name": "c2"}], "steps": list(steps)}
    if workloads:
        data["workloads"] = {"readyAfter": "5s"}
    return sc.parse(data, "s.yaml", Path("."))


def test_the_components_types_are_enabled() -> None:
    s = scenario({"apply": [*NAMESPACE, application()]})
    assert [t.name for t in sc.types_to_enable(s)] == ["configmaps", "deployments.apps", "namespaces"]


def test_an_application_that_cannot_be_parsed_enables_nothing_and_is_reported_degraded() -> None:
    bad = application()
    bad["spec"]["components"] = []
    s = scenario({"apply": [*NAMESPACE, bad]})
    assert [t.name for t in sc.types_to_enable(s)] == ["namespaces"]
    [app] = sc.run(s)[-1].snapshot["applications"]
    degraded = next(c for c in app["status"]["conditions"] if c["type"] == "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "InvalidSpec")


def test_the_snapshot_lists_applications_with_their_status() -> None:
    results = sc.run(scenario({"apply": [*NAMESPACE, application()]}, workloads=True))
    assert results[0].snapshot["applications"] == []
    [app] = results[-1].snapshot["applications"]
    assert (app["namespace"], app["name"]) == ("shop", "shop")
    assert app["status"]["summary"] == "2/2 clusters ready"
    assert {r["name"]: r["desiredReplicas"] for r in app["status"]["clusters"]} == {"c1": 3, "c2": 3}


def test_the_table_shows_the_application_and_replica_changes() -> None:
    resize = application()
    resize["spec"]["components"][0]["spec"]["replicas"] = 5
    results = sc.run(scenario({"apply": [*NAMESPACE, application()]}, {"apply": [resize]}, workloads=True))
    text = format_table(results)
    assert "c1: created Deployment shop/web (replicas 3), ConfigMap shop/cfg, Namespace shop, 3 Pods" in text
    assert "c1: updated Deployment shop/web (replicas 3 -> 5)" in text
    assert "c2: created 2 Pods" in text
    assert (
        "  FederatedApplication shop/shop: Ready=True Progressing=False Degraded=False; 2/2 clusters ready"
        in text
    )
    assert "    c1       True   2/2         5/5       -" in text


def test_member_changes_say_replicas_only_for_workloads_that_have_them() -> None:
    def state(*objs: dict[str, Any]) -> dict[str, Any]:
        return {"clusters": {"c1": {"objects": list(objs)}}}

    def obj(kind: str, rv: str, **spec: Any) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": "x", "namespace": "n", "resourceVersion": rv},
            "spec": spec,
        }

    changes = sc.member_changes(state(), state(obj("Deployment", "1", replicas=2), obj("Service", "1")))
    assert changes["c1"]["created"] == ["Deployment n/x (replicas 2)", "Service n/x"]
    changes = sc.member_changes(
        state(obj("Deployment", "1", replicas=2)), state(obj("Deployment", "2", replicas=2, paused=True))
    )
    assert changes["c1"]["updated"] == ["Deployment n/x"]
    changes = sc.member_changes(
        state(obj("Deployment", "1", replicas=2)), state(obj("Deployment", "2", replicas=True))
    )
    assert changes["c1"]["updated"] == ["Deployment n/x"]
