"""Typed views on unstructured Kubernetes objects (plain dicts, as read from YAML or JSON)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from kubectl_kubefed.api.names import split_api_version

Obj = dict[str, Any]
T = TypeVar("T")


def metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    # A plain dict first: the ABC check is several times slower, and this runs for every
    # name, namespace and label read of every reconcile.
    return meta if type(meta) is dict or isinstance(meta, Mapping) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(metadata(obj).get("name") or "")


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(metadata(obj).get("namespace") or "")


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    labels = metadata(obj).get("labels")
    if type(labels) is not dict and not isinstance(labels, Mapping):
        return {}
    return {str(k): str(v) for k, v in labels.items()}


def annotations_of(obj: Mapping[str, Any]) -> dict[str, str]:
    annotations = metadata(obj).get("annotations")
    if not isinstance(annotations, Mapping):
        return {}
    return {str(k): str(v) for k, v in annotations.items()}


def group_of(obj: Mapping[str, Any]) -> str:
    return split_api_version(str(obj.get("apiVersion") or ""))[0]


def kind_of(obj: Mapping[str, Any]) -> str:
    return str(obj.get("kind") or "")


def ensure_metadata(obj: Obj) -> Obj:
    """The object's metadata as a mutable dict, created when missing."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def set_label(obj: Obj, key: str, value: str) -> None:
    meta = ensure_metadata(obj)
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = {}
        meta["labels"] = labels
    labels[key] = value


_SCALARS = (str, int, float, bool, type(None))
_SCALAR_TYPES = frozenset(_SCALARS)


def copy_json(value: T) -> T:
    """A deep copy of JSON-like data without recursion, so an object nested as deep as an
    API server accepts (thousands of levels) never exhausts Python's stack."""
    if isinstance(value, _SCALARS):
        return value
    if not isinstance(value, dict | list):
        return copy.deepcopy(value)
    root: Any = dict(value) if isinstance(value, dict) else list(value)
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, child in items:
            kind = type(child)
            if kind in _SCALAR_TYPES or (
                kind is not dict and kind is not list and isinstance(child, _SCALARS)
            ):
                continue  # the exact types first: much faster than isinstance on each value
            if kind is dict or kind is list or isinstance(child, dict | list):
                copied: Any = dict(child) if isinstance(child, dict) else list(child)
                stack.append(copied)
            else:
                copied = copy.deepcopy(child)
            node[key] = copied  # replaces a value, never adds a key: safe while iterating
    return cast(T, root)


def nesting_depth(value: Any, limit: int | None = None) -> int:
    """How deep dicts and lists nest in ``value`` (a scalar is 0, ``{}`` is 1), counted
    without recursion; stops early once the depth exceeds ``limit``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, Mapping | list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        if limit is not None and deepest > limit:
            return deepest
        children = node.values() if isinstance(node, Mapping) else node
        stack.extend((child, depth) for child in children if isinstance(child, Mapping | list))
    return deepest


def deep_copy(obj: Mapping[str, Any]) -> Obj:
    return copy_json(dict(obj))


def object_key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """Sort key used wherever objects are listed: apiVersion, kind, namespace, name."""
    return (str(obj.get("apiVersion") or ""), kind_of(obj), namespace_of(obj), name_of(obj))


def describe(obj: Mapping[str, Any]) -> str:
    """``Kind ns/name`` for messages."""
    ns = namespace_of(obj)
    return f"{kind_of(obj) or '<no kind>'} {ns + '/' if ns else ''}{name_of(obj) or '<no name>'}"
