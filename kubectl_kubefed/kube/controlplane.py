"""``init``: what KubeFed's Helm chart did for the API, applied idempotently."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.objects import kind_of, name_of
from kubectl_kubefed.core import admission, crds
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.kube.apply import apply, preview, wait_crd_served
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.sync.errors import ApiError, NotFound
from kubectl_kubefed.sync.settings import Settings, kubefed_config_object

# Reconcile workers per type in the KubeFedConfig init writes. KubeFed's 1 suits a Go
# worker; ours are threads that mostly wait on the network, and with 16 a backlog drains
# about twice as fast as with 4 on a 2-core test bed (benchmarks/results/issue16-*.md).
INIT_WORKERS = 16


def init_objects(namespace: str, scope: str) -> list[dict[str, Any]]:
    """Namespace, KubeFed's CRDs, the KubeFedConfig and KubeFed's default types, in apply order."""
    objs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}]
    objs += crds.kubefed_crds()
    objs.append(
        kubefed_config_object(
            Settings(namespace=namespace, scope=scope, max_concurrent_reconciles=INIT_WORKERS)
        )
    )
    for name in tc.DEFAULT_ENABLED:
        t = tc.lookup(name)
        objs += [tc.federated_crd(t), tc.type_config_object(t, namespace)]
    return objs


def admission_policies(host: KubeClusterClient) -> list[dict[str, Any]]:
    """The MutatingAdmissionPolicy that completes KubeFedConfig feature gates as KubeFed's
    webhook did, in the newest version the API server serves; none when it serves none."""
    for api_version in admission.MUTATING_POLICY_VERSIONS:
        try:
            host.discovery.resource(api_version, admission.MUTATING_POLICY_KIND)
        except NotFound:
            continue
        return admission.feature_gate_policy(api_version)
    return []


def _ref(obj: dict[str, Any]) -> str:
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return f"{kind_of(obj).lower()}{'.' + group if group else ''}/{name_of(obj)}"


# An admission policy over a CRD's kind that was just created is matched through a REST
# mapper that learns new CRDs a moment later (and again after each later CRD); until then
# the API server refuses writes of that kind with this message and says to retry.
MAPPER_LAG = "There can be a delay between when CustomResourceDefinitions are created"

T = TypeVar("T")


def once_admitted(call: Callable[[], T], timeout: float = 30.0) -> T:
    """``call()``, retried while the API server's admission mapper has not learnt a new CRD."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ApiError as err:
            if MAPPER_LAG not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def init(
    host: KubeClusterClient, namespace: str, scope: str, *, dry_run: bool, say: Callable[[str], None]
) -> None:
    try:
        config = host.get(
            names.CORE_API_VERSION, names.KIND_KUBEFED_CONFIG, namespace, names.KUBEFED_CONFIG_NAME
        )
        current_scope = (config.get("spec") or {}).get("scope")
        if current_scope and current_scope != scope:
            raise InputError(
                f"the control plane in {namespace} has scope {current_scope}; scope is immutable"
            )
    except NotFound:
        pass
    objs = init_objects(namespace, scope)
    at = next(i for i, o in enumerate(objs) if kind_of(o) == names.KIND_KUBEFED_CONFIG)
    objs[at:at] = admission_policies(host)  # before the KubeFedConfig it admits
    for obj in objs:
        kind = kind_of(obj)
        if kind in (names.KIND_KUBEFED_CONFIG, names.KIND_TYPE_CONFIG):
            # The user's settings and enabled/disabled types are theirs: create, never reset.
            try:
                host.get(obj["apiVersion"], kind, namespace, name_of(obj))
                say(f"{_ref(obj)} unchanged")
                continue
            except NotFound:
                pass
        if dry_run:
            preview(host, obj, _ref(obj), say)
            continue
        _, action = once_admitted(partial(apply, host, obj))
        say(f"{_ref(obj)} {action}")
        if kind == "CustomResourceDefinition":
            spec = obj["spec"]
            wait_crd_served(host, f"{spec['group']}/{spec['versions'][0]['name']}", spec["names"]["kind"])
