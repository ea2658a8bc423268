"""A host and member clusters in memory, driven by the real controllers on virtual time.

This is the simulator's Python API (documented in docs/simulator.md)::

    fleet = Fleet([{"name": "c1", "labels": {"region": "eu"}}, {"name": "c2"}], seed=1)
    fleet.apply(federated_objects)
    fleet.settle()
    fleet.member_objects("c1")
"""

from __future__ import annotations

import collections
import contextlib
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.names import split_api_version
from kubectl_kubefed.api.objects import (
    Obj,
    kind_of,
    name_of,
    object_key,
)
from kubectl_kubefed.core import application as ap
from kubectl_kubefed.core import identity, work
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.sync import identity as member_identity
from kubectl_kubefed.sync.agent import Agent
from kubectl_kubefed.sync.apply import apply as apply_one
from kubectl_kubefed.sync.client import TIMED_OUT
from kubectl_kubefed.sync.clock import VirtualClock
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.errors import AlreadyExists, NotFound
from kubectl_kubefed.sync.events import MemoryRecorder
from kubectl_kubefed.sync.manager import Manager
from kubectl_kubefed.sync.settings import Settings, kubefed_config_object
from simulator.apiserver import BUILTIN_NAMESPACES, ApiServer, ClientView, Rule
from simulator.workloads import Workloads, WorkloadSettings

SIM_ENDPOINT = "sim://"


@dataclass
class ClusterSpec:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    kubernetes_version: str = "v1.34.4"
    sync_mode: str = names.SYNC_MODE_PUSH  # Pull: an agent next to the member applies its Works


def agent_rules(cluster: str) -> list[Rule]:
    """The agent's host identity, as ``join --mode Pull`` grants it: its Works and its Lease,
    in its cluster's namespace only."""
    namespace = work.cluster_namespace(cluster)
    return [
        Rule(("get", "list", "watch", "update"), names.WORK_GROUP, "works", namespace),
        Rule(("get", "create", "update"), "coordination.k8s.io", "leases", namespace),
    ]


class VirtualExecutor:
    """Runs a reconcile's member calls as if concurrently: the virtual clock advances by the
    slowest call, and a call slower than the timeout counts as timed out."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock

    def run_all(self, calls: Sequence[Any], timeout: float) -> list[Any]:
        start = self.clock.now()
        results: list[Any] = []
        end = start
        for call in calls:
            self.clock.set(start)
            result = call()
            took = self.clock.now() - start
            end = max(end, self.clock.now())
            results.append(result if took <= timeout else TIMED_OUT)
        self.clock.set(min(end, start + timeout) if calls else start)
        return results


class Fleet:
    def __init__(
        self,
        clusters: Iterable[ClusterSpec | Mapping[str, Any]],
        *,
        host_is_member: str | None = None,
        seed: int = 0,
        scope: str = names.SCOPE_CLUSTER,
        adopt_resources: bool = True,
        settings: Settings | None = None,
        crds_required: bool = False,
        workloads: WorkloadSettings | None = None,
    ) -> None:
        self.clock = VirtualClock()
        self.rng = random.Random(seed)
        specs = [
            c
            if isinstance(c, ClusterSpec)
            else ClusterSpec(
                str(c["name"]),
                dict(c.get("labels") or {}),
                str(c.get("kubernetesVersion") or "v1.34.4"),
                str(c.get("syncMode") or names.SYNC_MODE_PUSH),
            )
            for c in clusters
        ]
        for spec in specs:
            if spec.sync_mode not in (names.SYNC_MODE_PUSH, names.SYNC_MODE_PULL):
                raise ValueError(
                    f"cluster {spec.name}: syncMode must be Push or Pull, not {spec.sync_mode!r}"
                )
        self.specs = {s.name: s for s in specs}
        if host_is_member is not None and host_is_member not in self.specs:
            raise ValueError(f"hostIsMember names unknown cluster {host_is_member}")
        self.host_is_member = host_is_member
        self.servers: dict[str, ApiServer] = {}
        for spec in specs:
            self.servers[spec.name] = ApiServer(spec.name, self.clock, self.rng, spec.kubernetes_version)
            self.servers[spec.name].crds_required = crds_required
        self.host_server = (
            self.servers[host_is_member] if host_is_member else ApiServer("host", self.clock, self.rng)
        )
        self.host = ClientView(self.host_server, "host")
        self.views = {name: ClientView(server) for name, server in self.servers.items()}
        self.settings = settings or Settings(scope=scope, adopt_resources=adopt_resources)
        self.recorder = MemoryRecorder(self.clock)
        # Pods for Deployments and ReplicaSets in members (simulator/workloads.py), if asked for
        self.workloads = Workloads(self.servers, self.clock, workloads) if workloads else None
        # (level, message) the controllers logged, the newest 10000
        self.logs: collections.deque[tuple[str, str]] = collections.deque(maxlen=10_000)
        # Pull clusters: each one's agent, and the agent's own view of the host.
        self.agents: dict[str, Agent] = {}
        self.agent_views: dict[str, ClientView] = {}
        self._bootstrap()
        self._start_control_plane()

    # -- control plane ----------------------------------------------------------------

    def _start_control_plane(self) -> None:
        self.manager = Manager(
            self.host,
            self._client_for,
            clock=self.clock,
            executor=VirtualExecutor(self.clock),
            recorder=self.recorder,
            settings=self.settings,
            logger=lambda level, message: self.logs.append((level, message)),
        )
        self.manager.start()
        self._rounds_at_change = self.manager.health.rounds

    def _bootstrap(self) -> None:
        ns = self.settings.namespace
        self.host_server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        self.host_server.create(kubefed_config_object(self.settings))
        for spec in self.specs.values():
            self.join(spec.name, spec.labels, sync_mode=spec.sync_mode)

    def join(
        self,
        name: str,
        labels: Mapping[str, str] | None = None,
        cluster_id: str | None = None,
        *,
        sync_mode: str = names.SYNC_MODE_PUSH,
    ) -> None:
        """Register a member (as ``kubectl kubefed join`` would): its cluster ID (KEP-2149),
        a token secret and a KubeFedCluster that records the ID. A pull cluster gets its
        host namespace and an agent instead of the secret: the host holds no credential."""
        ns = self.settings.namespace
        pull = sync_mode == names.SYNC_MODE_PULL
        if pull and (problem := work.cluster_namespace_problem(name)):
            raise ValueError(problem)
        if name not in self.servers:
            self.specs[name] = ClusterSpec(name, dict(labels or {}), sync_mode=sync_mode)
            self.servers[name] = ApiServer(name, self.clock, self.rng)
            self.views[name] = ClientView(self.servers[name])
        with contextlib.suppress(AlreadyExists):  # join creates the system namespace, as kubefedctl does
            self.servers[name].create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        secret = f"{name}-token"
        if pull:
            with contextlib.suppress(AlreadyExists):
                self.host_server.create(
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": work.cluster_namespace(name)},
                    }
                )
        try:
            if pull:
                raise AlreadyExists("no secret for a pull cluster")
            self.host_server.get("v1", "Secret", ns, secret)
        except AlreadyExists:
            pass
        except NotFound:
            self.host_server.create(
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": secret, "namespace": ns},
                    "data": {"token": "c2ltdWxhdGVk"},
                }
            )
        member_id = self._ensure_identity(name, cluster_id)
        others, _ = self.host_server.list(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, ns)
        holder = identity.holder_of(member_id, others, name)
        if holder:
            raise ValueError(f'cluster ID "{member_id}" of {name} is already used by joined cluster {holder}')
        self.host_server.create(
            {
                "apiVersion": names.CORE_API_VERSION,
                "kind": names.KIND_KUBEFED_CLUSTER,
                "metadata": {
                    "name": name,
                    "namespace": ns,
                    "labels": dict(labels or {}),
                    "annotations": {
                        identity.ID_ANNOTATION: member_id,
                        identity.CLUSTERSET_ANNOTATION: identity.DEFAULT_CLUSTERSET,
                    },
                },
                "spec": (
                    {"apiEndpoint": SIM_ENDPOINT + name, "syncMode": names.SYNC_MODE_PULL}
                    if pull
                    else {"apiEndpoint": SIM_ENDPOINT + name, "secretRef": {"name": secret}}
                ),
            }
        )
        if pull:
            self.start_agent(name)
        self._changed()

    def start_agent(self, name: str) -> None:
        """Start (or restart, from nothing but the clusters) a pull cluster's agent."""
        self.stop_agent(name)
        view = ClientView(self.host_server, f"kubefed-agent-{name}", rules=agent_rules(name))
        previous = self.agent_views.get(name)
        view.set_link(previous is None or not previous.link_down)  # a cut link stays cut
        self.agent_views[name] = view
        self.agents[name] = Agent(
            view,
            self.views[name],
            name,
            clock=self.clock,
            settings=self.settings,
            logger=lambda level, message: self.logs.append((level, f"agent {name}: {message}")),
        )
        self.agents[name].start()

    def stop_agent(self, name: str) -> None:
        """Stop a pull cluster's agent (as if its Pod were gone): its Lease goes stale."""
        agent = self.agents.pop(name, None)
        if agent is not None:
            agent.stop()
        self._changed()

    def set_connected(self, cluster: str, connected: bool) -> None:
        """Cut or restore the link between host and member, both up: a push cluster's
        host cannot reach it, a pull cluster's agent cannot reach the host."""
        # A pull cluster's link is its agent's (kept across agent restarts, even while stopped).
        view = self.agent_views.get(cluster) or self.views[cluster]
        if view is not None:
            view.set_link(connected)
        if connected:
            self._renew_now(cluster)
        self._changed()

    def _renew_now(self, cluster: str) -> None:
        """A pull cluster's agent renews its Lease at once (instead of within its period),
        so that settling waits for a health probe that has seen the change it reports."""
        agent = self.agents.get(cluster)
        if agent is not None:
            agent.next_renew_at = self.clock.now()
            agent.step()

    def _ensure_identity(self, name: str, cluster_id: str | None) -> str:
        """What ``kubectl kubefed join`` records in the member (``sync.identity``)."""
        server = self.servers[name]
        try:
            value, _ = member_identity.ensure_cluster_id(server, cluster_id or "")
            member_identity.ensure_clusterset(server, identity.DEFAULT_CLUSTERSET)
        except member_identity.IdentityError as err:
            raise ValueError(str(err)) from None
        return value

    def set_cluster_id(self, cluster: str, cluster_id: str | None) -> None:
        """Replace (or, with None, remove) a member's ``cluster.clusterset.k8s.io``: what a
        rebuilt cluster behind a reused address looks like."""
        server = self.servers[cluster]
        with contextlib.suppress(NotFound):
            server.delete(identity.API_VERSION, identity.KIND, "", identity.ID_PROPERTY)
        if cluster_id:
            server.create(identity.property_object(identity.ID_PROPERTY, cluster_id))
        self._renew_now(cluster)
        self._changed()

    def cluster_id(self, cluster: str) -> str:
        return member_identity.read_property(self.servers[cluster], identity.ID_PROPERTY)

    def unjoin(self, name: str) -> None:
        self.host_server.delete(
            names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, self.settings.namespace, name
        )
        if name in self.agents or name in self.agent_views:
            # As ``kubectl kubefed unjoin``: the agent stops, its Works are let go (their
            # member objects stay) and the cluster's namespace goes.
            self.stop_agent(name)
            self.agent_views.pop(name, None)
            namespace = work.cluster_namespace(name)
            works, _ = self.host_server.list(names.WORK_API_VERSION, names.KIND_WORK, namespace)
            for item in works:
                item["metadata"]["finalizers"] = []
                self.host_server.update(item)
            with contextlib.suppress(NotFound):
                self.host_server.delete("v1", "Namespace", "", namespace)
        self._changed()

    def _client_for(self, kubefed_cluster: Mapping[str, Any]) -> ClientView:
        endpoint = str((kubefed_cluster.get("spec") or {}).get("apiEndpoint") or "")
        secret_name = str(((kubefed_cluster.get("spec") or {}).get("secretRef") or {}).get("name") or "")
        try:
            secret = self.host_server.get("v1", "Secret", self.settings.namespace, secret_name)
        except NotFound:
            raise ClientConfigError(f"secret {secret_name} not found") from None
        if not (secret.get("data") or {}).get("token"):
            raise ClientConfigError(f"secret {secret_name} has no token")
        name = endpoint.removeprefix(SIM_ENDPOINT)
        if not endpoint.startswith(SIM_ENDPOINT) or name not in self.views:
            raise ClientConfigError(f"no simulated cluster at {endpoint}")
        return self.views[name]

    def enable(self, type_config: tc.TypeConfig | str) -> None:
        """Enable propagation of a type, as ``kubectl kubefed enable`` does: CRD + FTC."""
        t = tc.lookup(type_config) if isinstance(type_config, str) else type_config
        self.apply([tc.federated_crd(t), tc.type_config_object(t, self.settings.namespace)])

    # -- changes ----------------------------------------------------------------------

    def _changed(self) -> None:
        """A cluster changed: settling must include a health probe that has seen it."""
        manager = getattr(self, "manager", None)
        self._rounds_at_change = manager.health.rounds if manager is not None else 0

    def apply(self, objs: Iterable[Mapping[str, Any]], cluster: str | None = None) -> list[Obj]:
        """Create or update objects on the host (or in one member): the apply of ``kubectl kubefed``
        (``kubectl_kubefed.sync.apply``), labels and annotations merged as on a real cluster."""
        server = self.host_server if cluster is None else self.servers[cluster]
        return [apply_one(server, obj)[0] for obj in objs]

    def delete(
        self, api_version: str, kind: str, namespace: str, name: str, cluster: str | None = None
    ) -> None:
        server = self.host_server if cluster is None else self.servers[cluster]
        server.delete(api_version, kind, namespace, name)

    def set_ready(self, cluster: str, ready: bool) -> None:
        """Take a member offline (healthz and every request fail) or bring it back."""
        server = self.servers[cluster]
        was_offline = server.faults.offline
        server.faults.offline = not ready
        if not ready and not was_offline:
            server.disconnect_watches()
        self._changed()

    def set_labels(self, cluster: str, labels: Mapping[str, str]) -> None:
        current = self.host_server.get(
            names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, self.settings.namespace, cluster
        )
        current["metadata"]["labels"] = dict(labels)
        self.host_server.update(current)
        self._changed()

    def set_faults(
        self,
        cluster: str,
        *,
        error_rate: float | None = None,
        verbs: Iterable[str] | None = None,
        latency: float | None = None,
    ) -> None:
        faults = self.servers[cluster].faults
        if error_rate is not None:
            chosen = (
                list(verbs) if verbs is not None else ["create", "update", "delete", "get", "list", "watch"]
            )
            for verb in chosen:
                if error_rate:
                    faults.error_rate[verb] = error_rate
                else:
                    faults.error_rate.pop(verb, None)
        if latency is not None:
            faults.latency = latency
        self._changed()

    def disconnect_watches(self, cluster: str) -> None:
        self.servers[cluster].disconnect_watches()

    def restart_controllers(self) -> None:
        """Stop the control plane and start a fresh one: all in-memory state is rebuilt
        from the clusters, as after a controller-manager restart."""
        self.manager.stop()
        self._start_control_plane()

    # -- time -------------------------------------------------------------------------

    def settle(self, max_seconds: float = 600.0) -> bool:
        """Run the controllers until nothing is pending; False if still busy at the bound."""
        deadline = self.clock.now() + max_seconds
        while True:
            self.manager.step()
            self._step_agents()
            self._step_workloads()
            health = self.manager.health
            probed_since_change = health.rounds > self._rounds_at_change
            workloads_due = self.workloads.next_due() if self.workloads else math.inf
            if (
                not self.manager.pending()
                and not any(len(a.queue) for a in self.agents.values())
                and probed_since_change
                and not health.unsettled
                and workloads_due == math.inf
            ):
                return True
            next_due = min(self.manager.next_due(), workloads_due, self._agents_due())
            if next_due > deadline:
                self.clock.set(deadline)
                return False
            self.clock.set(max(next_due, self.clock.now()))

    def advance(self, seconds: float) -> None:
        """Let virtual time pass, running whatever falls due on the way."""
        target = self.clock.now() + seconds
        while True:
            self.manager.step()
            self._step_agents()
            self._step_workloads()
            next_due = min(
                self.manager.next_due(),
                self.workloads.next_due() if self.workloads else math.inf,
                self._agents_due(),
            )
            if next_due > target:
                break
            self.clock.set(max(next_due, self.clock.now()))
        self.clock.set(max(target, self.clock.now()))

    def _step_agents(self) -> None:
        for agent in list(self.agents.values()):
            agent.step()

    def _agents_due(self) -> float:
        return min((a.next_due() for a in self.agents.values()), default=math.inf)

    def _step_workloads(self) -> None:
        if self.workloads is not None:
            self.workloads.step()

    def set_capacity(self, cluster: str, pods: int | None) -> None:
        """How many Pods a member can run (None: unlimited); needs ``workloads``."""
        if self.workloads is None:
            raise ValueError("capacity needs the simulated workloads (Fleet(..., workloads=...))")
        self.workloads.member(cluster).set_capacity(pods)

    # -- inspection -------------------------------------------------------------------

    def member_objects(self, cluster: str) -> list[Obj]:
        """Every object in a member except the built-in namespaces, sorted."""
        objs = [
            o
            for o in self.servers[cluster].objects()
            if not (kind_of(o) == "Namespace" and name_of(o) in BUILTIN_NAMESPACES)
        ]
        return sorted(objs, key=object_key)

    def member_object(
        self, cluster: str, api_version: str, kind: str, namespace: str, name: str
    ) -> Obj | None:
        try:
            return self.servers[cluster].get(api_version, kind, namespace, name)
        except NotFound:
            return None

    def federated_objects(self) -> list[Obj]:
        groups = {t.target.federated_group for t in self.manager.controllers.values()} | {names.TYPES_GROUP}
        objs = [
            o
            for o in self.host_server.objects()
            if kind_of(o).startswith(names.FEDERATED_PREFIX)
            and split_api_version(str(o.get("apiVersion")))[0] in groups
        ]
        return sorted(objs, key=object_key)

    def applications(self) -> list[Obj]:
        """The FederatedApplications on the host, sorted."""
        objs = [
            o
            for o in self.host_server.objects()
            if o.get("apiVersion") == ap.API_VERSION and kind_of(o) == ap.KIND
        ]
        return sorted(objs, key=object_key)

    def ready(self, cluster: str) -> bool:
        member = self.manager.registry.get(cluster)
        return member is not None and member.ready

    def requests(self) -> dict[str, dict[str, int]]:
        return {name: dict(view.requests) for name, view in sorted(self.views.items())}

    def write_requests(self) -> int:
        return sum(
            v.requests["create"] + v.requests["update"] + v.requests["delete"] for v in self.views.values()
        )
