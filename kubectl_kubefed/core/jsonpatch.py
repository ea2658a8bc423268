"""JSON Patch with the semantics of evanphx/json-patch v4.12, the library KubeFed used.

These deviate from strict RFC 6902 in ways that existing overrides depend on:
``replace`` of a missing object member creates it, ``add`` of an existing member replaces
it, negative array indices count from the end. Every intermediate segment must exist.
"""

from __future__ import annotations

import copy
from typing import Any


class PatchError(ValueError):
    pass


def decode_pointer(path: str) -> list[str]:
    """Split a JSON Pointer into unescaped tokens (``~1`` is ``/``, ``~0`` is ``~``)."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"path {path!r} must start with '/'")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(token: str, length: int, *, allow_end: bool, path: str) -> int:
    try:
        idx = int(token)
    except ValueError:
        raise PatchError(f"invalid array index {token!r} in {path}") from None
    if token.strip() != token or (token.startswith("+")):
        raise PatchError(f"invalid array index {token!r} in {path}")
    if idx < 0:
        if idx < -length:
            raise PatchError(f"array index {idx} out of bounds in {path}")
        idx += length
    limit = length if allow_end else length - 1
    if idx > limit:
        raise PatchError(f"array index {idx} out of bounds in {path}")
    return idx


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict):
            node = node.get(token)
        elif isinstance(node, list):
            node = node[_index(token, len(node), allow_end=False, path=path)]
        else:
            node = None
        if node is None:
            raise PatchError(f"doc is missing path: {path}")
    if not isinstance(node, dict | list):
        raise PatchError(f"doc is missing path: {path}")
    return node


def apply_operation(doc: Any, op: str, path: str, value: Any = None) -> Any:
    """Apply one operation in place where possible; returns the (possibly new) document."""
    tokens = decode_pointer(path)
    if not tokens:
        if op == "remove":
            raise PatchError("cannot remove the whole document")
        return copy.deepcopy(value)
    parent = _parent(doc, tokens, path)
    key = tokens[-1]
    if op == "add":
        if isinstance(parent, dict):
            parent[key] = copy.deepcopy(value)
        elif key == "-":
            parent.append(copy.deepcopy(value))
        else:
            parent.insert(_index(key, len(parent), allow_end=True, path=path), copy.deepcopy(value))
    elif op == "replace":
        if isinstance(parent, dict):
            parent[key] = copy.deepcopy(value)
        else:
            parent[_index(key, len(parent), allow_end=False, path=path)] = copy.deepcopy(value)
    elif op == "remove":
        if isinstance(parent, dict):
            if key not in parent:
                raise PatchError(f"Unable to remove nonexistent key: {key}: missing value")
            del parent[key]
        else:
            del parent[_index(key, len(parent), allow_end=False, path=path)]
    else:
        raise PatchError(f"unsupported operation {op!r}")
    return doc
