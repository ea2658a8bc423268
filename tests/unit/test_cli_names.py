"""federate, render and the post-renderer agree on names a custom resource cannot have."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from kubectl_kubefed.core.naming import federated_name
from kubectl_kubefed.kube.federate_online import contents_to_federate
from tests.conftest import ROOT, run_cli

CHART = """
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:cert-manager:controller", labels: {app: cert-manager}}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:cert-manager:controller"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:cert-manager:controller"}
subjects: [{kind: ServiceAccount, name: cert-manager, namespace: cert-manager}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: "cert-manager:leaderelection", namespace: cert-manager}
rules: []
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: cert-manager, namespace: cert-manager}
"""
FLEET = str(ROOT / "examples/demo/clusters.yaml")
ORIGINAL = {
    ("ClusterRole", "system:cert-manager:controller"),
    ("ClusterRoleBinding", "system:cert-manager:controller"),
    ("Role", "cert-manager:leaderelection"),
    ("ServiceAccount", "cert-manager"),
}


def test_federate_render_and_the_post_renderer_agree(tmp_path: Path) -> None:
    federated = run_cli("federate", "-f", "-", stdin=CHART)
    assert federated.returncode == 0, federated.stderr
    feds = [d for d in yaml.safe_load_all(federated.stdout) if d]
    assert {(d["kind"], d["metadata"]["name"]) for d in feds} == {
        ("FederatedClusterRole", federated_name("system:cert-manager:controller")),
        ("FederatedClusterRoleBinding", federated_name("system:cert-manager:controller")),
        ("FederatedRole", federated_name("cert-manager:leaderelection")),
        ("FederatedServiceAccount", "cert-manager"),
    }

    post = run_cli(stdin=CHART, exe="kubefed-post-renderer")
    assert post.returncode == 0, post.stderr
    assert [d for d in yaml.safe_load_all(post.stdout) if d] == feds

    fed_file = tmp_path / "fed.yaml"
    namespace = (
        "---\napiVersion: types.kubefed.io/v1beta1\nkind: FederatedNamespace\n"
        "metadata: {name: cert-manager, namespace: cert-manager}\n"
        "spec: {placement: {clusterSelector: {}}}\n"
    )
    fed_file.write_text(federated.stdout + namespace)
    rendered = run_cli("render", "-f", str(fed_file), "-f", FLEET, "-o", "json")
    assert rendered.returncode == 0, rendered.stderr
    clusters = json.loads(rendered.stdout)["clusters"]
    assert clusters
    for objs in clusters.values():
        assert {(o["kind"], o["metadata"]["name"]) for o in objs} - {
            ("Namespace", "cert-manager")
        } == ORIGINAL

    out = tmp_path / "out"
    written = run_cli("render", "-f", str(fed_file), "-f", FLEET, "--output-dir", str(out))
    assert written.returncode == 0, written.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{c}.yaml" for c in clusters)
    for cluster in clusters:
        docs = [d for d in yaml.safe_load_all((out / f"{cluster}.yaml").read_text()) if d]
        assert ("ClusterRole", "system:cert-manager:controller") in {
            (d["kind"], d["metadata"]["name"]) for d in docs
        }


def test_federate_contents_takes_objects_of_any_name() -> None:
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": {"name": "app:reader"}}
    root_ca = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}}
    assert contents_to_federate([role, root_ca]) == [role]
