"""An in-memory Kubernetes API server with the semantics federation depends on.

uid, creationTimestamp, a cluster-wide resourceVersion, generation for kinds that track
it, namespaces (refusing content in missing or terminating ones), finalizers and
deletionTimestamp, the status subresource, optimistic concurrency, label-selector list
and watch (with resumption from a resourceVersion), a minimal garbage collector, and
Service clusterIP / nodePort allocation. Faults are injected per cluster.
"""

from __future__ import annotations

import builtins
import random
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import validation as val
from kubectl_kubefed.api.names import split_api_version
from kubectl_kubefed.api.objects import Obj, copy_json, kind_of, labels_of, metadata, name_of, namespace_of
from kubectl_kubefed.core import selector as sel
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.crds import kubefed_crds
from kubectl_kubefed.sync.client import ServedKind, WatchEvent
from kubectl_kubefed.sync.clock import VirtualClock, rfc3339
from kubectl_kubefed.sync.errors import (
    AlreadyExists,
    ApiError,
    Conflict,
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    Unavailable,
)

BUILTIN_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
VERBS = ("create", "update", "delete", "get", "list", "watch")
EVENT_LOG_SIZE = 50_000

_KUBEFED_NAMESPACED = {
    names.KIND_KUBEFED_CLUSTER: True,
    names.KIND_TYPE_CONFIG: True,
    names.KIND_KUBEFED_CONFIG: True,
    names.KIND_PROPAGATED_VERSION: True,
    names.KIND_CLUSTER_PROPAGATED_VERSION: False,
    "ReplicaSchedulingPreference": True,
}
_KUBEFED_STATUS_SUBRESOURCE = {
    crd["spec"]["names"]["kind"]
    for crd in kubefed_crds()
    if crd["spec"]["group"] == names.CORE_GROUP
    and any("status" in (v.get("subresources") or {}) for v in crd["spec"]["versions"])
}
_STATUS_SUBRESOURCE_CORE = {"Service", "Namespace", "PersistentVolumeClaim"}
# Kinds of the core ("" group, v1) a kube-apiserver serves.
CORE_KINDS = frozenset(
    {
        "Binding",
        "ComponentStatus",
        "ConfigMap",
        "Endpoints",
        "Event",
        "LimitRange",
        "Namespace",
        "Node",
        "PersistentVolume",
        "PersistentVolumeClaim",
        "Pod",
        "PodTemplate",
        "ReplicationController",
        "ResourceQuota",
        "Secret",
        "Service",
        "ServiceAccount",
    }
)
FOREGROUND = "foregroundDeletion"
_MORE_BUILT_IN_KINDS = {
    "apps": {"ControllerRevision"},
    "networking.k8s.io": {"IngressClass", "IPAddress", "ServiceCIDR"},
    "storage.k8s.io": {
        "CSIDriver",
        "CSINode",
        "CSIStorageCapacity",
        "VolumeAttachment",
        "VolumeAttributesClass",
    },
}
# group -> kinds, for the built-in groups of the types KubeFed federates out of the box
BUILT_IN_KINDS: dict[str, frozenset[str]] = {
    group: frozenset(
        {t.kind for t in tc.BUILTIN_TYPES if t.group == group} | _MORE_BUILT_IN_KINDS.get(group, set())
    )
    for group in {t.group for t in tc.BUILTIN_TYPES}
}
BUILT_IN_KINDS[""] = CORE_KINDS


@dataclass(frozen=True)
class KindInfo:
    namespaced: bool
    tracks_generation: bool
    status_subresource: bool


@dataclass
class Faults:
    offline: bool = False
    error_rate: dict[str, float] = field(default_factory=dict)  # verb -> probability
    latency: float = 0.0  # virtual seconds added to every request
    missing_kinds: set[str] = field(default_factory=set)  # "group/Kind" the server does not serve


@dataclass(frozen=True)
class Rule:
    """One RBAC rule of a restricted identity: verbs on a resource (plural, "*" for any) of
    an API group, in one namespace ("" for every namespace and cluster-scoped kinds)."""

    verbs: tuple[str, ...]
    group: str
    resource: str
    namespace: str = ""

    def allows(self, verb: str, group: str, resource: str, namespace: str) -> bool:
        return (
            (verb in self.verbs or "*" in self.verbs)
            and group == self.group
            and self.resource in (resource, "*")
            and (not self.namespace or self.namespace == namespace)
        )


@dataclass
class _Watcher:
    group_kind: tuple[str, str]
    namespace: str
    selector: dict[str, Any] | None
    handler: Callable[[WatchEvent], None]
    active: bool = True


class _WatchHandle:
    def __init__(self, server: ApiServer, watcher: _Watcher) -> None:
        self._server = server
        self._watcher = watcher

    @property
    def active(self) -> bool:
        return self._watcher.active

    def stop(self) -> None:
        self._watcher.active = False
        self._server._watchers = [w for w in self._server._watchers if w is not self._watcher]


class ApiServer:
    """One cluster's state. Use a ``ClientView`` to talk to it (it counts requests)."""

    def __init__(
        self,
        name: str,
        clock: VirtualClock,
        rng: random.Random,
        kubernetes_version: str = "v1.34.4",
    ) -> None:
        self.name = name
        self.clock = clock
        self.rng = rng
        self.kubernetes_version = kubernetes_version
        self.faults = Faults()
        # As a real API server: kinds of custom groups are served only once a CRD defines
        # them (and no longer when it is deleted). Off by default: tests then use any kind.
        self.crds_required = False
        self._rv = 0
        self._objects: dict[tuple[str, str, str, str], Obj] = {}  # (group, kind, ns, name)
        self._watchers: list[_Watcher] = []
        self._log: deque[tuple[int, str, Obj, Obj | None]] = deque(maxlen=EVENT_LOG_SIZE)
        self._kinds: dict[tuple[str, str], KindInfo] = {}
        self._plurals: dict[tuple[str, str], str] = {}
        # resourceVersion at which a CRD's kind started being served: its watch history
        # (the API server's watch cache of the kind) starts there.
        self._served_since: dict[tuple[str, str], int] = {}
        self._next_ip = 10
        self._next_node_port = 30000
        self._in_namespace_controller = False
        for ns in BUILTIN_NAMESPACES:
            self._store_new(
                {
                    "apiVersion": "v1",
                    "kind": "Namespace",
                    "metadata": {"name": ns},
                    "spec": {"finalizers": ["kubernetes"]},
                    "status": {"phase": "Active"},
                }
            )

    # -- kinds --------------------------------------------------------------------

    def kind_info(self, group: str, kind: str, namespace_hint: str = "") -> KindInfo:
        known = self._kinds.get((group, kind))
        if known is not None:
            return known
        for t in tc.BUILTIN_TYPES:
            if t.group == group and t.kind == kind:
                status = t.tracks_generation or kind in _STATUS_SUBRESOURCE_CORE
                return KindInfo(t.namespaced, t.tracks_generation, status)
        if group == names.CORE_GROUP:
            # as ``kubectl kubefed init`` installs them
            return KindInfo(_KUBEFED_NAMESPACED.get(kind, True), True, kind in _KUBEFED_STATUS_SUBRESOURCE)
        if group == names.SCHEDULING_GROUP:
            return KindInfo(True, True, False)
        if kind.startswith(names.FEDERATED_PREFIX):
            target = kind[len(names.FEDERATED_PREFIX) :]
            cluster_scoped = any(
                t.kind == target and not t.namespaced and t.kind != "Namespace" for t in tc.BUILTIN_TYPES
            )
            return KindInfo(not cluster_scoped, True, True)
        if kind in ("Event", "Secret", "ConfigMap", "ServiceAccount", "Pod", "Endpoints"):
            return KindInfo(True, False, kind == "Pod")
        return KindInfo(bool(namespace_hint), True, True)

    def register_crd(self, crd: Mapping[str, Any]) -> None:
        spec = crd.get("spec") or {}
        group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
        if group and kind:
            has_status = any(
                (v.get("subresources") or {}).get("status") is not None for v in spec.get("versions") or []
            )
            if (str(group), str(kind)) not in self._kinds:
                self._served_since[(str(group), str(kind))] = self._rv
            self._kinds[(str(group), str(kind))] = KindInfo(spec.get("scope") != "Cluster", True, has_status)
            plural = (spec.get("names") or {}).get("plural")
            if plural:
                self._plurals[(str(group), str(kind))] = str(plural)

    def plural_of(self, group: str, kind: str) -> str:
        """The resource name of a kind (a CRD's spec.names.plural, else kubectl's guess)."""
        return self._plurals.get((group, kind)) or tc.pluralize(kind)

    # -- faults and counters are applied by ClientView; these are the raw operations --

    def serves(self, group: str, kind: str) -> bool:
        if f"{group}/{kind}" in self.faults.missing_kinds:
            return False
        known = BUILT_IN_KINDS.get(group)
        if self.crds_required and known is not None and kind not in known:
            return False  # a built-in group's kinds are fixed
        built_in = "." not in group or group.endswith((".k8s.io", "kubefed.io"))
        return built_in or not self.crds_required or (group, kind) in self._kinds

    def _forget_crd(self, crd: Mapping[str, Any]) -> None:
        """A deleted CRD: its kind is no longer served and its objects are gone."""
        spec = crd.get("spec") or {}
        group, kind = str(spec.get("group")), str((spec.get("names") or {}).get("kind"))
        self._kinds.pop((group, kind), None)
        self._served_since.pop((group, kind), None)
        for key, obj in list(self._objects.items()):
            if key[:2] == (group, kind):
                del self._objects[key]
                gone = copy_json(obj)
                gone["metadata"]["resourceVersion"] = self._bump()
                self._emit("DELETED", gone, obj)

    def _check_served(self, group: str, kind: str) -> None:
        if not self.serves(group, kind):
            raise NotFound(f"the server could not find the requested resource ({kind}.{group or 'core'})")

    @property
    def resource_version(self) -> int:
        """The cluster-wide resourceVersion: it moves on every change."""
        return self._rv

    def _bump(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _key(self, group: str, kind: str, namespace: str, name: str) -> tuple[str, str, str, str]:
        info = self.kind_info(group, kind, namespace)
        return (group, kind, namespace if info.namespaced else "", name)

    def _emit(self, event_type: str, obj: Obj, old: Obj | None = None) -> None:
        rv = int(metadata(obj).get("resourceVersion") or self._rv)
        self._log.append((rv, event_type, obj, old))
        for watcher in list(self._watchers):
            self._deliver(watcher, event_type, obj, old)

    def _deliver(self, watcher: _Watcher, event_type: str, obj: Obj, old: Obj | None) -> None:
        if not watcher.active or (
            watcher.group_kind != (split_api_version(str(obj.get("apiVersion")))[0], kind_of(obj))
        ):
            return
        if watcher.namespace and namespace_of(obj) != watcher.namespace:
            return
        matches_now = watcher.selector is None or sel.matches(watcher.selector, labels_of(obj))
        matched_before = old is not None and (
            watcher.selector is None or sel.matches(watcher.selector, labels_of(old))
        )
        if event_type == "MODIFIED":
            # A label-selector watch sees objects entering and leaving the selection.
            if matches_now and not matched_before:
                event_type = "ADDED"
            elif matched_before and not matches_now:
                event_type = "DELETED"
            elif not matches_now:
                return
        elif not matches_now:
            return
        watcher.handler(WatchEvent(event_type, copy_json(obj)))

    def _store_new(self, obj: Obj) -> Obj:
        group = split_api_version(str(obj.get("apiVersion")))[0]
        meta = obj["metadata"]
        info = self.kind_info(group, kind_of(obj), namespace_of(obj))
        if not info.namespaced:
            meta.pop("namespace", None)
        meta["uid"] = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        meta["creationTimestamp"] = rfc3339(self.clock.now())
        meta["resourceVersion"] = self._bump()
        if info.tracks_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        self._objects[self._key(group, kind_of(obj), namespace_of(obj), name_of(obj))] = obj
        self._emit("ADDED", obj)
        return obj

    # -- verbs ----------------------------------------------------------------------

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        group = split_api_version(api_version)[0]
        self._check_served(group, kind)
        obj = self._objects.get(self._key(group, kind, namespace, name))
        if obj is None:
            raise NotFound(f'{kind} "{name}" not found')
        return copy_json(obj)

    def list(
        self, api_version: str, kind: str, namespace: str = "", label_selector: str = ""
    ) -> tuple[builtins.list[Obj], str]:
        group = split_api_version(api_version)[0]
        self._check_served(group, kind)
        selector = sel.parse(label_selector) if label_selector else None
        out = [
            copy_json(o)
            for (g, k, ns, _), o in self._objects.items()
            if g == group
            and k == kind
            and (not namespace or ns == namespace)
            and (selector is None or sel.matches(selector, labels_of(o)))
        ]
        out.sort(key=lambda o: (namespace_of(o), name_of(o)))
        return out, str(self._rv)

    def watch(
        self,
        api_version: str,
        kind: str,
        handler: Callable[[WatchEvent], None],
        *,
        namespace: str = "",
        label_selector: str = "",
        resource_version: str = "",
    ) -> _WatchHandle:
        group = split_api_version(api_version)[0]
        self._check_served(group, kind)
        watcher = _Watcher(
            (group, kind), namespace, sel.parse(label_selector) if label_selector else None, handler
        )
        if resource_version:
            since = int(resource_version)
            oldest = max(self._log[0][0] - 1 if self._log else 0, self._served_since.get((group, kind), 0))
            if since < oldest and since < self._rv:
                # As the API server's watch cache: the request succeeds, and the watch ends
                # at once with an ERROR event, 410 Expired (the client re-lists).
                handler(WatchEvent("ERROR", {"code": Gone.code, "reason": Gone.reason}))
                watcher.active = False
                return _WatchHandle(self, watcher)
            for rv, event_type, obj, old in list(self._log):
                if rv > since:
                    self._deliver(watcher, event_type, obj, old)
        self._watchers.append(watcher)
        return _WatchHandle(self, watcher)

    def disconnect_watches(self) -> None:
        """Every open watch ends, as on an API server restart or a network blip."""
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            watcher.active = False
            watcher.handler(WatchEvent("ERROR", {}))

    def create(self, obj: Mapping[str, Any]) -> Obj:
        new = copy_json(dict(obj))
        group = split_api_version(str(new.get("apiVersion") or ""))[0]
        kind = kind_of(new)
        self._check_served(group, kind)
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            raise Invalid("metadata is required")
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = f"{meta['generateName']}{self.rng.getrandbits(20):05x}"[:63]
        if not meta.get("name"):
            raise Invalid(f"{kind}: metadata.name is required")
        if (problem := val.object_name(group, kind, meta["name"])) is not None:
            # As the API server: custom resources (Federated<Kind>) need DNS-1123 subdomains.
            raise Invalid(f'{kind} "{meta["name"]}" is invalid: metadata.name: {problem}')
        info = self.kind_info(group, kind, namespace_of(new))
        namespace = namespace_of(new)
        if info.namespaced:
            if not namespace:
                raise Invalid(f"{kind} {meta['name']}: metadata.namespace is required")
            ns = self._objects.get(("", "Namespace", "", namespace))
            if ns is None:
                raise NotFound(f'namespaces "{namespace}" not found')
            if metadata(ns).get("deletionTimestamp"):
                raise Forbidden(
                    f"unable to create new content in namespace {namespace} because it is being terminated"
                )
        if self._key(group, kind, namespace, meta["name"]) in self._objects:
            raise AlreadyExists(f'{kind} "{meta["name"]}" already exists')
        for key in ("uid", "resourceVersion", "deletionTimestamp", "generation"):
            meta.pop(key, None)
        if info.status_subresource and kind != "Namespace":
            new.pop("status", None)
        if kind == "Namespace":
            new.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
            new["status"] = {"phase": "Active"}
        if kind == "Service":
            self._allocate_service(new, None)
        if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            self.register_crd(new)
        return copy_json(self._store_new(new))

    def _allocate_service(self, svc: Obj, old: Obj | None) -> None:
        if svc.get("spec") is None:
            svc["spec"] = {}  # spec: null is no spec, as for the API server
        spec = svc["spec"]
        ports = spec.get("ports") if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(ports or [], list):
            raise Invalid(f'Service "{name_of(svc)}": spec: expected a map with a list of ports')
        if not all(isinstance(p, dict) for p in ports or []):
            raise Invalid(f'Service "{name_of(svc)}": spec.ports: Invalid value: expected objects')
        old_spec = (old or {}).get("spec") or {}
        if spec.get("type") == "ExternalName":
            return
        if old is not None and not spec.get("clusterIP"):
            spec["clusterIP"] = old_spec.get("clusterIP")
            spec["clusterIPs"] = old_spec.get("clusterIPs")
        if old is not None and spec.get("clusterIP") != old_spec.get("clusterIP"):
            raise Invalid(f'Service "{name_of(svc)}": spec.clusterIP: field is immutable')
        if not spec.get("clusterIP"):
            self._next_ip += 1
            spec["clusterIP"] = f"10.96.{self._next_ip // 250}.{self._next_ip % 250 + 1}"
            spec["clusterIPs"] = [spec["clusterIP"]]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            old_ports = {(p.get("port"), p.get("protocol") or "TCP"): p for p in old_spec.get("ports") or []}
            for port in spec.get("ports") or []:
                if not port.get("nodePort"):
                    previous = old_ports.get((port.get("port"), port.get("protocol") or "TCP"), {})
                    if previous.get("nodePort"):
                        port["nodePort"] = previous["nodePort"]
                    else:
                        self._next_node_port += 1
                        port["nodePort"] = self._next_node_port

    def _current(self, obj: Mapping[str, Any]) -> tuple[tuple[str, str, str, str], Obj]:
        group = split_api_version(str(obj.get("apiVersion") or ""))[0]
        self._check_served(group, kind_of(obj))
        key = self._key(group, kind_of(obj), namespace_of(obj), name_of(obj))
        current = self._objects.get(key)
        if current is None:
            raise NotFound(f'{kind_of(obj)} "{name_of(obj)}" not found')
        rv = metadata(obj).get("resourceVersion")
        if rv and rv != metadata(current).get("resourceVersion"):
            raise Conflict(
                f'Operation cannot be fulfilled on {kind_of(obj)} "{name_of(obj)}": '
                "the object has been modified; please apply your changes to the latest version and try again"
            )
        return key, current

    def update(self, obj: Mapping[str, Any]) -> Obj:
        key, current = self._current(obj)
        new = copy_json(dict(obj))
        group, kind = key[0], key[1]
        info = self.kind_info(group, kind, key[2])
        meta = new.setdefault("metadata", {})
        old_meta = current["metadata"]
        for k in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if k in old_meta:
                meta[k] = old_meta[k]
            else:
                meta.pop(k, None)
        if info.namespaced:
            meta["namespace"] = key[2]
        if info.status_subresource:
            if "status" in current:
                new["status"] = copy_json(current["status"])
            else:
                new.pop("status", None)
        if kind == "Service":
            self._allocate_service(new, current)
        meta["resourceVersion"] = old_meta["resourceVersion"]
        if new == current:
            return copy_json(current)  # a no-op update does not bump the resourceVersion
        if info.tracks_generation and _spec_of(new) != _spec_of(current):
            meta["generation"] = int(old_meta.get("generation") or 0) + 1
        meta["resourceVersion"] = self._bump()
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            del self._objects[key]
            self._emit("DELETED", new, current)
            self._collect_garbage()
            self._finish_namespaces()  # the last content of a terminating namespace may be gone
            return copy_json(new)
        self._objects[key] = new
        if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            self.register_crd(new)
        self._emit("MODIFIED", new, current)
        return copy_json(new)

    def update_status(self, obj: Mapping[str, Any]) -> Obj:
        key, current = self._current(obj)
        if not self.kind_info(key[0], key[1], key[2]).status_subresource:
            # No /status endpoint for a kind without the subresource: 404, as the API server.
            raise NotFound(f"the server could not find the requested resource ({key[1]}/status)")
        new = copy_json(current)
        new["status"] = copy_json(obj.get("status"))
        if new == current:
            return copy_json(current)
        new["metadata"]["resourceVersion"] = self._bump()
        self._objects[key] = new
        self._emit("MODIFIED", new, current)
        return copy_json(new)

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        group = split_api_version(api_version)[0]
        self._check_served(group, kind)
        key = self._key(group, kind, namespace, name)
        current = self._objects.get(key)
        if current is None:
            raise NotFound(f'{kind} "{name}" not found')
        options = options or {}
        preconditions = options.get("preconditions") or {}
        meta = current["metadata"]
        if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
            raise Conflict(f"precondition failed: uid in precondition: {preconditions['uid']}")
        if preconditions.get("resourceVersion") and preconditions["resourceVersion"] != meta.get(
            "resourceVersion"
        ):
            raise Conflict("precondition failed: resourceVersion")
        if options.get("propagationPolicy") == "Orphan":
            self._orphan_dependents(str(meta.get("uid")))
        elif options.get("propagationPolicy") == "Foreground" and self._dependents(str(meta.get("uid"))):
            self._delete_in_foreground(key, current)
            return
        if kind == "Namespace" and (current.get("spec") or {}).get("finalizers"):
            self._terminate(key, current)
            self._finish_namespaces()
            return
        if meta.get("finalizers"):
            self._terminate(key, current)
            return
        del self._objects[key]
        self._bump()
        gone = copy_json(current)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._emit("DELETED", gone, current)
        if (group, kind) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            self._forget_crd(current)
        self._collect_garbage()
        self._finish_namespaces()

    def _terminate(self, key: tuple[str, str, str, str], current: Obj) -> None:
        if current["metadata"].get("deletionTimestamp"):
            return
        new = copy_json(current)
        new["metadata"]["deletionTimestamp"] = rfc3339(self.clock.now())
        new["metadata"]["deletionGracePeriodSeconds"] = 0
        if new["metadata"].get("generation"):  # the deletion is a change of the object's intent
            new["metadata"]["generation"] = int(new["metadata"]["generation"]) + 1
        if key[1] == "Namespace":
            new["status"] = {"phase": "Terminating"}
        new["metadata"]["resourceVersion"] = self._bump()
        self._objects[key] = new
        self._emit("MODIFIED", new, current)

    def _finish_namespaces(self) -> None:
        """The namespace controller: empty terminating namespaces, then remove them."""
        if self._in_namespace_controller:
            return
        self._in_namespace_controller = True
        try:
            self._namespace_controller()
        finally:
            self._in_namespace_controller = False

    def _namespace_controller(self) -> None:
        for key, ns in list(self._objects.items()):
            if key[1] != "Namespace" or not metadata(ns).get("deletionTimestamp"):
                continue
            content = [
                k for k in self._objects if k[2] == key[3] and self.kind_info(k[0], k[1], k[2]).namespaced
            ]
            for k in content:
                obj = self._objects.get(k)
                if obj is not None and not metadata(obj).get("deletionTimestamp"):
                    self.delete(obj["apiVersion"], k[1], k[2], k[3])
            if any(k[2] == key[3] and self.kind_info(k[0], k[1], k[2]).namespaced for k in self._objects):
                continue
            if metadata(ns).get("finalizers") or key not in self._objects:
                continue
            current = self._objects.pop(key)
            self._bump()
            gone = copy_json(current)
            gone["metadata"]["resourceVersion"] = str(self._rv)
            self._emit("DELETED", gone, current)

    def _dependents(self, uid: str, blocking: bool = False) -> builtins.list[tuple[str, str, str, str]]:
        return [
            key
            for key, obj in self._objects.items()
            if any(
                r.get("uid") == uid and (r.get("blockOwnerDeletion") or not blocking)
                for r in metadata(obj).get("ownerReferences") or []
            )
        ]

    def _delete_in_foreground(self, key: tuple[str, str, str, str], current: Obj) -> None:
        """Foreground deletion: the owner gets the ``foregroundDeletion`` finalizer and a
        deletionTimestamp, its dependents are deleted (in the foreground too), and the
        owner goes once no dependent blocking its deletion is left (the garbage collector)."""
        if not current["metadata"].get("deletionTimestamp"):
            new = copy_json(current)
            finalizers = [f for f in new["metadata"].get("finalizers") or [] if f != FOREGROUND]
            new["metadata"]["finalizers"] = [*finalizers, FOREGROUND]
            new["metadata"]["deletionTimestamp"] = rfc3339(self.clock.now())
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            if new["metadata"].get("generation"):
                new["metadata"]["generation"] = int(new["metadata"]["generation"]) + 1
            new["metadata"]["resourceVersion"] = self._bump()
            self._objects[key] = new
            self._emit("MODIFIED", new, current)
        for dependent in self._dependents(str(current["metadata"].get("uid"))):
            obj = self._objects.get(dependent)
            if obj is not None and not metadata(obj).get("deletionTimestamp"):
                self.delete(obj["apiVersion"], *dependent[1:], {"propagationPolicy": "Foreground"})
        self._finish_foreground()

    def _finish_foreground(self) -> None:
        for key, obj in list(self._objects.items()):
            meta = metadata(obj)
            if FOREGROUND not in (meta.get("finalizers") or []) or self._objects.get(key) is not obj:
                continue
            if self._dependents(str(meta.get("uid")), blocking=True):
                continue
            done = copy_json(obj)
            done["metadata"]["finalizers"] = [f for f in meta["finalizers"] if f != FOREGROUND]
            self.update(done)

    def _orphan_dependents(self, uid: str) -> None:
        for key, obj in list(self._objects.items()):
            refs = metadata(obj).get("ownerReferences") or []
            if any(r.get("uid") == uid for r in refs):
                new = copy_json(obj)
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                if not new["metadata"]["ownerReferences"]:
                    del new["metadata"]["ownerReferences"]
                new["metadata"]["resourceVersion"] = self._bump()
                self._objects[key] = new
                self._emit("MODIFIED", new, obj)

    def _collect_garbage(self) -> None:
        """Delete objects whose owners are all gone (background propagation)."""
        while True:
            uids = {str(metadata(o).get("uid")) for o in self._objects.values()}
            orphans = [
                (k, o)
                for k, o in self._objects.items()
                if (refs := metadata(o).get("ownerReferences"))
                and not any(str(r.get("uid")) in uids for r in refs)
                and not metadata(o).get("deletionTimestamp")
            ]
            if not orphans:
                self._finish_foreground()
                return
            for key, obj in orphans:
                if key in self._objects:
                    self.delete(obj["apiVersion"], key[1], key[2], key[3])

    # -- inspection (no faults, no counting) ----------------------------------------

    def objects(self) -> builtins.list[Obj]:
        return [copy_json(o) for o in self._objects.values()]


def _spec_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class ClientView:
    """A ClusterClient onto an ApiServer: applies faults and counts requests by verb.

    A cluster that is both host and member gets two views, so that the requests it
    serves as a member are counted apart from the control plane's own.
    """

    def __init__(
        self, server: ApiServer, name: str | None = None, rules: builtins.list[Rule] | None = None
    ) -> None:
        self.server = server
        self.name = name or server.name
        # None: an administrator; else the identity may do only what a rule allows, like
        # a ServiceAccount bound to a Role on a real cluster (anything else is Forbidden).
        self.rules = rules
        self.requests: dict[str, int] = dict.fromkeys(VERBS, 0)
        # The network between this client and the server is cut (the server itself is up):
        # requests fail and the watches opened through this view end and deliver nothing.
        self.link_down = False
        self._watches: builtins.list[tuple[_WatchHandle, Callable[[WatchEvent], None]]] = []
        # Counted under "update" too; kept apart by kind for benchmarks.
        self.status_updates: dict[str, int] = {}
        # (verb, kind, namespace) of every list and watch; namespace "" is cluster-wide.
        self.read_scopes: set[tuple[str, str, str]] = set()

    def _authorize(self, verb: str, api_version: str, kind: str, namespace: str) -> None:
        if self.rules is None:
            return
        group = split_api_version(api_version)[0]
        resource = self.server.plural_of(group, kind)
        if not self.server.kind_info(group, kind, namespace).namespaced:
            namespace = ""
        if any(r.allows(verb, group, resource, namespace) for r in self.rules):
            return
        where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
        raise Forbidden(
            f'{resource} is forbidden: User "system:serviceaccount:{self.name}" cannot {verb} '
            f'resource "{resource}" in API group "{group}"{where}'
        )

    def _enter(self, verb: str, api_version: str = "", kind: str = "", namespace: str = "") -> None:
        self.requests[verb] = self.requests.get(verb, 0) + 1
        faults = self.server.faults
        if faults.latency:
            self.server.clock.advance(faults.latency)
        if faults.offline:
            raise Unavailable(f"dial tcp: connect: connection refused (cluster {self.name} is offline)")
        if self.link_down:
            raise Unavailable(f"dial tcp: i/o timeout (no route to cluster {self.server.name})")
        rate = faults.error_rate.get(verb, 0.0)
        if rate and self.server.rng.random() < rate:
            raise ApiError(f"injected {verb} error in cluster {self.name}")
        if kind:
            self._authorize(verb, api_version, kind, namespace)

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        self._enter("get", api_version, kind, namespace)
        return self.server.get(api_version, kind, namespace, name)

    def list(
        self, api_version: str, kind: str, namespace: str = "", label_selector: str = ""
    ) -> tuple[builtins.list[Obj], str]:
        self._enter("list", api_version, kind, namespace)
        self.read_scopes.add(("list", kind, namespace))
        return self.server.list(api_version, kind, namespace, label_selector)

    def watch(
        self,
        api_version: str,
        kind: str,
        handler: Callable[[WatchEvent], None],
        *,
        namespace: str = "",
        label_selector: str = "",
        resource_version: str = "",
    ) -> _WatchHandle:
        self._enter("watch", api_version, kind, namespace)
        self.read_scopes.add(("watch", kind, namespace))
        view = self

        def guarded(event: WatchEvent) -> None:
            # An offline cluster delivers nothing; its watches are ended when it goes offline.
            if (not view.server.faults.offline and not view.link_down) or event.type == "ERROR":
                handler(event)

        handle = self.server.watch(
            api_version,
            kind,
            guarded,
            namespace=namespace,
            label_selector=label_selector,
            resource_version=resource_version,
        )
        self._watches = [(h, f) for h, f in self._watches if h.active]
        self._watches.append((handle, guarded))
        return handle

    def set_link(self, up: bool) -> None:
        """Cut (or restore) the network between this client and its server."""
        was_down, self.link_down = self.link_down, not up
        if not up and not was_down:
            watches, self._watches = self._watches, []
            for handle, handler in watches:
                if handle.active:
                    handle.stop()
                    handler(WatchEvent("ERROR", {}))

    def create(self, obj: Mapping[str, Any]) -> Obj:
        self._enter("create", str(obj.get("apiVersion") or ""), kind_of(obj), namespace_of(obj))
        return self.server.create(obj)

    def update(self, obj: Mapping[str, Any]) -> Obj:
        self._enter("update", str(obj.get("apiVersion") or ""), kind_of(obj), namespace_of(obj))
        return self.server.update(obj)

    def update_status(self, obj: Mapping[str, Any]) -> Obj:
        self.status_updates[kind_of(obj)] = self.status_updates.get(kind_of(obj), 0) + 1
        self._enter("update", str(obj.get("apiVersion") or ""), kind_of(obj), namespace_of(obj))
        return self.server.update_status(obj)

    def delete(
        self,
        api_version: str,
        kind: str,
        namespace: str,
        name: str,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self._enter("delete", api_version, kind, namespace)
        self.server.delete(api_version, kind, namespace, name, options)

    def served(self, api_version: str, kind: str) -> ServedKind:
        self._enter("get")  # a discovery request
        group = split_api_version(api_version)[0]
        self.server._check_served(group, kind)
        info = self.server.kind_info(group, kind)
        return ServedKind(api_version, kind, self.server.plural_of(group, kind), info.namespaced)

    def healthz(self) -> str:
        faults = self.server.faults
        if faults.latency:
            self.server.clock.advance(faults.latency)
        if faults.offline:
            raise Unavailable(f'Get "https://{self.name}/healthz": connection refused')
        if self.link_down:
            raise Unavailable(f'Get "https://{self.name}/healthz": dial tcp: i/o timeout')
        return "ok"

    def version(self) -> Mapping[str, Any]:
        if self.server.faults.offline or self.link_down:
            raise Unavailable("connection refused")
        major, minor = self.server.kubernetes_version.lstrip("v").split(".")[:2]
        return {"major": major, "minor": minor, "gitVersion": self.server.kubernetes_version}
