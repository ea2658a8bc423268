from typing import Any

import pytest

from kubectl_kubefed.api import status as st
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core.clusters import Cluster, is_ready

CLUSTERS = [
    Cluster("c1", {"region": "europe"}),
    Cluster("c2", {"region": "america"}),
    Cluster("c3", {"region": "asia"}, ready=False),
]


def fed(placement: Any) -> dict[str, Any]:
    return {"spec": {"placement": placement}}


@pytest.mark.parametrize(
    ("placement", "expected"),
    [
        (None, set()),  # nil placement
        ({}, set()),  # nil selector selects none
        ({"clusterSelector": None}, set()),
        ({"clusterSelector": {}}, {"c1", "c2", "c3"}),  # empty selects all, ready or not
        ({"clusterSelector": {"matchLabels": {}}}, {"c1", "c2", "c3"}),
        ({"clusterSelector": {"matchLabels": {"region": "asia"}}}, {"c3"}),
        (
            {
                "clusterSelector": {
                    "matchExpressions": [{"key": "region", "operator": "NotIn", "values": ["asia"]}]
                }
            },
            {"c1", "c2"},
        ),
        ({"clusters": [{"name": "c2"}], "clusterSelector": {}}, {"c2"}),  # list beats selector
        ({"clusters": [], "clusterSelector": {}}, set()),  # even empty
        ({"clusters": [{"name": "c1"}, {"name": "unknown"}]}, {"c1"}),  # unknown dropped
    ],
)
def test_placement_table(placement: Any, expected: set[str]) -> None:
    result = pl.compute(fed(placement), CLUSTERS, namespaced_target=False, federated_namespace=None)
    assert result.clusters == expected
    assert result.reason == ""


def test_selector_only_ignores_list() -> None:
    placement = {
        "clusters": [{"name": "c1"}],
        "clusterSelector": {"matchLabels": {"region": "asia"}},
    }
    assert pl.selected_names(placement, CLUSTERS, selector_only=True) == {"c3"}


def test_invalid_selector_is_compute_placement_failed() -> None:
    bad = {"clusterSelector": {"matchExpressions": [{"key": "a", "operator": "Gt"}]}}
    result = pl.compute(fed(bad), CLUSTERS, namespaced_target=False, federated_namespace=None)
    assert result.reason == st.REASON_COMPUTE_PLACEMENT_FAILED
    assert result.clusters == frozenset()


def test_namespaced_intersects_with_federated_namespace() -> None:
    ns = fed({"clusters": [{"name": "c1"}, {"name": "c3"}]})
    result = pl.compute(
        fed({"clusterSelector": {}}), CLUSTERS, namespaced_target=True, federated_namespace=ns
    )
    assert result.clusters == {"c1", "c3"}


def test_namespace_not_federated_cluster_scope() -> None:
    result = pl.compute(
        fed({"clusterSelector": {}}), CLUSTERS, namespaced_target=True, federated_namespace=None
    )
    assert result.clusters == frozenset()
    assert result.reason == st.REASON_NAMESPACE_NOT_FEDERATED


def test_namespace_absent_namespaced_scope_uses_own_placement() -> None:
    result = pl.compute(
        fed({"clusters": [{"name": "c2"}]}),
        CLUSTERS,
        namespaced_target=True,
        federated_namespace=None,
        scope="Namespaced",
    )
    assert result.clusters == {"c2"}
    assert result.reason == ""


def test_readiness_from_conditions() -> None:
    assert is_ready({})
    assert is_ready({"status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    assert not is_ready({"status": {"conditions": [{"type": "Ready", "status": "False"}]}})
    assert not is_ready({"status": {"conditions": [{"type": "Offline", "status": "True"}]}})
