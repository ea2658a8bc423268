from kubectl_kubefed.core import versions as v

# Vectors from KubeFed v0.10.0's own sync.GetTemplateHash / sync.GetOverrideHash
# (hack/oracles/kubefed): MD5 of json.Encoder output, which ends in a newline.
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
    assert v.template_version(fed) == "0b0544df0e949b6c742f4888821ab82f"


def test_overrides_version_matches_go() -> None:
    assert v.overrides_version({"spec": {"overrides": OVERRIDES}}) == "92fd8a412f6402362bce9d087b50026e"


def test_overrides_version_without_overrides_is_hash_of_null() -> None:
    assert v.overrides_version({"spec": {}}) == "2979b7538b527abe06492021841caf47"
    assert v.overrides_version({"spec": {"overrides": None}}) == "2979b7538b527abe06492021841caf47"


def test_overrides_version_of_empty_list_is_not_null() -> None:
    # encoding/json decodes [] into an empty, non-nil slice, which encodes as []
    assert v.overrides_text({"spec": {"overrides": []}}) == '{"overrides":[]}'
    assert v.overrides_version({"spec": {"overrides": []}}) == "fd97e6d9a670c7dcdc2477764f78b459"


def test_numbers_are_the_ones_kubefed_held() -> None:
    # template: integers that fit int64 exact, others float64; override values: float64
    fed = {
        "spec": {
            "template": {"s": "<&>\u2028", "n": [1.0, 1e21, 1e-7, 2**64, -0.0, 9007199254740993]},
            "overrides": [
                {"clusterName": "c", "clusterOverrides": [{"path": "/n", "value": 9007199254740993}]}
            ],
        }
    }
    assert v.template_text(fed) == (
        '{"n":[1,1e+21,1e-7,18446744073709552000,-0,9007199254740993],"s":"\\u003c\\u0026\\u003e\\u2028"}'
    )
    assert v.template_version(fed) == "331fdbc0539da7ff589e15693737a672"
    assert v.overrides_version(fed) == "8277fe7df4f326399788406ac91a8fad"


def test_strings_as_go_decoded_them() -> None:
    # a lone surrogate was U+FFFD in Go; keys sort by their UTF-8 bytes, not their escapes
    assert v.go_json({"a\ud800": 1, "A": 2, "<": 3}) == '{"\\u003c":3,"A":2,"a\ufffd":1}'
    # Go 1.16, which built KubeFed v0.10.0, wrote \b and \f as \u0008 and \u000c
    assert v.go_json("\b\f") == '"\\u0008\\u000c"'


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


def test_malformed_overrides_still_hash() -> None:
    # the controller hashes before it validates; overrides.parse reports the problem
    for bad in (["x"], "x", {"a": 1}, [["x"]]):
        spec = {"overrides": [{"clusterName": "c", "clusterOverrides": bad}]}
        assert len(v.overrides_version({"spec": spec})) == 32
