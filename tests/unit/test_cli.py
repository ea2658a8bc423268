"""The installed executables, run as users run them."""

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, ROOT, require_binary, run_cli

DEMO = [str(ROOT / "examples/demo/clusters.yaml"), str(ROOT / "examples/demo/app.yaml")]

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {app: web}, uid: "123"}
spec: {replicas: 2}
status: {replicas: 2}
"""


def test_federate_stdin_yaml() -> None:
    res = run_cli("federate", "-f", "-", stdin=DEPLOYMENT)
    assert res.returncode == 0, res.stderr
    obj = yaml.safe_load(res.stdout)
    assert obj["kind"] == "FederatedDeployment"
    assert obj["spec"]["template"] == {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"replicas": 2},
    }


def test_federate_json_is_a_list_with_placement_and_overrides(tmp_path: Path) -> None:
    overrides = tmp_path / "o.yaml"
    overrides.write_text(
        "- kind: Deployment\n  name: web\n  overrides:\n  - clusterName: c2\n"
        "    clusterOverrides: [{path: /spec/replicas, value: 5}]\n"
    )
    res = run_cli(
        "federate",
        "-f",
        "-",
        "-o",
        "json",
        "--cluster-selector",
        "region in (eu,us)",
        "--overrides",
        str(overrides),
        stdin=DEPLOYMENT,
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["kind"] == "List"
    spec = out["items"][0]["spec"]
    assert spec["placement"] == {
        "clusterSelector": {
            "matchLabels": {},
            "matchExpressions": [{"key": "region", "operator": "In", "values": ["eu", "us"]}],
        }
    }
    assert spec["overrides"] == [
        {"clusterName": "c2", "clusterOverrides": [{"path": "/spec/replicas", "value": 5}]}
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["federate", "-f", "-"], "a: [\n", "<stdin>: document 1 (line 2): invalid YAML"),
        (["federate", "-f", "-"], "- 1\n", "<stdin>: document 1: expected an object"),
        (["federate", "-f", "-"], "metadata: {name: x}\n", "<stdin>: document 1: missing kind"),
        (["federate", "-f", "-", "--cluster-selector", "a in ("], "", "--cluster-selector"),
        (["federate", "-f", "missing.yaml"], "", "missing.yaml: no such file"),
        (["render", "-f", "-"], DEPLOYMENT, "is not a federated object"),
        (["enable", "nothing", "-o", "yaml"], "", 'unknown type "nothing"'),
    ],
)
def test_bad_input_one_line_exit_2(args: list[str], stdin: str, message: str) -> None:
    res = run_cli(*args, stdin=stdin)
    assert res.returncode == 2
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert message in lines[0]
    assert "Traceback" not in res.stderr


def test_invalid_overrides_file(tmp_path: Path) -> None:
    bad = tmp_path / "o.yaml"
    bad.write_text("- clusterName: c\n  clusterOverrides: [{path: /metadata/name, value: x}]\n")
    res = run_cli("federate", "-f", "-", "--overrides", str(bad), stdin=DEPLOYMENT)
    assert res.returncode == 2
    assert "invalid overrides" in res.stderr


def test_render_demo_json_shape() -> None:
    res = run_cli("render", *[a for p in DEMO for a in ("-f", p)], "-o", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"clusters", "federated"}
    kinds = {c: [o["kind"] for o in objs] for c, objs in out["clusters"].items()}
    assert kinds == {
        "cluster1": ["Deployment", "ConfigMap", "Namespace", "Service"],
        "cluster2": ["Deployment", "ConfigMap", "Namespace", "Service"],
        "cluster3": ["Deployment", "Namespace", "Service"],
    }
    deploy2 = out["clusters"]["cluster2"][0]
    assert deploy2["spec"]["replicas"] == 5
    assert deploy2["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert out["clusters"]["cluster1"][0]["spec"]["replicas"] == 3
    for entry in out["federated"]:
        assert set(entry) == {
            "apiVersion",
            "kind",
            "namespace",
            "name",
            "clusters",
            "reason",
            "errors",
        }


def test_render_output_dir(tmp_path: Path) -> None:
    res = run_cli("render", *[a for p in DEMO for a in ("-f", p)], "--output-dir", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["cluster1.yaml", "cluster2.yaml", "cluster3.yaml"]
    docs = list(yaml.safe_load_all((tmp_path / "out/cluster3.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["Deployment", "Namespace", "Service"]


def test_render_bad_input_writes_nothing(tmp_path: Path) -> None:
    res = run_cli("render", "-f", "-", "--output-dir", str(tmp_path / "out"), stdin=DEPLOYMENT)
    assert res.returncode == 2
    assert not (tmp_path / "out").exists()


def test_enable_prints_ftc_and_crd() -> None:
    res = run_cli("enable", "deployments.apps", "-o", "yaml")
    assert res.returncode == 0, res.stderr
    docs = list(yaml.safe_load_all(res.stdout))
    assert [d["kind"] for d in docs] == ["FederatedTypeConfig", "CustomResourceDefinition"]


def test_enable_from_crd_file(tmp_path: Path) -> None:
    crd = tmp_path / "crd.yaml"
    crd.write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
        "spec:\n  group: example.com\n  scope: Namespaced\n  names: {kind: Widget, plural: widgets}\n"
        "  versions: [{name: v1, served: true, storage: true}]\n"
    )
    res = run_cli("enable", "-f", str(crd), "-o", "json")
    assert res.returncode == 0, res.stderr
    items = json.loads(res.stdout)["items"]
    assert items[0]["metadata"]["name"] == "widgets.example.com"
    assert items[1]["metadata"]["name"] == "federatedwidgets.types.kubefed.io"


def test_post_renderer_executable() -> None:
    res = run_cli(stdin=DEPLOYMENT, exe="kubefed-post-renderer")
    assert res.returncode == 0, res.stderr
    assert yaml.safe_load(res.stdout)["kind"] == "FederatedDeployment"


def test_real_kubectl_discovers_the_plugin() -> None:
    require_binary("kubectl")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    res = subprocess.run(
        ["kubectl", "kubefed", "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert res.returncode == 0, res.stderr
    assert "federate" in res.stdout and "render" in res.stdout
    res = subprocess.run(
        ["kubectl", "kubefed", "federate", "-f", "-"],
        input=DEPLOYMENT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert "FederatedDeployment" in res.stdout
