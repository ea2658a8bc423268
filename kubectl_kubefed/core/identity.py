"""Cluster identity (SIG Multicluster KEP-2149, ``about.k8s.io`` ClusterProperty).

``cluster.clusterset.k8s.io`` holds a cluster's durable ID (recommended: the kube-system
namespace UID); ``clusterset.k8s.io`` names the ClusterSet it belongs to while it is a
member. ``join`` records the ID on the KubeFedCluster; the health controller checks it at
every probe, so an endpoint that now reaches another cluster is never written to.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from kubectl_kubefed.api.objects import annotations_of

GROUP: Final = "about.k8s.io"
API_VERSION: Final = f"{GROUP}/v1beta1"
KIND: Final = "ClusterProperty"
CRD_NAME: Final = f"clusterproperties.{GROUP}"
ID_PROPERTY: Final = "cluster.clusterset.k8s.io"
CLUSTERSET_PROPERTY: Final = "clusterset.k8s.io"
MAX_VALUE: Final = 128 * 1024  # code points; upstream's generated CRD misses this bound
DEFAULT_CLUSTERSET: Final = "kubefed"
# Where join records identity on the KubeFedCluster (annotations survive any CRD schema).
ID_ANNOTATION: Final = "kubefed.io/cluster-id"
CLUSTERSET_ANNOTATION: Final = "kubefed.io/clusterset"
REASON_MISMATCH: Final = "ClusterIdentityMismatch"

_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")


def validate_id(value: str) -> str:
    """The problem with a cluster ID, or "" when it is valid (an RFC 1123 DNS subdomain
    under 128 characters)."""
    if not value:
        return "a cluster ID must not be empty"
    if len(value) > 127:
        return f"cluster ID is {len(value)} characters; it should be under 128"
    if not _DNS_SUBDOMAIN.match(value):
        return f'cluster ID "{value}" is not a valid RFC 1123 DNS subdomain'
    return ""


def validate_clusterset(value: str) -> str:
    if not value or len(value) > MAX_VALUE:
        return "a ClusterSet name must be 1 to 131072 characters"
    return ""


def property_object(name: str, value: str) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": {"value": value}}


def property_value(obj: Mapping[str, Any] | None) -> str:
    return str(((obj or {}).get("spec") or {}).get("value") or "")


def recorded_id(kubefed_cluster: Mapping[str, Any]) -> str:
    return annotations_of(kubefed_cluster).get(ID_ANNOTATION, "")


def crd() -> dict[str, Any]:
    """The ClusterProperty CRD as about-api defines it, with the 128k value bound enforced."""
    schema = {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["value"],
                "properties": {"value": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE}},
            },
        },
    }
    columns = [
        {"name": "value", "type": "string", "jsonPath": ".spec.value"},
        {"name": "age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": CRD_NAME,
            # *.k8s.io groups are protected; upstream's generated CRD lacks this and is refused.
            "annotations": {
                "api-approved.kubernetes.io": "unapproved, experimental-only; KEP-2149 about-api"
            },
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": KIND,
                "listKind": KIND + "List",
                "plural": "clusterproperties",
                "singular": "clusterproperty",
            },
            "scope": "Cluster",
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": False,
                    "schema": {"openAPIV3Schema": schema},
                    "additionalPrinterColumns": columns,
                },
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                    "additionalPrinterColumns": columns,
                },
            ],
        },
    }


def mismatch_message(recorded: str, found: str) -> str:
    if not found:
        return (
            f'cluster identity vanished: the KubeFedCluster records ID "{recorded}" but the cluster has '
            f"no {ID_PROPERTY} ClusterProperty"
        )
    return (
        f'cluster identity changed: the KubeFedCluster records ID "{recorded}" but the cluster now '
        f'reports "{found}" (a different cluster behind this endpoint?)'
    )


def holder_of(cluster_id: str, kubefed_clusters: Sequence[Mapping[str, Any]], joining: str) -> str:
    """The name of another joined cluster that already has this ID, or ""."""
    for kfc in kubefed_clusters:
        name = str((kfc.get("metadata") or {}).get("name") or "")
        if name != joining and recorded_id(kfc) == cluster_id:
            return name
    return ""
