from kubectl_kubefed.core import versions as v

# Vectors computed with Go's encoding/json + crypto/md5 (the way KubeFed hashes).
TEMPLATE = {
    "metadata": {"labels": {"app": "web"}},
    "spec": {
        "replicas": 3,
        "ratio": 0.5,
        "template": {
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "args": ["--a=<b>&c"]}]}
        },
    },
}
OVERRIDES = [
    {
        "clusterName": "cluster2",
        "clusterOverrides": [
            {"path": "/spec/replicas", "value": 5},
            {"op": "add", "path": "/metadata/annotations", "value": {"k": "v"}},
        ],
    }
]


def test_template_version_matches_go() -> None:
    fed = {"spec": {"template": TEMPLATE}}
    assert v.template_version(fed) == "9894d0d0df0ea511c0b3b44de2a592fa"


def test_overrides_version_matches_go() -> None:
    assert v.overrides_version({"spec": {"overrides": OVERRIDES}}) == "079e50cd2da127ecbc19be48f6119c28"


def test_overrides_version_without_overrides_is_hash_of_null() -> None:
    assert v.overrides_version({"spec": {}}) == "77d40a36ed2d8ad379979519b8f03404"


def test_versions_empty_without_spec_or_template() -> None:
    assert v.template_version({}) == ""
    assert v.overrides_version({}) == ""
    assert v.template_version({"spec": {}}) == ""


def test_override_value_null_and_empty_op_are_omitted() -> None:
    a = {"spec": {"overrides": [{"clusterName": "c", "clusterOverrides": [{"path": "/x", "op": ""}]}]}}
    b = {"spec": {"overrides": [{"clusterName": "c", "clusterOverrides": [{"path": "/x", "value": None}]}]}}
    assert v.overrides_version(a) == v.overrides_version(b)


def test_go_json_formats_like_go() -> None:
    value = {
        "z": [1, 2.5, 1e21, 1e-7, 0.00001, 2.0, "<a&b>", "\u2028"],
        "a": {"y": True, "x": None},
    }
    assert v.go_json(value) == (
        '{"a":{"x":null,"y":true},"z":[1,2.5,1e+21,1e-7,0.00001,2,"\\u003ca\\u0026b\\u003e","\\u2028"]}'
    )


def test_object_version_gen_or_rv() -> None:
    assert v.object_version({"metadata": {"generation": 4, "resourceVersion": "9"}}) == "gen:4"
    assert v.object_version({"metadata": {"resourceVersion": "9"}}) == "rv:9"


def test_update_needed_rules() -> None:
    member = {"metadata": {"name": "a", "generation": 2, "labels": {"x": "1"}}}
    desired = {"metadata": {"name": "a", "labels": {"x": "1"}}}
    assert not v.update_needed("gen:2", desired, member)
    assert v.update_needed("gen:1", desired, member)
    assert v.update_needed("", desired, member)
    # gen: kinds compare metadata: a label change does not bump generation
    assert v.update_needed("gen:2", {"metadata": {"name": "a", "labels": {"x": "2"}}}, member)
    # nil and empty maps are equal
    assert not v.update_needed(
        "gen:2", {"metadata": {"name": "a", "labels": {"x": "1"}, "annotations": {}}}, member
    )
    # rv: kinds never compare metadata
    rv_member = {"metadata": {"name": "a", "resourceVersion": "5"}}
    assert not v.update_needed("rv:5", {"metadata": {"name": "a", "labels": {"y": "1"}}}, rv_member)
