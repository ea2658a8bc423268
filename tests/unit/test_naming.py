"""Federated names for member objects of any valid name (``system:...``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.validation import dns1123_subdomain, path_segment_name
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.input_checks import check_federated
from kubectl_kubefed.core.member import desired_object, escaping_overrides
from kubectl_kubefed.core.naming import MAPPED_MAX, federated_name, may_be_mapped, member_name
from kubectl_kubefed.core.render import render

CLUSTER_ROLE = tc.lookup("clusterroles.rbac.authorization.k8s.io")
ROLE = tc.lookup("roles.rbac.authorization.k8s.io")
CONFIGMAP = tc.lookup("configmaps")

_label = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
valid_names = st.lists(_label, min_size=1, max_size=4).map(".".join).filter(lambda n: len(n) <= 253)
# Names the API server accepts for RBAC objects: any path segment.
path_segments = st.text(min_size=1, max_size=300).filter(lambda n: path_segment_name(n) is None)
any_names = st.one_of(valid_names, path_segments, st.text(max_size=300))


def cluster_role(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": name, "labels": {"app": "x"}},
        "rules": [],
    }


def test_examples() -> None:
    assert federated_name("web") == "web"
    assert federated_name("a.b-c") == "a.b-c"
    mapped = federated_name("system:cert-manager:controller")
    assert mapped.startswith("system-cert-manager-controller-")
    assert len(mapped) == len("system-cert-manager-controller-") + 10
    assert federated_name("Admin_Role").startswith("admin-role-")
    assert federated_name(":::") != federated_name("::")
    assert dns1123_subdomain(federated_name("日本")) is None
    long = federated_name("system:" + "x" * 300)
    assert len(long) == MAPPED_MAX and long.startswith("system-xxx")


@given(valid_names)
def test_valid_names_are_kept(name: str) -> None:
    assert federated_name(name) == name
    assert not may_be_mapped(name) or federated_name(name) == name


@given(any_names)
def test_the_mapping_is_always_a_valid_lowercase_name_at_most_253(name: str) -> None:
    mapped = federated_name(name)
    assert dns1123_subdomain(mapped) is None
    assert mapped == mapped.lower() and len(mapped) <= 253
    assert federated_name(name) == mapped  # deterministic
    assert federated_name(mapped) == mapped  # a fixed point: mapping twice changes nothing
    if mapped != name:
        assert may_be_mapped(mapped)
        assert len(mapped) <= MAPPED_MAX  # "clusterrolebinding-" + mapped is a valid name too


@given(st.lists(any_names, min_size=2, max_size=30, unique=True))
def test_distinct_names_map_to_distinct_names(names: list[str]) -> None:
    assert len({federated_name(n) for n in names}) == len(names)


@given(path_segments)
def test_federate_keeps_the_original_name_for_the_member(name: str) -> None:
    fed = federate(cluster_role(name), CLUSTER_ROLE).obj
    assert fed["metadata"]["name"] == federated_name(name)
    assert member_name(fed) == name
    member = desired_object(fed, CLUSTER_ROLE, "c1").obj
    assert member["metadata"]["name"] == name
    assert member["metadata"]["labels"] == {"app": "x", "kubefed.io/managed": "true"}
    assert escaping_overrides(fed, CLUSTER_ROLE) == ""


def test_federate_leaves_valid_names_and_templates_as_before() -> None:
    fed = federate(cluster_role("view-all"), CLUSTER_ROLE).obj
    assert fed["metadata"] == {"name": "view-all"}
    assert fed["spec"]["template"] == {"metadata": {"labels": {"app": "x"}}, "rules": []}


def test_a_namespaced_role_keeps_its_namespace() -> None:
    role = {**cluster_role("cert-manager:leaderelection"), "kind": "Role"}
    role["metadata"] = {**role["metadata"], "namespace": "kube-system"}
    fed = federate(role, ROLE).obj
    assert fed["metadata"] == {
        "name": federated_name("cert-manager:leaderelection"),
        "namespace": "kube-system",
    }
    member = desired_object(fed, ROLE, "c1").obj
    assert (member["metadata"]["namespace"], member["metadata"]["name"]) == (
        "kube-system",
        "cert-manager:leaderelection",
    )


@pytest.mark.parametrize(
    ("fed_name", "template_name"),
    [
        ("innocent", "system:precious"),  # not the mapping of the template name
        ("precious", "other"),  # a valid template name is never the member's unless equal
        (federated_name("system:a"), "system:b"),
    ],
)
def test_a_template_name_only_counts_when_the_federated_object_is_named_for_it(
    fed_name: str, template_name: str
) -> None:
    fed = federate(cluster_role("x"), CLUSTER_ROLE).obj
    fed["metadata"]["name"] = fed_name
    fed["spec"]["template"]["metadata"]["name"] = template_name
    assert member_name(fed) == fed_name
    assert desired_object(fed, CLUSTER_ROLE, "c1").obj["metadata"]["name"] == fed_name


def test_overrides_cannot_rename_a_mapped_member() -> None:
    fed = federate(cluster_role("system:a"), CLUSTER_ROLE).obj
    fed["spec"]["overrides"] = [
        {"clusterName": "c1", "clusterOverrides": [{"path": "/metadata/name", "value": "system:b"}]}
    ]
    assert "/metadata/name" in ov.problem(fed["spec"]["overrides"])  # a forbidden path
    fed["spec"]["overrides"] = [
        {"clusterName": "c1", "clusterOverrides": [{"path": "/metadata", "value": {"name": "cluster-admin"}}]}
    ]
    assert 'from "system:a" to "cluster-admin"' in escaping_overrides(fed, CLUSTER_ROLE)


def test_template_names_are_checked_by_the_target_kinds_rule() -> None:
    check_federated(federate(cluster_role("system:a"), CLUSTER_ROLE).obj, "doc 1")
    fed: dict[str, Any] = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": federated_name("a:b"), "namespace": "ns"},
        "spec": {"template": {"metadata": {"name": "a:b"}}},
    }
    with pytest.raises(InputError, match="RFC 1123 subdomain"):
        check_federated(fed, "doc 1")
    fed["spec"]["template"]["metadata"]["name"] = "../x"
    fed["kind"] = "FederatedClusterRole"
    with pytest.raises(InputError, match="may not contain '/'"):
        check_federated(fed, "doc 1")


def test_render_gives_members_the_original_name() -> None:
    fed = federate(cluster_role("system:cert-manager:controller"), CLUSTER_ROLE).obj
    rendering = render([fed], [Cluster("c1", {}, True), Cluster("c2", {}, True)])
    for cluster in ("c1", "c2"):
        [obj] = rendering.clusters[cluster]
        assert obj["metadata"]["name"] == "system:cert-manager:controller"
    assert rendering.federated[0].name == federated_name("system:cert-manager:controller")
