"""JSON Patch as KubeFed applied overrides (evanphx/json-patch v4.12.0).

Every row of CASES was confirmed against KubeFed's own ``util.ApplyJSONPatch`` by
``tests/oracle/test_kubefed_oracle.py::test_jsonpatch_table_is_kubefeds``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kubectl_kubefed.core.jsonpatch import PatchError, apply_operation

ERR = "error"
ABC = {"x": ["a", "b", "c"]}
OBJS = {"x": [{"n": 1}, {"n": 2}], "m": {"k": 1, "z": None}, "s": "str", "nul": None}

# (document, op, path, value, expected document or ERR)
CASES: list[tuple[dict[str, Any], str, str, Any, Any]] = [
    # add: negative indices count from the end of the array one longer
    (ABC, "add", "/x/-1", "X", {"x": ["a", "b", "c", "X"]}),
    (ABC, "add", "/x/-2", "X", {"x": ["a", "b", "X", "c"]}),
    (ABC, "add", "/x/-4", "X", {"x": ["X", "a", "b", "c"]}),
    (ABC, "add", "/x/-5", "X", ERR),
    (ABC, "add", "/x/0", "X", {"x": ["X", "a", "b", "c"]}),
    (ABC, "add", "/x/3", "X", {"x": ["a", "b", "c", "X"]}),
    (ABC, "add", "/x/4", "X", ERR),
    (ABC, "add", "/x/-", "X", {"x": ["a", "b", "c", "X"]}),
    # Go strconv.Atoi: sign, leading zeros; nothing else
    (ABC, "add", "/x/01", "X", {"x": ["a", "X", "b", "c"]}),
    (ABC, "add", "/x/+1", "X", {"x": ["a", "X", "b", "c"]}),
    (ABC, "add", "/x/-0", "X", {"x": ["X", "a", "b", "c"]}),
    (ABC, "add", "/x/ 1", "X", ERR),
    (ABC, "add", "/x/1 ", "X", ERR),
    (ABC, "add", "/x/1.0", "X", ERR),
    (ABC, "add", "/x/1_0", "X", ERR),
    (ABC, "add", "/x/\u0661", "X", ERR),
    (ABC, "add", "/x/x", "X", ERR),
    (ABC, "add", "/x/", "X", ERR),
    (ABC, "add", "/x/+", "X", ERR),
    (ABC, "add", "/x/9223372036854775808", "X", ERR),
    (ABC, "add", "/x/-9223372036854775808", "X", ERR),
    # replace: in range only, negative from the end, no "-"
    (ABC, "replace", "/x/-1", "X", {"x": ["a", "b", "X"]}),
    (ABC, "replace", "/x/-3", "X", {"x": ["X", "b", "c"]}),
    (ABC, "replace", "/x/02", "X", {"x": ["a", "b", "X"]}),
    (ABC, "replace", "/x/-4", "X", ERR),
    (ABC, "replace", "/x/3", "X", ERR),
    (ABC, "replace", "/x/-", "X", ERR),
    (ABC, "replace", "/x/x", "X", ERR),
    # remove: in range only, negative from the end
    (ABC, "remove", "/x/-1", None, {"x": ["a", "b"]}),
    (ABC, "remove", "/x/-3", None, {"x": ["b", "c"]}),
    (ABC, "remove", "/x/-0", None, {"x": ["b", "c"]}),
    (ABC, "remove", "/x/-4", None, ERR),
    (ABC, "remove", "/x/3", None, ERR),
    (ABC, "remove", "/x/-", None, ERR),
    (ABC, "remove", "/x/x", None, ERR),
    ({"x": []}, "remove", "/x/0", None, ERR),
    ({"x": []}, "add", "/x/-1", "X", {"x": ["X"]}),
    ({"x": []}, "add", "/x/-2", "X", ERR),
    # traversal through arrays: negative from the end, in range only
    (OBJS, "replace", "/x/-1/n", 9, {**OBJS, "x": [{"n": 1}, {"n": 9}]}),
    (OBJS, "replace", "/x/-2/n", 9, {**OBJS, "x": [{"n": 9}, {"n": 2}]}),
    (OBJS, "replace", "/x/-3/n", 9, ERR),
    (OBJS, "replace", "/x/2/n", 9, ERR),
    (OBJS, "replace", "/x/-/n", 9, ERR),
    (OBJS, "add", "/x/01/n", 9, {**OBJS, "x": [{"n": 1}, {"n": 9}]}),
    # missing, null and scalar parents
    (OBJS, "add", "/missing/k", 1, ERR),
    (OBJS, "replace", "/missing/k", 1, ERR),
    (OBJS, "remove", "/missing/k", None, ERR),
    (OBJS, "add", "/nul/k", 1, ERR),
    (OBJS, "add", "/m/z/k", 1, ERR),
    (OBJS, "add", "/s/k", 1, ERR),
    (OBJS, "add", "/s/0", 1, ERR),
    # object members
    (OBJS, "replace", "/m/new", 1, {**OBJS, "m": {"k": 1, "z": None, "new": 1}}),
    (OBJS, "add", "/m/k", 2, {**OBJS, "m": {"k": 2, "z": None}}),
    (OBJS, "add", "/m", {"a": 1}, {**OBJS, "m": {"a": 1}}),
    (OBJS, "remove", "/m/nope", None, ERR),
    (OBJS, "remove", "/m/z", None, {**OBJS, "m": {"k": 1}}),
    (OBJS, "remove", "/nul", None, {k: v for k, v in OBJS.items() if k != "nul"}),
    (OBJS, "add", "/m/~1a~0", 1, {**OBJS, "m": {"k": 1, "z": None, "/a~": 1}}),
    (OBJS, "add", "/m/a~2", 1, {**OBJS, "m": {"k": 1, "z": None, "a~2": 1}}),
    (OBJS, "add", "/m/~01", 1, {**OBJS, "m": {"k": 1, "z": None, "~1": 1}}),
    (OBJS, "add", "/", 1, {**OBJS, "": 1}),
    (OBJS, "add", "/m/", 1, {**OBJS, "m": {"k": 1, "z": None, "": 1}}),
    # an absent value is null
    (OBJS, "add", "/m/k", None, {**OBJS, "m": {"k": None, "z": None}}),
    (ABC, "replace", "/x/0", None, {"x": [None, "b", "c"]}),
    # everything before the first "/" is ignored; no "/" at all is refused
    (OBJS, "add", "m/k", 5, {**OBJS, "k": 5}),
    (OBJS, "replace", "whatever/m/k", 5, {**OBJS, "m": {"k": 5, "z": None}}),
    (OBJS, "add", "k", 5, ERR),
    (OBJS, "remove", "m", None, ERR),
    (OBJS, "replace", "m", 5, ERR),
    # the empty path: only replace, and only with an object or array
    (OBJS, "add", "", {"a": 1}, ERR),
    (OBJS, "remove", "", None, ERR),
    (OBJS, "replace", "", {"a": 1}, {"a": 1}),
    # (a scalar is silently ignored: the library wraps a nil error; KubeFed crashes on null)
    (OBJS, "replace", "", 5, OBJS),
    (OBJS, "replace", "", "s", OBJS),
    (OBJS, "replace", "", None, ERR),
    # values as KubeFed decoded them: every number a float64, integral ones int64 again
    (OBJS, "add", "/v", 9007199254740993, {**OBJS, "v": 9007199254740992}),
    (OBJS, "add", "/v", -9007199254740993, {**OBJS, "v": -9007199254740992}),
    (OBJS, "add", "/v", 60212469093607951, {**OBJS, "v": 60212469093607950}),
    (OBJS, "add", "/v", [2**64, 2**63 - 1], {**OBJS, "v": [1.8446744073709552e19, 9.223372036854776e18]}),
    (OBJS, "add", "/v", {"a": 10**22}, {**OBJS, "v": {"a": 1e22}}),
    (OBJS, "add", "/v", 2**53, {**OBJS, "v": 2**53}),
    # the patched object is decoded again: integral floats that fit int64 are integers
    (
        {"f": [1.0, -0.0, 0.5, 1e18, 6.021246909360795e16, 1e19, 1e21]},
        "add",
        "/g",
        {"h": 2.0},
        {"f": [1, 0, 0.5, 10**18, 60212469093607950, 1e19, 1e21], "g": {"h": 2}},
    ),
]


def ours(doc: dict[str, Any], op: str, path: str, value: Any) -> Any:
    try:
        return apply_operation(copy.deepcopy(doc), op, path, value)
    except PatchError:
        return ERR


@pytest.mark.parametrize(("doc", "op", "path", "value", "expected"), CASES)
def test_kubefed_json_patch(doc: dict[str, Any], op: str, path: str, value: Any, expected: Any) -> None:
    # json.dumps tells 2**64 from 2.0**64
    assert json.dumps(ours(doc, op, path, value), sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_input_value_is_copied() -> None:
    value = {"a": [1]}
    out = apply_operation({"x": []}, "add", "/x/-", value)
    out["x"][0]["a"].append(2)
    assert value == {"a": [1]}


def test_unsupported_ops_are_refused() -> None:
    for op in ("move", "copy", "test", "bogus"):
        with pytest.raises(PatchError):
            apply_operation({"a": 1}, op, "/a", 1)
