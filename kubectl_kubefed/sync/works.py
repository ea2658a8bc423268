"""The host's side of pull propagation for one federated type: Works instead of member writes.

For a pull cluster the propagation controller does not write the member: it makes the
cluster's Work ask for the federated object's template and that cluster's overrides
(``core.work``), and reads back what the cluster's agent reported, as the same
``OpResult`` a push syncer returns. Status aggregation and PropagatedVersions therefore
cannot tell the two modes apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import Obj, metadata, name_of, namespace_of
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, Conflict, NotFound
from kubectl_kubefed.sync.informer import Handler, Informer
from kubectl_kubefed.sync.runtime import Runtime
from kubectl_kubefed.sync.syncer import OpResult, api_message

Key = tuple[str, str]


def federated_key(work: Mapping[str, Any]) -> Key:
    ref = (work.get("spec") or {}).get("federated") or {}
    return (str(ref.get("namespace") or ""), str(ref.get("name") or ""))


class HostWorks:
    """The Works of one federated type in every pull cluster's namespace on the host."""

    def __init__(self, rt: Runtime, target: TypeConfig, on_event: Handler) -> None:
        self.rt = rt
        self.target = target
        self.informer = Informer(
            rt.host,
            names.WORK_API_VERSION,
            names.KIND_WORK,
            label_selector=f"{names.WORK_TYPE_LABEL}={wk.type_label(target)}",
            on_event=on_event,
        )
        self.started = False

    def ensure(self) -> bool:
        """Start the cache when the first pull cluster needs it; whether it is synced."""
        if not self.started:
            self.started = True
            self.informer.start()
        else:
            self.informer.ensure()
        return self.informer.synced

    def stop(self) -> None:
        if self.started:
            self.informer.stop()
            self.started = False

    def _name(self, key: Key) -> str:
        return wk.work_name(self.target, *key)

    def get(self, cluster: str, key: Key) -> Obj | None:
        return self.informer.get(wk.cluster_namespace(cluster), self._name(key))

    def _result(self, cluster: str, status: str = st.OK, message: str = "", **kw: Any) -> OpResult:
        return OpResult(cluster, status, message, **kw)

    def sync(self, fed: Obj, cluster: str) -> OpResult:
        """Make the Work ask for what ``fed`` gives ``cluster``; what its agent reported."""
        key = (namespace_of(fed), name_of(fed))
        desired = wk.build(fed, self.target, cluster)
        current = self.get(cluster, key)
        try:
            if current is None:
                try:
                    current = self.rt.host.create(desired)
                except AlreadyExists:
                    current = self.rt.host.get(
                        names.WORK_API_VERSION,
                        names.KIND_WORK,
                        wk.cluster_namespace(cluster),
                        self._name(key),
                    )
                self.informer.put(current)
            if metadata(current).get("deletionTimestamp"):
                # Released a moment ago (e.g. placement flapped): ask again once the agent let go.
                return self._result(cluster, st.WAITING_FOR_REMOVAL)
            if current.get("spec") != desired["spec"]:
                current = self.rt.host.update(wk.with_spec(current, desired["spec"]))
                self.informer.put(current)
        except NotFound:
            # The cluster's namespace is gone: it is being unjoined.
            return self._result(cluster, st.CREATION_FAILED, f"no namespace {wk.cluster_namespace(cluster)}")
        except Conflict as err:
            return self._result(cluster, st.UPDATE_FAILED, api_message(err))
        except ApiError as err:
            return self._result(cluster, st.CREATION_FAILED, api_message(err))
        result = wk.result_of(current)
        version = result.version if not result.status and result.version else None
        return self._result(cluster, result.status, result.message, version=version)

    def release(
        self,
        cluster: str,
        key: Key,
        *,
        orphan: bool = False,
        delete_options: Mapping[str, Any] | None = None,
    ) -> OpResult:
        """Delete the Work: its agent deletes the member object (or, ``orphan``, only
        removes the managed label) and then lets the Work go. WaitingForRemoval while the
        Work exists; no report once it is gone."""
        current = self.get(cluster, key)
        if current is None:
            return self._result(cluster, report=False)
        try:
            terminating = metadata(current).get("deletionTimestamp") is not None
            # How to let go is said before the deletion; later only an orphan request changes it.
            if (not terminating or orphan) and not wk.asks_release(
                current, orphan=orphan, delete_options=delete_options
            ):
                current = self.rt.host.update(
                    wk.releasing(current, orphan=orphan, delete_options=delete_options)
                )
                self.informer.put(current)
            if metadata(current).get("deletionTimestamp") is None:
                self.rt.host.delete(
                    names.WORK_API_VERSION, names.KIND_WORK, namespace_of(current), name_of(current), None
                )
        except NotFound:
            self.informer.forget(namespace_of(current), name_of(current))
            return self._result(cluster, report=False)
        except ApiError as err:
            return self._result(cluster, st.DELETION_FAILED, api_message(err))
        return self._result(cluster, st.WAITING_FOR_REMOVAL)

    def gone(self, cluster: str, key: Key) -> bool:
        """Whether the host confirms the Work no longer exists (not only the cache)."""
        try:
            self.rt.host.get(
                names.WORK_API_VERSION, names.KIND_WORK, wk.cluster_namespace(cluster), self._name(key)
            )
        except NotFound:
            return True
        except ApiError:
            return False
        return False
