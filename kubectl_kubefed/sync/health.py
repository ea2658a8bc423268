"""The cluster health controller: probes every KubeFedCluster and publishes its conditions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kubectl_kubefed.api.objects import Obj, name_of
from kubectl_kubefed.core import identity
from kubectl_kubefed.core.health import HealthRecord, Probe, damp, probe_conditions
from kubectl_kubefed.sync.client import TIMED_OUT
from kubectl_kubefed.sync.clock import rfc3339
from kubectl_kubefed.sync.clusters import ClientConfigError, MemberCluster
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound

if TYPE_CHECKING:
    from kubectl_kubefed.sync.manager import Manager

ProbeOutcome = tuple[Probe, str, str]  # (probe, error, kubernetes version)


class HealthController:
    def __init__(self, manager: Manager) -> None:
        self.mgr = manager
        self.records: dict[str, HealthRecord] = {}
        self.last_probe: dict[str, Probe] = {}
        self.next_probe_at = manager.clock.now()
        self.last_round_at = float("-inf")
        self.rounds = 0
        # True while the damper holds back a readiness change the last probe observed.
        self.unsettled = False

    def _probe(self, cluster: MemberCluster) -> ProbeOutcome:
        try:
            client = self.mgr.registry.client(cluster.name)
        except ClientConfigError as err:
            return Probe.MALFORMED, str(err), ""
        try:
            body = client.healthz()
        except ApiError as err:
            return Probe.OFFLINE, str(err), ""
        if body.strip().lower() != "ok":
            return Probe.NOT_OK, "", ""
        recorded = identity.recorded_id(cluster.obj)
        if recorded:
            try:
                found = identity.property_value(
                    client.get(identity.API_VERSION, identity.KIND, "", identity.ID_PROPERTY)
                )
            except NotFound:
                found = ""
            except ApiError as err:
                return Probe.OFFLINE, f"reading the cluster ID: {err}", ""
            if found != recorded:
                return Probe.IDENTITY_MISMATCH, identity.mismatch_message(recorded, found), ""
        try:
            version = str(client.version().get("gitVersion") or "")
        except ApiError:
            version = ""
        return Probe.READY, "", version

    def probe_all(self) -> bool:
        """One probe round; returns whether any cluster's published readiness disagrees
        with what was just probed (the damper is still holding a change back)."""
        settings = self.mgr.settings
        now_s = self.mgr.clock.now()
        self.last_round_at = now_s
        self.rounds += 1
        self.next_probe_at = now_s + settings.health_period
        clusters = self.mgr.registry.clusters()
        calls: list[Callable[[], ProbeOutcome]] = [functools.partial(self._probe, c) for c in clusters]
        outcomes = self.mgr.executor.run_all(calls, settings.health_timeout)
        now = rfc3339(self.mgr.clock.now())
        unsettled = False
        for cluster, outcome in zip(clusters, outcomes, strict=True):
            if outcome is TIMED_OUT or not isinstance(outcome, tuple):
                probe, error, version = Probe.OFFLINE, "probe timed out", ""
            else:
                probe, error, version = outcome
            if probe is Probe.MALFORMED or probe is Probe.OFFLINE:
                self.mgr.recorder.event(cluster.obj, "Warning", "RetrievingClusterHealthFailed", error)
            previous = self.records.get(cluster.name)
            record = damp(
                previous,
                probe_conditions(probe, now, error),
                now,
                settings.failure_threshold,
                settings.success_threshold,
            )
            self.records[cluster.name] = record
            self._log_transition(cluster.name, previous, record)
            self.last_probe[cluster.name] = probe
            unsettled |= record.ready != (probe is Probe.READY)
            status: dict[str, Any] = {"conditions": [dict(c) for c in record.conditions]}
            if record.ready and version:
                status["kubernetesVersion"] = version
            self._publish(cluster.obj, status)
        for name in list(self.records):
            if self.mgr.registry.get(name) is None:
                del self.records[name]
        self.unsettled = unsettled
        return unsettled

    def _log_transition(self, name: str, previous: HealthRecord | None, record: HealthRecord) -> None:
        """Readiness changes go to the log: losing a cluster at warning, regaining it at info."""
        was_ready = previous.ready if previous is not None else True
        if record.ready == was_ready:
            return
        if record.ready:
            self.mgr.log(f'cluster "{name}" is Ready again')
            return
        failing = [c for c in record.conditions if (c.get("type") == "Ready") != (c.get("status") == "True")]
        cond = failing[0] if failing else {}
        state = "NotReady" if cond.get("type", "Ready") == "Ready" else str(cond["type"])
        detail = str(cond.get("message") or cond.get("reason") or "")
        self.mgr.log(f'cluster "{name}" is {state}' + (f": {detail}" if detail else ""), "warning")

    def _publish(self, obj: Obj, status: dict[str, Any]) -> None:
        current = obj
        for _ in range(3):
            try:
                self.mgr.host.update_status({**current, "status": status})
                return
            except Conflict:
                try:
                    current = self.mgr.host.get(
                        str(obj["apiVersion"]),
                        str(obj["kind"]),
                        self.mgr.settings.namespace,
                        name_of(obj),
                    )
                except NotFound:
                    return
            except NotFound:
                return
            except ApiError as err:
                self.mgr.log(f"writing health of {name_of(obj)}: {err}", "warning")
                return
