"""What join asks a member before confining its identity (kube.memberrbac), with fakes."""

from __future__ import annotations

from typing import Any, cast

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube import memberrbac
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.sync.errors import NotFound


class FakeRest:
    def __init__(self, core: list[str]) -> None:
        self.core = core

    def request(self, verb: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        assert (verb, method, path) == ("get", "GET", "/api/v1")
        return {"resources": [{"name": n} for n in self.core]}


class FakeDiscovery:
    def __init__(self, served: bool) -> None:
        self.served = served

    def resource(self, api_version: str, kind: str) -> object:
        if not self.served:
            raise NotFound(f"the server does not serve {kind} in {api_version}")
        return object()


class FakeMember:
    def __init__(self, *, vap: bool, token_api: bool) -> None:
        self.vap = vap
        self.discovery = FakeDiscovery(vap)
        self.rest = FakeRest(["serviceaccounts", *(["serviceaccounts/token"] if token_api else [])])

    def list(self, api_version: str, kind: str, namespace: str = "") -> tuple[list[Any], str]:
        if not self.vap:
            raise NotFound(f"the server does not serve {api_version}")
        return [], "1"


def member(**kw: bool) -> KubeClusterClient:
    return cast(KubeClusterClient, FakeMember(**kw))


def test_old_members_are_recognised() -> None:
    assert memberrbac.serves_admission_policies(member(vap=True, token_api=True))
    assert not memberrbac.serves_admission_policies(member(vap=False, token_api=True))
    assert memberrbac.serves_token_requests(member(vap=True, token_api=True))
    assert not memberrbac.serves_token_requests(member(vap=True, token_api=False))


def test_warnings_name_the_exact_remedy() -> None:
    crole = tc.lookup("clusterroles.rbac.authorization.k8s.io")
    line = memberrbac.unwritable_warning("member1", [crole])
    assert line.startswith("warning: the member identity of member1 cannot write clusterroles")
    assert line.endswith("run `kubectl kubefed join member1 --update --allow-rbac`")
    assert "\n" not in line
    assert memberrbac.remedy(["b", "a"], [tc.lookup("configmaps")]) == (
        "run `kubectl kubefed join a --update`; run `kubectl kubefed join b --update`"
    )
