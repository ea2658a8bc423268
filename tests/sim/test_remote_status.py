"""Remote status collection (issue 14): with ``statusCollection: Enabled`` each
``status.clusters[]`` entry carries the member object's ``status`` as ``remoteStatus``
(KubeFed's raw resource status, without its feature gate), written only when it changes,
and a member that has not reported a status yet does not make the condition CheckClusters.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from kubectl_kubefed.cli import status_view
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core import work as wk
from simulator.fleet import Fleet
from simulator.workloads import WorkloadSettings
from tests.sim import helpers as h

KIND = "FederatedDeployment"
FTC = ("core.kubefed.io/v1beta1", "FederatedTypeConfig", "kube-federation-system", "deployments.apps")
READY_AFTER = 5.0


def make(clusters: list[dict[str, Any]] | None = None, workloads: bool = True, collect: bool = True) -> Fleet:
    f = Fleet(
        clusters or [{"name": "c1"}, {"name": "c2"}],
        workloads=WorkloadSettings(READY_AFTER) if workloads else None,
    )
    f.enable("namespaces")
    f.enable(replace(tc.lookup("deployments.apps"), status_collection=collect))
    assert f.settle()
    h.with_app(f, h.fed_deployment(replicas=2))
    return f


def remote(f: Fleet) -> dict[str, Any]:
    """cluster -> remoteStatus (None where the entry has none)."""
    return {c["name"]: c.get("remoteStatus") for c in h.fed_status(f, KIND, "web").get("clusters", [])}


def writes(f: Fleet) -> int:
    return f.host.status_updates.get(KIND, 0)


def member(f: Fleet, cluster: str) -> dict[str, Any]:
    obj = f.member_object(cluster, "apps/v1", "Deployment", "shop", "web")
    assert obj is not None
    return obj


def test_init_and_enable_collect_the_status_of_workload_kinds_only() -> None:
    collected = {t.name for t in tc.BUILTIN_TYPES if t.status_collection}
    assert collected == {
        "deployments.apps",
        "statefulsets.apps",
        "daemonsets.apps",
        "jobs.batch",
        "replicasets.apps",
    }
    for t in tc.BUILTIN_TYPES:
        spec = tc.type_config_object(t)["spec"]
        assert spec.get("statusCollection") == ("Enabled" if t.name in collected else None)
        assert tc.from_ftc(tc.type_config_object(t)).status_collection is t.status_collection


def test_remote_status_is_the_members_status_and_the_condition_is_true() -> None:
    f = make()
    got = remote(f)
    assert set(got) == {"c1", "c2"}
    for cluster, status in got.items():
        assert status == member(f, cluster)["status"]
        assert status["readyReplicas"] == 2 == status["replicas"]
    assert h.condition(f, KIND, "web") == ("True", "")
    assert h.cluster_statuses(f, KIND, "web") == {"c1": "", "c2": ""}


def reconcile_without_change(f: Fleet, cluster: str = "c1") -> None:
    """Reconciles that find nothing new: the federated object annotated (no new
    generation) and the member's status written again as it is."""
    fed = f.host_server.get("types.kubefed.io/v1beta1", KIND, "shop", "web")
    fed["metadata"].setdefault("annotations", {})["touched"] = str(f.clock.now())
    f.host_server.update(fed)
    assert f.settle()
    f.servers[cluster].update_status(member(f, cluster))
    f.advance(900)
    assert f.settle()


def test_remote_status_follows_the_member_and_is_written_only_on_change() -> None:
    f = make()
    before = writes(f)
    reconcile_without_change(f)
    assert writes(f) == before
    f.set_capacity("c1", 1)  # one Pod of c1 goes Pending: c1's Deployment reports 1 ready
    assert f.settle()
    got = remote(f)
    assert got["c1"]["readyReplicas"] == 1 and got["c1"] == member(f, "c1")["status"]
    assert got["c2"]["readyReplicas"] == 2
    row = status_view.summary(f.host_server.get("types.kubefed.io/v1beta1", KIND, "shop", "web"))
    assert row["replicas"] == {"c1": {"ready": 1, "desired": 2}, "c2": {"ready": 2, "desired": 2}}
    assert writes(f) > before
    after = writes(f)
    reconcile_without_change(f)
    assert writes(f) == after
    assert h.condition(f, KIND, "web") == ("True", "")


def test_disabled_collects_nothing_and_disabling_drops_what_was_collected() -> None:
    f = make(collect=False)
    assert remote(f) == {"c1": None, "c2": None}
    assert member(f, "c1")["status"]["readyReplicas"] == 2  # there was something to collect
    before = writes(f)
    f.set_capacity("c1", 1)
    assert f.settle()
    assert writes(f) == before  # a member's status change is no reason to write

    g = make()
    assert all(remote(g).values())
    ftc = g.host_server.get(*FTC)
    ftc["spec"]["statusCollection"] = "Disabled"
    g.host_server.update(ftc)
    assert g.settle()
    assert remote(g) == {"c1": None, "c2": None}


def test_a_member_without_status_leaves_the_condition_true() -> None:
    # KubeFed: a cluster entry without remoteStatus makes the condition CheckClusters, so
    # a kind whose members have not reported (here: nothing runs the Deployments) never
    # looks propagated. Here the entry is just written without it.
    f = make(workloads=False)
    assert remote(f) == {"c1": None, "c2": None}
    assert h.condition(f, KIND, "web") == ("True", "")
    obj = member(f, "c1")
    obj["status"] = {"observedGeneration": 1, "replicas": 2, "readyReplicas": 1}
    f.servers["c1"].update_status(obj)
    assert f.settle()
    got = remote(f)
    assert got["c1"] == {"observedGeneration": 1, "replicas": 2, "readyReplicas": 1}
    assert got["c2"] is None
    assert h.condition(f, KIND, "web") == ("True", "")


def test_pull_clusters_report_the_status_through_the_work() -> None:
    f = make([{"name": "c1"}, {"name": "c2", "syncMode": "Pull"}])
    got = remote(f)
    assert got["c1"] == member(f, "c1")["status"]
    assert got["c2"] == member(f, "c2")["status"]
    assert got["c2"]["readyReplicas"] == 2
    works = [o for o in f.host_server.objects() if o.get("kind") == "Work"]
    deployment_works = [w for w in works if (w["spec"]["target"]["kind"]) == "Deployment"]
    assert len(deployment_works) == 1
    assert wk.collects_status(deployment_works[0])
    assert deployment_works[0]["status"]["remoteStatus"] == member(f, "c2")["status"]
    # no collection for other kinds: a Namespace's Work carries no remoteStatus
    assert not any("remoteStatus" in (w.get("status") or {}) for w in works if w not in deployment_works)
    f.set_capacity("c2", 1)
    assert f.settle()
    assert remote(f)["c2"]["readyReplicas"] == 1
    before = writes(f)
    reconcile_without_change(f, "c2")
    assert writes(f) == before
    assert h.condition(f, KIND, "web") == ("True", "")
