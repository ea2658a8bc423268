"""Our version hashes and override application against KubeFed v0.10.0 itself.

``hack/oracles/kubefed`` calls KubeFed's own functions: ``sync.GetTemplateHash`` and
``sync.GetOverrideHash`` (what the sync controller records in PropagatedVersion), and
``util.GetOverrides`` + ``util.ApplyJSONPatch`` (how it applies overrides). One oracle
process serves the whole module (a JSON line in, a JSON line out per case).

The oracle is built with the installed Go, whose ``encoding/json`` (1.22 and later) writes
U+0008 and U+000C as ``\\b`` and ``\\f``; the released KubeFed v0.10.0 was built with Go
1.16.6 (its Makefile's ``BUILD_IMAGE``), which wrote ``\\u0008`` and ``\\u000c``, and those are
the hashes in existing PropagatedVersion objects. So where the hashed text holds such an
escape, we compare with the oracle's text with those two escapes written the Go 1.16 way;
everywhere else the hashes must be equal as they are.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import versions
from kubectl_kubefed.core.jsonpatch import PatchError, apply_operation
from tests.oracle import Oracle
from tests.unit.test_jsonpatch import CASES, ERR

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

EXAMPLES = settings(
    max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    o = Oracle("kubefed")
    yield o
    o.close()


# -- values ------------------------------------------------------------------------------

_EDGE_INTS = [0, -1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**21, 10**25]
_EDGE_FLOATS = [1.0, -0.0, 0.5, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, 5e-324, 1.7976931348623157e308]
_EDGE_STRINGS = ["<a&b>", "\u2028\u2029", "\x00\x1f\x7f", "\b\f\n\r\t", '"\\', "é😀", "a\ud800b", ""]

ints = st.integers(-(10**25), 10**25) | st.sampled_from(_EDGE_INTS)
floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(_EDGE_FLOATS)
texts = st.text(max_size=6) | st.sampled_from(_EDGE_STRINGS)
scalars = st.none() | st.booleans() | ints | floats | texts
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def go116(text: str) -> str:
    """Go 1.22+ ``encoding/json`` text as Go 1.16 wrote it (``\\b`` -> ``\\u0008``, ``\\f`` -> ``\\u000c``)."""
    table = {"b": "\\u0008", "f": "\\u000c"}
    return re.sub(r"\\(.)", lambda m: table.get(m.group(1), m.group(0)), text)


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def check_hash(ours: str, ours_text: str, theirs: str, theirs_text: str | None) -> None:
    assert theirs_text is not None
    assert md5(theirs_text) == theirs  # the text is the one KubeFed hashed
    assert ours_text == go116(theirs_text)
    assert md5(ours_text) == ours
    if go116(theirs_text) == theirs_text:
        assert ours == theirs


# -- versions ----------------------------------------------------------------------------


@EXAMPLES
@given(json_values, st.dictionaries(texts, json_values, max_size=6))
def test_template_version_is_kubefeds(oracle: Oracle, value: Any, template: dict[str, Any]) -> None:
    template = {**template, "v": value}
    fed = {"spec": {"template": template}}
    theirs = oracle.ask(case="versions", fed=fed)
    check_hash(
        versions.template_version(fed),
        versions.go_json(template) + "\n",
        theirs["template"],
        theirs.get("templateText"),
    )


_ABSENT = object()


def _maybe(draw: st.DrawFn, key: str, strategy: st.SearchStrategy[Any], into: dict[str, Any]) -> None:
    value = draw(st.just(_ABSENT) | st.none() | strategy)
    if value is not _ABSENT:
        into[key] = value


@st.composite
def override_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    items = []
    for _ in range(draw(st.integers(0, 3))):
        item: dict[str, Any] = {}
        _maybe(draw, "clusterName", texts, item)
        ops = []
        for _ in range(draw(st.integers(0, 3))):
            op: dict[str, Any] = {}
            _maybe(draw, "op", st.sampled_from(["", "add", "remove", "replace"]), op)
            _maybe(draw, "path", texts, op)
            _maybe(draw, "value", json_values, op)
            ops.append(op)
        _maybe(draw, "clusterOverrides", st.just(ops), item)
        items.append(item)
    _maybe(draw, "overrides", st.just(items), spec)
    return spec


@EXAMPLES
@given(override_specs())
def test_overrides_version_is_kubefeds(oracle: Oracle, spec: dict[str, Any]) -> None:
    fed = {"spec": spec}
    theirs = oracle.ask(case="versions", fed=fed)
    check_hash(
        versions.overrides_version(fed),
        (versions.overrides_text(fed) or "") + "\n",
        theirs["overrides"],
        theirs.get("overridesText"),
    )


def test_versions_without_spec_or_template_are_kubefeds(oracle: Oracle) -> None:
    feds: list[dict[str, Any]] = [
        {},
        {"spec": None},
        {"spec": {}},
        {"spec": {"overrides": None}},
        {"spec": {"overrides": []}},
        {"spec": {"overrides": [{"clusterName": "c", "clusterOverrides": []}]}},
    ]
    for fed in feds:
        theirs = oracle.ask(case="versions", fed=fed)
        assert versions.template_version(fed) == theirs["template"]
        assert versions.overrides_version(fed) == theirs["overrides"]


def test_control_character_escapes_differ_only_by_go_version(oracle: Oracle) -> None:
    fed = {"spec": {"template": {"s": "\b\f"}}}
    theirs = oracle.ask(case="versions", fed=fed)
    assert theirs["templateText"] == '{"s":"\\b\\f"}\n'  # Go 1.22+, the oracle
    assert versions.go_json(fed["spec"]["template"]) == '{"s":"\\u0008\\u000c"}'  # Go 1.16, KubeFed
    assert versions.template_version(fed) == md5('{"s":"\\u0008\\u000c"}\n')


# -- overrides ---------------------------------------------------------------------------

KEYS = ["a", "b", "c", "a/b", "~", "", "é"]
INDEXES = ["0", "1", "2", "3", "-1", "-2", "-3", "-4", "-5", "-", "01", "-0", "+1", "x", " 1"]
tokens = st.sampled_from(KEYS + INDEXES)
doc_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
)


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _index_tokens(length: int) -> list[str]:
    """Ways to name the elements of an array of ``length`` (and just past either end)."""
    return [f for i in range(-length - 1, length + 2) for f in (str(i), f"0{i}" if i >= 0 else f"-0{-i}")]


@st.composite
def paths(draw: st.DrawFn, doc: Any) -> str:
    """Mostly paths along the document's own members and elements, then any token."""
    path_tokens: list[str] = []
    node = doc
    for depth in range(4):
        if depth and not isinstance(node, dict | list) and draw(st.integers(0, 3)):
            break  # mostly stop at a leaf
        if isinstance(node, dict) and node and draw(st.integers(0, 3)):
            token = draw(st.sampled_from(sorted(node)))
            node = node[token]
        elif isinstance(node, list) and draw(st.integers(0, 3)):
            token = draw(st.sampled_from(_index_tokens(len(node))))
            i = int(token)
            node = node[i] if -len(node) <= i < len(node) else None
        else:
            token = draw(tokens)
            node = None
        path_tokens.append(token)
    path = "".join("/" + _escape(t) for t in path_tokens)
    prefix = draw(st.sampled_from(["", "", "", "", "x"]))  # evanphx ignores text before the first "/"
    special = draw(st.sampled_from([None] * 19 + ["", "a", "/"]))  # not pointers, or the root's ""
    return prefix + path if special is None else special


@st.composite
def operations(draw: st.DrawFn, doc: Any) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(paths(doc))
        if path in seen:  # KubeFed refuses a path twice for one cluster; so does parse
            continue
        seen.add(path)
        op: dict[str, Any] = {"path": path}
        _maybe(draw, "op", st.sampled_from(["", "add", "remove", "replace"]), op)
        _maybe(draw, "value", doc_values, op)
        result.append(op)
    return result


def _unstructured(doc: Any) -> Any:
    # KubeFed decodes the patched object back into an Unstructured, which needs a kind.
    if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) or not doc["kind"]:
        return ERR
    return doc


def ours_patch(obj: dict[str, Any], ops: list[dict[str, Any]]) -> Any:
    doc: Any = copy.deepcopy(obj)
    try:
        for op in ops:
            doc = apply_operation(doc, op.get("op") or "replace", op["path"], op.get("value"))
    except PatchError:
        return ERR
    return _unstructured(doc)


def ours_overrides(obj: dict[str, Any], ops: list[dict[str, Any]]) -> Any:
    try:
        return _unstructured(
            ov.apply(obj, ov.for_cluster([{"clusterName": "c", "clusterOverrides": ops}], "c"))
        )
    except ov.OverridesError:
        return ERR


def theirs_patch(oracle: Oracle, obj: dict[str, Any], ops: list[dict[str, Any]]) -> Any:
    fed = {"spec": {"overrides": [{"clusterName": "c", "clusterOverrides": ops}]}}
    answer = oracle.ask(case="apply", fed=fed, cluster="c", obj=obj)
    if "error" in answer:
        assert answer["stage"] in ("apply", "panic"), answer
        return ERR
    return answer["result"]


def same(ours: Any, theirs: Any) -> bool:
    if ours == ERR or theirs == ERR:
        return bool(ours == theirs)
    return versions.go_json(ours) == versions.go_json(theirs)


def _plain_paths(ops: list[dict[str, Any]]) -> bool:
    """Paths ``overrides.parse`` takes (RFC 6901 form) off the metadata maps we create (PR #1417)."""
    return all(op["path"].startswith("/") and not op["path"].startswith("/metadata") for op in ops)


@EXAMPLES
@given(st.dictionaries(st.sampled_from(KEYS), doc_values, max_size=5), st.data())
def test_override_application_is_kubefeds(oracle: Oracle, doc: dict[str, Any], data: st.DataObject) -> None:
    obj = {**doc, "kind": "K"}
    ops = data.draw(operations(doc))
    theirs = theirs_patch(oracle, obj, ops)
    ours = ours_patch(obj, ops)
    assert same(ours, theirs), (ours, theirs)
    if _plain_paths(ops):
        assert same(ours_overrides(obj, ops), theirs)


@pytest.mark.parametrize(("doc", "op", "path", "value", "expected"), CASES)
def test_jsonpatch_table_is_kubefeds(
    oracle: Oracle, doc: dict[str, Any], op: str, path: str, value: Any, expected: Any
) -> None:
    item: dict[str, Any] = {"op": op, "path": path}
    if value is not None:
        item["value"] = value
    if isinstance(value, dict) and path == "":
        item["value"] = {**value, "kind": "K"}
    if expected != ERR:
        expected = {**expected, "kind": "K"}
    theirs = theirs_patch(oracle, {**doc, "kind": "K"}, [item])
    assert same(expected, theirs), (expected, theirs)
