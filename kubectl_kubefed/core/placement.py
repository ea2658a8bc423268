"""Which clusters a federated object is placed on (KubeFed semantics §2.2, §2.3)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.core import selector as sel
from kubectl_kubefed.core.clusters import Cluster


class PlacementError(ValueError):
    """The placement cannot be computed (bad selector, malformed placement)."""


@dataclass(frozen=True)
class PlacementResult:
    clusters: frozenset[str]
    reason: str = st.REASON_OK  # "" | NamespaceNotFederated | ComputePlacementFailed
    message: str = ""


def _placement_of(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return None
    placement = spec.get("placement")
    if placement is None:
        return None
    if not isinstance(placement, Mapping):
        raise PlacementError("spec.placement must be an object")
    return placement


def selected_names(
    placement: Mapping[str, Any] | None, clusters: Iterable[Cluster], *, selector_only: bool = False
) -> frozenset[str]:
    """Clusters selected by one placement; a clusters list (even empty) beats the selector.

    A missing selector selects nothing, an empty one everything; listed names that are
    not registered clusters are dropped.
    """
    clusters = list(clusters)
    if placement is None:
        return frozenset()
    listed = placement.get("clusters")
    if listed is not None and not selector_only:
        if not isinstance(listed, list):
            raise PlacementError("spec.placement.clusters must be a list")
        wanted = set()
        for entry in listed:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise PlacementError("spec.placement.clusters entries need a name")
            wanted.add(entry["name"])
        return frozenset(c.name for c in clusters if c.name in wanted)
    selector = placement.get("clusterSelector")
    if selector is None:
        return frozenset()
    if not isinstance(selector, Mapping):
        raise PlacementError("spec.placement.clusterSelector must be an object")
    try:
        sel.validate(selector)
        return frozenset(c.name for c in clusters if sel.matches(selector, c.labels))
    except sel.SelectorError as err:
        raise PlacementError(str(err)) from None


def compute(
    fed: Mapping[str, Any],
    clusters: Iterable[Cluster],
    *,
    namespaced_target: bool,
    federated_namespace: Mapping[str, Any] | None,
    scope: str = names.SCOPE_CLUSTER,
) -> PlacementResult:
    """Placement of a federated object, intersected with its FederatedNamespace's placement.

    ``federated_namespace`` is the FederatedNamespace named like the object's namespace
    (None when absent); it is ignored for cluster-scoped targets and for the namespace
    type itself.
    """
    clusters = list(clusters)
    try:
        own = selected_names(_placement_of(fed), clusters)
        if not namespaced_target:
            return PlacementResult(own)
        if federated_namespace is None:
            if scope == names.SCOPE_NAMESPACED:
                return PlacementResult(own)
            return PlacementResult(
                frozenset(),
                st.REASON_NAMESPACE_NOT_FEDERATED,
                "the namespace of this object is not federated (no FederatedNamespace)",
            )
        ns_clusters = selected_names(_placement_of(federated_namespace), clusters)
        return PlacementResult(own & ns_clusters)
    except PlacementError as err:
        return PlacementResult(frozenset(), st.REASON_COMPUTE_PLACEMENT_FAILED, str(err))
