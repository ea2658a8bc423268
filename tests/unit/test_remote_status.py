"""Remote status collection, the pure parts: status.clusters[].remoteStatus in the status
KubeFed writes (core.propagation_status), the Work's report (core.work), the FTC field."""

from __future__ import annotations

from dataclasses import replace

from kubectl_kubefed.cli import status_view
from kubectl_kubefed.core import crds
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.core.propagation_status import (
    crd_keeps_cluster_field,
    next_status,
    remote_status,
)

READY = {"replicas": 2, "readyReplicas": 2}
HALF = {"replicas": 2, "readyReplicas": 1}


def test_remote_status_is_the_members_status_or_none() -> None:
    assert remote_status(None) is None
    assert remote_status({"spec": {}}) is None
    assert remote_status({"status": {}}) is None  # nothing reported yet
    assert remote_status({"status": "odd"}) is None
    member = {"status": {"conditions": [{"type": "Available"}], **READY}}
    got = remote_status(member)
    assert got == member["status"] and got is not member["status"]
    got["conditions"][0]["type"] = "changed"  # a deep copy: the cache is not touched
    assert member["status"]["conditions"][0]["type"] == "Available"


def test_cluster_entries_carry_remote_status() -> None:
    s = next_status(None, 1, "", {"c1": "", "c2": "UpdateFailed"}, "t1", {}, {"c1": READY, "c2": HALF})
    assert s is not None
    assert s["clusters"] == [
        {"name": "c1", "remoteStatus": READY},
        {"name": "c2", "status": "UpdateFailed", "remoteStatus": HALF},
    ]


def test_a_cluster_without_remote_status_is_no_reason_for_check_clusters() -> None:
    # KubeFed (status.go, update): resourceStatusCollection && rawStatus == nil => CheckClusters.
    s = next_status(None, 1, "", {"c1": "", "c2": ""}, "t1", {}, {"c1": READY})
    assert s is not None
    cond = s["conditions"][0]
    assert (cond["status"], cond.get("reason")) == ("True", None)
    assert s["clusters"] == [{"name": "c1", "remoteStatus": READY}, {"name": "c2"}]
    none_yet = next_status(None, 1, "", {"c1": ""}, "t1", {}, {})
    assert none_yet is not None and none_yet["conditions"][0]["status"] == "True"


def test_remote_status_written_only_when_it_changes() -> None:
    first = next_status(None, 1, "", {"c1": ""}, "t1", {}, {"c1": READY})
    assert first is not None
    assert next_status(first, 1, "", {"c1": ""}, "t2", {}, {"c1": dict(READY)}) is None
    changed = next_status(first, 1, "", {"c1": ""}, "t3", {}, {"c1": HALF})
    assert changed is not None
    assert changed["clusters"] == [{"name": "c1", "remoteStatus": HALF}]
    cond = changed["conditions"][0]
    assert cond["lastUpdateTime"] == "t3" and cond["lastTransitionTime"] == "t1"  # no transition
    # collection turned off (or a CRD that prunes it): written once without it, then quiet
    dropped = next_status(changed, 1, "", {"c1": ""}, "t4")
    assert dropped is not None and dropped["clusters"] == [{"name": "c1"}]
    assert next_status(dropped, 1, "", {"c1": ""}, "t5") is None


def test_failure_reasons_still_clear_clusters() -> None:
    s = next_status(None, 1, "ComputePlacementFailed", {"c1": ""}, "t", {}, {"c1": READY})
    assert s is not None and "clusters" not in s


def test_federated_crd_keeps_remote_status() -> None:
    t = tc.lookup("deployments.apps")
    crd = tc.federated_crd(t)
    assert crd_keeps_cluster_field(crd, t.federated_version, "remoteStatus")
    items = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"][
        "clusters"
    ]["items"]
    del items["properties"]["remoteStatus"]  # a CRD from before KubeFed v0.6
    assert not crd_keeps_cluster_field(crd, t.federated_version, "remoteStatus")


def test_ftc_status_collection_round_trips() -> None:
    deploy = tc.lookup("deployments.apps")
    assert deploy.status_collection
    assert tc.type_config_object(deploy)["spec"]["statusCollection"] == "Enabled"
    off = replace(deploy, status_collection=False)
    assert "statusCollection" not in tc.type_config_object(off)["spec"]
    assert tc.from_ftc(tc.type_config_object(off)) == off
    assert tc.from_ftc(tc.type_config_object(deploy)) == deploy
    cm = tc.lookup("configmaps")
    assert not cm.status_collection and "statusCollection" not in tc.type_config_object(cm)["spec"]
    ftc = tc.type_config_object(cm)
    ftc["spec"]["statusCollection"] = "Enabled"  # any type may ask for it
    assert tc.from_ftc(ftc).status_collection


def test_work_asks_for_and_carries_the_member_status() -> None:
    fed = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedDeployment",
        "metadata": {"name": "web", "namespace": "shop", "generation": 3},
        "spec": {"template": {"spec": {"replicas": 2}}},
    }
    deploy = tc.lookup("deployments.apps")
    work = wk.build(fed, deploy, "c1")
    assert wk.collects_status(work)
    assert not wk.collects_status(wk.build(fed, replace(deploy, status_collection=False), "c1"))
    assert "collectStatus" in crds.WORK_SPEC["properties"]
    assert crds.WORK_STATUS["properties"]["remoteStatus"]["x-kubernetes-preserve-unknown-fields"] is True
    assert wk.remote_status_of(work) is None
    work["metadata"]["generation"] = 1
    work["status"] = wk.Result("", "", "7", READY).as_status(1)
    assert work["status"]["remoteStatus"] == READY
    assert wk.remote_status_of(work) == READY
    assert wk.result_of(work) == wk.Result("", "", "7")  # the code and version as before
    assert "remoteStatus" not in wk.Result("", "", "7").as_status(1)


def fed(kind: str, clusters: list[dict[str, object]], **spec: object) -> dict[str, object]:
    return {
        "kind": kind,
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": spec,
        "status": {"conditions": [{"type": "Propagation", "status": "True"}], "clusters": clusters},
    }


def test_status_shows_ready_and_desired_replicas_per_cluster() -> None:
    obj = fed(
        "FederatedDeployment",
        [
            {"name": "a", "remoteStatus": {"replicas": 3, "readyReplicas": 3}},
            {"name": "b", "remoteStatus": {"replicas": 5}},  # none ready: no readyReplicas at all
            {"name": "c"},  # nothing reported yet
            {"name": "d", "remoteStatus": {"replicas": 1, "readyReplicas": 1}},
        ],
        template={"spec": {"replicas": 3}},
        overrides=[
            {"clusterName": "b", "clusterOverrides": [{"path": "/spec/replicas", "value": 5}]},
            {"clusterName": "d", "clusterOverrides": [{"op": "remove", "path": "/spec/replicas"}]},
            {"clusterName": "a", "clusterOverrides": [{"path": "/metadata/labels", "value": {}}]},
        ],
    )
    row = status_view.summary(obj)
    assert row["replicas"] == {
        "a": {"ready": 3, "desired": 3},
        "b": {"ready": 0, "desired": 5},
        "d": {"ready": 1, "desired": 1},
    }
    header, line = status_view.table([row]).splitlines()
    assert header.split()[-2:] == ["READY", "PULL"]
    assert line.split()[-2:] == ["a=3/3,b=0/5,d=1/1", "-"]


def test_retained_replicas_are_the_members_own() -> None:
    obj = fed(
        "FederatedDeployment",
        [{"name": "a", "remoteStatus": {"replicas": 7, "readyReplicas": 6}}],
        template={"spec": {"replicas": 3}},
        retainReplicas=True,
    )
    assert status_view.summary(obj)["replicas"] == {"a": {"ready": 6, "desired": 7}}


def test_daemonsets_jobs_and_kinds_without_replicas() -> None:
    ds = fed(
        "FederatedDaemonSet", [{"name": "a", "remoteStatus": {"desiredNumberScheduled": 4, "numberReady": 2}}]
    )
    assert status_view.summary(ds)["replicas"] == {"a": {"ready": 2, "desired": 4}}
    job = fed("FederatedJob", [{"name": "a", "remoteStatus": {"succeeded": 1}}], template={"spec": {}})
    assert status_view.summary(job)["replicas"] == {"a": {"ready": 1, "desired": 1}}
    odd = fed("FederatedStatefulSet", [{"name": "a", "remoteStatus": {"readyReplicas": "x"}}], template="x")
    assert status_view.summary(odd)["replicas"] == {"a": {"ready": None, "desired": 1}}
    assert status_view.table([status_view.summary(odd)]).splitlines()[1].split()[-2] == "a=?/1"
    cm = fed("FederatedConfigMap", [{"name": "a", "remoteStatus": {"x": 1}}])
    row = status_view.summary(cm)
    assert row["replicas"] == {}
    assert status_view.table([row]).splitlines()[1].split()[-2] == "-"
