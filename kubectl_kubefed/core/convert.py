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
from kubectl_kubefed.core.input_checks import Duplicates, check_cluster_name, check_object
from kubectl_kubefed.core.member import escaping_overrides
from kubectl_kubefed.core.override_rules import Rule, overrides_for


def placement_from_flags(clusters: str | None, cluster_selector: str | None) -> dict[str, Any] | None:
    """``--clusters a,b`` or ``--cluster-selector 'k=v'`` as a placement; None for the default."""
    if clusters is not None and cluster_selector is not None:
        raise InputError("--clusters and --cluster-selector cannot be combined")
    if clusters is not None:
        names_ = [c.strip() for c in clusters.split(",") if c.strip()]
        for n in names_:
            check_cluster_name(n, "--clusters")
        return {"clusters": [{"name": n} for n in names_]}
    if cluster_selector is not None:
        try:
            return {"clusterSelector": sel.parse(cluster_selector)}
        except sel.SelectorError as err:
            raise InputError(f"--cluster-selector: {err}") from None
    return None


def narrow_placement(
    bound: Mapping[str, Any] | None, hint: Mapping[str, Any] | None
) -> tuple[Mapping[str, Any] | None, str]:
    """The placement a chart's hint may have within the operator's flags, and a warning.

    A hint only ever narrows: the operator's ``--clusters``/``--cluster-selector`` is an
    upper bound a chart cannot widen. Lists intersect; selectors are ANDed. A list and a
    selector cannot be intersected offline (cluster labels are unknown here, and KubeFed's
    placement ignores the selector when a list is present), so the flags win then.
    """
    if hint is None:
        return bound, ""
    if bound is None:
        return hint, ""
    bound_list, hint_list = bound.get("clusters"), hint.get("clusters")
    if bound_list is not None and hint_list is not None:
        allowed = [c.get("name") for c in bound_list if isinstance(c, Mapping)]
        wanted = [c.get("name") for c in hint_list if isinstance(c, Mapping)]
        kept = [n for n in wanted if n in allowed]
        dropped = [str(n) for n in wanted if n not in allowed]
        warning = f"clusters {', '.join(dropped)} are outside --clusters and dropped" if dropped else ""
        return {"clusters": [{"name": n} for n in kept]}, warning
    if bound_list is None and hint_list is None:
        return {"clusterSelector": _and_selectors(bound["clusterSelector"], hint["clusterSelector"])}, ""
    return bound, "a cluster list and a cluster selector cannot be combined; the flags' placement is kept"


def _and_selectors(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    labels = dict(a.get("matchLabels") or {})
    exprs = [*(a.get("matchExpressions") or []), *(b.get("matchExpressions") or [])]
    for key, value in (b.get("matchLabels") or {}).items():
        if labels.get(key, value) != value:
            exprs.append({"key": key, "operator": "In", "values": [value]})  # selects nothing
        else:
            labels[key] = value
    result: dict[str, Any] = {"matchLabels": labels}
    if exprs:
        result["matchExpressions"] = exprs
    return result


def is_kubefed_object(obj: Mapping[str, Any], federated_group: str) -> bool:
    """Objects already in a KubeFed group pass through conversion unchanged."""
    group = group_of(obj)
    return group in names.KUBEFED_GROUPS or group == federated_group


def refuse_escape(fed: Obj, target: tc.TypeConfig, where: str) -> None:
    """A federated object whose overrides would write another object is bad input."""
    escape = escaping_overrides(fed, target)
    if escape:
        raise InputError(f"{where}: {escape}")


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
    seen = Duplicates()
    for doc in docs:
        api_version, kind = manifests.require_kind(doc)
        check_object(doc.obj, doc.where())
        seen.add(doc.obj, doc.where())
        if is_kubefed_object(doc.obj, federated_group):
            out.append(doc.obj)
            continue
        target = tc.for_kind(api_version, kind, namespaced=bool(namespace_of(doc.obj)))
        target = target.with_federated(federated_group, federated_version)
        try:
            obj_overrides = overrides_for(rules, kind, name_of(doc.obj), namespace_of(doc.obj))
        except ov.OverridesError as err:
            raise InputError(f"{doc.where()}: {kind_of(doc.obj)} {name_of(doc.obj)}: {err}") from None
        result = federate(doc.obj, target, placement=placement, overrides=obj_overrides or None)
        refuse_escape(result.obj, target, f"{doc.where()}: {kind} {name_of(doc.obj)}")
        for w in result.warnings:
            on_warning(w)
        out.append(result.obj)
    return out
