"""Offline preview: what each member cluster gets from a set of federated objects.

This is the create path of the sync controller (placement, template, overrides,
managed label) without retention, evaluated for every cluster at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import Obj, kind_of, name_of, namespace_of, object_key
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.member import desired_object, escaping_overrides


class RenderError(ValueError):
    """A federated object that cannot be interpreted at all (not a per-cluster failure)."""


@dataclass
class FederatedResult:
    api_version: str
    kind: str
    namespace: str
    name: str
    clusters: list[str] = field(default_factory=list)
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "clusters": self.clusters,
            "reason": self.reason,
            "errors": dict(sorted(self.errors.items())),
        }


@dataclass
class Rendering:
    clusters: dict[str, list[Obj]]
    federated: list[FederatedResult]

    def as_dict(self) -> dict[str, Any]:
        return {
            "clusters": {c: objs for c, objs in sorted(self.clusters.items())},
            "federated": [f.as_dict() for f in self.federated],
        }


def target_type(fed: Mapping[str, Any], types: Sequence[tc.TypeConfig]) -> tc.TypeConfig:
    """The target type of a federated object: from the type configs, else from its kind."""
    api_version, kind = str(fed.get("apiVersion") or ""), kind_of(fed)
    found = tc.for_federated_kind(api_version, kind, types)
    if found is not None:
        return found
    if not kind.startswith(names.FEDERATED_PREFIX) or kind == names.FEDERATED_PREFIX:
        raise RenderError(f"{kind} is not a federated kind")
    target_kind = kind[len(names.FEDERATED_PREFIX) :]
    template = (fed.get("spec") or {}).get("template") or {}
    template_api = template.get("apiVersion") if isinstance(template, Mapping) else None
    group, version = names.split_api_version(api_version)
    for t in tc.BUILTIN_TYPES:
        if t.kind == target_kind and (not template_api or t.api_version == template_api):
            return t.with_federated(group, version)
    if not template_api:
        raise RenderError(
            f"unknown kind {target_kind}: give its FederatedTypeConfig or an apiVersion in spec.template"
        )
    return tc.TypeConfig(
        kind=target_kind,
        group=names.split_api_version(str(template_api))[0],
        version=names.split_api_version(str(template_api))[1],
        plural=tc.pluralize(target_kind),
        namespaced=bool(namespace_of(fed)),
        federated_group=group,
        federated_version=version,
    )


def _namespace_of_fed(fed: Mapping[str, Any], target: tc.TypeConfig) -> str:
    return namespace_of(fed) or ("default" if target.federated_namespaced else "")


def render_one(
    fed: Mapping[str, Any],
    target: tc.TypeConfig,
    clusters: Sequence[Cluster],
    federated_namespaces: Mapping[str, Mapping[str, Any]],
    scope: str,
) -> tuple[FederatedResult, dict[str, Obj]]:
    namespace = _namespace_of_fed(fed, target)
    result = FederatedResult(str(fed.get("apiVersion")), kind_of(fed), namespace, name_of(fed))
    escape = escaping_overrides(fed, target)
    if escape:
        # Not a per-cluster failure to report: a federated object that tries to write
        # another object is refused outright, before anything is rendered.
        raise RenderError(f"{kind_of(fed)} {namespace + '/' if namespace else ''}{name_of(fed)}: {escape}")
    if target.kind == "Namespace":
        if name_of(fed) != namespace:
            raise RenderError(
                f"FederatedNamespace {namespace}/{name_of(fed)} must be named like its namespace"
            )
        if namespace in names.SYSTEM_NAMESPACES or namespace == names.DEFAULT_KUBEFED_NAMESPACE:
            result.warnings.append(f"namespace {namespace} is never propagated")
            return result, {}
    placement = pl.compute(
        fed,
        clusters,
        namespaced_target=target.namespaced,
        federated_namespace=federated_namespaces.get(namespace),
        scope=scope,
    )
    result.reason = placement.reason
    if placement.reason:
        result.warnings.append(f"{placement.reason}: {placement.message}")
    ready = {c.name for c in clusters if c.ready}
    overrides_error = ov.problem((fed.get("spec") or {}).get("overrides"))
    members: dict[str, Obj] = {}
    for cluster in sorted(placement.clusters):
        if cluster not in ready:
            result.errors[cluster] = f"{st.CLUSTER_NOT_READY}: cluster is not ready"
            continue
        if overrides_error:
            result.errors[cluster] = f"{st.APPLY_OVERRIDES_FAILED}: {overrides_error}"
            continue
        try:
            member = desired_object(fed, target, cluster)
        except ov.OverridesError as err:
            result.errors[cluster] = f"{st.APPLY_OVERRIDES_FAILED}: {err}"
            continue
        result.warnings.extend(w for w in member.warnings if w not in result.warnings)
        members[cluster] = member.obj
        result.clusters.append(cluster)
    return result, members


def render(
    federated: Iterable[Mapping[str, Any]],
    clusters: Sequence[Cluster],
    types: Sequence[tc.TypeConfig] = tc.BUILTIN_TYPES,
    scope: str = names.SCOPE_CLUSTER,
) -> Rendering:
    """Render every federated object for every cluster. Raises RenderError for bad objects."""
    feds = list(federated)
    resolved = [(fed, target_type(fed, types)) for fed in feds]
    fed_namespaces = {
        _namespace_of_fed(fed, t): fed
        for fed, t in resolved
        if t.kind == "Namespace" and name_of(fed) == _namespace_of_fed(fed, t)
    }
    out: dict[str, list[Obj]] = {c.name: [] for c in clusters}
    results: list[FederatedResult] = []
    for fed, target in resolved:
        result, members = render_one(fed, target, clusters, fed_namespaces, scope)
        results.append(result)
        for cluster, obj in members.items():
            out[cluster].append(obj)
    for objs in out.values():
        objs.sort(key=object_key)
    results.sort(key=lambda r: (r.api_version, r.kind, r.namespace, r.name))
    return Rendering(out, results)
