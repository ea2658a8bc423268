"""The per-cluster syncer: make one member cluster hold what a federated object asks for.

Create (adopting an existing object when allowed), update when the recorded version says
the member drifted, delete (never the host's own namespace, never a namespace holding
objects kubefed does not manage), or stop managing (remove the managed label). Every
operation returns one ``OpResult``: the cluster's status code, message and the member
version to record. The syncer knows nothing of placement or of other clusters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import (
    Obj,
    deep_copy,
    ensure_metadata,
    labels_of,
    metadata,
    name_of,
    namespace_of,
)
from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import versions as ver
from kubectl_kubefed.core.member import desired_object
from kubectl_kubefed.core.naming import member_name
from kubectl_kubefed.core.ownership import describe_some, unmanaged
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, NotFound
from kubectl_kubefed.sync.events import Recorder
from kubectl_kubefed.sync.informer import Informer

CRD_GROUP_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")

# The status a member operation that did not finish in time is reported with.
TIMEOUT_STATUS = {
    "create": st.CREATION_TIMED_OUT,
    "update": st.UPDATE_TIMED_OUT,
    "delete": st.DELETION_TIMED_OUT,
    "unlabel": st.LABEL_REMOVAL_TIMED_OUT,
}


@dataclass
class OpResult:
    cluster: str
    status: str = st.OK
    message: str = ""
    version: str | None = None  # member version to record, when the op produced one
    report: bool = True  # False: no status.clusters entry (e.g. label removed from host namespace)


def api_message(err: Exception) -> str:
    return str(err).splitlines()[0][:300]


def is_terminating(obj: Mapping[str, Any]) -> bool:
    return bool(metadata(obj).get("deletionTimestamp"))


def member_ref(target: TypeConfig, namespace: str, name: str) -> tuple[str, str]:
    """(namespace, name) of the member object for a (namespace, member name) pair."""
    if target.kind == "Namespace" or not target.namespaced:
        return ("", name)
    return (namespace, name)


def describe(target: TypeConfig, fed: Obj) -> str:
    ns = namespace_of(fed)
    prefix = ns + "/" if ns and target.kind != "Namespace" else ""
    return f'{target.kind} "{prefix}{member_name(fed)}"'


@dataclass(frozen=True)
class MemberAccess:
    """What a syncer needs of whoever runs it: the host's controller (push) and the agent
    in the member (pull) each provide one, so both run the same operations."""

    cluster: str
    client: Callable[[], ClusterClient]  # raises ClientConfigError
    recorder: Recorder  # events about the federated object (or the agent's Work)
    adopt_resources: bool
    enabled_types: Callable[[], list[TypeConfig]]  # types whose objects a namespace may hold
    crd_written: Callable[[], None]  # custom resources waiting for a CRD may try again


class ClusterSyncer:
    """The operations on one member cluster for one federated type; ``cache`` is that
    cluster's shared cache of the managed objects (our own writes are recorded in it)."""

    def __init__(self, access: MemberAccess, target: TypeConfig, cache: Informer | None) -> None:
        self.access = access
        self.target = target
        self.cluster = access.cluster
        self.cache = cache

    def _client(self) -> ClusterClient:
        return self.access.client()

    def _event(self, fed: Obj | None, type_: str, reason: str, message: str) -> None:
        if fed is not None:
            self.access.recorder.event(fed, type_, reason, message)

    def _record_in_cache(self, obj: Obj) -> None:
        if self.cache is None:
            return
        if labels_of(obj).get(names.MANAGED_LABEL) == "true":
            self.cache.put(obj)
        else:
            self.cache.forget(namespace_of(obj), name_of(obj))

    def _result(self, status: str = st.OK, message: str = "", **kw: Any) -> OpResult:
        return OpResult(self.cluster, status, message, **kw)

    # -- create and update ------------------------------------------------------------

    def create(self, fed: Obj, recorded: dict[str, str], host_ns_uid: str) -> OpResult:
        try:
            member = desired_object(fed, self.target, self.cluster)
        except ov.OverridesError as err:
            return self._overrides_failed(fed, err)
        self._warn(fed, member.warnings)
        try:
            client = self._client()
            created = client.create(member.obj)
        except ClientConfigError as err:
            return self._result(st.CLIENT_RETRIEVAL_FAILED, str(err))
        except AlreadyExists:
            try:
                live = client.get(
                    self.target.api_version,
                    self.target.kind,
                    *member_ref(self.target, namespace_of(member.obj), name_of(member.obj)),
                )
            except ApiError as err:
                return self._result(st.RETRIEVAL_FAILED, api_message(err))
            is_host_ns = bool(host_ns_uid) and metadata(live).get("uid") == host_ns_uid
            if not self.access.adopt_resources and not is_host_ns:
                return self._result(st.ALREADY_EXISTS, "the object exists and adoptResources is Disabled")
            self._event(
                fed,
                "Warning",
                "CreateInClusterFailed",
                "An update will be attempted instead of a creation due to an existing resource",
            )
            return self.update(fed, live, recorded)
        except ApiError as err:
            return self._failed(fed, "CreateInClusterFailed", "create", st.CREATION_FAILED, err)
        return self._written(fed, "CreateInCluster", "Creating", created)

    def update(self, fed: Obj, live: Obj, recorded: dict[str, str]) -> OpResult:
        if labels_of(live).get(names.MANAGED_LABEL) == "false":
            return self._result(
                st.MANAGED_LABEL_FALSE, f'the object is labelled {names.MANAGED_LABEL}: "false"'
            )
        try:
            member = desired_object(fed, self.target, self.cluster, live)
        except ov.OverridesError as err:
            return self._overrides_failed(fed, err)
        self._warn(fed, member.warnings)
        if not ver.update_needed(recorded.get(self.cluster, ""), member.obj, live):
            return self._result(st.OK)
        try:
            updated = self._client().update(member.obj)
        except ClientConfigError as err:
            return self._result(st.CLIENT_RETRIEVAL_FAILED, str(err))
        except ApiError as err:
            return self._failed(fed, "UpdateInClusterFailed", "update", st.UPDATE_FAILED, err)
        return self._written(fed, "UpdateInCluster", "Updating", updated)

    def _failed(self, fed: Obj, reason: str, doing: str, status: str, err: Exception) -> OpResult:
        message = api_message(err)
        self._event(
            fed,
            "Warning",
            reason,
            f'Failed to {doing} {describe(self.target, fed)} in cluster "{self.cluster}": {message}',
        )
        return self._result(status, message)

    def _written(self, fed: Obj, reason: str, doing: str, obj: Obj) -> OpResult:
        self._record_in_cache(obj)
        if (self.target.group, self.target.kind) == CRD_GROUP_KIND:
            self.access.crd_written()
        self._event(
            fed, "Normal", reason, f'{doing} {describe(self.target, fed)} in cluster "{self.cluster}"'
        )
        return self._result(st.OK, version=ver.object_version(obj))

    def _overrides_failed(self, fed: Obj, err: ov.OverridesError) -> OpResult:
        if isinstance(err, ov.IdentityChangeError):
            # An attempt to reach another object: say so where the owner looks, not only in status.
            self._event(fed, "Warning", st.APPLY_OVERRIDES_FAILED, str(err))
        return self._result(st.APPLY_OVERRIDES_FAILED, str(err))

    def _warn(self, fed: Obj, warnings: list[str]) -> None:
        for warning in warnings:
            reason, _, message = warning.partition(": ")
            self._event(fed, "Warning", reason, message)

    # -- stop managing, delete --------------------------------------------------------

    def unlabel(self, fed: Obj | None, obj: Obj) -> OpResult:
        """Stop managing an object without deleting it."""
        copy_ = deep_copy(obj)
        labels = ensure_metadata(copy_).get("labels") or {}
        labels.pop(names.MANAGED_LABEL, None)
        ensure_metadata(copy_)["labels"] = labels
        try:
            updated = self._client().update(copy_)
        except NotFound:
            return self._result(report=False)
        except (ApiError, ClientConfigError) as err:
            self._event(fed, "Warning", "RemoveManagedLabelFromInClusterFailed", api_message(err))
            return self._result(st.LABEL_REMOVAL_FAILED, api_message(err))
        self._record_in_cache(updated)
        if fed is not None:
            self._event(
                fed,
                "Normal",
                "RemoveManagedLabelFromInCluster",
                f'Removing managed label from {describe(self.target, fed)} in cluster "{self.cluster}"',
            )
        return self._result(report=False)

    def remove(self, fed: Obj, obj: Obj, host_ns_uid: str, options: Mapping[str, Any] | None) -> OpResult:
        """Delete from the cluster (the host namespace is only unlabelled, never deleted)."""
        if host_ns_uid and metadata(obj).get("uid") == host_ns_uid:
            return self.unlabel(fed, obj)
        if self.target.kind == "Namespace":
            kept = self._keep_namespace(fed, obj)
            if kept is not None:
                return kept
        try:
            self._client().delete(
                self.target.api_version, self.target.kind, namespace_of(obj), name_of(obj), options
            )
        except NotFound:
            return self._result(report=False)
        except (ApiError, ClientConfigError) as err:
            self._event(
                fed,
                "Warning",
                "DeleteInClusterFailed",
                f'Failed to delete {describe(self.target, fed)} in cluster "{self.cluster}": '
                f"{api_message(err)}",
            )
            return self._result(st.DELETION_FAILED, api_message(err))
        self._event(
            fed,
            "Normal",
            "DeleteInCluster",
            f'Deleting {describe(self.target, fed)} in cluster "{self.cluster}"',
        )
        return self._result(st.WAITING_FOR_REMOVAL)

    def _keep_namespace(self, fed: Obj, ns: Obj) -> OpResult | None:
        """A member namespace that holds objects kubefed does not manage is not deleted
        (that would delete them too): it is unlabelled and reported. Only the enabled
        namespaced types are inspected (the controller may read those). None: delete it."""
        found: list[Obj] = []
        try:
            client = self._client()
            for target in self.access.enabled_types():
                if target.namespaced and target.kind != "Namespace":
                    try:
                        objs, _ = client.list(target.api_version, target.kind, name_of(ns))
                    except NotFound:
                        continue  # a type this member does not serve holds nothing
                    found.extend(o for o in objs if unmanaged(o))
        except (ApiError, ClientConfigError) as err:
            return self._result(
                st.RETRIEVAL_FAILED,
                f"cannot tell whether the namespace holds objects kubefed does not manage, "
                f"so it is not deleted yet: {api_message(err)}",
            )
        if not found:
            return None
        unlabelled = self.unlabel(fed, ns)
        if unlabelled.status:
            return unlabelled
        message = (
            f"namespace kept and no longer managed: it holds objects kubefed does not manage "
            f"({describe_some(found)}); delete them and the namespace by hand to remove it"
        )
        self._event(fed, "Warning", st.UNMANAGED_OBJECTS_IN_NAMESPACE, f'cluster "{self.cluster}": {message}')
        return self._result(st.UNMANAGED_OBJECTS_IN_NAMESPACE, message)
