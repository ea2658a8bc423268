"""The cluster health controller: probes every KubeFedCluster and publishes its conditions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import Obj, annotations_of, metadata, name_of
from kubectl_kubefed.core import identity, work
from kubectl_kubefed.core.agentlease import (
    AGENT_CLUSTER_ID_ANNOTATION,
    AGENT_VERSION_ANNOTATION,
    LEASE_API_VERSION,
)
from kubectl_kubefed.core.health import HealthRecord, Probe, damp, probe_conditions
from kubectl_kubefed.sync import identity as member_identity
from kubectl_kubefed.sync.client import TIMED_OUT
from kubectl_kubefed.sync.clock import rfc3339
from kubectl_kubefed.sync.clusters import ClientConfigError, MemberCluster
from kubectl_kubefed.sync.controller import ControllerSpec, Workers
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound
from kubectl_kubefed.sync.informer import Informer
from kubectl_kubefed.sync.runtime import Runtime

ProbeOutcome = tuple[Probe, str, str]  # (probe, error, kubernetes version)


class HealthController:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.records: dict[str, HealthRecord] = {}
        self.last_probe: dict[str, Probe] = {}
        self.next_probe_at = rt.clock.now()
        self.last_round_at = float("-inf")
        self.rounds = 0
        # Pull clusters: the agent's Lease resourceVersion, and when it was first seen.
        self.lease_seen: dict[str, tuple[str, float]] = {}
        # True while the damper holds back a readiness change the last probe observed.
        self.unsettled = False

    # -- the Controller protocol: a probe round every health period, nothing queued ------

    def start(self) -> None:
        self.probe_all()

    def stop(self) -> None:
        pass

    def tick(self) -> bool:
        if self.rt.clock.now() < self.next_probe_at:
            return False
        self.probe_all()
        return True

    def workers(self) -> dict[str, Workers]:
        return {}

    def pending(self) -> bool:
        return False

    def next_due(self) -> float | None:
        return self.next_probe_at

    def cluster_changed(self, cluster: str, change: str) -> None:
        pass  # every round probes the clusters registered then

    def host_informers(self) -> list[Informer]:
        return []

    # -- probing ------------------------------------------------------------------------

    def _probe(self, cluster: MemberCluster) -> ProbeOutcome:
        if cluster.pull:
            return self._probe_agent(cluster)
        try:
            client = self.rt.clusters.client(cluster.name)
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
                found = member_identity.read_property(client, identity.ID_PROPERTY)
            except ApiError as err:
                return Probe.OFFLINE, f"reading the cluster ID: {err}", ""
            if found != recorded:
                return Probe.IDENTITY_MISMATCH, identity.mismatch_message(recorded, found), ""
        try:
            version = str(client.version().get("gitVersion") or "")
        except ApiError:
            version = ""
        return Probe.READY, "", version

    def _probe_agent(self, cluster: MemberCluster) -> ProbeOutcome:
        """A pull cluster is as healthy as its agent's Lease on the host: renewed recently
        (judged by when this controller saw it change, on its own clock, so the two
        machines' clocks never matter) and naming the member's recorded cluster ID."""
        namespace = work.cluster_namespace(cluster.name)
        try:
            lease = self.rt.host.get(LEASE_API_VERSION, "Lease", namespace, names.AGENT_LEASE_NAME)
        except NotFound:
            self.lease_seen.pop(cluster.name, None)
            return (
                Probe.OFFLINE,
                f"no agent has reported: Lease {namespace}/{names.AGENT_LEASE_NAME} is absent",
                "",
            )
        except ApiError as err:
            return Probe.OFFLINE, f"reading the agent's Lease: {err}", ""
        now = self.rt.clock.now()
        renewed = str(metadata(lease).get("resourceVersion") or "")
        seen = self.lease_seen.get(cluster.name)
        if seen is None or seen[0] != renewed:
            seen = self.lease_seen[cluster.name] = (renewed, now)
        age = now - seen[1]
        if age > self.rt.settings.agent_lease_timeout:
            return (
                Probe.OFFLINE,
                f"the agent has not renewed its Lease {namespace}/{names.AGENT_LEASE_NAME} for {age:.0f}s",
                "",
            )
        reported = annotations_of(lease)
        recorded = identity.recorded_id(cluster.obj)
        found = reported.get(AGENT_CLUSTER_ID_ANNOTATION, "")
        if recorded and found != recorded:
            return Probe.IDENTITY_MISMATCH, identity.mismatch_message(recorded, found), ""
        return Probe.READY, "", reported.get(AGENT_VERSION_ANNOTATION, "")

    def probe_all(self) -> bool:
        """One probe round; returns whether any cluster's published readiness disagrees
        with what was just probed (the damper is still holding a change back)."""
        settings = self.rt.settings
        now_s = self.rt.clock.now()
        self.last_round_at = now_s
        self.rounds += 1
        self.next_probe_at = now_s + settings.health_period
        clusters = self.rt.clusters.clusters()
        calls: list[Callable[[], ProbeOutcome]] = [functools.partial(self._probe, c) for c in clusters]
        outcomes = self.rt.executor.run_all(calls, settings.health_timeout)
        now = rfc3339(self.rt.clock.now())
        unsettled = False
        for cluster, outcome in zip(clusters, outcomes, strict=True):
            if outcome is TIMED_OUT or not isinstance(outcome, tuple):
                probe, error, version = Probe.OFFLINE, "probe timed out", ""
            else:
                probe, error, version = outcome
            if probe is Probe.MALFORMED or probe is Probe.OFFLINE:
                self.rt.recorder.event(cluster.obj, "Warning", "RetrievingClusterHealthFailed", error)
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
            if self.rt.clusters.get(name) is None:
                del self.records[name]
                self.lease_seen.pop(name, None)
        self.unsettled = unsettled
        return unsettled

    def _log_transition(self, name: str, previous: HealthRecord | None, record: HealthRecord) -> None:
        """Readiness changes go to the log: losing a cluster at warning, regaining it at info."""
        was_ready = previous.ready if previous is not None else True
        if record.ready == was_ready:
            return
        if record.ready:
            self.rt.log(f'cluster "{name}" is Ready again')
            return
        failing = [c for c in record.conditions if (c.get("type") == "Ready") != (c.get("status") == "True")]
        cond = failing[0] if failing else {}
        state = "NotReady" if cond.get("type", "Ready") == "Ready" else str(cond["type"])
        detail = str(cond.get("message") or cond.get("reason") or "")
        self.rt.log(f'cluster "{name}" is {state}' + (f": {detail}" if detail else ""), "warning")

    def _publish(self, obj: Obj, status: dict[str, Any]) -> None:
        current = obj
        for _ in range(3):
            try:
                self.rt.host.update_status({**current, "status": status})
                return
            except Conflict:
                try:
                    current = self.rt.host.get(
                        str(obj["apiVersion"]),
                        str(obj["kind"]),
                        self.rt.settings.namespace,
                        name_of(obj),
                    )
                except NotFound:
                    return
            except NotFound:
                return
            except ApiError as err:
                self.rt.log(f"writing health of {name_of(obj)}: {err}", "warning")
                return


SPEC = ControllerSpec(
    name="health",
    watches=("KubeFedCluster",),
    reconciles="KubeFedCluster status (Ready, Offline, identity) from probes of each member",
    build=HealthController,
)
