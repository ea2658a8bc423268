"""A ClusterRole named with ':' (as cert-manager's) through real kube-apiservers."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from kubectl_kubefed.core.naming import federated_name
from tests.e2e.conftest import Plane, eventually, update_retrying
from tests.e2e.test_commands_e2e import run
from tests.e2e.test_propagation_e2e import FED, MANAGED
from tests.e2e.test_security_e2e import join

pytestmark = pytest.mark.e2e
RBAC = "rbac.authorization.k8s.io/v1"


def test_a_cluster_role_named_with_colons_propagates_under_its_name(plane: Plane) -> None:
    name = f"system:e2e-names:{secrets.token_hex(3)}"
    fed_name = federated_name(name)
    member = plane.member("member1")
    join(plane, "member1", "--allow-rbac")  # writing RBAC objects is opt-in (docs/security.md)
    plane.host.create(
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        }
    )
    try:
        _, out, _ = run(plane, "federate", "clusterroles", name, "--clusters", "member1")
        assert f"federatedclusterrole.types.kubefed.io/{fed_name} created" in out

        def verbs() -> Any:
            obj = member.get(RBAC, "ClusterRole", "", name)
            assert obj["metadata"]["labels"][MANAGED] == "true"
            return obj["rules"][0]["verbs"]

        assert eventually(verbs, 60, what="the ClusterRole under its own name") == ["get"]

        def listed() -> bool:
            _, out, _ = run(plane, "status", "clusterroles", name)
            assert f"{fed_name} ({name})" in out and "1/1" in out, out
            return True

        eventually(listed, 60, what="status by the member name")
        _, out, _ = run(plane, "orphaning-deletion", "status", "clusterroles", name)
        assert out.strip() == "Disabled"

        def more(fed: dict[str, Any]) -> None:
            fed["spec"]["template"]["rules"][0]["verbs"] = ["get", "list"]

        update_retrying(plane.host, FED, "FederatedClusterRole", "", fed_name, more)
        eventually(lambda: verbs() == ["get", "list"], 60, what="the update in member1")
        plane.host.delete(FED, "FederatedClusterRole", "", fed_name)
        eventually(
            lambda: plane.get_or_none("member1", RBAC, "ClusterRole", "", name) is None,
            60,
            what="the ClusterRole deleted with its federated object",
        )
    finally:
        if plane.get_or_none("host", FED, "FederatedClusterRole", "", fed_name) is not None:
            plane.host.delete(FED, "FederatedClusterRole", "", fed_name)
        plane.host.delete(RBAC, "ClusterRole", "", name)
        join(plane, "member1")
