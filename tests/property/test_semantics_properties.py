"""Properties of placement, federation, overrides and hashing."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.core import overrides as ov
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core import versions
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.federate import federate
from kubectl_kubefed.core.member import desired_object
from tests.property import strategies as s


@given(s.clusters(), st.lists(s.cluster_names, max_size=4), s.selectors)
def test_clusters_list_ignores_selector(clusters: list[Cluster], listed: list[str], selector: Any) -> None:
    with_list = {"clusters": [{"name": n} for n in listed]}
    both = {**with_list, "clusterSelector": selector}
    assert pl.selected_names(both, clusters) == pl.selected_names(with_list, clusters)
    assert pl.selected_names(both, clusters) == {c.name for c in clusters} & set(listed)


@given(s.clusters(), s.selectors, s.cluster_names, s.label_keys, s.label_values)
def test_placement_monotone_under_matching_labels(
    clusters: list[Cluster], selector: Any, name: str, key: str, value: str
) -> None:
    # Adding a label that the selector's matchLabels asks for never deselects a cluster.
    selector = {"matchLabels": {**selector["matchLabels"], key: value}}
    before = pl.selected_names({"clusterSelector": selector}, clusters)
    changed = [Cluster(c.name, {**c.labels, key: value}, c.ready) if c.name == name else c for c in clusters]
    after = pl.selected_names({"clusterSelector": selector}, changed)
    assert before <= after


@given(s.specs(), s.labels, s.cluster_names)
def test_render_of_fresh_federation_is_source_plus_managed_label(
    spec: dict[str, Any], labels: Any, cluster: str
) -> None:
    source = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": labels,
            "uid": "1",
            "resourceVersion": "4",
        },
        "spec": spec,
        "status": {"x": 1},
    }
    t = tc.lookup("deployments.apps")
    fed = federate(source, t).obj
    member = desired_object(fed, t, cluster).obj
    expected = copy.deepcopy(source)
    del expected["status"]
    expected["metadata"] = {
        "name": "web",
        "namespace": "shop",
        "labels": {**labels, "kubefed.io/managed": "true"},
    }
    assert member == expected


@given(s.specs(), st.data())
def test_overrides_touch_only_named_clusters_and_never_mutate(
    spec: dict[str, Any], data: st.DataObject
) -> None:
    ops = data.draw(s.cluster_overrides(list(spec)))
    fed = {
        "metadata": {"name": "x", "namespace": "n"},
        "spec": {
            "template": {"spec": spec},
            "overrides": [{"clusterName": "c1", "clusterOverrides": ops}],
        },
    }
    snapshot = json.dumps(fed, sort_keys=True)
    t = tc.lookup("cm")
    plain = desired_object(fed, t, "c2").obj
    assert plain["spec"] == spec
    first = desired_object(fed, t, "c1").obj
    second = desired_object(fed, t, "c1").obj
    assert first == second  # deterministic
    assert json.dumps(fed, sort_keys=True) == snapshot  # input untouched


@given(s.json_values, st.data())
def test_apply_never_mutates_input(value: Any, data: st.DataObject) -> None:
    doc = {"spec": {"v": value}}
    snapshot = copy.deepcopy(doc)
    op = data.draw(st.sampled_from(["add", "replace", "remove"]))
    with contextlib.suppress(ov.OverridesError):
        ov.apply(doc, [ov.Operation(op, "/spec/v", 1)])
    assert doc == snapshot


@given(st.dictionaries(st.text(max_size=5), s.json_values, max_size=5), st.randoms())
def test_hash_stable_under_key_order(template: dict[str, Any], rnd: Any) -> None:
    items = list(template.items())
    rnd.shuffle(items)
    shuffled = dict(items)
    assert versions.template_version({"spec": {"template": template}}) == versions.template_version(
        {"spec": {"template": shuffled}}
    )


def _numbers_as_floats(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    return {k: _numbers_as_floats(v) for k, v in value.items()}


@given(s.json_values)
def test_go_json_is_valid_json_with_same_value(value: Any) -> None:
    assert _numbers_as_floats(json.loads(versions.go_json(value))) == _numbers_as_floats(value)
