"""What the member identity may do in a member cluster, as data (docs/security.md).

Three layers, all built here without I/O:

* RBAC: exactly the verbs the sync controller uses on the enabled types, the reads of the
  health probe (``/healthz``, ``/version``) and of the cluster ID (one ClusterProperty), and
  ``create serviceaccounts/token`` on the member identity's own ServiceAccount (to renew its
  bound token). RBAC types are left out unless ``allow_rbac``: writing RBAC needs ``escalate``
  and ``bind``, i.e. the right to grant anything.
* A ValidatingAdmissionPolicy that narrows what RBAC cannot: no service-account token
  Secrets, no writes into protected namespaces, no changes to objects federation does not
  manage (except adopting them when the KubeFedConfig allows adoption), short token renewals.
* Bound tokens: the claims of a service-account JWT, to know when to renew it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.core import identity
from kubectl_kubefed.core.typeconfig import TypeConfig

RBAC_API = "rbac.authorization.k8s.io/v1"
RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_PLURALS = ("clusterrolebindings", "clusterroles", "rolebindings", "roles")
ADMISSION_GROUP = "admissionregistration.k8s.io"
ADMISSION_API = f"{ADMISSION_GROUP}/v1"
# The sync controller lists and watches (informers), gets (adoption), creates, updates and
# deletes member objects; it never patches.
OBJECT_VERBS = ("get", "list", "watch", "create", "update", "delete")
HEALTH_URLS = ("/healthz", "/livez", "/readyz", "/version")
IDENTITY_PROPERTY = identity.ID_PROPERTY  # the ClusterProperty holding the cluster ID
DEFAULT_PROTECTED_NAMESPACES = ("kube-system", "kube-public", "kube-node-lease")
DEFAULT_TOKEN_SECONDS = 3600
MIN_TOKEN_SECONDS = 600  # the API server refuses shorter TokenRequests
MAX_TOKEN_SECONDS = 86400
SA_TOKEN_TYPE = "kubernetes.io/service-account-token"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubectl-kubefed"}
GRANT_ANNOTATION = "kubefed.io/member-grant"


def is_rbac_type(t: TypeConfig) -> bool:
    return t.group == RBAC_GROUP and t.plural in RBAC_PLURALS


def member_username(namespace: str, sa: str) -> str:
    return f"system:serviceaccount:{namespace}:{sa}"


def policy_name(sa: str) -> str:
    return f"kubefed-member.{sa}"


def is_admission_type(t: TypeConfig) -> bool:
    """Admission configuration: never granted (only ``--rbac admin``). Kubernetes does not
    apply admission policies to it, so the right to write it is the right to lift the
    member identity's own policy."""
    return t.group == ADMISSION_GROUP


def unwritable(types: Iterable[TypeConfig], *, allow_rbac: bool) -> list[TypeConfig]:
    """Enabled types the member identity will not be able to write."""
    return sorted(
        (t for t in types if is_admission_type(t) or (is_rbac_type(t) and not allow_rbac)),
        key=lambda t: t.name,
    )


def defines_api_types(types: Iterable[TypeConfig]) -> bool:
    """Whether the grant lets the member identity create CustomResourceDefinitions."""
    return any((t.group, t.kind) == ("apiextensions.k8s.io", "CustomResourceDefinition") for t in types)


def crd_notice(cluster: str, types: Iterable[TypeConfig], scope: str) -> str:
    """One line for join when federated CRDs give the member identity that right ("" if not)."""
    if scope == names.SCOPE_NAMESPACED or not defines_api_types(types):
        return ""
    return (
        f"note: customresourcedefinitions is enabled, so the member identity of {cluster} may "
        "create CustomResourceDefinitions (new API types, conversion webhooks) and change or "
        "delete those it created, with every custom resource they hold (docs/security.md)"
    )


def _type_rules(types: Iterable[TypeConfig], *, allow_rbac: bool, scope: str) -> list[dict[str, Any]]:
    types = list(types)
    by_group: dict[str, set[str]] = {}
    rbac = False
    for t in types:
        if (is_rbac_type(t) and not allow_rbac) or is_admission_type(t):
            continue
        if scope == names.SCOPE_NAMESPACED and not t.namespaced and t.kind != "Namespace":
            continue  # a namespaced control plane never propagates cluster-scoped types
        rbac = rbac or is_rbac_type(t)
        by_group.setdefault(t.group, set()).add(t.plural)
    rules: list[dict[str, Any]] = [
        {"apiGroups": [group], "resources": sorted(plurals), "verbs": list(OBJECT_VERBS)}
        for group, plurals in sorted(by_group.items())
    ]
    if rbac:
        # Writing a role needs every right it grants (or escalate); a binding needs bind.
        rules.append(
            {"apiGroups": [RBAC_GROUP], "resources": ["clusterroles", "roles"], "verbs": ["bind", "escalate"]}
        )
    if any((t.group, t.plural) in SCHEDULED_WORKLOADS for t in types):
        # Replica scheduling reads Pods where a workload is not all ready, as KubeFed does
        # (running and ready ones count; unschedulable ones lower the capacity estimate).
        rules.append({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]})
    return rules


# Workloads a ReplicaSchedulingPreference may target (their federated kinds).
SCHEDULED_WORKLOADS = frozenset({("apps", "deployments"), ("apps", "replicasets")})


def _probe_rules() -> list[dict[str, Any]]:
    """The health probe: /healthz, /version, and the cluster ID it verifies (KEP-2149)."""
    return [
        {
            "apiGroups": ["about.k8s.io"],
            "resources": ["clusterproperties"],
            "resourceNames": [IDENTITY_PROPERTY],
            "verbs": ["get"],
        },
        {"nonResourceURLs": list(HEALTH_URLS), "verbs": ["get"]},
    ]


def _token_rules(sa: str) -> list[dict[str, Any]]:
    return [
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts/token"],
            "resourceNames": [sa],
            "verbs": ["create"],
        }
    ]


@dataclass(frozen=True)
class MemberGrant:
    """What join grants the member identity: cluster-wide rules, rules in the KubeFed namespace."""

    cluster_rules: list[dict[str, Any]]
    namespace_rules: list[dict[str, Any]]


def member_grant(
    types: Iterable[TypeConfig], *, scope: str, sa: str, allow_rbac: bool, bound_token: bool
) -> MemberGrant:
    type_rules = _type_rules(types, allow_rbac=allow_rbac, scope=scope)
    token = _token_rules(sa) if bound_token else []
    if scope == names.SCOPE_NAMESPACED:
        return MemberGrant(_probe_rules(), type_rules + token)
    return MemberGrant(type_rules + _probe_rules(), token)


def admin_grant(sa: str, *, bound_token: bool) -> MemberGrant:
    """KubeFed's wildcard grant (``join --rbac admin``)."""
    return MemberGrant(
        [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["get"]},
        ],
        _token_rules(sa) if bound_token else [],
    )


def _binding(kind: str, name: str, namespace: str, role_kind: str, subject: dict[str, str]) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": dict(MANAGED_BY)}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": RBAC_API,
        "kind": kind,
        "metadata": meta,
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": role_kind, "name": name},
        "subjects": [subject],
    }


def rbac_objects(namespace: str, sa: str, role: str, grant: MemberGrant) -> list[dict[str, Any]]:
    """ClusterRole(+Binding) ``role`` for the cluster rules, Role(+Binding) ``role`` in the
    KubeFed namespace for the namespace rules; an empty rule list yields no object."""
    subject = {"kind": "ServiceAccount", "name": sa, "namespace": namespace}
    objs: list[dict[str, Any]] = []
    if grant.cluster_rules:
        objs += [
            {
                "apiVersion": RBAC_API,
                "kind": "ClusterRole",
                "metadata": {"name": role, "labels": dict(MANAGED_BY)},
                "rules": grant.cluster_rules,
            },
            _binding("ClusterRoleBinding", role, "", "ClusterRole", subject),
        ]
    if grant.namespace_rules:
        objs += [
            {
                "apiVersion": RBAC_API,
                "kind": "Role",
                "metadata": {"name": role, "namespace": namespace, "labels": dict(MANAGED_BY)},
                "rules": grant.namespace_rules,
            },
            _binding("RoleBinding", role, namespace, "Role", subject),
        ]
    return objs


def _cel_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid CEL string literal


def _cel_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_cel_string(v) for v in values) + "]"


def _field(parent: str, field: str) -> str:
    return f"has({parent}.{field}) ? {parent}.{field} : ''"


def _managed(var: str) -> str:
    label = _cel_string(names.MANAGED_LABEL)
    return (
        f"{var} != null && has({var}.metadata.labels) && {label} in {var}.metadata.labels"
        f" && {var}.metadata.labels[{label}] == 'true'"
    )


def admission_policy(
    namespace: str,
    sa: str,
    *,
    protected_namespaces: Sequence[str],
    adopt: bool,
    adopt_namespaces: bool,
    max_token_seconds: int = DEFAULT_TOKEN_SECONDS,
    agent_secret: str = "",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ValidatingAdmissionPolicy and its binding that confine the member identity.

    Only requests by the member identity match. Subresource requests match only for
    ``serviceaccounts/token`` (RBAC grants no other subresource). ``adopt``: an object
    without ``kubefed.io/managed=true`` may be changed only by an update that adds that
    label (KubeFed's adoption); without it, never. ``adopt_namespaces`` allows that for
    Namespaces alone (the host namespace of a host that is also a member is always adopted).
    ``agent_secret``: a pull member's agent may update that one Secret in ``namespace`` (its
    renewed host credentials), which kubefed does not manage.
    """
    name = policy_name(sa)
    protected = _cel_list(sorted(set(protected_namespaces)))
    operation = "request.operation"
    adopt_expr = "variables.newManaged" if adopt else "false"
    if adopt_namespaces and not adopt:
        adopt_expr = "(variables.isNamespace && variables.newManaged)"
    own_secret = ""
    if agent_secret:
        own_secret = (
            f"(variables.isSecret && {operation} == 'UPDATE' && variables.reqNamespace == "
            f"{_cel_string(namespace)} && variables.reqName == {_cel_string(agent_secret)}) || "
        )
    validations = [
        {
            "expression": "variables.reqSubResource != 'token' || (has(object.spec.expirationSeconds)"
            f" && object.spec.expirationSeconds <= {int(max_token_seconds)})",
            "message": f"the member identity may renew its token for at most {int(max_token_seconds)}s",
            "reason": "Forbidden",
        },
        {
            "expression": f"!(variables.isSecret && {operation} != 'DELETE' && has(object.type)"
            f" && object.type == {_cel_string(SA_TOKEN_TYPE)})",
            "message": "the member identity may not write service-account token Secrets",
            "reason": "Forbidden",
        },
        {
            "expression": f"variables.reqSubResource != '' || (!(variables.reqNamespace in {protected})"
            f" && !(variables.isNamespace && variables.reqName in {protected}))",
            "message": "the member identity may not write in a protected namespace"
            " (join --protect-namespaces)",
            "reason": "Forbidden",
        },
        {
            "expression": f"variables.reqSubResource != '' || {own_secret}"
            f"({operation} == 'CREATE' ? variables.newManaged"
            f" : {operation} == 'UPDATE' ? (variables.oldManaged || {adopt_expr})"
            " : variables.oldManaged)",
            "message": f"the member identity may only change objects labelled {names.MANAGED_LABEL}=true"
            + (" (or adopt them by adding that label)" if adopt else " (adoption is disabled)"),
            "reason": "Forbidden",
        },
    ]
    policy = {
        "apiVersion": ADMISSION_API,
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["*"],
                        "apiVersions": ["*"],
                        "operations": ["CREATE", "UPDATE", "DELETE"],
                        "resources": ["*"],
                        "scope": "*",
                    },
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["serviceaccounts/token"],
                        "scope": "Namespaced",
                    },
                ],
                "excludeResourceRules": [
                    {
                        "apiGroups": ["authentication.k8s.io", "authorization.k8s.io"],
                        "apiVersions": ["*"],
                        "operations": ["*"],
                        "resources": ["*"],
                    }
                ],
            },
            "matchConditions": [
                {
                    "name": "member-identity",
                    "expression": "request.userInfo.username == "
                    + _cel_string(member_username(namespace, sa)),
                }
            ],
            # Empty request fields (the core group, no subresource, a cluster-scoped object,
            # a generated name) are absent, not "": read them through has().
            "variables": [
                {"name": "reqGroup", "expression": _field("request.resource", "group")},
                {"name": "reqSubResource", "expression": _field("request", "subResource")},
                {"name": "reqNamespace", "expression": _field("request", "namespace")},
                {"name": "reqName", "expression": _field("request", "name")},
                {
                    "name": "isSecret",
                    "expression": "variables.reqGroup == '' && request.resource.resource == 'secrets'",
                },
                {
                    "name": "isNamespace",
                    "expression": "variables.reqGroup == '' && request.resource.resource == 'namespaces'",
                },
                {"name": "newManaged", "expression": _managed("object")},
                {"name": "oldManaged", "expression": _managed("oldObject")},
            ],
            "validations": validations,
        },
    }
    binding = {
        "apiVersion": ADMISSION_API,
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name, "labels": dict(MANAGED_BY)},
        "spec": {"policyName": name, "validationActions": ["Deny"]},
    }
    return policy, binding


def grant_digest(objs: Iterable[dict[str, Any]]) -> str:
    """A short digest of what join put in the member (RBAC, policy): recorded on the
    KubeFedCluster, so that a change of rights is a change of the cluster."""
    text = json.dumps(sorted(json.dumps(o, sort_keys=True) for o in objs))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_protected_namespaces(value: str, kubefed_namespace: str) -> list[str]:
    """``--protect-namespaces a,b``; the KubeFed namespace cannot be protected (the member
    identity renews its token there)."""
    out = sorted({part.strip() for part in value.split(",") if part.strip()})
    if kubefed_namespace in out:
        raise ValueError(
            f"--protect-namespaces: {kubefed_namespace} is the KubeFed namespace; it cannot be protected"
        )
    return out


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    issued_at: float | None
    expires_at: float | None

    @property
    def bound(self) -> bool:
        """Bound (TokenRequest) tokens expire; legacy Secret tokens never do."""
        return self.expires_at is not None

    @property
    def lifetime(self) -> float | None:
        if self.expires_at is None or self.issued_at is None:
            return None
        return self.expires_at - self.issued_at

    def service_account(self) -> tuple[str, str] | None:
        """(namespace, name) of a ``system:serviceaccount:NS:NAME`` subject."""
        parts = self.subject.split(":")
        if len(parts) == 4 and parts[:2] == ["system", "serviceaccount"] and parts[2] and parts[3]:
            return parts[2], parts[3]
        return None

    def refresh_at(self, after: float | None = None) -> float | None:
        """When to renew: at two thirds of the lifetime (``after`` seconds after issue, if given)."""
        if self.expires_at is None:
            return None
        if self.issued_at is None:
            return self.expires_at - MIN_TOKEN_SECONDS / 3
        if after is not None:
            return min(self.issued_at + after, self.expires_at)
        return self.issued_at + (self.expires_at - self.issued_at) * 2 / 3


def token_claims(token: str) -> TokenClaims | None:
    """The (unverified) claims of a JWT; None for anything that is not one."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(claims, dict):
        return None

    def number(key: str) -> float | None:
        value = claims.get(key)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    return TokenClaims(str(claims.get("sub") or ""), number("iat"), number("exp"))
