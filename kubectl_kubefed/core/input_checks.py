"""Checks every offline entry point runs on its input before using it.

Each check raises ``InputError`` with one line: where (file and document), what, why.
They run before anything is converted or written, so bad input never yields a
traceback or half-written output.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import describe, group_of, kind_of, name_of, namespace_of
from kubectl_kubefed.api.validation import (
    dns1035_label,
    dns1123_label,
    dns1123_subdomain,
    metadata_problem,
    object_problem,
    quote,
    type_name,
)
from kubectl_kubefed.core import typeconfig as tc

Identity = tuple[str, str, str, str]


def identity(obj: Mapping[str, Any]) -> Identity:
    """What makes two documents the same object in any version: group, kind, namespace, name."""
    return (group_of(obj), kind_of(obj), namespace_of(obj), name_of(obj))


class Duplicates:
    """Refuses a second document for an object already given (naming both documents)."""

    def __init__(self) -> None:
        self._first: dict[Identity, str] = {}

    def add(self, obj: Mapping[str, Any], where: str) -> None:
        key = identity(obj)
        if key in self._first:
            raise InputError(f"{where}: {describe(obj)} given twice (first in {self._first[key]})")
        self._first[key] = where


def shape_problem(obj: Mapping[str, Any]) -> str | None:
    """A field that conversion reads, with the wrong type (spec, Service ports).

    Only what conversion itself touches is checked; the member's API server validates
    the rest of the template.
    """
    kind = kind_of(obj)
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, Mapping):
        return f"{kind} spec must be a map, not {type_name(spec)}"
    if kind == "Service" and isinstance(spec, Mapping):
        ports = spec.get("ports")
        if ports is not None and not (isinstance(ports, list) and all(isinstance(p, Mapping) for p in ports)):
            return f"Service spec.ports must be a list of maps, not {type_name(ports)}"
    return None


def check_object(obj: Mapping[str, Any], where: str, *, need_name: bool = True) -> None:
    """apiVersion, kind, metadata (names by the kind's rule, labels, annotations), spec shape."""
    problem = object_problem(obj, need_name=need_name) or shape_problem(obj)
    if problem is not None:
        raise InputError(f"{where}: {problem}")


def federated_problem(fed: Mapping[str, Any]) -> str | None:
    """A federated object whose spec cannot be read: spec and template must be maps, and the
    template's metadata valid (its labels reach every member)."""
    kind = kind_of(fed)
    spec = fed.get("spec")
    if spec is None or not kind.startswith(names.FEDERATED_PREFIX):
        return None
    if not isinstance(spec, Mapping):
        return f"{kind} spec must be a map, not {type_name(spec)}"
    template = spec.get("template")
    if template is None:
        return None
    if not isinstance(template, Mapping):
        return f"{kind} spec.template must be a map, not {type_name(template)}"
    target_kind = kind[len(names.FEDERATED_PREFIX) :] if kind.startswith(names.FEDERATED_PREFIX) else kind
    problem = metadata_problem(template, _template_group(template, target_kind), target_kind, need_name=False)
    if problem is not None:
        return f"{kind} spec.template.{problem}"
    return None


def _template_group(template: Mapping[str, Any], target_kind: str) -> str:
    """The API group whose name rule the template's name obeys (RBAC names may hold ':')."""
    api_version = template.get("apiVersion")
    if isinstance(api_version, str) and api_version:
        return names.split_api_version(api_version)[0]
    return next((t.group for t in tc.BUILTIN_TYPES if t.kind == target_kind), "")


def check_federated(fed: Mapping[str, Any], where: str) -> None:
    check_object(fed, where)
    problem = federated_problem(fed)
    if problem is not None:
        raise InputError(f"{where}: {problem}")


def check_kubefed_cluster(obj: Mapping[str, Any], where: str) -> None:
    """A KubeFedCluster as render reads it: its name, and a status (when given) whose
    conditions are a list of maps with string types and statuses."""
    check_cluster_name(name_of(obj), where)
    status = obj.get("status")
    if status is None:
        return
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    if not isinstance(status, Mapping) or not isinstance(conditions, list | None):
        raise InputError(f"{where}: KubeFedCluster status.conditions must be a list")
    for cond in conditions or []:
        if not isinstance(cond, Mapping) or not all(
            isinstance(cond.get(key), str) for key in ("type", "status")
        ):
            raise InputError(f"{where}: KubeFedCluster status.conditions need type and status strings")


def check_cluster_name(name: Any, where: str) -> None:
    """A member cluster's name: a KubeFedCluster's name, a DNS-1123 subdomain (as the API
    server requires of every custom resource); it also names files (``render --output-dir``),
    so it can never be ``..`` or hold a ``/``."""
    problem = dns1123_subdomain(name)
    if problem is not None:
        raise InputError(f"{where}: cluster name {quote(name)} {problem}")


_FLAG_RULES = {
    "federated_group": dns1123_subdomain,
    "federated_version": dns1035_label,
    "version": dns1035_label,
    "kubefed_namespace": dns1123_label,
}


def check_flags(**values: str | None) -> None:
    """Flags that become API groups, versions or namespaces: ``--federated-group`` etc."""
    for key, value in values.items():
        if value is None:
            continue
        problem = _FLAG_RULES[key](value)
        if problem is not None:
            raise InputError(f"--{key.replace('_', '-')} {quote(value)} {problem}")
