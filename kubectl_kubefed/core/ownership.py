"""Which objects in a member namespace federation may take away with the namespace.

Deleting a member namespace deletes everything in it. Objects kubefed manages go with
their federated objects anyway, objects another object owns go with their owner, and
Kubernetes puts a few objects in every namespace; anything else belongs to someone else
and keeps the namespace alive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.objects import kind_of, labels_of, metadata, name_of


def generated_by_kubernetes(obj: Mapping[str, Any]) -> bool:
    """Objects every namespace gets from the control plane."""
    kind, name = kind_of(obj), name_of(obj)
    return (
        (kind == "ConfigMap" and name == "kube-root-ca.crt")
        or (kind == "ServiceAccount" and name == "default")
        or (kind == "Secret" and obj.get("type") == "kubernetes.io/service-account-token")
    )


def unmanaged(obj: Mapping[str, Any]) -> bool:
    """An object in a member namespace that deleting the namespace would take from its owner."""
    meta = metadata(obj)
    return not (
        labels_of(obj).get(names.MANAGED_LABEL) == "true"
        or meta.get("ownerReferences")
        or meta.get("deletionTimestamp")
        or generated_by_kubernetes(obj)
    )


def describe_some(objs: Sequence[Mapping[str, Any]], limit: int = 5) -> str:
    """``ConfigMap "a", Secret "b" and 3 more``."""
    shown = ", ".join(f'{kind_of(o)} "{name_of(o)}"' for o in objs[:limit])
    return shown + (f" and {len(objs) - limit} more" if len(objs) > limit else "")
