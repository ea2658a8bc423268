"""The member identity's grant, admission policy and token claims (core.memberpolicy)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import memberpolicy as mp
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.membership import member_objects

SA = "member1-host"
NS = "kube-federation-system"


def _types(*type_names: str) -> list[tc.TypeConfig]:
    return [tc.lookup(n) for n in type_names]


def _allowed(rules: list[dict[str, Any]], group: str, resource: str, verb: str, name: str = "") -> bool:
    for rule in rules:
        if "nonResourceURLs" in rule:
            continue
        if group not in rule["apiGroups"] and "*" not in rule["apiGroups"]:
            continue
        if resource not in rule["resources"] and "*" not in rule["resources"]:
            continue
        if verb not in rule["verbs"] and "*" not in rule["verbs"]:
            continue
        if rule.get("resourceNames") and name not in rule["resourceNames"]:
            continue
        return True
    return False


def test_only_enabled_types_get_verbs_and_no_secrets_without_the_secrets_type() -> None:
    grant = mp.member_grant(
        _types("configmaps", "namespaces", "deployments.apps"),
        scope=names.SCOPE_CLUSTER,
        sa=SA,
        allow_rbac=False,
        bound_token=True,
    )
    rules = grant.cluster_rules
    for verb in mp.OBJECT_VERBS:
        assert _allowed(rules, "", "configmaps", verb)
        assert _allowed(rules, "apps", "deployments", verb)
    for verb in ("get", "list", "watch", "create", "update", "delete"):
        assert not _allowed(rules, "", "secrets", verb)
        assert not _allowed(rules, "", "serviceaccounts", verb)
        assert not _allowed(rules, mp.RBAC_GROUP, "clusterroles", verb)
    assert not _allowed(rules, "", "configmaps", "patch")  # the controller never patches
    assert not _allowed(rules, "", "events", "create")  # events go to the host only
    assert not any("*" in r.get("verbs", []) or "*" in r.get("resources", []) for r in rules)


def test_probe_reads_only_the_cluster_id_and_health_urls() -> None:
    rules = mp.member_grant([], scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=False, bound_token=False)
    assert _allowed(rules.cluster_rules, "about.k8s.io", "clusterproperties", "get", mp.IDENTITY_PROPERTY)
    assert not _allowed(rules.cluster_rules, "about.k8s.io", "clusterproperties", "get", "clusterset.k8s.io")
    assert mp.IDENTITY_PROPERTY == "cluster.clusterset.k8s.io"  # what the health probe reads
    assert not _allowed(rules.cluster_rules, "about.k8s.io", "clusterproperties", "list")
    urls = [r for r in rules.cluster_rules if "nonResourceURLs" in r]
    assert urls == [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version"], "verbs": ["get"]}]
    assert rules.namespace_rules == []


def test_token_renewal_is_limited_to_the_own_service_account() -> None:
    grant = mp.member_grant([], scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=False, bound_token=True)
    assert _allowed(grant.namespace_rules, "", "serviceaccounts/token", "create", SA)
    assert not _allowed(grant.namespace_rules, "", "serviceaccounts/token", "create", "default")
    assert not _allowed(grant.cluster_rules, "", "serviceaccounts/token", "create", SA)
    objs = mp.rbac_objects(NS, SA, "r", grant)
    role = next(o for o in objs if o["kind"] == "Role")
    assert role["metadata"]["namespace"] == NS


def test_rbac_types_need_the_explicit_opt_in() -> None:
    types = _types("clusterroles.rbac.authorization.k8s.io", "configmaps")
    without = mp.member_grant(types, scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=False, bound_token=True)
    assert not _allowed(without.cluster_rules, mp.RBAC_GROUP, "clusterroles", "create")
    assert not _allowed(without.cluster_rules, mp.RBAC_GROUP, "clusterroles", "escalate")
    assert [t.name for t in mp.unwritable(types, allow_rbac=False)] == [
        "clusterroles.rbac.authorization.k8s.io"
    ]
    assert mp.unwritable(types, allow_rbac=True) == []
    with_rbac = mp.member_grant(types, scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=True, bound_token=True)
    assert _allowed(with_rbac.cluster_rules, mp.RBAC_GROUP, "clusterroles", "create")
    assert _allowed(with_rbac.cluster_rules, mp.RBAC_GROUP, "clusterroles", "escalate")
    assert _allowed(with_rbac.cluster_rules, mp.RBAC_GROUP, "clusterroles", "bind")
    # escalate and bind only on the RBAC types, never on anything else
    for rule in with_rbac.cluster_rules:
        if {"escalate", "bind"} & set(rule.get("verbs", [])):
            assert rule["apiGroups"] == [mp.RBAC_GROUP]
            assert set(rule["resources"]) <= {"clusterroles", "roles"}
    none_rbac = mp.member_grant(
        _types("configmaps"), scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=True, bound_token=True
    )
    assert not any("escalate" in r.get("verbs", []) for r in none_rbac.cluster_rules)


def test_namespaced_scope_uses_a_role_in_the_kubefed_namespace() -> None:
    types = _types("configmaps", "namespaces", "clusterroles.rbac.authorization.k8s.io")
    grant = mp.member_grant(types, scope=names.SCOPE_NAMESPACED, sa=SA, allow_rbac=True, bound_token=True)
    assert _allowed(grant.namespace_rules, "", "configmaps", "create")
    assert not _allowed(grant.cluster_rules, "", "configmaps", "get")
    assert not _allowed(grant.namespace_rules, mp.RBAC_GROUP, "clusterroles", "create")  # cluster-scoped
    assert _allowed(grant.cluster_rules, "about.k8s.io", "clusterproperties", "get", mp.IDENTITY_PROPERTY)
    kinds = [(o["kind"], o["metadata"].get("namespace", "")) for o in mp.rbac_objects(NS, SA, "r", grant)]
    assert kinds == [("ClusterRole", ""), ("ClusterRoleBinding", ""), ("Role", NS), ("RoleBinding", NS)]


def test_admin_grant_is_the_wildcard() -> None:
    grant = mp.admin_grant(SA, bound_token=False)
    assert _allowed(grant.cluster_rules, "anything", "anything", "delete")
    assert grant.namespace_rules == []


def test_bindings_point_at_their_role_and_the_service_account() -> None:
    grant = mp.member_grant(
        _types("configmaps"), scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=False, bound_token=True
    )
    objs = mp.rbac_objects(NS, SA, "role-x", grant)
    for binding in (o for o in objs if o["kind"].endswith("Binding")):
        assert binding["roleRef"]["name"] == "role-x"
        assert binding["roleRef"]["kind"] == binding["kind"].replace("Binding", "")
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": SA, "namespace": NS}]


def test_member_objects_carry_a_token_secret_only_with_legacy_tokens() -> None:
    assert [o["kind"] for o in member_objects(NS, SA, legacy_token=False)] == ["Namespace", "ServiceAccount"]
    legacy = member_objects(NS, SA, legacy_token=True)
    assert legacy[-1]["type"] == mp.SA_TOKEN_TYPE


def _policy(**kw: Any) -> dict[str, Any]:
    args: dict[str, Any] = {"protected_namespaces": ["kube-system"], "adopt": True, "adopt_namespaces": False}
    args.update(kw)
    return mp.admission_policy(NS, SA, **args)[0]


def test_policy_matches_only_the_member_identity() -> None:
    policy, binding = mp.admission_policy(
        NS, SA, protected_namespaces=["kube-system"], adopt=True, adopt_namespaces=False
    )
    (condition,) = policy["spec"]["matchConditions"]
    assert condition["expression"] == f'request.userInfo.username == "system:serviceaccount:{NS}:{SA}"'
    assert policy["spec"]["failurePolicy"] == "Fail"
    assert binding["spec"] == {"policyName": policy["metadata"]["name"], "validationActions": ["Deny"]}
    assert policy["apiVersion"] == binding["apiVersion"] == "admissionregistration.k8s.io/v1"
    rules = policy["spec"]["matchConstraints"]["resourceRules"]
    assert {"CREATE", "UPDATE", "DELETE"} == set(rules[0]["operations"])
    assert rules[1]["resources"] == ["serviceaccounts/token"]


def test_policy_expressions() -> None:
    text = json.dumps(_policy(protected_namespaces=["kube-system", 'a"b'], max_token_seconds=1800))
    assert "kubernetes.io/service-account-token" in text
    assert '[\\"a\\\\\\"b\\", \\"kube-system\\"]' in text  # a quote in a name stays inside its literal
    assert "expirationSeconds <= 1800" in text

    def managed_rule(**kw: Any) -> str:
        rules = _policy(**kw)["spec"]["validations"]
        return str(next(v["expression"] for v in rules if "may only change" in v["message"]))

    assert "variables.oldManaged || variables.newManaged" in managed_rule()
    assert "variables.oldManaged || false" in managed_rule(adopt=False)
    assert "variables.isNamespace && variables.newManaged" in managed_rule(adopt=False, adopt_namespaces=True)
    variables = {v["name"]: v["expression"] for v in _policy()["spec"]["variables"]}
    assert variables["oldManaged"].startswith("oldObject != null")
    # absent request fields are read through has(): "no such key" would deny everything
    for field in ("reqGroup", "reqSubResource", "reqNamespace", "reqName"):
        assert variables[field].startswith("has(")
    for rule in _policy()["spec"]["validations"]:
        assert "request.subResource" not in rule["expression"]
        assert "request.namespace" not in rule["expression"]
        assert "request.resource.group" not in rule["expression"]
    assert (
        "'kubefed.io/managed'" in variables["newManaged"] or '"kubefed.io/managed"' in variables["newManaged"]
    )


def test_protected_namespaces_flag() -> None:
    assert mp.parse_protected_namespaces(" kube-system,,a ,a", NS) == ["a", "kube-system"]
    with pytest.raises(ValueError, match="KubeFed namespace"):
        mp.parse_protected_namespaces(f"kube-system,{NS}", NS)


def _jwt(claims: dict[str, Any]) -> str:
    def enc(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{enc({'alg': 'RS256'})}.{enc(claims)}.c2ln"


def test_token_claims() -> None:
    claims = mp.token_claims(_jwt({"sub": f"system:serviceaccount:{NS}:{SA}", "iat": 1000, "exp": 4600}))
    assert claims is not None and claims.bound
    assert claims.service_account() == (NS, SA)
    assert claims.lifetime == 3600
    assert claims.refresh_at() == 1000 + 2400
    assert claims.refresh_at(after=20) == 1020
    assert claims.refresh_at(after=99999) == 4600
    legacy = mp.token_claims(
        _jwt({"sub": f"system:serviceaccount:{NS}:{SA}", "iss": "kubernetes/serviceaccount"})
    )
    assert legacy is not None and not legacy.bound and legacy.refresh_at() is None
    for junk in ("", "abc", "a.b.c", "a.!!!.c", _jwt({"sub": "x"}).replace(".", "", 1)):
        assert mp.token_claims(junk) is None or not mp.token_claims(junk).bound  # type: ignore[union-attr]
    assert mp.token_claims(_jwt({"sub": "user:x", "exp": True})).expires_at is None  # type: ignore[union-attr]
    assert mp.token_claims(_jwt({"sub": "system:serviceaccount::x"})).service_account() is None  # type: ignore[union-attr]


def test_federated_crds_grant_crd_writes_only_when_enabled_and_join_says_so() -> None:
    crd = ("apiextensions.k8s.io", "customresourcedefinitions")
    for enabled, scope in (
        (True, names.SCOPE_CLUSTER),
        (False, names.SCOPE_CLUSTER),
        (True, names.SCOPE_NAMESPACED),
    ):
        types = _types("configmaps", *(["customresourcedefinitions"] if enabled else []))
        grant = mp.member_grant(types, scope=scope, sa=SA, allow_rbac=False, bound_token=True)
        rules = grant.cluster_rules + grant.namespace_rules
        expected = enabled and scope == names.SCOPE_CLUSTER
        for verb in mp.OBJECT_VERBS:
            assert _allowed(rules, *crd, verb) is expected
        notice = mp.crd_notice("member1", types, scope)
        assert bool(notice) is expected
        assert not expected or "member identity of member1 may create CustomResourceDefinitions" in notice
    # The admission policy still confines it to the CRDs it manages (no other CRD changes).
    policy, _ = mp.admission_policy(
        NS, SA, protected_namespaces=["kube-system"], adopt=False, adopt_namespaces=False
    )
    assert any("variables.oldManaged" in v["expression"] for v in policy["spec"]["validations"])


def test_grant_digest_changes_with_the_rights_only() -> None:
    def digest(*type_names: str, allow_rbac: bool = False) -> str:
        grant = mp.member_grant(
            _types(*type_names), scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=allow_rbac, bound_token=True
        )
        return mp.grant_digest(mp.rbac_objects(NS, SA, "r", grant))

    assert digest("configmaps", "secrets") == digest("secrets", "configmaps")
    assert digest("configmaps") != digest("configmaps", "secrets")
    rbac = "clusterroles.rbac.authorization.k8s.io"
    assert digest("configmaps", rbac) == digest("configmaps")  # no rights on RBAC without the opt-in
    assert digest("configmaps", rbac, allow_rbac=True) != digest("configmaps", rbac)


def test_admission_configuration_is_never_granted() -> None:
    vap = tc.TypeConfig(
        kind="ValidatingAdmissionPolicy",
        group="admissionregistration.k8s.io",
        version="v1",
        plural="validatingadmissionpolicies",
        namespaced=False,
    )
    for allow_rbac in (False, True):
        grant = mp.member_grant(
            [vap], scope=names.SCOPE_CLUSTER, sa=SA, allow_rbac=allow_rbac, bound_token=True
        )
        for verb in mp.OBJECT_VERBS:
            assert not _allowed(grant.cluster_rules, "admissionregistration.k8s.io", vap.plural, verb)
        assert mp.unwritable([vap], allow_rbac=allow_rbac) == [vap]
