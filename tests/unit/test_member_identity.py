"""sync.identity: the member's cluster ID and ClusterSet, recorded once for join and the simulator."""

from __future__ import annotations

import random

import pytest

from kubectl_kubefed.core import identity
from kubectl_kubefed.sync import identity as mi
from kubectl_kubefed.sync.clock import VirtualClock
from simulator.apiserver import ApiServer


def _server() -> ApiServer:
    return ApiServer("m", VirtualClock(), random.Random(1))


def test_the_kube_system_uid_is_recorded_once() -> None:
    server = _server()
    uid = mi.default_cluster_id(server)
    assert mi.ensure_cluster_id(server) == (uid, True)
    assert mi.ensure_cluster_id(server) == (uid, False)
    assert mi.ensure_cluster_id(server, uid) == (uid, False)
    assert mi.read_property(server, identity.ID_PROPERTY) == uid


def test_a_requested_id_is_recorded_and_may_not_change() -> None:
    server = _server()
    assert mi.ensure_cluster_id(server, "eu-1.example.com") == ("eu-1.example.com", True)
    with pytest.raises(mi.IdentityError, match=r'already has cluster ID "eu-1\.example\.com"'):
        mi.ensure_cluster_id(server, "other")


def test_dry_run_records_nothing_and_bad_ids_are_refused() -> None:
    server = _server()
    assert mi.ensure_cluster_id(server, "x", dry_run=True) == ("x", False)
    assert mi.read_property(server, identity.ID_PROPERTY) == ""
    with pytest.raises(mi.IdentityError, match="--cluster-id"):
        mi.ensure_cluster_id(server, "Not A DNS Name")


def test_clusterset_is_recorded_and_another_one_is_refused() -> None:
    server = _server()
    assert mi.ensure_clusterset(server, "fleet-a") is True
    assert mi.ensure_clusterset(server, "fleet-a") is False
    with pytest.raises(mi.IdentityError, match='belongs to ClusterSet "fleet-a"'):
        mi.ensure_clusterset(server, "fleet-b")
