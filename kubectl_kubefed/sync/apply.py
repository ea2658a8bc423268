"""Create-or-update ("apply") of one object through any backend: written once, so the
simulator's ``Fleet.apply`` and the real backend's ``kubectl kubefed`` commands merge the
same way (checked by tests/conformance on both backends).

Given top-level fields replace the current ones, fields not given stay; labels and
annotations are merged key by key (a given key wins, keys not given stay); status is
never written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from kubectl_kubefed.api.objects import Obj, kind_of, name_of, namespace_of
from kubectl_kubefed.sync.errors import AlreadyExists, ApiError, Conflict, NotFound

ATTEMPTS = 5


class ReadWrite(Protocol):
    """The part of ``ClusterClient`` apply needs (the simulator's raw server has it too)."""

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj: ...

    def create(self, obj: Mapping[str, Any]) -> Obj: ...

    def update(self, obj: Mapping[str, Any]) -> Obj: ...


def merged(current: Mapping[str, Any], obj: Mapping[str, Any]) -> Obj:
    """The object apply writes over ``current`` for the given ``obj``."""
    new = dict(current)
    for key, value in obj.items():
        if key not in ("metadata", "status"):
            new[key] = value
    meta = dict(current.get("metadata") or {})
    for key in ("labels", "annotations"):
        given = (obj.get("metadata") or {}).get(key)
        if given is not None:
            meta[key] = {**(meta.get(key) or {}), **given}
    new["metadata"] = meta
    return new


def apply(client: ReadWrite, obj: Mapping[str, Any]) -> tuple[Obj, str]:
    """Create the object or replace its spec-level fields; returns (object, created/updated/unchanged)."""
    for _ in range(ATTEMPTS):
        try:
            current = client.get(str(obj.get("apiVersion")), kind_of(obj), namespace_of(obj), name_of(obj))
        except NotFound:
            try:
                return client.create(obj), "created"
            except AlreadyExists:
                continue
        new = merged(current, obj)
        if new == current:
            return current, "unchanged"
        try:
            updated = client.update(new)
        except Conflict:
            continue
        # The server fills defaults we did not send; an update it found to be a no-op
        # keeps the resourceVersion.
        same = (updated.get("metadata") or {}).get("resourceVersion") == new["metadata"].get(
            "resourceVersion"
        )
        return updated, "unchanged" if same else "updated"
    raise ApiError(f"could not apply {kind_of(obj)} {name_of(obj)}: conflicts")
