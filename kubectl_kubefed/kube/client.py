"""``ClusterClient`` for a real API server: discovery, CRUD, status, watches, health."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kubectl_kubefed.api.names import join_api_version
from kubectl_kubefed.api.objects import Obj, kind_of, name_of, namespace_of
from kubectl_kubefed.api.validation import path_segment_name
from kubectl_kubefed.api.validation import quote as quote_for_message
from kubectl_kubefed.kube.rest import Rest
from kubectl_kubefed.sync import errors
from kubectl_kubefed.sync.client import ServedKind, WatchEvent

WATCH_SECONDS = 240
LIST_PAGE_SIZE = 500  # objects per list request, as kubectl and client-go's pager
LIST_RESTARTS = 2  # a list whose continue token expired is read again from the start


def _segment(value: str) -> str:
    """A name as one URL path segment: never ``..`` or a ``/`` that would address another
    object (the API server refuses such names, as ValidatePathSegmentName does)."""
    problem = path_segment_name(value)
    if problem is not None:
        raise errors.Invalid(f"name {quote_for_message(value)} {problem}")
    return quote(value, safe="")


@dataclass(frozen=True)
class ApiResource:
    """One resource a server serves, as its discovery document lists it."""

    group: str
    version: str
    kind: str
    plural: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...]
    verbs: tuple[str, ...]

    @property
    def api_version(self) -> str:
        return join_api_version(self.group, self.version)

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


def parse_resources(api_version: str, listing: Mapping[str, Any]) -> list[ApiResource]:
    """The resources of a group/version discovery document (subresources left out)."""
    group, _, version = api_version.rpartition("/")
    out = []
    for r in listing.get("resources") or []:
        if "/" in str(r.get("name")):
            continue  # subresources
        out.append(
            ApiResource(
                group,
                version,
                str(r["kind"]),
                str(r["name"]),
                str(r.get("singularName") or str(r["kind"]).lower()),
                bool(r.get("namespaced")),
                tuple(r.get("shortNames") or ()),
                tuple(r.get("verbs") or ()),
            )
        )
    return out


class Discovery:
    """Kind -> resource, per group/version, fetched once and refreshed on a miss. The one
    reader of discovery documents (kube/discovery.py builds server-wide lookups on it)."""

    def __init__(self, rest: Rest) -> None:
        self._rest = rest
        self._cache: dict[str, dict[str, ApiResource]] = {}
        self._lock = threading.Lock()

    def fetch(self, api_version: str) -> list[ApiResource]:
        """The resources of one group/version, read now (and cached); NotFound when not served."""
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            listing = self._rest.request("get", "GET", path)
        except errors.NotFound:
            raise errors.NotFound(f"the server does not serve {api_version}") from None
        resources = parse_resources(api_version, listing)
        with self._lock:
            self._cache[api_version] = {r.kind: r for r in resources}
        return resources

    def resource(self, api_version: str, kind: str) -> ApiResource:
        with self._lock:
            known = self._cache.get(api_version, {}).get(kind)
        if known is not None:
            return known
        fetched = {r.kind: r for r in self.fetch(api_version)}
        if kind not in fetched:
            raise errors.NotFound(f"the server does not serve {kind} in {api_version}")
        return fetched[kind]

    def forget(self, api_version: str) -> None:
        with self._lock:
            self._cache.pop(api_version, None)


def _without_managed_fields(obj: Obj) -> Obj:
    """Lists, watches and write answers feed the controllers' caches, where managedFields
    (server-side apply's bookkeeping, often the larger part of a small object's metadata)
    would only take memory: nothing here reads them, and an update that omits them leaves
    them as they are on the server."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
    return obj


class _Watch:
    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.response: Any = None

    def stop(self) -> None:
        self.stopped.set()
        resp = self.response
        if resp is not None:
            try:
                resp.shutdown()
            except Exception:  # the connection may already be gone
                resp.release_conn()


class KubeClusterClient:
    """One cluster. Thread-safe; watches deliver events from their own threads."""

    def __init__(self, rest: Rest, name: str) -> None:
        self.rest = rest
        self.name = name
        self.discovery = Discovery(rest)
        self.page_size = LIST_PAGE_SIZE
        # Every write is the API server's dry run (``?dryRun=All``): admitted, validated,
        # defaulted and answered, never stored (``--dry-run=server``).
        self.server_dry_run = False

    @property
    def requests(self) -> dict[str, int]:
        return dict(self.rest.requests)

    def _path(self, api_version: str, kind: str, namespace: str = "", name: str = "") -> str:
        res = self.served(api_version, kind)
        base = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        if res.namespaced and namespace:
            base += f"/namespaces/{_segment(namespace)}"
        base += f"/{res.plural}"
        if name:
            base += f"/{_segment(name)}"
        return base

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> Obj:
        obj: Obj = self.rest.request("get", "GET", self._path(api_version, kind, namespace, name))
        return obj

    def list(
        self, api_version: str, kind: str, namespace: str = "", label_selector: str = ""
    ) -> tuple[list[Obj], str]:
        """Every object, read in pages of ``page_size`` (``limit``/``continue``) so that a large
        member is never one huge answer; the resourceVersion is the last page's, the one
        the whole list is consistent with (a watch starts from it)."""
        path = self._path(api_version, kind, namespace)
        query: dict[str, Any] = {"limit": self.page_size}
        if label_selector:
            query["labelSelector"] = label_selector
        items: list[Obj] = []
        restarts = 0
        while True:
            try:
                result = self.rest.request("list", "GET", path, query=query)
            except errors.Gone:
                # The continue token expired (compaction) while paging: list again from
                # the start, a few times, so that the pages stay one consistent list.
                if "continue" not in query or restarts == LIST_RESTARTS:
                    raise
                restarts += 1
                query.pop("continue")
                items = []
                continue
            for item in result.get("items") or []:
                # List items omit apiVersion and kind; put them back so objects are self-describing.
                item.setdefault("apiVersion", api_version)
                item.setdefault("kind", kind)
                items.append(_without_managed_fields(item))
            meta = result.get("metadata") or {}
            token = str(meta.get("continue") or "")
            if not token:
                return items, str(meta.get("resourceVersion") or "")
            query["continue"] = token

    def watch(
        self,
        api_version: str,
        kind: str,
        handler: Callable[[WatchEvent], None],
        *,
        namespace: str = "",
        label_selector: str = "",
        resource_version: str = "",
    ) -> _Watch:
        path = self._path(api_version, kind, namespace)
        query: dict[str, Any] = {"watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": WATCH_SECONDS}
        if label_selector:
            query["labelSelector"] = label_selector
        if resource_version:
            query["resourceVersion"] = resource_version
        resp, lines = self.rest.stream(path, query, WATCH_SECONDS + 15)
        watch = _Watch()
        watch.response = resp

        def run() -> None:
            try:
                for event in lines:
                    if watch.stopped.is_set():
                        return
                    etype = str(event.get("type"))
                    obj = event.get("object") or {}
                    if etype == "ERROR":
                        handler(WatchEvent("ERROR", {"code": obj.get("code")}))
                        return
                    obj.setdefault("apiVersion", api_version)
                    obj.setdefault("kind", kind)
                    handler(WatchEvent(etype, _without_managed_fields(obj)))
            except Exception:  # a broken stream ends the watch; the informer resumes it
                pass
            if not watch.stopped.is_set():
                handler(WatchEvent("ERROR", {}))

        threading.Thread(target=run, name=f"watch-{self.name}-{kind}", daemon=True).start()
        return watch

    def _write_query(self) -> dict[str, str] | None:
        return {"dryRun": "All"} if self.server_dry_run else None

    def create(self, obj: Mapping[str, Any]) -> Obj:
        path = self._path(str(obj.get("apiVersion")), kind_of(obj), namespace_of(obj))
        created: Obj = self.rest.request("create", "POST", path, body=dict(obj), query=self._write_query())
        return _without_managed_fields(created)

    def update(self, obj: Mapping[str, Any]) -> Obj:
        path = self._path(str(obj.get("apiVersion")), kind_of(obj), namespace_of(obj), name_of(obj))
        updated: Obj = self.rest.request("update", "PUT", path, body=dict(obj), query=self._write_query())
        return _without_managed_fields(updated)

    def update_status(self, obj: Mapping[str, Any]) -> Obj:
        path = self._path(str(obj.get("apiVersion")), kind_of(obj), namespace_of(obj), name_of(obj))
        updated: Obj = self.rest.request(
            "update", "PUT", path + "/status", body=dict(obj), query=self._write_query()
        )
        return _without_managed_fields(updated)

    def delete(
        self, api_version: str, kind: str, namespace: str, name: str, options: Mapping[str, Any] | None = None
    ) -> None:
        body = {"apiVersion": "v1", "kind": "DeleteOptions", **dict(options or {})}
        if self.server_dry_run:
            body["dryRun"] = ["All"]
        path = self._path(api_version, kind, namespace, name)
        self.rest.request("delete", "DELETE", path, body=body, query=self._write_query())

    def served(self, api_version: str, kind: str) -> ServedKind:
        try:
            res = self.discovery.resource(api_version, kind)
        except errors.NotFound:
            self.discovery.forget(api_version)
            raise
        return ServedKind(api_version, kind, res.plural, res.namespaced)

    def healthz(self, timeout: float | None = None) -> str:
        return str(self.rest.request("get", "GET", "/healthz", raw=True, timeout=timeout))

    def version(self) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self.rest.request("get", "GET", "/version")
        return result
