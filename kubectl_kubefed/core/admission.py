"""KubeFed's admission webhooks as CRD schema data: what its validating webhook refused and
what its mutating webhook defaulted, enforced by the API server itself (OpenAPI enums,
patterns, minimums and defaults, CEL ``x-kubernetes-validations``), so no webhook server runs.

Rules follow KubeFed v0.10.0's ``pkg/apis/core/v1beta1/validation`` and ``.../defaults``;
each message names the field. Strings a CEL rule reads carry a ``maxLength`` so the API
server can bound the rule's cost.
"""

from __future__ import annotations

from typing import Any, Final

from kubectl_kubefed.api import names

# Kubernetes name rules (k8s.io/apimachinery/pkg/util/validation).
DNS1123_SUBDOMAIN: Final = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DNS1035_LABEL: Final = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
# A kind is valid when its lower-case spelling is a DNS-1035 label.
KIND: Final = r"^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$"
# Go's time.ParseDuration syntax (metav1.Duration).
GO_DURATION: Final = r"^([-+]?0|[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"

FEATURE_GATES: Final = {
    "PushReconciler": True,
    "RawResourceStatusCollection": False,
    "SchedulerPreferences": True,
}
ENABLED_DISABLED: Final = ["Enabled", "Disabled"]
SCOPES: Final = [names.SCOPE_CLUSTER, names.SCOPE_NAMESPACED]
TLS_VALIDATIONS: Final = ["*", "SubjectName", "ValidityPeriod"]
CONDITION_TYPES: Final = ["Ready", "Offline", "ConfigMalformed"]

# The defaults of KubeFed's mutating webhook (SetDefaultKubeFedConfig), as metav1.Duration
# prints them.
DEFAULT_FEATURE_GATES: Final = [
    {"name": gate, "configuration": "Enabled" if on else "Disabled"}
    for gate, on in sorted(FEATURE_GATES.items())
]

_STR: Final[dict[str, Any]] = {"type": "string"}
_INT64: Final[dict[str, Any]] = {"type": "integer", "format": "int64"}


def _rule(rule: str, message: str, **extra: str) -> dict[str, Any]:
    return {"rule": rule, "message": message, **extra}


def _enum(values: list[str], default: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": list(values)}
    if default is not None:
        schema["default"] = default
    return schema


def _name(pattern: str, max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length, "pattern": pattern}


def _duration(default: str) -> dict[str, Any]:
    return {
        "type": "string",
        "maxLength": 64,
        "pattern": GO_DURATION,
        "default": default,
        "x-kubernetes-validations": [_rule("duration(self) > duration('0s')", "should be greater than 0")],
    }


def _count(default: int) -> dict[str, Any]:
    return {**_INT64, "minimum": 1, "default": default}


def _object(props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, **extra}


# --- KubeFedCluster ----------------------------------------------------------------------

# client-go's DefaultServerURL, as KubeFed's webhook used it: a value with a scheme and a
# host is a URL (any path); anything else is a host[:port] that gets https:// in front.
_URL_FORM: Final = r"^[A-Za-z][-A-Za-z0-9+.]*://[^/?#]"
_PORT: Final = r"0*([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
# userinfo@, host or [IPv6], then an optional port (empty after ':' means none), then the rest.
_AUTHORITY: Final = r"([^/?#@]*@)?(\[[^/?#\]]*\]|[^/?#:\[\]]*)(:(" + _PORT + r")?)?([/?#].*)?$"

API_ENDPOINT: Final[dict[str, Any]] = {
    "type": "string",
    "minLength": 1,
    "maxLength": 2048,
    "x-kubernetes-validations": [
        _rule(
            f"!self.matches(r'{_URL_FORM}') || self.matches(r'^(?i:https?)://')",
            "the scheme must be http or https",
        ),
        _rule(
            f"self.matches(r'{_URL_FORM}') || self.matches(r'^[^/?#]*/?([?#].*)?$')",
            "must be a URL or a host:port pair",
        ),
        _rule(
            f"self.matches(r'{_URL_FORM}') ? self.matches(r'^[A-Za-z][-A-Za-z0-9+.]*://{_AUTHORITY}')"
            f" : self.matches(r'^{_AUTHORITY}')",
            "the port must be a number between 1 and 65535, inclusive",
        ),
    ],
}

KUBEFED_CLUSTER_SPEC: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["apiEndpoint"],
    # Ours: a pull cluster (syncMode Pull) has no secretRef, the host holds no credential.
    "x-kubernetes-validations": [
        {
            "rule": "(has(self.syncMode) && self.syncMode == 'Pull') || has(self.secretRef)",
            "message": "secretRef is required unless syncMode is Pull",
            "reason": "FieldValueRequired",
            "fieldPath": ".secretRef",
        }
    ],
    "properties": {
        "apiEndpoint": API_ENDPOINT,
        "syncMode": {"type": "string", "enum": ["Push", "Pull"]},
        "caBundle": {"type": "string", "format": "byte"},
        "secretRef": _object({"name": _name(DNS1123_SUBDOMAIN, 253)}, required=["name"]),
        "disabledTLSValidations": {
            "type": "array",
            "maxItems": 16,
            "items": _enum(TLS_VALIDATIONS),
            "x-kubernetes-validations": [
                _rule(
                    "!('*' in self) || size(self) == 1",
                    "when * is specified, it is expected to be the only option in list",
                )
            ],
        },
        "proxyURL": {
            "type": "string",
            "maxLength": 2048,
            "x-kubernetes-validations": [
                _rule(
                    "self == '' || self.matches(r'^(?i:https?|socks5):')",
                    "proxy URL scheme must be one of: [http, https, socks5]",
                )
            ],
        },
    },
    "x-kubernetes-preserve-unknown-fields": True,
}

KUBEFED_CLUSTER_STATUS: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "conditions": {
            "type": "array",
            "items": _object(
                {
                    "type": _enum(CONDITION_TYPES),
                    "status": _enum(["True", "False", "Unknown"]),
                    "lastProbeTime": {"type": "string", "format": "date-time"},
                    "lastTransitionTime": {"type": "string", "format": "date-time"},
                    "reason": _STR,
                    "message": _STR,
                },
                required=["type", "status", "lastProbeTime"],
            ),
        },
        "kubernetesVersion": _STR,
    },
    "x-kubernetes-preserve-unknown-fields": True,
}

# --- FederatedTypeConfig -----------------------------------------------------------------


def _api_resource(*, federated: bool) -> dict[str, Any]:
    # A target type's group may be empty (the core group); a federated type's may not.
    group = _name(DNS1123_SUBDOMAIN if federated else f"^({DNS1123_SUBDOMAIN[1:-1]})?$", 253)
    if federated:
        group = {
            **group,
            "x-kubernetes-validations": [
                _rule("self.contains('.')", "should be a domain with at least one dot")
            ],
        }
    return _object(
        {
            "group": group,
            "version": _name(DNS1035_LABEL, 63),
            "kind": _name(KIND, 63),
            "pluralName": _name(DNS1035_LABEL, 63),
            "scope": _enum(SCOPES),
        },
        required=["version", "kind", "pluralName", "scope", *(["group"] if federated else [])],
    )


_TARGET: Final = "self.spec.targetType"
_FTC_NAME: Final = (
    f"{_TARGET}.pluralName + (has({_TARGET}.group) && {_TARGET}.group != '' ? '.' + {_TARGET}.group : '')"
)

# metadata.name must be TARGET_PLURAL_NAME(.TARGET_GROUP_NAME): one object, two fields.
FTC_RULES: Final[list[dict[str, Any]]] = [
    {
        "rule": (
            f"!has(self.spec) || !has({_TARGET}) || !has({_TARGET}.pluralName)"
            f" || self.metadata.name == {_FTC_NAME}"
        ),
        "fieldPath": ".metadata.name",
        "messageExpression": (
            "'metadata.name must be TARGET_PLURAL_NAME(.TARGET_GROUP_NAME), here ' + " + _FTC_NAME
        ),
    }
]

FTC_SPEC: Final[dict[str, Any]] = _object(
    {
        "targetType": _api_resource(federated=False),
        "propagation": _enum(ENABLED_DISABLED),
        "federatedType": _api_resource(federated=True),
        "statusType": _api_resource(federated=True),
        "statusCollection": _enum(ENABLED_DISABLED),
    },
    required=["targetType", "propagation", "federatedType"],
    **{"x-kubernetes-preserve-unknown-fields": True},
)

FTC_STATUS: Final[dict[str, Any]] = _object(
    {
        "observedGeneration": {**_INT64, "minimum": 0},
        "propagationController": _enum(["Running", "NotRunning"]),
        "statusController": _enum(["Running", "NotRunning"]),
    },
    required=["propagationController"],
    **{"x-kubernetes-preserve-unknown-fields": True},
)

# --- KubeFedConfig -----------------------------------------------------------------------

_LEADER_ELECT_RULES: Final = [
    _rule(
        "!has(self.leaseDuration) || !has(self.renewDeadline)"
        " || duration(self.leaseDuration) > duration(self.renewDeadline)",
        "leaseDuration must be greater than renewDeadline",
        fieldPath=".leaseDuration",
    ),
    _rule(
        "!has(self.renewDeadline) || !has(self.retryPeriod)"
        " || duration(self.renewDeadline).getMilliseconds() * 5"
        " > duration(self.retryPeriod).getMilliseconds() * 6",
        "renewDeadline must be greater than retryPeriod*JitterFactor(1.2)",
        fieldPath=".renewDeadline",
    ),
]

KUBEFED_CONFIG_SPEC: Final[dict[str, Any]] = _object(
    {
        "scope": {
            **_enum(SCOPES),
            "x-kubernetes-validations": [_rule("self == oldSelf", "field is immutable")],
        },
        "controllerDuration": _object(
            {
                "availableDelay": _duration("20s"),
                "unavailableDelay": _duration("1m0s"),
                "cacheSyncTimeout": _duration("5m0s"),
            },
            default={},
        ),
        "leaderElect": _object(
            {
                "leaseDuration": _duration("15s"),
                "renewDeadline": _duration("10s"),
                "retryPeriod": _duration("5s"),
                "resourceLock": _enum(["configmaps", "endpoints"], "configmaps"),
            },
            default={},
            **{"x-kubernetes-validations": _LEADER_ELECT_RULES},
        ),
        "featureGates": {
            "type": "array",
            "default": DEFAULT_FEATURE_GATES,
            # Gate names are unique: the API server refuses a duplicate name.
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": _object(
                {"name": _enum(sorted(FEATURE_GATES)), "configuration": _enum(ENABLED_DISABLED)},
                required=["name", "configuration"],
            ),
        },
        "clusterHealthCheck": _object(
            {
                "period": _duration("10s"),
                "timeout": _duration("3s"),
                "failureThreshold": _count(3),
                "successThreshold": _count(1),
            },
            default={},
        ),
        "syncController": _object(
            {"maxConcurrentReconciles": _count(1), "adoptResources": _enum(ENABLED_DISABLED, "Enabled")},
            default={},
        ),
        "statusController": _object({"maxConcurrentReconciles": _count(1)}, default={}),
    },
    required=["scope"],
    **{"x-kubernetes-preserve-unknown-fields": True},
)

# --- What OpenAPI defaults cannot do ------------------------------------------------------

MUTATING_POLICY_KIND: Final = "MutatingAdmissionPolicy"
MUTATING_POLICY_VERSIONS: Final = ("admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1")
FEATURE_GATE_POLICY: Final = "kubefedconfig-feature-gates.core.kubefed.io"


def _cel_list(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def feature_gate_policy(api_version: str) -> list[dict[str, Any]]:
    """KubeFed's webhook completed a partial ``featureGates`` list with the missing gates
    at their defaults and sorted it by name; an OpenAPI default only fills an absent list.
    This MutatingAdmissionPolicy (and its binding) does the rest where the API server has
    the API. A list with an unknown, unnamed or repeated gate is left for validation to refuse."""
    gates = sorted(FEATURE_GATES)
    known = _cel_list(gates)
    defaults = "{" + ", ".join(f"'{g['name']}': '{g['configuration']}'" for g in DEFAULT_FEATURE_GATES) + "}"
    gate_list = "object.spec.featureGates"
    condition = (
        f"has(object.spec) && has({gate_list}) && {gate_list}.all(g, has(g.name) && has(g.configuration)"
        f" && g.name in {known}) && {known}.all(n, {gate_list}.filter(g, g.name == n).size() <= 1)"
    )
    # Plain maps, not Object.spec.featureGates{...}: a list of typed objects makes
    # kube-apiserver 1.34 panic while converting the patch.
    patch = (
        f"[JSONPatch{{op: 'replace', path: '/spec/featureGates', value: {known}.map(n, {{'name': n,"
        f" 'configuration': {gate_list}.exists(g, g.name == n)"
        f" ? string({gate_list}.filter(g, g.name == n)[0].configuration) : {defaults}[n]}})}}]"
    )
    policy = {
        "apiVersion": api_version,
        "kind": MUTATING_POLICY_KIND,
        "metadata": {"name": FEATURE_GATE_POLICY},
        "spec": {
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [names.CORE_GROUP],
                        "apiVersions": [names.CORE_VERSION],
                        "operations": ["CREATE", "UPDATE"],
                        "resources": ["kubefedconfigs"],
                    }
                ]
            },
            "matchConditions": [{"name": "known-unique-gates", "expression": condition}],
            "failurePolicy": "Fail",
            "reinvocationPolicy": "Never",
            "mutations": [{"patchType": "JSONPatch", "jsonPatch": {"expression": patch}}],
        },
    }
    binding = {
        "apiVersion": api_version,
        "kind": MUTATING_POLICY_KIND + "Binding",
        "metadata": {"name": FEATURE_GATE_POLICY},
        "spec": {"policyName": FEATURE_GATE_POLICY},
    }
    return [policy, binding]
