"""Properties of the post-renderer on generated manifest streams."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed import manifests
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.member import desired_object
from kubectl_kubefed.core.render import target_type
from kubectl_kubefed.postrender import Options, render

names_ = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
values = st.one_of(st.text(max_size=10), st.integers(-5, 5), st.booleans())
data = st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), st.text(max_size=12), max_size=3)


@st.composite
def objects(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["ConfigMap", "Deployment", "ServiceAccount", "Role", "Widget"]))
    api = {
        "ConfigMap": "v1",
        "Deployment": "apps/v1",
        "ServiceAccount": "v1",
        "Role": "rbac.authorization.k8s.io/v1",
        "Widget": "example.com/v1",
    }[kind]
    obj: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": {"name": draw(names_)}}
    if draw(st.booleans()):
        obj["metadata"]["labels"] = draw(
            st.dictionaries(st.sampled_from(["app", "tier"]), names_, max_size=2)
        )
    if kind == "ConfigMap":
        obj["data"] = draw(data)
    elif kind in ("Deployment", "Widget"):
        obj["spec"] = {"replicas": draw(st.integers(0, 9)), "extra": draw(values)}
    elif kind == "Role":
        obj["rules"] = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
        if draw(st.booleans()):  # RBAC names may hold ':'; the member keeps the name
            obj["metadata"]["name"] = "system:" + obj["metadata"]["name"]
    return obj


@given(
    st.lists(objects(), min_size=1, max_size=8, unique_by=lambda o: (o["kind"], o["metadata"]["name"])),
    st.booleans(),
)
def test_post_render_round_trips(objs: list[dict[str, Any]], with_sources: bool) -> None:
    stream = "".join(
        "---\n"
        + (f"# Source: chart/templates/t{i}.yaml\n" if with_sources else "")
        + manifests.dump_yaml_one(o)
        for i, o in enumerate(objs)
    )
    output = render(stream, Options(placement={"clusters": [{"name": "c1"}]}))
    out_docs = [d for d in yaml.safe_load_all(output) if d is not None]
    assert len(out_docs) == len(objs)
    if with_sources:
        assert output.count("# Source: chart/templates/") == len(objs)
    # A custom kind's target comes from its FederatedTypeConfig, as on a real host.
    types = [*tc.BUILTIN_TYPES, tc.TypeConfig("Widget", "example.com", "v1", "widgets", True)]
    for source, fed in zip(objs, out_docs, strict=True):
        assert fed["kind"] == "Federated" + source["kind"]
        member = desired_object(fed, target_type(fed, types), "c1").obj
        expected = copy.deepcopy(source)
        expected["metadata"]["labels"] = {
            **source["metadata"].get("labels", {}),
            "kubefed.io/managed": "true",
        }
        assert member == expected
