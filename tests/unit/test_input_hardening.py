"""Hostile input to the offline entry points: one error line naming the document, exit 2,
nothing written; the cases fuzzing found, each pinned."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from kubectl_kubefed import postrender
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.cli import main as cli_main
from kubectl_kubefed.cli import render as render_verb
from kubectl_kubefed.core import render as rd
from kubectl_kubefed.core.naming import federated_name
from tests.inprocess import kubectl, run_inprocess


def _cluster(name: object) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "core.kubefed.io/v1beta1",
            "kind": "KubeFedCluster",
            "metadata": {"name": name, "namespace": "kube-federation-system"},
            "spec": {"apiEndpoint": "https://x", "secretRef": {"name": "s"}},
        }
    )


FCM = """apiVersion: types.kubefed.io/v1beta1
kind: FederatedConfigMap
metadata: {name: conf}
spec: {template: {data: {a: b}}, placement: {clusterSelector: {}}}
"""


def one_error(result: tuple[int, str, str], *needles: str) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].isprintable(), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- render --output-dir: names never become paths outside DIR ------------------------------


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "..", "a/b", "../../x Y", "Cluster1"])
def test_output_dir_refuses_cluster_names_that_are_not_dns_subdomains(tmp_path: Path, name: str) -> None:
    out = tmp_path / "deep" / "out"
    text = "---\n".join([_cluster("ok"), _cluster(name), FCM])
    line = one_error(
        kubectl("render", "-f", "-", "--output-dir", str(out), stdin=text), "<stdin>: document 2"
    )
    assert "cluster name" in line or "metadata.name" in line
    assert [p for p in tmp_path.rglob("*")] == [tmp_path / "deep"] or not any(tmp_path.rglob("*.yaml"))
    assert not out.exists()


def test_output_dir_writes_only_inside_dir(tmp_path: Path) -> None:
    out = tmp_path / "out"
    text = "---\n".join([_cluster("c1"), _cluster("eu.c2"), FCM])
    code, _, err = kubectl("render", "-f", "-", "--output-dir", str(out), stdin=text)
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["c1.yaml", "eu.c2.yaml", "out"]


def test_output_path_is_a_last_line_of_defence(tmp_path: Path) -> None:
    rendering = rd.Rendering({"ok": [], "../escape": []}, [])
    with pytest.raises(InputError, match="cannot name a file"):
        render_verb.write_output_dir(rendering, str(tmp_path / "out"))
    assert list(tmp_path.iterdir()) == []


def test_output_dir_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("keep")
    text = "---\n".join([_cluster("c1"), FCM])
    one_error(kubectl("render", "-f", "-", "--output-dir", str(target), stdin=text), "not a directory")
    assert target.read_text() == "keep"


# -- names and metadata ---------------------------------------------------------------------


DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {meta}\nspec: {{replicas: 1}}\n"


@pytest.mark.parametrize(
    ("meta", "needle"),
    [
        ('{name: "../../x Y"}', "metadata.name"),
        ("{name: web, namespace: ../kube-system}", "metadata.namespace"),
        ("{name: [web]}", "metadata.name"),
        ('"a string"', "metadata must be a"),
        ("{name: web, labels: 5.0}", "metadata.labels must be a map"),
        ("{name: web, labels: {version: 1.0}}", "metadata.labels.version must be a string"),
        ("{name: web, annotations: [a]}", "metadata.annotations must be a map"),
    ],
)
@pytest.mark.parametrize("entry", ["federate", "post-renderer", "render"])
def test_bad_metadata(entry: str, meta: str, needle: str) -> None:
    doc = DEPLOY.format(meta=meta)
    if entry == "federate":
        result = kubectl("federate", "-f", "-", stdin=doc)
    elif entry == "render":
        result = kubectl(
            "render", "-f", "-", stdin=doc.replace("apps/v1\nkind: Deployment", FEDERATED_DEPLOY)
        )
    else:
        result = run_inprocess(postrender.main, [], doc)
    one_error(result, "<stdin>: document 1", needle)


FEDERATED_DEPLOY = "types.kubefed.io/v1beta1\nkind: FederatedDeployment"


def test_rbac_names_may_hold_colons() -> None:
    doc = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: 'system:reader'}\n"
    code, out, err = kubectl("federate", "-f", "-", stdin=doc)
    assert code == 0, err
    fed = yaml.safe_load(out)
    assert fed["metadata"]["name"] == federated_name("system:reader")  # custom resources need DNS names
    assert fed["spec"]["template"]["metadata"]["name"] == "system:reader"


def test_service_ports_must_be_a_list() -> None:
    doc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: 5}\n"
    one_error(kubectl("federate", "-f", "-", stdin=doc), "document 1", "spec.ports must be a list")
    one_error(run_inprocess(postrender.main, [], doc), "document 1", "spec.ports must be a list")


def test_duplicates_name_both_documents() -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n"
    other = doc.replace("kind: ConfigMap", "kind: Secret")
    line = one_error(kubectl("federate", "-f", "-", stdin=f"{doc}---\n{other}---\n{doc}"), "given twice")
    assert "<stdin>: document 3" in line and "first in <stdin>: document 1" in line
    line = one_error(run_inprocess(postrender.main, [], f"{doc}---\n{doc}"), "given twice")
    assert "document 2" in line and "document 1" in line


def test_clusters_flag_is_checked() -> None:
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    one_error(kubectl("federate", "-f", "-", "--clusters", "ok,../x", stdin=doc), "--clusters", "../x")


def test_control_characters_are_escaped_in_errors() -> None:
    doc = 'apiVersion: v1\nkind: "x\\e]0;pwned\\a\\e[31m"\nmetadata: {name: a}\n'
    line = one_error(kubectl("federate", "-f", "-", stdin=doc), "document 1")
    assert "\\x1b]0;pwned\\x07" in line
    line = one_error(run_inprocess(postrender.main, [], doc), "document 1")
    assert "\x1b" not in line


# -- render -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ('"a string"', "spec must be a map"),
        ("{template: 5}", "spec.template must be a map"),
        ("{template: {metadata: {labels: {a: [1]}}}}", "spec.template.metadata.labels.a"),
    ],
)
def test_render_bad_federated_spec(spec: str, needle: str) -> None:
    doc = f"apiVersion: types.kubefed.io/v1beta1\nkind: FederatedConfigMap\nmetadata: {{name: c}}\nspec: {spec}\n"
    one_error(kubectl("render", "-f", "-", stdin=_cluster("c1") + "---\n" + doc), "document 2", needle)


def test_render_kubefed_config_spec_must_be_a_map() -> None:
    doc = "apiVersion: core.kubefed.io/v1beta1\nkind: KubeFedConfig\nspec: 1\n"
    one_error(kubectl("render", "-f", "-", stdin=doc), "document 1", "spec must be a map")
    doc = "apiVersion: core.kubefed.io/v1beta1\nkind: KubeFedConfig\nspec: {scope: [x]}\n"
    one_error(kubectl("render", "-f", "-", stdin=doc), "document 1", "scope")


def test_render_bad_type_config() -> None:
    doc = (
        "apiVersion: core.kubefed.io/v1beta1\nkind: FederatedTypeConfig\nmetadata: {name: widgets.example.com}\n"
        "spec: {targetType: {kind: 'W/../x', version: v1}, federatedType: {kind: FederatedW, version: v1}}\n"
    )
    one_error(kubectl("render", "-f", "-", stdin=doc), "document 1", "targetType.kind")
    one_error(
        kubectl(
            "render",
            "-f",
            "-",
            stdin=doc.replace("targetType: {", "targetType: [").replace("v1}, fed", "v1], fed"),
        )
    )


def test_render_duplicate_clusters_name_both_documents() -> None:
    line = one_error(
        kubectl("render", "-f", "-", stdin=_cluster("c1") + "---\n" + _cluster("c1")), "given twice"
    )
    assert "document 2" in line and "first in <stdin>: document 1" in line


# -- enable -f --------------------------------------------------------------------------------


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Widget", "plural": "widgets"},
        "versions": [{"name": "v1", "served": True, "storage": True}],
    },
}


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        (("spec", "group"), "../x", "group"),
        (("spec", "group"), "nodots", "must contain a dot"),
        (("spec", "names", "plural"), "Widgets/x", "plural"),
        (("spec", "names", "kind"), "Wid get", "kind"),
        (("spec", "scope"), "Global", "scope"),
        (("spec", "names", "shortNames"), "wd", "shortNames"),
        (("spec", "versions"), [{"name": "V 1"}], "versions"),
        (("spec", "versions"), [{"name": "v1", "schema": "x"}], "schema"),
        (("metadata", "name"), "other.example.com", "metadata.name must be widgets.example.com"),
        (("spec",), 5, "spec"),
    ],
)
def test_enable_refuses_invalid_crds(
    tmp_path: Path, path: tuple[str, ...], value: object, needle: str
) -> None:
    crd = json.loads(json.dumps(CRD))
    node = crd
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    file = tmp_path / "crd.yaml"
    file.write_text(yaml.safe_dump(crd))
    one_error(kubectl("enable", "-f", str(file), "-o", "yaml"), f"{file}: document 1", needle)


def test_enable_directive_with_a_numeric_spec(tmp_path: Path) -> None:
    file = tmp_path / "d.yaml"
    file.write_text(
        "apiVersion: core.kubefed.io/v1beta1\nkind: EnableTypeDirective\nmetadata: {name: deployments}\nspec: 5\n"
    )
    one_error(kubectl("enable", "-f", str(file), "-o", "yaml"), "document 1", "spec must be a map")
    file.write_text(
        "apiVersion: core.kubefed.io/v1beta1\nkind: EnableTypeDirective\nmetadata: {name: deployments}\n"
        "spec: {federatedGroup: [x]}\n"
    )
    one_error(kubectl("enable", "-f", str(file), "-o", "yaml"), "document 1", "spec.federatedGroup")


def test_enable_flags_are_checked() -> None:
    one_error(kubectl("enable", "configmaps", "-o", "yaml", "--federated-group", "../x"), "--federated-group")
    one_error(
        kubectl("enable", "configmaps", "-o", "yaml", "--kubefed-namespace", "A_B"), "--kubefed-namespace"
    )


# -- simulate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "needle"),
    [
        ("clusters: [{name: a}]\nhostIsMember: [a]\n", "hostIsMember"),
        ("clusters: [{name: a}]\nmembers: [a]\n", "members must be a map"),
        ("clusters: [{name: a}]\nsteps: [{faults: {cluster: a, verbs: [[create]]}}]\n", "step 1: verbs"),
        ("clusters: [{name: a}]\nsteps: [{faults: {cluster: [a]}}]\n", "step 1: unknown cluster"),
        ("clusters: [{name: ../../x}]\n", "clusters[1]: cluster name"),
        ("clusters: [{name: a, labels: {k: [v]}}]\n", "clusters[1]: label"),
        ("clusters: [{name: a}]\nsteps: [{advance: 10000h}]\n", "step 1: advance"),
        ("clusters: [{name: a}]\nsteps: [{advance: 20h}, {advance: 20h}]\n", "step 2: advance"),
        ("clusters: [{name: a}]\nsettleTimeout: 1000h\n", "settleTimeout"),
        ("clusters: [{name: a}]\nsteps: [{advance: 1s, name: [x]}]\n", "name must be a string"),
        (
            "clusters: [{name: a}]\nsteps: [{apply: [{apiVersion: v1, kind: ConfigMap, "
            "metadata: {name: x, namespace: ../kube-system}}]}]\n",
            "metadata.namespace",
        ),
        (
            "clusters: [{name: a}]\nsteps: [{delete: {apiVersion: v1, kind: ConfigMap, name: ../x}}]\n",
            "metadata.name",
        ),
    ],
)
def test_simulate_bad_scenarios(tmp_path: Path, scenario: str, needle: str) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(scenario)
    started = time.monotonic()
    one_error(kubectl("simulate", str(file)), str(file), needle)
    assert time.monotonic() - started < 10


# -- the last-resort handler ------------------------------------------------------------------


def test_an_internal_error_is_one_line_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(*args: object) -> None:
        raise RuntimeError("a bug \x1b[31m")

    monkeypatch.setattr(render_verb, "run", boom)
    monkeypatch.setattr("sys.argv", ["kubectl-kubefed", "render", "-f", "-"])
    monkeypatch.delenv("KUBEFED_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        cli_main.main()
    assert exit_.value.code == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error (RuntimeError)" in err and "KUBEFED_DEBUG" in err
    monkeypatch.setenv("KUBEFED_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli_main.main()


def test_durations_are_bounded_and_never_nan() -> None:
    from simulator import scenario

    for value in (float("nan"), float("inf"), -1, 10000 * 3600, [1], True):
        with pytest.raises(InputError):
            scenario._duration(value, 0.0, scenario.MAX_ADVANCE_SECONDS, "here")
    assert scenario._duration("1m30s", 0.0, scenario.MAX_ADVANCE_SECONDS, "here") == 90.0


def test_render_errors_found_while_rendering_name_the_document() -> None:
    doc = (
        "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedNamespace\n"
        "metadata: {name: shop, namespace: other}\nspec: {placement: {clusters: []}}\n"
    )
    one_error(
        kubectl("render", "-f", "-", stdin=_cluster("c1") + "---\n" + FCM + "---\n" + doc), "document 3"
    )


def test_simulate_objects_from_a_path_name_the_step(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("clusters: [{name: a}]\nmembers: {a: .}\n")
    one_error(kubectl("simulate", str(file)), f"{file}: members.a", "is a directory")


def test_kube_client_names_are_single_path_segments() -> None:
    from kubectl_kubefed.kube.client import _segment
    from kubectl_kubefed.sync import errors

    assert _segment("system:reader") == "system%3Areader"
    assert _segment("web") == "web"
    for name in ("..", ".", "a/b", "../../x", "a%2f"):
        with pytest.raises(errors.Invalid):
            _segment(name)


@pytest.mark.parametrize(
    "status", ["{conditions: 5}", "{conditions: abc}", "5", "{conditions: [{type: [Ready]}]}"]
)
def test_render_kubefed_cluster_status_shape(status: str) -> None:
    doc = f"apiVersion: core.kubefed.io/v1beta1\nkind: KubeFedCluster\nmetadata: {{name: c1}}\nstatus: {status}\n"
    one_error(kubectl("render", "-f", "-", stdin=doc), "document 1", "status")


def test_simulate_member_service_with_a_null_spec(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text(
        "clusters: [{name: a}]\nsteps:\n- memberApply: {cluster: a, objects: [{apiVersion: v1, kind: Namespace,"
        " metadata: {name: shop}}, {apiVersion: v1, kind: Service, metadata: {name: web, namespace: shop},"
        " spec: null}]}\n"
    )
    code, out, err = kubectl("simulate", str(file), "-o", "json")
    assert code == 0, err
    service = next(o for o in json.loads(out)["clusters"]["a"]["objects"] if o["kind"] == "Service")
    assert service["spec"]["clusterIP"]


def test_output_dir_never_writes_through_a_symlink(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "c1.yaml").symlink_to(outside)
    text = "---\n".join([_cluster("c1"), FCM])
    one_error(kubectl("render", "-f", "-", "--output-dir", str(out), stdin=text), "outside")
    assert outside.read_text() == "precious"


def test_render_text_escapes_what_it_echoes() -> None:
    fns = (
        "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedNamespace\nmetadata: {name: shop, namespace: shop}\n"
        "spec: {placement: {clusters: [{name: c1}]}}\n"
    )
    fed = (
        "apiVersion: types.kubefed.io/v1beta1\nkind: FederatedConfigMap\nmetadata: {name: conf, namespace: shop}\n"
        "spec:\n  template: {data: {a: b}}\n  placement: {clusters: [{name: c1}]}\n"
        '  overrides: [{clusterName: c1, clusterOverrides: [{path: "/data/\\e[31m/x", value: 1}]}]\n'
    )
    _, out, err = kubectl("render", "-f", "-", stdin="---\n".join([_cluster("c1"), fns, fed]))
    assert "\x1b" not in out + err
    assert "\\x1b[31m" in out  # the error is shown, escaped
