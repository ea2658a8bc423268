"""A pytest fixture for property-testing your own federated manifests on the simulator.

Installed as a pytest plugin with the package, so any test can ask for ``kubefed_fleet``::

    def test_my_app(kubefed_fleet):
        fleet = kubefed_fleet([{"name": "eu", "labels": {"region": "eu"}}, {"name": "us"}])
        fleet.apply(load_my_manifests())
        assert fleet.settle()
        assert fleet.member_object("eu", "apps/v1", "Deployment", "shop", "web")
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import group_of, kind_of
from kubectl_kubefed.core import render as rd
from kubectl_kubefed.core import typeconfig as tc
from simulator.fleet import Fleet

FleetFactory = Callable[..., Fleet]


def enable_types_for(fleet: Fleet, objs: Iterable[Mapping[str, Any]]) -> None:
    """Enable every type the given objects need: their FederatedTypeConfigs (the types of
    custom resources), the built-in types of their federated objects, and namespaces for
    namespaced ones. Other KubeFed objects (clusters, scheduling preferences) need none."""
    objs = list(objs)
    given = [
        tc.from_ftc(o)
        for o in objs
        if kind_of(o) == names.KIND_TYPE_CONFIG and group_of(o) == names.CORE_GROUP
    ]
    needed: dict[str, tc.TypeConfig] = {t.name: t for t in given}
    for obj in objs:
        if kind_of(obj).startswith(names.FEDERATED_PREFIX) and group_of(obj) not in (
            names.CORE_GROUP,
            names.SCHEDULING_GROUP,
        ):
            t = rd.target_type(obj, [*given, *tc.BUILTIN_TYPES])
            needed.setdefault(t.name, t)
    if any(t.namespaced for t in needed.values()):
        needed.setdefault(tc.NAMESPACES_TYPE.name, tc.NAMESPACES_TYPE)
    for t in needed.values():
        fleet.enable(t)


@pytest.fixture
def kubefed_fleet() -> FleetFactory:
    """A factory: ``kubefed_fleet(clusters, types=(...), **Fleet options)`` -> a started Fleet."""

    def make(clusters: Iterable[Mapping[str, Any]], types: Iterable[str] = (), **options: Any) -> Fleet:
        fleet = Fleet(clusters, **options)
        for name in types:
            fleet.enable(name)
        fleet.settle()
        return fleet

    return make
