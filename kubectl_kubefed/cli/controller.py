"""``kubectl kubefed controller``: the propagation, status and health controllers against a
real host cluster, with leader election, health endpoints and Prometheus metrics."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterable
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import ClusterError, InputError
from kubectl_kubefed.cli import endpoints, logs
from kubectl_kubefed.cli.logs import Logger
from kubectl_kubefed.kube import credentials, rest
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.events import HostRecorder
from kubectl_kubefed.kube.leader import LeaderElector
from kubectl_kubefed.kube.members import MemberClientFactory, client_for_context, paced_options
from kubectl_kubefed.sync.client import ThreadExecutor
from kubectl_kubefed.sync.clock import SystemClock
from kubectl_kubefed.sync.errors import ApiError, NotFound, Unavailable
from kubectl_kubefed.sync.events import EVENT_POLICIES, EVENTS_CHANGES
from kubectl_kubefed.sync.manager import Manager
from kubectl_kubefed.sync.metrics import Labels, Metrics
from kubectl_kubefed.sync.settings import Settings, SettingsError

# Client-side limits where a server does not pace requests itself: KubeFed's for members.
MEMBER_QPS = 20.0
HOST_QPS = 100.0


class _State:
    def __init__(self) -> None:
        self.leading = False
        self.started = False
        self.metrics = Metrics()


def _check_host(host: KubeClusterClient, namespace: str) -> None:
    try:
        host.version()
    except Unavailable as err:
        raise ClusterError(f"cannot reach the host cluster: {err}") from None
    except ApiError as err:
        raise ClusterError(f"host cluster: {err}") from None
    try:
        host.list(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace)
    except NotFound:
        raise InputError(
            f"no KubeFed control plane in namespace {namespace}: run `kubectl kubefed init`"
        ) from None


def _settings(host: KubeClusterClient, namespace: str) -> Settings:
    """The KubeFedConfig's settings, checked as KubeFed checks them before it starts."""
    try:
        config = host.get(
            names.CORE_API_VERSION, names.KIND_KUBEFED_CONFIG, namespace, names.KUBEFED_CONFIG_NAME
        )
    except NotFound:
        config = None
    except ApiError as err:
        raise ClusterError(f"reading KubeFedConfig {namespace}/{names.KUBEFED_CONFIG_NAME}: {err}") from None
    try:
        return Settings.from_kubefed_config(config, namespace)
    except SettingsError as err:
        raise InputError(str(err)) from None


def run(
    *,
    kubeconfig: str | None,
    context: str | None,
    namespace: str | None,
    bind: str | None,
    leader_elect: bool,
    lease_name: str,
    workers: int | None,
    member_qps: float | None,
    member_burst: int,
    host_qps: float | None,
    host_burst: int,
    log_level: str,
    identity: str | None,
    probe_bind: str | None = None,
    log_format: str = "json",
    verbosity: int = 0,
    events: str = EVENTS_CHANGES,
) -> None:
    try:
        logs.configure(log_level, verbosity, log_format)
    except ValueError as err:
        raise InputError(str(err)) from None
    if events not in EVENT_POLICIES:
        raise InputError(f"--events: {events!r} is not one of {', '.join(EVENT_POLICIES)}")
    log = Logger()
    pod = credentials.in_cluster(kubeconfig, context, os.environ)
    metrics_address, probe_address = endpoints.addresses(bind, probe_bind, pod)
    if not namespace:  # in a Pod its own namespace (the chart's release), else KubeFed's default
        namespace = (credentials.pod_namespace(os.environ) if pod else "") or names.DEFAULT_KUBEFED_NAMESPACE
    rest.on_insecure_tls(log.warning)
    me = identity or f"{socket.gethostname()}-{os.getpid()}"
    agent = rest.user_agent(me)  # which replica wrote what, in the API servers' audit logs
    host_options = paced_options(host_qps, host_burst, HOST_QPS, user_agent=agent)
    host = client_for_context(kubeconfig, context, host_options, name="host")
    _check_host(host, namespace)
    settings = _settings(host, namespace)
    elector: LeaderElector | None = None
    if leader_elect:
        # The lease through a client of its own; every other write, to the host and to the
        # members, passes the elector's fence first (none after the renew deadline).
        lease_client = client_for_context(kubeconfig, context, host_options, name="host")
        elector = LeaderElector(
            lease_client,
            namespace,
            lease_name,
            me,
            lease_duration=settings.lease_duration,
            renew_deadline=settings.renew_deadline,
            retry_period=settings.retry_period,
            legacy_lock=settings.resource_lock,
            log=lambda level, m: log.log(level, m),
        )
        host.rest.write_fence = elector.fence
        lease_client.rest.write_fence = elector.renewal_fence
    state = _State()
    servers = endpoints.serve(
        metrics_address,
        probe_address,
        ready=lambda: state.started or not state.leading,
        render=state.metrics.render,
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("shutting down", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    member_options = paced_options(
        member_qps,
        member_burst,
        MEMBER_QPS,
        user_agent=agent,
        write_fence=elector.fence if elector is not None else None,
    )
    factory = MemberClientFactory(host, namespace, member_options)
    executor = ThreadExecutor()
    manager = Manager(
        host,
        factory,
        clock=SystemClock(),
        executor=executor,
        recorder=HostRecorder(host, SystemClock(), log=lambda m: log.warning(m), policy=events),
        namespace=namespace,
        logger=lambda level, m: log.log(level, m),
        metrics=state.metrics,
    )

    def member_requests() -> Iterable[tuple[Labels, float]]:
        for cluster in manager.registry.clusters():
            client = cluster.client
            if isinstance(client, KubeClusterClient):
                for verb, count in client.requests.items():
                    yield (("cluster", cluster.name), ("verb", verb)), float(count)

    state.metrics.counter("kubefed_member_requests_total", member_requests)
    state.metrics.gauge("kubefed_leader", lambda: [((), 1.0 if state.leading else 0.0)])
    run_thread: list[threading.Thread] = []
    lost = threading.Event()

    def start_leading() -> None:
        state.leading = True
        manager.start()
        if workers:
            manager.settings.max_concurrent_reconciles = workers
        state.started = True
        log.info(
            "controllers started",
            types=sorted(manager.controllers),
            clusters=[c.name for c in manager.registry.clusters()],
        )
        thread = threading.Thread(target=manager.run, args=(stop,), name="manager", daemon=True)
        thread.start()
        run_thread.append(thread)

    def stop_leading() -> None:
        if not stop.is_set():
            lost.set()
            stop.set()

    log.info(
        "starting",
        host=host.rest.host,
        in_cluster=pod,
        namespace=namespace,
        identity=me,
        leader_elect=leader_elect,
        metrics=metrics_address,
        probes=probe_address,
    )
    if elector is not None:
        log.info(
            "leader election",
            lease=f"{namespace}/{lease_name}",
            kubefed_lock=f"{settings.resource_lock} {namespace}/{lease_name}",
            lease_duration=settings.lease_duration,
            renew_deadline=settings.renew_deadline,
            retry_period=settings.retry_period,
        )
        elector.run(stop, start_leading, stop_leading)
    else:
        start_leading()
        stop.wait()
    for thread in run_thread:
        thread.join(timeout=10)
    executor.shutdown()
    for server in servers:
        server.shutdown()
    log.info("stopped")
    if lost.is_set():
        raise SystemExit(1)
