"""Our replica planner against KubeFed v0.10.0's own, on generated preferences.

``hack/oracles/kubefed`` answers ``{"case": "plan", ...}`` with what
``planner.NewPlanner(rsp).Plan(clusters, current, capacity, key)`` returns and with the
replica scheduler's own merge (``schedulingtypes.schedule``); ours must be equal, map for
map, including the clusters planned 0 and the overflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import replicas as rp
from kubectl_kubefed.core.replicas import ClusterPreference, Preference
from tests.oracle import Oracle

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

EXAMPLES = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

POOL = ["A", "B", "C", "D", "E", "member1", "member2", "eu-west", "us-east", "ασία"]


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    o = Oracle("kubefed")
    yield o
    o.close()


def kubefed(oracle: Oracle, pref: Preference, clusters: list[str], **inputs: Any) -> dict[str, Any]:
    """KubeFed's answer for ``pref`` (as its RSP JSON, zero fields sometimes left out)."""
    prefs: dict[str, Any] = {}
    for name, p in pref.clusters.items():
        entry: dict[str, Any] = {"weight": p.weight} if p.weight or name.startswith("A") else {}
        if p.min_replicas:
            entry["minReplicas"] = p.min_replicas
        if p.max_replicas is not None:
            entry["maxReplicas"] = p.max_replicas
        prefs[name] = entry
    spec = {"totalReplicas": pref.total_replicas, "rebalance": pref.rebalance, "clusters": prefs}
    answer = oracle.ask(case="plan", rsp={"spec": spec}, clusters=clusters, **inputs)
    assert "error" not in answer, answer
    return answer


def check(
    oracle: Oracle,
    pref: Preference,
    clusters: list[str],
    current: dict[str, int],
    capacity: dict[str, int],
    key: str,
) -> None:
    theirs = kubefed(oracle, pref, clusters, current=current, capacity=capacity, key=key)
    planned, overflow = rp.plan(pref, clusters, current, capacity, key=key)
    assert planned == theirs["plan"]
    assert overflow == theirs["overflow"]
    assert rp.merge(planned, overflow, current) == theirs["schedule"]


# -- generated inputs ----------------------------------------------------------------------

counts = st.integers(0, 40) | st.integers(0, 1000) | st.sampled_from([0, 1, 2, 10**6])
weights = st.integers(0, 5) | st.integers(0, 10**9) | st.just(0)
cluster_prefs = st.builds(
    ClusterPreference,
    min_replicas=counts,
    max_replicas=st.none() | counts,  # max < min included
    weight=weights,
)
names = st.sampled_from(POOL) | st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)


@st.composite
def inputs(draw: st.DrawFn) -> tuple[Preference, list[str], dict[str, int], dict[str, int], str]:
    many = draw(st.booleans().map(lambda b: 30 if b else 8))
    clusters = draw(st.lists(names.filter(lambda n: n != "*"), unique=True, max_size=many))
    keys = st.sampled_from([*clusters, "*", "*", "absent"]) if clusters else st.sampled_from(["*", "x"])
    prefs = draw(st.dictionaries(keys, cluster_prefs, max_size=len(clusters) + 2))
    total = draw(st.integers(0, 60) | st.integers(0, 10**5) | st.sampled_from([0, 1, 2**31 - 1]))
    if total > 10**5:
        prefs = {
            n: ClusterPreference(p.min_replicas, p.max_replicas, min(p.weight, 10**6))
            for n, p in prefs.items()
        }
    subset = st.sampled_from(clusters) if clusters else st.just("gone")
    current = draw(st.dictionaries(subset | st.just("gone"), counts, max_size=len(clusters) + 1))
    capacity = draw(st.dictionaries(subset, counts, max_size=len(clusters)))
    key = draw(
        st.sampled_from(["", "shop/web", "default/nginx"]) | st.text(max_size=12).filter(str.isprintable)
    )
    return Preference(total, prefs, draw(st.booleans())), clusters, current, capacity, key


@EXAMPLES
@given(inputs())
@example((Preference(50, {"*": ClusterPreference(weight=1)}), ["A", "B"], {"A": 10, "B": 70}, {}, ""))
@example((Preference(60, {"*": ClusterPreference(20, None, 1)}, True), ["A", "B"], {}, {"B": 10}, ""))
@example((Preference(0, {"*": ClusterPreference(3, 1, 2)}), ["A", "B", "C"], {"A": 4}, {"C": 0}, "ns/x"))
@example((Preference(7, {}), ["A", "B"], {"gone": 2}, {}, "ns/x"))
@example((Preference(1, {"*": ClusterPreference(weight=2**62)}), ["A"], {}, {}, ""))  # at the int64 edge
def test_plan_equals_kubefeds(
    oracle: Oracle, case: tuple[Preference, list[str], dict[str, int], dict[str, int], str]
) -> None:
    pref, clusters, current, capacity, key = case
    check(oracle, pref, clusters, current, capacity, key)


@EXAMPLES
@given(
    st.lists(st.sampled_from(POOL), unique=True, min_size=1, max_size=10),
    st.integers(0, 200),
    st.booleans(),
    st.integers(0, 3),
    st.data(),
)
def test_rebalance_false_keeps_current_like_kubefed(
    oracle: Oracle, clusters: list[str], total: int, rebalance: bool, spread: int, data: st.DataObject
) -> None:
    """Currents and capacities on every cluster, as after a failover: the preallocation
    paths (rebalance false) get exercised hard."""
    pref = Preference(
        total, {"*": ClusterPreference(weight=1), clusters[0]: ClusterPreference(weight=spread)}, rebalance
    )
    current = {c: data.draw(st.integers(0, 120)) for c in clusters}
    capacity = data.draw(st.dictionaries(st.sampled_from(clusters), st.integers(0, 80)))
    check(oracle, pref, clusters, current, capacity, data.draw(st.sampled_from(["", "shop/web"])))


def test_many_clusters_equal_kubefeds(oracle: Oracle) -> None:
    clusters = [f"member-{i}" for i in range(120)]
    pref = Preference(1001, {"*": ClusterPreference(1, 12, 3), "member-7": ClusterPreference(weight=50)})
    check(oracle, pref, clusters, {"member-3": 40}, {"member-7": 5}, "prod/api")
