"""The leader's write fence: no write leaves a replica that does not lead, or whose last
successful renewal started more than the renew deadline ago on its monotonic clock; the
check is made by the REST layer right before each write is sent, so a process frozen past
its lease (SIGSTOP) and resumed sends nothing, whatever its watchdog has not noticed yet."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest
from kubernetes import client as k8s_client

from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.leader import NotLeading
from kubectl_kubefed.kube.members import ClientOptions, MemberClientFactory
from kubectl_kubefed.kube.rest import USER_AGENT, Rest, user_agent
from tests.unit.test_leader import Clock, LeaseStore, Replica
from tests.unit.test_rest_http import Server


def test_the_fence_is_closed_until_leading_then_open_until_the_renew_deadline() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    with pytest.raises(NotLeading):
        a.elector.fence()  # a standby writes nothing
    a.lead()
    a.elector.fence()
    clock.t = a.elector.renew_deadline  # exactly at the deadline: still open
    a.elector.fence()
    clock.t += 0.01
    with pytest.raises(NotLeading):
        a.elector.fence()  # no watchdog tick yet: the fence alone refuses


def test_a_renewal_reopens_the_fence_measured_from_its_start() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    a.lead()
    clock.t = 8.0
    assert a.elector.try_acquire_or_renew()
    clock.t = 17.9  # 9.9 s after the renewal began
    a.elector.fence()
    clock.t = 18.1
    assert not a.elector.may_write()


def test_a_leader_frozen_past_the_lease_writes_nothing_when_it_resumes() -> None:
    """SIGSTOP, another replica takes over, SIGCONT: the first thing a resumed worker
    does is a write; the watchdog has not run. The fence refuses it."""
    store, clock = LeaseStore(), Clock()
    a, b = Replica(store, clock, "a"), Replica(store, clock, "b")
    a.lead()
    assert not b.elector.try_acquire_or_renew()
    clock.t += 20.0  # a is frozen; b's clock runs
    assert b.elector.try_acquire_or_renew()
    b.elector.leading.set()
    with pytest.raises(NotLeading):
        a.elector.fence()
    b.elector.fence()
    a.elector.check_renewal(a.on_stopped)  # then the watchdog's tick: stopped and aborted
    assert a.stopped_at == 20.0 and a.aborted_at == 20.0
    with pytest.raises(NotLeading):
        a.elector.fence()


def test_a_leader_past_its_deadline_never_renews_even_if_no_one_took_the_lease() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    a.elector.retry_period = 0.01  # real seconds between the loop's turns
    a.lead()
    clock.t = 12.0  # frozen past the renew deadline, short of the lease duration
    rv = store.rv
    stop = threading.Event()
    loop = threading.Thread(target=a.elector._renew_loop, args=(stop, a.on_stopped), daemon=True)
    loop.start()
    loop.join(5)
    assert not loop.is_alive()
    assert store.rv == rv  # no renewal: the replica has lost, as client-go's would
    assert a.elector.lost.is_set() and a.stopped_at == 12.0 and a.aborted_at is None
    with pytest.raises(NotLeading):
        a.elector.fence()


def test_after_release_the_fence_is_closed() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    a.lead()
    a.elector.leading.clear()  # what run() does on SIGTERM, before releasing
    a.elector.release()
    with pytest.raises(NotLeading):
        a.elector.fence()
    assert store.lease is not None and store.lease["spec"]["holderIdentity"] == ""


class _Pool:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, str]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        self.sent.append((method, kwargs["headers"]))

        class Resp:
            status = 200
            headers: dict[str, str] = {}
            data = b"{}"

        return Resp()

    urlopen = request  # the host's pool, as Rest asks it directly


def _rest() -> tuple[Rest, _Pool]:
    cfg = k8s_client.Configuration()
    cfg.host = "http://127.0.0.1:9"
    rest = Rest(cfg, name="member1")
    pool = _Pool()
    rest.pool = rest._direct = pool  # type: ignore[assignment]
    return rest, pool


@pytest.mark.parametrize(("verb", "method"), [("create", "POST"), ("update", "PUT"), ("delete", "DELETE")])
def test_the_rest_layer_checks_the_fence_before_a_write_leaves(verb: str, method: str) -> None:
    rest, pool = _rest()
    open_ = {"v": True}

    def fence() -> None:
        if not open_["v"]:
            raise NotLeading("no")

    rest.write_fence = fence
    rest.request(verb, method, "/api/v1/namespaces/x/configmaps", body={})
    open_["v"] = False
    with pytest.raises(NotLeading):
        rest.request(verb, method, "/api/v1/namespaces/x/configmaps", body={})
    assert len(pool.sent) == 1  # the refused write never reached the connection pool
    rest.request("get", "GET", "/api/v1/namespaces/x/configmaps")  # reads are not fenced
    assert [m for m, _ in pool.sent] == [method, "GET"]


def test_the_user_agent_names_the_replica() -> None:
    assert user_agent("replica-a") == f"{USER_AGENT}/replica-a"
    assert user_agent("host\r\nX: y é") == f"{USER_AGENT}/host__X:_y__"
    assert user_agent("") == USER_AGENT
    rest, pool = _rest()
    rest.user_agent = user_agent("replica-b")
    rest.request("get", "GET", "/version")
    assert pool.sent[0][1]["User-Agent"] == "kubectl-kubefed/replica-b"


class _Host:
    name = "host"

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any]:
        return {"data": {"token": base64.b64encode(b"t0ken").decode()}}


def test_member_clients_carry_the_fence_and_the_user_agent() -> None:
    def fence() -> None:
        raise NotLeading("no")

    options = ClientOptions(user_agent="kubectl-kubefed/a", write_fence=fence)
    client = MemberClientFactory(_Host(), "ns", options)(  # type: ignore[arg-type]
        {
            "metadata": {"name": "m1"},
            "spec": {"apiEndpoint": "http://127.0.0.1:9", "secretRef": {"name": "s"}},
        }
    )
    assert isinstance(client, KubeClusterClient)
    assert client.rest.write_fence is fence and client.rest.user_agent == "kubectl-kubefed/a"


def test_a_write_frozen_after_the_first_check_is_refused_by_the_connection() -> None:
    """The freeze lands between Rest's check and the socket: the connection checks again
    right before the first byte, and the server never sees the request."""
    srv = Server()
    try:
        rest = srv.rest()
        srv.routes[("POST", "/api/v1/namespaces/x/configmaps")] = lambda *_: (201, {}, {})
        calls = {"n": 0}
        clock = Clock()
        deadline = 10.0

        def fence() -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                clock.t += 20.0  # frozen right after the first check passed
            if clock.t > deadline:
                raise NotLeading("past the deadline")

        rest.write_fence = fence
        with pytest.raises(NotLeading):
            rest.request("create", "POST", "/api/v1/namespaces/x/configmaps", body={})
        assert calls["n"] == 2 and srv.seen == []
        rest.write_fence = None  # the pool is still usable
        rest.request("create", "POST", "/api/v1/namespaces/x/configmaps", body={})
        assert [m for m, _, _ in srv.seen] == ["POST"]
    finally:
        srv.release.set()
        srv.httpd.shutdown()
        srv.httpd.server_close()


def test_the_renewal_fence_stops_lease_writes_past_the_deadline_but_not_acquire_or_release() -> None:
    store, clock = LeaseStore(), Clock()
    a = Replica(store, clock, "a")
    a.elector.renewal_fence()  # a standby may try to acquire
    a.lead()
    a.elector.renewal_fence()
    clock.t = 10.5
    with pytest.raises(NotLeading):
        a.elector.renewal_fence()  # a renewal begun before a freeze, resumed after it
    a.elector.leading.clear()  # an orderly stop (SIGTERM) within the deadline releases
    clock.t = 1.0
    a.elector.renewal_fence()
    a.elector.lost.set()
    with pytest.raises(NotLeading):
        a.elector.renewal_fence()
