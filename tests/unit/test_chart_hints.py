"""A chart's kubefed.io/* hints may only narrow the operator's placement (security issue, hole 4)."""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.core.convert import narrow_placement
from tests.conftest import run_cli


def chart_object(**annotations: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "shop", "annotations": annotations},
            "data": {"k": "v"},
        }
    )


def placement_of(stdout: str) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(stdout) if d]
    assert len(docs) == 1
    return dict(docs[0]["spec"]["placement"])


def test_hint_cannot_widen_clusters_flag() -> None:
    result = run_cli(
        "--clusters=staging",
        stdin=chart_object(**{"kubefed.io/clusters": "prod-1,prod-2"}),
        exe="kubefed-post-renderer",
    )
    assert result.returncode == 0, result.stderr
    assert placement_of(result.stdout) == {"clusters": []}
    assert "prod-1, prod-2 are outside --clusters" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_hint_narrows_clusters_flag() -> None:
    result = run_cli(
        "--clusters=a,b,c",
        stdin=chart_object(**{"kubefed.io/clusters": "b,x"}),
        exe="kubefed-post-renderer",
    )
    assert result.returncode == 0, result.stderr
    assert placement_of(result.stdout) == {"clusters": [{"name": "b"}]}


def test_hints_can_be_switched_off() -> None:
    hinted = chart_object(
        **{
            "kubefed.io/clusters": "prod-1",
            "kubefed.io/overrides": json.dumps(
                [{"clusterName": "prod-1", "clusterOverrides": [{"path": "/data/k", "value": "x"}]}]
            ),
        }
    )
    result = run_cli(
        "--clusters=staging", "--allow-chart-hints=false", stdin=hinted, exe="kubefed-post-renderer"
    )
    assert result.returncode == 0, result.stderr
    out = yaml.safe_load(result.stdout)
    assert out["spec"]["placement"] == {"clusters": [{"name": "staging"}]}
    assert "overrides" not in out["spec"]
    assert "kubefed.io/clusters" not in json.dumps(out)


def test_without_flags_the_hint_applies() -> None:
    result = run_cli(
        stdin=chart_object(**{"kubefed.io/cluster-selector": "tier=prod"}), exe="kubefed-post-renderer"
    )
    assert result.returncode == 0, result.stderr
    assert placement_of(result.stdout) == {"clusterSelector": {"matchLabels": {"tier": "prod"}}}


def test_selectors_are_anded_and_conflicts_select_nothing() -> None:
    bound = {"clusterSelector": {"matchLabels": {"env": "staging"}}}
    narrowed, warning = narrow_placement(
        bound, {"clusterSelector": {"matchLabels": {"env": "prod", "tier": "a"}}}
    )
    assert warning == ""
    assert narrowed == {
        "clusterSelector": {
            "matchLabels": {"env": "staging", "tier": "a"},
            "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}],
        }
    }


def test_list_and_selector_keep_the_flags() -> None:
    bound = {"clusters": [{"name": "staging"}]}
    narrowed, warning = narrow_placement(bound, {"clusterSelector": {"matchLabels": {}}})
    assert narrowed == bound and "flags' placement is kept" in warning


cluster_names = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=5, unique=True)


@given(cluster_names, cluster_names)
def test_narrowed_cluster_list_is_within_the_flags(allowed: list[str], hinted: list[str]) -> None:
    narrowed, _ = narrow_placement(
        {"clusters": [{"name": n} for n in allowed]}, {"clusters": [{"name": n} for n in hinted]}
    )
    assert narrowed is not None
    got = {c["name"] for c in narrowed["clusters"]}
    assert got <= set(allowed) and got <= set(hinted)
    assert got == set(allowed) & set(hinted)
