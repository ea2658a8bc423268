"""``apps.kubefed.io/v1alpha1 FederatedApplication``: one object for a whole multi-cluster
app, expanded into the Federated<Kind> objects and ReplicaSchedulingPreferences it owns.

Pure: ``parse`` reads and checks an application (one-line errors), ``expand`` gives the
objects it stands for against the known clusters (deterministic), ``rollup`` the status it
should carry from its objects' own status. The objects are plain KubeFed objects: the
propagation and scheduling controllers treat them as any other (docs/application.md).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import Obj, kind_of, labels_of, metadata, name_of, namespace_of
from kubectl_kubefed.api.validation import (
    api_version_problem,
    dns1123_label,
    kind_problem,
    metadata_problem,
    quote,
    type_name,
)
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import replicas as rs
from kubectl_kubefed.core import selector as sel
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.member import escaping_overrides
from kubectl_kubefed.core.naming import federated_name

GROUP: Final = "apps.kubefed.io"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "FederatedApplication"
PLURAL: Final = "federatedapplications"
# On every object an application owns: the application's name (same namespace).
APP_LABEL: Final = "apps.kubefed.io/application"
# On its RSPs: the application's failover.tolerationSeconds (the scheduling controller's
# delay after a cluster becomes unavailable, instead of KubeFed's global one).
TOLERATION_ANNOTATION: Final = "apps.kubefed.io/toleration-seconds"
REPLICAS_PATH: Final = "/spec/replicas"
# Workload kinds whose readiness is rolled up: ready field, desired ("spec:" the member's
# requested count, from template and overrides; "status:" the member's own).
WORKLOADS: Final[dict[str, tuple[str, str]]] = {
    "Deployment": ("readyReplicas", "spec:replicas"),
    "ReplicaSet": ("readyReplicas", "spec:replicas"),
    "StatefulSet": ("readyReplicas", "spec:replicas"),
    "DaemonSet": ("numberReady", "status:desiredNumberScheduled"),
}
COND_READY: Final = "Ready"
COND_PROGRESSING: Final = "Progressing"
COND_DEGRADED: Final = "Degraded"

_SPEC_FIELDS: Final = frozenset({"components", "placement", "overrides", "replicas", "failover"})
_OVERRIDE_FIELDS: Final = frozenset({"clusterName", "clusterSelector", "component", "clusterOverrides"})
_REPLICAS_FIELDS: Final = frozenset({"rebalance", "clusters", "totalReplicas"})


class ApplicationError(ValueError):
    """A FederatedApplication that cannot be expanded; the message is one line."""


@dataclass(frozen=True)
class OverrideRule:
    """One ``spec.overrides`` entry: which clusters (a name or a selector), which components
    (a kind, and a name or every one of the kind), and the operations."""

    index: int
    kind: str
    name: str | None
    cluster_name: str | None
    selector: Mapping[str, Any] | None
    operations: tuple[ov.Operation, ...]

    def applies_to(self, component: Component) -> bool:
        return self.kind == component.kind and (self.name is None or self.name == component.name)

    def selects(self, cluster: Cluster) -> bool:
        if self.cluster_name is not None:
            return cluster.name == self.cluster_name
        return self.selector is not None and sel.matches(self.selector, cluster.labels)


@dataclass(frozen=True)
class Component:
    obj: Obj  # namespace defaulted to the application's
    target: tc.TypeConfig

    @property
    def kind(self) -> str:
        return kind_of(self.obj)

    @property
    def name(self) -> str:
        return name_of(self.obj)

    @property
    def federated_name(self) -> str:
        return federated_name(self.name)


@dataclass(frozen=True)
class Application:
    namespace: str
    name: str
    uid: str
    generation: int
    components: tuple[Component, ...]
    placement: Mapping[str, Any]
    overrides: tuple[OverrideRule, ...] = ()
    replicas: Mapping[str, Any] | None = None
    toleration_seconds: int | None = None


@dataclass
class Expansion:
    objects: list[Obj]  # federated objects, then RSPs; sorted
    conflicts: list[str] = field(default_factory=list)  # override conflicts, one line each

    def federated(self) -> list[Obj]:
        return [o for o in self.objects if kind_of(o) != rs.KIND]

    def preferences(self) -> list[Obj]:
        return [o for o in self.objects if kind_of(o) == rs.KIND]


def _map(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ApplicationError(f"{where} must be a map, not {type_name(value)}")
    return value


def _unknown(value: Mapping[str, Any], known: frozenset[str], where: str) -> None:
    extra = sorted(str(k) for k in value if k not in known)
    if extra:
        raise ApplicationError(f"{where}: unknown field {quote(extra[0])}")


def _selector(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ApplicationError(f"{where} must be a map, not {type_name(value)}")
    try:
        sel.validate(value)
    except sel.SelectorError as err:
        raise ApplicationError(f"{where}: {err}") from None
    return value


def _placement(value: Any) -> Mapping[str, Any]:
    """KubeFed's placement (a clusters list, or a clusterSelector); absent: every cluster."""
    if value is None:
        return {"clusterSelector": {"matchLabels": {}}}
    placement = _map(value, "spec.placement")
    _unknown(placement, frozenset({"clusters", "clusterSelector"}), "spec.placement")
    listed = placement.get("clusters")
    if listed is not None:
        if not isinstance(listed, list):
            raise ApplicationError(f"spec.placement.clusters must be a list, not {type_name(listed)}")
        for i, entry in enumerate(listed):
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ApplicationError(f"spec.placement.clusters[{i}] needs a name")
    if placement.get("clusterSelector") is not None:
        _selector(placement["clusterSelector"], "spec.placement.clusterSelector")
    if listed is None and placement.get("clusterSelector") is None:
        raise ApplicationError("spec.placement needs clusters or clusterSelector")
    return copy.deepcopy(dict(placement))


def _component(index: int, value: Any, namespace: str, types: Sequence[tc.TypeConfig]) -> Component:
    where = f"spec.components[{index}]"
    if not isinstance(value, Mapping):
        raise ApplicationError(f"{where} must be an object, not {type_name(value)}")
    api_version, kind = value.get("apiVersion"), value.get("kind")
    if (problem := api_version_problem(api_version)) is not None:
        raise ApplicationError(f"{where}: apiVersion {problem}")
    if (problem := kind_problem(kind)) is not None:
        raise ApplicationError(f"{where}: kind {problem}")
    group = names.split_api_version(str(api_version))[0]
    if group in names.KUBEFED_GROUPS or group == GROUP:
        raise ApplicationError(
            f"{where}: {kind} is a KubeFed object; components are plain Kubernetes objects"
        )
    if (problem := metadata_problem(value, group, str(kind))) is not None:
        raise ApplicationError(f"{where}: {kind} {problem}")
    obj = copy.deepcopy(dict(value))
    own_ns = namespace_of(obj)
    if own_ns and own_ns != namespace:
        raise ApplicationError(
            f"{where}: {kind} {name_of(obj)} is in namespace {own_ns}; components are in the "
            f"application's namespace {namespace}"
        )
    target = tc.for_kind(str(api_version), str(kind), namespaced=True, types=types)
    if not target.namespaced:
        raise ApplicationError(f"{where}: {kind} is cluster-scoped; components are namespaced objects")
    obj.setdefault("metadata", {})["namespace"] = namespace
    obj.pop("status", None)
    return Component(obj, target)


_PLACEHOLDER_CLUSTER = re.compile(r'\s*\(cluster "\*"\)|\s*(?:for|in|of) cluster "\*"|cluster "\*": ')


def _operations(value: Any, where: str) -> tuple[ov.Operation, ...]:
    if not isinstance(value, list) or not value:
        raise ApplicationError(f"{where}.clusterOverrides must be a non-empty list")
    try:
        parsed = ov.parse([{"clusterName": "*", "clusterOverrides": value}])
    except ov.OverridesError as err:
        raise ApplicationError(f"{where}: {_PLACEHOLDER_CLUSTER.sub('', str(err))}") from None
    return tuple(parsed["*"])


def _override(index: int, value: Any, components: Sequence[Component]) -> OverrideRule:
    where = f"spec.overrides[{index}]"
    entry = _map(value, where)
    _unknown(entry, _OVERRIDE_FIELDS, where)
    cluster_name, selector = entry.get("clusterName"), entry.get("clusterSelector")
    if (cluster_name is None) == (selector is None):
        raise ApplicationError(f"{where} needs exactly one of clusterName or clusterSelector")
    if cluster_name is not None and (not isinstance(cluster_name, str) or not cluster_name):
        raise ApplicationError(f"{where}.clusterName must be a cluster name, not {type_name(cluster_name)}")
    ref = _map(entry.get("component"), f"{where}.component")
    _unknown(ref, frozenset({"kind", "name"}), f"{where}.component")
    kind, name = ref.get("kind"), ref.get("name")
    if not isinstance(kind, str) or not kind:
        raise ApplicationError(f"{where}.component.kind is required")
    if name is not None and not isinstance(name, str):
        raise ApplicationError(f"{where}.component.name must be a string, not {type_name(name)}")
    rule = OverrideRule(
        index,
        kind,
        name,
        str(cluster_name) if cluster_name is not None else None,
        _selector(selector, f"{where}.clusterSelector") if selector is not None else None,
        _operations(entry.get("clusterOverrides"), where),
    )
    if not any(rule.applies_to(c) for c in components):
        shown = f"{kind} {name}" if name else kind
        raise ApplicationError(f"{where}: no component {shown}")
    return rule


def _replicas(value: Any) -> Mapping[str, Any] | None:
    if value is None:
        return None
    spec = _map(value, "spec.replicas")
    _unknown(spec, _REPLICAS_FIELDS, "spec.replicas")
    probe = {"targetKind": rs.TARGET_KINDS[0], "totalReplicas": spec.get("totalReplicas", 1), **spec}
    try:
        rs.parse_preference(
            {"apiVersion": names.SCHEDULING_API_VERSION, "kind": rs.KIND, "metadata": {}, "spec": probe}
        )
    except rs.PreferenceError as err:
        raise ApplicationError(f"{str(err).replace('spec.', 'spec.replicas.', 1)}") from None
    return copy.deepcopy(dict(spec))


def _toleration(value: Any) -> int | None:
    failover = _map(value, "spec.failover")
    _unknown(failover, frozenset({"tolerationSeconds"}), "spec.failover")
    seconds = failover.get("tolerationSeconds")
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
        raise ApplicationError("spec.failover.tolerationSeconds must be a whole number >= 0")
    return seconds


def parse(obj: Any, types: Sequence[tc.TypeConfig] = tc.BUILTIN_TYPES) -> Application:
    """The application an object says, or ApplicationError naming the first problem.

    ``types``: the enabled types (a component of another kind is namespaced by guess)."""
    if not isinstance(obj, Mapping):
        raise ApplicationError(f"expected a {KIND}, got {type_name(obj)}")
    if obj.get("apiVersion") != API_VERSION or obj.get("kind") != KIND:
        raise ApplicationError(f"expected {API_VERSION} {KIND}")
    if (problem := metadata_problem(obj, GROUP, KIND)) is not None:
        raise ApplicationError(f"{KIND} {problem}")
    name = name_of(obj)
    if (problem := dns1123_label(name)) is not None:
        raise ApplicationError(f"{KIND} metadata.name {quote(name)} {problem} (it is a label value)")
    namespace = namespace_of(obj) or "default"
    spec = _map(obj.get("spec"), "spec")
    _unknown(spec, _SPEC_FIELDS, "spec")
    raw = spec.get("components")
    if not isinstance(raw, list) or not raw:
        raise ApplicationError("spec.components must be a non-empty list")
    components = [_component(i, c, namespace, types) for i, c in enumerate(raw)]
    seen: dict[tuple[str, str, str], int] = {}
    for i, c in enumerate(components):
        key = (c.target.group, c.kind, c.federated_name)
        if key in seen:
            raise ApplicationError(
                f"spec.components[{i}]: {c.kind} {c.name} is also spec.components[{seen[key]}]"
            )
        seen[key] = i
    raw_overrides = spec.get("overrides")
    if raw_overrides is not None and not isinstance(raw_overrides, list):
        raise ApplicationError(f"spec.overrides must be a list, not {type_name(raw_overrides)}")
    rules = tuple(_override(i, o, components) for i, o in enumerate(raw_overrides or []))
    replicas = _replicas(spec.get("replicas"))
    if replicas is not None:
        for rule in rules:
            if rule.kind == "Deployment" and any(op.path == REPLICAS_PATH for op in rule.operations):
                raise ApplicationError(
                    f"spec.overrides[{rule.index}]: {REPLICAS_PATH} of a Deployment is set by spec.replicas"
                )
    meta = metadata(obj)
    generation = meta.get("generation")
    return Application(
        namespace=namespace,
        name=name,
        uid=str(meta.get("uid") or ""),
        generation=generation if isinstance(generation, int) and not isinstance(generation, bool) else 0,
        components=tuple(components),
        placement=_placement(spec.get("placement")),
        overrides=rules,
        replicas=replicas,
        toleration_seconds=_toleration(spec.get("failover")),
    )


# -- expansion --------------------------------------------------------------------------


def _op_dict(op: ov.Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"path": op.path}
    if op.op != "replace":
        out["op"] = op.op
    if op.op != "remove":
        out["value"] = copy.deepcopy(op.value)
    return out


def _rule_name(rule: OverrideRule) -> str:
    how = f"clusterName {rule.cluster_name}" if rule.cluster_name is not None else "clusterSelector"
    return f"spec.overrides[{rule.index}] ({how})"


def cluster_overrides(
    app: Application, component: Component, clusters: Sequence[Cluster]
) -> tuple[list[dict[str, Any]], list[str]]:
    """KubeFed's ``spec.overrides`` of one component: per known cluster (by name), the
    operations of the selector rules that match it, then of the rules naming it; a rule
    by name replaces a selector one on the same path; two rules of the same kind that set
    one path differently conflict (the first in spec order is kept, the conflict reported)."""
    entries: list[dict[str, Any]] = []
    conflicts: list[str] = []
    rules = [r for r in app.overrides if r.applies_to(component)]
    for cluster in sorted(clusters, key=lambda c: c.name):
        chosen: dict[str, tuple[ov.Operation, OverrideRule]] = {}
        for by_name in (False, True):
            for rule in rules:
                if (rule.cluster_name is not None) != by_name or not rule.selects(cluster):
                    continue
                for op in rule.operations:
                    held = chosen.get(op.path)
                    if held is None or (by_name and held[1].cluster_name is None):
                        chosen[op.path] = (op, rule)
                    elif held[0] != op:
                        conflicts.append(
                            f"{component.kind} {component.name} in cluster {cluster.name}: {op.path} is set "
                            f"by {_rule_name(held[1])} and {_rule_name(rule)}; the first is used"
                        )
        if chosen:
            entries.append(
                {"clusterName": cluster.name, "clusterOverrides": [_op_dict(op) for op, _ in chosen.values()]}
            )
    return entries, conflicts


def owner_reference(app: Application) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": app.name,
        "uid": app.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _own(obj: Obj, app: Application) -> Obj:
    meta = obj.setdefault("metadata", {})
    meta["namespace"] = app.namespace
    meta["labels"] = {**(meta.get("labels") or {}), APP_LABEL: app.name}
    if app.uid:
        meta["ownerReferences"] = [owner_reference(app)]
    return obj


def _is_scheduled(app: Application, component: Component) -> bool:
    return app.replicas is not None and component.kind == "Deployment" and component.target.group == "apps"


def _preference(app: Application, component: Component, fed: Obj) -> Obj:
    spec_replicas = (component.obj.get("spec") or {}).get("replicas")
    total = app.replicas.get("totalReplicas") if app.replicas else None
    if total is None:
        total = spec_replicas if isinstance(spec_replicas, int) and not isinstance(spec_replicas, bool) else 1
    prefs: dict[str, Any] = copy.deepcopy(dict((app.replicas or {}).get("clusters") or {}))
    spec: dict[str, Any] = {"targetKind": fed["kind"], "totalReplicas": total}
    if (app.replicas or {}).get("rebalance") is not None:
        spec["rebalance"] = bool((app.replicas or {})["rebalance"])
    listed = app.placement.get("clusters")
    if listed is not None:
        # A clusters list: only the listed clusters get replicas (a "*" preference stands
        # for each of them, unless one has its own).
        default = prefs.get(rs.WILDCARD, {"weight": 1})
        wanted = sorted({str(c["name"]) for c in listed})
        prefs = {n: prefs.get(n, default) for n in wanted}
    else:
        spec["intersectWithClusterSelector"] = True
    if prefs:
        spec["clusters"] = dict(sorted(prefs.items()))
    rsp: Obj = {
        "apiVersion": names.SCHEDULING_API_VERSION,
        "kind": rs.KIND,
        "metadata": {"name": name_of(fed)},
        "spec": spec,
    }
    if app.toleration_seconds is not None:
        rsp["metadata"]["annotations"] = {TOLERATION_ANNOTATION: str(app.toleration_seconds)}
    return _own(rsp, app)


def expand(
    app: Application,
    clusters: Sequence[Cluster],
    *,
    federated_group: str | None = None,
    federated_version: str | None = None,
) -> Expansion:
    """The objects ``app`` stands for, given the known clusters (their labels resolve the
    selector overrides). Deterministic: the same input gives the same objects, in order.
    The federated group and version are each component type's (``parse``'s ``types``)
    unless given."""
    objects: list[Obj] = []
    prefs: list[Obj] = []
    conflicts: list[str] = []
    for component in app.components:
        target = component.target.with_federated(federated_group, federated_version)
        entries, found = cluster_overrides(app, component, clusters)
        conflicts.extend(found)
        fed = federate(component.obj, target, placement=app.placement, overrides=entries or None).obj
        escape = escaping_overrides(fed, target)
        if escape:
            raise ApplicationError(f"{component.kind} {component.name}: {escape}")
        objects.append(_own(fed, app))
        if _is_scheduled(app, component):
            prefs.append(_preference(app, component, fed))
    objects.sort(key=_sort_key)
    prefs.sort(key=_sort_key)
    return Expansion([*objects, *prefs], conflicts)


def _sort_key(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(obj.get("apiVersion")), kind_of(obj), name_of(obj))


def is_owned_by(obj: Mapping[str, Any], app_name: str, uid: str) -> bool:
    """Whether ``obj`` is one of the application's objects (its label and owner reference)."""
    if labels_of(obj).get(APP_LABEL) != app_name:
        return False
    refs = metadata(obj).get("ownerReferences") or []
    return any(isinstance(r, Mapping) and r.get("uid") == uid and r.get("kind") == KIND for r in refs)


def same_content(desired: Mapping[str, Any], current: Mapping[str, Any]) -> bool:
    """Whether ``current`` already says what ``desired`` does: spec, our label, owner
    references (other labels and annotations on ``current`` are someone else's)."""
    if json.dumps(desired.get("spec"), sort_keys=True) != json.dumps(current.get("spec"), sort_keys=True):
        return False
    want, have = metadata(desired), metadata(current)
    for key, value in (want.get("labels") or {}).items():
        if labels_of(current).get(key) != value:
            return False
    for key, value in (want.get("annotations") or {}).items():
        if (have.get("annotations") or {}).get(key) != value:
            return False
    return (want.get("ownerReferences") or None) == (have.get("ownerReferences") or None)


def with_schedule(desired: Mapping[str, Any], current: Mapping[str, Any]) -> Obj:
    """``desired`` (a scheduled FederatedDeployment) keeping what the scheduling controller
    wrote into ``current``: ``spec.placement.clusters`` and the ``/spec/replicas``
    overrides; overrides normalized (entries by cluster name, replicas last)."""
    obj = copy.deepcopy(dict(desired))
    spec = obj.setdefault("spec", {})
    cur_spec = current.get("spec") if isinstance(current.get("spec"), Mapping) else {}
    assert isinstance(cur_spec, Mapping)
    cur_placement = cur_spec.get("placement")
    if isinstance(cur_placement, Mapping) and "clusters" in cur_placement:
        spec.setdefault("placement", {})["clusters"] = copy.deepcopy(cur_placement["clusters"])
    scheduled: dict[str, list[Any]] = {}
    for entry in cur_spec.get("overrides") or []:
        if not isinstance(entry, Mapping):
            continue
        items = [
            i
            for i in entry.get("clusterOverrides") or []
            if isinstance(i, Mapping) and i.get("path") == REPLICAS_PATH
        ]
        if items:
            scheduled.setdefault(str(entry.get("clusterName")), []).extend(copy.deepcopy(items))
    by_cluster: dict[str, list[Any]] = {}
    for entry in spec.get("overrides") or []:
        by_cluster[str(entry["clusterName"])] = list(entry.get("clusterOverrides") or [])
    for cluster, items in scheduled.items():
        by_cluster.setdefault(cluster, []).extend(items)
    spec.pop("overrides", None)
    if by_cluster:
        spec["overrides"] = [
            {"clusterName": c, "clusterOverrides": by_cluster[c]} for c in sorted(by_cluster) if by_cluster[c]
        ]
    return obj


def normalized_overrides(obj: Mapping[str, Any]) -> Obj:
    """``obj`` with its overrides as ``with_schedule`` orders them (for comparison): entries
    by cluster name, empty ones dropped, ``/spec/replicas`` items last."""
    out = copy.deepcopy(dict(obj))
    spec = out.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("overrides"), list):
        return out
    entries = []
    for entry in spec["overrides"]:
        if not isinstance(entry, Mapping):
            return out
        items = list(entry.get("clusterOverrides") or [])
        items = [i for i in items if i.get("path") != REPLICAS_PATH] + [
            i for i in items if i.get("path") == REPLICAS_PATH
        ]
        if items:
            entries.append({"clusterName": entry.get("clusterName"), "clusterOverrides": items})
    entries.sort(key=lambda e: str(e["clusterName"]))
    if entries:
        spec["overrides"] = entries
    else:
        spec.pop("overrides")
    return out


# -- status -----------------------------------------------------------------------------


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def desired_count(fed: Mapping[str, Any], cluster: str, field_name: str) -> int | None:
    """The count a member is asked for: the template's (default 1), or the cluster's
    override of ``/spec/<field>``."""
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    template = spec.get("template") if isinstance(spec.get("template"), Mapping) else {}
    assert isinstance(template, Mapping)
    tspec = template.get("spec") if isinstance(template.get("spec"), Mapping) else {}
    assert isinstance(tspec, Mapping)
    desired = _count(tspec.get(field_name, 1))
    for entry in spec.get("overrides") or []:
        if not isinstance(entry, Mapping) or entry.get("clusterName") != cluster:
            continue
        for op in entry.get("clusterOverrides") or []:
            if isinstance(op, Mapping) and op.get("path") == f"/spec/{field_name}":
                desired = 1 if op.get("op") == "remove" else _count(op.get("value"))
    return desired


def _workload(fed: Mapping[str, Any], entry: Mapping[str, Any]) -> tuple[int, int] | None:
    """(ready, desired) of a workload component in one cluster; None for other kinds."""
    target = kind_of(fed)[len(names.FEDERATED_PREFIX) :]
    fields = WORKLOADS.get(target)
    if fields is None:
        return None
    ready_field, where = fields
    source, _, field_name = where.partition(":")
    remote = entry.get("remoteStatus") if isinstance(entry.get("remoteStatus"), Mapping) else {}
    assert isinstance(remote, Mapping)
    ready = _count(remote.get(ready_field)) or 0
    desired = (
        _count(remote.get(field_name))
        if source == "status"
        else desired_count(fed, str(entry["name"]), field_name)
    )
    return ready, desired or 0


def _propagation(fed: Mapping[str, Any]) -> tuple[bool, str, bool]:
    """(propagated, reason, observed) of a federated object's own status."""
    status = fed.get("status") if isinstance(fed.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    observed = status.get("observedGeneration") == metadata(fed).get("generation") and bool(status)
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == st.CONDITION_PROPAGATION:
            return cond.get("status") == "True", str(cond.get("reason") or ""), observed
    return False, "", observed


def rollup(
    generation: int,
    federated: Sequence[Mapping[str, Any]],
    *,
    total: int,
    problems: Sequence[str] = (),
    conflicts: Sequence[str] = (),
    not_ready: Collection[str] = (),
) -> dict[str, Any]:
    """The application's status without times: per cluster what its components say, the
    conditions' status/reason/message, a summary. ``federated``: the owned federated
    objects as they are on the host (with their status); ``total``: how many components
    the application has; ``problems``: why some could not be written or expanded;
    ``not_ready``: clusters the health check finds not Ready (what their components last
    reported is no longer known to hold, whatever the federated objects still say)."""
    clusters: dict[str, dict[str, Any]] = {}
    failed: list[str] = list(problems)
    pending: list[str] = []
    for fed in sorted(federated, key=lambda o: (kind_of(o), name_of(o))):
        what = f"{kind_of(fed)[len(names.FEDERATED_PREFIX) :]} {name_of(fed)}"
        _, reason, observed = _propagation(fed)
        if not observed:
            pending.append(what)
        elif reason and reason != st.REASON_CHECK_CLUSTERS:
            failed.append(f"{what}: {reason}")
        entries = (fed.get("status") or {}).get("clusters") or []
        for entry in entries:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                continue
            row = clusters.setdefault(
                entry["name"],
                {
                    "name": entry["name"],
                    "components": 0,
                    "componentsApplied": 0,
                    "readyReplicas": 0,
                    "desiredReplicas": 0,
                    "ready": True,
                },
            )
            row["components"] += 1
            code = str(entry.get("status") or "")
            if code:
                row["ready"] = False
                row.setdefault("problems", []).append(f"{what}: {code}")
                if code not in st.RECOVERABLE and code != st.CLUSTER_NOT_READY:
                    failed.append(f"{what} in {entry['name']}: {code}")
            else:
                row["componentsApplied"] += 1
            counts = _workload(fed, entry)
            if counts is not None:
                row["readyReplicas"] += counts[0]
                row["desiredReplicas"] += counts[1]
                if counts[0] < counts[1]:
                    row["ready"] = False
    for name in sorted(set(not_ready) & set(clusters)):
        row = clusters[name]
        row["ready"] = False
        problems_here = row.setdefault("problems", [])
        if not any(p.endswith(st.CLUSTER_NOT_READY) for p in problems_here):
            problems_here.append(st.CLUSTER_NOT_READY)
    rows = [clusters[n] for n in sorted(clusters)]
    ready_clusters = sum(1 for r in rows if r["ready"])
    complete = len(federated) == total and not pending
    ready = complete and not failed and bool(rows) and ready_clusters == len(rows)
    degraded = bool(failed)
    conditions = [
        {
            "type": COND_READY,
            "status": "True" if ready else "False",
            "reason": "AllClustersReady"
            if ready
            else ("NoClusters" if complete and not rows else "ClustersNotReady"),
        },
        {
            "type": COND_PROGRESSING,
            "status": "True" if not ready and not degraded else "False",
            "reason": "Propagating" if not ready and not degraded else ("Failed" if degraded else "Stable"),
        },
        {
            "type": COND_DEGRADED,
            "status": "True" if degraded else "False",
            "reason": "ComponentsFailed" if degraded else "AsExpected",
        },
    ]
    if failed:
        conditions[2]["message"] = "; ".join(failed)
    if pending:
        conditions[1]["message"] = "waiting for " + ", ".join(pending)
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "conditions": conditions,
        "components": total,
        "summary": f"{ready_clusters}/{len(rows)} clusters ready",
    }
    if rows:
        status["clusters"] = rows
    if conflicts:
        status["conflicts"] = list(conflicts)
    return status


def invalid_status(generation: int, why: str) -> dict[str, Any]:
    """The status of an application that cannot be expanded (its objects are kept)."""
    return {
        "observedGeneration": generation,
        "conditions": [
            {"type": COND_READY, "status": "False", "reason": "InvalidSpec"},
            {"type": COND_PROGRESSING, "status": "False", "reason": "InvalidSpec"},
            {"type": COND_DEGRADED, "status": "True", "reason": "InvalidSpec", "message": why},
        ],
        "summary": "invalid: " + why,
    }


def _without_times(status: Mapping[str, Any]) -> Any:
    out = copy.deepcopy(dict(status))
    for cond in out.get("conditions") or []:
        if isinstance(cond, dict):
            cond.pop("lastTransitionTime", None)
    return out


def next_status(
    current: Mapping[str, Any] | None, computed: Mapping[str, Any], now: str
) -> dict[str, Any] | None:
    """The status to write (conditions keep their lastTransitionTime while their status
    holds), or None when ``current`` already says it."""
    current = current or {}
    if _without_times(current) == _without_times(computed):
        return None
    old = {c.get("type"): c for c in current.get("conditions") or [] if isinstance(c, Mapping)}
    new = copy.deepcopy(dict(computed))
    for cond in new.get("conditions") or []:
        before = old.get(cond["type"])
        same = before is not None and before.get("status") == cond["status"]
        cond["lastTransitionTime"] = before.get("lastTransitionTime", now) if same and before else now
    return new


# -- wrapping plain manifests ---------------------------------------------------------------

_SERVER_FIELDS: Final = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
)


def component_of(obj: Mapping[str, Any]) -> Obj:
    """A plain object as a component: its status and server-set metadata dropped."""
    out = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta = out.get("metadata")
    if isinstance(meta, dict):
        for key in _SERVER_FIELDS:
            meta.pop(key, None)
    return out


def wrap(
    objs: Sequence[Mapping[str, Any]],
    name: str,
    namespace: str,
    placement: Mapping[str, Any] | None = None,
    overrides: Sequence[Mapping[str, Any]] = (),
) -> Obj:
    """One FederatedApplication holding ``objs`` (checked with ``parse``; ApplicationError).
    An empty ``namespace`` is left out (the namespace the application is created in)."""
    spec: Obj = {"components": [component_of(o) for o in objs]}
    if placement is not None:
        spec["placement"] = copy.deepcopy(dict(placement))
    if overrides:
        spec["overrides"] = copy.deepcopy([dict(o) for o in overrides])
    meta: Obj = {"name": name, "namespace": namespace} if namespace else {"name": name}
    app: Obj = {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}
    parse(app)
    return app
