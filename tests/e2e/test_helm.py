"""Helm with the post-renderer: real Helm 4 (the plugin) and Helm 3 (the executable)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_kubefed.core import application as app
from tests.conftest import BIN, ROOT
from tests.e2e import testbed
from tests.e2e.conftest import REQUIRED, Plane, eventually, rejoin

pytestmark = pytest.mark.e2e
CHART = str(ROOT / "tests/fixtures/shop")
HELM4 = testbed.BIN / "helm"
HELM3 = testbed.BIN / "helm3"
RENDERER = str(BIN / "kubefed-post-renderer")


@pytest.fixture(scope="module")
def helm_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if not (HELM4.exists() and HELM3.exists()):
        message = "helm binaries missing: run `make testbin`"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("helm")
    # Separate homes: a v1 plugin.yaml in a shared plugins dir would break Helm 3's loader.
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HELM_DATA_HOME": str(home / "data"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
    }
    res = subprocess.run(
        [str(HELM4), "plugin", "install", str(ROOT)], capture_output=True, text=True, env=env
    )
    assert res.returncode == 0, res.stderr
    return env


def helm(env: dict[str, str], exe: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert res.returncode == 0, res.stderr
    return res


def renderer(version: int) -> list[str]:
    return ["--post-renderer", "kubefed" if version == 4 else RENDERER]


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_plugin_listed_under_helm4(helm_env: dict[str, str]) -> None:
    out = helm(helm_env, HELM4, "plugin", "list").stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("kubefed"))
    assert "postrenderer/v1" in line


@pytest.mark.parametrize("version", [3, 4])
def test_template_produces_federated_objects(helm_env: dict[str, str], version: int) -> None:
    exe = HELM4 if version == 4 else HELM3
    out = helm(
        helm_env,
        exe,
        "template",
        "shop",
        CHART,
        *renderer(version),
        "--post-renderer-args=--clusters=member1,member2",
    ).stdout
    by_kind = {d["kind"]: d for d in docs(out)}
    for kind in (
        "FederatedDeployment",
        "FederatedService",
        "FederatedConfigMap",
        "FederatedSecret",
        "FederatedServiceAccount",
        "FederatedIngress",
        "FederatedHorizontalPodAutoscaler",
        "FederatedWidget",
    ):
        assert kind in by_kind, (kind, sorted(by_kind))
    deploy = by_kind["FederatedDeployment"]
    assert deploy["spec"]["placement"] == {"clusters": [{"name": "member1"}, {"name": "member2"}]}
    assert deploy["spec"]["overrides"] == [
        {"clusterName": "member2", "clusterOverrides": [{"path": "/spec/replicas", "value": 4}]}
    ]
    assert "annotations" not in deploy["spec"]["template"].get("metadata", {})  # hints consumed
    assert by_kind["FederatedSecret"]["spec"]["placement"] == {"clusters": [{"name": "member1"}]}
    if version == 4:  # Helm 4 sends hooks; they pass through unchanged
        assert by_kind["Job"]["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    else:
        assert "# Source: shop/templates/deployment.yaml" in out


def test_helm3_show_only_still_works(helm_env: dict[str, str]) -> None:
    out = helm(
        helm_env, HELM3, "template", "shop", CHART, *renderer(3), "--show-only", "templates/configmap.yaml"
    ).stdout
    assert [d["kind"] for d in docs(out)] == ["FederatedConfigMap"]


def test_failure_is_one_line_and_nonzero(helm_env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- clusterName: x\n  clusterOverrides: [{path: /kind, value: y}]\n")
    log = tmp_path / "renderer.log"
    res = helm(
        helm_env,
        HELM4,
        "template",
        "shop",
        CHART,
        *renderer(4),
        f"--post-renderer-args=--overrides={bad}",
        f"--post-renderer-args=--log-file={log}",
        check=False,
    )
    assert res.returncode != 0
    assert "invalid overrides" in log.read_text()  # Helm 4 hides the plugin's stderr
    res = helm(
        helm_env,
        HELM3,
        "template",
        "shop",
        CHART,
        *renderer(3),
        f"--post-renderer-args=--overrides={bad}",
        check=False,
    )
    assert res.returncode != 0 and "invalid overrides" in res.stderr


@pytest.fixture(scope="module")
def hpa_enabled(plane: Plane) -> None:
    """The chart has an HPA: enable the type and refresh the members' roles, as a user would."""
    from tests.e2e.conftest import kubefed

    kubefed(plane.kubeconfig, "enable", "hpa", "--host-cluster-context", plane.host_context)
    rejoin(plane)


class ShopRelease:
    """The shop chart as release ``shop`` in namespace ``ns`` of the host, through the
    post-renderer (its namespace federated to member1 and member2, Widgets passed through)."""

    def __init__(self, plane: Plane, env: dict[str, str], version: int, ns: str, *extra: str) -> None:
        self.plane, self.env, self.ns = plane, env, ns
        self.exe = HELM4 if version == 4 else HELM3
        self.common = ["--kubeconfig", plane.kubeconfig, "--kube-context", plane.host_context, "-n", ns]
        self.args = [
            *renderer(version),
            f"--post-renderer-args=--namespace={ns}",
            "--post-renderer-args=--federate-namespace",
            "--post-renderer-args=--clusters=member1,member2",
            "--post-renderer-args=--pass-through=Widget",
            *extra,
        ]

    def install(self) -> None:
        helm(
            self.env,
            self.exe,
            "install",
            "shop",
            CHART,
            *self.common,
            "--create-namespace",
            "--no-hooks",
            *self.args,
        )

    def upgrade_reaches_the_members(self) -> None:
        helm(
            self.env,
            self.exe,
            "upgrade",
            "shop",
            CHART,
            *self.common,
            "--no-hooks",
            "--set",
            "greeting=bye",
            *self.args,
        )
        m2 = self.plane.member("member2")
        eventually(
            lambda: m2.get("v1", "ConfigMap", self.ns, "shop-config")["data"] == {"greeting": "bye"},
            90,
            what="upgrade reached the members",
        )

    def uninstall(self) -> None:
        helm(self.env, self.exe, "uninstall", "shop", *self.common, "--no-hooks")

    def members_emptied(self, timeout: float) -> None:
        eventually(
            lambda: (
                self.plane.get_or_none("member1", "apps/v1", "Deployment", self.ns, "shop-web") is None
                and self.plane.get_or_none("member2", "v1", "ConfigMap", self.ns, "shop-config") is None
            ),
            timeout,
            what="uninstall removed the members' objects",
        )


@pytest.mark.parametrize("version", [4, 3])
def test_install_upgrade_uninstall(
    plane: Plane, helm_env: dict[str, str], hpa_enabled: None, version: int
) -> None:
    ns = f"shop{version}"
    release = ShopRelease(plane, helm_env, version, ns)
    release.install()
    m1, m2 = plane.member("member1"), plane.member("member2")
    eventually(
        lambda: m2.get("apps/v1", "Deployment", ns, "shop-web")["spec"]["replicas"] == 4,
        90,
        what="deployment with member2's override",
    )
    assert eventually(lambda: m1.get("apps/v1", "Deployment", ns, "shop-web"))["spec"]["replicas"] == 2
    eventually(lambda: m1.get("v1", "Secret", ns, "shop-secret"))
    assert plane.get_or_none("member2", "v1", "Secret", ns, "shop-secret") is None  # the chart's hint
    eventually(lambda: m2.get("v1", "ConfigMap", ns, "shop-config")["data"] == {"greeting": "hello"})
    assert (
        plane.get_or_none("host", "apps/v1", "Deployment", ns, "shop-web") is None
    )  # the host holds federated
    release.upgrade_reaches_the_members()
    release.uninstall()
    release.members_emptied(90)


@pytest.mark.parametrize("version", [4, 3])
def test_a_chart_installed_as_one_application(
    plane: Plane, helm_env: dict[str, str], hpa_enabled: None, version: int
) -> None:
    ns, name = f"shopapp{version}", f"shop{version}"
    release = ShopRelease(plane, helm_env, version, ns, f"--post-renderer-args=--application={name}")
    release.install()
    fapp = plane.host.get(app.API_VERSION, app.KIND, ns, name)
    kinds = {c["kind"] for c in fapp["spec"]["components"]}
    assert {"Deployment", "Service", "ConfigMap", "Secret"} <= kinds, kinds
    assert "Widget" not in kinds  # passed through, as asked
    m1, m2 = plane.member("member1"), plane.member("member2")
    eventually(lambda: m1.get("apps/v1", "Deployment", ns, "shop-web"), 90, what="deployment on member1")
    eventually(lambda: m2.get("v1", "ConfigMap", ns, "shop-config")["data"] == {"greeting": "hello"}, 90)
    # The chart's per-cluster replicas hint became an application override by cluster name.
    eventually(lambda: m2.get("apps/v1", "Deployment", ns, "shop-web")["spec"]["replicas"] == 4, 90)
    status = eventually(
        lambda: (plane.host.get(app.API_VERSION, app.KIND, ns, name).get("status") or {}).get("clusters"),
        90,
        what="app status",
    )
    assert {c["name"] for c in status} == {"member1", "member2"}
    release.upgrade_reaches_the_members()
    release.uninstall()
    eventually(
        lambda: plane.get_or_none("host", app.API_VERSION, app.KIND, ns, name) is None,
        60,
        what="the application deleted by helm",
    )
    release.members_emptied(120)


@pytest.mark.parametrize("version", [3, 4])
def test_an_empty_chart_is_valid_output(helm_env: dict[str, str], tmp_path: Path, version: int) -> None:
    chart = tmp_path / "empty"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: empty\nversion: 0.1.0\n")
    (chart / "templates" / "NOTES.txt").write_text("nothing to install\n")
    exe = HELM4 if version == 4 else HELM3
    res = helm(helm_env, exe, "template", "empty", str(chart), *renderer(version))
    assert docs(res.stdout) == []  # Helm 4 said "post-renderer produced empty output"


GADGET_CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.charts.example.org
spec:
  group: charts.example.org
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"""


def test_a_chart_with_crds_and_custom_resources_converges(
    plane: Plane, helm_env: dict[str, str], tmp_path: Path
) -> None:
    """--federate-crds: the CRD reaches the members, the custom resource waits for it
    (TypeNotServed), then follows; uninstall never hangs on the CRD's removal."""
    from tests.e2e.conftest import kubefed

    chart = tmp_path / "gadgets"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: gadgets\nversion: 0.1.0\n")
    (chart / "templates" / "crd.yaml").write_text(GADGET_CRD)
    (chart / "templates" / "gadget.yaml").write_text(
        "apiVersion: charts.example.org/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 3}\n"
    )
    crd_file = tmp_path / "crd.yaml"
    crd_file.write_text(GADGET_CRD)
    for what in (["customresourcedefinitions"], ["-f", str(crd_file)]):
        kubefed(plane.kubeconfig, "enable", *what, "--host-cluster-context", plane.host_context)
    rejoin(plane)
    ns = "gadgets"
    common = ["--kubeconfig", plane.kubeconfig, "--kube-context", plane.host_context, "-n", ns]
    args = [
        *renderer(4),
        "--post-renderer-args=--federate-crds",
        f"--post-renderer-args=--namespace={ns}",
        "--post-renderer-args=--federate-namespace",
        "--post-renderer-args=--clusters=member1,member2",
    ]
    helm(helm_env, HELM4, "install", "gadgets", str(chart), *common, "--create-namespace", *args)
    for member in ("member1", "member2"):
        gadget = eventually(
            lambda m=member: plane.member(m).get("charts.example.org/v1", "Gadget", ns, "g"),  # type: ignore[misc]
            120,
            what=f"the gadget in {member}",
        )
        assert gadget["spec"] == {"size": 3}
    helm(helm_env, HELM4, "uninstall", "gadgets", *common)
    eventually(
        lambda: (
            plane.get_or_none("host", "types.kubefed.io/v1beta1", "FederatedGadget", ns, "g") is None
            and plane.get_or_none(
                "member1",
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "gadgets.charts.example.org",
            )
            is None
        ),
        120,
        what="uninstall completed on the host and in the members",
    )
