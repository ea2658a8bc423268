"""Properties of template annotations on member objects (core.annotations, core.member):
member-added keys survive, template keys win, and a key leaves a member only when kubefed
had set it."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.core import annotations as ann
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core import versions
from kubectl_kubefed.core.member import desired_object

OWNED = ann.OWNED
DEPLOY = tc.lookup("deployments")
CM = tc.lookup("configmaps")

# Few keys, so that template, member and record keys collide often.
keys = st.sampled_from(["a", "b", "c", "example.com/d", "prometheus.io/scrape"])
values = st.sampled_from(["1", "2", "true", ""])
maps = st.dictionaries(keys, values, max_size=5)


@st.composite
def live_annotations(draw: st.DrawFn) -> dict[str, str]:
    """A live object's annotations, with a record naming any keys (present or not)."""
    live = draw(maps)
    owned = draw(st.sets(keys, max_size=5))
    if owned:
        live[OWNED] = ",".join(sorted(owned))
    return live


@given(live_annotations(), maps)
def test_merge(live: dict[str, str], template: dict[str, str]) -> None:
    owned = ann.owned_keys(live)
    merged = ann.merge(live, template)
    assert OWNED not in merged
    for key, value in template.items():
        assert merged[key] == value  # template keys win
    for key, value in live.items():
        if key == OWNED or key in template:
            continue
        if key in owned:
            assert key not in merged  # we set it, the template no longer has it
        else:
            assert merged[key] == value  # the member's own keys survive
    assert set(merged) <= set(live) | set(template)


def fed(annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": "cfg", "namespace": "shop"},
        "spec": {"template": {"metadata": {"annotations": annotations}, "data": {"k": "v"}}},
    }


@given(maps, maps, maps)
def test_template_updates_keep_member_keys_and_drop_only_ours(
    first: dict[str, str], member_added: dict[str, str], second: dict[str, str]
) -> None:
    created = desired_object(fed(first), CM, "c1").obj
    live = created
    live["metadata"]["annotations"] = {**live["metadata"].get("annotations", {}), **member_added}
    updated = desired_object(fed(second), CM, "c1", live).obj
    got = dict(updated["metadata"].get("annotations", {}))
    record = got.pop(OWNED, None)
    # The member controller's keys stay unless the template sets them; when it overwrote one
    # of ours, the key is still ours: it follows the template.
    theirs = {k: v for k, v in member_added.items() if k not in first}
    assert got == {**theirs, **second}
    assert record == (",".join(sorted(second)) or None)


@given(live_annotations(), maps, st.sampled_from([DEPLOY, CM]))
def test_one_write_settles(live_ann: dict[str, str], template: dict[str, str], target: tc.TypeConfig) -> None:
    """What the controller wrote is what it wants next time: no endless updates."""
    live: dict[str, Any] = {"metadata": {"name": "cfg", "namespace": "shop", "generation": 1}}
    if live_ann:
        live["metadata"]["annotations"] = live_ann
    written = desired_object(fed(template), target, "c1", live).obj
    written["metadata"]["generation"] = 1
    again = desired_object(fed(template), target, "c1", written).obj
    assert again["metadata"].get("annotations") == written["metadata"].get("annotations")
    assert not versions.update_needed("gen:1", again, written)
