"""``kubectl kubefed status`` names member objects that have another name (``system:x``)."""

from __future__ import annotations

from kubectl_kubefed.cli import status_view
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.federate import federate

ROLE = {
    "apiVersion": "rbac.authorization.k8s.io/v1",
    "kind": "ClusterRole",
    "metadata": {"name": "system:cert-manager:controller"},
    "rules": [],
}


def test_status_shows_and_finds_the_member_name() -> None:
    fed = federate(ROLE, tc.lookup("clusterroles.rbac.authorization.k8s.io")).obj
    fed["status"] = {"clusters": [{"name": "c1"}], "conditions": [{"type": "Propagation", "status": "True"}]}
    row = status_view.summary(fed)
    assert row["memberName"] == "system:cert-manager:controller"
    assert row["name"] == fed["metadata"]["name"] != row["memberName"]
    line = status_view.table([row]).splitlines()[1]
    assert f"{row['name']} (system:cert-manager:controller)" in line
    assert status_view.matches(fed, "system:cert-manager:controller")
    assert status_view.matches(fed, row["name"])
    assert not status_view.matches(fed, "system:cert-manager:other")


def test_an_ordinary_name_is_shown_once() -> None:
    fed = federate(
        {**ROLE, "metadata": {"name": "view"}}, tc.lookup("clusterroles.rbac.authorization.k8s.io")
    ).obj
    row = status_view.summary(fed)
    assert row["memberName"] == row["name"] == "view"
    assert "view (view)" not in status_view.table([row])
    assert status_view.matches(fed, "view") and status_view.matches(fed, None)


def test_only_the_pull_column_tells_the_modes_apart() -> None:
    fed = federate(
        {**ROLE, "metadata": {"name": "view"}}, tc.lookup("clusterroles.rbac.authorization.k8s.io")
    ).obj
    fed["status"] = {
        "clusters": [{"name": "a"}, {"name": "b"}],
        "conditions": [{"type": "Propagation", "status": "True"}],
    }
    pushed, pulled = status_view.summary(fed), status_view.summary(fed, frozenset({"b"}))
    assert pulled["modes"] == {"a": "Push", "b": "Pull"} and pushed["modes"] == {"a": "Push", "b": "Push"}
    assert {k: v for k, v in pulled.items() if k != "modes"} == {
        k: v for k, v in pushed.items() if k != "modes"
    }
    header, line = status_view.table([pulled]).splitlines()
    assert header.split()[-1] == "PULL" and line.split()[-1] == "b"
    assert status_view.table([pushed]).splitlines()[1].split()[-1] == "-"
