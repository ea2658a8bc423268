"""Cluster identity (KEP-2149) against real clusters."""

from __future__ import annotations

import json

import pytest

from kubectl_kubefed.core import identity
from tests.e2e.conftest import Plane, eventually, kubefed, update_retrying
from tests.e2e.test_commands_e2e import one_line_error
from tests.e2e.test_propagation_e2e import FED, federated, propagated_ok, status_of

pytestmark = pytest.mark.e2e


def test_join_records_the_kube_system_uid(plane: Plane) -> None:
    m1 = plane.member("member1")
    uid = m1.get("v1", "Namespace", "", "kube-system")["metadata"]["uid"]
    prop = m1.get(identity.API_VERSION, identity.KIND, "", identity.ID_PROPERTY)
    assert prop["spec"]["value"] == uid
    assert (
        m1.get(identity.API_VERSION, identity.KIND, "", identity.CLUSTERSET_PROPERTY)["spec"]["value"]
        == "kubefed"
    )
    kfc = plane.host.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "member1")
    assert kfc["metadata"]["annotations"][identity.ID_ANNOTATION] == uid
    out = kubefed(
        plane.kubeconfig, "clusters", "-o", "json", "--host-cluster-context", plane.host_context
    ).stdout
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["member1"]["id"] == uid and rows["member1"]["ready"] == "True"
    assert rows["member1"]["kubernetesVersion"] == "v1.34.4"
    table = kubefed(plane.kubeconfig, "clusters", "--host-cluster-context", plane.host_context).stdout
    assert "member1" in table and uid in table


def test_duplicate_id_is_refused(plane: Plane) -> None:
    res = kubefed(
        plane.kubeconfig,
        "join",
        "copy",
        "--cluster-context",
        "member1",
        "--host-cluster-context",
        plane.host_context,
        check=False,
    )
    one_line_error(res.returncode, res.stderr, 'already used by joined cluster "member1"')


def test_changed_identity_stops_writes_and_restoring_resumes(plane: Plane, ns: str) -> None:
    m2 = plane.member("member2")
    plane.host.create(federated("ConfigMap", ns, "cfg", {"data": {"v": "1"}}))
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "cfg", {"host", "member1", "member2"}))
    original = m2.get(identity.API_VERSION, identity.KIND, "", identity.ID_PROPERTY)["spec"]["value"]

    def set_id(value: str) -> None:
        update_retrying(
            m2,
            identity.API_VERSION,
            identity.KIND,
            "",
            identity.ID_PROPERTY,
            lambda prop: prop["spec"].update(value=value),
        )

    set_id("a-different-cluster")
    try:

        def mismatch() -> bool:
            kfc = plane.host.get(
                "core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", "member2"
            )
            ready = next(c for c in kfc["status"]["conditions"] if c["type"] == "Ready")
            assert ready["status"] == "False" and ready["reason"] == "ClusterIdentityMismatch"
            assert original in ready["message"] and "a-different-cluster" in ready["message"]
            return True

        eventually(mismatch, 60, what="ClusterIdentityMismatch")

        def reported() -> dict[str, str] | None:
            return next(
                (
                    c
                    for c in status_of(plane, "ConfigMap", ns, "cfg").get("clusters", [])
                    if c["name"] == "member2" and c.get("status") == "ClusterNotReady"
                ),
                None,
            )

        # Wait until the controller has acted on the mismatch (it learns of it through a
        # watch), so the update below cannot race that news.
        entry = eventually(reported, 60, what="ClusterNotReady for member2 in status")
        assert "identity" in entry["message"]
        update_retrying(
            plane.host,
            FED,
            "FederatedConfigMap",
            ns,
            "cfg",
            lambda fed: fed["spec"]["template"].update(data={"v": "2"}),
        )
        eventually(lambda: plane.member("member1").get("v1", "ConfigMap", ns, "cfg")["data"] == {"v": "2"})
        assert m2.get("v1", "ConfigMap", ns, "cfg")["data"] == {"v": "1"}  # nothing written there
    finally:
        set_id(original)
    eventually(lambda: m2.get("v1", "ConfigMap", ns, "cfg")["data"] == {"v": "2"}, 60, what="writes resumed")
