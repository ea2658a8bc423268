"""Scenarios with members that serve custom kinds only once a CRD defines them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubectl_kubefed.api.errors import InputError
from simulator import scenario as sc
from tests.sim.test_type_not_served import WIDGET, WIDGET_CRD

FED = "types.kubefed.io/v1beta1"


def fed(kind: str, obj: dict[str, Any], clusters: list[str]) -> dict[str, Any]:
    meta = {k: v for k, v in obj["metadata"].items() if k in ("name", "namespace")}
    template = {k: v for k, v in obj.items() if k not in ("kind", "metadata")}
    return {
        "apiVersion": FED,
        "kind": kind,
        "metadata": meta,
        "spec": {"template": template, "placement": {"clusters": [{"name": c} for c in clusters]}},
    }


def test_a_member_without_the_crd_waits_and_deletion_completes() -> None:
    data = {
        "clusters": [{"name": "c1", "crdsRequired": True}, {"name": "c2", "crdsRequired": True}],
        "members": {"c1": [WIDGET_CRD]},  # only c1 has the CRD
        "steps": [
            {
                "apply": [
                    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
                    fed(
                        "FederatedNamespace",
                        {"metadata": {"name": "shop", "namespace": "shop"}},
                        ["c1", "c2"],
                    ),
                    fed("FederatedWidget", WIDGET, ["c1", "c2"]),
                ],
                "settle": False,
            },
            {"advance": "60s"},
            {"delete": {"apiVersion": FED, "kind": "FederatedWidget", "namespace": "shop", "name": "w"}},
        ],
    }
    results = sc.run(sc.parse(data, "s.yaml", Path(".")))
    waiting = results[2].snapshot
    widget = next(f for f in waiting["federated"] if f["kind"] == "FederatedWidget")
    codes = {c["name"]: c.get("status", "") for c in widget["status"]["clusters"]}
    assert codes == {"c1": "", "c2": "TypeNotServed"}
    assert any(o["kind"] == "Widget" for o in waiting["clusters"]["c1"]["objects"])
    final = results[3].snapshot
    assert not any(f["kind"] == "FederatedWidget" for f in final["federated"])  # deletion completed
    assert not any(o["kind"] == "Widget" for o in final["clusters"]["c1"]["objects"])


def test_crds_required_must_be_a_boolean() -> None:
    with pytest.raises(InputError, match=r"clusters\[1\].crdsRequired must be true or false"):
        sc.parse({"clusters": [{"name": "c1", "crdsRequired": "yes"}]}, "s.yaml", Path("."))
