"""Putting the member identity's confinement into a member (RBAC, admission policy, bound
token) and asking a member what that identity may do (docs/security.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import name_of
from kubectl_kubefed.core import memberpolicy as mp
from kubectl_kubefed.core.typeconfig import TypeConfig
from kubectl_kubefed.kube import membertoken
from kubectl_kubefed.kube.apply import apply
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import ClientOptions, MemberClientFactory
from kubectl_kubefed.sync.client import ClusterClient
from kubectl_kubefed.sync.clusters import ClientConfigError
from kubectl_kubefed.sync.errors import ApiError, NotFound

Say = Callable[[str], None]


def serves_admission_policies(member: KubeClusterClient) -> bool:
    """admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy is served from Kubernetes 1.30."""
    try:
        member.list(mp.ADMISSION_API, "ValidatingAdmissionPolicy")
        member.discovery.resource(mp.ADMISSION_API, "ValidatingAdmissionPolicyBinding")
    except NotFound:
        return False
    return True


def serves_token_requests(member: KubeClusterClient) -> bool:
    """The TokenRequest API (``serviceaccounts/token``, GA since 1.22)."""
    listing = member.rest.request("get", "GET", "/api/v1")
    return any(r.get("name") == "serviceaccounts/token" for r in listing.get("resources") or [])


def request_token(member: KubeClusterClient, namespace: str, sa: str, seconds: int) -> str:
    """A bound token of the service account, valid ``seconds`` (TokenRequest API)."""
    return membertoken.request_token(member.rest, namespace, sa, seconds)


def install_policy(member: KubeClusterClient, objs: Iterable[dict[str, Any]], say: Say) -> None:
    for obj in objs:
        _, action = apply(member, obj)
        if action != "unchanged":
            say(f"{obj['kind'].lower()}.admissionregistration.k8s.io/{name_of(obj)} {action} in the member")


def remove_policy(member: KubeClusterClient, sa: str, say: Say) -> None:
    for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
        try:
            member.delete(mp.ADMISSION_API, kind, "", mp.policy_name(sa))
            say(f"{kind.lower()}.admissionregistration.k8s.io/{mp.policy_name(sa)} deleted in the member")
        except NotFound:  # also: a member without the v1 API
            continue


def can(client: ClusterClient, verb: str, t: TypeConfig, namespace: str = "") -> bool:
    """SelfSubjectAccessReview: may the client's identity do ``verb`` on the type?"""
    attrs: dict[str, Any] = {"group": t.group, "resource": t.plural, "verb": verb}
    if namespace:
        attrs["namespace"] = namespace
    review = client.create(
        {
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": attrs},
        }
    )
    return bool((review.get("status") or {}).get("allowed"))


def remedy(clusters: Iterable[str], types: Iterable[TypeConfig]) -> str:
    """The exact command(s) that give the member identity the rights again."""
    rbac = " --allow-rbac" if any(mp.is_rbac_type(t) for t in types) else ""
    return "; ".join(f"run `kubectl kubefed join {c} --update{rbac}`" for c in sorted(clusters))


def unwritable_warning(cluster: str, types: list[TypeConfig]) -> str:
    """One line for join: enabled types the member identity cannot write."""
    rbac = [t.name for t in types if mp.is_rbac_type(t)]
    admission = [t.name for t in types if mp.is_admission_type(t)]
    parts = []
    if rbac:
        parts.append(
            f"{', '.join(rbac)} (federating RBAC needs escalate and bind in the member); to allow it: "
            + remedy([cluster], [t for t in types if mp.is_rbac_type(t)])
        )
    if admission:
        parts.append(
            f"{', '.join(admission)} (it would lift its own admission policy; only --rbac admin grants it)"
        )
    return f"warning: the member identity of {cluster} cannot write " + "; nor ".join(parts)


def clusters_by_right(
    host: ClusterClient, namespace: str, t: TypeConfig, scope: str, timeout: float = 5.0
) -> tuple[list[str], list[str]]:
    """(able, lacking): joined clusters whose member identity (the credentials stored on the
    host) can or cannot create objects of the type; unreachable clusters are in neither."""
    factory = MemberClientFactory(host, namespace, ClientOptions(timeout=timeout))
    items, _ = host.list(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, namespace)
    able: list[str] = []
    lacking: list[str] = []
    for kfc in items:
        try:
            client = factory(kfc)
            allowed = can(client, "create", t, namespace if scope == names.SCOPE_NAMESPACED else "")
        except (ClientConfigError, ApiError):
            continue
        (able if allowed else lacking).append(name_of(kfc))
    return sorted(able), sorted(lacking)


def clusters_lacking(
    host: ClusterClient, namespace: str, t: TypeConfig, scope: str, timeout: float = 5.0
) -> list[str]:
    """Joined clusters whose member identity cannot create objects of the type."""
    return clusters_by_right(host, namespace, t, scope, timeout)[1]
