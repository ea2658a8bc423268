"""Template annotations on member objects, and which keys of them kubefed owns.

KubeFed dropped ``spec.template.metadata.annotations`` and kept the member's annotations
on every update (semantics §2.1, §3.5). Here the template's annotations reach the members
and member-side controllers keep theirs: a member object records, in the annotation
``kubefed.io/owned-annotations`` (sorted keys, comma-separated), the keys kubefed set last
time. On the next write the desired annotations are the live ones without those keys,
plus the template's; so a key removed from the template disappears from the members,
and a key only a member's controller set is never touched. This is the record of owned
keys server-side apply would keep as field manager ``kubefed``, on the update path
(a PUT with retention) KubeFed used.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubectl_kubefed.api import names

OWNED = names.OWNED_ANNOTATIONS_ANNOTATION

# Written on an object by Kubernetes, kubectl or a controller, never by its author: a
# template copied from a live object must not carry them to other clusters, where the
# same controllers write their own values (``deployment.kubernetes.io/revision`` would
# fight a member's deployment controller).
_WRITTEN_BY_CONTROLLERS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.daemonset.template.generation",
        "endpoints.kubernetes.io/last-change-trigger-time",
        "control-plane.alpha.kubernetes.io/leader",
        "kubernetes.io/service-account.uid",
        "pv.kubernetes.io/bind-completed",
        "pv.kubernetes.io/bound-by-controller",
        "pv.kubernetes.io/provisioned-by",
        "pv.kubernetes.io/migrated-to",
        "volume.beta.kubernetes.io/storage-provisioner",
        "volume.kubernetes.io/storage-provisioner",
        "volume.kubernetes.io/selected-node",
        "autoscaling.alpha.kubernetes.io/conditions",
        "autoscaling.alpha.kubernetes.io/current-metrics",
        "batch.kubernetes.io/job-tracking",
    }
)
# Helm's own (they stay on the federated object, which Helm owns) and kubefed's (hints
# and records, consumed here).
_NOT_FOR_MEMBERS_PREFIXES = ("helm.sh/", "meta.helm.sh/", "postrenderer.helm.sh/", "kubefed.io/")


def for_template(annotations: Mapping[str, Any]) -> dict[str, Any]:
    """The annotations of a source object that its federated template carries to members."""
    return {
        key: value
        for key, value in annotations.items()
        if key not in _WRITTEN_BY_CONTROLLERS and not str(key).startswith(_NOT_FOR_MEMBERS_PREFIXES)
    }


def from_template(annotations: Mapping[str, Any]) -> dict[str, Any]:
    """The template annotations the controller writes: not the record of owned keys, and
    none a member's own controllers write (the two would overwrite each other forever)."""
    return {
        key: value
        for key, value in annotations.items()
        if key != OWNED and key not in _WRITTEN_BY_CONTROLLERS
    }


def owned_keys(annotations: Mapping[str, Any]) -> frozenset[str]:
    """The keys a member object's record says kubefed set last time."""
    raw = annotations.get(OWNED)
    if not isinstance(raw, str):
        return frozenset()
    return frozenset(key.strip() for key in raw.split(",") if key.strip())


def merge(live: Mapping[str, Any], template: Mapping[str, Any]) -> dict[str, Any]:
    """Desired annotations before overrides: the live object's, without the keys kubefed
    owned (and its record), then the template's, which win."""
    owned = owned_keys(live)
    merged = {key: value for key, value in live.items() if key not in owned and key != OWNED}
    merged.update(template)
    return merged


def owned_after_overrides(
    template: Mapping[str, Any], before: Mapping[str, Any], after: Mapping[str, Any]
) -> frozenset[str]:
    """Keys kubefed sets: the template's, and those the overrides added or changed, as far
    as they are still there after the overrides."""
    return frozenset(
        key
        for key, value in after.items()
        if key != OWNED and (key in template or key not in before or before[key] != value)
    )


def record(annotations: dict[str, Any], owned: Iterable[str]) -> None:
    """Write (or, owning nothing, remove) the record of owned keys, in place."""
    keys = sorted(set(owned) - {OWNED})
    if keys:
        annotations[OWNED] = ",".join(keys)
    else:
        annotations.pop(OWNED, None)
