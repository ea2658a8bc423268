"""JSON Patch exactly as KubeFed applied overrides: evanphx/json-patch v4.12.0.

KubeFed v0.10.0's ``util.ApplyJSONPatch`` hands the overrides to that library, whose
semantics deviate from strict RFC 6902 in ways existing overrides depend on (every rule
below is checked against KubeFed's own code by ``tests/oracle/test_kubefed_oracle.py``):

* every intermediate segment must exist and be an object or array ("doc is missing path");
  a null member counts as missing;
* ``add`` of an existing object member replaces it; ``replace`` of a missing object member
  creates it; ``remove`` of a missing member fails;
* array indices are Go ``strconv.Atoi`` numbers: an optional ``+``/``-`` sign and ASCII
  digits, leading zeros allowed (``01`` is 1, ``-0`` is 0);
* negative indices count from the end of the array the operation sees: ``add`` inserts
  into an array one longer, so on ``[a, b, c]`` ``add -1`` appends and ``add -4`` inserts
  first, ``-5`` is refused; ``replace``/``remove``/traversal take ``-1`` as the last element;
* ``-`` appends for ``add`` only; ``add`` at ``len`` appends too;
* everything before the first ``/`` of a path is ignored (``x/a`` is ``/a``); a path with
  no ``/`` at all is refused, except ``replace`` of the empty path, which replaces the whole
  document with an object or array (and silently does nothing for any other value).
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_ATOI = re.compile(r"[+-]?[0-9]+")


class PatchError(ValueError):
    pass


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def decode_pointer(path: str) -> list[str]:
    """Split a JSON Pointer into unescaped tokens (``~1`` is ``/``, ``~0`` is ``~``).

    Strict RFC 6901: the path must start with ``/`` (used to validate overrides).
    """
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"path {path!r} must start with '/'")
    return [_unescape(t) for t in path[1:].split("/")]


def kubefed_value(value: Any) -> Any:
    """An override value as KubeFed handed it to the library.

    KubeFed decoded the overrides with ``encoding/json`` into ``interface{}``, so every
    number was a float64 (an integer beyond 2**53 is rounded), and the patched object was
    decoded again by apimachinery (an integral number that fits int64 is an integer again).
    """
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        if -(2**53) <= value <= 2**53:
            return value
        try:
            f = float(value)
        except OverflowError:
            raise PatchError(f"number {value} is out of float64 range") from None
        return _decoded_float(f)
    if isinstance(value, dict):
        return {k: kubefed_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [kubefed_value(v) for v in value]
    return copy.deepcopy(value)


def _decoded_float(f: float) -> int | float:
    # Go writes the shortest digits that read back as f ("60212469093607950" for
    # 6.021246909360795e16); apimachinery reads that text as an int64 when it can.
    if not f.is_integer():
        return f
    n = int(Decimal(repr(f)))
    return n if _INT64_MIN <= n <= _INT64_MAX else f


def _as_decoded(node: Any) -> Any:
    """The number types apimachinery decodes the patched object's JSON into, in place.

    KubeFed marshals the object, patches the bytes and decodes them again: an integral
    float that fits int64 (``1.0``, ``-0.0``) comes back as an integer (``1``, ``0``).
    """
    if isinstance(node, float):
        return _decoded_float(node)
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, float | dict | list):
                node[k] = _as_decoded(v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, float | dict | list):
                node[i] = _as_decoded(v)
    return node


def _atoi(token: str, path: str) -> int:
    if not _ATOI.fullmatch(token):
        raise PatchError(f"value was not a proper array index: '{token}' in {path}")
    idx = int(token)
    if not _INT64_MIN <= idx <= _INT64_MAX:
        raise PatchError(f"array index {token} out of range in {path}")
    return idx


def _element(array: list[Any], token: str, path: str) -> int:
    """The position ``token`` names in ``array`` for get, replace and remove."""
    idx = _atoi(token, path)
    if idx < 0:
        if idx < -len(array):
            raise PatchError(f"Unable to access invalid index: {idx} in {path}")
        idx += len(array)
    if idx >= len(array):
        raise PatchError(f"Unable to access invalid index: {idx} in {path}")
    return idx


def _insertion(array: list[Any], token: str, path: str) -> int:
    """The position ``token`` names for ``add``: relative to the array one longer."""
    idx = _atoi(token, path)
    size = len(array) + 1
    if idx >= size or idx < -size:
        raise PatchError(f"Unable to access invalid index: {idx} in {path}")
    return idx + size if idx < 0 else idx


def _container(doc: Any, tokens: list[str], op: str, path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        nxt: Any = None
        if isinstance(node, dict):
            nxt = node.get(token)
        else:
            try:
                nxt = node[_element(node, token, path)]
            except PatchError:
                nxt = None
        if not isinstance(nxt, dict | list):
            raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}"')
        node = nxt
    return node


def apply_operation(doc: Any, op: str, path: str, value: Any = None) -> Any:
    """Apply one operation in place where possible; returns the (possibly new) document.

    ``value`` None is an absent value (KubeFed omitted null values): it is stored as null.
    Numbers come out as KubeFed's decoding of the patched object left them.
    """
    return _as_decoded(_apply(doc, op, path, value))


def _apply(doc: Any, op: str, path: str, value: Any) -> Any:
    if not isinstance(doc, dict | list):
        raise PatchError("the document is not an object or array")
    value = kubefed_value(value)
    if op == "replace" and path == "":
        if value is None:  # KubeFed dereferenced the absent value and crashed
            raise PatchError("replace operation of the whole document needs a value")
        if not isinstance(value, dict | list):
            return doc  # the library "fails" with errors.Wrapf(nil, ...), which is nil
        return copy.deepcopy(value)
    if op not in ("add", "remove", "replace"):
        raise PatchError(f"Unexpected kind: {op}")
    segments = path.split("/")
    if len(segments) < 2:
        raise PatchError(f'{op} operation does not apply: doc is missing path: "{path}"')
    tokens = [_unescape(t) for t in segments[1:]]
    parent = _container(doc, tokens, op, path)
    key = tokens[-1]
    if op == "add":
        if isinstance(parent, dict):
            parent[key] = copy.deepcopy(value)
        elif key == "-":
            parent.append(copy.deepcopy(value))
        else:
            parent.insert(_insertion(parent, key, path), copy.deepcopy(value))
    elif op == "replace":
        if isinstance(parent, dict):
            parent[key] = copy.deepcopy(value)
        else:
            parent[_element(parent, key, path)] = copy.deepcopy(value)
    elif isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {key}: missing value")
        del parent[key]
    else:
        del parent[_element(parent, key, path)]
    return doc
