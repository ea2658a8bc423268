"""Converting a Kubernetes object into its ``Federated<Kind>`` (KubeFed semantics §8.5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api.objects import Obj, copy_json, kind_of, labels_of, name_of, namespace_of
from kubectl_kubefed.core import annotations as ann
from kubectl_kubefed.core.naming import federated_name
from kubectl_kubefed.core.typeconfig import BUILTIN_TYPES, TypeConfig

ALL_CLUSTERS: dict[str, Any] = {"clusterSelector": {"matchLabels": {}}}
_BUILTIN = frozenset((t.group, t.kind) for t in BUILTIN_TYPES)


@dataclass
class Federated:
    obj: Obj
    warnings: list[str] = field(default_factory=list)
    # Field classes of the source the template does not carry, e.g. "spec.ports[].nodePort".
    dropped: list[str] = field(default_factory=list)


def _strip_type_specific(obj: Obj, keep_node_ports: bool = False) -> list[str]:
    """Remove what each member must set itself; returns the field classes that were set."""
    dropped: list[str] = []
    kind = kind_of(obj)
    spec = obj.get("spec")
    if kind == "Namespace" and isinstance(spec, dict):
        spec.pop("finalizers", None)
        if not spec:
            obj.pop("spec")
    elif kind == "ServiceAccount":
        obj.pop("secrets", None)
    elif kind == "Service" and isinstance(spec, dict):
        # Allocated by each member's API server; copying them would collide. "None" is no
        # allocation but the request for a headless Service (StatefulSet DNS needs it, and
        # it cannot be changed after creation), so it is kept (kubefedctl dropped it).
        if spec.get("clusterIP") != "None" and spec.pop("clusterIP", None) not in (None, ""):
            dropped.append("spec.clusterIP")
        if spec.get("clusterIPs") != ["None"]:
            spec.pop("clusterIPs", None)
        # A chart-set nodePort is a request, not an allocation, but the port may be taken in
        # a member: dropped unless asked (keep_node_ports), as kubefedctl always did.
        ports = spec.get("ports")
        for port in ports if isinstance(ports, list) else []:
            if isinstance(port, dict) and not keep_node_ports and port.pop("nodePort", None) is not None:
                dropped.append("spec.ports[].nodePort")
    return sorted(set(dropped))


def template_of(obj: Mapping[str, Any], keep_node_ports: bool = False) -> Obj:
    """The stripped template: type-specific fields, apiVersion, kind, status and all
    metadata but labels and annotations removed (annotations that Kubernetes, kubectl,
    Helm or kubefed wrote too)."""
    return _template(obj, keep_node_ports)[0]


def _template(obj: Mapping[str, Any], keep_node_ports: bool) -> tuple[Obj, list[str]]:
    template = copy_json(dict(obj))
    dropped = _strip_type_specific(template, keep_node_ports)
    for key in ("apiVersion", "kind", "status"):
        template.pop(key, None)
    source_meta = template.pop("metadata", None)
    annotations = source_meta.get("annotations") if isinstance(source_meta, Mapping) else None
    meta: Obj = {}
    if labels := labels_of(obj):
        meta["labels"] = labels
    # kubefedctl dropped every annotation (cert-manager's inject-ca-from-secret,
    # prometheus.io/scrape, ...); they are propagated now.
    if isinstance(annotations, Mapping) and (kept := ann.for_template(annotations)):
        meta["annotations"] = kept
    if meta:
        template = {"metadata": meta, **template}
    return template, dropped


def federate(
    obj: Mapping[str, Any],
    target: TypeConfig,
    *,
    placement: Mapping[str, Any] | None = None,
    overrides: list[Any] | None = None,
    keep_node_ports: bool = False,
) -> Federated:
    """The federated object for ``obj``; default placement selects every cluster."""
    warnings: list[str] = []
    name = name_of(obj)
    namespace = name if target.kind == "Namespace" else namespace_of(obj)
    # A name a custom resource cannot have (``system:x``) gets a valid federated name; the
    # original goes in the template, where the member object's name is taken from.
    fed_meta: Obj = {"name": federated_name(name)}
    template, dropped = _template(obj, keep_node_ports)
    if fed_meta["name"] != name:
        rest = {k: v for k, v in template.items() if k != "metadata"}
        template = {"metadata": {"name": name, **(template.get("metadata") or {})}, **rest}
    if (target.group, target.kind) not in _BUILTIN and obj.get("apiVersion"):
        # A kind `render` cannot know (ValidatingWebhookConfiguration, a chart's custom
        # resource) keeps its apiVersion in the template, so the federated object says which
        # type it is without its FederatedTypeConfig; the controller writes the same object.
        template = {"apiVersion": obj["apiVersion"], **template}
    if namespace and target.federated_namespaced:
        fed_meta["namespace"] = namespace
    spec: Obj = {
        "template": template,
        "placement": copy_json(dict(placement)) if placement is not None else copy_json(ALL_CLUSTERS),
    }
    if overrides:
        spec["overrides"] = copy_json(overrides)
    return Federated(
        {
            "apiVersion": target.federated_api_version,
            "kind": target.federated_kind,
            "metadata": fed_meta,
            "spec": spec,
        },
        warnings,
        dropped,
    )
