"""The admission KubeFed's webhooks did, as the CRDs ``init`` installs (core.admission):
structure, KubeFed's defaults, and the patterns against Kubernetes' own name rules.
What the API server makes of it is in tests/e2e/test_admission_e2e.py."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubectl_kubefed.api import validation as v
from kubectl_kubefed.core import admission as adm
from kubectl_kubefed.core import crds
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube import controlplane
from kubectl_kubefed.sync.errors import NotFound
from kubectl_kubefed.sync.settings import Settings, kubefed_config_object


def _crd(kind: str) -> dict[str, Any]:
    return next(c for c in crds.kubefed_crds() if c["spec"]["names"]["kind"] == kind)


def _root(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = _crd(kind)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


def _walk(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.{name}")
    if "items" in schema:
        yield from _walk(schema["items"], f"{path}[]")


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """OpenAPI defaulting as the API server does it: a missing property with a default gets
    it, then defaulting goes on inside (so ``default: {}`` fills the nested defaults)."""
    if isinstance(value, dict) and schema.get("type") == "object":
        for name, sub in (schema.get("properties") or {}).items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                value[name] = apply_defaults(sub, value[name])
    elif isinstance(value, list) and "items" in schema:
        return [apply_defaults(schema["items"], item) for item in value]
    return value


def _defaulted(spec: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = apply_defaults(_root("KubeFedConfig")["properties"]["spec"], copy.deepcopy(spec))
    return result


# KubeFed v0.10.0's SetDefaultKubeFedConfig applied to {scope: Cluster}, as JSON.
KUBEFED_DEFAULTED: dict[str, Any] = {
    "scope": "Cluster",
    "controllerDuration": {"availableDelay": "20s", "unavailableDelay": "1m0s", "cacheSyncTimeout": "5m0s"},
    "leaderElect": {
        "leaseDuration": "15s",
        "renewDeadline": "10s",
        "retryPeriod": "5s",
        "resourceLock": "configmaps",
    },
    "featureGates": [
        {"name": "PushReconciler", "configuration": "Enabled"},
        {"name": "RawResourceStatusCollection", "configuration": "Disabled"},
        {"name": "SchedulerPreferences", "configuration": "Enabled"},
    ],
    "clusterHealthCheck": {"period": "10s", "timeout": "3s", "failureThreshold": 3, "successThreshold": 1},
    "syncController": {"maxConcurrentReconciles": 1, "adoptResources": "Enabled"},
    "statusController": {"maxConcurrentReconciles": 1},
}


def test_kubefedconfig_with_only_scope_defaults_as_kubefeds_webhook() -> None:
    assert _defaulted({"scope": "Cluster"}) == KUBEFED_DEFAULTED


def test_defaults_keep_what_the_user_set() -> None:
    """KubeFed's e2e defaulting case: values set by the user survive defaulting."""
    spec = {
        "scope": "Cluster",
        "controllerDuration": {"availableDelay": "31s"},
        "clusterHealthCheck": {"period": "21s"},
        "featureGates": [{"name": "PushReconciler", "configuration": "Disabled"}],
    }
    got = _defaulted(spec)
    assert got["controllerDuration"] == {**KUBEFED_DEFAULTED["controllerDuration"], "availableDelay": "31s"}
    assert got["clusterHealthCheck"] == {**KUBEFED_DEFAULTED["clusterHealthCheck"], "period": "21s"}
    assert got["featureGates"] == spec["featureGates"]
    assert got["leaderElect"] == KUBEFED_DEFAULTED["leaderElect"]


def test_scope_is_required_enumerated_and_immutable() -> None:
    spec = _root("KubeFedConfig")["properties"]["spec"]
    assert spec["required"] == ["scope"]
    assert spec["properties"]["scope"]["enum"] == ["Cluster", "Namespaced"]
    assert spec["properties"]["scope"]["x-kubernetes-validations"] == [
        {"rule": "self == oldSelf", "message": "field is immutable"}
    ]


def test_feature_gate_names_are_unique_and_known() -> None:
    gates = _root("KubeFedConfig")["properties"]["spec"]["properties"]["featureGates"]
    assert gates["x-kubernetes-list-type"] == "map"
    assert gates["x-kubernetes-list-map-keys"] == ["name"]
    assert gates["items"]["properties"]["name"]["enum"] == sorted(adm.FEATURE_GATES)


def test_every_duration_and_count_is_checked_to_be_positive() -> None:
    spec = _root("KubeFedConfig")["properties"]["spec"]
    durations = [p for p, s in _walk(spec) if s.get("pattern") == adm.GO_DURATION]
    assert sorted(durations) == sorted(
        [
            ".controllerDuration.availableDelay",
            ".controllerDuration.unavailableDelay",
            ".controllerDuration.cacheSyncTimeout",
            ".leaderElect.leaseDuration",
            ".leaderElect.renewDeadline",
            ".leaderElect.retryPeriod",
            ".clusterHealthCheck.period",
            ".clusterHealthCheck.timeout",
        ]
    )
    counts = [p for p, s in _walk(spec) if s.get("minimum") == 1]
    assert sorted(counts) == sorted(
        [
            ".clusterHealthCheck.failureThreshold",
            ".clusterHealthCheck.successThreshold",
            ".syncController.maxConcurrentReconciles",
            ".statusController.maxConcurrentReconciles",
        ]
    )


@pytest.mark.parametrize(
    "value", ["20s", "1m0s", "5m0s", "1h2m3.5s", "500ms", "1.5h", "0", "+3s", "-1s", "2us"]
)
def test_go_durations_match(value: str) -> None:
    assert re.fullmatch(adm.GO_DURATION, value)


@pytest.mark.parametrize("value", ["", "20", "s", "1d", "soon", "1 s", "1m 2s", "--1s", "P1D"])
def test_non_durations_do_not_match(value: str) -> None:
    assert not re.fullmatch(adm.GO_DURATION, value)


def _patterns(kind: str) -> dict[str, str]:
    return {p: s["pattern"] for p, s in _walk(_root(kind)) if "pattern" in s}


@given(st.text(alphabet="abzAZ09-._", max_size=70))
def test_name_patterns_agree_with_kubernetes_name_rules(name: str) -> None:
    ftc = _patterns("FederatedTypeConfig")
    assert bool(re.fullmatch(ftc[".spec.federatedType.version"], name)) == (v.dns1035_label(name) is None)
    assert bool(re.fullmatch(ftc[".spec.federatedType.pluralName"], name)) == (v.dns1035_label(name) is None)
    subdomain = _patterns("KubeFedCluster")[".spec.secretRef.name"]
    assert (bool(re.fullmatch(subdomain, name)) and len(name) <= 253) == (v.dns1123_subdomain(name) is None)
    target_group = ftc[".spec.targetType.group"]
    assert bool(re.fullmatch(target_group, name)) == (name == "" or v.dns1123_subdomain(name) is None)


def test_federated_type_needs_a_group_with_a_dot_target_type_does_not() -> None:
    spec = _root("FederatedTypeConfig")["properties"]["spec"]
    federated = spec["properties"]["federatedType"]
    assert "group" in federated["required"]
    assert federated["properties"]["group"]["x-kubernetes-validations"][0]["rule"] == "self.contains('.')"
    assert "group" not in spec["properties"]["targetType"]["required"]
    assert spec["properties"]["propagation"]["enum"] == ["Enabled", "Disabled"]
    assert spec["required"] == ["targetType", "propagation", "federatedType"]


def test_ftc_name_rule_spans_name_and_target_type() -> None:
    root = _root("FederatedTypeConfig")
    (rule,) = root["x-kubernetes-validations"]
    assert rule["fieldPath"] == ".metadata.name"
    assert "self.metadata.name ==" in rule["rule"]
    assert root["properties"]["metadata"] == {"type": "object", "properties": {"name": {"type": "string"}}}


def test_cluster_spec_rules() -> None:
    spec = _root("KubeFedCluster")["properties"]["spec"]
    # secretRef is required unless the cluster is in pull mode (the host then holds no credential).
    assert spec["required"] == ["apiEndpoint"]
    (rule,) = spec["x-kubernetes-validations"]
    assert "has(self.secretRef)" in rule["rule"] and "'Pull'" in rule["rule"]
    assert spec["properties"]["syncMode"]["enum"] == ["Push", "Pull"]
    assert spec["properties"]["apiEndpoint"]["minLength"] == 1
    assert len(spec["properties"]["apiEndpoint"]["x-kubernetes-validations"]) == 3
    assert spec["properties"]["disabledTLSValidations"]["items"]["enum"] == [
        "*",
        "SubjectName",
        "ValidityPeriod",
    ]
    assert spec["properties"]["caBundle"]["format"] == "byte"
    conditions = _root("KubeFedCluster")["properties"]["status"]["properties"]["conditions"]["items"]
    assert conditions["required"] == ["type", "status", "lastProbeTime"]
    assert conditions["properties"]["type"]["enum"] == ["Ready", "Offline", "ConfigMalformed"]


def test_every_string_a_cel_rule_reads_is_bounded() -> None:
    """The API server refuses a CRD whose CEL cost it cannot bound."""
    for kind in ("KubeFedCluster", "FederatedTypeConfig", "KubeFedConfig"):
        for path, schema in _walk(_root(kind)):
            if schema.get("x-kubernetes-validations") and schema.get("type") == "string":
                assert "maxLength" in schema or "enum" in schema, f"{kind}{path}"
            if schema.get("x-kubernetes-validations") and schema.get("type") == "array":
                assert "maxItems" in schema or schema.get("x-kubernetes-list-type"), f"{kind}{path}"


def test_objects_init_writes_satisfy_the_schema_patterns() -> None:
    spec = kubefed_config_object(Settings())["spec"]
    assert set(spec) == set(KUBEFED_DEFAULTED)
    for section in ("controllerDuration", "leaderElect", "clusterHealthCheck"):
        for key, value in spec[section].items():
            if key.endswith(("Delay", "Timeout", "Duration", "Deadline", "Period")) or key in (
                "period",
                "timeout",
            ):
                assert re.fullmatch(adm.GO_DURATION, value), (section, key, value)
    ftc_patterns = _patterns("FederatedTypeConfig")
    for name in tc.DEFAULT_ENABLED:
        obj = tc.type_config_object(tc.lookup(name))
        target = obj["spec"]["targetType"]
        assert obj["metadata"]["name"] == target["pluralName"] + (
            "." + target["group"] if target.get("group") else ""
        )
        for side in ("targetType", "federatedType"):
            for key in ("version", "kind", "pluralName"):
                assert re.fullmatch(ftc_patterns[f".spec.{side}.{key}"], obj["spec"][side][key])
        assert "." in obj["spec"]["federatedType"]["group"]


def test_feature_gate_policy_admits_only_kubefedconfig_writes() -> None:
    policy, binding = adm.feature_gate_policy("admissionregistration.k8s.io/v1")
    (rule,) = policy["spec"]["matchConstraints"]["resourceRules"]
    assert rule == {
        "apiGroups": ["core.kubefed.io"],
        "apiVersions": ["v1beta1"],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["kubefedconfigs"],
    }
    assert binding["spec"]["policyName"] == policy["metadata"]["name"] == adm.FEATURE_GATE_POLICY
    patch = policy["spec"]["mutations"][0]["jsonPatch"]["expression"]
    for gate in adm.DEFAULT_FEATURE_GATES:
        assert f"'{gate['name']}': '{gate['configuration']}'" in patch
    # an unknown, unnamed or repeated gate is not rewritten (validation refuses it)
    condition = policy["spec"]["matchConditions"][0]["expression"]
    assert "has(g.name) && has(g.configuration)" in condition and "size() <= 1" in condition


class _Discovery:
    def __init__(self, served: set[str]) -> None:
        self.served = served

    def resource(self, api_version: str, kind: str) -> object:
        if f"{api_version}/{kind}" not in self.served:
            raise NotFound(f"the server does not serve {kind} in {api_version}")
        return object()


class _Host:
    def __init__(self, *served: str) -> None:
        self.discovery = _Discovery({f"{v}/{adm.MUTATING_POLICY_KIND}" for v in served})


@pytest.mark.parametrize(
    ("served", "expected"),
    [
        (
            ("admissionregistration.k8s.io/v1", "admissionregistration.k8s.io/v1beta1"),
            "admissionregistration.k8s.io/v1",
        ),
        (("admissionregistration.k8s.io/v1beta1",), "admissionregistration.k8s.io/v1beta1"),
        ((), None),
    ],
)
def test_init_installs_the_policy_in_the_newest_served_version(
    served: tuple[str, ...], expected: str | None
) -> None:
    objs = controlplane.admission_policies(_Host(*served))  # type: ignore[arg-type]
    assert [o["apiVersion"] for o in objs] == ([expected, expected] if expected else [])


def test_callers_get_their_own_copies() -> None:
    first = crds.kubefed_crds()
    schemas = [s for c in first for _, s in _walk(c["spec"]["versions"][0]["schema"]["openAPIV3Schema"])]
    for schema in schemas:
        schema["type"] = "changed"
    assert _root("KubeFedCluster")["properties"]["spec"]["type"] == "object"
    assert adm.KUBEFED_CLUSTER_SPEC["type"] == "object"
