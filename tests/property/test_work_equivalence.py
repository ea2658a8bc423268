"""Pull and push write the same member object: what the agent computes from a Work equals
what the controller computes from the federated object, for any template, overrides,
retention flag and live object (core/work.py, core/member.py)."""

from __future__ import annotations

import copy
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_kubefed.api.validation import object_name
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.core.member import desired_object
from tests.property.strategies import cluster_names, cluster_overrides, json_values, specs

TYPES = [
    tc.lookup(n)
    for n in (
        "configmaps",
        "deployments.apps",
        "services",
        "namespaces",
        "clusterroles.rbac.authorization.k8s.io",
    )
]


@st.composite
def federated(draw: st.DrawFn) -> tuple[tc.TypeConfig, dict[str, Any], str]:
    target = draw(st.sampled_from(TYPES))
    spec = draw(specs())
    clusters = draw(st.lists(cluster_names, unique=True, max_size=3))
    overrides = [
        {"clusterName": c, "clusterOverrides": draw(cluster_overrides(list(spec)))} for c in clusters
    ]
    namespace = "" if not target.namespaced else "shop"
    name = "shop" if target.kind == "Namespace" else draw(st.sampled_from(["web", "system:x", "a.b"]))
    fed_spec: dict[str, Any] = {
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec},
        "placement": {"clusterSelector": {}},
        "overrides": overrides,
    }
    if draw(st.booleans()):
        fed_spec["retainReplicas"] = True
    fed = {
        "apiVersion": target.federated_api_version,
        "kind": target.federated_kind,
        "metadata": {"name": name, "namespace": namespace or name, "uid": "u-1", "generation": 3},
        "spec": fed_spec,
    }
    return target, fed, draw(cluster_names)


def outcome(fed: dict[str, Any], target: tc.TypeConfig, cluster: str, live: dict[str, Any] | None) -> Any:
    try:
        return desired_object(fed, target, cluster, live).obj
    except ov.OverridesError as err:
        return ("refused", type(err).__name__, str(err))


@settings(max_examples=300, deadline=None)
@given(federated(), st.one_of(st.none(), json_values), st.booleans())
def test_the_agent_computes_what_the_controller_computes(
    case: tuple[tc.TypeConfig, dict[str, Any], str], live_spec: Any, with_live: bool
) -> None:
    target, fed, cluster = case
    work = wk.build(fed, target, cluster)
    assert wk.target_of(work) == tc.TypeConfig(
        kind=target.kind,
        group=target.group,
        version=target.version,
        plural=target.plural,
        namespaced=target.namespaced,
    )
    view = wk.federated_view(copy.deepcopy(work), cluster)
    live = None
    if with_live:
        live = copy.deepcopy(outcome(fed, target, cluster, None))
        if isinstance(live, dict):
            live["metadata"]["resourceVersion"] = "7"
            live["metadata"].setdefault("annotations", {})["other"] = "kept"
            live["spec"] = {**(live.get("spec") or {}), "replicas": live_spec, "clusterIP": "10.0.0.1"}
        else:
            live = None
    assert outcome(view, target, cluster, live) == outcome(fed, target, cluster, live)


@given(
    st.sampled_from(TYPES),
    st.sampled_from(["", "shop", "a" * 63]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-:", min_size=1, max_size=253),
)
def test_work_names_are_valid_and_keep_their_object_apart(target: tc.TypeConfig, ns: str, name: str) -> None:
    work_name = wk.work_name(target, ns, name)
    assert object_name("work.kubefed.io", "Work", work_name) is None, work_name
    assert len(work_name) <= 253
    other_group = tc.TypeConfig(
        kind=target.kind, group="example.com", version="v1", plural=target.plural, namespaced=True
    )
    assert wk.work_name(other_group, ns, name) != work_name
    assert wk.work_name(target, ns, name + "x") != work_name


def test_type_labels_fit_a_label_value() -> None:
    long = tc.TypeConfig(
        kind="Thing",
        group="a-very-long-group-name.example.kubernetes.io",
        version="v1",
        plural="thingamajigs",
        namespaced=True,
    )
    for target in [*TYPES, long]:
        value = wk.type_label(target)
        assert len(value) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9_.]*[a-z0-9])?", value), value
    assert wk.type_label(TYPES[1]) == "deployments.apps"


def test_pull_cluster_names_must_make_a_namespace() -> None:
    assert wk.cluster_namespace_problem("member1") == ""
    assert "DNS label" in wk.cluster_namespace_problem("Member_1")
    assert "DNS label" in wk.cluster_namespace_problem("m" * 48)
    assert wk.cluster_namespace_problem("m" * 47) == ""


def test_the_agent_reports_waiting_until_it_has_seen_the_generation() -> None:
    work = wk.build(
        {
            "apiVersion": "x/v1",
            "kind": "FederatedConfigMap",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {},
        },
        TYPES[0],
        "c1",
    )
    work["metadata"]["generation"] = 2
    assert wk.result_of(work).status == "WaitingForAgent"
    work["status"] = wk.Result("", "", "rv:5").as_status(1)
    assert wk.result_of(work).status == "WaitingForAgent" and wk.recorded_version(work) == ""
    work["status"] = wk.Result("", "", "rv:5").as_status(2)
    assert wk.result_of(work) == wk.Result("", "", "rv:5") and wk.recorded_version(work) == "rv:5"
    work["status"] = wk.Result("UpdateFailed", "conflict").as_status(2)
    assert wk.result_of(work) == wk.Result("UpdateFailed", "conflict", "")
