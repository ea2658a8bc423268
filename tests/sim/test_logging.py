"""What the controllers log: a member outage and its end are visible in the log."""

from __future__ import annotations

from tests.sim.helpers import fleet


def test_cluster_readiness_transitions_are_logged() -> None:
    f = fleet()
    assert not [m for _, m in f.logs if "cluster" in m]  # healthy clusters: nothing to say
    f.set_ready("c2", False)
    f.advance(60)  # a 60 s outage
    warnings = [m for level, m in f.logs if level == "warning" and '"c2"' in m]
    assert len(warnings) == 1, f.logs
    assert warnings[0].startswith('cluster "c2" is Offline: cluster is not reachable')
    f.set_ready("c2", True)
    f.advance(30)
    assert ("info", 'cluster "c2" is Ready again') in f.logs
    assert not [m for _, m in f.logs if '"c1"' in m or '"c3"' in m]


def test_host_connection_failures_are_logged_at_warning_once() -> None:
    f = fleet()
    f.host_server.faults.offline = True
    f.host_server.disconnect_watches()
    f.manager.check_host()
    f.manager.check_host()  # the same failure again: not logged again
    warnings = [m for level, m in f.logs if level == "warning" and m.startswith("host:")]
    kinds = [m.split()[5].rstrip(":") for m in warnings]
    assert "KubeFedCluster" in kinds and "FederatedTypeConfig" in kinds
    assert len(kinds) == len(set(kinds))
    assert not [m for level, m in f.logs if level == "info" and m.startswith("host:")]
    f.host_server.faults.offline = False
    f.manager.check_host()
    assert ("info", "host: KubeFedCluster is listed and watched again") in f.logs
