"""Work: what the host asks of a pull cluster's agent, one object per federated object.

A ``work.kubefed.io/v1alpha1 Work`` lives in the cluster's host namespace
(``kubefed-cluster-<cluster>``) and carries the federated object's template and the
overrides for that one cluster, not the final member object: retention (§3.5) needs the
live member object and runs before the overrides, so the agent computes the member object
next to it with the same ``core.member.desired_object`` the host uses for push clusters.
Both modes therefore write the same bytes. The agent reports the outcome in ``status``
with the per-cluster status codes of §4 and the member version to record.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api import status as st
from kubectl_kubefed.api.objects import Obj, metadata, name_of, namespace_of
from kubectl_kubefed.core.typeconfig import TypeConfig

MAX_NAME = 253
_HASH_CHARS = 10


def cluster_namespace(cluster: str) -> str:
    return names.CLUSTER_NAMESPACE_PREFIX + cluster


def cluster_namespace_problem(cluster: str) -> str:
    """Why ``cluster`` cannot name a pull cluster (its namespace must be a DNS label), or ""."""
    namespace = cluster_namespace(cluster)
    if len(namespace) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", namespace):
        return (
            f'a pull cluster\'s name must make the namespace "{namespace}" a DNS label '
            f"(lowercase letters, digits and '-', at most {63 - len(names.CLUSTER_NAMESPACE_PREFIX)} "
            "characters for the name)"
        )
    return ""


def work_name(target: TypeConfig, namespace: str, name: str) -> str:
    """Readable and unique: ``<kind>-[<namespace>-]<name>-<hash of group, kind, namespace,
    name>`` (the hash keeps two groups' kinds of one name, and truncated names, apart)."""
    digest = hashlib.sha256(f"{target.group}/{target.kind}/{namespace}/{name}".encode()).hexdigest()
    suffix = "-" + digest[:_HASH_CHARS]
    readable = "-".join(p for p in (target.kind.lower(), namespace, name) if p)
    readable = re.sub(r"[^a-z0-9]+", "-", readable.lower())[: MAX_NAME - len(suffix)]
    return readable.strip("-") + suffix


def type_label(target: TypeConfig) -> str:
    """The Work's type label: the FederatedTypeConfig's name, which fits a label value
    unless the group is long (then a prefix and a hash)."""
    if len(target.name) <= 63:
        return target.name
    digest = hashlib.sha256(target.name.encode()).hexdigest()[:_HASH_CHARS]
    return target.name[: 62 - _HASH_CHARS].rstrip(".-_") + "-" + digest


def _federated_ref(fed: Mapping[str, Any]) -> dict[str, Any]:
    ref = {
        "apiVersion": fed.get("apiVersion", ""),
        "kind": fed.get("kind", ""),
        "name": name_of(fed),
        "uid": metadata(fed).get("uid", ""),
    }
    if namespace_of(fed):
        ref["namespace"] = namespace_of(fed)
    return ref


def _target(target: TypeConfig) -> dict[str, Any]:
    return {
        "group": target.group,
        "version": target.version,
        "kind": target.kind,
        "plural": target.plural,
        "namespaced": target.namespaced,
    }


def cluster_overrides(overrides: Any, cluster: str) -> list[Any]:
    """The federated object's override entries for ``cluster``, as written."""
    if not isinstance(overrides, list):
        return []
    return [copy.deepcopy(e) for e in overrides if isinstance(e, Mapping) and e.get("clusterName") == cluster]


def desired_spec(fed: Mapping[str, Any], target: TypeConfig, cluster: str) -> dict[str, Any]:
    spec = fed.get("spec") if isinstance(fed.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    work: dict[str, Any] = {"federated": _federated_ref(fed), "target": _target(target)}
    if "template" in spec:
        work["template"] = copy.deepcopy(spec["template"])
    entries = cluster_overrides(spec.get("overrides"), cluster)
    if entries:
        work["overrides"] = entries
    if spec.get("retainReplicas") is True:
        work["retainReplicas"] = True
    if target.status_collection:
        work["collectStatus"] = True  # the agent reports the member's status (remoteStatus)
    return work


def build(fed: Mapping[str, Any], target: TypeConfig, cluster: str) -> Obj:
    """The Work for ``fed`` on ``cluster`` (created with the agent's finalizer, so deleting
    it waits until the agent has removed the member object)."""
    return {
        "apiVersion": names.WORK_API_VERSION,
        "kind": names.KIND_WORK,
        "metadata": {
            "name": work_name(target, namespace_of(fed), name_of(fed)),
            "namespace": cluster_namespace(cluster),
            "labels": {names.WORK_CLUSTER_LABEL: cluster, names.WORK_TYPE_LABEL: type_label(target)},
            "finalizers": [names.WORK_FINALIZER],
        },
        "spec": desired_spec(fed, target, cluster),
    }


def with_spec(work: Mapping[str, Any], spec: Mapping[str, Any]) -> Obj:
    """``work`` (as read) asking for ``spec``."""
    updated = copy.deepcopy(dict(work))
    updated["spec"] = copy.deepcopy(dict(spec))
    return updated


def releasing(work: Mapping[str, Any], *, orphan: bool, delete_options: Mapping[str, Any] | None) -> Obj:
    """``work`` telling the agent how to let the member object go once the Work is deleted:
    ``orphan`` keeps it (only the managed label is removed), else it is deleted with
    ``delete_options``."""
    updated = copy.deepcopy(dict(work))
    spec = updated.setdefault("spec", {})
    spec.pop("release", None)
    release: dict[str, Any] = {}
    if orphan:
        release["orphan"] = True
    if delete_options:
        release["deleteOptions"] = copy.deepcopy(dict(delete_options))
    if release:
        spec["release"] = release
    return updated


def asks_release(work: Mapping[str, Any], *, orphan: bool, delete_options: Mapping[str, Any] | None) -> bool:
    return releasing(work, orphan=orphan, delete_options=delete_options).get("spec") == work.get("spec")


# -- read by the agent -------------------------------------------------------------------


class WorkError(ValueError):
    """A Work the agent cannot act on (the message says why; reported in its status)."""


def target_of(work: Mapping[str, Any]) -> TypeConfig:
    raw = (work.get("spec") or {}).get("target")
    if not isinstance(raw, Mapping):
        raise WorkError("spec.target is missing")
    fields = {k: raw.get(k) for k in ("group", "version", "kind", "plural")}
    if not all(isinstance(v, str) for v in fields.values()) or not fields["kind"] or not fields["version"]:
        raise WorkError("spec.target needs group, version, kind and plural strings")
    return TypeConfig(
        kind=str(fields["kind"]),
        group=str(fields["group"]),
        version=str(fields["version"]),
        plural=str(fields["plural"]),
        namespaced=bool(raw.get("namespaced")),
    )


def federated_view(work: Mapping[str, Any], cluster: str) -> Obj:
    """A federated object holding only what ``cluster`` gets: what ``desired_object`` and
    retention read (name, namespace, template, this cluster's overrides, retainReplicas)."""
    spec = work.get("spec") or {}
    ref = spec.get("federated") if isinstance(spec.get("federated"), Mapping) else {}
    assert isinstance(ref, Mapping)
    meta: dict[str, Any] = {"name": ref.get("name", "")}
    if ref.get("namespace"):
        meta["namespace"] = ref["namespace"]
    fed_spec: dict[str, Any] = {}
    for key in ("template", "overrides", "retainReplicas"):
        if key in spec:
            fed_spec[key] = copy.deepcopy(spec[key])
    if "overrides" in fed_spec:
        fed_spec["overrides"] = cluster_overrides(fed_spec["overrides"], cluster)
    return {
        "apiVersion": ref.get("apiVersion", ""),
        "kind": ref.get("kind", ""),
        "metadata": meta,
        "spec": fed_spec,
    }


def release_of(work: Mapping[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """(orphan, delete options) for a deleted Work."""
    release = (work.get("spec") or {}).get("release") or {}
    options = release.get("deleteOptions")
    return release.get("orphan") is True, dict(options) if isinstance(options, Mapping) else None


def recorded_version(work: Mapping[str, Any]) -> str:
    """The member version the agent recorded for this Work's current spec ("" after a change:
    the member is then updated, as KubeFed does when the template or overrides change)."""
    status = work.get("status") or {}
    if status.get("observedGeneration") != metadata(work).get("generation"):
        return ""
    return str(status.get("version") or "")


# -- reported by the agent, read by the host ----------------------------------------------


def collects_status(work: Mapping[str, Any]) -> bool:
    """Whether the agent reports the member object's status (statusCollection Enabled)."""
    return (work.get("spec") or {}).get("collectStatus") is True


@dataclass(frozen=True)
class Result:
    status: str  # a per-cluster code (§4); "" is OK
    message: str = ""
    version: str = ""  # the member object's version after the agent's write
    remote_status: Mapping[str, Any] | None = None  # the member object's status (collectStatus)

    def as_status(self, generation: int) -> dict[str, Any]:
        body: dict[str, Any] = {"observedGeneration": generation, "status": self.status or "OK"}
        if self.message:
            body["message"] = self.message
        if self.version:
            body["version"] = self.version
        if self.remote_status:
            body["remoteStatus"] = copy.deepcopy(dict(self.remote_status))
        return body


def remote_status_of(work: Mapping[str, Any]) -> dict[str, Any] | None:
    """The member object's status the agent last reported (any generation: it is the
    member's, whatever the Work asked since), or None."""
    found = (work.get("status") or {}).get("remoteStatus")
    return copy.deepcopy(dict(found)) if isinstance(found, Mapping) and found else None


def result_of(work: Mapping[str, Any]) -> Result:
    """What the agent reported for the Work's current spec; WaitingForAgent until it has."""
    status = work.get("status") or {}
    generation = metadata(work).get("generation")
    if not status or status.get("observedGeneration") != generation:
        return Result(st.WAITING_FOR_AGENT, f"the agent has not applied generation {generation} yet")
    code = str(status.get("status") or "")
    return Result(
        "" if code == "OK" else code, str(status.get("message") or ""), str(status.get("version") or "")
    )
