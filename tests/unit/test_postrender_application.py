"""``--application NAME`` (issue 15): a whole chart becomes one FederatedApplication; hooks,
CRDs, Namespaces and KubeFed objects pass through as without it (docs/application.md)."""

from __future__ import annotations

import json
from typing import Any

from kubectl_kubefed import postrender
from kubectl_kubefed.core import application as ap
from kubectl_kubefed.manifests import parse_documents
from tests.inprocess import run_inprocess

CHART = """---
# Source: shop/templates/web.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/managed-by: Helm}
  annotations: {kubefed.io/overrides: '[{clusterName: c1, clusterOverrides: [{path: /spec/replicas, value: 5}]}]'}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: "web:1"}]}
---
# Source: shop/templates/svc.yaml
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
---
# Source: shop/templates/hook.yaml
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, annotations: {helm.sh/hook: pre-install}}
spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: m}]}}}
---
# Source: shop/crds/crd.yaml
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec: {group: example.com, names: {kind: Widget, plural: widgets}, scope: Namespaced, versions: []}
"""


def run(stdin: str, *args: str) -> tuple[int, str, str]:
    return run_inprocess(postrender.main, list(args), stdin)


def objects(out: str) -> list[dict[str, Any]]:
    return [d.obj for d in parse_documents(out, "<out>")]


def test_a_chart_becomes_one_application_and_hooks_and_crds_pass_through() -> None:
    code, out, err = run(CHART, "--application=shop", "--cluster-selector=tier=prod")
    assert code == 0, err
    objs = objects(out)
    assert [o["kind"] for o in objs] == ["Job", "CustomResourceDefinition", ap.KIND]
    assert "# Source: shop/templates/hook.yaml" in out
    app = objs[-1]
    assert app["metadata"]["name"] == "shop" and "namespace" not in app["metadata"]
    assert app["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "Helm"}
    assert app["spec"]["placement"] == {"clusterSelector": {"matchLabels": {"tier": "prod"}}}
    assert [c["kind"] for c in app["spec"]["components"]] == ["Deployment", "Service"]
    assert "kubefed.io/overrides" not in json.dumps(app["spec"]["components"])
    assert app["spec"]["overrides"] == [
        {
            "clusterName": "c1",
            "component": {"kind": "Deployment", "name": "web"},
            "clusterOverrides": [{"path": "/spec/replicas", "value": 5}],
        }
    ]
    parsed = ap.parse({**app, "metadata": {**app["metadata"], "namespace": "shop"}})
    assert len(parsed.components) == 2


def test_json_output_and_the_federated_namespace() -> None:
    code, out, err = run(
        CHART, "--application=shop", "--namespace=shop", "--federate-namespace", "--format=json"
    )
    assert code == 0, err
    objs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [o["kind"] for o in objs] == ["Job", "CustomResourceDefinition", ap.KIND, "FederatedNamespace"]
    assert objs[2]["metadata"]["namespace"] == "shop"


def test_only_pass_through_objects_give_no_application() -> None:
    hook_only = CHART.split("---\n# Source: shop/templates/hook.yaml")[1]
    code, out, _ = run("---\n# Source: shop/templates/hook.yaml" + hook_only, "--application=shop")
    assert code == 0 and ap.KIND not in out


def test_bad_input_is_one_line_and_exit_2() -> None:
    code, out, err = run(CHART, "--application=Shop_1")
    assert code == 2 and out == "" and "--application" in err and err.count("\n") == 1
    other_ns = CHART.replace("metadata: {name: web}", "metadata: {name: web, namespace: other}")
    two = other_ns.replace("  name: web\n  labels", "  name: web\n  namespace: shop\n  labels")
    code, _, err = run(two, "--application=shop")
    assert code == 2 and "give --namespace" in err
    code, _, err = run(two, "--application=shop", "--namespace=shop")
    assert code == 2 and "is in namespace other" in err
