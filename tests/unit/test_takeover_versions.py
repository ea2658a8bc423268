"""Taking over a host KubeFed populated: existing PropagatedVersions are updated in place,
never created again (which would cost a create, an AlreadyExists and a GET each)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.sync.errors import AlreadyExists, NotFound
from kubectl_kubefed.sync.versionstore import VersionStore

PV_API = "core.kubefed.io/v1alpha1"


class Host:
    def __init__(self, objs: list[dict[str, Any]]) -> None:
        self.objs = {(o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs}
        self.calls: list[str] = []

    def list(self, api_version: str, kind: str, namespace: str = "") -> tuple[list[dict[str, Any]], str]:
        self.calls.append("list")
        return [copy.deepcopy(o) for o in self.objs.values()], "1"

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        self.calls.append("get")
        try:
            return copy.deepcopy(self.objs[(namespace, name)])
        except KeyError:
            raise NotFound(name) from None

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append("create")
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        if key in self.objs:
            raise AlreadyExists(key[1])
        self.objs[key] = copy.deepcopy(dict(obj))
        return copy.deepcopy(self.objs[key])

    def update(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """KubeFed's CRD has the status subresource: a plain update keeps the status."""
        self.calls.append("update")
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        self.objs[key] = {**copy.deepcopy(dict(obj)), "status": self.objs[key].get("status")}
        return copy.deepcopy(self.objs[key])

    def update_status(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        self.calls.append("update_status")
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        self.objs[key] = copy.deepcopy(dict(obj))
        return copy.deepcopy(self.objs[key])


def test_a_version_object_kubefed_wrote_is_updated_without_a_create() -> None:
    kubefed_written = {
        "apiVersion": PV_API,
        "kind": "PropagatedVersion",
        "metadata": {"name": "configmap-cfg", "namespace": "shop", "resourceVersion": "7"},
        "status": {
            "templateVersion": "t1",
            "overridesVersion": "o1",
            "clusterVersions": [{"clusterName": "member1", "version": "rv:5"}],
        },
    }
    host = Host([kubefed_written])
    store = VersionStore(host, tc.lookup("configmaps"))  # type: ignore[arg-type]
    store.load()
    assert store.recorded(("shop", "cfg"), "t1", "o1") == {"member1": "rv:5"}
    fed = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": "cfg", "namespace": "shop", "uid": "u"},
    }
    store.write(fed, "t1", "o1", {"member1": "rv:5"})  # unchanged: no request at all
    assert host.calls == ["list"]
    store.write(fed, "t1", "o1", {"member1": "rv:6"})
    # init's CRD has no status subresource: a plain update first, which KubeFed's CRD
    # answers with the old status; from then on, the status subresource
    assert host.calls == ["list", "update", "update_status"]
    assert host.objs[("shop", "configmap-cfg")]["status"]["clusterVersions"] == [
        {"clusterName": "member1", "version": "rv:6"}
    ]
    store.write(fed, "t1", "o1", {"member1": "rv:7"})
    assert host.calls == ["list", "update", "update_status", "update_status"]


def test_no_cluster_versions_are_written_as_kubefed_writes_them() -> None:
    """KubeFed omits an empty clusterVersions (omitempty): such an object is current."""
    kubefed_written = {
        "apiVersion": PV_API,
        "kind": "PropagatedVersion",
        "metadata": {"name": "configmap-refused", "namespace": "shop", "resourceVersion": "3"},
        "status": {"templateVersion": "t1", "overridesVersion": "o1"},
    }
    host = Host([kubefed_written])
    store = VersionStore(host, tc.lookup("configmaps"))  # type: ignore[arg-type]
    store.load()
    fed = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": "refused", "namespace": "shop", "uid": "u"},
    }
    store.write(fed, "t1", "o1", {})  # e.g. every cluster refused with ManagedLabelFalse
    assert host.calls == ["list"]
