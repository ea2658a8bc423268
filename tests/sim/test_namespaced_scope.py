"""A namespaced control plane (``init --scope Namespaced``) reads only the KubeFed namespace:
its member identity holds a Role there and nothing cluster-wide to list (docs/security.md)."""

from __future__ import annotations

from kubectl_kubefed.kube import join
from tests.sim.helpers import cm, fed_configmap, fed_deployment, fleet, namespace

NS = "kube-federation-system"
MANAGED = "kubefed.io/managed"


def test_namespaced_plane_lists_and_watches_only_the_kubefed_namespace() -> None:
    f = fleet(scope="Namespaced")
    f.apply([fed_configmap(ns=NS), fed_deployment(ns=NS)])
    assert f.settle()
    assert all(cm(f, c, ns=NS) is not None for c in ("c1", "c2", "c3"))
    for name, view in f.views.items():
        kinds = {kind for _, kind, _ in view.read_scopes}
        assert {"ConfigMap", "Deployment"} <= kinds, name  # the member caches exist
        assert {ns for _, _, ns in view.read_scopes} == {NS}, (name, sorted(view.read_scopes))
    host_scopes = {(kind, ns) for _, kind, ns in f.host.read_scopes}
    assert ("PropagatedVersion", NS) in host_scopes
    assert {ns for _, ns in host_scopes} == {NS}, sorted(host_scopes)


def test_cluster_scoped_plane_lists_members_cluster_wide() -> None:
    f = fleet()
    assert ("list", "ConfigMap", "") in f.views["c1"].read_scopes


def test_unjoin_remove_resources_of_a_namespaced_plane_stays_in_its_namespace() -> None:
    f = fleet(scope="Namespaced")
    f.apply([fed_configmap(ns=NS)])
    assert f.settle()
    # What a cluster-scoped plane manages in the same member, elsewhere.
    f.apply([namespace("shop")], cluster="c1")
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "namespace": "shop"}}
    other["metadata"]["labels"] = {MANAGED: "true"}  # type: ignore[index]
    f.apply([other], cluster="c1")
    f.servers["c1"].update({**namespace("shop"), "metadata": {"name": "shop", "labels": {MANAGED: "true"}}})
    said: list[str] = []
    join._remove_managed(f.host, f.views["c1"], NS, said.append)  # type: ignore[arg-type]
    assert cm(f, "c1", ns=NS) is None
    assert said == ["1 managed configmaps deleted in the member"]
    assert cm(f, "c1", "other", ns="shop")["metadata"]["labels"] == {MANAGED: "true"}  # type: ignore[index]
    shop = f.servers["c1"].get("v1", "Namespace", "", "shop")
    assert shop["metadata"]["labels"][MANAGED] == "true"
