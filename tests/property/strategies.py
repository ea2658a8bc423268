"""Hypothesis strategies for clusters, labels, selectors, objects and overrides."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kubectl_kubefed.core.clusters import Cluster

label_keys = st.sampled_from(["region", "zone", "tier", "env", "gpu"])
label_values = st.sampled_from(["a", "b", "c", "europe", "asia"])
labels = st.dictionaries(label_keys, label_values, max_size=4)

cluster_names = st.sampled_from([f"c{i}" for i in range(6)])


@st.composite
def clusters(draw: st.DrawFn) -> list[Cluster]:
    names = draw(st.lists(cluster_names, unique=True, max_size=6))
    return [Cluster(n, draw(labels), draw(st.booleans())) for n in names]


@st.composite
def expressions(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]))
    expr: dict[str, Any] = {"key": draw(label_keys), "operator": op}
    if op in ("In", "NotIn"):
        expr["values"] = draw(st.lists(label_values, min_size=1, max_size=3, unique=True))
    return expr


selectors = st.builds(
    lambda ml, me: {"matchLabels": ml, **({"matchExpressions": me} if me else {})},
    st.dictionaries(label_keys, label_values, max_size=2),
    st.lists(expressions(), max_size=3),
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=12,
)

simple_keys = st.sampled_from(["a", "b", "replicas", "image", "x~y", "p/q"])


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    return draw(st.dictionaries(simple_keys, json_values, max_size=4))


def escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


@st.composite
def cluster_overrides(draw: st.DrawFn, spec_keys: list[str]) -> list[dict[str, Any]]:
    """Valid, applicable operations against a spec with the given keys."""
    ops = []
    used: set[str] = set()
    for _ in range(draw(st.integers(0, 3))):
        key = draw(simple_keys)
        path = f"/spec/{escape(key)}"
        if path in used:
            continue
        used.add(path)
        if key in spec_keys and draw(st.booleans()):
            ops.append({"op": "remove", "path": path})
            spec_keys = [k for k in spec_keys if k != key]
        else:
            op = draw(st.sampled_from(["add", "replace", None]))
            entry: dict[str, Any] = {"path": path, "value": draw(json_values)}
            if op:
                entry["op"] = op
            ops.append(entry)
            spec_keys = [*spec_keys, key]
    return ops
