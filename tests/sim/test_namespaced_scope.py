"""A namespaced control plane (``init --scope Namespaced``) reads only the KubeFed namespace:
its member identity holds a Role there and nothing cluster-wide to list (docs/security.md)."""

from __future__ import annotations

from tests.sim.helpers import cm, fed_configmap, fed_deployment, fleet

NS = "kube-federation-system"


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
