"""``kubectl kubefed simulate`` through the installed executable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

DEMO = str(ROOT / "examples/demo/scenario.yaml")


def test_demo_json_shape_and_final_state() -> None:
    res = run_cli("simulate", DEMO, "-o", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"settled", "virtualSeconds", "clusters", "federated", "applications", "requests"}
    assert out["applications"] == []
    assert out["settled"] is True
    assert set(out["clusters"]) == {"cluster1", "cluster2", "cluster3"}
    assert all(c["ready"] for c in out["clusters"].values())
    kinds = {
        c: sorted(
            o["kind"]
            for o in v["objects"]
            if o["metadata"].get("namespace") == "demo"
            or (o["kind"] == "Namespace" and o["metadata"]["name"] == "demo")
        )
        for c, v in out["clusters"].items()
    }
    assert kinds["cluster3"] == ["ConfigMap", "Deployment", "Namespace"]
    assert kinds["cluster1"] == ["Deployment", "Namespace"]
    deploy2 = next(o for o in out["clusters"]["cluster2"]["objects"] if o["kind"] == "Deployment")
    assert deploy2["spec"]["replicas"] == 2
    deploy1 = next(o for o in out["clusters"]["cluster1"]["objects"] if o["kind"] == "Deployment")
    assert deploy1["spec"]["replicas"] == 3  # the hand-made drift was reverted
    assert {f["kind"] for f in out["federated"]} == {
        "FederatedNamespace",
        "FederatedDeployment",
        "FederatedConfigMap",
    }
    assert set(out["requests"]["cluster1"]) >= {"create", "update", "delete", "get", "list", "watch"}


def test_every_step_lists_one_state_per_step_and_is_deterministic() -> None:
    first = run_cli("simulate", DEMO, "-o", "json", "--every-step", "--seed", "7")
    second = run_cli("simulate", DEMO, "-o", "json", "--every-step", "--seed", "7")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    states = json.loads(first.stdout)
    assert len(states) == 7
    offline = states[3]
    assert offline["clusters"]["cluster3"]["ready"] is False
    fed = next(f for f in offline["federated"] if f["kind"] == "FederatedDeployment")
    assert {"name": "cluster3", "status": "ClusterNotReady"}.items() <= next(
        c for c in fed["status"]["clusters"] if c["name"] == "cluster3"
    ).items()


def test_table_output_mentions_changes() -> None:
    res = run_cli("simulate", DEMO)
    assert res.returncode == 0, res.stderr
    assert "cluster3: NOT READY" in res.stdout
    assert "cluster3: created ConfigMap demo/demo-config" in res.stdout
    assert "Propagation=False (CheckClusters)  cluster3: ClusterNotReady" in res.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: []\n", "clusters must be a non-empty list"),
        ("clusters: [{name: a}]\nsteps: [{apply: [], delete: {}}]\n", "step 1: exactly one action"),
        ("clusters: [{name: a}]\nsteps: [{cluster: {name: b, ready: false}}]\n", "step 1: unknown cluster b"),
        ("clusters: [{name: a}]\nsteps: [{advance: soon}]\n", "step 1: advance"),
        ("clusters: [{name: a}]\nsteps: [{faults: {cluster: a, errorRate: 2}}]\n", "errorRate"),
        ("clusters: [{name: a}]\nsteps: [{teleport: 1}]\n", "unknown key teleport"),
        ("clusters: [{name: a}\n", "invalid YAML"),
    ],
)
def test_bad_scenarios(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    res = run_cli("simulate", str(path))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_members_and_faults_and_settle_false(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text("""
clusters: [{name: a}, {name: b}]
kubefedConfig: {adoptResources: Disabled}
members:
  b:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg, namespace: shop}, data: {mine: "1"}}
steps:
- apply:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - {apiVersion: types.kubefed.io/v1beta1, kind: FederatedNamespace, metadata: {name: shop, namespace: shop},
     spec: {placement: {clusterSelector: {}}}}
  - {apiVersion: types.kubefed.io/v1beta1, kind: FederatedConfigMap, metadata: {name: cfg, namespace: shop},
     spec: {template: {data: {k: v}}, placement: {clusterSelector: {}}}}
- faults: {cluster: a, errorRate: 1.0, verbs: [update]}
- apply:
  - {apiVersion: types.kubefed.io/v1beta1, kind: FederatedConfigMap, metadata: {name: cfg, namespace: shop},
     spec: {template: {data: {k: v2}}, placement: {clusterSelector: {}}}}
  settle: false
- advance: 30s
""")
    res = run_cli("simulate", str(tmp_path / "s.yaml"), "-o", "json", "--every-step")
    assert res.returncode == 0, res.stderr
    states = json.loads(res.stdout)
    cm = next(f for f in states[0]["federated"] if f["kind"] == "FederatedConfigMap")
    assert {c["name"]: c.get("status", "") for c in cm["status"]["clusters"]} == {
        "a": "",
        "b": "AlreadyExists",
    }
    assert states[2]["settled"] is False
    cm = next(f for f in states[3]["federated"] if f["kind"] == "FederatedConfigMap")
    assert {c["name"]: c.get("status", "") for c in cm["status"]["clusters"]}["a"] == "UpdateFailed"
    b_cm = next(o for o in states[3]["clusters"]["b"]["objects"] if o["kind"] == "ConfigMap")
    assert b_cm["data"] == {"mine": "1"}
