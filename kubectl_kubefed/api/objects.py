"""Typed views on unstructured Kubernetes objects (plain dicts, as read from YAML or JSON)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api.names import split_api_version

Obj = dict[str, Any]


def metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return str(metadata(obj).get("name") or "")


def namespace_of(obj: Mapping[str, Any]) -> str:
    return str(metadata(obj).get("namespace") or "")


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    labels = metadata(obj).get("labels")
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}


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


def deep_copy(obj: Mapping[str, Any]) -> Obj:
    return copy.deepcopy(dict(obj))


def object_key(obj: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """Sort key used wherever objects are listed: apiVersion, kind, namespace, name."""
    return (str(obj.get("apiVersion") or ""), kind_of(obj), namespace_of(obj), name_of(obj))


def describe(obj: Mapping[str, Any]) -> str:
    """``Kind ns/name`` for messages."""
    ns = namespace_of(obj)
    return f"{kind_of(obj) or '<no kind>'} {ns + '/' if ns else ''}{name_of(obj) or '<no name>'}"
