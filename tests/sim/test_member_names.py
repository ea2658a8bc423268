"""Member objects keep names a custom resource cannot have (``system:...``)."""

from __future__ import annotations

from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.naming import federated_name
from kubectl_kubefed.kube.join import _remove_managed as remove_managed
from kubectl_kubefed.sync.errors import Invalid
from tests.sim.helpers import fleet

RBAC = "rbac.authorization.k8s.io/v1"
NAME = "system:cert-manager:controller"
FED_API = "types.kubefed.io/v1beta1"
VERSIONS = "core.kubefed.io/v1alpha1"


def cluster_role(name: str = NAME, verbs: list[str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"app": "cert-manager"}},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": verbs or ["get"]}],
    }


def federated_role(name: str = NAME, verbs: list[str] | None = None) -> dict[str, Any]:
    return federate(cluster_role(name, verbs), tc.lookup("clusterroles.rbac.authorization.k8s.io")).obj


def role_in(f: Any, cluster: str, name: str = NAME) -> dict[str, Any] | None:
    obj: dict[str, Any] | None = f.member_object(cluster, RBAC, "ClusterRole", "", name)
    return obj


def test_the_simulated_api_server_refuses_such_names_for_custom_resources() -> None:
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    bad = {**federated_role(), "metadata": {"name": NAME}}
    with pytest.raises(Invalid):
        f.apply([bad])


def test_a_cluster_role_named_with_colons_is_created_updated_and_deleted_under_its_name() -> None:
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    assert f.settle()
    fed = federated_role()
    fed_name = federated_name(NAME)
    assert fed["metadata"]["name"] == fed_name != NAME
    f.apply([fed])
    assert f.settle()
    for cluster in ("c1", "c2", "c3"):
        member = role_in(f, cluster)
        assert member is not None, cluster
        assert member["metadata"]["labels"] == {"app": "cert-manager", "kubefed.io/managed": "true"}
        assert role_in(f, cluster, fed_name) is None  # nothing under the federated name
    status = f.host_server.get(FED_API, "FederatedClusterRole", "", fed_name)["status"]
    assert {c["name"]: c.get("status", "") for c in status["clusters"]} == {"c1": "", "c2": "", "c3": ""}
    events = [e.message for e in f.recorder.events if e.reason == "CreateInCluster"]
    assert any(NAME in m for m in events)
    version = f.host_server.get(VERSIONS, "ClusterPropagatedVersion", "", f"clusterrole-{fed_name}")
    assert {v["clusterName"] for v in version["status"]["clusterVersions"]} == {"c1", "c2", "c3"}

    f.apply([federated_role(verbs=["get", "list"])])
    assert f.settle()
    for cluster in ("c1", "c2", "c3"):
        member = role_in(f, cluster)
        assert member is not None and member["rules"][0]["verbs"] == ["get", "list"]

    f.delete(FED_API, "FederatedClusterRole", "", fed_name)
    assert f.settle()
    assert all(role_in(f, c) is None for c in ("c1", "c2", "c3"))


def test_a_member_change_is_reverted_and_placement_removal_deletes_it() -> None:
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    f.apply([federated_role()])
    assert f.settle()
    drifted = role_in(f, "c2")
    assert drifted is not None
    drifted["rules"] = []
    f.apply([drifted], cluster="c2")
    assert f.settle()
    reverted = role_in(f, "c2")
    assert reverted is not None and reverted["rules"][0]["verbs"] == ["get"]

    fed = federated_role()
    fed["spec"]["placement"] = {"clusters": [{"name": "c1"}]}
    f.apply([fed])
    assert f.settle()
    assert role_in(f, "c1") is not None
    assert role_in(f, "c2") is None and role_in(f, "c3") is None


def test_without_the_finalizer_orphans_lose_the_managed_label() -> None:
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    f.apply([federated_role()])
    assert f.settle()
    fed_name = federated_name(NAME)
    fed = f.host_server.get(FED_API, "FederatedClusterRole", "", fed_name)
    fed["metadata"]["finalizers"] = []
    f.host_server.update(fed)
    f.delete(FED_API, "FederatedClusterRole", "", fed_name)
    assert f.settle()
    for cluster in ("c1", "c2", "c3"):
        member = role_in(f, cluster)
        assert member is not None
        assert "kubefed.io/managed" not in member["metadata"]["labels"]


def test_a_template_name_is_ignored_unless_the_federated_object_is_named_for_it() -> None:
    """KubeFed's rule (member named like the federated object) holds for any other name,
    so a federated object can never pick which object it writes by its template."""
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    f.apply([cluster_role("system:precious")], cluster="c1")
    fed = federated_role()
    fed["metadata"]["name"] = "innocent"
    fed["spec"]["template"]["metadata"]["name"] = "system:precious"
    f.apply([fed])
    assert f.settle()
    assert role_in(f, "c1", "innocent") is not None
    precious = role_in(f, "c1", "system:precious")
    assert precious is not None and "kubefed.io/managed" not in precious["metadata"]["labels"]


def test_unjoin_remove_resources_deletes_them_under_their_own_names() -> None:
    f = fleet()
    f.enable("clusterroles.rbac.authorization.k8s.io")
    f.apply([cluster_role("system:theirs")], cluster="c1")
    f.apply([federated_role()])
    assert f.settle()
    said: list[str] = []
    remove_managed(cast(Any, f.host), cast(Any, f.views["c1"]), f.settings.namespace, said.append)
    assert role_in(f, "c1") is None
    assert role_in(f, "c1", "system:theirs") is not None  # not managed: left alone
    assert "1 managed clusterroles deleted in the member" in said


_printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="/%")


@settings(max_examples=10)
@given(st.lists(st.text(_printable, min_size=1, max_size=40), min_size=1, max_size=4, unique=True))
def test_roles_of_any_names_round_trip_through_the_controller(role_names: list[str]) -> None:
    role_names = [n for n in role_names if n not in (".", "..")]
    f = fleet(clusters=[{"name": "c1"}])
    f.enable("clusterroles.rbac.authorization.k8s.io")
    f.apply([federated_role(n) for n in role_names])
    assert f.settle()
    assert all(role_in(f, "c1", n) is not None for n in role_names)
    for n in role_names:
        f.delete(FED_API, "FederatedClusterRole", "", federated_name(n))
    assert f.settle()
    assert all(role_in(f, "c1", n) is None for n in role_names)
