"""Template annotations on real members, next to those the member's deployment controller
writes (docs/deviations.md, "Member objects")."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.e2e.conftest import Plane, eventually, update_retrying

pytestmark = pytest.mark.e2e
FED = "types.kubefed.io/v1beta1"
OWNED = "kubefed.io/owned-annotations"
REVISION = "deployment.kubernetes.io/revision"  # the member's deployment controller writes it
SCRAPE = "prometheus.io/scrape"
INJECT = "cert-manager.io/inject-ca-from-secret"


def federated_deployment(ns: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": FED,
        "kind": "FederatedDeployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": annotations},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
                    },
                },
            },
            "placement": {"clusters": [{"name": "member1"}]},
        },
    }


def test_template_annotations_follow_the_template_member_ones_stay(plane: Plane, ns: str) -> None:
    plane.host.create(federated_deployment(ns, {SCRAPE: "true", INJECT: f"{ns}/ca"}))
    member = plane.member("member1")

    def annotations_are(expected: dict[str, str]) -> dict[str, str]:
        got = dict(member.get("apps/v1", "Deployment", ns, "web")["metadata"].get("annotations") or {})
        assert REVISION in got, got
        assert {k: v for k, v in got.items() if k != REVISION} == expected, got
        return got

    first = {SCRAPE: "true", INJECT: f"{ns}/ca", OWNED: f"{INJECT},{SCRAPE}"}
    eventually(lambda: annotations_are(first), what="template annotations and the revision")

    def drop_inject(fed: dict[str, Any]) -> None:
        fed["spec"]["template"]["metadata"]["annotations"] = {SCRAPE: "false"}

    update_retrying(plane.host, FED, "FederatedDeployment", ns, "web", drop_inject)
    second = {SCRAPE: "false", OWNED: SCRAPE}
    settled = eventually(lambda: annotations_are(second), what="inject removed, revision kept")
    for _ in range(10):  # the controller and the deployment controller do not fight
        time.sleep(0.3)
        assert annotations_are(second) == settled
