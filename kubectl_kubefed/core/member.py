"""The object a member cluster should hold for a federated object (§2.1, §3.4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, copy_json, ensure_metadata, namespace_of, set_label
from kubectl_kubefed.core import annotations as ann
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core.naming import member_name
from kubectl_kubefed.core.retention import retain
from kubectl_kubefed.core.typeconfig import TypeConfig


@dataclass
class MemberObject:
    obj: Obj
    warnings: list[str] = field(default_factory=list)


def from_template(fed: Mapping[str, Any], target: TypeConfig) -> MemberObject:
    """Template with name, namespace, kind and apiVersion forced; finalizers dropped.

    Its annotations are kept (KubeFed dropped them), except kubefed's record of owned
    keys, which only ``desired_object`` writes, and those member controllers write.
    """
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    template = spec.get("template")
    obj: Obj = copy_json(dict(template)) if isinstance(template, Mapping) else {}
    warnings: list[str] = []
    meta = ensure_metadata(obj)
    if isinstance(meta.get("annotations"), Mapping):
        meta["annotations"] = ann.from_template(meta["annotations"])
        if not meta["annotations"]:
            del meta["annotations"]
    # Finalizers belong to the member (controllers there set them and wait for them), so
    # KubeFed only lets overrides touch them.
    if meta.pop("finalizers", None):
        warnings.append("FinalizersNotSupported: template finalizers are dropped; use overrides")
    obj_meta: Obj = {"name": member_name(fed)}  # the template's name only when fed is named for it
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


Identity = tuple[Any, Any, Any, Any]
_IDENTITY_FIELDS = ("API group", "kind", "namespace", "name")


def identity(obj: Mapping[str, Any]) -> Identity:
    """(API group, kind, namespace, name) exactly as written, without coercion."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    api_version = obj.get("apiVersion")
    group: str | None = None
    if isinstance(api_version, str) and api_version.strip("/"):
        group = names.split_api_version(api_version)[0].lstrip("/")
    return group, obj.get("kind"), meta.get("namespace"), meta.get("name")


def _show(value: Any) -> str:
    return '""' if value is None or value == "" else f'"{value}"' if isinstance(value, str) else repr(value)


def check_identity(expected: Identity, obj: Mapping[str, Any], cluster: str) -> None:
    """Refuse a member object that is not the object its federated object names."""
    for what, want, got in zip(_IDENTITY_FIELDS, expected, identity(obj), strict=True):
        # A missing apiVersion (group None) is not the core group "": it is no object at all.
        if (want != got) if what == "API group" else ((want or "") != (got or "")):
            raise ov.IdentityChangeError(
                f'overrides for cluster "{cluster}" change the member object\'s {what} '
                f"from {_show(want)} to {_show(got)}; refused"
            )


def _template_identity(member: MemberObject, target: TypeConfig) -> Identity:
    """The member identity the federated object implies; the template's apiVersion may
    name another version of the target's group (KubeFed keeps it), never another group."""
    implied = identity(member.obj)
    if implied[0] != target.group:
        raise ov.IdentityChangeError(
            f"the template's apiVersion {member.obj.get('apiVersion')!r} is not in the API group "
            f"{_show(target.group)} of the target type {target.kind}; refused"
        )
    return implied


def desired_object(
    fed: Mapping[str, Any],
    target: TypeConfig,
    cluster: str,
    live: Mapping[str, Any] | None = None,
) -> MemberObject:
    """template -> retention (when a live object exists) -> overrides -> record of the
    owned annotation keys -> managed label.

    Raises OverridesError when the overrides are invalid or do not apply, and its
    IdentityChangeError when they would write any object but the one ``fed`` names.
    """
    member = from_template(fed, target)
    implied = _template_identity(member, target)
    template_annotations = _annotations(member.obj)
    if live is not None:
        retain(member.obj, live, fed, target.kind)
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    operations = ov.for_cluster(spec.get("overrides"), cluster)
    before = _annotations(member.obj)
    if operations:
        member.obj = ov.apply(member.obj, operations)
        check_identity(implied, member.obj, cluster)
    _record_owned_annotations(member.obj, template_annotations, before)
    set_label(member.obj, names.MANAGED_LABEL, "true")
    return member


def _annotations(obj: Obj) -> dict[str, Any]:
    value = ensure_metadata(obj).get("annotations")
    return dict(value) if isinstance(value, Mapping) else {}


def _record_owned_annotations(obj: Obj, template: Mapping[str, Any], before: Mapping[str, Any]) -> None:
    """Record on the member which annotation keys kubefed set (template and overrides)."""
    meta = ensure_metadata(obj)
    current = meta.get("annotations")
    if current is not None and not isinstance(current, dict):
        return  # not a map (an override made it so): the member's API server refuses it
    annotations: dict[str, Any] = current if current is not None else {}
    ann.record(annotations, ann.owned_after_overrides(template, before, annotations))
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)


def escaping_overrides(fed: Mapping[str, Any], target: TypeConfig) -> str:
    """Why some cluster's overrides would change the member object's identity, or "".

    The offline check of ``federate``, ``render`` and the post-renderer: each cluster's
    operations are applied one by one to the template's member object, skipping those
    that do not apply offline (they may apply to a live object after retention), so an
    escape is found even behind an operation that fails here. The controller checks the
    real result again before every write.
    """
    member = from_template(fed, target)
    try:
        implied = _template_identity(member, target)
    except ov.IdentityChangeError as err:
        return str(err)
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    try:
        by_cluster = ov.parse(spec.get("overrides"))
    except ov.OverridesError:
        return ""  # reported as invalid overrides elsewhere
    for cluster, operations in sorted(by_cluster.items()):
        obj = member.obj
        for operation in operations:
            try:
                obj = ov.apply(obj, [operation])
            except ov.OverridesError:
                continue
            try:
                check_identity(implied, obj, cluster)
            except ov.IdentityChangeError as err:
                return str(err)
    return ""
