"""KubeFed's own CRDs (core.kubefed.io, scheduling.kubefed.io), as its Helm chart installed them.

Schemas are structural and keep unknown fields where KubeFed's did, so objects written by
a KubeFed control plane are accepted unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.core import admission

_OPEN: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
_STR: dict[str, Any] = {"type": "string"}


def _crd(
    group: str,
    version: str,
    kind: str,
    plural: str,
    scope: str,
    *,
    short: tuple[str, ...] = (),
    spec: dict[str, Any] | None = None,
    status: bool = True,
    status_schema: dict[str, Any] | None = None,
    columns: list[dict[str, Any]] | None = None,
    rules: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    props: dict[str, Any] = {"apiVersion": _STR, "kind": _STR, "metadata": {"type": "object"}}
    root: dict[str, Any] = {"type": "object", "properties": props}
    if spec is not None:
        props["spec"] = spec
        if spec is not _OPEN:  # KubeFed's typed objects require a spec
            root["required"] = ["spec"]
    props["status"] = status_schema or _OPEN
    if rules:
        root["x-kubernetes-validations"] = rules
        # A rule may point at metadata.name (the API server allows only name and generateName here).
        props["metadata"] = {"type": "object", "properties": {"name": _STR}}
    version_entry: dict[str, Any] = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": root},
    }
    if status:
        version_entry["subresources"] = {"status": {}}
    if columns:
        version_entry["additionalPrinterColumns"] = columns
    crd_names: dict[str, Any] = {
        "kind": kind,
        "listKind": kind + "List",
        "plural": plural,
        "singular": kind.lower(),
    }
    if short:
        crd_names["shortNames"] = list(short)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": crd_names, "scope": scope, "versions": [version_entry]},
    }


# A Work (core/work.py): what one pull cluster's agent applies for one federated object.
WORK_SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["federated", "target"],
    "properties": {
        "federated": {
            "type": "object",
            "required": ["apiVersion", "kind", "name"],
            "properties": {k: _STR for k in ("apiVersion", "kind", "namespace", "name", "uid")},
        },
        "target": {
            "type": "object",
            "required": ["version", "kind", "plural"],
            "properties": {
                "group": _STR,
                "version": _STR,
                "kind": _STR,
                "plural": _STR,
                "namespaced": {"type": "boolean"},
            },
        },
        "template": _OPEN,
        "overrides": {"type": "array", "items": _OPEN},
        "retainReplicas": {"type": "boolean"},
        "collectStatus": {"type": "boolean"},
        "release": {
            "type": "object",
            "properties": {"orphan": {"type": "boolean"}, "deleteOptions": _OPEN},
        },
    },
}
WORK_STATUS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "observedGeneration": {"type": "integer", "format": "int64"},
        "status": _STR,
        "message": _STR,
        "version": _STR,
        "remoteStatus": _OPEN,
    },
}


# A FederatedApplication (core/application.py, docs/application.md): components are plain
# objects of any kind, so they and the override values keep unknown fields.
APPLICATION_SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["components"],
    "properties": {
        "components": {"type": "array", "minItems": 1, "items": _OPEN},
        "placement": _OPEN,
        "overrides": {"type": "array", "items": _OPEN},
        "replicas": _OPEN,
        "failover": {
            "type": "object",
            "properties": {"tolerationSeconds": {"type": "integer", "format": "int64", "minimum": 0}},
        },
    },
}


def kubefed_crds() -> list[dict[str, Any]]:
    """KubeFed's CRDs; KubeFedCluster, FederatedTypeConfig and KubeFedConfig carry the
    validation and defaults of KubeFed's admission webhooks (``core.admission``)."""
    # Deep copies: the schemas are module constants, and callers may change what they get.
    defs = [
        _crd(
            names.CORE_GROUP,
            names.CORE_VERSION,
            names.KIND_KUBEFED_CLUSTER,
            "kubefedclusters",
            "Namespaced",
            short=("kfc",),
            spec=admission.KUBEFED_CLUSTER_SPEC,
            status_schema=admission.KUBEFED_CLUSTER_STATUS,
            columns=[
                {"name": "age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                {
                    "name": "ready",
                    "type": "string",
                    "jsonPath": ".status.conditions[?(@.type=='Ready')].status",
                },
                {"name": "kubernetes-version", "type": "string", "jsonPath": ".status.kubernetesVersion"},
            ],
        ),
        _crd(
            names.CORE_GROUP,
            names.CORE_VERSION,
            names.KIND_TYPE_CONFIG,
            "federatedtypeconfigs",
            "Namespaced",
            short=("ftc",),
            spec=admission.FTC_SPEC,
            status_schema=admission.FTC_STATUS,
            rules=admission.FTC_RULES,
        ),
        _crd(
            names.CORE_GROUP,
            names.CORE_VERSION,
            names.KIND_KUBEFED_CONFIG,
            "kubefedconfigs",
            "Namespaced",
            spec=admission.KUBEFED_CONFIG_SPEC,
            status=False,
        ),
        # Unlike KubeFed's, without the status subresource: a version object is nothing but
        # its status, so one create records it instead of a create and a status update
        # (issue 16). The objects are KubeFed's; docs/deviations.md says how to go back.
        _crd(
            names.CORE_GROUP,
            "v1alpha1",
            names.KIND_PROPAGATED_VERSION,
            "propagatedversions",
            "Namespaced",
            status=False,
        ),
        _crd(
            names.CORE_GROUP,
            "v1alpha1",
            names.KIND_CLUSTER_PROPAGATED_VERSION,
            "clusterpropagatedversions",
            "Cluster",
            status=False,
        ),
        _crd(
            names.WORK_GROUP,
            "v1alpha1",
            names.KIND_WORK,
            "works",
            "Namespaced",
            spec=WORK_SPEC,
            status_schema=WORK_STATUS,
            columns=[
                {"name": "kind", "type": "string", "jsonPath": ".spec.target.kind"},
                {"name": "namespace", "type": "string", "jsonPath": ".spec.federated.namespace"},
                {"name": "name", "type": "string", "jsonPath": ".spec.federated.name"},
                {"name": "status", "type": "string", "jsonPath": ".status.status"},
                {"name": "age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
        ),
        _crd(
            names.SCHEDULING_GROUP,
            "v1alpha1",
            "ReplicaSchedulingPreference",
            "replicaschedulingpreferences",
            "Namespaced",
            short=("rsp",),
            spec=_OPEN,
            status=False,
        ),
        _crd(
            "apps.kubefed.io",
            "v1alpha1",
            "FederatedApplication",
            "federatedapplications",
            "Namespaced",
            short=("fapp",),
            spec=APPLICATION_SPEC,
            columns=[
                {
                    "name": "ready",
                    "type": "string",
                    "jsonPath": ".status.conditions[?(@.type=='Ready')].status",
                },
                {"name": "summary", "type": "string", "jsonPath": ".status.summary"},
                {"name": "components", "type": "integer", "jsonPath": ".status.components"},
                {"name": "age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
            ],
        ),
    ]
    return copy.deepcopy(defs)
