"""The dumper's direct node building writes exactly what PyYAML's general representer
writes; the anchor/alias pre-check never misses an alias that libyaml sees."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed import manifests, yamlk8s

_TEXT = st.text(alphabet=st.sampled_from(list("ab yYnN0o1.:-#&*!'\"\n\t~<[]{},|>%@`\x85\u2028é")), max_size=8)
_SCALARS = st.one_of(
    _TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=20,
)


class _General(yamlk8s.Dumper):
    def represent(self, data: Any) -> None:
        yaml.representer.BaseRepresenter.represent(self, data)


@given(_VALUES)
def test_direct_nodes_write_what_the_general_representer_writes(value: Any) -> None:
    general = yaml.dump(
        value, Dumper=_General, default_flow_style=False, sort_keys=False, allow_unicode=True, width=1 << 16
    )
    assert manifests.dump_yaml_one(value) == general


@given(st.text(alphabet=st.sampled_from(list("ab &*:,[]{}\n\t-'\"#")), max_size=30))
def test_alias_precheck_never_misses_an_alias(text: str) -> None:
    """Every alias of a stream that loads; one without its anchor fails to load anyway
    (``found undefined alias``), with or without alias counting."""
    try:
        events = list(yaml.parse(text, Loader=yaml.CSafeLoader))
        list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return
    if any(isinstance(e, yaml.AliasEvent) for e in events):
        assert yamlk8s._may_have_aliases(text)
