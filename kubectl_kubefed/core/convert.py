"""Converting manifest streams to federated form: the shared path of ``federate -f`` and Helm."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubectl_kubefed import manifests
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import Obj, group_of, kind_of, name_of, namespace_of
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import selector as sel
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.override_rules import Rule, overrides_for


def placement_from_flags(clusters: str | None, cluster_selector: str | None) -> dict[str, Any] | None:
    """``--clusters a,b`` or ``--cluster-selector 'k=v'`` as a placement; None for the default."""
    if clusters is not None and cluster_selector is not None:
        raise InputError("--clusters and --cluster-selector cannot be combined")
    if clusters is not None:
        names_ = [c.strip() for c in clusters.split(",") if c.strip()]
        return {"clusters": [{"name": n} for n in names_]}
    if cluster_selector is not None:
        try:
            return {"clusterSelector": sel.parse(cluster_selector)}
        except sel.SelectorError as err:
            raise InputError(f"--cluster-selector: {err}") from None
    return None


def is_kubefed_object(obj: Mapping[str, Any], federated_group: str) -> bool:
    """Objects already in a KubeFed group pass through conversion unchanged."""
    group = group_of(obj)
    return group in names.KUBEFED_GROUPS or group == federated_group


def federate_documents(
    docs: Sequence[manifests.Document],
    *,
    placement: Mapping[str, Any] | None,
    rules: list[Rule],
    federated_group: str,
    federated_version: str,
    on_warning: Callable[[str], None],
) -> list[Obj]:
    out: list[Obj] = []
    for doc in docs:
        api_version, kind = manifests.require_kind(doc)
        if is_kubefed_object(doc.obj, federated_group):
            out.append(doc.obj)
            continue
        if not name_of(doc.obj):
            raise InputError(f"{doc.where()}: {kind} has no metadata.name")
        target = tc.for_kind(api_version, kind, namespaced=bool(namespace_of(doc.obj)))
        target = target.with_federated(federated_group, federated_version)
        try:
            obj_overrides = overrides_for(rules, kind, name_of(doc.obj), namespace_of(doc.obj))
        except ov.OverridesError as err:
            raise InputError(f"{doc.where()}: {kind_of(doc.obj)} {name_of(doc.obj)}: {err}") from None
        result = federate(doc.obj, target, placement=placement, overrides=obj_overrides or None)
        for w in result.warnings:
            on_warning(w)
        out.append(result.obj)
    return out
