"""``kubectl kubefed agent``: the pull agent of one member cluster (docs/pull.md).

It connects to its member (a kubeconfig context, or in a Pod its ServiceAccount) and to
the host as the agent identity ``join --mode Pull`` created (the member's Secret
``kubefed-agent-host``, or ``--host-kubeconfig``), then applies the cluster's Works until
stopped.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import ClusterError, InputError
from kubectl_kubefed.cli import logs
from kubectl_kubefed.cli.logs import Logger
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.kube import credentials, rest
from kubectl_kubefed.kube.agenthost import host_client
from kubectl_kubefed.kube.members import client_for_context, paced_options
from kubectl_kubefed.sync.agent import Agent
from kubectl_kubefed.sync.clock import SystemClock
from kubectl_kubefed.sync.errors import ApiError, Forbidden, NotFound, Unavailable
from kubectl_kubefed.sync.settings import Settings

# The client-side limit where an API server does not pace requests itself.
AGENT_QPS = 50.0


def run(
    *,
    cluster: str,
    kubeconfig: str | None,
    context: str | None,
    host_kubeconfig: str | None,
    namespace: str | None,
    workers: int,
    qps: float | None,
    burst: int,
    log_level: str,
    log_format: str,
    verbosity: int,
) -> None:
    if problem := wk.cluster_namespace_problem(cluster):
        raise InputError(problem)
    try:
        logs.configure(log_level, verbosity, log_format)
    except ValueError as err:
        raise InputError(str(err)) from None
    log = Logger("kubefed.agent")
    pod = credentials.in_cluster(kubeconfig, context, os.environ)
    if not namespace:
        namespace = (credentials.pod_namespace(os.environ) if pod else "") or names.DEFAULT_KUBEFED_NAMESPACE
    rest.on_insecure_tls(log.warning)
    me = f"{socket.gethostname()}-{os.getpid()}"
    options = paced_options(qps, burst, AGENT_QPS, user_agent=rest.user_agent(f"agent-{me}"))
    member = client_for_context(kubeconfig, context, options, name=cluster)
    try:
        member.version()
    except (Unavailable, ApiError) as err:
        raise ClusterError(f"cannot reach the member cluster: {err}") from None
    host = host_client(
        member,
        namespace,
        cluster,
        host_kubeconfig=host_kubeconfig,
        options=options,
        log=lambda line: log.warning(line),
    )
    work_namespace = wk.cluster_namespace(cluster)
    try:
        host.list(names.WORK_API_VERSION, names.KIND_WORK, work_namespace)
    except Unavailable as err:
        log.warning("the host is not reachable yet; retrying", error=str(err))
    except Forbidden as err:
        raise ClusterError(
            f"the agent's host identity may not list Works in {work_namespace}: {err} "
            f"(is this cluster joined as {cluster} with --mode Pull?)"
        ) from None
    except NotFound:
        raise ClusterError(
            f"the host serves no {names.WORK_API_VERSION} Works: run `kubectl kubefed init` on the host"
        ) from None
    except ApiError as err:
        raise ClusterError(f"host: {err}") from None
    agent = Agent(
        host,
        member,
        cluster,
        clock=SystemClock(),
        settings=Settings(namespace=namespace),
        holder=me,
        logger=lambda level, m: log.log(level, m),
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("shutting down", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("starting", cluster=cluster, host=host.rest.host, works=work_namespace, in_cluster=pod)
    agent.run(stop, workers=max(1, workers))
    log.info("stopped")
