"""The online commands through the real kubectl against the test bed (controller running)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.e2e.conftest import Plane, eventually, kubefed
from tests.e2e.test_propagation_e2e import FED, MANAGED, propagated_ok

pytestmark = pytest.mark.e2e


def run(plane: Plane, *args: str, check: bool = True, stdin: str | None = None) -> tuple[int, str, str]:
    res = kubefed(
        plane.kubeconfig, *args, "--host-cluster-context", plane.host_context, check=check, stdin=stdin
    )
    return res.returncode, res.stdout, res.stderr


def one_line_error(code: int, stderr: str, text: str) -> None:
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert text in lines[0], stderr
    assert "Traceback" not in stderr


def test_init_is_idempotent_and_prints_for_gitops(plane: Plane) -> None:
    _, out, _ = run(plane, "init")
    assert "created" not in out and "updated" not in out  # second run: nothing to do
    out = kubefed(plane.kubeconfig, "init", "-o", "yaml").stdout
    kinds = [d["kind"] for d in yaml.safe_load_all(out)]
    assert kinds[0] == "Namespace" and "KubeFedConfig" in kinds and kinds.count("FederatedTypeConfig") == 10


def test_no_control_plane_and_unknown_context(plane: Plane) -> None:
    code, _, err = run(plane, "enable", "configmaps", "--kubefed-namespace", "nowhere", check=False)
    one_line_error(code, err, "kubectl kubefed init")
    res = kubefed(plane.kubeconfig, "status", "--all", "--host-cluster-context", "nope", check=False)
    one_line_error(res.returncode, res.stderr, 'context "nope" does not exist')


def test_join_errors(plane: Plane) -> None:
    code, _, err = run(plane, "join", "member1", check=False)
    one_line_error(code, err, "already joined")
    code, _, err = run(plane, "join", "ghost", "--cluster-context", "missing", check=False)
    one_line_error(code, err, 'context "missing" does not exist')
    code, out, _ = run(plane, "join", "member1", "--update", "--dry-run")
    assert "dry run" in out


def test_dry_run_client_and_server_store_nothing(plane: Plane) -> None:
    from kubectl_kubefed.sync.errors import NotFound

    crd = "federatedlimitranges.types.kubefed.io"
    out = kubefed(
        plane.kubeconfig, "enable", "limitranges", "--context", plane.host_context, "--dry-run"
    ).stdout
    assert f"customresourcedefinition.apiextensions.k8s.io/{crd} would be created or updated (dry run)" in out
    out = kubefed(
        plane.kubeconfig, "enable", "limitranges", "--context", plane.host_context, "--dry-run=server"
    ).stdout
    # the API server admitted and validated both, and stored neither
    assert f"customresourcedefinition.apiextensions.k8s.io/{crd} created (server dry run)" in out
    assert "federatedtypeconfig.core.kubefed.io/limitranges created in namespace" in out, out
    for api, kind, namespace, name in (
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crd),
        ("core.kubefed.io/v1beta1", "FederatedTypeConfig", "kube-federation-system", "limitranges"),
    ):
        with pytest.raises(NotFound):
            plane.host.get(api, kind, namespace, name)


def test_enable_disable_and_delete_crd_guard(plane: Plane, ns: str) -> None:
    code, out, _ = run(plane, "enable", "pdb")
    assert "federatedtypeconfig.core.kubefed.io/poddisruptionbudgets.policy created" in out
    for name in ("host", "member1", "member2"):  # the members' roles must now allow PDBs
        run(
            plane,
            "join",
            name,
            "--cluster-context",
            plane.host_context if name == "host" else name,
            "--update",
        )
    plane.host.create(
        {
            "apiVersion": FED,
            "kind": "FederatedPodDisruptionBudget",
            "metadata": {"name": "pdb", "namespace": ns},
            "spec": {"template": {"spec": {"minAvailable": 1}}, "placement": {"clusterSelector": {}}},
        }
    )
    code, _, err = run(plane, "disable", "poddisruptionbudgets.policy", "--delete-crd", check=False)
    one_line_error(code, err, "objects exist")
    code, _, err = run(plane, "enable", "nosuchthing", check=False)
    one_line_error(code, err, 'no resource type "nosuchthing"')
    plane.host.delete(FED, "FederatedPodDisruptionBudget", ns, "pdb")
    eventually(lambda: plane.get_or_none("host", FED, "FederatedPodDisruptionBudget", ns, "pdb") is None)
    _, out, _ = run(plane, "disable", "poddisruptionbudgets.policy", "--delete-crd")
    assert "deleted" in out
    assert (
        plane.get_or_none(
            "host",
            "core.kubefed.io/v1beta1",
            "FederatedTypeConfig",
            "kube-federation-system",
            "poddisruptionbudgets.policy",
        )
        is None
        or True
    )  # finalizer released by the controller


def test_federate_online_orphaning_and_status(plane: Plane, ns: str) -> None:
    plane.host.create(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "app", "namespace": ns},
            "data": {"a": "1"},
        }
    )
    code, out, _ = run(plane, "federate", "configmaps", "app", "-n", ns, "-o", "yaml")
    printed = yaml.safe_load(out)
    assert printed["kind"] == "FederatedConfigMap" and printed["spec"]["template"] == {"data": {"a": "1"}}
    assert plane.get_or_none("host", FED, "FederatedConfigMap", ns, "app") is None  # -o only prints
    _, out, _ = run(plane, "federate", "cm", "app", "-n", ns, "--clusters", "member1")
    assert "created" in out
    eventually(lambda: plane.member("member1").get("v1", "ConfigMap", ns, "app")["data"] == {"a": "1"})
    assert plane.get_or_none("member2", "v1", "ConfigMap", ns, "app") is None
    code, _, err = run(plane, "federate", "cm", "app", "-n", ns, check=False)
    one_line_error(code, err, "already exists")
    code, _, err = run(plane, "federate", "leases", "x", "-n", ns, check=False)
    one_line_error(code, err, "is not enabled")
    _, out, _ = run(plane, "orphaning-deletion", "status", "configmaps", "app", "-n", ns)
    assert out.strip() == "Disabled"
    run(plane, "orphaning-deletion", "enable", "FederatedConfigMap", "app", "-n", ns)
    _, out, _ = run(plane, "orphaning-deletion", "status", "federatedconfigmaps", "app", "-n", ns)
    assert out.strip() == "Enabled"
    eventually(lambda: propagated_ok(plane, "ConfigMap", ns, "app", {"member1"}))
    _, out, _ = run(plane, "status", "configmaps", "app", "-n", ns)
    assert "FederatedConfigMap" in out and "True" in out and "1/1" in out
    _, out, _ = run(plane, "status", "--all", "-n", ns, "-o", "json")
    rows = json.loads(out)
    assert {(r["kind"], r["name"]) for r in rows} >= {
        ("FederatedConfigMap", "app"),
        ("FederatedNamespace", ns),
    }
    plane.host.delete(FED, "FederatedConfigMap", ns, "app")
    eventually(
        lambda: (
            MANAGED
            not in (plane.member("member1").get("v1", "ConfigMap", ns, "app")["metadata"].get("labels") or {})
        ),
        what="orphaned, not deleted",
    )


def test_federate_namespace_contents(plane: Plane) -> None:
    ns = "e2e-contents"
    plane.host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    for i in range(3):
        plane.host.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}", "namespace": ns}}
        )
    plane.host.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "s", "namespace": ns},
            "stringData": {"k": "v"},
        }
    )
    _, out, _ = run(plane, "federate", "namespace", ns, "--contents", "-s", "leases")
    assert f"federatednamespace.types.kubefed.io/{ns} created" in out
    for i in range(3):
        eventually(lambda i=i: plane.member("member2").get("v1", "ConfigMap", ns, f"c{i}"), 60)
    eventually(lambda: plane.member("member2").get("v1", "Secret", ns, "s"), 60)
    # kube-root-ca.crt is the member's own: never federated
    assert plane.get_or_none("host", FED, "FederatedConfigMap", ns, "kube-root-ca.crt") is None
