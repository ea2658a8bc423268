"""KubeFed's admission webhooks, done by the API server itself with the CRDs ``init``
installed (docs/deviations.md, "Admission without a webhook"): KubeFed's own e2e
validation and defaulting cases, then one case per rule of its validation.go, each refused
with a message that names the field. Objects go to a scratch namespace the controller does
not watch (the rules apply in every namespace)."""

from __future__ import annotations

import copy
import secrets
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import admission
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube import controlplane
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import client_for_context
from kubectl_kubefed.sync.errors import Invalid, NotFound
from tests.e2e import testbed
from tests.e2e.conftest import Plane, kubefed
from tests.unit.test_admission_schema import KUBEFED_DEFAULTED

pytestmark = pytest.mark.e2e

CORE = names.CORE_API_VERSION
SYSTEM_NS = names.DEFAULT_KUBEFED_NAMESPACE
PLURAL = {"KubeFedCluster": "kubefedclusters", "FederatedTypeConfig": "federatedtypeconfigs"}
PLURAL["KubeFedConfig"] = "kubefedconfigs"
Obj = dict[str, Any]


@pytest.fixture
def scratch(plane: Plane) -> Iterator[str]:
    name = f"adm-{secrets.token_hex(3)}"
    plane.host.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    plane.host.delete("v1", "Namespace", "", name)


def _path(obj: Obj, *, name: bool = False) -> str:
    ns = obj["metadata"]["namespace"]
    path = f"/apis/{CORE}/namespaces/{ns}/{PLURAL[obj['kind']]}"
    return f"{path}/{obj['metadata']['name']}" if name else path


def dry_run(plane: Plane | KubeClusterClient, obj: Obj) -> Obj:
    """Create with ``dryRun=All``: admitted, defaulted and validated, but not stored."""
    host = plane.host if isinstance(plane, Plane) else plane
    created: Obj = controlplane.once_admitted(
        lambda: host.rest.request("create", "POST", _path(obj), query={"dryRun": "All"}, body=obj)
    )
    return created


def merge_patch(plane: Plane, obj: Obj, patch: Obj) -> Obj:
    patched: Obj = plane.host.rest.request(
        "patch", "PATCH", _path(obj, name=True), body=patch, content_type="application/merge-patch+json"
    )
    return patched


def refused(call: Callable[[], object], *expected: str) -> str:
    with pytest.raises(Invalid) as err:
        call()
    message = str(err.value)
    for text in expected:
        assert text in message, message
    return message


def obj(kind: str, ns: str, name: str, spec: Obj) -> Obj:
    return {"apiVersion": CORE, "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}


# KubeFed's test/common ValidKubeFedCluster and ValidKubeFedConfig, and the FTC
# `enable` generates for apps/v1 DaemonSet (test/e2e/validation.go).
def valid_cluster(ns: str, name: str = "validation-test-cluster") -> Obj:
    spec = {
        "apiEndpoint": "https://my.example.com:80/path/to/endpoint",
        "secretRef": {"name": "validation-unit-test-cluster-pw97k"},
    }
    return obj("KubeFedCluster", ns, name, spec)


def valid_ftc(ns: str) -> Obj:
    return tc.type_config_object(tc.lookup("daemonsets.apps"), ns)


def valid_config(ns: str, name: str = "kubefed-x7k2p") -> Obj:
    return obj("KubeFedConfig", ns, name, copy.deepcopy(KUBEFED_DEFAULTED))


def _no_federated_group(o: Obj) -> None:
    del o["spec"]["federatedType"]["group"]


def _empty_endpoint(o: Obj) -> None:
    o["spec"]["apiEndpoint"] = ""


def _unknown_adoption(o: Obj) -> None:
    o["spec"]["syncController"]["adoptResources"] = "Unknown"


UPSTREAM: dict[str, tuple[Callable[[str], Obj], Callable[[Obj], None], Obj, str]] = {
    "FederatedTypeConfig": (
        valid_ftc,
        _no_federated_group,
        {"spec": {"federatedType": {"group": None}}},
        "spec.federatedType.group: Required value",
    ),
    "KubeFedCluster": (valid_cluster, _empty_endpoint, {"spec": {"apiEndpoint": ""}}, "spec.apiEndpoint"),
    "KubeFedConfig": (
        valid_config,
        _unknown_adoption,
        {"spec": {"syncController": {"adoptResources": "Unknown"}}},
        'spec.syncController.adoptResources: Unsupported value: "Unknown"',
    ),
}


@pytest.mark.parametrize("kind", sorted(UPSTREAM))
def test_invalid_object_is_refused_on_create_update_and_patch(plane: Plane, scratch: str, kind: str) -> None:
    """KubeFed's e2e "Core API Validation": for KubeFedCluster, FederatedTypeConfig and
    KubeFedConfig, an invalid create, update and patch fail; the valid object is created."""
    make, invalidate, patch, field = UPSTREAM[kind]
    invalid = make(scratch)
    invalidate(invalid)
    refused(lambda: plane.host.create(invalid), field)
    valid = plane.host.create(make(scratch))
    invalid = copy.deepcopy(valid)
    invalidate(invalid)
    refused(lambda: plane.host.update(invalid), field)
    refused(lambda: merge_patch(plane, valid, patch), field)
    assert plane.host.get(CORE, kind, scratch, valid["metadata"]["name"])["spec"] == valid["spec"]


def test_kubefedconfig_is_defaulted_like_kubefeds_webhook(plane: Plane, scratch: str) -> None:
    """KubeFed's e2e "Default": values the user set stay, the rest is SetDefaultKubeFedConfig."""
    only_scope = dry_run(plane, obj("KubeFedConfig", scratch, "kubefed", {"scope": "Cluster"}))
    assert only_scope["spec"] == KUBEFED_DEFAULTED
    spec = {
        "scope": "Cluster",
        "controllerDuration": {"availableDelay": "31s"},
        "clusterHealthCheck": {"period": "21s"},
    }
    got = dry_run(plane, obj("KubeFedConfig", scratch, "kubefed", spec))["spec"]
    expected = copy.deepcopy(KUBEFED_DEFAULTED)
    expected["controllerDuration"]["availableDelay"] = "31s"
    expected["clusterHealthCheck"]["period"] = "21s"
    assert got == expected


# One case per rule of KubeFed's validation.go: (change to the valid spec, texts the
# refusal must contain: the field, then what is wrong).
CLUSTER_REFUSED: list[tuple[Obj, tuple[str, ...]]] = [
    ({"apiEndpoint": "ftp://x.example.com"}, ("spec.apiEndpoint", "scheme must be http or https")),
    ({"apiEndpoint": "x.example.com/path"}, ("spec.apiEndpoint", "must be a URL or a host:port pair")),
    ({"apiEndpoint": "x.example.com:0"}, ("spec.apiEndpoint", "between 1 and 65535")),
    ({"apiEndpoint": "https://x.example.com:70000/api"}, ("spec.apiEndpoint", "between 1 and 65535")),
    ({"apiEndpoint": "x.example.com:https"}, ("spec.apiEndpoint", "between 1 and 65535")),
    ({"secretRef": None}, ("spec.secretRef: Required value",)),
    ({"secretRef": None, "syncMode": "Push"}, ("spec.secretRef: Required value",)),
    ({"syncMode": "Sideways"}, ("spec.syncMode", "Unsupported value")),
    ({"secretRef": {"name": ""}}, ("spec.secretRef.name",)),
    ({"secretRef": {"name": "Bad_Name"}}, ("spec.secretRef.name",)),
    ({"caBundle": "not base64!"}, ("spec.caBundle",)),
    ({"disabledTLSValidations": ["*", "SubjectName"]}, ("spec.disabledTLSValidations", "only option")),
    ({"disabledTLSValidations": ["Everything"]}, ("spec.disabledTLSValidations[0]", "Unsupported value")),
    ({"proxyURL": "ftp://proxy:21"}, ("spec.proxyURL", "http, https, socks5")),
    ({"proxyURL": "proxy:3128"}, ("spec.proxyURL", "http, https, socks5")),
]

CLUSTER_ACCEPTED: list[Obj] = [
    {"apiEndpoint": "127.0.0.1:6443"},
    {"apiEndpoint": "my.host"},
    {"apiEndpoint": "my.host/"},
    {"apiEndpoint": "https://[::1]:6443"},
    {"apiEndpoint": "HTTP://x.example.com:"},
    {"apiEndpoint": "https://u:p@x.example.com:0443/prefix?q=1"},
    {"caBundle": "aGVsbG8=", "disabledTLSValidations": ["SubjectName", "ValidityPeriod"]},
    {"disabledTLSValidations": ["*"], "proxyURL": "socks5://proxy:1080"},
    {"proxyURL": ""},
    {"syncMode": "Push"},
    {"syncMode": "Pull", "secretRef": None},  # pull mode: the host holds no credential
]


def _with(base: Obj, change: Obj) -> Obj:
    spec = copy.deepcopy(base)
    for key, value in change.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return spec


@pytest.mark.parametrize(("change", "expected"), CLUSTER_REFUSED)
def test_invalid_kubefedcluster_is_refused(
    plane: Plane, scratch: str, change: Obj, expected: tuple[str]
) -> None:
    base = valid_cluster(scratch)
    refused(lambda: dry_run(plane, {**base, "spec": _with(base["spec"], change)}), *expected)


@pytest.mark.parametrize("change", CLUSTER_ACCEPTED)
def test_valid_kubefedcluster_is_accepted(plane: Plane, scratch: str, change: Obj) -> None:
    base = valid_cluster(scratch)
    assert dry_run(plane, {**base, "spec": _with(base["spec"], change)})["spec"] == _with(
        base["spec"], change
    )


def _ftc_with(ns: str, path: str, value: Any, name: str = "daemonsets.apps") -> Obj:
    o = valid_ftc(ns)
    o["metadata"]["name"] = name
    *parents, leaf = path.split(".")
    target = o["spec"]
    for key in parents:
        target = target.setdefault(key, {})
    if value is None:
        target.pop(leaf, None)
    else:
        target[leaf] = value
    return o


FTC_REFUSED: list[tuple[str, Any, tuple[str, ...]]] = [
    ("propagation", "Maybe", ('spec.propagation: Unsupported value: "Maybe"',)),
    ("propagation", None, ("spec.propagation: Required value",)),
    ("federatedType.group", "types", ("spec.federatedType.group", "at least one dot")),
    ("federatedType.scope", "Global", ("spec.federatedType.scope",)),
    ("targetType.version", "V1", ("spec.targetType.version",)),
    ("targetType.version", None, ("spec.targetType.version: Required value",)),
    ("targetType.kind", "Daemon_Set", ("spec.targetType.kind",)),
    ("targetType.pluralName", None, ("spec.targetType.pluralName: Required value",)),
    ("targetType.group", "Apps", ("spec.targetType.group",)),
    ("statusCollection", "Sometimes", ("spec.statusCollection",)),
    (
        "statusType",
        {"version": "v1", "kind": "S", "pluralName": "s", "scope": "Namespaced"},
        ("spec.statusType.group",),
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), FTC_REFUSED)
def test_invalid_federatedtypeconfig_is_refused(
    plane: Plane, scratch: str, path: str, value: Any, expected: tuple[str]
) -> None:
    refused(lambda: dry_run(plane, _ftc_with(scratch, path, value)), *expected)


def test_federatedtypeconfig_name_must_match_its_target_type(plane: Plane, scratch: str) -> None:
    wrong = _ftc_with(scratch, "propagation", "Enabled", name="daemonsets")
    refused(
        lambda: dry_run(plane, wrong),
        "metadata.name",
        "TARGET_PLURAL_NAME(.TARGET_GROUP_NAME)",
        "daemonsets.apps",
    )
    core = dry_run(plane, tc.type_config_object(tc.lookup("configmaps"), scratch))
    assert core["metadata"]["name"] == "configmaps"
    empty_group = _ftc_with(scratch, "targetType.group", "", name="daemonsets")
    assert dry_run(plane, empty_group)["spec"]["targetType"]["group"] == ""


def _config_with(ns: str, section: str, change: Obj | str | list[Obj]) -> Obj:
    o = obj("KubeFedConfig", ns, "kubefed", {"scope": "Cluster"})
    o["spec"][section] = change
    return o


CONFIG_REFUSED: list[tuple[str, Any, tuple[str, ...]]] = [
    ("scope", "Galaxy", ('spec.scope: Unsupported value: "Galaxy"',)),
    (
        "controllerDuration",
        {"availableDelay": "-5s"},
        ("spec.controllerDuration.availableDelay", "greater than 0"),
    ),
    (
        "controllerDuration",
        {"unavailableDelay": "0s"},
        ("spec.controllerDuration.unavailableDelay", "greater than 0"),
    ),
    (
        "controllerDuration",
        {"cacheSyncTimeout": "0"},
        ("spec.controllerDuration.cacheSyncTimeout", "greater than 0"),
    ),
    ("clusterHealthCheck", {"period": "soon"}, ("spec.clusterHealthCheck.period",)),
    ("clusterHealthCheck", {"timeout": "-1m"}, ("spec.clusterHealthCheck.timeout", "greater than 0")),
    ("clusterHealthCheck", {"failureThreshold": 0}, ("spec.clusterHealthCheck.failureThreshold",)),
    ("clusterHealthCheck", {"successThreshold": -1}, ("spec.clusterHealthCheck.successThreshold",)),
    (
        "leaderElect",
        {"leaseDuration": "10s", "renewDeadline": "10s"},
        ("spec.leaderElect.leaseDuration", "leaseDuration must be greater than renewDeadline"),
    ),
    (
        "leaderElect",
        {"renewDeadline": "6s", "retryPeriod": "5s"},
        (
            "spec.leaderElect.renewDeadline",
            "renewDeadline must be greater than retryPeriod*JitterFactor(1.2)",
        ),
    ),
    ("leaderElect", {"retryPeriod": "0s"}, ("spec.leaderElect.retryPeriod", "greater than 0")),
    (
        "leaderElect",
        {"resourceLock": "leases"},
        ('spec.leaderElect.resourceLock: Unsupported value: "leases"',),
    ),
    (
        "featureGates",
        [
            {"name": "PushReconciler", "configuration": "Enabled"},
            {"name": "PushReconciler", "configuration": "Disabled"},
        ],
        ("spec.featureGates[1]: Duplicate value",),
    ),
    (
        "featureGates",
        [{"name": "FederatedIngress", "configuration": "Enabled"}],
        ("spec.featureGates[0].name",),
    ),
    (
        "featureGates",
        [{"name": "PushReconciler", "configuration": "On"}],
        ("spec.featureGates[0].configuration",),
    ),
    ("syncController", {"maxConcurrentReconciles": 0}, ("spec.syncController.maxConcurrentReconciles",)),
    ("statusController", {"maxConcurrentReconciles": 0}, ("spec.statusController.maxConcurrentReconciles",)),
]


@pytest.mark.parametrize(("section", "change", "expected"), CONFIG_REFUSED)
def test_invalid_kubefedconfig_is_refused(
    plane: Plane, scratch: str, section: str, change: Any, expected: tuple[str]
) -> None:
    refused(lambda: dry_run(plane, _config_with(scratch, section, change)), *expected)


def test_kubefedconfig_needs_a_scope_that_never_changes(plane: Plane, scratch: str) -> None:
    no_scope = obj("KubeFedConfig", scratch, "kubefed", {})
    refused(lambda: dry_run(plane, no_scope), "spec.scope: Required value")
    renew_just_enough = _config_with(scratch, "leaderElect", {"renewDeadline": "6001ms", "retryPeriod": "5s"})
    assert dry_run(plane, renew_just_enough)["spec"]["leaderElect"]["renewDeadline"] == "6001ms"
    created = plane.host.create(_config_with(scratch, "scope", "Cluster"))
    refused(lambda: merge_patch(plane, created, {"spec": {"scope": "Namespaced"}}), "spec.scope", "immutable")


def test_status_is_validated_as_kubefeds_webhook_did(plane: Plane, scratch: str) -> None:
    cluster = plane.host.create(valid_cluster(scratch))
    bad = {"type": "Healthy", "status": "Yes"}
    refused(
        lambda: plane.host.update_status({**cluster, "status": {"conditions": [bad]}}),
        "status.conditions[0].type",
        "status.conditions[0].status",
        "status.conditions[0].lastProbeTime: Required value",
    )
    ftc = plane.host.create(valid_ftc(scratch))
    bad_ftc = {"observedGeneration": -1, "propagationController": "Walking"}
    refused(
        lambda: plane.host.update_status({**ftc, "status": bad_ftc}),
        "status.observedGeneration",
        "status.propagationController",
    )


def test_objects_init_and_join_wrote_are_valid(plane: Plane, scratch: str) -> None:
    """Copies of the host's own KubeFedConfig, FTCs and KubeFedClusters (spec and status)
    pass every rule: created in the scratch namespace, then their status written."""
    seen: dict[str, int] = {}
    for kind in PLURAL:
        for original in plane.host.list(CORE, kind, SYSTEM_NS)[0]:
            copied = obj(kind, scratch, original["metadata"]["name"], original["spec"])
            created = plane.host.create(copied)
            if original.get("status") and kind != "KubeFedConfig":
                plane.host.update_status({**created, "status": original["status"]})
            seen[kind] = seen.get(kind, 0) + 1
    assert seen["KubeFedConfig"] == 1 and seen["KubeFedCluster"] >= 3 and seen["FederatedTypeConfig"] >= 10


# KubeFed's e2e "Default" case in full: the user's partial featureGates list comes back
# completed and sorted. OpenAPI defaults fill only an absent list, so `init` installs a
# MutatingAdmissionPolicy where the API server has one (beta and off by default in 1.34).
UPSTREAM_DEFAULTING_SPEC: Obj = {
    "scope": "Cluster",
    "controllerDuration": {"availableDelay": "31s"},
    "featureGates": [
        {"name": "PushReconciler", "configuration": "Disabled"},
        {"name": "RawResourceStatusCollection", "configuration": "Enabled"},
    ],
    "clusterHealthCheck": {"period": "21s"},
}
MAP_FLAGS = (
    "--feature-gates=MutatingAdmissionPolicy=true",
    "--runtime-config=admissionregistration.k8s.io/v1beta1=true",
)


class _PolicyCluster(testbed.Cluster):
    def _spawn(self, name: str, args: list[str], detach: bool) -> None:
        super()._spawn(name, [*args, *MAP_FLAGS] if name == "kube-apiserver" else args, detach)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def policy_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, KubeClusterClient]]:
    """One kube-apiserver with MutatingAdmissionPolicy on, `kubectl kubefed init`-ed."""
    if testbed.missing_binaries():
        pytest.skip("e2e binaries missing: run `make testbin`")
    directory = tmp_path_factory.mktemp("policy-bed")
    testbed.make_ca(directory / "ca")
    cluster = _PolicyCluster(
        "policy", directory / "policy", _port(), _port(), secrets.token_hex(16), directory / "ca" / "ca.crt"
    )
    testbed.make_cluster_certs(directory / "ca", cluster.directory)
    try:
        cluster.start_etcd(testbed.BIN, False)
        cluster.start_apiserver(testbed.BIN, False)
        cluster.wait_ready()
        kubeconfig = directory / "kubeconfig"
        testbed.write_kubeconfig(kubeconfig, [cluster], current="policy")
        kubefed(str(kubeconfig), "init", "--host-cluster-context", "policy")
        yield str(kubeconfig), client_for_context(str(kubeconfig), "policy", name="policy")
    finally:
        for name in ("kube-apiserver", "etcd"):
            cluster.stop(name)


def test_partial_feature_gates_are_completed_where_the_server_has_admission_policies(
    policy_host: tuple[str, KubeClusterClient],
) -> None:
    kubeconfig, host = policy_host
    policy = host.get(
        admission.MUTATING_POLICY_VERSIONS[1],
        admission.MUTATING_POLICY_KIND,
        "",
        admission.FEATURE_GATE_POLICY,
    )
    assert policy["spec"]["mutations"]
    got = dry_run(host, obj("KubeFedConfig", SYSTEM_NS, "kubefed-upstream", UPSTREAM_DEFAULTING_SPEC))["spec"]
    expected = copy.deepcopy(KUBEFED_DEFAULTED)
    expected["controllerDuration"]["availableDelay"] = "31s"
    expected["clusterHealthCheck"]["period"] = "21s"
    expected["featureGates"] = [
        {"name": "PushReconciler", "configuration": "Disabled"},
        {"name": "RawResourceStatusCollection", "configuration": "Enabled"},
        {"name": "SchedulerPreferences", "configuration": "Enabled"},
    ]
    assert got == expected
    unsorted = {
        "scope": "Cluster",
        "featureGates": [{"name": "SchedulerPreferences", "configuration": "Disabled"}],
    }
    gates = dry_run(host, obj("KubeFedConfig", SYSTEM_NS, "kubefed-x", unsorted))["spec"]["featureGates"]
    assert [(g["name"], g["configuration"]) for g in gates] == [
        ("PushReconciler", "Enabled"),
        ("RawResourceStatusCollection", "Disabled"),
        ("SchedulerPreferences", "Disabled"),
    ]
    empty = dry_run(
        host, obj("KubeFedConfig", SYSTEM_NS, "kubefed-x", {"scope": "Cluster", "featureGates": []})
    )
    assert empty["spec"]["featureGates"] == KUBEFED_DEFAULTED["featureGates"]
    # What validation refuses is left for it to refuse, not hidden by the completion.
    repeated = {
        "scope": "Cluster",
        "featureGates": [{"name": "PushReconciler", "configuration": "Enabled"}] * 2,
    }
    refused(lambda: dry_run(host, obj("KubeFedConfig", SYSTEM_NS, "kubefed-x", repeated)), "Duplicate value")
    unknown = {"scope": "Cluster", "featureGates": [{"name": "FederatedIngress", "configuration": "Enabled"}]}
    refused(
        lambda: dry_run(host, obj("KubeFedConfig", SYSTEM_NS, "kubefed-x", unknown)),
        "spec.featureGates[0].name",
    )
    unset = {"scope": "Cluster", "featureGates": [{"name": "PushReconciler"}]}
    refused(
        lambda: dry_run(host, obj("KubeFedConfig", SYSTEM_NS, "kubefed-x", unset)),
        "spec.featureGates[0].configuration: Required value",
    )
    # The control plane init wrote passes through the policy unchanged.
    stored = host.get(CORE, "KubeFedConfig", SYSTEM_NS, names.KUBEFED_CONFIG_NAME)
    assert stored["spec"]["featureGates"] == KUBEFED_DEFAULTED["featureGates"]
    assert "unchanged" in kubefed(kubeconfig, "init", "--host-cluster-context", "policy").stdout


def test_without_admission_policies_init_installs_none(plane: Plane, scratch: str) -> None:
    """A stock 1.34 API server serves no MutatingAdmissionPolicy: init installs none, and a
    partial featureGates list is stored as given (docs/deviations.md)."""
    for api_version in admission.MUTATING_POLICY_VERSIONS:
        with pytest.raises(NotFound):
            plane.host.get(api_version, admission.MUTATING_POLICY_KIND, "", admission.FEATURE_GATE_POLICY)
    spec = dry_run(plane, obj("KubeFedConfig", scratch, "kubefed", UPSTREAM_DEFAULTING_SPEC))["spec"]
    assert spec["featureGates"] == UPSTREAM_DEFAULTING_SPEC["featureGates"]
