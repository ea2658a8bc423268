"""A federated object writes exactly the one member object it names (security issue, hole 1).

Every test here tries to make an override, a template or a chart hint reach another object:
another namespace (kube-system), another name, another kind or another API group.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.member import desired_object, escaping_overrides, identity
from kubectl_kubefed.core.render import target_type
from tests.conftest import run_cli

CONFIGMAPS = tc.for_kind("v1", "ConfigMap", namespaced=True)
CLUSTERROLES = tc.for_kind("rbac.authorization.k8s.io/v1", "ClusterRole", namespaced=False)
ESCAPE = {"path": "/metadata", "value": {"name": "precious", "namespace": "kube-system"}}


def fed_cm(overrides: list[dict[str, Any]] | None = None, template: Any = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "template": template if template is not None else {"data": {"k": "v"}},
        "placement": {"clusters": [{"name": "c1"}, {"name": "c2"}]},
    }
    if overrides is not None:
        spec["overrides"] = overrides
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": "cfg", "namespace": "shop"},
        "spec": spec,
    }


def for_c1(*ops: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"clusterName": "c1", "clusterOverrides": list(ops)}]


@pytest.mark.parametrize(
    "op",
    [
        ESCAPE,
        {"op": "add", "path": "/metadata", "value": {"name": "cfg", "namespace": "kube-system"}},
        {"path": "/metadata", "value": {"labels": {"a": "b"}}},  # drops name and namespace
        {"op": "remove", "path": "/metadata"},
        {"path": "/apiVersion", "value": "rbac.authorization.k8s.io/v1"},
        {"op": "remove", "path": "/apiVersion"},
        {"op": "remove", "path": "/kind"},
        {"path": "/metadata/namespace", "value": "kube-system"},
        {"path": "/metadata/name", "value": ["a"]},
    ],
)
def test_identity_changing_override_is_refused(op: dict[str, Any]) -> None:
    fed = fed_cm(for_c1(op))
    with pytest.raises(ov.OverridesError) as err:
        desired_object(fed, CONFIGMAPS, "c1")
    if not isinstance(err.value, ov.IdentityChangeError):
        return  # refused for every cluster already when the overrides are parsed (KubeFed's rule)
    # the other cluster is unaffected
    assert identity(desired_object(fed, CONFIGMAPS, "c2").obj) == ("", "ConfigMap", "shop", "cfg")


def test_metadata_escape_is_an_identity_change_with_a_clear_message() -> None:
    with pytest.raises(ov.IdentityChangeError) as err:
        desired_object(fed_cm(for_c1(ESCAPE)), CONFIGMAPS, "c1")
    assert 'namespace from "shop" to "kube-system"' in str(err.value)
    assert "\n" not in str(err.value)


def test_identity_preserving_metadata_replacement_is_allowed() -> None:
    op = {"path": "/metadata", "value": {"name": "cfg", "namespace": "shop", "labels": {"x": "y"}}}
    obj = desired_object(fed_cm(for_c1(op)), CONFIGMAPS, "c1").obj
    assert obj["metadata"]["labels"] == {"x": "y", "kubefed.io/managed": "true"}


def test_version_change_within_the_group_is_allowed_but_not_another_group() -> None:
    fed = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedClusterRole",
        "metadata": {"name": "r"},
        "spec": {"template": {"rules": []}, "placement": {"clusters": []}},
    }
    ok = {
        **fed,
        "spec": {
            **fed["spec"],
            "overrides": for_c1({"path": "/apiVersion", "value": "rbac.authorization.k8s.io/v1beta1"}),
        },
    }
    assert desired_object(ok, CLUSTERROLES, "c1").obj["apiVersion"] == "rbac.authorization.k8s.io/v1beta1"
    bad = {
        **fed,
        "spec": {**fed["spec"], "overrides": for_c1({"path": "/apiVersion", "value": "evil.example.com/v1"})},
    }
    with pytest.raises(ov.IdentityChangeError):
        desired_object(bad, CLUSTERROLES, "c1")


def test_template_in_another_group_is_refused_without_overrides() -> None:
    fed = fed_cm(template={"apiVersion": "evil.example.com/v1", "data": {}})
    with pytest.raises(ov.IdentityChangeError):
        desired_object(fed, CONFIGMAPS, "c1")
    assert "API group" in escaping_overrides(fed, CONFIGMAPS)


def test_offline_check_finds_an_escape_behind_an_operation_that_fails_offline() -> None:
    # /spec/x does not exist offline (it might after retention on a live object)
    ops = for_c1({"path": "/spec/x/y", "value": 1}, ESCAPE)
    assert "kube-system" in escaping_overrides(fed_cm(ops), CONFIGMAPS)


paths = st.sampled_from(
    [
        "/metadata",
        "/apiVersion",
        "/kind",
        "/metadata/name",
        "/metadata/namespace",
        "/metadata/labels",
        "/data",
        "/x",
    ]
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(["cfg", "shop", "kube-system", "v1", "ConfigMap", "apps/v1"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["name", "namespace", "labels", "generateName", "a"]), inner, max_size=3
        ),
    ),
    max_leaves=8,
)
operations = st.lists(
    st.fixed_dictionaries(
        {"op": st.sampled_from(["add", "replace", "remove"]), "path": paths, "value": json_values}
    ),
    max_size=4,
    unique_by=lambda o: o["path"],
)


@given(operations)
def test_no_override_ever_changes_the_member_identity(ops: list[dict[str, Any]]) -> None:
    """Whatever the overrides, the result is refused or is the named object."""
    fed = fed_cm(for_c1(*ops))
    try:
        obj = desired_object(fed, CONFIGMAPS, "c1").obj
    except ov.OverridesError:
        return
    assert identity(obj) == ("", "ConfigMap", "shop", "cfg")
    if escaping_overrides(fed, CONFIGMAPS):
        pytest.fail("the offline check refuses what the controller would write")


# -- the offline entry points refuse with one line and exit 2 -------------------------------


def _assert_one_line_refusal(result: Any) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "kube-system" in lines[0] and "refused" in lines[0]


CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "cfg", "namespace": "shop"},
    "data": {"k": "v"},
}


def test_federate_refuses_an_escaping_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text(yaml.safe_dump([{"kind": "ConfigMap", "overrides": for_c1(ESCAPE)}]))
    result = run_cli("federate", "-f", "-", "--overrides", str(tmp_path / "o.yaml"), stdin=json.dumps(CM))
    _assert_one_line_refusal(result)
    assert result.stdout == ""


def test_render_refuses_and_writes_nothing(tmp_path: Path) -> None:
    clusters = [
        {
            "apiVersion": "core.kubefed.io/v1beta1",
            "kind": "KubeFedCluster",
            "metadata": {"name": c, "namespace": "kube-federation-system"},
            "spec": {},
        }
        for c in ("c1", "c2")
    ]
    fed_ns = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedNamespace",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"placement": {"clusterSelector": {}}},
    }
    stream = yaml.safe_dump_all([*clusters, fed_ns, fed_cm(for_c1(ESCAPE))])
    out = tmp_path / "out"
    result = run_cli("render", "-f", "-", "--output-dir", str(out), stdin=stream)
    _assert_one_line_refusal(result)
    assert not out.exists() or not any(out.rglob("*"))
    assert target_type(fed_cm(), tc.BUILTIN_TYPES).kind == "ConfigMap"


def test_post_renderer_refuses_an_escaping_override_hint() -> None:
    obj = json.loads(json.dumps(CM))
    obj["metadata"]["annotations"] = {"kubefed.io/overrides": json.dumps(for_c1(ESCAPE))}
    result = run_cli(stdin=yaml.safe_dump(obj), exe="kubefed-post-renderer")
    _assert_one_line_refusal(result)
    assert result.stdout == ""
