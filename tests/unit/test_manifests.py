import io
import json
import resource
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_kubefed import manifests, postrender, yamlk8s
from kubectl_kubefed.api.errors import InputError
from tests.conftest import BIN, ROOT


def test_multi_document_and_list() -> None:
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Secret, metadata: {name: b}}
- {apiVersion: v1, kind: Secret, metadata: {name: c}}
"""
    docs = manifests.parse_documents(text, "f.yaml")
    assert [d.obj["metadata"]["name"] for d in docs] == ["a", "b", "c"]
    assert [d.index for d in docs] == [1, 3, 3]


def test_json_input() -> None:
    docs = manifests.parse_documents('{"kind": "List", "items": [{"kind": "A"}]}', "x.json")
    assert docs[0].obj == {"kind": "A"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: 1\n---\nb: [\n", "f.yaml: document 2 (line 4): invalid YAML"),
        ("a: 1\n---\n- 1\n", "f.yaml: document 2: expected an object, got a number"),
        ("just a string\n", "f.yaml: document 1: expected an object, got a string"),
    ],
)
def test_errors_name_file_and_document(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        manifests.parse_documents(text, "f.yaml")
    assert str(err.value).startswith(message)


def test_require_kind() -> None:
    doc = manifests.parse_documents("metadata: {name: x}\n", "f")[0]
    with pytest.raises(InputError, match="f: document 1: missing kind"):
        manifests.require_kind(doc)


def test_missing_file() -> None:
    with pytest.raises(InputError, match=r"nope\.yaml: no such file"):
        manifests.load_files(["nope.yaml"])


def test_dump_round_trip() -> None:
    objs: list[dict[str, Any]] = [{"kind": "A", "metadata": {"name": "é"}}, {"kind": "B"}]
    text = manifests.dump_yaml(objs)
    assert [d.obj for d in manifests.parse_documents(text, "x")] == objs
    assert "é" in text


# --- YAML means what it means to kubectl (sigs.k8s.io/yaml); tests/oracle checks the same
# --- cases against sigs.k8s.io/yaml itself.


def value_of(text: str) -> Any:
    return manifests.stream_documents(text, "t")[0].value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 12:30:45", {"a": "12:30:45"}),
        ("a: 2024-01-01", {"a": "2024-01-01"}),
        ("a: 2001-12-14t21:59:43.10-05:00", {"a": "2001-12-14t21:59:43.10-05:00"}),
        ("- =", ["="]),
        ("a: <<", {"a": "<<"}),
        ("[y, n, Y, N, yes, off, On]", [True, False, True, False, True, False, True]),
        ("a: 0o17", {"a": 15}),
        ("a: 017", {"a": 15}),
        ("a: 0x1F", {"a": 31}),
        ("a: 0b101", {"a": 5}),
        ("a: 1e3", {"a": 1000}),
        ("a: 08", {"a": 8}),
        ("a: 1_000", {"a": 1000}),
        ("a: 1.5", {"a": 1.5}),
        ("a: 18446744073709551615", {"a": 18446744073709551615}),
        ("a: 1e400", {"a": "1e400"}),
        ("a: ~", {"a": None}),
        ("a:", {"a": None}),
        ("a: !!binary aGVsbG8=", {"a": "hello"}),
        ("a: !!binary 4oI=", {"a": "\ufffd\ufffd"}),  # one U+FFFD per byte, as Go writes JSON
        ("a: !!set {x, y}", {"a": {"x": None, "true": None}}),
        ("a: !!str 12", {"a": "12"}),
        ("{a: ! 12, ! 1: ! true}", {"a": "12", "1": "true"}),
        ("a: !!float 1", {"a": 1}),
        ("a: !!timestamp 2024-01-01", {"a": "2024-01-01"}),
        (
            "{1.5: a, 1e6: b, true: c, 0x10: d, .nan: e}",
            {"1.5": "a", "1e+06": "b", "true": "c", "16": "d", ".nan": "e"},
        ),
        ("{a: 1, <<: {a: 2, b: 3}}", {"a": 2, "b": 3}),  # go-yaml v2: the merge writes over a
        ("{<<: {a: 2, b: 3}, a: 1}", {"a": 1, "b": 3}),
        ("- &a {x: 1}\n- &b {x: 2, z: 3}\n- {<<: [*a, *b]}", [{"x": 1}, {"x": 2, "z": 3}, {"x": 1, "z": 3}]),
        ("{'<<': {a: 1}}", {"<<": {"a": 1}}),
        ("a: |+\n  x\n\n\nb: 1", {"a": "x\n\n\n", "b": 1}),
        ("a: &x {k: 1}\nb: *x", {"a": {"k": 1}, "b": {"k": 1}}),
    ],
)
def test_values_are_what_kubectl_reads(text: str, expected: Any) -> None:
    value = value_of(text + "\n")
    assert value == expected
    assert json.dumps(value, sort_keys=True) == json.dumps(expected, sort_keys=True)  # also types


def test_aliases_are_copies() -> None:
    value = value_of("a: &x {k: [1]}\nb: *x\n")
    value["a"]["k"].append(2)
    assert value["b"] == {"k": [1]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: .nan\n", "t: document 1 (line 1): invalid YAML: .nan cannot be represented in JSON"),
        ("a: [-.inf]\n", "-.inf cannot be represented in JSON"),
        ("~: 1\n", "null map key"),
        ("? [a]\n: 1\n", "invalid map key"),
        ("a: !!timestamp foo\n", "cannot decode !!str `foo` as a !!timestamp"),
        ("a: !!int 1.5\n", "cannot decode !!float `1.5` as a !!int"),
        ("a: !!binary x\n", "invalid base64"),
        ("a: &x [*x]\n", "anchor value contains itself"),
        ("- {<<: 1}\n", "map merge requires map or sequence of maps"),
        ('a: 1\n---\nb: "x\\/y"\n', "t: document 2 (line 3): invalid YAML: found unknown escape character"),
        ("a: 1\n--- {b: 1}\n", "t: line 2: invalid document separator: --- {b: 1}"),
        ("a: 1\n----\n", "invalid document separator"),
        ('{"a": 1e400}', "t: document 1: number 1e400 is out of range"),
        ("a: " + "[" * 400 + "]" * 400, "nested more than 200 levels deep"),
        ("a: " + "[" * 1400 + "]" * 1400, "t: document 1 (line 1): invalid YAML"),
        ('{"a": ' + "[" * 400 + "]" * 400 + "}", "nested more than 200 levels deep"),
    ],
)
def test_what_kubectl_refuses_is_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        manifests.stream_documents(text, "t")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["a: {}", '{"a": {}}'])
def test_yaml_and_json_allow_the_same_depth(text: str) -> None:
    limit = yamlk8s.MAX_DEPTH
    deep = text.replace("{}", "[" * (limit - 1) + "]" * (limit - 1))
    assert value_of(deep) is not None
    with pytest.raises(InputError, match="nested more than 200 levels deep"):
        manifests.stream_documents(text.replace("{}", "[" * limit + "]" * limit), "t")


def test_json_lone_surrogates_are_replaced_as_go_does() -> None:
    assert value_of('{"a\\udc00": "\\ud800x\\ud83d\\ude00"}') == {"a\ufffd": "\ufffdx\U0001f600"}


def test_json_nan_is_read_as_yaml_like_kubectl() -> None:
    assert value_of('{"a": NaN}') == {"a": "NaN"}
    assert value_of('{"a": 1.0}\n{"b": 2}') == {"a": 1}


def test_documents_are_numbered_as_in_the_file() -> None:
    text = "# head\n---\na: 1\n---\n---\nb: [\n"
    with pytest.raises(InputError, match=r"^t: document 3 \(line 7\): invalid YAML"):
        manifests.stream_documents(text, "t")
    docs = manifests.stream_documents("a: 1\n...\nb: 2\n---\nc: 3\n", "t")
    assert [(d.index, d.value) for d in docs] == [(1, {"a": 1}), (2, {"c": 3})]


def test_non_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: 1\nb: \xff\n")
    with pytest.raises(InputError, match=r"bad\.yaml: not UTF-8 text \(byte 0xff on line 2\)$"):
        manifests.load_files([str(path)])


def test_stdin_bytes_are_decoded_strictly() -> None:
    stream = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfa: \xc3\xa9\n"), encoding="utf-8")
    assert manifests.read_text("-", stream) == ("<stdin>", "a: é\n")
    stream = io.TextIOWrapper(io.BytesIO(b"a: \xed\xa0\x80\n"), encoding="utf-8", errors="surrogateescape")
    with pytest.raises(InputError, match=r"^<stdin>: not UTF-8 text"):
        manifests.read_text("-", stream)


def test_input_size_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(manifests, "MAX_INPUT_BYTES", 10)
    path = tmp_path / "big.yaml"
    path.write_text("a: 123456789\n")
    with pytest.raises(InputError, match=r"big\.yaml: larger than 0 MiB"):
        manifests.load_files([str(path)])


# --- writing ---------------------------------------------------------------------------

TRICKY = [
    "y",
    "Y",
    "n",
    "on",
    "off",
    "yes",
    "12:30:45",
    "0o17",
    "0x1F",
    "017",
    "1e3",
    "08",
    "=",
    "<<",
    "~",
    "null",
    "",
    "2024-01-01",
    "1_000",
    ".5",
    ".nan",
    "-.inf",
    "true",
    "1.5",
]


def test_strings_are_quoted_where_a_reader_would_resolve_them() -> None:
    obj = {"data": {s: s for s in TRICKY}}
    text = manifests.dump_yaml([obj])
    assert value_of(text) == obj
    assert yaml.safe_load(text) == obj  # YAML 1.1 readers agree too
    assert "\n  'y': 'y'\n" in text


def test_block_scalars_keep_their_trailing_newlines() -> None:
    obj = {"a": "x\n\n", "b": "x\n", "c": "x", "d": "\n", "e": " lead\n"}
    text = manifests.dump_yaml_one(obj)
    assert "a: |+\n" in text
    assert value_of(text) == obj


def test_no_anchors_and_no_inline_document_start() -> None:
    shared = {"k": [1]}
    text = manifests.dump_yaml([{"p": shared, "q": shared}, {}])
    assert "&" not in text and "*" not in text
    assert "--- " not in text
    assert [d.value for d in manifests.stream_documents(text, "t")] == [{"p": shared, "q": shared}, {}]


def test_big_integers_are_written_as_go_yaml_reads_them() -> None:
    text = manifests.dump_yaml_one({"a": 2**70})
    assert "!!" not in text
    assert value_of(text) == {"a": 2**70}


def test_post_renderer_keeps_block_scalars_exact() -> None:
    # kube-state-metrics' config-file.yaml: a |+ value at the end of a document
    stream = (
        "---\n# Source: ksm/templates/config.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: c, namespace: ns}\ndata:\n  config.yaml: |+\n    x: 1\n\n"
        "---\n# Source: ksm/templates/other.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: d, namespace: ns}\ndata: {v: 'y', w: '12:30:45'}\n"
    )
    docs = postrender.split_stream(stream)
    assert docs[0].obj["data"]["config.yaml"] == "x: 1\n\n"
    assert docs[0].source == "# Source: ksm/templates/config.yaml"
    out = postrender.render(stream, postrender.Options())
    values = [d.value for d in manifests.stream_documents(out, "out") if d.value]
    assert values[0]["spec"]["template"]["data"]["config.yaml"] == "x: 1\n\n"
    assert values[1]["spec"]["template"]["data"] == {"v": "y", "w": "12:30:45"}


# --- every input path: bounded time and memory, one line, exit code 2 -----------------

BOMB = "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)
OBJECT = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ns}\n"


def test_alias_bomb_is_refused_at_once() -> None:
    start = time.perf_counter()
    with pytest.raises(InputError, match="excessive aliasing"):
        manifests.parse_documents(
            OBJECT + "data:\n" + "".join("  " + ln + "\n" for ln in BOMB.splitlines()), "b"
        )
    assert time.perf_counter() - start < 1.0
    # moderate, legitimate aliasing is fine
    assert value_of("a: &a [1, 2]\nb: [*a, *a, *a]\n") == {"a": [1, 2], "b": [[1, 2]] * 3}


def _limited() -> None:
    limit = 1 << 30
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _run_limited(args: list[str], stdin: str = "", cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, input=stdin, capture_output=True, text=True, cwd=cwd, timeout=60, preexec_fn=_limited
    )


@pytest.mark.parametrize("path", ["federate", "render", "enable", "overrides", "scenario", "post-renderer"])
def test_alias_bomb_on_every_input_path(path: str, tmp_path: Path) -> None:
    bomb_object = OBJECT + "data:\n" + "".join("  " + ln + "\n" for ln in BOMB.splitlines())
    (tmp_path / "bomb.yaml").write_text(bomb_object)
    (tmp_path / "overrides.yaml").write_text(BOMB)
    (tmp_path / "ok.yaml").write_text(OBJECT)
    (tmp_path / "scenario.yaml").write_text("clusters: [{name: c1}]\n" + BOMB)
    kubefed = str(BIN / "kubectl-kubefed")
    args, stdin = {
        "federate": ([kubefed, "federate", "-f", "bomb.yaml"], ""),
        "render": ([kubefed, "render", "-f", "bomb.yaml"], ""),
        "enable": ([kubefed, "enable", "-f", "bomb.yaml", "-o", "yaml"], ""),
        "overrides": ([kubefed, "federate", "-f", "ok.yaml", "--overrides", "overrides.yaml"], ""),
        "scenario": ([kubefed, "simulate", "scenario.yaml"], ""),
        "post-renderer": ([str(BIN / "kubefed-post-renderer")], "---\n" + bomb_object),
    }[path]
    res = _run_limited(args, stdin, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "excessive aliasing" in lines[0], res.stderr
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["federate", "-f", "/dev/zero"], "/dev/zero: larger than 64 MiB"),
        (["federate", "-f", "deep.yaml"], "nested more than 200 levels deep"),
        (["federate", "-f", "latin1.yaml"], "latin1.yaml: not UTF-8 text"),
    ],
)
def test_bad_inputs_give_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text(OBJECT + "data: " + "[" * 400 + "]" * 400 + "\n")
    (tmp_path / "latin1.yaml").write_bytes(OBJECT.encode() + b"data: {a: caf\xe9}\n")
    res = _run_limited([str(BIN / "kubectl-kubefed"), *args], cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr


def test_deep_but_allowed_nesting_goes_all_the_way_through(tmp_path: Path) -> None:
    depth = yamlk8s.MAX_DEPTH - 5
    widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x, namespace: ns}\n"
    (tmp_path / "deep.yaml").write_text(widget + "spec:\n  x: " + "[" * depth + "]" * depth + "\n")
    for output in ("yaml", "json"):
        res = _run_limited(
            [str(BIN / "kubectl-kubefed"), "federate", "-f", "deep.yaml", "-o", output], cwd=tmp_path
        )
        assert res.returncode == 0, res.stderr[-500:]


def test_dates_and_times_stay_strings_in_json_output(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(OBJECT + "data: {day: 2024-01-01, at: 12:30:45, eq: =}\n")
    res = _run_limited(
        [str(BIN / "kubectl-kubefed"), "federate", "-f", "cm.yaml", "-o", "json"], cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)["items"][0]["spec"]["template"]["data"]
    assert data == {"day": "2024-01-01", "at": "12:30:45", "eq": "="}


def test_cli_output_reads_back_the_same(tmp_path: Path) -> None:
    data = {s: s for s in TRICKY}
    (tmp_path / "cm.yaml").write_text(manifests.dump_yaml([{**yaml.safe_load(OBJECT), "data": data}]))
    res = _run_limited(
        [str(BIN / "kubectl-kubefed"), "federate", "-f", "cm.yaml", "-o", "yaml"], cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    assert value_of(res.stdout)["spec"]["template"]["data"] == data
