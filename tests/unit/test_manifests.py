import pytest

from kubectl_kubefed import manifests
from kubectl_kubefed.api.errors import InputError


def test_multi_document_and_list() -> None:
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: b}}
- {apiVersion: v1, kind: Secret, metadata: {name: c}}
"""
    docs = manifests.parse_documents(text, "f.yaml")
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "b", "c"]
    assert [d.index for d in docs] == [1, 3, 3]


def test_json_input() -> None:
    docs = manifests.parse_documents('{"kind": "List", "items": [{"kind": "A"}]}', "x.json")
    assert docs[0].obj == {"kind": "A"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\n---\nb: [\n", "f.yaml: document 2 (line 4): invalid YAML"),
        ("a: 1\n---\n- 1\n", "f.yaml: document 2: expected an object, got a number"),
        ("just a string\n", "f.yaml: document 1: expected an object, got a string"),
    ],
)
def test_errors_name_file_and_document(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        manifests.parse_documents(text, "f.yaml")
    assert str(err.value).startswith(message)


def test_require_kind() -> None:
    doc = manifests.parse_documents("metadata: {name: x}\n", "f")[0]
    with pytest.raises(InputError, match="f: document 1: missing kind"):
        manifests.require_kind(doc)


def test_missing_file() -> None:
    with pytest.raises(InputError, match=r"nope\.yaml: no such file"):
        manifests.load_files(["nope.yaml"])


def test_dump_round_trip() -> None:
    objs = [{"kind": "A", "metadata": {"name": "é"}}, {"kind": "B"}]
    text = manifests.dump_yaml(objs)
    assert [d.obj for d in manifests.parse_documents(text, "x")] == objs
    assert "é" in text
