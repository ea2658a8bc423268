"""The member identity against real kube-apiservers (docs/security.md): what its stored
credentials can and cannot do, the admission policy, the bound token and its renewal."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import memberpolicy as mp
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube import kubeconfig, membertoken
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import MemberClientFactory
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync.errors import ApiError, Forbidden, NotFound
from tests.e2e.conftest import Plane, eventually, kubefed, update_retrying
from tests.e2e.test_propagation_e2e import FED, status_of

pytestmark = pytest.mark.e2e

# The controller the session starts inherits this: it renews member tokens every ~30s
# instead of after 40 minutes, so the renewal is seen (and exercised by every other test).
os.environ.setdefault(membertoken.REFRESH_AFTER_ENV, "30")

NS = names.DEFAULT_KUBEFED_NAMESPACE
DOCS = Path(__file__).resolve().parents[2] / "docs" / "security.md"
BEGIN, END = "<!-- can-i:begin -->", "<!-- can-i:end -->"


def sa_of(cluster: str) -> str:
    return f"{cluster}-host"


def context_of(plane: Plane, cluster: str) -> str:
    return plane.host_context if cluster == "host" else cluster


def join(plane: Plane, cluster: str, *extra: str) -> str:
    res = kubefed(
        plane.kubeconfig,
        "join",
        cluster,
        "--update",
        "--cluster-context",
        context_of(plane, cluster),
        "--host-cluster-context",
        plane.host_context,
        *extra,
    )
    return res.stdout


def as_member_identity(plane: Plane, cluster: str) -> KubeClusterClient:
    """A client with the member identity's credentials exactly as the host stores them."""
    kfc = plane.host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, NS, cluster)
    return MemberClientFactory(plane.host, NS)(kfc)


def stored_token(plane: Plane, cluster: str) -> str:
    kfc = plane.host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, NS, cluster)
    secret = plane.host.get("v1", "Secret", NS, kfc["spec"]["secretRef"]["name"])
    return base64.b64decode(secret["data"]["token"]).decode()


def managed(obj: dict[str, Any]) -> dict[str, Any]:
    obj.setdefault("metadata", {}).setdefault("labels", {})[names.MANAGED_LABEL] = "true"
    return obj


def configmap(ns: str, name: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }


def refused(call: Any, *args: Any, match: str = "") -> str:
    with pytest.raises(Forbidden) as info:
        call(*args)
    assert match in str(info.value), str(info.value)
    return str(info.value)


def can_i_list(plane: Plane, cluster: str) -> str:
    res = subprocess.run(
        [
            "kubectl",
            "auth",
            "can-i",
            "--list",
            f"--as={mp.member_username(NS, sa_of(cluster))}",
            "-n",
            NS,
            "--context",
            context_of(plane, cluster),
            "--kubeconfig",
            plane.kubeconfig,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return res.stdout


_ROW = re.compile(r"^(\S*)\s+(\[.*?\])\s+(\[.*?\])\s+(\[.*?\])\s*$")


def can_i_table(output: str, leave_out: set[str]) -> list[str]:
    """The rows of ``kubectl auth can-i --list`` without the left-out resources, re-aligned
    (kubectl sizes its columns to the longest row, which may be a left-out one)."""
    lines = output.splitlines()
    rows = [m.groups() for m in map(_ROW.match, lines[1:]) if m and m.group(1) not in leave_out]
    assert lines and lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    table = [HEADER, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(3)]
    return [
        "   ".join(cell.ljust(width) for cell, width in zip(r[:3], widths, strict=True)) + "   " + r[3]
        for r in table
    ]


HEADER = ("Resources", "Non-Resource URLs", "Resource Names", "Verbs")


def test_can_i_list_is_documented(plane: Plane) -> None:
    """docs/security.md embeds the member identity as the API server sees it."""
    join(plane, "member1")
    extra = set()
    items, _ = plane.host.list(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, NS)
    for ftc in items:
        t = tc.from_ftc(ftc)
        if t.name not in tc.DEFAULT_ENABLED:  # enabled on top by other e2e tests
            extra.add(t.name)
    lines = can_i_table(can_i_list(plane, "member1"), extra)
    block = "```\n" + "\n".join(lines) + "\n```"
    text = DOCS.read_text()
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    current = text[start:end].strip()
    if os.environ.get("KUBEFED_UPDATE_DOCS") == "1":
        DOCS.write_text(text[:start] + "\n" + block + "\n" + text[end:])
        return
    assert current == block, f"{DOCS} is out of date; regenerate with KUBEFED_UPDATE_DOCS=1. Now:\n{block}"
    # What the block shows, checked rather than only compared.
    rows = {line.split()[0]: line for line in lines if not line.startswith(" ")}
    assert "secrets" in rows  # init's defaults federate secrets
    assert "clusterroles.rbac.authorization.k8s.io" not in rows  # RBAC needs --allow-rbac
    assert "patch" not in rows["configmaps"] and "*" not in rows["configmaps"]
    assert f"[{sa_of('member1')}]" in rows["serviceaccounts/token"]


def test_the_host_stores_a_bound_expiring_token(plane: Plane) -> None:
    claims = mp.token_claims(stored_token(plane, "member1"))
    assert claims is not None and claims.bound, "a legacy, non-expiring token is stored"
    assert claims.lifetime == mp.DEFAULT_TOKEN_SECONDS
    assert claims.service_account() == (NS, sa_of("member1"))
    member = plane.member("member1")
    with pytest.raises(NotFound):  # no token Secret in the member
        member.get("v1", "Secret", NS, sa_of("member1"))
    legacy = [
        s["metadata"]["name"] for s in member.list("v1", "Secret", NS)[0] if s.get("type") == mp.SA_TOKEN_TYPE
    ]
    assert legacy == []


def test_the_identity_renews_only_its_own_token_and_only_briefly(plane: Plane) -> None:
    identity = as_member_identity(plane, "member1")
    refused(membertoken.request_token, identity.rest, NS, "default", 3600, match="forbidden")
    refused(membertoken.request_token, identity.rest, NS, sa_of("member1"), 7200, match="at most 3600s")
    token = membertoken.request_token(identity.rest, NS, sa_of("member1"), 3600)
    claims = mp.token_claims(token)
    assert claims is not None and claims.lifetime == 3600


def test_no_service_account_token_secrets(plane: Plane, ns: str) -> None:
    identity = as_member_identity(plane, "member1")
    secret = managed(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": mp.SA_TOKEN_TYPE,
            "metadata": {
                "name": "mint",
                "namespace": ns,
                "annotations": {"kubernetes.io/service-account.name": "default"},
            },
        }
    )
    refused(identity.create, secret, match="service-account token Secrets")
    # the same Secret, Opaque: allowed (so the refusal above is the policy's, not RBAC's)
    opaque = {**secret, "type": "Opaque", "metadata": {**secret["metadata"], "annotations": {}}}
    identity.create(opaque)
    identity.delete("v1", "Secret", ns, "mint")


def test_no_writes_in_protected_namespaces(plane: Plane, ns: str) -> None:
    identity = as_member_identity(plane, "member1")
    refused(identity.create, managed(configmap("kube-system", "x", a="1")), match="protected namespace")
    refused(
        update_retrying,
        identity,
        "v1",
        "Namespace",
        "",
        "kube-system",
        lambda o: managed(o),
        match="protected namespace",
    )
    identity.create(managed(configmap(ns, "x", a="1")))  # outside: allowed
    identity.delete("v1", "ConfigMap", ns, "x")


def test_unmanaged_objects_are_left_alone(plane: Plane, ns: str) -> None:
    admin = plane.member("member1")
    identity = as_member_identity(plane, "member1")
    admin.create(configmap(ns, "theirs", a="1"))
    refused(update_retrying, identity, "v1", "ConfigMap", ns, "theirs", lambda o: o["data"].update(a="2"))
    refused(identity.delete, "v1", "ConfigMap", ns, "theirs", match=names.MANAGED_LABEL)
    refused(identity.create, configmap(ns, "unlabelled"), match=names.MANAGED_LABEL)
    assert admin.get("v1", "ConfigMap", ns, "theirs")["data"] == {"a": "1"}
    # KubeFed's adoption (adoptResources: Enabled, the default): an update that adds the label
    update_retrying(identity, "v1", "ConfigMap", ns, "theirs", lambda o: managed(o)["data"].update(a="3"))
    assert admin.get("v1", "ConfigMap", ns, "theirs")["metadata"]["labels"][names.MANAGED_LABEL] == "true"
    identity.delete("v1", "ConfigMap", ns, "theirs")  # now managed: federation may delete it


def test_rbac_is_an_explicit_opt_in(plane: Plane) -> None:
    out = join(plane, "member2")
    # Other modules may have enabled more RBAC types on the shared bed: they are listed too.
    warning = next(
        line for line in out.splitlines() if "warning: the member identity of member2 cannot write" in line
    )
    assert "clusterroles.rbac.authorization.k8s.io" in warning
    assert "kubectl kubefed join member2 --update --allow-rbac" in out
    role = "e2e-sec-reader"
    fed: dict[str, Any] = {
        "apiVersion": FED,
        "kind": "FederatedClusterRole",
        "metadata": {"name": role},
        "spec": {
            "template": {"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]},
            "placement": {"clusters": [{"name": "member1"}, {"name": "member2"}]},
        },
    }
    plane.host.create(fed)
    try:

        def failed_in_both() -> bool:
            status = status_of(plane, "ClusterRole", "", role)
            codes = {c["name"]: c.get("status") for c in status.get("clusters", [])}
            # the member informer cannot list them (or, if it could, the create is refused)
            assert set(codes) == {"member1", "member2"}, codes
            assert set(codes.values()) <= {"CachedRetrievalFailed", "CreationFailed"}, codes
            return True

        eventually(failed_in_both, 60, what="CreationFailed without --allow-rbac")
        out = join(plane, "member2", "--allow-rbac")
        # other modules may have enabled types no grant covers (webhook configurations): only
        # the RBAC types must now be writable
        assert not [
            line for line in out.splitlines() if "cannot write" in line and "rbac.authorization" in line
        ]
        eventually(
            lambda: plane.member("member2").get(mp.RBAC_API, "ClusterRole", "", "e2e-sec-reader"),
            60,
            what="the ClusterRole in member2 after --allow-rbac",
        )
        assert plane.get_or_none("member1", mp.RBAC_API, "ClusterRole", "", "e2e-sec-reader") is None
        # even with --allow-rbac the policy holds: no RBAC object that federation does not manage
        identity = as_member_identity(plane, "member2")
        refused(
            update_retrying,
            identity,
            mp.RBAC_API,
            "ClusterRole",
            "",
            "cluster-admin",
            lambda o: o["rules"].append({"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}),
            match=names.MANAGED_LABEL,
        )
    finally:
        plane.host.delete(FED, "FederatedClusterRole", "", role)
        eventually(
            lambda: plane.get_or_none("member2", mp.RBAC_API, "ClusterRole", "", "e2e-sec-reader") is None,
            60,
            what="the ClusterRole removed",
        )
        join(plane, "member2")


def test_secrets_are_not_readable_unless_federated(plane: Plane) -> None:
    res = kubefed(plane.kubeconfig, "disable", "secrets", "--host-cluster-context", plane.host_context)
    assert (
        "note: the member identity of host, member1, member2 may still write secrets: "
        "run `kubectl kubefed join host --update`; " in res.stdout
    ), res.stdout
    try:
        join(plane, "member1")
        identity = as_member_identity(plane, "member1")
        refused(identity.list, "v1", "Secret", match="run `kubectl kubefed join member1 --update`")
        refused(identity.list, "v1", "Secret", NS, match="forbidden")
        res = kubefed(plane.kubeconfig, "enable", "secrets", "--host-cluster-context", plane.host_context)
        warnings = [line for line in res.stdout.splitlines() if line.startswith("warning:")]
        assert warnings == [
            "warning: the member identity of member1 cannot write secrets yet: "
            "run `kubectl kubefed join member1 --update`"
        ], res.stdout
    finally:
        kubefed(plane.kubeconfig, "enable", "secrets", "--host-cluster-context", plane.host_context)
        join(plane, "member1")
    as_member_identity(plane, "member1").list("v1", "Secret")  # readable again


def test_the_controller_renews_the_token_before_it_expires(plane: Plane, ns: str) -> None:
    first = mp.token_claims(stored_token(plane, "member2"))
    assert first is not None and first.issued_at is not None

    def renewed() -> mp.TokenClaims:
        claims = mp.token_claims(stored_token(plane, "member2"))
        assert claims is not None and claims.issued_at is not None
        assert claims.issued_at > first.issued_at  # type: ignore[operator]
        return claims

    second = eventually(renewed, 90, interval=1, what="a renewed token on the host")
    assert second.lifetime == first.lifetime  # renewed for as long, not longer
    assert second.expires_at and first.expires_at and second.expires_at > first.expires_at
    # the renewed token works, and propagation goes on with it
    identity = as_member_identity(plane, "member2")
    identity.create(managed(configmap(ns, "after-renewal", a="1")))
    plane.host.create(
        {
            "apiVersion": FED,
            "kind": "FederatedConfigMap",
            "metadata": {"name": "renewed", "namespace": ns},
            "spec": {"template": {"data": {"k": "v"}}, "placement": {"clusters": [{"name": "member2"}]}},
        }
    )
    eventually(lambda: plane.member("member2").get("v1", "ConfigMap", ns, "renewed"), 60, what="propagation")


def test_protected_namespaces_and_adoption_follow_join(plane: Plane, ns: str) -> None:
    """--protect-namespaces and adoptResources: Disabled reach the policy on join --update."""
    admin = plane.member("member2")
    admin.create(configmap(ns, "theirs", a="1"))

    def set_adoption(value: str) -> None:
        update_retrying(
            plane.host,
            names.CORE_API_VERSION,
            names.KIND_KUBEFED_CONFIG,
            NS,
            names.KUBEFED_CONFIG_NAME,
            lambda o: o["spec"].setdefault("syncController", {}).update(adoptResources=value),
        )

    set_adoption("Disabled")
    try:
        join(plane, "member2", "--protect-namespaces", f"kube-system,{ns}")
        identity = as_member_identity(plane, "member2")

        def create_refused(name: str, match: str) -> bool:
            try:
                identity.create(managed(configmap(ns, name)))
            except Forbidden as err:
                assert match in str(err), str(err)
                return True
            # With the admin: the identity's own delete may meet the policy just turning on.
            admin.delete("v1", "ConfigMap", ns, name)
            return False

        # the API server picks a changed policy up within seconds, not at once
        eventually(lambda: create_refused("x", "protected namespace"), 30, what="ns protected")
        join(plane, "member2", "--protect-namespaces", "kube-system")
        eventually(lambda: not create_refused("x", "protected namespace"), 30, what="ns unprotected")
        refused(  # adoption disabled: not even an update that adds the label
            update_retrying,
            identity,
            "v1",
            "ConfigMap",
            ns,
            "theirs",
            lambda o: managed(o),
            match="adoption is disabled",
        )
    finally:
        set_adoption("Enabled")
        join(plane, "member2")
    eventually(  # adoption enabled again: the update that adds the label passes
        lambda: update_retrying(
            as_member_identity(plane, "member2"), "v1", "ConfigMap", ns, "theirs", managed
        ),
        30,
        what="adoption allowed again",
    )


def with_token(plane: Plane, cluster: str, token: str) -> KubeClusterClient:
    """A client for the member with just this bearer token (no renewal, no host Secret)."""
    cfg = kubeconfig.configuration(plane.kubeconfig, context_of(plane, cluster))
    cfg.refresh_api_key_hook = None  # the kubeconfig loader's hook would put the admin token back
    cfg.api_key = {"authorization": "Bearer " + token}
    client = KubeClusterClient(Rest(cfg, name=cluster), cluster)
    assert client.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})["status"][
        "userInfo"
    ]["username"] == mp.member_username(NS, sa_of(cluster))
    return client


def cluster_ready(plane: Plane, cluster: str) -> bool:
    kfc = plane.host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, NS, cluster)
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (kfc.get("status") or {}).get("conditions", [])
    )


def test_legacy_token_and_back(plane: Plane) -> None:
    """--legacy-token keeps KubeFed's token Secret; rejoining without it revokes that token."""
    member = plane.member("member1")
    join(plane, "member1", "--legacy-token")
    try:
        legacy = stored_token(plane, "member1")
        claims = mp.token_claims(legacy)
        assert claims is not None and not claims.bound  # no exp: KubeFed's non-expiring token
        assert member.get("v1", "Secret", NS, sa_of("member1"))["type"] == mp.SA_TOKEN_TYPE
        eventually(
            lambda: with_token(plane, "member1", legacy).list("v1", "ConfigMap", NS), 30, what="legacy"
        )
    finally:
        out = join(plane, "member1")
    assert "legacy non-expiring token) deleted in the member" in out

    def revoked() -> bool:  # the old token is revoked, not just unused
        try:
            with_token(plane, "member1", legacy).list("v1", "ConfigMap", NS)
        except ApiError as err:
            return "Unauthorized" in str(err)
        return False

    eventually(revoked, 30, what="the legacy token revoked")
    claims = mp.token_claims(stored_token(plane, "member1"))
    assert claims is not None and claims.bound
    eventually(lambda: cluster_ready(plane, "member1"), 60, what="member1 Ready with the bound token")
    as_member_identity(plane, "member1").list("v1", "ConfigMap", NS)


def test_the_policy_holds_for_the_admin_grant_and_rbac_guards_the_policy(plane: Plane) -> None:
    """--rbac admin (KubeFed's wildcard) is still confined by the policy. Kubernetes never
    applies admission policies to admission configuration, so only RBAC keeps the member
    identity from deleting its policy: the minimal grant has no right on it."""
    name = mp.policy_name(sa_of("member2"))
    identity = as_member_identity(plane, "member2")
    for kind in ("ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"):
        refused(identity.delete, mp.ADMISSION_API, kind, "", name, match="forbidden")
    join(plane, "member2", "--rbac", "admin")
    try:
        identity = as_member_identity(plane, "member2")
        # the wildcard reads what it likes (Leases: never a federated type, no grant of ours)
        identity.list("coordination.k8s.io/v1", "Lease", "kube-system")
        refused(identity.create, managed(configmap("kube-system", "x")), match="protected namespace")
        refused(identity.create, configmap("default", "unlabelled"), match=names.MANAGED_LABEL)
    finally:
        join(plane, "member2")
    refused(
        as_member_identity(plane, "member2").list,
        "coordination.k8s.io/v1",
        "Lease",
        "kube-system",
        match="forbidden",
    )
    assert plane.member("member2").get(mp.ADMISSION_API, "ValidatingAdmissionPolicyBinding", "", name)


def test_unjoin_removes_the_policy_and_join_restores_it(plane: Plane) -> None:
    name = mp.policy_name(sa_of("member2"))
    member = plane.member("member2")
    assert member.get(mp.ADMISSION_API, "ValidatingAdmissionPolicy", "", name)
    kubefed(
        plane.kubeconfig,
        "unjoin",
        "member2",
        "--cluster-context",
        "member2",
        "--host-cluster-context",
        plane.host_context,
    )
    for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"):
        assert plane.get_or_none("member2", mp.ADMISSION_API, kind, "", name) is None
    role = f"kubefed-controller-manager:{sa_of('member2')}"
    assert plane.get_or_none("member2", mp.RBAC_API, "ClusterRole", "", role) is None
    kubefed(
        plane.kubeconfig,
        "join",
        "member2",
        "--cluster-context",
        "member2",
        "--host-cluster-context",
        plane.host_context,
    )
    assert member.get(mp.ADMISSION_API, "ValidatingAdmissionPolicyBinding", "", name)

    eventually(lambda: cluster_ready(plane, "member2"), 90, what="member2 Ready again")
    assert as_member_identity(plane, "member2").healthz() == "ok"
