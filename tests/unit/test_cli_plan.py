"""``kubectl kubefed plan``, run in this process: exact outputs, one-line errors with exit
code 2, and ``-o json`` equal to KubeFed's own planner and merge (the Go oracle)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_kubefed.cli import main as cli_main
from tests.inprocess import run_inprocess

RSP = """\
apiVersion: scheduling.kubefed.io/v1alpha1
kind: ReplicaSchedulingPreference
metadata: {name: web, namespace: shop}
spec:
  targetKind: FederatedDeployment
  totalReplicas: 50
  rebalance: true
  clusters:
    "*": {weight: 1}
    c: {weight: 1, maxReplicas: 20}
"""


def plan(*argv: str, stdin: str = RSP) -> tuple[int, str, str]:
    return run_inprocess(cli_main.main, ["plan", "-f", "-", *argv], stdin)


def rsp(spec: str, meta: str = "{name: web, namespace: shop}") -> str:
    return (
        "apiVersion: scheduling.kubefed.io/v1alpha1\nkind: ReplicaSchedulingPreference\n"
        f"metadata: {meta}\nspec: {spec}\n"
    )


def test_json_is_plan_overflow_schedule_exactly() -> None:
    code, out, err = plan("--clusters", "a,b,c", "--capacity", "a=10", "-o", "json")
    assert (code, err) == (0, "")
    # a's first share is ceil(50/3) = 17 over its capacity 10: overflow 7, added to its
    # schedule (rebalance: true keeps overflow as it is)
    assert json.loads(out) == {
        "plan": {"a": 10, "b": 20, "c": 20},
        "overflow": {"a": 7},
        "schedule": {"a": 17, "b": 20, "c": 20},
    }
    assert out.startswith('{\n  "plan": {\n    "a": 10,')  # keys in this order, clusters by name


def test_yaml_is_the_same_value() -> None:
    _, out_json, _ = plan("--clusters", "b,a,c", "-o", "json")
    code, out_yaml, err = plan("--clusters", "b,a,c", "-o", "yaml")
    assert (code, err) == (0, "")
    assert yaml.safe_load(out_yaml) == json.loads(out_json)
    assert out_yaml.splitlines()[:2] == ["plan:", "  a: 17"]


def test_table_is_the_default_one_row_per_cluster_in_flag_order() -> None:
    code, out, err = plan("--clusters", "c,a,b", "--current", "b=30,a=0", "--capacity", "a=5")
    assert (code, err) == (0, "")
    assert out == (
        "CLUSTER  CURRENT  CAPACITY  PLANNED  OVERFLOW  REPLICAS\n"
        "c        -        -         20       0         20\n"
        "a        0        5         5        12        17\n"
        "b        30       -         25       0         25\n"
    )


def test_table_says_when_replicas_fit_nowhere() -> None:
    spec = (
        "{targetKind: FederatedDeployment, totalReplicas: 50, clusters: {'*': {weight: 1, maxReplicas: 12}}}"
    )
    code, out, _ = plan("--clusters", "a,b,c", stdin=rsp(spec))
    assert code == 0
    assert out.splitlines()[-1] == "14 of 50 replicas planned on no cluster (weights, maxReplicas, capacity)"


def test_no_clusters_in_the_rsp_means_star_weight_1_and_rebalance_false_keeps_current() -> None:
    spec = "{targetKind: FederatedReplicaSet, totalReplicas: 6}"
    code, out, _ = plan("--clusters", "a,b", "--current", "a=6", "-o", "json", stdin=rsp(spec))
    assert code == 0
    assert json.loads(out)["schedule"] == {"a": 6, "b": 0}


def test_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "rsp.yaml"
    path.write_text(RSP)
    code, out, _ = run_inprocess(cli_main.main, ["plan", "-f", str(path), "--clusters", "a", "-o", "json"])
    assert code == 0
    assert json.loads(out)["schedule"] == {"a": 50}


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (
            ["--clusters", "a"],
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            '<stdin>: document 1: expected scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference, not "v1" "ConfigMap"',
        ),
        (
            ["--clusters", "a"],
            RSP + "---\n" + RSP,
            "<stdin>: expected one ReplicaSchedulingPreference, found 2 documents",
        ),
        (["--clusters", "a"], "", "found 0 documents"),
        (["--clusters", "a"], "a: [\n", "<stdin>: document 1 (line 2): invalid YAML"),
        (
            ["--clusters", "a"],
            rsp("{targetKind: FederatedDeployment, totalReplicas: -3}"),
            "spec.totalReplicas must be >= 0, not -3",
        ),
        (
            ["--clusters", "a"],
            rsp("{targetKind: FederatedDeployment, totalReplicas: 3, clusters: {a: {weight: -1}}}"),
            'spec.clusters["a"].weight must be >= 0',
        ),
        (
            ["--clusters", "a"],
            rsp("{targetKind: FederatedDeployment, totalReplicas: x}"),
            "must be a whole number, not a string",
        ),
        (
            ["--clusters", "a,b"],
            rsp(
                "{targetKind: FederatedDeployment, totalReplicas: 3, clusters: {'*': {weight: 4611686018427387904}}}"
            ),
            "would overflow int64",
        ),
        (["--clusters", "a", "--current", "a=x"], RSP, '--current: "a" must be a whole number >= 0, not "x"'),
        (
            ["--clusters", "a", "--current", "a=-1"],
            RSP,
            '--current: "a" must be a whole number >= 0, not "-1"',
        ),
        (["--clusters", "a", "--capacity", "a"], RSP, '--capacity: expected CLUSTER=N, not "a"'),
        (["--clusters", "a", "--capacity", "=3"], RSP, '--capacity: expected CLUSTER=N, not "=3"'),
        (["--clusters", "a", "--capacity", "a=1,a=2"], RSP, '--capacity: cluster "a" given twice'),
        (
            ["--clusters", "a", "--capacity", "a=" + "9" * 5000],
            RSP,
            '--capacity: "a" must be at most 9223372036854775807',
        ),
        (["--clusters", "a", "--current", "b=1"], RSP, '--current: cluster "b" is not in --clusters'),
        (["--clusters", "a,a"], RSP, '--clusters: cluster "a" given twice'),
        (["--clusters", "a,,b"], RSP, '--clusters "a,,b": empty cluster name'),
        (["--clusters", ""], RSP, "--clusters: give at least one cluster name"),
        (["--clusters", "A_1"], RSP, '--clusters: cluster name "A_1"'),
        (["--clusters", "a", "-o", "wide"], RSP, "-o must be table, yaml or json, not wide"),
        (["--clusters", "a", "--bogus"], RSP, "No such option: --bogus (see 'kubectl kubefed plan --help')"),
        ([], RSP, "Missing option '--clusters'"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv: list[str], stdin: str, message: str) -> None:
    code, out, err = plan(*argv, stdin=stdin)
    assert code == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert message in err


def test_missing_file_is_one_line_exit_2() -> None:
    code, _, err = run_inprocess(cli_main.main, ["plan", "-f", "/nonexistent/rsp.yaml", "--clusters", "a"])
    assert (code, err) == (2, "error: /nonexistent/rsp.yaml: no such file\n")


# -- against KubeFed itself ------------------------------------------------------------------


@pytest.fixture(scope="module")
def oracle() -> Iterator[Any]:
    from tests.oracle import Oracle

    o = Oracle("kubefed")
    yield o
    o.close()


ORACLE_CASES = [
    (RSP, "a,b,c", "", "a=10"),
    (RSP, "a,b,c,d,e", "a=7,c=30", "c=10"),
    (
        rsp(
            "{targetKind: FederatedDeployment, totalReplicas: 71, clusters: {a: {weight: 10000, maxReplicas: 10}, b: {weight: 1}, c: {weight: 1, maxReplicas: 21}, d: {weight: 1, maxReplicas: 10}}}"
        ),
        "a,b,c,d",
        "b=3",
        "c=10",
    ),
    (
        rsp(
            "{targetKind: FederatedDeployment, totalReplicas: 60, clusters: {a: {weight: 1}, b: {weight: 1}}}"
        ),
        "a,b,c",
        "c=4",
        "a=10,b=10",
    ),
    (
        rsp("{targetKind: FederatedReplicaSet, totalReplicas: 9}", "{name: api}"),
        "member1,member2,member3",
        "member2=9",
        "",
    ),
    (
        rsp(
            "{targetKind: FederatedDeployment, totalReplicas: 0, rebalance: true, clusters: {'*': {minReplicas: 3}}}"
        ),
        "a,b",
        "a=2",
        "b=0",
    ),
]


@pytest.mark.parametrize(("text", "clusters", "current", "capacity"), ORACLE_CASES)
def test_json_equals_kubefeds_planner_and_merge(
    oracle: Any, text: str, clusters: str, current: str, capacity: str
) -> None:
    code, out, err = plan(
        "--clusters", clusters, "--current", current, "--capacity", capacity, "-o", "json", stdin=text
    )
    assert code == 0, err
    obj = yaml.safe_load(text)
    if not obj["spec"].get("clusters"):  # as KubeFed's replica scheduler defaults it
        obj["spec"]["clusters"] = {"*": {"weight": 1}}
    counts = [
        dict((kv.split("=")[0], int(kv.split("=")[1])) for kv in f.split(",") if kv)
        for f in (current, capacity)
    ]
    meta = obj["metadata"]
    key = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
    theirs = oracle.ask(
        case="plan", rsp=obj, clusters=clusters.split(","), current=counts[0], capacity=counts[1], key=key
    )
    assert json.loads(out) == theirs
