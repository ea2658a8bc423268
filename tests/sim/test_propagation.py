"""Scenario tests of the sync controller on the simulator (KubeFed semantics §3, §4)."""

from __future__ import annotations

import json

from kubectl_kubefed.core import versions
from tests.sim.helpers import (
    cluster_statuses,
    cm,
    condition,
    fed_configmap,
    fed_deployment,
    fed_status,
    fleet,
    namespace,
    with_app,
)

MANAGED = "kubefed.io/managed"


def test_create_propagates_with_label_versions_status_and_finalizer() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    for c in ("c1", "c2", "c3"):
        obj = cm(f, c)
        assert obj is not None
        assert obj["data"] == {"k": "v"}
        assert obj["metadata"]["labels"][MANAGED] == "true"
    fed = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert fed["metadata"]["finalizers"] == ["kubefed.io/sync-controller"]
    assert condition(f, "FederatedConfigMap", "cfg") == ("True", "")
    assert fed["status"]["observedGeneration"] == fed["metadata"]["generation"]
    assert cluster_statuses(f, "FederatedConfigMap", "cfg") == {"c1": "", "c2": "", "c3": ""}
    pv = f.host_server.get("core.kubefed.io/v1alpha1", "PropagatedVersion", "shop", "configmap-cfg")
    assert pv["status"]["templateVersion"] == versions.template_version(fed)
    assert pv["status"]["overridesVersion"] == versions.overrides_version(fed)
    assert [v["clusterName"] for v in pv["status"]["clusterVersions"]] == ["c1", "c2", "c3"]
    assert pv["status"]["clusterVersions"][0]["version"].startswith("rv:")
    assert pv["metadata"]["ownerReferences"][0]["uid"] == fed["metadata"]["uid"]


def test_overrides_and_deselection() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    overrides = [{"clusterName": "c2", "clusterOverrides": [{"path": "/data/k", "value": "other"}]}]
    f.apply([fed_configmap(overrides=overrides, placement={"clusters": [{"name": "c1"}, {"name": "c2"}]})])
    assert f.settle()
    assert cm(f, "c2")["data"] == {"k": "other"}  # type: ignore[index]
    assert cm(f, "c1")["data"] == {"k": "v"}  # type: ignore[index]
    assert cm(f, "c3") is None
    assert cluster_statuses(f, "FederatedConfigMap", "cfg") == {"c1": "", "c2": ""}


def test_delete_removes_everywhere_and_garbage_collects_versions() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert f.settle()
    assert all(cm(f, c) is None for c in ("c1", "c2", "c3"))
    assert f.federated_objects() and all(o["kind"] != "FederatedConfigMap" for o in f.federated_objects())
    pvs = f.host_server.list("core.kubefed.io/v1alpha1", "PropagatedVersion", "shop")[0]
    assert [p["metadata"]["name"] for p in pvs] == ["namespace-shop"]


def test_namespace_not_federated() -> None:
    f = fleet()
    f.apply([namespace(), fed_configmap()])
    assert f.settle()
    assert condition(f, "FederatedConfigMap", "cfg") == ("False", "NamespaceNotFederated")
    assert all(cm(f, c) is None for c in ("c1", "c2", "c3"))


def test_namespaced_scope_uses_own_placement() -> None:
    f = fleet(scope="Namespaced")
    ns = "kube-federation-system"
    f.apply([fed_configmap(ns=ns, placement={"clusters": [{"name": "c2"}]})])
    assert f.settle()
    assert [c for c in ("c1", "c2", "c3") if cm(f, c, ns=ns)] == ["c2"]
    assert condition(f, "FederatedConfigMap", "cfg", ns) == ("True", "")


def test_orphaned_labelled_member_object_loses_label_only() -> None:
    f = fleet()
    with_app(f)
    f.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "stray", "namespace": "shop", "labels": {MANAGED: "true"}},
            }
        ],
        cluster="c1",
    )
    assert f.settle()
    obj = cm(f, "c1", "stray")
    assert obj is not None
    assert MANAGED not in obj["metadata"].get("labels", {})


def test_unlabelled_object_survives_empty_placement() -> None:
    f = fleet()
    with_app(f)
    f.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "shop"},
                "data": {"mine": "1"},
            }
        ],
        cluster="c1",
    )
    f.apply([fed_configmap(placement={"clusters": []})])
    assert f.settle()
    assert cm(f, "c1")["data"] == {"mine": "1"}  # type: ignore[index]


def test_adoption_and_adopt_disabled() -> None:
    for adopt, expected in ((True, ""), (False, "AlreadyExists")):
        f = fleet(adopt_resources=adopt)
        with_app(f)
        f.apply(
            [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "cfg", "namespace": "shop"},
                    "data": {"mine": "1"},
                }
            ],
            cluster="c1",
        )
        f.apply([fed_configmap()])
        assert f.settle()
        assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c1"] == expected
        obj = cm(f, "c1")
        assert obj is not None
        if adopt:
            assert obj["data"] == {"k": "v"}
            assert obj["metadata"]["labels"][MANAGED] == "true"
            assert "CreateInClusterFailed" in f.recorder.reasons()
        else:
            assert obj["data"] == {"mine": "1"}


def test_managed_false_is_refused() -> None:
    f = fleet()
    with_app(f)
    f.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "shop", "labels": {MANAGED: "false"}},
            }
        ],
        cluster="c2",
    )
    f.apply([fed_configmap()])
    assert f.settle()
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "ManagedLabelFalse"
    assert condition(f, "FederatedConfigMap", "cfg") == ("False", "CheckClusters")
    assert "data" not in cm(f, "c2")  # type: ignore[operator]


def test_not_ready_cluster_reported_and_left_alone() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.set_ready("c3", False)
    f.apply([fed_configmap(placement={"clusters": [{"name": "c1"}]}, data={"k": "new"})])
    assert f.settle()
    assert not f.ready("c3")
    assert cm(f, "c2") is None  # deselected, ready: deleted
    assert f.servers["c3"].get("v1", "ConfigMap", "shop", "cfg")["data"] == {"k": "v"}  # not ready: untouched
    f.apply([fed_configmap(data={"k": "new"})])
    assert f.settle()
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c3"] == "ClusterNotReady"
    f.set_ready("c3", True)
    assert f.settle()
    assert cm(f, "c3")["data"] == {"k": "new"}  # type: ignore[index]
    assert condition(f, "FederatedConfigMap", "cfg") == ("True", "")


def test_drift_is_reverted_for_generation_and_resource_version_kinds() -> None:
    f = fleet()
    with_app(f, fed_configmap(), fed_deployment())
    live = f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")
    live["spec"]["replicas"] = 9
    f.servers["c1"].update(live)
    live_cm = f.servers["c1"].get("v1", "ConfigMap", "shop", "cfg")
    live_cm["data"] = {"k": "drift"}
    f.servers["c1"].update(live_cm)
    assert f.settle()
    assert f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")["spec"]["replicas"] == 2
    assert cm(f, "c1")["data"] == {"k": "v"}  # type: ignore[index]
    # A label edit does not bump generation: caught by the metadata comparison.
    live = f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")
    live["metadata"]["labels"]["extra"] = "x"
    f.servers["c1"].update(live)
    assert f.settle()
    assert "extra" not in f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")["metadata"]["labels"]


def test_member_annotations_are_retained() -> None:
    f = fleet()
    with_app(f, fed_deployment())
    live = f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")
    live["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "1"}
    f.servers["c1"].update(live)
    f.apply([fed_deployment(replicas=4)])
    assert f.settle()
    obj = f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")
    assert obj["spec"]["replicas"] == 4
    assert obj["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "1"}


def test_service_cluster_ip_retained_across_updates() -> None:
    f = fleet()
    svc = {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedService",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "template": {"spec": {"type": "NodePort", "ports": [{"port": 80, "protocol": "TCP"}]}},
            "placement": {"clusterSelector": {}},
        },
    }
    with_app(f, svc)
    before = f.servers["c1"].get("v1", "Service", "shop", "web")["spec"]
    svc["spec"]["template"]["spec"]["selector"] = {"app": "web"}
    f.apply([svc])
    assert f.settle()
    after = f.servers["c1"].get("v1", "Service", "shop", "web")["spec"]
    assert after["selector"] == {"app": "web"}
    assert after["clusterIP"] == before["clusterIP"]
    assert after["ports"][0]["nodePort"] == before["ports"][0]["nodePort"]
    assert cluster_statuses(f, "FederatedService", "web") == {"c1": "", "c2": "", "c3": ""}


def test_retain_replicas() -> None:
    f = fleet()
    with_app(f, fed_deployment(retainReplicas=True))
    live = f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")
    live["spec"]["replicas"] = 7  # an HPA in the member scaled it
    f.servers["c1"].update(live)
    f.apply([fed_deployment(retainReplicas=True, replicas=3)])
    assert f.settle()
    assert f.servers["c1"].get("apps/v1", "Deployment", "shop", "web")["spec"]["replicas"] == 7
    assert f.servers["c2"].get("apps/v1", "Deployment", "shop", "web")["spec"]["replicas"] == 2


def test_invalid_overrides_and_bad_selector() -> None:
    f = fleet()
    bad = [{"clusterName": "c1", "clusterOverrides": [{"path": "/metadata/name", "value": "x"}]}]
    with_app(f, fed_configmap(overrides=bad))
    assert set(cluster_statuses(f, "FederatedConfigMap", "cfg").values()) == {"ApplyOverridesFailed"}
    f.apply(
        [
            fed_configmap(
                name="sel",
                placement={"clusterSelector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}},
            )
        ]
    )
    assert f.settle()
    assert condition(f, "FederatedConfigMap", "sel") == ("False", "ComputePlacementFailed")
    assert "clusters" not in fed_status(f, "FederatedConfigMap", "sel")


def test_inapplicable_override_fails_only_that_cluster() -> None:
    f = fleet()
    ops = [{"clusterName": "c2", "clusterOverrides": [{"op": "remove", "path": "/data/missing"}]}]
    with_app(f, fed_configmap(overrides=ops))
    assert cluster_statuses(f, "FederatedConfigMap", "cfg") == {
        "c1": "",
        "c2": "ApplyOverridesFailed",
        "c3": "",
    }
    assert cm(f, "c2") is None


def test_pr1417_annotation_override_on_create() -> None:
    f = fleet()
    ops = [
        {
            "clusterName": "c1",
            "clusterOverrides": [
                {"op": "add", "path": "/metadata/annotations/example.com~1team", "value": "blue"}
            ],
        }
    ]
    with_app(f, fed_configmap(overrides=ops))
    assert cm(f, "c1")["metadata"]["annotations"] == {  # type: ignore[index]
        "example.com/team": "blue",
        "kubefed.io/owned-annotations": "example.com/team",
    }


def test_orphan_annotation_keeps_member_objects() -> None:
    f = fleet()
    with_app(f, fed_configmap(meta={"annotations": {"kubefed.io/orphan": "true"}}))
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert f.settle()
    for c in ("c1", "c2", "c3"):
        obj = cm(f, c)
        assert obj is not None
        assert MANAGED not in obj["metadata"].get("labels", {})


def test_delete_option_orphan_is_passed_to_members() -> None:
    f = fleet()
    options = json.dumps({"propagationPolicy": "Orphan"})
    with_app(f, fed_configmap(meta={"annotations": {"kubefed.io/deleteoption": options}}))
    owner = cm(f, "c1")
    assert owner is not None
    f.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "child",
                    "namespace": "shop",
                    "ownerReferences": [
                        {
                            "apiVersion": "v1",
                            "kind": "ConfigMap",
                            "name": "cfg",
                            "uid": owner["metadata"]["uid"],
                        }
                    ],
                },
            }
        ],
        cluster="c1",
    )
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert f.settle()
    assert cm(f, "c1") is None
    child = f.servers["c1"].get("v1", "Secret", "shop", "child")
    assert "ownerReferences" not in child["metadata"]


def test_deletion_waits_for_not_ready_cluster_reports_it_and_orphan_releases() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.set_ready("c3", False)
    assert f.settle()
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    f.settle(max_seconds=300)
    fed = f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert fed["metadata"]["finalizers"] == ["kubefed.io/sync-controller"]  # still waiting
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c3"] == "ClusterNotReady"
    assert cm(f, "c1") is None and cm(f, "c2") is None
    fed["metadata"]["annotations"] = {"kubefed.io/orphan": "true"}
    f.host_server.update(fed)
    assert f.settle()
    assert all(o["kind"] != "FederatedConfigMap" for o in f.federated_objects())


def test_unjoin_releases_a_waiting_deletion() -> None:
    f = fleet()
    with_app(f, fed_configmap())
    f.set_ready("c3", False)
    assert f.settle()
    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    f.settle(max_seconds=120)
    f.unjoin("c3")
    assert f.settle()
    assert all(o["kind"] != "FederatedConfigMap" for o in f.federated_objects())
    assert f.servers["c3"].get("v1", "ConfigMap", "shop", "cfg")  # unjoin removes nothing in the member


def test_cluster_label_change_moves_placement() -> None:
    f = fleet()
    with_app(f, fed_configmap(placement={"clusterSelector": {"matchLabels": {"region": "eu"}}}))
    assert [c for c in ("c1", "c2", "c3") if cm(f, c)] == ["c1"]
    f.set_labels("c2", {"region": "eu"})
    f.set_labels("c1", {"region": "none"})
    assert f.settle()
    assert [c for c in ("c1", "c2", "c3") if cm(f, c)] == ["c2"]


def test_host_namespace_is_unlabelled_never_deleted() -> None:
    f = fleet(host_is_member="c1")
    with_app(f, fed_configmap())
    host_ns = f.servers["c1"].get("v1", "Namespace", "", "shop")
    assert host_ns["metadata"]["labels"][MANAGED] == "true"
    f.apply(
        [
            {
                "apiVersion": "types.kubefed.io/v1beta1",
                "kind": "FederatedNamespace",
                "metadata": {"name": "shop", "namespace": "shop"},
                "spec": {"placement": {"clusters": [{"name": "c2"}]}},
            }
        ]
    )
    assert f.settle()
    host_ns = f.servers["c1"].get("v1", "Namespace", "", "shop")
    assert MANAGED not in host_ns["metadata"].get("labels", {})
    assert f.member_object("c3", "v1", "Namespace", "", "shop") is None


def test_second_settle_makes_no_writes_and_status_is_stable() -> None:
    f = fleet()
    with_app(f, fed_configmap(), fed_deployment())
    writes = f.write_requests()
    fed_rv = f.host_server.get("types.kubefed.io/v1beta1", "FederatedDeployment", "shop", "web")["metadata"][
        "resourceVersion"
    ]
    f.advance(600)
    assert f.settle()
    assert f.write_requests() == writes
    assert (
        f.host_server.get("types.kubefed.io/v1beta1", "FederatedDeployment", "shop", "web")["metadata"][
            "resourceVersion"
        ]
        == fed_rv
    )


def test_controller_restart_rebuilds_state_without_writes() -> None:
    f = fleet()
    with_app(f, fed_configmap(), fed_deployment())
    writes = f.write_requests()
    f.restart_controllers()
    assert f.settle()
    f.advance(60)
    assert f.settle()
    assert f.write_requests() == writes
