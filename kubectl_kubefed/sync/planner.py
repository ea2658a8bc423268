"""Host-side planning for push propagation: which clusters a federated object selects and
what it asks of each, from the host's view alone (members are not read here).

The member objects themselves are computed by ``core.member.desired_object`` when the
syncer meets the live object (retention needs it)."""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_kubefed.api.objects import Obj, namespace_of
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core import versions as ver
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.clusters import MemberCluster
from kubectl_kubefed.sync.runtime import Runtime


@dataclass(frozen=True)
class Plan:
    placement: pl.PlacementResult
    template_version: str
    overrides_version: str
    overrides_error: str  # non-empty: no cluster can be given an object

    def selects(self, cluster: str) -> bool:
        return cluster in self.placement.clusters


def place(rt: Runtime, target: TypeConfig, fed: Obj) -> pl.PlacementResult:
    clusters = [c.as_placement_cluster() for c in rt.clusters.clusters()]
    fed_ns = rt.federated_namespace(namespace_of(fed)) if target.namespaced else None
    return pl.compute(
        fed,
        clusters,
        namespaced_target=target.namespaced,
        federated_namespace=fed_ns,
        scope=rt.settings.scope,
    )


def plan(rt: Runtime, target: TypeConfig, fed: Obj) -> Plan:
    return Plan(
        place(rt, target, fed),
        ver.template_version(fed),
        ver.overrides_version(fed),
        ov.problem((fed.get("spec") or {}).get("overrides")),
    )


def not_ready_message(cluster: MemberCluster) -> str:
    for cond in (cluster.obj.get("status") or {}).get("conditions") or []:
        if (cond.get("status") == "True" and cond.get("type") != "Ready") or (
            cond.get("type") == "Ready" and cond.get("status") != "True"
        ):
            return str(cond.get("message") or cond.get("reason") or "")
    return "no health probe has succeeded yet"
