"""FederatedApplication core (issue 15): parsing, expansion into owned Federated<Kind>
objects and RSPs, overrides by name and by selector, status roll-up."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import application as ap
from kubectl_kubefed.core import replicas as rs
from kubectl_kubefed.core.clusters import Cluster

IMAGE = "/spec/template/spec/containers/0/image"
CLUSTERS = [
    Cluster("c1", {"region": "eu", "tier": "prod"}),
    Cluster("c2", {"region": "asia", "tier": "prod"}),
    Cluster("c3", {"region": "asia"}),
]


def deployment(name: str = "web", replicas: int = 3) -> dict[str, Any]:
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


def service(name: str = "web") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"ports": [{"port": 80}]},
    }


def app(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": ap.API_VERSION,
        "kind": ap.KIND,
        "metadata": {"name": "shop", "namespace": "shop", "uid": "u-1", "generation": 2},
        "spec": {"components": spec.pop("components", [deployment(), service()]), **spec},
    }


def expand(obj: dict[str, Any], clusters: list[Cluster] = CLUSTERS) -> ap.Expansion:
    return ap.expand(ap.parse(obj), clusters)


def by_kind(expansion: ap.Expansion) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in expansion.objects}


def overrides_of(obj: dict[str, Any]) -> dict[str, list[Any]]:
    return {e["clusterName"]: e["clusterOverrides"] for e in obj["spec"].get("overrides") or []}


def test_components_become_owned_federated_objects_in_the_apps_namespace() -> None:
    objs = by_kind(expand(app(placement={"clusters": [{"name": "c1"}]})))
    assert set(objs) == {"FederatedDeployment/web", "FederatedService/web"}
    for obj in objs.values():
        meta = obj["metadata"]
        assert meta["namespace"] == "shop"
        assert meta["labels"] == {ap.APP_LABEL: "shop"}
        assert meta["ownerReferences"] == [
            {
                "apiVersion": ap.API_VERSION,
                "kind": ap.KIND,
                "name": "shop",
                "uid": "u-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert obj["spec"]["placement"] == {"clusters": [{"name": "c1"}]}
    assert objs["FederatedDeployment/web"]["spec"]["template"]["spec"]["replicas"] == 3


def test_default_placement_is_every_cluster_and_no_uid_means_no_owner_reference() -> None:
    obj = app()
    del obj["metadata"]["uid"]
    for fed in expand(obj).objects:
        assert fed["spec"]["placement"] == {"clusterSelector": {"matchLabels": {}}}
        assert "ownerReferences" not in fed["metadata"]


def test_selector_overrides_reach_every_matching_cluster_and_names_win() -> None:
    obj = app(
        overrides=[
            {
                "clusterSelector": {"matchLabels": {"region": "asia"}},
                "component": {"kind": "Deployment", "name": "web"},
                "clusterOverrides": [{"path": IMAGE, "value": "web:asia"}],
            },
            {
                "clusterName": "c3",
                "component": {"kind": "Deployment"},
                "clusterOverrides": [{"path": IMAGE, "value": "web:c3"}],
            },
        ]
    )
    expansion = expand(obj)
    fed = by_kind(expansion)["FederatedDeployment/web"]
    assert overrides_of(fed) == {
        "c2": [{"path": IMAGE, "value": "web:asia"}],
        "c3": [{"path": IMAGE, "value": "web:c3"}],
    }
    assert "overrides" not in by_kind(expansion)["FederatedService/web"]["spec"]
    assert expansion.conflicts == []


def test_conflicting_selector_overrides_are_reported_and_the_first_kept() -> None:
    rule = {"component": {"kind": "Deployment"}}
    obj = app(
        overrides=[
            {
                **rule,
                "clusterSelector": {"matchLabels": {"tier": "prod"}},
                "clusterOverrides": [{"path": IMAGE, "value": "a"}],
            },
            {
                **rule,
                "clusterSelector": {"matchLabels": {"region": "asia"}},
                "clusterOverrides": [{"path": IMAGE, "value": "b"}],
            },
        ]
    )
    expansion = expand(obj)
    assert overrides_of(by_kind(expansion)["FederatedDeployment/web"]) == {
        "c1": [{"path": IMAGE, "value": "a"}],
        "c2": [{"path": IMAGE, "value": "a"}],
        "c3": [{"path": IMAGE, "value": "b"}],
    }
    assert len(expansion.conflicts) == 1
    assert "Deployment web in cluster c2" in expansion.conflicts[0]


def test_replicas_give_an_rsp_per_deployment() -> None:
    obj = app(
        components=[deployment("a", 4), deployment("b", 2), service()],
        placement={"clusterSelector": {"matchLabels": {"tier": "prod"}}},
        replicas={"rebalance": True, "clusters": {"*": {"weight": 1}, "c1": {"weight": 2, "minReplicas": 1}}},
        failover={"tolerationSeconds": 30},
    )
    prefs = {o["metadata"]["name"]: o for o in expand(obj).preferences()}
    assert set(prefs) == {"a", "b"}
    pref = rs.parse_preference(prefs["a"])
    assert pref.total_replicas == 4 and pref.rebalance and pref.intersect_with_cluster_selector
    assert pref.clusters["c1"] == rs.ClusterPreference(min_replicas=1, weight=2)
    assert prefs["a"]["metadata"]["annotations"] == {ap.TOLERATION_ANNOTATION: "30"}
    assert prefs["b"]["spec"]["totalReplicas"] == 2


def test_replicas_with_a_cluster_list_only_prefer_the_listed_clusters() -> None:
    obj = app(
        placement={"clusters": [{"name": "c2"}, {"name": "c1"}]}, replicas={"clusters": {"*": {"weight": 3}}}
    )
    (pref,) = expand(obj).preferences()
    assert pref["spec"]["clusters"] == {"c1": {"weight": 3}, "c2": {"weight": 3}}
    assert "intersectWithClusterSelector" not in pref["spec"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda o: o["spec"].pop("components"), "spec.components must be a non-empty list"),
        (lambda o: o["spec"].update(extra=1), 'spec: unknown field "extra"'),
        (
            lambda o: o["spec"]["components"].append(service()),
            "spec.components[2]: Service web is also spec.components[1]",
        ),
        (lambda o: o["spec"]["components"][1]["metadata"].update(namespace="x"), "is in namespace x"),
        (
            lambda o: o["spec"]["components"].append(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
            ),
            "Namespace is cluster-scoped",
        ),
        (
            lambda o: o["spec"].update(
                placement={"clusterSelector": {"matchExpressions": [{"key": "a", "operator": "Nope"}]}}
            ),
            "spec.placement.clusterSelector",
        ),
        (
            lambda o: o["spec"].update(
                overrides=[
                    {"component": {"kind": "Job"}, "clusterName": "c1", "clusterOverrides": [{"path": "/a"}]}
                ]
            ),
            "spec.overrides[0]: no component Job",
        ),
        (
            lambda o: o["spec"].update(
                overrides=[{"component": {"kind": "Service"}, "clusterOverrides": [{"path": "/a"}]}]
            ),
            "exactly one of clusterName or clusterSelector",
        ),
        (
            lambda o: o["spec"].update(
                overrides=[
                    {
                        "component": {"kind": "Service"},
                        "clusterName": "c1",
                        "clusterOverrides": [{"path": "/metadata/name"}],
                    }
                ]
            ),
            'spec.overrides[0]: path "/metadata/name" cannot be overridden',
        ),
        (
            lambda o: o["spec"].update(
                replicas={},
                overrides=[
                    {
                        "component": {"kind": "Deployment"},
                        "clusterName": "c1",
                        "clusterOverrides": [{"path": "/spec/replicas", "value": 1}],
                    }
                ],
            ),
            "is set by spec.replicas",
        ),
        (lambda o: o["spec"].update(replicas={"clusters": {"c1": {"weight": -1}}}), "spec.replicas.clusters"),
        (
            lambda o: o["spec"].update(failover={"tolerationSeconds": "1m"}),
            "tolerationSeconds must be a whole number",
        ),
        (lambda o: o["metadata"].update(name="a.b"), "metadata.name"),
    ],
)
def test_bad_applications_are_refused_in_one_line(change: Any, message: str) -> None:
    obj = app()
    change(obj)
    with pytest.raises(ap.ApplicationError) as err:
        ap.parse(obj)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_with_schedule_keeps_what_the_scheduler_wrote() -> None:
    (fed, *_) = expand(app(replicas={})).federated()
    scheduled = copy.deepcopy(fed)
    scheduled["spec"]["placement"]["clusters"] = [{"name": "c1"}]
    scheduled["spec"]["overrides"] = [
        {"clusterName": "c1", "clusterOverrides": [{"path": "/spec/replicas", "value": 3}]}
    ]
    merged = ap.with_schedule(fed, scheduled)
    assert merged["spec"] == scheduled["spec"]
    assert ap.same_content(merged, ap.normalized_overrides(scheduled))


# -- status -------------------------------------------------------------------------------


def fed_with_status(
    kind: str, clusters: list[dict[str, Any]], generation: int = 1, replicas: int = 2
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {"name": "web", "generation": generation},
        "spec": {"template": {"spec": {"replicas": replicas}}},
        "status": {
            "observedGeneration": generation,
            "conditions": [{"type": "Propagation", "status": "True"}],
            "clusters": clusters,
        },
    }


def condition(status: dict[str, Any], kind: str) -> tuple[str, str]:
    cond = next(c for c in status["conditions"] if c["type"] == kind)
    return cond["status"], cond["reason"]


def test_rollup_counts_components_and_replicas_per_cluster() -> None:
    dep = fed_with_status(
        "FederatedDeployment",
        [
            {"name": "c1", "remoteStatus": {"readyReplicas": 2}},
            {"name": "c2", "remoteStatus": {"readyReplicas": 1}},
        ],
    )
    svc = fed_with_status("FederatedService", [{"name": "c1"}, {"name": "c2"}])
    status = ap.rollup(3, [dep, svc], total=2)
    assert status["clusters"] == [
        {
            "name": "c1",
            "components": 2,
            "componentsApplied": 2,
            "readyReplicas": 2,
            "desiredReplicas": 2,
            "ready": True,
        },
        {
            "name": "c2",
            "components": 2,
            "componentsApplied": 2,
            "readyReplicas": 1,
            "desiredReplicas": 2,
            "ready": False,
        },
    ]
    assert status["summary"] == "1/2 clusters ready"
    assert condition(status, "Ready") == ("False", "ClustersNotReady")
    assert condition(status, "Progressing") == ("True", "Propagating")
    assert condition(status, "Degraded") == ("False", "AsExpected")
    assert status["observedGeneration"] == 3


def test_rollup_ready_and_degraded() -> None:
    dep = fed_with_status("FederatedDeployment", [{"name": "c1", "remoteStatus": {"readyReplicas": 2}}])
    ready = ap.rollup(1, [dep], total=1)
    assert condition(ready, "Ready") == ("True", "AllClustersReady")
    assert condition(ready, "Progressing") == ("False", "Stable")
    failing = fed_with_status("FederatedService", [{"name": "c1", "status": "ApplyOverridesFailed"}])
    degraded = ap.rollup(1, [dep, failing], total=2)
    assert condition(degraded, "Degraded") == ("True", "ComponentsFailed")
    assert (
        "ApplyOverridesFailed"
        in next(c for c in degraded["conditions"] if c["type"] == "Degraded")["message"]
    )
    assert condition(ap.rollup(1, [dep], total=2), "Ready") == ("False", "ClustersNotReady")


def test_next_status_writes_only_on_change_and_keeps_transition_times() -> None:
    computed = ap.rollup(1, [], total=1)
    first = ap.next_status(None, computed, "t1")
    assert first is not None and all(c["lastTransitionTime"] == "t1" for c in first["conditions"])
    assert ap.next_status(first, computed, "t2") is None
    changed = dict(computed, summary="x")
    second = ap.next_status(first, changed, "t2")
    assert second is not None and all(c["lastTransitionTime"] == "t1" for c in second["conditions"])


# -- properties ---------------------------------------------------------------------------

LABELS = st.dictionaries(
    st.sampled_from(["region", "tier"]), st.sampled_from(["eu", "asia", "prod"]), max_size=2
)
FLEETS = st.lists(
    st.builds(Cluster, st.sampled_from(["a", "b", "c", "d", "e"]), LABELS),
    max_size=5,
    unique_by=lambda c: c.name,
)
RULES = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["a", "b", "z"]), LABELS),
        st.sampled_from(["Deployment", "Service"]),
        st.sampled_from([IMAGE, "/metadata/labels/x"]),
        st.sampled_from(["1", "2"]),
    ),
    max_size=5,
)


def rules_to_overrides(rules: list[Any]) -> list[dict[str, Any]]:
    out = []
    for where, kind, path, value in rules:
        target = (
            {"clusterName": where} if isinstance(where, str) else {"clusterSelector": {"matchLabels": where}}
        )
        out.append(
            {**target, "component": {"kind": kind}, "clusterOverrides": [{"path": path, "value": value}]}
        )
    return out


@settings(max_examples=60, deadline=None)
@given(FLEETS, RULES)
def test_expansion_is_deterministic_and_selector_overrides_only_touch_matching_clusters(
    fleet: list[Cluster], rules: list[Any]
) -> None:
    obj = app(overrides=rules_to_overrides(rules))
    first = expand(obj, fleet)
    again = expand(copy.deepcopy(obj), list(reversed(fleet)))
    assert first.objects == again.objects and first.conflicts == again.conflicts
    labels = {c.name: c.labels for c in fleet}
    for fed in first.federated():
        kind = fed["kind"][len("Federated") :]
        for cluster, items in overrides_of(fed).items():
            assert cluster in labels
            for item in items:
                allowed = [
                    (where, value)
                    for where, k, path, value in rules
                    if k == kind
                    and path == item["path"]
                    and (
                        where == cluster
                        if isinstance(where, str)
                        else all(labels[cluster].get(x) == y for x, y in where.items())
                    )
                ]
                assert any(value == item["value"] for _, value in allowed)
                named = [value for where, value in allowed if isinstance(where, str)]
                if named:
                    assert item["value"] == named[0]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, unique=True), st.data())
def test_removing_a_component_removes_only_its_objects(names_: list[str], data: Any) -> None:
    components = [deployment(n, 1) if i % 2 else service(n) for i, n in enumerate(names_)]
    full = expand(app(components=components, replicas={}))
    dropped = data.draw(st.sampled_from(names_))
    rest = [c for c in components if c["metadata"]["name"] != dropped]
    if not rest:
        return
    smaller = expand(app(components=rest, replicas={}))
    keys = lambda e: {(o["kind"], o["metadata"]["name"]) for o in e.objects}  # noqa: E731
    removed = keys(full) - keys(smaller)
    assert removed and all(name == dropped for _, name in removed)
    assert keys(smaller) <= keys(full)
    assert [o for o in full.objects if o["metadata"]["name"] != dropped] == smaller.objects


def test_a_cluster_the_health_check_finds_not_ready_is_not_ready_whatever_its_objects_say() -> None:
    fed = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": "c", "namespace": "shop", "generation": 1},
        "status": {
            "observedGeneration": 1,
            "conditions": [{"type": "Propagation", "status": "True"}],
            "clusters": [{"name": "a"}, {"name": "b"}],
        },
    }
    fresh = ap.rollup(1, [fed], total=1)
    assert fresh["summary"] == "2/2 clusters ready"
    stale = ap.rollup(1, [fed], total=1, not_ready=["b", "elsewhere"])
    assert stale["summary"] == "1/2 clusters ready"
    rows = {r["name"]: r for r in stale["clusters"]}
    assert rows["b"]["ready"] is False and rows["b"]["problems"] == ["ClusterNotReady"]
    assert rows["a"]["ready"] is True and "problems" not in rows["a"]
    assert [c["status"] for c in stale["conditions"]] == ["False", "True", "False"]  # not Degraded
