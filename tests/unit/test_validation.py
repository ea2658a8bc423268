"""Kubernetes' name rules (api/validation) and the escaping of user text in messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.api import validation as v


@pytest.mark.parametrize("name", ["a", "web", "a-b", "0", "9lives", "a" * 63])
def test_dns1123_label_accepts(name: str) -> None:
    assert v.dns1123_label(name) is None


@pytest.mark.parametrize(
    "name", ["", "A", "-a", "a-", "a.b", "a_b", "a" * 64, "../kube-system", "a\n", "ä", "a b", "a/b"]
)
def test_dns1123_label_refuses(name: str) -> None:
    assert v.dns1123_label(name) is not None


@pytest.mark.parametrize("name", ["a", "a.b", "web-1.example.com", "0.0", "a" * 253])
def test_dns1123_subdomain_accepts(name: str) -> None:
    assert v.dns1123_subdomain(name) is None


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "../../x", "/abs/path", "a..b", ".a", "a.", "a" * 254, "system:x", "x\x1b[31m", "a\n"],
)
def test_dns1123_subdomain_refuses(name: str) -> None:
    assert v.dns1123_subdomain(name) is not None


def test_dns1035_label_starts_with_a_letter() -> None:
    assert v.dns1035_label("web") is None
    assert v.dns1035_label("1web") is not None


@pytest.mark.parametrize("name", ["system:controller:x", "Upper_Case", "a b", "a.b"])
def test_path_segment_accepts(name: str) -> None:
    assert v.path_segment_name(name) is None


@pytest.mark.parametrize("name", [".", "..", "a/b", "a%2f", "nul\x00", "esc\x1b"])
def test_path_segment_refuses(name: str) -> None:
    assert v.path_segment_name(name) is not None


@pytest.mark.parametrize("value", [["a"], 5, 5.0, None, {"a": 1}, True])
def test_a_name_must_be_a_string(value: object) -> None:
    for rule in (v.dns1123_label, v.dns1123_subdomain, v.dns1035_label, v.path_segment_name):
        assert "must be a string" in str(rule(value))


def test_name_rule_per_kind() -> None:
    assert v.object_name(v.RBAC_GROUP, "ClusterRole", "system:reader") is None
    assert v.object_name("", "ConfigMap", "system:reader") is not None
    assert v.object_name("", "Namespace", "a.b") is not None
    assert v.object_name("", "ConfigMap", "a.b") is None
    assert v.object_name("", "Service", "1web") is not None
    assert v.object_name("apps", "Deployment", "../../x Y") is not None


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("x", "metadata must be a map, not a string"),
        ({"name": ["a"]}, "metadata.name"),
        ({"name": "a", "namespace": "../kube-system"}, "metadata.namespace"),
        ({"name": "a", "labels": 5.0}, "metadata.labels must be a map, not a number"),
        ({"name": "a", "labels": {"app": 1.0}}, "metadata.labels.app must be a string"),
        ({"name": "a", "labels": {"bad key!": "x"}}, "metadata.labels key"),
        ({"name": "a", "labels": {"app": "x" * 64}}, "at most 63"),
        ({"name": "a", "annotations": {"a": 1}}, "metadata.annotations.a must be a string"),
        ({}, "has no metadata.name"),
    ],
)
def test_metadata_problems(meta: object, expected: str) -> None:
    problem = v.metadata_problem({"metadata": meta}, "", "ConfigMap")
    assert problem is not None and expected in problem


def test_valid_metadata() -> None:
    meta = {
        "name": "a",
        "namespace": "shop",
        "labels": {"app.kubernetes.io/name": "web", "empty": ""},
        "annotations": {"kubefed.io/x": "any text: \n ok"},
    }
    assert v.metadata_problem({"metadata": meta}, "", "ConfigMap") is None


def test_object_problem_kind_and_api_version() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}
    assert v.object_problem(obj) is None
    assert "kind" in str(v.object_problem({**obj, "kind": "x\x1b[31m"}))
    assert "apiVersion" in str(v.object_problem({**obj, "apiVersion": "a/b/c"}))
    assert "apiVersion" in str(v.object_problem({**obj, "apiVersion": "Apps/v1"}))


def test_printable_escapes_control_and_format_characters() -> None:
    assert v.printable("plain text: é 名前") == "plain text: é 名前"
    assert v.printable("x\x1b[31mred") == "x\\x1b[31mred"
    assert v.printable("a\nb\rc\x00") == "a\\x0ab\\x0dc\\x00"
    assert v.printable("\u202eevil") == "\\u202eevil"
    assert v.printable("\u2028") == "\\u2028"


def test_quote_shortens() -> None:
    assert v.quote("a" * 200).endswith('..."')
    assert v.quote(["a"]) == "\"['a']\""


# -- properties ------------------------------------------------------------------------------


@given(st.text(max_size=80))
def test_printable_output_is_one_printable_line(text: str) -> None:
    out = v.printable(text)
    assert "\n" not in out and "\x1b" not in out and "\r" not in out
    assert all(not v.is_control(c) for c in out)


@given(st.text(max_size=80))
def test_printable_is_identity_on_printable_text(text: str) -> None:
    if text.isprintable():
        assert v.printable(text) == text


@given(st.text(max_size=70))
def test_a_valid_subdomain_is_a_safe_path_segment(text: str) -> None:
    if v.dns1123_subdomain(text) is None:
        assert v.path_segment_name(text) is None
        assert text not in (".", "..") and "/" not in text and "\x00" not in text
        assert re.fullmatch(r"[a-z0-9.-]+", text)


@given(st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True))
def test_every_label_is_valid(label: str) -> None:
    assert v.dns1123_label(label) is None
    assert v.dns1123_subdomain(label) is None
    assert v.dns1123_subdomain(f"{label}.{label}") is None


@given(st.text(max_size=70))
def test_a_valid_label_is_a_valid_subdomain_without_dots(text: str) -> None:
    if v.dns1123_label(text) is None:
        assert v.dns1123_subdomain(text) is None and "." not in text
