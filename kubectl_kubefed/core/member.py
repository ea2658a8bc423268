"""The object a member cluster should hold for a federated object (§2.1, §3.4)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, ensure_metadata, name_of, namespace_of, set_label
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core.retention import retain
from kubectl_kubefed.core.typeconfig import TypeConfig


@dataclass
class MemberObject:
    obj: Obj
    warnings: list[str] = field(default_factory=list)


def from_template(fed: Mapping[str, Any], target: TypeConfig) -> MemberObject:
    """Template with name, namespace, kind and apiVersion forced; annotations/finalizers dropped."""
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    template = spec.get("template")
    obj: Obj = copy.deepcopy(dict(template)) if isinstance(template, Mapping) else {}
    warnings: list[str] = []
    meta = ensure_metadata(obj)
    # Annotations and finalizers belong to the member (controllers there set them), so
    # KubeFed only lets overrides touch them.
    if meta.pop("annotations", None):
        warnings.append("AnnotationsNotSupported: template annotations are dropped; use overrides")
    if meta.pop("finalizers", None):
        warnings.append("FinalizersNotSupported: template finalizers are dropped; use overrides")
    obj_meta: Obj = {"name": name_of(fed)}
    if target.namespaced and target.kind != "Namespace" and namespace_of(fed):
        obj_meta["namespace"] = namespace_of(fed)
    for key, value in meta.items():
        if key not in ("name", "namespace", "generateName"):
            obj_meta[key] = value
    api_version = obj.get("apiVersion") or names.join_api_version(target.group, target.version)
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    return MemberObject(
        {"apiVersion": api_version, "kind": target.kind, "metadata": obj_meta, **rest}, warnings
    )


def desired_object(
    fed: Mapping[str, Any],
    target: TypeConfig,
    cluster: str,
    live: Mapping[str, Any] | None = None,
) -> MemberObject:
    """template -> retention (when a live object exists) -> overrides -> managed label.

    Raises OverridesError when the overrides are invalid or do not apply.
    """
    member = from_template(fed, target)
    if live is not None:
        retain(member.obj, live, fed, target.kind)
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    operations = ov.for_cluster(spec.get("overrides"), cluster)
    if operations:
        member.obj = ov.apply(member.obj, operations)
    set_label(member.obj, names.MANAGED_LABEL, "true")
    return member
