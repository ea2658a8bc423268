"""The simulator as a user's test kit: the pytest fixture and the documented Python API."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_kubefed import manifests
from simulator.fleet import Fleet
from simulator.pytest_plugin import enable_types_for
from tests.conftest import ROOT


def test_fixture_runs_the_demo(kubefed_fleet: Any) -> None:
    fleet = kubefed_fleet(
        [
            {"name": "cluster1", "labels": {"region": "europe"}},
            {"name": "cluster2", "labels": {"region": "america"}},
            {"name": "cluster3", "labels": {"region": "asia"}},
        ]
    )
    objs = [d.obj for d in manifests.load_files([str(ROOT / "examples/demo/app.yaml")])]
    enable_types_for(fleet, objs)
    fleet.apply(objs)
    assert fleet.settle()
    assert fleet.member_object("cluster3", "v1", "ConfigMap", "demo", "demo-config") is None
    deploy = fleet.member_object("cluster2", "apps/v1", "Deployment", "demo", "demo-app")
    assert deploy is not None and deploy["spec"]["replicas"] == 5


@settings(max_examples=15, deadline=None)
@given(replicas=st.dictionaries(st.sampled_from(["a", "b", "c"]), st.integers(0, 20), max_size=3))
def test_a_users_property_replica_overrides_land_where_named(replicas: dict[str, int]) -> None:
    fleet = Fleet([{"name": n} for n in ("a", "b", "c")], seed=1)
    for t in ("namespaces", "deployments.apps"):
        fleet.enable(t)
    overrides = [
        {"clusterName": c, "clusterOverrides": [{"path": "/spec/replicas", "value": r}]}
        for c, r in replicas.items()
    ]
    fleet.apply(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}},
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedNamespace",
                "metadata": {"name": "app", "namespace": "app"},
                "spec": {"placement": {"clusterSelector": {}}},
            },
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedDeployment",
                "metadata": {"name": "web", "namespace": "app"},
                "spec": {
                    "template": {"spec": {"replicas": 1}},
                    "placement": {"clusterSelector": {}},
                    "overrides": overrides,
                },
            },
        ]
    )
    assert fleet.settle()
    for cluster in ("a", "b", "c"):
        obj = fleet.member_object(cluster, "apps/v1", "Deployment", "app", "web")
        assert obj is not None
        assert obj["spec"]["replicas"] == replicas.get(cluster, 1)


def test_enable_types_for_takes_federated_type_configs(kubefed_fleet: Any) -> None:
    """A user's own type (a CRD) comes with its FederatedTypeConfig: enable_types_for
    enables it (it used to take the FTC for a federated object and crash)."""
    from kubectl_kubefed.core import typeconfig as tc

    widget = tc.TypeConfig(
        kind="Widget", group="example.com", version="v1", plural="widgets", namespaced=True
    )
    fleet = kubefed_fleet([{"name": "eu"}, {"name": "us"}])
    objs = [
        tc.type_config_object(widget),
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": "types.kubefed.io/v1beta1",
            "kind": "FederatedNamespace",
            "metadata": {"name": "shop", "namespace": "shop"},
            "spec": {"placement": {"clusterSelector": {}}},
        },
        {
            "apiVersion": "types.kubefed.io/v1beta1",
            "kind": "FederatedWidget",
            "metadata": {"name": "w", "namespace": "shop"},
            "spec": {
                "template": {"spec": {"size": 3}},
                "placement": {"clusters": [{"name": "us"}]},
            },
        },
    ]
    enable_types_for(fleet, objs)
    fleet.apply(objs)
    assert fleet.settle()
    got = fleet.member_object("us", "example.com/v1", "Widget", "shop", "w")
    assert got is not None and got["spec"] == {"size": 3}
    assert fleet.member_object("eu", "example.com/v1", "Widget", "shop", "w") is None
