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
