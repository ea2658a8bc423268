"""``kubectl kubefed app render|federate|status`` (issue 15): offline what each cluster gets,
wrapping plain manifests, and the rolled-up status as a table or a record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from kubectl_kubefed.cli import application as cli_app
from kubectl_kubefed.cli import main as cli_main
from kubectl_kubefed.cli.output import Format
from kubectl_kubefed.core import application as ap
from tests.inprocess import run_inprocess

IMAGE = "/spec/template/spec/containers/0/image"


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    return run_inprocess(cli_main.main, list(argv), stdin)


def cluster(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "core.kubefed.io/v1beta1",
        "kind": "KubeFedCluster",
        "metadata": {"name": name, "namespace": "kube-federation-system", "labels": labels},
        "spec": {"apiEndpoint": f"https://{name}", "secretRef": {"name": name}},
    }


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "replicas": 4,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "web:1"}]},
        },
    },
}
SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"ports": [{"port": 80}]},
}


def application(**spec: Any) -> dict[str, Any]:
    return ap.wrap([DEPLOYMENT, SERVICE], "shop", "shop") | {
        "spec": {"components": [DEPLOYMENT, SERVICE], **spec}
    }


def files(tmp_path: Path, app: dict[str, Any]) -> tuple[str, str]:
    app_file, clusters_file = tmp_path / "app.yaml", tmp_path / "clusters.yaml"
    app_file.write_text(yaml.safe_dump(app))
    clusters_file.write_text(
        yaml.safe_dump_all(
            [cluster("c1", region="eu"), cluster("c2", region="asia"), cluster("c3", region="asia")]
        )
    )
    return str(app_file), str(clusters_file)


def test_render_shows_what_each_cluster_gets(tmp_path: Path) -> None:
    app = application(
        overrides=[
            {
                "clusterSelector": {"matchLabels": {"region": "asia"}},
                "component": {"kind": "Deployment", "name": "web"},
                "clusterOverrides": [{"path": IMAGE, "value": "web:asia"}],
            }
        ],
        replicas={"clusters": {"*": {"weight": 1}}},
        placement={"clusterSelector": {"matchLabels": {"region": "asia"}}},
    )
    app_file, clusters_file = files(tmp_path, app)
    code, out, err = run("app", "render", "-f", app_file, "--clusters-file", clusters_file, "-o", "json")
    assert code == 0, err
    rendered = json.loads(out)["clusters"]
    assert rendered["c1"] == []
    for name in ("c2", "c3"):
        dep = next(o for o in rendered[name] if o["kind"] == "Deployment")
        assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == "web:asia"
        assert dep["spec"]["replicas"] == 2  # the RSP's plan: 4 over two clusters
        assert {o["kind"] for o in rendered[name]} == {"Namespace", "Deployment", "Service"}
    assert "no FederatedNamespace shop given" in err
    code, out, _ = run("app", "render", "-f", app_file, "--clusters-file", clusters_file)
    assert code == 0 and out.startswith("c1: 0 objects\nc2: 3 objects")


def test_render_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    app = application()
    app["spec"]["overrides"] = [
        {"clusterName": "c1", "component": {"kind": "Job"}, "clusterOverrides": [{"path": "/a"}]}
    ]
    app_file, clusters_file = files(tmp_path, app)
    code, _, err = run("app", "render", "-f", app_file, "--clusters-file", clusters_file)
    assert code == 2 and err.count("\n") == 1 and "document 1: spec.overrides[0]: no component Job" in err
    code, _, err = run("app", "render", "-f", app_file, "--clusters-file", app_file)
    assert code == 2 and "KubeFedClusters only" in err


def test_federate_wraps_plain_manifests(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    path.write_text(yaml.safe_dump_all([ns, DEPLOYMENT, {**SERVICE, "status": {"loadBalancer": {}}}]))
    code, out, err = run(
        "app", "federate", "-f", str(path), "--name", "shop", "--cluster-selector", "region=eu"
    )
    assert code == 0, err
    app = yaml.safe_load(out)
    assert app["metadata"] == {"name": "shop", "namespace": "shop"}
    assert app["spec"]["placement"] == {"clusterSelector": {"matchLabels": {"region": "eu"}}}
    assert [c["kind"] for c in app["spec"]["components"]] == ["Deployment", "Service"]
    assert "status" not in app["spec"]["components"][1]
    ap.parse(app)


def test_federate_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        yaml.safe_dump_all([DEPLOYMENT, {**SERVICE, "metadata": {"name": "web", "namespace": "x"}}])
    )
    code, _, err = run("app", "federate", "-f", str(path), "--name", "shop")
    assert code == 2 and "give -n NAMESPACE" in err and err.count("\n") == 1
    code, _, err = run("app", "federate", "-f", str(path), "--name", "shop", "-n", "shop")
    assert code == 2 and "is in namespace x" in err
    code, _, err = run("app", "federate", "-f", str(path), "--name", "Shop!")
    assert code == 2 and "--name" in err


class FakeHost:
    def __init__(self, obj: dict[str, Any] | None) -> None:
        self.obj = obj

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        from kubectl_kubefed.sync.errors import NotFound

        if self.obj is None:
            raise NotFound("not found")
        return self.obj


def test_status_table_and_records(capsys: Any) -> None:
    status = ap.next_status(
        None,
        ap.rollup(
            1,
            [
                {
                    "kind": "FederatedDeployment",
                    "metadata": {"name": "web", "generation": 1},
                    "spec": {"template": {"spec": {"replicas": 2}}},
                    "status": {
                        "observedGeneration": 1,
                        "conditions": [{"type": "Propagation", "status": "True"}],
                        "clusters": [{"name": "c1", "remoteStatus": {"readyReplicas": 2}}, {"name": "c2"}],
                    },
                }
            ],
            total=1,
        ),
        "t",
    )
    obj = {"metadata": {"name": "shop", "namespace": "shop"}, "status": status}
    cli_app.status_run(FakeHost(obj), "shop", "shop", Format.table)
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == "FederatedApplication shop/shop: Ready=False Progressing=True Degraded=False; 1/2 clusters ready"
    )
    assert out[-3].split() == ["CLUSTER", "READY", "COMPONENTS", "REPLICAS", "PROBLEMS"]
    assert out[-2].split() == ["c1", "True", "1/1", "2/2", "-"]
    assert out[-1].split() == ["c2", "False", "1/1", "0/2", "-"]
    cli_app.status_run(FakeHost(obj), "shop", "shop", Format.json)
    record = json.loads(capsys.readouterr().out)
    assert record["name"] == "shop" and record["status"]["summary"] == "1/2 clusters ready"


def test_status_of_a_missing_application_is_one_line() -> None:
    import pytest

    from kubectl_kubefed.api.errors import ClusterError

    with pytest.raises(ClusterError, match="FederatedApplication shop/shop not found"):
        cli_app.status_run(FakeHost(None), "shop", "shop", Format.table)
