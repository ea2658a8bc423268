"""The FederatedApplication controller on the simulator (issue 15): an application expands
into owned Federated<Kind> objects and RSPs that the propagation and scheduling controllers
propagate as any other; selector overrides follow cluster labels; the status rolls up what
the members hold; deleting the application removes everything from the members."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import application as ap
from kubectl_kubefed.sync.application import ApplicationController
from simulator.fleet import Fleet
from simulator.workloads import WorkloadSettings
from tests.sim import helpers as h

IMAGE = "/spec/template/spec/containers/0/image"
CLUSTERS = [
    {"name": "c1", "labels": {"region": "eu", "tier": "prod"}},
    {"name": "c2", "labels": {"region": "asia", "tier": "prod"}},
    {"name": "c3", "labels": {"region": "asia"}},
]


def make(clusters: list[dict[str, Any]] = CLUSTERS) -> Fleet:
    f = h.fleet(clusters=clusters, workloads=WorkloadSettings(ready_after=5.0))
    f.apply([h.namespace(), h.fed_namespace()])
    assert f.settle()
    return f


def deployment(name: str = "web", replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "web:1"}]},
            },
        },
    }


def configmap(name: str = "cfg") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}]},
    }


def application(components: list[dict[str, Any]] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": ap.API_VERSION,
        "kind": ap.KIND,
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"components": components or [deployment(), service(), configmap()], **spec},
    }


ASIA_IMAGE = {
    "clusterSelector": {"matchLabels": {"region": "asia"}},
    "component": {"kind": "Deployment", "name": "web"},
    "clusterOverrides": [{"path": IMAGE, "value": "web:asia"}],
}


def app_status(f: Fleet) -> dict[str, Any]:
    return dict(f.host_server.get(ap.API_VERSION, ap.KIND, "shop", "shop").get("status") or {})


def controller(f: Fleet) -> ApplicationController:
    ctl = f.manager.running["application"]
    assert isinstance(ctl, ApplicationController)
    return ctl


def member(f: Fleet, cluster: str, kind: str, name: str, api: str = "v1") -> dict[str, Any] | None:
    return f.member_object(cluster, api, kind, "shop", name)


def app_objects(f: Fleet, cluster: str) -> list[str]:
    """The application's objects in a member: managed, in its namespace, but the namespace."""
    return [
        f"{o['kind']}/{o['metadata']['name']}"
        for o in f.member_objects(cluster)
        if o["metadata"].get("namespace") == "shop"
        and (o["metadata"].get("labels") or {}).get("kubefed.io/managed") == "true"
    ]


def image(f: Fleet, cluster: str) -> str | None:
    dep = member(f, cluster, "Deployment", "web", "apps/v1")
    return None if dep is None else dep["spec"]["template"]["spec"]["containers"][0]["image"]


def test_components_reach_the_selected_members_with_selector_overrides() -> None:
    f = make()
    f.apply(
        [
            application(
                placement={"clusterSelector": {"matchLabels": {"tier": "prod"}}}, overrides=[ASIA_IMAGE]
            )
        ]
    )
    assert f.settle()
    for cluster in ("c1", "c2"):
        assert member(f, cluster, "Service", "web") is not None
        assert member(f, cluster, "ConfigMap", "cfg") is not None
    assert app_objects(f, "c3") == []
    assert image(f, "c1") == "web:1" and image(f, "c2") == "web:asia"
    owned = [o for o in f.federated_objects() if o["metadata"].get("labels", {}).get(ap.APP_LABEL) == "shop"]
    assert {o["kind"] for o in owned} == {"FederatedDeployment", "FederatedService", "FederatedConfigMap"}


def test_a_cluster_label_change_moves_a_selector_override() -> None:
    f = make()
    f.apply([application(overrides=[ASIA_IMAGE])])
    assert f.settle()
    assert [image(f, c) for c in ("c1", "c2", "c3")] == ["web:1", "web:asia", "web:asia"]
    f.set_labels("c1", {"region": "asia"})
    f.set_labels("c3", {"region": "eu"})
    assert f.settle()
    assert [image(f, c) for c in ("c1", "c2", "c3")] == ["web:asia", "web:asia", "web:1"]


def test_the_rolled_up_status_is_what_the_members_hold() -> None:
    f = make()
    f.apply([application()])
    assert f.settle()
    status = app_status(f)
    assert status["summary"] == "3/3 clusters ready"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {"Ready": "True", "Progressing": "False", "Degraded": "False"}
    for row in status["clusters"]:
        dep = member(f, row["name"], "Deployment", "web", "apps/v1")
        assert dep is not None
        assert row["readyReplicas"] == dep["status"]["readyReplicas"] == 2
        assert row["desiredReplicas"] == dep["spec"]["replicas"]
        assert row["components"] == row["componentsApplied"] == 3
    assert (
        status["observedGeneration"]
        == f.host_server.get(ap.API_VERSION, ap.KIND, "shop", "shop")["metadata"]["generation"]
    )


def test_a_member_going_down_shows_in_the_status() -> None:
    f = make()
    f.apply([application()])
    assert f.settle()
    f.set_ready("c3", False)
    assert f.settle()
    status = app_status(f)
    assert status["summary"] == "2/3 clusters ready"
    assert {c["type"]: c["status"] for c in status["conditions"]}["Ready"] == "False"


def test_removing_a_component_and_deleting_the_application_clean_the_members() -> None:
    f = make()
    f.apply([application()])
    assert f.settle()
    f.apply([application([deployment(), service()])])
    assert f.settle()
    for cluster in ("c1", "c2", "c3"):
        assert member(f, cluster, "ConfigMap", "cfg") is None
        assert member(f, cluster, "Service", "web") is not None
    f.delete(ap.API_VERSION, ap.KIND, "shop", "shop")
    assert f.settle()
    for cluster in ("c1", "c2", "c3"):
        assert app_objects(f, cluster) == []
    assert not [o for o in f.federated_objects() if ap.APP_LABEL in (o["metadata"].get("labels") or {})]


def test_an_application_at_rest_makes_no_writes() -> None:
    f = make()
    f.apply([application(overrides=[ASIA_IMAGE], replicas={"clusters": {"*": {"weight": 1}}})])
    assert f.settle()
    writes, host = f.write_requests(), controller(f).writes
    f.advance(120.0)
    assert f.settle()
    assert f.write_requests() == writes
    assert controller(f).writes == host


def test_replicas_are_spread_by_the_scheduling_controller() -> None:
    f = make()
    f.apply(
        [
            application(
                [deployment(replicas=6)],
                placement={"clusterSelector": {"matchLabels": {"tier": "prod"}}},
                replicas={"clusters": {"c1": {"weight": 2}, "c2": {"weight": 1}}},
            )
        ]
    )
    assert f.settle()
    counts = {
        c: (member(f, c, "Deployment", "web", "apps/v1") or {}).get("spec", {}).get("replicas")
        for c in ("c1", "c2", "c3")
    }
    assert counts == {"c1": 4, "c2": 2, "c3": None}
    status = app_status(f)
    assert {r["name"]: r["desiredReplicas"] for r in status["clusters"]} == {"c1": 4, "c2": 2}
    assert status["summary"] == "2/2 clusters ready"


def test_an_invalid_application_is_degraded_and_keeps_its_objects() -> None:
    f = make()
    f.apply([application()])
    assert f.settle()
    bad = application()
    bad["spec"]["overrides"] = [
        {"clusterName": "c1", "component": {"kind": "Job"}, "clusterOverrides": [{"path": "/a"}]}
    ]
    f.apply([bad])
    assert f.settle()
    degraded = next(c for c in app_status(f)["conditions"] if c["type"] == "Degraded")
    assert degraded["status"] == "True" and "no component Job" in degraded["message"]
    assert member(f, "c1", "ConfigMap", "cfg") is not None


def test_an_object_the_application_does_not_own_is_left_alone() -> None:
    f = make()
    f.apply([h.fed_configmap("cfg", data={"mine": "yes"})])
    assert f.settle()
    f.apply([application()])
    assert f.settle()
    assert (member(f, "c1", "ConfigMap", "cfg") or {}).get("data") == {"mine": "yes"}
    degraded = next(c for c in app_status(f)["conditions"] if c["type"] == "Degraded")
    assert "not owned by the application" in degraded["message"]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.sampled_from(["eu", "asia", "us"]), min_size=3, max_size=3),
    st.sampled_from(["eu", "asia", "us"]),
)
def test_selector_overrides_touch_only_matching_clusters(regions: list[str], chosen: str) -> None:
    clusters = [{"name": f"c{i + 1}", "labels": {"region": r}} for i, r in enumerate(regions)]
    f = make(copy.deepcopy(clusters))
    rule = dict(ASIA_IMAGE, clusterSelector={"matchLabels": {"region": chosen}})
    f.apply([application([deployment()], overrides=[rule])])
    assert f.settle()
    for spec in clusters:
        want = "web:asia" if spec["labels"]["region"] == chosen else "web:1"
        assert image(f, spec["name"]) == want


def spread(f: Fleet) -> dict[str, int | None]:
    return {
        c: (member(f, c, "Deployment", "web", "apps/v1") or {}).get("spec", {}).get("replicas")
        for c in ("c1", "c2")
    }


def test_failover_toleration_seconds_moves_replicas_sooner_than_kubefeds_delay() -> None:
    clusters = CLUSTERS[:2]
    for toleration, moved in ((5, True), (None, False)):
        f = make(clusters)
        failover = {"failover": {"tolerationSeconds": toleration}} if toleration is not None else {}
        f.apply([application([deployment(replicas=4)], replicas={"rebalance": True}, **failover)])
        assert f.settle()
        assert spread(f) == {"c1": 2, "c2": 2}
        f.set_ready("c2", False)
        f.advance(10.0 + 5.0 + 3.0 + 2.0)  # health period, toleration, KubeFed's small delay
        assert (spread(f)["c1"] == 4) is moved, toleration


def test_app_status_prints_what_the_application_says(capsys: Any) -> None:
    from kubectl_kubefed.cli import application as cli_app
    from kubectl_kubefed.cli.output import Format

    f = make()
    f.apply([application()])
    assert f.settle()
    cli_app.status_run(f.host, "shop", "shop", Format.table)
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("Ready=True Progressing=False Degraded=False; 3/3 clusters ready")
    assert [line.split() for line in out[-3:]] == [[c, "True", "3/3", "2/2", "-"] for c in ("c1", "c2", "c3")]
