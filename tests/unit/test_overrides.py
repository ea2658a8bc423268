from typing import Any

import pytest

from kubectl_kubefed.core import overrides as ov


def ops(*items: dict[str, Any]) -> list[ov.Operation]:
    return ov.parse([{"clusterName": "c", "clusterOverrides": list(items)}])["c"]


def test_default_op_is_replace() -> None:
    assert ops({"path": "/spec/replicas", "value": 1})[0].op == "replace"


@pytest.mark.parametrize("path", ["/metadata/namespace", "/metadata/name", "/metadata/generateName", "/kind"])
def test_forbidden_paths(path: str) -> None:
    with pytest.raises(ov.OverridesError, match="cannot be overridden"):
        ops({"path": path, "value": "x"})


def test_api_version_is_allowed() -> None:
    out = ov.apply(
        {"apiVersion": "extensions/v1beta1"},
        ops({"path": "/apiVersion", "value": "networking.k8s.io/v1"}),
    )
    assert out["apiVersion"] == "networking.k8s.io/v1"


def test_duplicate_cluster_and_path() -> None:
    with pytest.raises(ov.OverridesError, match="appears more than once"):
        ov.parse([{"clusterName": "c"}, {"clusterName": "c"}])
    with pytest.raises(ov.OverridesError, match='path "/a" appears more than once'):
        ops({"path": "/a", "value": 1}, {"path": "/a", "op": "add", "value": 2})


def test_unknown_op() -> None:
    with pytest.raises(ov.OverridesError, match="invalid op"):
        ops({"op": "move", "path": "/a"})


def test_replace_missing_member_creates_it() -> None:
    out = ov.apply({"spec": {}}, ops({"path": "/spec/replicas", "value": 4}))
    assert out == {"spec": {"replicas": 4}}


def test_replace_missing_parent_fails() -> None:
    with pytest.raises(ov.OverridesError, match="missing path"):
        ov.apply({}, ops({"path": "/spec/replicas", "value": 4}))


def test_add_existing_member_replaces_it() -> None:
    doc = {"metadata": {"annotations": {"kept": "no"}}}
    out = ov.apply(doc, ops({"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}}))
    assert out["metadata"]["annotations"] == {"a": "b"}


def test_remove_missing_key_fails() -> None:
    with pytest.raises(ov.OverridesError, match="nonexistent key"):
        ov.apply({"spec": {}}, ops({"op": "remove", "path": "/spec/replicas"}))


def test_remove_existing() -> None:
    assert ov.apply({"spec": {"a": 1, "b": 2}}, ops({"op": "remove", "path": "/spec/a"})) == {
        "spec": {"b": 2}
    }


def test_pointer_escapes() -> None:
    doc = {"metadata": {"annotations": {}}}
    out = ov.apply(
        doc, ops({"op": "add", "path": "/metadata/annotations/example.com~1foo~0bar", "value": "1"})
    )
    assert out["metadata"]["annotations"] == {"example.com/foo~bar": "1"}


def test_arrays_index_append_negative() -> None:
    doc = {"a": [1, 2, 3]}
    assert ov.apply(doc, ops({"op": "add", "path": "/a/0", "value": 0}))["a"] == [0, 1, 2, 3]
    assert ov.apply(doc, ops({"op": "add", "path": "/a/-", "value": 4}))["a"] == [1, 2, 3, 4]
    assert ov.apply(doc, ops({"op": "add", "path": "/a/3", "value": 4}))["a"] == [1, 2, 3, 4]
    assert ov.apply(doc, ops({"op": "replace", "path": "/a/-1", "value": 9}))["a"] == [1, 2, 9]
    assert ov.apply(doc, ops({"op": "remove", "path": "/a/-3"}))["a"] == [2, 3]
    # json-patch v4: add counts negative indices in the array one longer (KubeFed oracle)
    assert ov.apply(doc, ops({"op": "add", "path": "/a/-1", "value": 7}))["a"] == [1, 2, 3, 7]
    assert ov.apply(doc, ops({"op": "add", "path": "/a/-4", "value": 7}))["a"] == [7, 1, 2, 3]
    for bad in (
        {"op": "replace", "path": "/a/3", "value": 0},
        {"op": "remove", "path": "/a/-4"},
        {"op": "add", "path": "/a/5", "value": 0},
        {"op": "replace", "path": "/a/x", "value": 0},
    ):
        with pytest.raises(ov.OverridesError):
            ov.apply(doc, ops(bad))
    assert doc == {"a": [1, 2, 3]}  # never mutated


def test_nested_array_path() -> None:
    doc = {"spec": {"containers": [{"image": "a"}]}}
    out = ov.apply(doc, ops({"path": "/spec/containers/0/image", "value": "b"}))
    assert out["spec"]["containers"][0]["image"] == "b"


@pytest.mark.parametrize("field", ["annotations", "labels"])
@pytest.mark.parametrize("op", ["add", "replace"])
def test_pr1417_fix_creates_missing_metadata_map(field: str, op: str) -> None:
    out = ov.apply({"metadata": {"name": "x"}}, ops({"op": op, "path": f"/metadata/{field}/k", "value": "v"}))
    assert out["metadata"][field] == {"k": "v"}


def test_pr1417_fix_does_not_create_metadata_itself() -> None:
    with pytest.raises(ov.OverridesError):
        ov.apply({}, ops({"op": "add", "path": "/metadata/annotations/k", "value": "v"}))


def test_malformed_shapes() -> None:
    for bad in (
        {"a": 1},
        [1],
        [{"clusterOverrides": []}],
        [{"clusterName": "c", "clusterOverrides": [{"op": "add"}]}],
    ):
        with pytest.raises(ov.OverridesError):
            ov.parse(bad)


def test_paths_must_be_json_pointers() -> None:
    # Deliberate deviation: KubeFed's library ignored text before the first "/" (so
    # x/metadata/name renamed the member object) and replaced the whole object for "".
    for path in ("x/metadata/name", "metadata/name", "spec", ""):
        with pytest.raises(ov.OverridesError):
            ops({"path": path, "value": "other"})
