"""KubeFed's replica planner and its scheduler's merge, bit for bit (semantics §1.6, §7).

``plan`` is ``planner.Plan`` of ``pkg/controller/util/planner`` (KubeFed v0.10.0): clusters
sorted by weight (descending), then by the FNV-1 32-bit hash of the cluster name followed by
the ``namespace/name`` key; minimums first; with ``rebalance: false`` current replicas kept
where they fit; the rest shared by weight with rounding up, pass after pass, capped by
``maxReplicas`` and the estimated capacity (the excess over capacity is overflow).
``schedule`` is the replica scheduler's merge (``schedulingtypes.schedule``): every cluster
with a current count appears (0 when unplanned), then the plan, then overflow added on top.

``parse_preference`` reads a ``scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference``
and refuses, in one line, what KubeFed's API or planner could not take.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from kubectl_kubefed.api import names
from kubectl_kubefed.api.validation import metadata_problem, quote, type_name

KIND: Final = "ReplicaSchedulingPreference"
WILDCARD: Final = "*"
TARGET_KINDS: Final = ("FederatedDeployment", "FederatedReplicaSet")
INT32_MAX: Final = 2**31 - 1
INT64_MAX: Final = 2**63 - 1
FNV32_OFFSET: Final = 2166136261
FNV32_PRIME: Final = 16777619

_SPEC_FIELDS: Final = frozenset(
    {"targetKind", "totalReplicas", "rebalance", "intersectWithClusterSelector", "clusters"}
)
_CLUSTER_FIELDS: Final = frozenset({"minReplicas", "maxReplicas", "weight"})


class PreferenceError(ValueError):
    """A preference or a planner input KubeFed could not take; the message is one line."""


@dataclass(frozen=True)
class ClusterPreference:
    """``ClusterPreferences``: minReplicas (default 0), maxReplicas (None: unbounded), weight (0)."""

    min_replicas: int = 0
    max_replicas: int | None = None
    weight: int = 0


@dataclass(frozen=True)
class Preference:
    """A ReplicaSchedulingPreference: what the planner reads, and the key it hashes with."""

    total_replicas: int
    clusters: Mapping[str, ClusterPreference] = field(default_factory=dict)
    rebalance: bool = False
    target_kind: str = TARGET_KINDS[0]
    intersect_with_cluster_selector: bool = False
    namespace: str = ""
    name: str = ""

    @property
    def key(self) -> str:
        """``QualifiedName.String()``: ``namespace/name``, or ``name`` without a namespace."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def defaulted(self) -> Preference:
        """As the replica scheduler plans it: no ``clusters`` means ``{"*": {weight: 1}}``."""
        if self.clusters:
            return self
        return Preference(
            self.total_replicas,
            {WILDCARD: ClusterPreference(weight=1)},
            self.rebalance,
            self.target_kind,
            self.intersect_with_cluster_selector,
            self.namespace,
            self.name,
        )


@dataclass(frozen=True)
class Schedule:
    """The planner's ``plan`` and ``overflow``, and the scheduler's merged ``replicas``."""

    plan: dict[str, int]
    overflow: dict[str, int]
    replicas: dict[str, int]


def fnv1_32(data: bytes) -> int:
    """Go's ``hash/fnv.New32()`` (FNV-1, not FNV-1a): multiply, then XOR, per byte."""
    h = FNV32_OFFSET
    for byte in data:
        h = ((h * FNV32_PRIME) & 0xFFFFFFFF) ^ byte
    return h


def _check_counts(what: str, counts: Mapping[str, int]) -> None:
    for cluster, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= INT64_MAX:
            raise PreferenceError(f"{what} of cluster {quote(cluster)} must be a whole number >= 0")


def _check_weights(pref: Preference, participating: Sequence[tuple[str, ClusterPreference]]) -> None:
    """KubeFed computes ``remaining * weight + weightSum - 1`` in int64; beyond it, it wraps
    around and plans nonsense (or loops for ages). We refuse such weights instead."""
    weight_sum = sum(p.weight for _, p in participating)
    if (pref.total_replicas + 1) * weight_sum > 2**63:
        raise PreferenceError(
            f"the weights add up to {weight_sum} over these clusters; with totalReplicas "
            f"{pref.total_replicas} KubeFed's planner would overflow int64 (keep "
            "(totalReplicas + 1) x sum of weights at most 2^63)"
        )


def plan(
    pref: Preference,
    clusters: Sequence[str],
    current: Mapping[str, int] | None = None,
    capacity: Mapping[str, int] | None = None,
    key: str | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """KubeFed's ``Planner.Plan``: (plan, overflow) for the available ``clusters``.

    ``current`` is the replicas each cluster runs, ``capacity`` the estimated capacity of
    clusters that have unschedulable pods; ``key`` defaults to the preference's own.
    Clusters without a preference (own or ``"*"``) are planned 0 and take no part.
    """
    current = current or {}
    capacity = capacity or {}
    key_bytes = (pref.key if key is None else key).encode("utf-8")
    _check_counts("current replicas", current)
    _check_counts("capacity", capacity)
    out: dict[str, int] = {}
    overflow: dict[str, int] = {}
    participating: list[tuple[str, ClusterPreference]] = []
    for cluster in clusters:
        own = pref.clusters.get(cluster, pref.clusters.get(WILDCARD))
        if own is None:
            out[cluster] = 0
        else:
            participating.append((cluster, own))
    _check_weights(pref, participating)
    hashes = {c: fnv1_32(c.encode("utf-8") + key_bytes) for c, _ in participating}
    # Go's sort.Sort is not stable; equal (weight, hash) pairs only come from a cluster
    # listed twice, which gives the same answer in either order.
    order = sorted(participating, key=lambda cp: (-cp[1].weight, hashes[cp[0]]))

    remaining = pref.total_replicas
    for cluster, p in order:
        least = min(p.min_replicas, remaining)
        if cluster in capacity:
            least = min(least, capacity[cluster])
        remaining -= least
        out[cluster] = least

    preallocated: dict[str, int] = {}
    if not pref.rebalance:
        for cluster, p in order:
            planned = out[cluster]
            if cluster in current and current[cluster] > planned:
                target = current[cluster]
                if p.max_replicas is not None:
                    target = min(p.max_replicas, target)
                if cluster in capacity:
                    target = min(capacity[cluster], target)
                extra = max(min(target - planned, remaining), 0)
                remaining -= extra
                preallocated[cluster] = extra
                out[cluster] = planned + extra

    modified = True
    while modified and remaining > 0:
        modified = False
        weight_sum = sum(p.weight for _, p in order)
        distribute = remaining
        still_open: list[tuple[str, ClusterPreference]] = []
        for cluster, p in order:
            if weight_sum <= 0:
                break
            start = out[cluster]
            extra = min((distribute * p.weight + weight_sum - 1) // weight_sum, remaining)
            prealloc = preallocated.get(cluster, 0)
            used = min(extra, prealloc)
            preallocated[cluster] = prealloc - used
            extra -= used
            if used > 0:
                modified = True
            total = start + extra
            full = False
            if p.max_replicas is not None and total > p.max_replicas:
                total = p.max_replicas
                full = True
            if cluster in capacity and total > capacity[cluster]:
                overflow[cluster] = total - capacity[cluster]
                total = capacity[cluster]
                full = True
            if not full:
                still_open.append((cluster, p))
            remaining -= total - start
            out[cluster] = total
            if total > start:
                modified = True
        order = still_open

    if pref.rebalance:
        return out, overflow
    # rebalance: false keeps overflow only up to the replicas that found no place
    return out, {c: min(n, remaining) for c, n in overflow.items() if min(n, remaining) > 0}


def merge(
    planned: Mapping[str, int], overflow: Mapping[str, int], current: Mapping[str, int]
) -> dict[str, int]:
    """The replica scheduler's result: clusters with a current count at 0, then the plan,
    then each cluster's overflow added to it (an overflow-only cluster gets just that)."""
    result = dict.fromkeys(current, 0)
    result.update(planned)
    for cluster, n in overflow.items():
        result[cluster] = result.get(cluster, 0) + n
    return result


def schedule(
    pref: Preference,
    clusters: Sequence[str],
    current: Mapping[str, int] | None = None,
    capacity: Mapping[str, int] | None = None,
) -> Schedule:
    """What KubeFed's replica scheduler computes for ``pref`` (defaulted) on ``clusters``."""
    current = current or {}
    planned, overflow = plan(pref.defaulted(), clusters, current, capacity)
    return Schedule(planned, overflow, merge(planned, overflow, current))


# -- reading a ReplicaSchedulingPreference ------------------------------------------------


def _whole(value: Any, where: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PreferenceError(f"{where} must be a whole number, not {type_name(value)}")
    if value < 0:
        raise PreferenceError(f"{where} must be >= 0, not {value}")
    if value > limit:
        raise PreferenceError(f"{where} must be at most {limit}, not {value}")
    return value


def _boolean(spec: Mapping[str, Any], name: str) -> bool:
    value = spec.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise PreferenceError(f"spec.{name} must be true or false, not {type_name(value)}")
    return value


def _unknown(obj: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    extra = sorted(str(k) for k in obj if k not in known)
    if extra:
        raise PreferenceError(f"{where}: unknown field {quote(extra[0])}")


def parse_cluster_preference(value: Any, where: str) -> ClusterPreference:
    if value is None:
        return ClusterPreference()
    if not isinstance(value, Mapping):
        raise PreferenceError(f"{where} must be a map, not {type_name(value)}")
    _unknown(value, _CLUSTER_FIELDS, where)

    def number(name: str) -> int | None:
        item = value.get(name)
        return None if item is None else _whole(item, f"{where}.{name}", INT64_MAX)

    return ClusterPreference(number("minReplicas") or 0, number("maxReplicas"), number("weight") or 0)


def parse_preference(obj: Any) -> Preference:
    """A ``scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference`` as the planner reads
    it, or a PreferenceError naming the first problem (as KubeFed's CRD types it: int32
    totalReplicas, int64 minReplicas/maxReplicas/weight; negative numbers refused)."""
    if not isinstance(obj, Mapping):
        raise PreferenceError(f"expected a ReplicaSchedulingPreference, got {type_name(obj)}")
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if kind != KIND or api_version != names.SCHEDULING_API_VERSION:
        shown = " ".join(quote(v) if isinstance(v, str) else type_name(v) for v in (api_version, kind))
        raise PreferenceError(f"expected {names.SCHEDULING_API_VERSION} {KIND}, not {shown}")
    if (problem := metadata_problem(obj, names.SCHEDULING_GROUP, KIND, need_name=False)) is not None:
        raise PreferenceError(f"{KIND} {problem}")
    meta = obj.get("metadata") or {}
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        raise PreferenceError(f"spec must be a map, not {type_name(spec)}")
    _unknown(spec, _SPEC_FIELDS, "spec")
    target = spec.get("targetKind")
    if target not in TARGET_KINDS:
        shown = quote(target) if isinstance(target, str) else type_name(target)
        raise PreferenceError(f"spec.targetKind must be {' or '.join(TARGET_KINDS)}, not {shown}")
    if "totalReplicas" not in spec or spec["totalReplicas"] is None:
        raise PreferenceError("spec.totalReplicas is required")
    total = _whole(spec["totalReplicas"], "spec.totalReplicas", INT32_MAX)
    raw_clusters = spec.get("clusters")
    if raw_clusters is not None and not isinstance(raw_clusters, Mapping):
        raise PreferenceError(f"spec.clusters must be a map, not {type_name(raw_clusters)}")
    clusters = {
        str(name): parse_cluster_preference(value, f"spec.clusters[{quote(name)}]")
        for name, value in (raw_clusters or {}).items()
    }
    return Preference(
        total_replicas=total,
        clusters=clusters,
        rebalance=_boolean(spec, "rebalance"),
        target_kind=target,
        intersect_with_cluster_selector=_boolean(spec, "intersectWithClusterSelector"),
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
    )
