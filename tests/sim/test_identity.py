"""Cluster identity (KEP-2149) on the simulator: recorded on join, verified at every probe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubectl_kubefed.core import identity
from tests.conftest import run_cli
from tests.sim.helpers import cluster_statuses, cm, fed_configmap, fleet, with_app


def kfc(f, name: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    return f.host_server.get("core.kubefed.io/v1beta1", "KubeFedCluster", "kube-federation-system", name)


def test_join_records_the_kube_system_uid() -> None:
    f = fleet()
    uid = f.servers["c1"].get("v1", "Namespace", "", "kube-system")["metadata"]["uid"]
    assert f.cluster_id("c1") == uid
    assert kfc(f, "c1")["metadata"]["annotations"][identity.ID_ANNOTATION] == uid
    clusterset = f.servers["c1"].get(identity.API_VERSION, identity.KIND, "", identity.CLUSTERSET_PROPERTY)
    assert clusterset["spec"]["value"] == identity.DEFAULT_CLUSTERSET


@pytest.mark.parametrize("new_id", ["rebuilt-cluster", None])
def test_mismatch_stops_writes_and_restoring_resumes(new_id: str | None) -> None:
    f = fleet()
    with_app(f, fed_configmap())
    original = f.cluster_id("c2")
    f.set_cluster_id("c2", new_id)
    assert f.settle()
    assert not f.ready("c2")
    ready = next(c for c in kfc(f, "c2")["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "ClusterIdentityMismatch"
    assert original in ready["message"] and (new_id or "vanished") in ready["message"]
    writes = (
        f.views["c2"].requests["create"] + f.views["c2"].requests["update"] + f.views["c2"].requests["delete"]
    )
    f.apply([fed_configmap(data={"k": "changed"})])
    assert f.settle()
    assert cm(f, "c2")["data"] == {"k": "v"}  # type: ignore[index]  # nothing written there
    assert (
        writes
        == f.views["c2"].requests["create"]
        + f.views["c2"].requests["update"]
        + f.views["c2"].requests["delete"]
    )
    assert cluster_statuses(f, "FederatedConfigMap", "cfg")["c2"] == "ClusterNotReady"
    message = next(
        c
        for c in f.host_server.get("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")["status"][
            "clusters"
        ]
        if c["name"] == "c2"
    )["message"]
    assert "identity" in message
    f.set_cluster_id("c2", original)
    assert f.settle()
    assert f.ready("c2")
    assert cm(f, "c2")["data"] == {"k": "changed"}  # type: ignore[index]


def test_duplicate_id_is_refused() -> None:
    f = fleet()
    existing = f.cluster_id("c1")
    with pytest.raises(ValueError, match="already used by joined cluster c1"):
        f.join("copy", cluster_id=existing)


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("a", True),
        ("cluster-1.example.com", True),
        ("UPPER", False),
        ("-bad", False),
        ("", False),
        ("x" * 128, False),
        ("a" * 127, True),
    ],
)
def test_id_validation(value: str, ok: bool) -> None:
    assert (identity.validate_id(value) == "") is ok


def test_scenario_step_replaces_an_id(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("""
clusters: [{name: a}, {name: b}]
steps:
- cluster: {name: b, id: someone-else}
- cluster: {name: b, id: null}
""")
    res = run_cli("simulate", str(tmp_path / "s.yaml"), "-o", "json", "--every-step")
    assert res.returncode == 0, res.stderr
    states = json.loads(res.stdout)
    assert states[0]["clusters"]["b"]["ready"] is False
    assert states[1]["clusters"]["b"]["ready"] is False
    assert states[0]["clusters"]["a"]["ready"] is True
