"""KubeFed's replica planner: the cases of KubeFed v0.10.0's own planner_test.go (key "",
so the FNV hashes alone break ties), the scheduler's merge, and reading an RSP."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_kubefed.core import replicas as rp
from kubectl_kubefed.core.replicas import ClusterPreference as P
from kubectl_kubefed.core.replicas import Preference, PreferenceError

ABC = ["A", "B", "C"]
ABCD = ["A", "B", "C", "D"]
W1 = {"*": P(weight=1)}
HEAVY_A = {"A": P(weight=10000), "B": P(weight=1)}
MAXES = {"A": P(weight=10000, max_replicas=10), "B": P(weight=1), "C": P(weight=1, max_replicas=21)}
MAXES_D = {**MAXES, "D": P(weight=1, max_replicas=10)}


def run(
    prefs: dict[str, P],
    total: int,
    clusters: list[str],
    current: dict[str, int] | None = None,
    capacity: dict[str, int] | None = None,
    rebalance: bool = False,
) -> tuple[dict[str, int], dict[str, int]]:
    return rp.plan(Preference(total, prefs, rebalance), clusters, current, capacity, key="")


# (preferences, totalReplicas, clusters, expected plan): doCheck, no overflow expected
PLAIN: list[tuple[dict[str, P], int, list[str], dict[str, int]]] = [
    # TestEqual
    (W1, 50, ABC, {"A": 16, "B": 17, "C": 17}),
    (W1, 50, ["A", "B"], {"A": 25, "B": 25}),
    (W1, 1, ["A", "B"], {"A": 0, "B": 1}),
    (W1, 1, ABCD, {"A": 0, "B": 0, "C": 0, "D": 1}),
    (W1, 1, ["A"], {"A": 1}),
    (W1, 1, [], {}),
    # TestMin
    ({"*": P(min_replicas=2)}, 50, ABC, {"A": 2, "B": 2, "C": 2}),
    ({"*": P(min_replicas=20)}, 50, ABC, {"A": 10, "B": 20, "C": 20}),
    ({"*": P(min_replicas=20), "A": P(min_replicas=100, weight=1)}, 50, ABC, {"A": 50, "B": 0, "C": 0}),
    ({"*": P(min_replicas=10, weight=1, max_replicas=12)}, 50, ABC, {"A": 12, "B": 12, "C": 12}),
    # TestMax
    ({"*": P(weight=1, max_replicas=2)}, 50, ABC, {"A": 2, "B": 2, "C": 2}),
    ({"*": P(weight=0, max_replicas=2)}, 50, ABC, {"A": 0, "B": 0, "C": 0}),
    # TestWeight
    ({"A": P(weight=1), "B": P(weight=2)}, 60, ABC, {"A": 20, "B": 40, "C": 0}),
    (HEAVY_A, 50, ABC, {"A": 50, "B": 0, "C": 0}),
    (HEAVY_A, 50, ["B", "C"], {"B": 50, "C": 0}),
    ({**MAXES, "C": P(weight=1)}, 50, ABC, {"A": 10, "B": 20, "C": 20}),
    ({**MAXES, "C": P(weight=1, max_replicas=10)}, 50, ABC, {"A": 10, "B": 30, "C": 10}),
    (MAXES_D, 71, ABCD, {"A": 10, "B": 30, "C": 21, "D": 10}),
    ({**MAXES_D, "E": P(weight=1)}, 91, [*ABCD, "E"], {"A": 10, "B": 25, "C": 21, "D": 10, "E": 25}),
]


@pytest.mark.parametrize(("prefs", "total", "clusters", "expected"), PLAIN)
def test_planner_test_go_plain_cases(
    prefs: dict[str, P], total: int, clusters: list[str], expected: dict[str, int]
) -> None:
    assert run(prefs, total, clusters) == (expected, {})


# TestEqualWithExisting: (total, clusters, current, expected), all {"*": weight 1}, rebalance false
EXISTING: list[tuple[int, list[str], dict[str, int], dict[str, int]]] = [
    (50, ABC, {"C": 30}, {"A": 10, "B": 10, "C": 30}),
    (50, ["A", "B"], {"A": 30}, {"A": 30, "B": 20}),
    (15, ["A", "B"], {"A": 0, "B": 8}, {"A": 7, "B": 8}),
    (15, ["A", "B"], {"A": 1, "B": 8}, {"A": 7, "B": 8}),
    (15, ["A", "B"], {"A": 4, "B": 8}, {"A": 7, "B": 8}),
    (15, ["A", "B"], {"A": 5, "B": 8}, {"A": 7, "B": 8}),
    (15, ["A", "B"], {"A": 6, "B": 8}, {"A": 7, "B": 8}),
    (15, ["A", "B"], {"A": 7, "B": 8}, {"A": 7, "B": 8}),
    (500000, ["A", "B"], {"A": 300000}, {"A": 300000, "B": 200000}),
    (50, ["A", "B"], {"A": 10}, {"A": 25, "B": 25}),
    (50, ["A", "B"], {"A": 10, "B": 70}, {"A": 0, "B": 50}),  # upstream TODO: should be 10:40
    (1, ["A", "B"], {"A": 30}, {"A": 1, "B": 0}),
    (50, ["A", "B"], {"A": 10, "B": 20}, {"A": 25, "B": 25}),
]


@pytest.mark.parametrize(("total", "clusters", "current", "expected"), EXISTING)
def test_planner_test_go_existing_cases(
    total: int, clusters: list[str], current: dict[str, int], expected: dict[str, int]
) -> None:
    assert run(W1, total, clusters, current) == (expected, {})


# TestWithExistingAndCapacity: (rebalance, prefs, total, clusters, capacity, plan, overflow)
CAPACITY: list[tuple[bool, dict[str, P], int, list[str], dict[str, int], dict[str, int], dict[str, int]]] = [
    (True, W1, 50, ABC, {"C": 10}, {"A": 20, "B": 20, "C": 10}, {"C": 7}),
    (True, HEAVY_A, 50, ["B", "C"], {"B": 10}, {"B": 10, "C": 0}, {"B": 40}),
    (
        True,
        {"A": P(weight=1), "B": P(weight=2)},
        60,
        ABC,
        {"B": 10},
        {"A": 50, "B": 10, "C": 0},
        {"B": 30},
    ),
    (True, MAXES_D, 71, ABCD, {"C": 10}, {"A": 10, "B": 41, "C": 10, "D": 10}, {"C": 11}),
    (
        False,
        {"A": P(weight=1), "B": P(weight=1)},
        60,
        ABC,
        {"A": 10, "B": 10},
        {"A": 10, "B": 10, "C": 0},
        {"A": 20, "B": 20},
    ),
    (
        False,
        {"A": P(weight=1), "B": P(weight=5)},
        60,
        ABC,
        {"B": 10},
        {"A": 50, "B": 10, "C": 0},
        {},
    ),
    (False, {"*": P(min_replicas=20)}, 50, ABC, {"B": 10}, {"A": 20, "B": 10, "C": 20}, {}),
    (True, {"*": P(min_replicas=20, weight=1)}, 60, ["A", "B"], {"B": 10}, {"A": 50, "B": 10}, {"B": 15}),
]


@pytest.mark.parametrize(
    ("rebalance", "prefs", "total", "clusters", "capacity", "plan", "overflow"), CAPACITY
)
def test_planner_test_go_capacity_cases(
    rebalance: bool,
    prefs: dict[str, P],
    total: int,
    clusters: list[str],
    capacity: dict[str, int],
    plan: dict[str, int],
    overflow: dict[str, int],
) -> None:
    assert run(prefs, total, clusters, {}, capacity, rebalance) == (plan, overflow)


# -- the hash and the key ------------------------------------------------------------------


def test_fnv1_32_is_go_fnv_new32_not_fnv1a() -> None:
    assert rp.fnv1_32(b"") == 2166136261
    assert [rp.fnv1_32(c.encode()) for c in "ABCDE"] == [84696414, 84696413, 84696412, 84696411, 84696410]
    assert rp.fnv1_32(b"a") == 0x050C5D7E  # FNV-1a would give 0xE40C292C


def test_key_breaks_ties_and_namespace_name_is_hashed() -> None:
    pref = Preference(1, W1, namespace="shop", name="web")
    assert pref.key == "shop/web"
    assert Preference(1, W1, name="web").key == "web"
    clusters = ["c1", "c2", "c3"]
    hashes = {c: rp.fnv1_32(f"{c}shop/web".encode()) for c in clusters}
    winner = min(clusters, key=hashes.__getitem__)
    planned, _ = rp.plan(pref, clusters)
    assert planned == {c: int(c == winner) for c in clusters}
    # with another key another cluster can win: the key really takes part
    winners = {
        max(rp.plan(pref, clusters, key=f"ns{i}/app")[0].items(), key=lambda kv: kv[1])[0] for i in range(30)
    }
    assert winners == set(clusters)


# -- the scheduler's merge -------------------------------------------------------------------


def test_merge_lists_current_clusters_and_adds_overflow() -> None:
    assert rp.merge({"A": 2, "B": 0}, {"B": 3, "C": 1}, {"A": 5, "Z": 4}) == {
        "A": 2,
        "Z": 0,
        "B": 3,
        "C": 1,
    }


def test_schedule_defaults_empty_clusters_to_star_weight_1_and_merges() -> None:
    pref = Preference(4)
    assert rp.plan(pref, ["a", "b"], key="") == ({"a": 0, "b": 0}, {})  # the bare planner
    result = rp.schedule(pref, ["a", "b"], current={"gone": 3})
    assert (result.plan, result.overflow) == ({"a": 2, "b": 2}, {})
    assert result.replicas == {"gone": 0, "a": 2, "b": 2}  # a current count, unplanned: 0
    cap = rp.schedule(Preference(50, W1, rebalance=True), ABC, capacity={"C": 10})
    assert sum(cap.replicas.values()) == 50 + sum(cap.overflow.values())
    assert cap.replicas["C"] == cap.plan["C"] + cap.overflow["C"]


def test_weights_that_would_overflow_kubefeds_int64_are_refused() -> None:
    big = 2**62
    with pytest.raises(PreferenceError, match="overflow int64"):
        rp.plan(Preference(1, {"*": P(weight=big)}), ["a", "b"])
    assert rp.plan(Preference(1, {"*": P(weight=big)}), ["a"])[0] == {"a": 1}  # (1+1) x 2^62 fits


def test_negative_current_or_capacity_is_refused() -> None:
    with pytest.raises(PreferenceError, match='capacity of cluster "a"'):
        rp.plan(Preference(1, W1), ["a"], capacity={"a": -1})
    with pytest.raises(PreferenceError, match='current replicas of cluster "a"'):
        rp.plan(Preference(1, W1), ["a"], current={"a": -2})


# -- reading an RSP ----------------------------------------------------------------------------


def rsp(spec: Any, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "scheduling.kubefed.io/v1alpha1",
        "kind": "ReplicaSchedulingPreference",
        "metadata": {"name": "web", "namespace": "shop", **meta},
        "spec": spec,
    }


def test_parse_reads_every_field() -> None:
    pref = rp.parse_preference(
        rsp(
            {
                "targetKind": "FederatedReplicaSet",
                "totalReplicas": 9,
                "rebalance": True,
                "intersectWithClusterSelector": True,
                "clusters": {"A": {"minReplicas": 4, "maxReplicas": 6, "weight": 1}, "*": {"weight": 2}},
            }
        )
    )
    assert pref == Preference(
        9,
        {"A": P(4, 6, 1), "*": P(weight=2)},
        rebalance=True,
        target_kind="FederatedReplicaSet",
        intersect_with_cluster_selector=True,
        namespace="shop",
        name="web",
    )
    assert pref.key == "shop/web"


def test_parse_defaults() -> None:
    pref = rp.parse_preference(rsp({"targetKind": "FederatedDeployment", "totalReplicas": 0}))
    assert (pref.total_replicas, pref.clusters, pref.rebalance) == (0, {}, False)
    assert pref.defaulted().clusters == {"*": P(weight=1)}
    nulls = rp.parse_preference(
        rsp({"targetKind": "FederatedDeployment", "totalReplicas": 3, "clusters": {"a": None, "b": {}}})
    )
    assert nulls.clusters == {"a": P(), "b": P()}


GOOD = {"targetKind": "FederatedDeployment", "totalReplicas": 3}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "expected a ReplicaSchedulingPreference, got a list"),
        (
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}},
            'expected scheduling.kubefed.io/v1alpha1 ReplicaSchedulingPreference, not "apps/v1" "Deployment"',
        ),
        ({**rsp(GOOD), "apiVersion": "scheduling.kubefed.io/v1"}, 'not "scheduling.kubefed.io/v1"'),
        (rsp(GOOD, name="Bad_Name"), 'metadata.name "Bad_Name"'),
        (rsp(None), "spec must be a map, not null"),
        (rsp({**GOOD, "totalReplica": 1}), 'spec: unknown field "totalReplica"'),
        (
            rsp({"totalReplicas": 3}),
            "spec.targetKind must be FederatedDeployment or FederatedReplicaSet, not null",
        ),
        (rsp({**GOOD, "targetKind": "Deployment"}), 'not "Deployment"'),
        (rsp({"targetKind": "FederatedDeployment"}), "spec.totalReplicas is required"),
        (rsp({**GOOD, "totalReplicas": -1}), "spec.totalReplicas must be >= 0, not -1"),
        (rsp({**GOOD, "totalReplicas": 2**31}), "spec.totalReplicas must be at most 2147483647"),
        (rsp({**GOOD, "totalReplicas": "3"}), "spec.totalReplicas must be a whole number, not a string"),
        (rsp({**GOOD, "totalReplicas": 1.5}), "spec.totalReplicas must be a whole number, not a number"),
        (rsp({**GOOD, "totalReplicas": True}), "must be a whole number, not a boolean"),
        (rsp({**GOOD, "rebalance": "yes"}), "spec.rebalance must be true or false, not a string"),
        (rsp({**GOOD, "clusters": []}), "spec.clusters must be a map, not a list"),
        (rsp({**GOOD, "clusters": {"a": 3}}), 'spec.clusters["a"] must be a map, not a number'),
        (rsp({**GOOD, "clusters": {"a": {"weight": -1}}}), 'spec.clusters["a"].weight must be >= 0, not -1'),
        (rsp({**GOOD, "clusters": {"a": {"minReplicas": -5}}}), ".minReplicas must be >= 0"),
        (rsp({**GOOD, "clusters": {"a": {"maxReplicas": 2**63}}}), ".maxReplicas must be at most"),
        (rsp({**GOOD, "clusters": {"a": {"max": 1}}}), 'spec.clusters["a"]: unknown field "max"'),
    ],
)
def test_parse_refuses_bad_input_in_one_line(obj: Any, message: str) -> None:
    with pytest.raises(PreferenceError) as info:
        rp.parse_preference(obj)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


# -- properties (KubeFed's planner has them too; the oracle test checks equality) ------------

_prefs = st.builds(
    P, min_replicas=st.integers(0, 30), max_replicas=st.none() | st.integers(0, 30), weight=st.integers(0, 5)
)
_names = st.lists(st.sampled_from(["a", "b", "c", "d", "e", "f"]), unique=True, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    _names,
    st.dictionaries(st.sampled_from(["a", "b", "c", "*"]), _prefs),
    st.integers(0, 100),
    st.booleans(),
    st.data(),
)
def test_plan_properties(
    clusters: list[str], prefs: dict[str, P], total: int, rebalance: bool, data: st.DataObject
) -> None:
    current = data.draw(st.dictionaries(st.sampled_from(clusters or ["a"]), st.integers(0, 60)))
    capacity = data.draw(st.dictionaries(st.sampled_from(clusters or ["a"]), st.integers(0, 40)))
    pref = Preference(total, prefs, rebalance, namespace="ns", name="app")
    planned, overflow = rp.plan(pref, clusters, current, capacity)
    assert set(planned) == set(clusters)  # every cluster is planned, 0 when it takes no part
    assert sum(planned.values()) <= total
    for c, n in planned.items():
        assert n >= 0
        assert n <= capacity.get(c, n)
        if c not in prefs and "*" not in prefs:
            assert n == 0
    assert all(n > 0 and c in capacity for c, n in overflow.items())
    # the order clusters are listed in does not matter: they are sorted by weight and hash
    shuffled = data.draw(st.permutations(clusters))
    assert rp.plan(pref, shuffled, current, capacity) == (planned, overflow)
    if (
        clusters
        and rebalance
        and not capacity
        and all(p.weight > 0 and p.max_replicas is None for p in prefs.values())
        and ("*" in prefs or set(clusters) <= set(prefs))
    ):
        assert sum(planned.values()) == total  # nothing stops a weighted, unbounded spread
