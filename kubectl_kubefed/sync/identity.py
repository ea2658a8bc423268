"""A member's identity (KEP-2149 ClusterProperty objects) read and recorded through any
``ClusterClient``: written once for ``kubectl kubefed join`` (kube/join.py) and the
simulator's ``Fleet.join``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from kubectl_kubefed.api.objects import Obj, metadata
from kubectl_kubefed.core import identity
from kubectl_kubefed.sync.errors import AlreadyExists, NotFound


class IdentityError(ValueError):
    """A cluster ID or ClusterSet that cannot be used (the message says why)."""


class ReadCreate(Protocol):
    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj: ...

    def create(self, obj: Mapping[str, Any]) -> Obj: ...


def read_property(client: ReadCreate, name: str) -> str:
    """A ClusterProperty's value; "" when it (or its CRD) is absent."""
    try:
        return identity.property_value(client.get(identity.API_VERSION, identity.KIND, "", name))
    except NotFound:
        return ""


def default_cluster_id(client: ReadCreate) -> str:
    """The uid of ``kube-system``, KEP-2149's suggested cluster ID."""
    return str(metadata(client.get("v1", "Namespace", "", "kube-system")).get("uid"))


def ensure_cluster_id(client: ReadCreate, requested: str = "", *, dry_run: bool = False) -> tuple[str, bool]:
    """The member's cluster ID and whether it was recorded now: the one it has (which must
    be ``requested``, when given), else ``requested`` or the kube-system uid, created."""
    found = read_property(client, identity.ID_PROPERTY)
    if found:
        if requested and requested != found:
            raise IdentityError(
                f'the member already has cluster ID "{found}"; it must not change while it is a member'
            )
        problem = identity.validate_id(found)
        if problem:
            raise IdentityError(f"the member's {identity.ID_PROPERTY}: {problem}")
        return found, False
    value = requested or default_cluster_id(client)
    problem = identity.validate_id(value)
    if problem:
        raise IdentityError(f"--cluster-id: {problem}")
    if dry_run:
        return value, False
    client.create(identity.property_object(identity.ID_PROPERTY, value))
    return value, True


def ensure_clusterset(client: ReadCreate, clusterset: str, *, dry_run: bool = False) -> bool:
    """Record the member's ClusterSet; whether it was recorded now. A member of another
    ClusterSet is refused."""
    problem = identity.validate_clusterset(clusterset)
    if problem:
        raise IdentityError(f"--clusterset: {problem}")
    current = read_property(client, identity.CLUSTERSET_PROPERTY)
    if current and current != clusterset:
        raise IdentityError(f'the member belongs to ClusterSet "{current}"; unjoin it there first')
    if current or dry_run:
        return False
    try:
        client.create(identity.property_object(identity.CLUSTERSET_PROPERTY, clusterset))
    except AlreadyExists:
        return False
    return True
