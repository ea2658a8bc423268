"""The post-renderer says what it changed (warning lines), keeps node ports when asked and
never prints nothing (docs/helm.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubectl_kubefed import postrender
from kubectl_kubefed.manifests import parse_documents
from tests.inprocess import run_inprocess

SERVICE = """apiVersion: v1
kind: Service
metadata: {name: web%s}
spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}, {port: 443}]}
"""


def warnings_of(stderr: str) -> list[str]:
    prefix = "kubefed-post-renderer: warning: "
    return [line[len(prefix) :] for line in stderr.splitlines() if line.startswith(prefix)]


def run(stdin: str, *args: str) -> tuple[str, list[str]]:
    code, out, err = run_inprocess(postrender.main, list(args), stdin)
    assert code == 0, err
    return out, warnings_of(err)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("stdin", ["", "\n", "---\n# Source: chart/templates/empty.yaml\n"])
def test_nothing_rendered_is_still_output(fmt: str, stdin: str) -> None:
    out, _ = run(stdin, f"--format={fmt}")
    assert out.strip()  # Helm 4: "post-renderer produced empty output" otherwise
    assert out == postrender.EMPTY_OUTPUT
    assert list(yaml.safe_load_all(out)) == []
    assert parse_documents(out, "<out>") == []


def test_dropped_node_ports_are_reported_or_kept() -> None:
    out, notes = run(SERVICE % "")
    ports = next(d.obj for d in parse_documents(out, "<out>"))["spec"]["template"]["spec"]["ports"]
    assert ports == [{"port": 80}, {"port": 443}]
    assert notes == ["dropped spec.ports[].nodePort from Service web (use --keep-node-ports)"]
    out, notes = run(SERVICE % "", "--keep-node-ports")
    ports = next(d.obj for d in parse_documents(out, "<out>"))["spec"]["template"]["spec"]["ports"]
    assert ports == [{"port": 80, "nodePort": 30080}, {"port": 443}]
    assert notes == []


def test_a_chart_set_cluster_ip_is_reported_and_none_is_kept_silently() -> None:
    doc = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec: {clusterIP: %s, ports: [{port: 5432}]}\n"
    )
    _, notes = run(doc % "10.0.0.7")
    assert notes == ["dropped spec.clusterIP from Service db (each member allocates its own)"]
    assert run(doc % "None")[1] == []


def test_objects_in_another_namespace_than_the_release_are_named() -> None:
    stream = (SERVICE % ", namespace: other").replace("nodePort: 30080", "targetPort: 80")
    stream += "---\n" + (SERVICE % ", namespace: shop").replace("nodePort: 30080", "targetPort: 80")
    assert run(stream, "--namespace=shop")[1] == [
        "Service other/web is in namespace other: federate that namespace too "
        "(kubectl kubefed federate namespace other)"
    ]
    # Federated in the same release: nothing to say. Without --namespace: unknown, silent.
    with_ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n" + stream
    assert run(with_ns, "--namespace=shop", "--federate-namespaces")[1] == []
    assert run(stream)[1] == []


def test_annotations_are_federated_so_nothing_is_left_behind_to_report() -> None:
    stream = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  annotations: {{{ann}}}\n"
        for i, ann in enumerate(
            [
                "checksum/config: abc",
                "meta.helm.sh/release-name: r, helm.sh/resource-policy: keep",
                "team: shop",
                "kubefed.io/clusters: c1",  # a hint: consumed
            ]
        )
    )
    out, warnings = run(stream)
    assert warnings == []
    templates = [fed["spec"]["template"].get("metadata", {}) for fed in yaml.safe_load_all(out)]
    assert templates == [
        {"annotations": {"checksum/config": "abc"}},
        {},
        {"annotations": {"team": "shop"}},
        {},
    ]


def test_warnings_go_to_the_log_file(tmp_path: Path) -> None:
    log = tmp_path / "kubefed.log"
    run(SERVICE % "", f"--log-file={log}")
    assert log.read_text() == (
        "kubefed-post-renderer: warning: dropped spec.ports[].nodePort from Service web "
        "(use --keep-node-ports)\n"
    )


def test_json_output_is_readable_as_yaml_whatever_the_strings_hold() -> None:
    value = "del\x7f c1\x9f nel\x85 ls\u2028 nbsp\xa0 ok\u00e9 bom\ufeff \U0001f600"
    meta = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    escaped = r'"del\x7f c1\x9f nel\N ls\L nbsp\_ ok\u00e9 bom\uFEFF \U0001F600"'  # YAML escapes
    out, _ = run(f"{meta}data: {{k: {escaped}}}\n", "--format=json")
    assert not set("\x7f\x9f\x85\u2028\ufeff") & set(out)
    assert "\u00e9" in out and "\U0001f600" in out  # printable: kept as they are
    [fed] = list(yaml.safe_load_all(out))  # YAML readers refuse DEL and C1 controls raw
    assert fed["spec"]["template"]["data"] == {"k": value}


def test_mapped_names_are_one_line() -> None:
    stream = "".join(
        f"---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {name}}}\n"
        for name in ("system:a", "system:b", "plain", "Admin_Role", "system:c")
    )
    out, notes = run(stream)
    feds = [d.obj for d in parse_documents(out, "<out>")]
    mapped = [
        f"ClusterRole {f['spec']['template']['metadata']['name']} as {f['metadata']['name']}"
        for f in feds[:2]
    ]
    assert notes == [
        f"4 names are not valid for a federated object and mapped on the host ({mapped[0]}, {mapped[1]}, "
        f"ClusterRole Admin_Role as {feds[3]['metadata']['name']}, ...); the members get the original names"
    ]
    assert run(stream.split("---\n")[1])[1][0].startswith("1 name is not valid")
