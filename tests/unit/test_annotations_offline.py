"""Annotations survive conversion: ``federate -f`` and the Helm post-renderer keep them in
the template (kubefedctl dropped them), and ``render`` shows them on every member object."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kubectl_kubefed import postrender
from tests.conftest import ROOT, run_cli
from tests.inprocess import run_inprocess

OWNED = "kubefed.io/owned-annotations"
INJECT = "cert-manager.io/inject-ca-from-secret"
SCRAPE = "prometheus.io/scrape"

# As a chart renders them for Helm 4 (its filename annotation, a chart hint, Helm's own).
CHART = f"""apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: cert-manager-webhook
  annotations:
    {INJECT}: cert-manager/cert-manager-webhook-ca
    meta.helm.sh/release-name: cert-manager
    postrenderer.helm.sh/postrender-filename: templates/webhook-validating.yaml
webhooks: []
---
apiVersion: v1
kind: Service
metadata:
  name: cert-manager
  namespace: cert-manager
  annotations:
    {SCRAPE}: "true"
    prometheus.io/port: "9402"
    kubefed.io/clusters: cluster1,cluster2
    helm.sh/resource-policy: keep
spec:
  ports: [{{port: 9402, name: tcp-prometheus-servicemonitor}}]
"""


def by_kind(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in objs if o}


def test_federate_file_keeps_annotations_in_the_template() -> None:
    res = run_cli("federate", "-f", "-", stdin=CHART)
    assert res.returncode == 0, res.stderr
    assert "annotations" not in res.stderr  # no "annotations are not federated" warning
    feds = by_kind(list(yaml.safe_load_all(res.stdout)))
    webhook = feds["FederatedValidatingWebhookConfiguration"]
    assert webhook["spec"]["template"]["metadata"]["annotations"] == {
        INJECT: "cert-manager/cert-manager-webhook-ca"
    }
    assert "annotations" not in webhook["metadata"]
    service = feds["FederatedService"]
    assert service["spec"]["template"]["metadata"]["annotations"] == {
        SCRAPE: "true",
        "prometheus.io/port": "9402",
    }


def test_post_renderer_keeps_annotations_in_the_template_and_helms_on_the_federated_object() -> None:
    code, out, err = run_inprocess(postrender.main, ["--clusters=cluster1,cluster2,cluster3"], CHART)
    assert code == 0, err
    assert "annotations" not in err
    feds = by_kind(list(yaml.safe_load_all(out)))
    webhook = feds["FederatedValidatingWebhookConfiguration"]
    assert webhook["spec"]["template"]["metadata"]["annotations"] == {
        INJECT: "cert-manager/cert-manager-webhook-ca"
    }
    assert webhook["metadata"]["annotations"] == {
        "meta.helm.sh/release-name": "cert-manager",
        "postrenderer.helm.sh/postrender-filename": "templates/webhook-validating.yaml",
    }
    service = feds["FederatedService"]
    assert service["spec"]["template"]["metadata"]["annotations"] == {
        SCRAPE: "true",
        "prometheus.io/port": "9402",
    }
    assert service["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
    assert service["spec"]["placement"] == {"clusters": [{"name": "cluster1"}, {"name": "cluster2"}]}


def test_render_shows_the_annotations_on_every_member_object() -> None:
    chart = CHART[CHART.index("apiVersion: v1\nkind: Service") :]  # types render knows by kind
    code, out, err = run_inprocess(
        postrender.main, ["--namespace=cert-manager", "--federate-namespace"], chart
    )
    assert code == 0, err
    res = run_cli(
        "render", "-f", str(ROOT / "examples/demo/clusters.yaml"), "-f", "-", "-o", "json", stdin=out
    )
    assert res.returncode == 0, res.stderr
    clusters = json.loads(res.stdout)["clusters"]
    services = {c: by_kind(objs).get("Service") for c, objs in clusters.items()}
    assert services.pop("cluster3") is None  # the chart's hint placed the Service on two clusters
    for service in services.values():
        assert service is not None
        assert service["metadata"]["annotations"] == {
            SCRAPE: "true",
            "prometheus.io/port": "9402",
            OWNED: f"prometheus.io/port,{SCRAPE}",
        }
    assert "annotations" not in by_kind(clusters["cluster3"])["Namespace"]["metadata"]
