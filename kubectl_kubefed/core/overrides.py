"""Per-cluster overrides (KubeFed semantics §2.4): validation and application."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.core.jsonpatch import PatchError, apply_operation, decode_pointer

FORBIDDEN_PATHS = frozenset({"/metadata/namespace", "/metadata/name", "/metadata/generateName", "/kind"})
OPERATIONS = ("add", "remove", "replace")
_METADATA_MAPS = ("annotations", "labels")


class OverridesError(ValueError):
    """Invalid or inapplicable overrides (status ApplyOverridesFailed)."""


class IdentityChangeError(OverridesError):
    """Overrides (or a template) that would make a member object another object.

    A federated object may only ever write the one member object it names: same API
    group, kind, namespace and name. Anything else would let a tenant who may write
    federated objects in one namespace overwrite (adopt) objects in any other.
    """


@dataclass(frozen=True)
class Operation:
    op: str
    path: str
    value: Any = None


def parse(overrides: Any) -> dict[str, list[Operation]]:
    """Validate ``spec.overrides`` and index it by cluster name.

    Raises OverridesError for a duplicate cluster, a duplicate path within one cluster,
    a forbidden path, an unknown op, or a malformed entry.
    """
    if overrides is None:
        return {}
    if not isinstance(overrides, list):
        raise OverridesError("spec.overrides must be a list")
    result: dict[str, list[Operation]] = {}
    for entry in overrides:
        if not isinstance(entry, Mapping):
            raise OverridesError("spec.overrides entries must be objects")
        cluster = entry.get("clusterName")
        if not isinstance(cluster, str) or not cluster:
            raise OverridesError("spec.overrides entry without clusterName")
        if cluster in result:
            raise OverridesError(f'cluster "{cluster}" appears more than once')
        ops: list[Operation] = []
        seen: set[str] = set()
        cluster_overrides = entry.get("clusterOverrides") or []
        if not isinstance(cluster_overrides, list):
            raise OverridesError(f'clusterOverrides of cluster "{cluster}" must be a list')
        for item in cluster_overrides:
            ops.append(_parse_operation(item, cluster, seen))
        result[cluster] = ops
    return result


def _parse_operation(item: Any, cluster: str, seen: set[str]) -> Operation:
    if not isinstance(item, Mapping):
        raise OverridesError(f'override of cluster "{cluster}" must be an object')
    path = item.get("path")
    if not isinstance(path, str) or not path:
        raise OverridesError(f'override of cluster "{cluster}" without path')
    op = item.get("op") or "replace"
    if op not in OPERATIONS:
        raise OverridesError(f'invalid op "{op}" for path "{path}" in cluster "{cluster}"')
    if path in FORBIDDEN_PATHS:
        raise OverridesError(f'path "{path}" cannot be overridden (cluster "{cluster}")')
    try:
        decode_pointer(path)
    except PatchError as err:
        raise OverridesError(f'cluster "{cluster}": {err}') from None
    if path in seen:
        raise OverridesError(f'path "{path}" appears more than once for cluster "{cluster}"')
    seen.add(path)
    return Operation(op=str(op), path=path, value=item.get("value"))


def _ensure_metadata_map(doc: Mapping[str, Any], path: str) -> None:
    """Deliberate fix of KubeFed PR #1417: a missing labels/annotations map is created.

    KubeFed failed ``add /metadata/annotations/<key>`` on create, when the member object
    has no annotations yet; we create the empty map so the key can be added.
    """
    tokens = decode_pointer(path)
    if len(tokens) == 3 and tokens[0] == "metadata" and tokens[1] in _METADATA_MAPS:
        meta = doc.get("metadata")
        if isinstance(meta, dict) and meta.get(tokens[1]) is None:
            meta[tokens[1]] = {}


def apply(obj: Mapping[str, Any], operations: Sequence[Operation]) -> dict[str, Any]:
    """A new object with the operations applied in order; the input is never mutated."""
    doc: Any = copy.deepcopy(dict(obj))
    for operation in operations:
        if operation.op in ("add", "replace"):
            _ensure_metadata_map(doc, operation.path)
        try:
            doc = apply_operation(doc, operation.op, operation.path, operation.value)
        except PatchError as err:
            raise OverridesError(f"{operation.op} {operation.path}: {err}") from None
    if not isinstance(doc, dict):
        raise OverridesError("overrides replaced the object with a non-object")
    return doc


def problem(overrides: Any) -> str:
    """Why ``spec.overrides`` is invalid, or "" when it is valid."""
    try:
        parse(overrides)
    except OverridesError as err:
        return str(err)
    return ""


def for_cluster(overrides: Any, cluster: str) -> list[Operation]:
    """The validated operations that apply to one cluster."""
    return parse(overrides).get(cluster, [])
