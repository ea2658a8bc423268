"""Our YAML reading and writing against sigs.k8s.io/yaml itself (hack/oracles/yaml).

One oracle process serves the whole module (a JSON line in, a JSON line out per case).
Every case checks that we read what kubectl reads (values, and error versus no error),
and that what we write reads back in the oracle to the same values.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_kubefed import manifests, yamlk8s
from kubectl_kubefed.api.errors import InputError
from tests.oracle import Oracle

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    o = Oracle("yaml")
    yield o
    o.close()


def canon(value: Any) -> Any:
    """Values as JSON compares them: 1 == 1.0, but True is not 1."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int | float):
        return ("number", Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if isinstance(value, list):
        return ("list", tuple(canon(v) for v in value))
    assert isinstance(value, dict), value
    return ("dict", tuple(sorted((k, canon(v)) for k, v in value.items())))


def ours_document(text: str) -> tuple[bool, Any]:
    try:
        return True, yamlk8s.first_document(text)
    except yamlk8s.YamlError as err:
        return False, err.message


def ours_stream(text: str) -> tuple[bool, Any]:
    try:
        return True, [d.value for d in manifests.stream_documents(text, "t") if d.value is not None]
    except InputError as err:
        return False, str(err)


def check_document(oracle: Oracle, text: str) -> Any:
    """Our reading of one document equals sigs.k8s.io/yaml's; returns the value."""
    want = oracle.ask(yaml=text)
    ok, got = ours_document(text)
    if "error" in want:
        assert not ok, f"{text!r}: the oracle refuses it ({want['error']}), we read {got!r}"
        return None
    assert ok, f"{text!r}: the oracle reads {want['json']!r}, we refuse it: {got}"
    assert canon(got) == canon(want["json"]), f"{text!r}: oracle {want['json']!r}, ours {got!r}"
    return want["json"]


def check_stream(oracle: Oracle, text: str) -> list[Any] | None:
    want = oracle.ask(stream=text)
    ok, got = ours_stream(text)
    if "error" in want:
        assert not ok, f"{text!r}: the oracle refuses it ({want['error']}), we read {got!r}"
        return None
    assert ok, f"{text!r}: the oracle reads {want['docs']!r}, we refuse it: {got}"
    docs = [d for d in want["docs"] if d is not None]
    assert canon(got) == canon(docs), f"{text!r}: oracle {docs!r}, ours {got!r}"
    return docs


def check_round_trip(oracle: Oracle, value: Any) -> None:
    """What we write reads back (in the oracle and in our reader) to the same value."""
    for text in (
        manifests.dump_yaml_one(value),
        manifests.dump_yaml([value]) if isinstance(value, dict) else "",
    ):
        if not text:
            continue
        back = oracle.ask(stream=text)
        assert "error" not in back, f"{value!r} written as {text!r}: the oracle refuses it: {back}"
        docs = [d for d in back["docs"] if d is not None]
        assert canon(docs) == canon([value]), f"{value!r} written as {text!r} reads back as {docs!r}"
        assert "&" not in text or "&" in json.dumps(value), f"anchors in {text!r}"


# --- the facts of the issue, and their relatives ---------------------------------------

SCALARS = [
    "12:30:45",
    "1:20",
    "190:20:30",
    "2024-01-01",
    "2024-1-1",
    "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.10",
    "=",
    "<<",
    "~",
    "",
    "null",
    "Null",
    "NULL",
    "nULL",
    "y",
    "Y",
    "n",
    "N",
    "yes",
    "Yes",
    "YES",
    "yEs",
    "no",
    "on",
    "On",
    "ON",
    "off",
    "OFF",
    "true",
    "True",
    "TRUE",
    "tRue",
    "false",
    "o",
    "t",
    "f",
    "0o17",
    "0O17",
    "0x1F",
    "0X1f",
    "0b101",
    "-0b101",
    "+0b1",
    "017",
    "08",
    "09.5",
    "0",
    "-0",
    "+0",
    "00",
    "0x",
    "0o",
    "0b",
    "1_000",
    "1__0",
    "_1",
    "1_",
    "-_1",
    "0x_1F",
    "1,000",
    "1e3",
    "1E3",
    "1e+3",
    "1e-3",
    "-1e3",
    "+1e3",
    "1.5",
    "1.",
    ".5",
    "-.5",
    "+.5",
    ".5e3",
    "1.5e",
    "e3",
    ".",
    "..",
    "1e400",
    "-1e400",
    "1e-400",
    ".1e400",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "+9223372036854775808",
    "123456789012345678901234567890",
    "0xFFFFFFFFFFFFFFFF",
    "0x10000000000000000",
    "1e21",
    "1e20",
    "123456789.123456789",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "+.inf",
    ".Inf",
    ".INF",
    "nan",
    "inf",
    "0.1",
    "1.0",
    "-0.0",
    "3.14159",
    "6.02e23",
]

KEYS = [
    "1",
    "1.5",
    "1e6",
    "-1e7",
    "0.0001",
    "1e-5",
    "123456789.0",
    "0x10",
    "true",
    "y",
    "no",
    "~",
    "null",
    "18446744073709551615",
    "9223372036854775807",
    ".nan",
    ".inf",
    "-.inf",
    "<<x",
    "2024-01-01",
    "1e40",
    "1e-50",
    "0.1",
    "1_0",
]


@pytest.mark.parametrize("scalar", SCALARS)
def test_plain_scalars(oracle: Oracle, scalar: str) -> None:
    value = check_document(oracle, f"a: {scalar}\n")
    check_document(oracle, f"- {scalar}\n")
    check_document(oracle, f"a: '{scalar}'\n")
    check_document(oracle, f'a: "{scalar}"\n')
    check_document(oracle, f"a: [{scalar}]\n")
    if value is not None:
        check_round_trip(oracle, value)
    check_round_trip(oracle, {"a": scalar, scalar: "b"})


@pytest.mark.parametrize("key", KEYS)
def test_keys_become_strings_as_json_needs(oracle: Oracle, key: str) -> None:
    check_document(oracle, f"{key}: v\n")
    check_document(oracle, f"{{{key}: v}}\n")


@pytest.mark.parametrize(
    "text",
    [
        "a: !!binary aGVsbG8=\n",
        "a: !!binary |\n  aGVs\n  bG8=\n",
        "a: !!binary aGVsbG8\n",
        "a: !!binary //79\n",
        "a: !!binary 4oI=\nb: !!binary 7aCA\nc: !!binary 4oKs\n",
        "a: !!set {x, y}\n",
        "a: !!timestamp 2024-01-01\n",
        "a: !!timestamp 2024-01-01T10:00:00Z\n",
        "a: !!timestamp 2024-01-01 10:00:00\n",
        "a: !!timestamp 2024-13-01\n",
        "a: !!timestamp foo\n",
        "a: !!timestamp 2024\n",
        "a: !!int 12\n",
        "a: !!int '12'\n",
        "a: !!int 1.5\n",
        "a: !!int foo\n",
        "a: !!float 1\n",
        "a: !!float 9223372036854775808\n",
        "a: !!float foo\n",
        "a: !!bool yes\n",
        "a: !!bool 1\n",
        "a: !!null ''\n",
        "a: !!null x\n",
        "a: !!str 12\n",
        "a: !!str\n",
        "a: !custom 12\n",
        "a: ! 12\n! 1: [! true, 3, ! ~]\nb: 'hi! '\n",
        "a: !!omap [{x: 1}]\n",
        "a: !!map {x: 1}\n",
        "? [a]\n: 1\n",
        "? {a: 1}\n: 1\n",
        "{[a]: 1}\n",
        "~: 1\n",
        "a: 1\na: 2\n",
        "a: .nan\n",
        "a: [.inf]\n",
        "a: &x 1\nb: *x\n",
        "a: *x\n",
        "a: &x [*x]\n",
        "- &a {x: 1}\n- <<: *a\n  y: 2\n",
        "- &a {x: 1}\n- &b {x: 2, z: 3}\n- <<: [*a, *b]\n",
        "- &a {x: 1}\n- {x: 0, <<: *a}\n",
        "- &a {x: 1}\n- {<<: *a, x: 0}\n",
        "- &a [1]\n- {<<: *a}\n",
        "- &a {x: 1}\n- &s [*a]\n- {<<: *s}\n",
        "- {<<: 1}\n",
        "- {<<: [1]}\n",
        "- {'<<': {a: 1}}\n",
        "- {!!merge <<: {a: 1}}\n",
        "- {<<: {a: 1, <<: {b: 2}}}\n",
        "a: <<\n",
        "a: |+\n  x\n\n\n",
        "a: |+\n  x\n\n\nb: 1\n",
        "a: |-\n  x\n\n",
        "a: >+\n  x\n  y\n\n",
        "a: |2\n    x\n",
        "\ufeffa: 1\n",
        "a: 1\n...\nb: 2\n",
        "a:\tb\n",
        "a: b\t\n",
        "",
        "# only\n",
        "---\n",
        "foo\n",
        "- 1\n",
        "a: 'it''s'\n",
        'a: "\\x41\\u00e9\\U0001F600\\/\\t"\n',
        'a: "\\ud800"\n',
        "a: 'multi\n  line'\n",
        "a: plain\n  continued\n",
    ],
)
def test_documents(oracle: Oracle, text: str) -> None:
    value = check_document(oracle, text)
    if isinstance(value, dict):
        check_round_trip(oracle, value)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n---\n---\nb: 2\n--- # c\n# only\n---\n",
        "---\na: 1\n",
        "# head\n---\na: 1\n---\nb: 2\n",
        "a: 1\n--- {b: 1}\n",
        "a: 1\n----\nb: 1\n",
        "a: 1\n---#x\nb: 1\n",
        "a: 1\n...\nb: 2\n---\nc: 3\n",
        "%YAML 1.1\n---\na: 1\n",
        "a: |+\n  x\n\n---\nb: |+\n  y\n\n",
        "a: [1,\n---\n2]\n",
        '{"a": 1}\n{"b": 2.0}\n',
        '{"a": NaN}\n',
        '[{"a": 1}]\n',
        "{a: 1}\n",
        "a: 1\r\n---\r\nb: 2\r\n",
        "a: &x 1\n---\nb: *x\n",
        "x: 1\n---\n",
    ],
)
def test_streams(oracle: Oracle, text: str) -> None:
    check_stream(oracle, text)


def test_non_utf8_bytes(oracle: Oracle) -> None:
    data = b"a: \xff\n"
    want = oracle.ask(stream_b64=base64.b64encode(data).decode())
    assert "error" in want
    with pytest.raises(InputError, match=r"t: not UTF-8 text \(byte 0xff on line 1\)"):
        manifests._decode(data, "t")


BOMB = "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else ', '.join(['lol'] * 9)}]\n"
    for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


@pytest.mark.parametrize("levels", [3, 4, 5, 9])
def test_alias_expansion_is_refused_when_go_yaml_refuses_it(oracle: Oracle, levels: int) -> None:
    text = "".join(BOMB.splitlines(keepends=True)[:levels])
    check_document(oracle, text)


# --- generated corpus ---------------------------------------------------------------

_WORDS = st.sampled_from([*SCALARS, "a", "b c", "x-y", "é", "a:b", "a #b", "-a", "?x", "@x", "`x", "%x"])
_DIGITS = st.text("0123456789_", min_size=1, max_size=6)
_NUMBERS = st.builds(
    lambda sign, prefix, body, exp: f"{sign}{prefix}{body}{exp}",
    st.sampled_from(["", "-", "+"]),
    st.sampled_from(["", "0", "0x", "0o", "0b", "0X", ".", "0."]),
    st.text("0123456789abcdefABCDEF_", min_size=0, max_size=5),
    st.sampled_from(["", "e3", "E-2", "e+10", ".5", "e"]),
)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12)
_SPELLINGS = st.builds(
    lambda word, upper: "".join(c.upper() if u else c for c, u in zip(word, upper, strict=False)),
    st.sampled_from(["y", "yes", "n", "no", "on", "off", "true", "false", "null", ".nan", ".inf", "-.inf"]),
    st.lists(st.booleans(), min_size=5, max_size=5),
)
_SCALAR_TEXT = st.one_of(_WORDS, _NUMBERS, _DIGITS, _TEXT, _SPELLINGS)


@st.composite
def scalar_yaml(draw: st.DrawFn) -> str:
    s = draw(_SCALAR_TEXT)
    style = draw(st.sampled_from(["plain", "single", "double", "literal", "folded"]))
    if style == "single":
        return "'" + s.replace("'", "''") + "'"
    if style == "double":
        return json.dumps(s)
    if style in ("literal", "folded"):
        indicator = "|" if style == "literal" else ">"
        chomp = draw(st.sampled_from(["", "-", "+"]))
        indent = draw(st.sampled_from(["", "", "2", "4"]))
        header = indicator + (indent + chomp if draw(st.booleans()) else chomp + indent)
        lines = draw(
            st.lists(st.sampled_from(["x", "y z", "", "  indented", s.replace("\n", " ")]), max_size=4)
        )
        body = "".join(f"    {ln}\n" if ln else "\n" for ln in lines)
        trailing = "\n" * draw(st.integers(0, 2))
        return f"{header}\n{body}{trailing}"
    return s


@st.composite
def document_yaml(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["map", "flow", "seq", "anchors", "merge"]))
    if kind == "map":
        n = draw(st.integers(1, 4))
        return "".join(f"k{i}: {draw(scalar_yaml())}\n" for i in range(n))
    if kind == "flow":
        items = draw(st.lists(_SCALAR_TEXT.map(json.dumps) | _WORDS, max_size=4))
        return f"a: [{', '.join(items)}]\nb: {{{', '.join(f'k{i}: {v}' for i, v in enumerate(items))}}}\n"
    if kind == "seq":
        return "".join(f"- {draw(scalar_yaml())}\n" for _ in range(draw(st.integers(1, 3))))
    if kind == "anchors":
        v = draw(scalar_yaml())
        return f"a: &x {v}\nb: *x\nc: &y {{k: *x, j: [*x]}}\nd: [*y, *y]\n"
    keys = draw(st.lists(st.sampled_from(["p", "q", "r"]), min_size=1, max_size=3))
    before = draw(st.booleans())
    own = "".join(f"  {k}: own\n" for k in keys)
    merge = draw(st.sampled_from(["*a", "[*a, *b]", "[*b, *a]", "{p: inline}"]))
    body = (own + f"  <<: {merge}\n") if before else (f"  <<: {merge}\n" + own)
    return "a: &a {p: 1, q: 2}\nb: &b {q: 3, r: 4}\nc:\n" + body


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(document_yaml())
def test_generated_documents(oracle: Oracle, text: str) -> None:
    value = check_document(oracle, text)
    if isinstance(value, dict):
        check_round_trip(oracle, value)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(document_yaml(), min_size=1, max_size=4),
    st.lists(
        st.sampled_from(["---", "--- # c", "---  ", "---#c", "---\t", "...\n---", "# c\n---"]),
        min_size=4,
        max_size=4,
    ),
)
def test_generated_streams(oracle: Oracle, docs: list[str], separators: list[str]) -> None:
    text = "".join(doc + sep + "\n" for doc, sep in zip(docs, separators, strict=False))
    check_stream(oracle, text)


_MULTILINE = st.text(
    st.sampled_from(["\n", " ", "\t", "a", "#", ":", "-", "é", "\r", "\u2028", "'", '"']), max_size=10
)
_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | _SCALAR_TEXT
    | _MULTILINE
    | st.floats(allow_nan=False, allow_infinity=False).map(yamlk8s.json_number),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(_SCALAR_TEXT | _MULTILINE, children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.dictionaries(_SCALAR_TEXT, _JSON_VALUES, max_size=4))
def test_generated_values_round_trip(oracle: Oracle, value: dict[str, Any]) -> None:
    check_round_trip(oracle, value)
    ok, got = ours_stream(manifests.dump_yaml([value]))
    assert ok and canon(got) == canon([value] if value else [{}])


# --- our commands' output, read by the oracle ----------------------------------------


def test_init_output_has_no_anchors_and_reads_back(oracle: Oracle) -> None:
    from tests.conftest import run_cli

    as_yaml = run_cli("init", "-o", "yaml")
    as_json = run_cli("init", "-o", "json")
    assert as_yaml.returncode == 0 and as_json.returncode == 0, as_yaml.stderr + as_json.stderr
    assert "&id" not in as_yaml.stdout and "*id" not in as_yaml.stdout
    back = oracle.ask(stream=as_yaml.stdout)
    assert "error" not in back, back
    expected = json.loads(as_json.stdout)
    expected = expected["items"] if expected.get("kind") == "List" else [expected]
    assert canon([d for d in back["docs"] if d is not None]) == canon(expected)


def test_post_renderer_output_reads_back(oracle: Oracle) -> None:
    from kubectl_kubefed import postrender

    data = {s: s for s in SCALARS if s}
    data["config.yaml"] = "x: 1\n\n"
    source = manifests.dump_yaml(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "ns"},
                "data": data,
            }
        ]
    )
    want = check_stream(oracle, source)
    assert want is not None and want[0]["data"] == data
    out = postrender.render(
        "---\n# Source: c/templates/cm.yaml\n" + source.removeprefix("---\n"), postrender.Options()
    )
    back = oracle.ask(stream=out)
    assert "error" not in back, back
    assert next(d for d in back["docs"] if d)["spec"]["template"]["data"] == data


def _fan_out(levels: int, width: int, leaf: int, pad: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['x'] * leaf)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    lines.append("pad: [" + ", ".join(["p"] * pad) + "]")
    return "\n".join(lines) + "\n"


def test_alias_expansion_limit_is_go_yamls(oracle: Oracle) -> None:
    """Near go-yaml's limit (aliases over 99% of 400,000 decoded nodes, less for more),
    we refuse exactly what it refuses."""
    grid = [(lv, w, leaf, pad) for lv in (3, 4, 5) for w in (3, 12) for leaf in (1, 20) for pad in (0, 20000)]
    outcomes = set()
    for case in grid:
        text = _fan_out(*case)
        refused = "error" in oracle.ask(yaml=text)
        ok, got = ours_document(text)
        assert ok != refused, (case, got)
        outcomes.add(refused)
    assert outcomes == {True, False}


ODD_STRINGS = [
    "\u2028", "\x85", "a\u2028b", "\ufeff", "\ufeffa", " ", "a ", "\t", "#", "- ", "? ", ": ", "'", '"',
    "\\", "%", "@", "`", "|", ">", "!", "&", "*", "{", "[", "a: b", "a #b", "\n", "\n\n", " \n", "a\n ",
    "\n a", "a\r\nb", "\x00", "\x7f", "\U0001f600", "\u00a0", "a\tb\n", "x\n\n ", "---", "...", "--- a",
    "a\n---\nb", "a\n...\nb", "- a\n- b\n", "~\n", "a\x85b\n", "x\u2029\n",
]  # fmt: skip


def test_odd_strings_round_trip(oracle: Oracle) -> None:
    for s in ODD_STRINGS:
        check_round_trip(oracle, {"k": s, s: "v"})


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    st.lists(st.dictionaries(_SCALAR_TEXT, _JSON_VALUES, min_size=1, max_size=3), min_size=1, max_size=3),
    st.sampled_from(["\n", " ", "", "\n\n  "]),
    st.booleans(),
)
def test_generated_json_streams(oracle: Oracle, values: list[dict[str, Any]], gap: str, indent: bool) -> None:
    text = gap.join(json.dumps(v, indent=2 if indent else None) for v in values)
    check_stream(oracle, text)
