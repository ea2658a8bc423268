"""The reconciler never writes another object than the one a federated object names."""

from __future__ import annotations

from tests.sim.helpers import cluster_statuses, cm, fed_configmap, fleet, with_app

PRECIOUS = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "precious", "namespace": "kube-system"},
    "data": {"secret-sauce": "1"},
}
ESCAPE = {"path": "/metadata", "value": {"name": "precious", "namespace": "kube-system"}}


def test_metadata_override_cannot_adopt_an_object_in_kube_system() -> None:
    f = fleet(adopt_resources=True)
    f.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system"}}], cluster="c1")
    f.apply([PRECIOUS], cluster="c1")
    overrides = [{"clusterName": "c1", "clusterOverrides": [ESCAPE]}]
    with_app(f, fed_configmap(overrides=overrides, data={"evil": "1"}))

    precious = cm(f, "c1", "precious", "kube-system")
    assert precious is not None
    assert precious["data"] == {"secret-sauce": "1"}
    assert "kubefed.io/managed" not in (precious["metadata"].get("labels") or {})
    assert cm(f, "c1") is None  # nothing written for c1 at all
    statuses = cluster_statuses(f, "FederatedConfigMap", "cfg")
    assert statuses["c1"] == "ApplyOverridesFailed"
    assert statuses["c2"] == "" and cm(f, "c2") is not None  # other clusters proceed
    events = [e for e in f.recorder.events if e.reason == "ApplyOverridesFailed"]
    assert events and "kube-system" in events[-1].message

    f.delete("types.kubefed.io/v1beta1", "FederatedConfigMap", "shop", "cfg")
    assert f.settle()
    assert cm(f, "c1", "precious", "kube-system") == precious
