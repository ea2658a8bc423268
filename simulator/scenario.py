"""Scenario files for ``kubectl kubefed simulate`` (format in docs/simulate.md).

A scenario names the member clusters, optional pre-existing member objects, and steps;
each step is one action, after which the controllers run until nothing is pending
(bounded by ``settleTimeout``, 10 virtual minutes by default) unless it says
``settle: false``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubectl_kubefed import manifests
from kubectl_kubefed.api import names
from kubectl_kubefed.api import validation as val
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import Obj, group_of, kind_of, name_of, namespace_of, object_key
from kubectl_kubefed.core import application as ap
from kubectl_kubefed.core import render as rd
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.core.input_checks import Duplicates, check_cluster_name, check_federated, check_object
from kubectl_kubefed.sync.errors import ApiError
from kubectl_kubefed.sync.settings import Settings, parse_duration
from simulator.fleet import Fleet
from simulator.workloads import WorkloadSettings

ACTIONS = ("apply", "delete", "memberApply", "memberDelete", "cluster", "agent", "faults", "advance")
VERBS = ("create", "update", "delete", "get", "list", "watch")
# Virtual time costs real time (every health probe of every cluster runs), so it is bounded.
MAX_ADVANCE_SECONDS = 24 * 3600.0  # all advance steps of a scenario together
MAX_SETTLE_SECONDS = 3600.0
_STEP_KEYS = {*ACTIONS, "settle", "name"}


@dataclass
class Step:
    action: str
    value: Any
    settle: bool = True
    name: str = ""

    def describe(self) -> str:
        if self.name:
            return self.name
        v = self.value
        if self.action in ("apply", "memberApply"):
            objs = v if self.action == "apply" else v["objects"]
            what = ", ".join(f"{kind_of(o)} {_ref(o)}" for o in objs[:3]) + (" ..." if len(objs) > 3 else "")
            where = "" if self.action == "apply" else f" in {v['cluster']}"
            return f"{self.action}{where}: {what}"
        if self.action in ("delete", "memberDelete"):
            where = "" if self.action == "delete" else f" in {v['cluster']}"
            return f"{self.action}{where}: {v['kind']} {_ref(v)}"
        if self.action == "cluster":
            changes = ", ".join(f"{k}={v[k]}" for k in v if k != "name")
            return f"cluster {v['name']}: {changes}"
        if self.action == "agent":
            return f"agent {v['name']}: running={v['running']}"
        if self.action == "faults":
            return "faults: " + ", ".join(f"{k}={v[k]}" for k in v)
        return f"advance {v}"


@dataclass
class Scenario:
    clusters: list[dict[str, Any]]
    steps: list[Step]
    host_is_member: str | None = None
    scope: str = names.SCOPE_CLUSTER
    adopt_resources: bool = True
    members: dict[str, list[Obj]] = field(default_factory=dict)
    settle_timeout: float = 600.0
    source: str = ""  # the file, for errors found while running
    workloads: WorkloadSettings | None = None  # Pods for member Deployments (simulator/workloads.py)


def _ref(obj: Mapping[str, Any]) -> str:
    if "metadata" in obj:
        ns, name = namespace_of(obj), name_of(obj)
    else:
        ns, name = str(obj.get("namespace") or ""), str(obj.get("name") or "")
    return f"{ns}/{name}" if ns else name


def _objects(value: Any, base: Path, where: str) -> list[Obj]:
    if isinstance(value, str):
        if not value or "\x00" in value:
            raise InputError(f"{where}: expected a list of objects or a path")
        path = base / value
        try:
            docs = manifests.load_files([str(path)])
        except InputError as err:
            raise InputError(f"{where}: {err}") from None
        value = [d.obj for d in docs]
    if isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(o, Mapping) for o in value):
        raise InputError(f"{where}: expected a list of objects or a path")
    for obj in value:
        if not obj.get("apiVersion") or not obj.get("kind") or not name_of(obj):
            raise InputError(f"{where}: every object needs apiVersion, kind and metadata.name")
        check_federated(obj, where)
    seen = Duplicates()
    for obj in value:
        seen.add(obj, where)
    return [dict(o) for o in value]


def _ref_fields(value: Any, where: str, need_cluster: bool) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: expected {{apiVersion, kind, namespace, name}}")
    for key in ("apiVersion", "kind", "name", *(["cluster"] if need_cluster else [])):
        if not isinstance(value.get(key), str) or not value.get(key):
            raise InputError(f"{where}: {key} is required")
    namespace = value.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InputError(f"{where}: namespace must be a string")
    meta = {"name": value["name"], **({"namespace": namespace} if namespace else {})}
    check_object({"apiVersion": value["apiVersion"], "kind": value["kind"], "metadata": meta}, where)
    return dict(value)


def _labels(value: Any, where: str) -> None:
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: labels must be a map")
    for key, item in value.items():
        problem = val.qualified_name(key) or val.label_value(item)
        if problem is not None:
            raise InputError(f"{where}: label {val.quote(key)}: {val.quote(item)} {problem}")


def parse(data: Any, source: str, base: Path) -> Scenario:
    """Validate a scenario; every problem is one InputError naming the step."""
    if not isinstance(data, Mapping):
        raise InputError(f"{source}: a scenario is a map with clusters and steps")
    top = {"clusters", "hostIsMember", "kubefedConfig", "members", "steps", "settleTimeout", "workloads"}
    unknown = set(data) - top
    if unknown:
        raise InputError(f"{source}: unknown keys {', '.join(sorted(unknown))}")
    clusters = data.get("clusters")
    if not isinstance(clusters, list) or not clusters:
        raise InputError(f"{source}: clusters must be a non-empty list")
    seen: set[str] = set()
    pull: set[str] = set()  # clusters in pull mode (an agent applies their Works)
    for i, c in enumerate(clusters, start=1):
        if not isinstance(c, Mapping) or not isinstance(c.get("name"), str) or not c["name"]:
            raise InputError(f"{source}: clusters[{i}] needs a name")
        check_cluster_name(c["name"], f"{source}: clusters[{i}]")
        if c["name"] in seen:
            raise InputError(f"{source}: cluster {c['name']} given twice")
        _labels(c.get("labels") or {}, f"{source}: clusters[{i}]")
        for key in ("kubernetesVersion", "id"):
            if c.get(key) is not None and not isinstance(c[key], str):
                raise InputError(f"{source}: clusters[{i}].{key} must be a string")
        if c.get("crdsRequired") is not None and not isinstance(c["crdsRequired"], bool):
            raise InputError(f"{source}: clusters[{i}].crdsRequired must be true or false")
        _capacity(c.get("capacity"), f"{source}: clusters[{i}]")
        mode = c.get("syncMode", names.SYNC_MODE_PUSH)
        if mode not in (names.SYNC_MODE_PUSH, names.SYNC_MODE_PULL):
            raise InputError(f"{source}: clusters[{i}].syncMode must be Push or Pull")
        if mode == names.SYNC_MODE_PULL:
            if problem := wk.cluster_namespace_problem(c["name"]):
                raise InputError(f"{source}: clusters[{i}]: {problem}")
            pull.add(c["name"])
        seen.add(c["name"])
    host = data.get("hostIsMember")
    if host is not None and (not isinstance(host, str) or host not in seen):
        raise InputError(f"{source}: hostIsMember names unknown cluster {val.quote(host)}")
    config = data.get("kubefedConfig") or {}
    if not isinstance(config, Mapping):
        raise InputError(f"{source}: kubefedConfig must be a map")
    scope = str(config.get("scope") or names.SCOPE_CLUSTER)
    if scope not in (names.SCOPE_CLUSTER, names.SCOPE_NAMESPACED):
        raise InputError(f"{source}: kubefedConfig.scope must be Cluster or Namespaced")
    adopt = str(config.get("adoptResources") or "Enabled")
    if adopt not in ("Enabled", "Disabled"):
        raise InputError(f"{source}: kubefedConfig.adoptResources must be Enabled or Disabled")
    members: dict[str, list[Obj]] = {}
    if not isinstance(data.get("members") or {}, Mapping):
        raise InputError(f"{source}: members must be a map of cluster name to objects")
    for cluster, objs in (data.get("members") or {}).items():
        if cluster not in seen:
            raise InputError(f"{source}: members names unknown cluster {val.quote(cluster)}")
        members[cluster] = _objects(objs, base, f"{source}: members.{cluster}")
    raw_steps = data.get("steps") or []
    if not isinstance(raw_steps, list):
        raise InputError(f"{source}: steps must be a list")
    steps = [
        _parse_step(raw, f"{source}: step {i}", base, seen, pull) for i, raw in enumerate(raw_steps, start=1)
    ]
    advanced = 0.0
    for i, step in enumerate(steps, start=1):
        if step.action == "advance":
            advanced += step.value
            if advanced > MAX_ADVANCE_SECONDS:
                raise InputError(
                    f"{source}: step {i}: advance: the scenario's advances add up to more than "
                    f"{MAX_ADVANCE_SECONDS / 3600:g}h, the bound on virtual time"
                )
    timeout = _duration(data.get("settleTimeout"), 600.0, MAX_SETTLE_SECONDS, f"{source}: settleTimeout")
    workloads = _workloads(data, clusters, steps, source)
    return Scenario(
        [dict(c) for c in clusters],
        steps,
        host,
        scope,
        adopt == "Enabled",
        members,
        timeout,
        source,
        workloads,
    )


def _capacity(value: Any, where: str) -> int | None:
    """``capacity: {pods: N}`` (null: unlimited)."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or set(value) != {"pods"}:
        raise InputError(f"{where}: capacity must be {{pods: N}} (or null for unlimited)")
    pods = value["pods"]
    if isinstance(pods, bool) or not isinstance(pods, int) or pods < 0:
        raise InputError(f"{where}: capacity.pods must be a whole number, 0 or more")
    return pods


def _workloads(
    data: Mapping[str, Any], clusters: list[Any], steps: list[Step], source: str
) -> WorkloadSettings | None:
    """The simulated workloads: on with a ``workloads:`` map or any ``capacity``."""
    value = data.get("workloads")
    uses_capacity = any("capacity" in c for c in clusters) or any(
        s.action == "cluster" and "capacity" in s.value for s in steps
    )
    if value is None and not uses_capacity:
        return None
    if not isinstance(value or {}, Mapping) or set(value or {}) - {"readyAfter"}:
        raise InputError(f"{source}: workloads must be a map with an optional readyAfter")
    ready_after = _duration(
        (value or {}).get("readyAfter"), 5.0, MAX_SETTLE_SECONDS, f"{source}: workloads.readyAfter"
    )
    capacity = {
        str(c["name"]): pods for c in clusters if (pods := _capacity(c.get("capacity"), source)) is not None
    }
    return WorkloadSettings(ready_after, capacity)


def _parse_step(raw: Any, where: str, base: Path, clusters: set[str], pull: set[str] | None = None) -> Step:
    if not isinstance(raw, Mapping):
        raise InputError(f"{where}: a step is a map with one action")
    unknown = set(raw) - _STEP_KEYS
    actions = [k for k in raw if k in ACTIONS]
    if unknown:
        raise InputError(f"{where}: unknown key {sorted(unknown)[0]} (actions: {', '.join(ACTIONS)})")
    if len(actions) != 1:
        raise InputError(f"{where}: exactly one action is needed, got {len(actions)}")
    if not isinstance(raw.get("name", ""), str):
        raise InputError(f"{where}: name must be a string")
    action = actions[0]
    value = raw[action]
    settle = raw.get("settle", True)
    if not isinstance(settle, bool):
        raise InputError(f"{where}: settle must be true or false")

    def known(cluster: Any) -> None:
        if not isinstance(cluster, str) or cluster not in clusters:
            raise InputError(f"{where}: unknown cluster {cluster}")

    if action == "apply":
        value = _objects(value, base, where)
    elif action == "memberApply":
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: memberApply needs cluster and objects")
        known(value.get("cluster"))
        value = {"cluster": value["cluster"], "objects": _objects(value.get("objects"), base, where)}
    elif action in ("delete", "memberDelete"):
        value = _ref_fields(value, where, action == "memberDelete")
        if action == "memberDelete":
            known(value["cluster"])
    elif action == "cluster":
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: cluster needs a name")
        known(value.get("name"))
        extra = set(value) - {"name", "ready", "connected", "labels", "id", "capacity"}
        if extra:
            raise InputError(f"{where}: cluster step does not support {', '.join(sorted(map(str, extra)))}")
        for key in ("ready", "connected"):
            if key in value and not isinstance(value[key], bool):
                raise InputError(f"{where}: {key} must be true or false")
        if "labels" in value:
            _labels(value["labels"], where)
        if "id" in value and value["id"] is not None and not isinstance(value["id"], str):
            raise InputError(f"{where}: id must be a string (or null to remove it)")
        _capacity(value.get("capacity"), where)
        value = dict(value)
    elif action == "agent":
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: agent needs a name and running: true or false")
        known(value.get("name"))
        if value["name"] not in (pull or set()):
            raise InputError(f"{where}: cluster {value['name']} has no agent (it is not syncMode: Pull)")
        extra = set(value) - {"name", "running"}
        if extra:
            raise InputError(f"{where}: agent step does not support {', '.join(sorted(map(str, extra)))}")
        if not isinstance(value.get("running"), bool):
            raise InputError(f"{where}: running must be true or false")
        value = dict(value)
    elif action == "faults":
        if not isinstance(value, Mapping):
            raise InputError(f"{where}: faults needs a cluster")
        known(value.get("cluster"))
        extra = set(value) - {"cluster", "errorRate", "verbs", "latency"}
        if extra:
            raise InputError(f"{where}: faults does not support {', '.join(sorted(map(str, extra)))}")
        rate = value.get("errorRate", 0)
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise InputError(f"{where}: errorRate must be between 0 and 1")
        verbs = value.get("verbs")
        if verbs is not None and (
            not isinstance(verbs, list) or not all(isinstance(v, str) and v in VERBS for v in verbs)
        ):
            raise InputError(f"{where}: verbs must be a list of {', '.join(VERBS)}")
        latency = _duration(value.get("latency"), 0.0, MAX_SETTLE_SECONDS, f"{where}: latency")
        value = {**value, "latencySeconds": latency if "latency" in value else None}
    elif action == "advance":
        value = _duration(value, 0.0, MAX_ADVANCE_SECONDS, f"{where}: advance")
    return Step(action, value, settle, str(raw.get("name") or ""))


def _duration(value: Any, default: float, bound: float, where: str) -> float:
    """A Go duration (``90s``, ``1m30s``) or a number of seconds, from 0 up to ``bound``."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | None):
        raise InputError(f"{where}: expected a duration like 90s or 1m30s")
    try:
        seconds = parse_duration(value, default)
    except ValueError as err:
        raise InputError(f"{where}: {err}") from None
    if not 0 <= seconds <= bound:  # also refuses NaN
        raise InputError(f"{where}: must be between 0s and {bound / 3600:g}h")
    return seconds


def load(path: str) -> Scenario:
    source, text = manifests.read_text(path)
    base = Path(path).resolve().parent if path != "-" else Path.cwd()
    return parse(manifests.load_yaml_value(text, source), source, base)


def types_to_enable(scenario: Scenario) -> list[tc.TypeConfig]:
    """Types for every Federated<Kind> applied and every FederatedApplication's components,
    unless the scenario brings its own FTCs."""
    applied = [o for s in scenario.steps if s.action == "apply" for o in s.value]
    if any(kind_of(o) == names.KIND_TYPE_CONFIG and group_of(o) == names.CORE_GROUP for o in applied):
        return []
    found: dict[str, tc.TypeConfig] = {}
    for obj in applied:
        if group_of(obj) == ap.GROUP and kind_of(obj) == ap.KIND:
            # A FederatedApplication: the types of its components. One that cannot be
            # parsed enables nothing; the controller reports it (Degraded, InvalidSpec).
            try:
                components = ap.parse(obj).components
            except ap.ApplicationError:
                continue
            for component in components:
                found[component.target.name] = component.target
        elif kind_of(obj).startswith(names.FEDERATED_PREFIX) and group_of(obj) not in (
            names.CORE_GROUP,
            names.SCHEDULING_GROUP,
        ):
            try:
                t = rd.target_type(obj, tc.BUILTIN_TYPES)
            except rd.RenderError as err:
                raise InputError(f"{scenario.source}: {kind_of(obj)} {_ref(obj)}: {err}") from None
            found[t.name] = t
    if any(t.namespaced for t in found.values()):
        found.setdefault(tc.NAMESPACES_TYPE.name, tc.NAMESPACES_TYPE)
    return [found[n] for n in sorted(found)]


def snapshot(fleet: Fleet, settled: bool) -> dict[str, Any]:
    """The machine-readable state after a step (the ``-o json`` shape)."""
    return {
        "settled": settled,
        "virtualSeconds": round(fleet.clock.elapsed, 3),
        "clusters": {
            name: {"ready": fleet.ready(name), "objects": fleet.member_objects(name)}
            for name in sorted(fleet.servers)
        },
        "federated": [
            {
                "apiVersion": o.get("apiVersion"),
                "kind": kind_of(o),
                "namespace": namespace_of(o),
                "name": name_of(o),
                "status": o.get("status") or {},
                "finalizers": list((o.get("metadata") or {}).get("finalizers") or []),
            }
            for o in fleet.federated_objects()
        ],
        "applications": [
            {"namespace": namespace_of(o), "name": name_of(o), "status": o.get("status") or {}}
            for o in fleet.applications()
        ],
        "requests": fleet.requests(),
    }


@dataclass
class StepResult:
    step: Step | None  # None for the initial state
    snapshot: dict[str, Any]
    error: str = ""


def _run_step(fleet: Fleet, step: Step) -> str:
    """Apply one action; an API error (e.g. a refused object) is reported, not fatal."""
    v = step.value
    try:
        if step.action == "apply":
            fleet.apply(v)
        elif step.action == "delete":
            fleet.delete(v["apiVersion"], v["kind"], str(v.get("namespace") or ""), v["name"])
        elif step.action == "memberApply":
            fleet.apply(v["objects"], cluster=v["cluster"])
        elif step.action == "memberDelete":
            fleet.delete(
                v["apiVersion"], v["kind"], str(v.get("namespace") or ""), v["name"], cluster=v["cluster"]
            )
        elif step.action == "cluster":
            if "labels" in v:
                fleet.set_labels(v["name"], {str(k): str(x) for k, x in v["labels"].items()})
            if "ready" in v:
                fleet.set_ready(v["name"], v["ready"])
            if "connected" in v:
                fleet.set_connected(v["name"], v["connected"])
            if "id" in v:
                fleet.set_cluster_id(v["name"], v["id"])
            if "capacity" in v:
                fleet.set_capacity(v["name"], _capacity(v["capacity"], step.describe()))
        elif step.action == "agent":
            if v["running"]:
                fleet.start_agent(v["name"])
            else:
                fleet.stop_agent(v["name"])
        elif step.action == "faults":
            fleet.set_faults(
                v["cluster"],
                error_rate=float(v.get("errorRate", 0)),
                verbs=v.get("verbs"),
                latency=v.get("latencySeconds"),
            )
        elif step.action == "advance":
            fleet.advance(float(v))
    except ApiError as err:
        return f"{step.describe()}: {err}"
    return ""


def start(scenario: Scenario, seed: int = 0) -> Fleet:
    """The scenario's fleet before step 1: clusters, member objects, types enabled (not
    settled yet)."""
    settings = Settings(scope=scenario.scope, adopt_resources=scenario.adopt_resources)
    fleet = Fleet(
        scenario.clusters,
        host_is_member=scenario.host_is_member,
        seed=seed,
        settings=settings,
        workloads=scenario.workloads,
    )
    for spec in scenario.clusters:
        # As a real API server: custom kinds are served once a CRD defines them there.
        fleet.servers[spec["name"]].crds_required = bool(spec.get("crdsRequired"))
    for cluster, objs in scenario.members.items():
        try:
            fleet.apply(objs, cluster=cluster)
        except ApiError as err:
            raise InputError(f"{scenario.source}: members.{cluster}: {err}") from None
    for t in types_to_enable(scenario):
        fleet.enable(t)
    return fleet


def run_step(fleet: Fleet, step: Step, settle_timeout: float) -> StepResult:
    """One step: its action, then settling (unless ``settle: false``), then the state."""
    error = _run_step(fleet, step)
    settled = fleet.settle(settle_timeout) if step.settle else False
    return StepResult(step, snapshot(fleet, settled), error)


def run(scenario: Scenario, seed: int = 0) -> list[StepResult]:
    """Run a scenario; returns the initial state and the state after every step."""
    fleet = start(scenario, seed)
    results = [StepResult(None, snapshot(fleet, fleet.settle(scenario.settle_timeout)))]
    results += [run_step(fleet, step, scenario.settle_timeout) for step in scenario.steps]
    return results


def _label(key: tuple[str, str, str, str]) -> str:
    return f"{key[1]} {key[2] + '/' if key[2] else ''}{key[3]}"


def _replicas(obj: Mapping[str, Any] | None) -> int | None:
    spec = (obj or {}).get("spec")
    value = spec.get("replicas") if isinstance(spec, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _replicas_note(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> str:
    """`` (replicas N)`` for a created workload, `` (replicas A -> B)`` for a resized one."""
    before, after = _replicas(old), _replicas(new)
    if after is None or before == after:
        return ""
    return f" (replicas {after})" if before is None else f" (replicas {before} -> {after})"


def member_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, list[str]]]:
    """Per cluster: objects created, updated and deleted between two snapshots (a workload
    created or resized says its ``spec.replicas``)."""
    out: dict[str, dict[str, list[str]]] = {}
    for cluster, state in after["clusters"].items():
        old = {object_key(o): o for o in before["clusters"].get(cluster, {}).get("objects", [])}
        new = {object_key(o): o for o in state["objects"]}
        changes = {
            "created": [_label(k) + _replicas_note(None, new[k]) for k in sorted(new) if k not in old],
            "updated": [
                _label(k) + _replicas_note(old[k], new[k])
                for k in sorted(new)
                if k in old
                and old[k]["metadata"].get("resourceVersion") != new[k]["metadata"].get("resourceVersion")
            ],
            "deleted": [_label(k) for k in sorted(old) if k not in new],
        }
        if any(changes.values()):
            out[cluster] = changes
    return out
