"""The ClusterClient contract, the same cases on the simulator and on a real kube-apiserver.

Whatever the simulator does differently from the real API server fails here: the
simulator is then fixed to behave like the real one (docs/simulator.md).
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

import pytest

from kubectl_kubefed.api.objects import Obj
from kubectl_kubefed.sync.client import WatchEvent
from kubectl_kubefed.sync.errors import AlreadyExists, Conflict, Forbidden, Gone, Invalid, NotFound
from kubectl_kubefed.sync.informer import Informer
from tests.conformance.conftest import CRD_GROUP, Backend, crd

WIDGETS = crd("Widget", "widgets", status=True)
GADGETS = crd("Gadget", "gadgets", status=False)
API = f"{CRD_GROUP}/v1"


def _gone(b: Backend, api_version: str, kind: str, name: str) -> bool:
    try:
        b.client.get(api_version, kind, b.namespace, name)
    except NotFound:
        return True
    return False


# -- optimistic concurrency ----------------------------------------------------------


def test_create_existing_is_already_exists(backend: Backend) -> None:
    backend.client.create(backend.configmap("a", data={"k": "1"}))
    with pytest.raises(AlreadyExists):
        backend.client.create(backend.configmap("a", data={"k": "2"}))


def test_update_with_stale_resource_version_is_conflict(backend: Backend) -> None:
    created = backend.client.create(backend.configmap("a", data={"k": "1"}))
    first = dict(created, data={"k": "2"})
    backend.client.update(first)
    with pytest.raises(Conflict):
        backend.client.update(dict(created, data={"k": "3"}))
    assert backend.client.get("v1", "ConfigMap", backend.namespace, "a")["data"] == {"k": "2"}


def test_update_of_a_missing_object_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.client.update(backend.configmap("missing", data={"k": "1"}))


def test_noop_update_keeps_the_resource_version(backend: Backend) -> None:
    created = backend.client.create(backend.configmap("a", data={"k": "1"}))
    again = backend.client.update(created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


# -- apply ---------------------------------------------------------------------------


def test_apply_merges_labels_and_annotations_and_keeps_fields_not_given(backend: Backend) -> None:
    backend.apply(
        backend.configmap(
            "a",
            metadata={"labels": {"a": "1", "b": "1"}, "annotations": {"x": "1"}},
            data={"k": "1"},
            binaryData={"bin": "AA=="},
        )
    )
    backend.apply(
        backend.configmap(
            "a", metadata={"labels": {"b": "2", "c": "2"}, "annotations": {"y": "2"}}, data={"k": "2"}
        )
    )
    got = backend.client.get("v1", "ConfigMap", backend.namespace, "a")
    assert got["metadata"]["labels"] == {"a": "1", "b": "2", "c": "2"}
    assert got["metadata"]["annotations"] == {"x": "1", "y": "2"}
    assert got["data"] == {"k": "2"}  # a given field replaces the current one
    assert got["binaryData"] == {"bin": "AA=="}  # a field not given stays


# -- status subresource ----------------------------------------------------------------


def _widget(b: Backend, name: str, **fields: Any) -> Obj:
    return {
        "apiVersion": API,
        "kind": "Widget",
        "metadata": {"name": name, "namespace": b.namespace},
        **fields,
    }


def test_status_subresource(backend: Backend) -> None:
    backend.ensure_crd(WIDGETS)
    c = backend.client
    created = c.create(_widget(backend, "w", spec={"size": 1}, status={"phase": "ignored"}))
    assert "status" not in created  # create ignores status
    assert created["metadata"]["generation"] == 1
    # update_status writes status only: a changed spec is ignored, the generation stays
    with_status = c.update_status(dict(created, spec={"size": 9}, status={"phase": "Ready"}))
    assert with_status["spec"] == {"size": 1}
    assert with_status["status"] == {"phase": "Ready"}
    assert with_status["metadata"]["generation"] == 1
    # update writes all but status: a changed status is ignored, a changed spec counts
    updated = c.update(dict(with_status, spec={"size": 2}, status={"phase": "Lost"}))
    assert updated["status"] == {"phase": "Ready"}
    assert updated["spec"] == {"size": 2}
    assert updated["metadata"]["generation"] == 2
    # a stale resourceVersion conflicts for the status too
    with pytest.raises(Conflict):
        c.update_status(dict(with_status, status={"phase": "Stale"}))
    # metadata-only changes do not count as a new generation
    labelled = c.update(dict(updated, metadata={**updated["metadata"], "labels": {"l": "1"}}))
    assert labelled["metadata"]["generation"] == 2


def test_without_status_subresource_update_writes_status_and_update_status_is_not_found(
    backend: Backend,
) -> None:
    backend.ensure_crd(GADGETS)
    c = backend.client
    obj = {"apiVersion": API, "kind": "Gadget", "metadata": {"name": "g", "namespace": backend.namespace}}
    created = c.create({**obj, "spec": {"a": 1}, "status": {"phase": "kept"}})
    assert created["status"] == {"phase": "kept"}
    updated = c.update(dict(created, status={"phase": "new"}))
    assert updated["status"] == {"phase": "new"}
    with pytest.raises(NotFound):
        c.update_status(dict(updated, status={"phase": "other"}))


# -- deletion --------------------------------------------------------------------------


def test_finalizers_hold_a_deleted_object_until_removed(backend: Backend) -> None:
    c = backend.client
    c.create(backend.configmap("held", metadata={"finalizers": ["example.com/hold"]}))
    c.delete("v1", "ConfigMap", backend.namespace, "held")
    held = c.get("v1", "ConfigMap", backend.namespace, "held")
    assert held["metadata"].get("deletionTimestamp")
    assert held["metadata"]["deletionGracePeriodSeconds"] == 0
    assert held["metadata"]["finalizers"] == ["example.com/hold"]
    # deleting again changes nothing
    c.delete("v1", "ConfigMap", backend.namespace, "held")
    again = c.get("v1", "ConfigMap", backend.namespace, "held")
    assert again["metadata"]["deletionTimestamp"] == held["metadata"]["deletionTimestamp"]
    c.update(dict(again, metadata={**again["metadata"], "finalizers": []}))
    backend.eventually(lambda: _gone(backend, "v1", "ConfigMap", "held"), what="held gone")


def test_finalizers_hold_a_custom_resource_and_its_generation_counts_the_deletion(backend: Backend) -> None:
    backend.ensure_crd(WIDGETS)
    c = backend.client
    created = c.create(_widget(backend, "w", spec={"size": 1}))
    c.update(dict(created, metadata={**created["metadata"], "finalizers": ["example.com/hold"]}))
    c.delete(API, "Widget", backend.namespace, "w")
    held = c.get(API, "Widget", backend.namespace, "w")
    assert held["metadata"].get("deletionTimestamp")
    assert held["metadata"]["generation"] == 2
    c.update(dict(held, metadata={**held["metadata"], "finalizers": []}))
    backend.eventually(lambda: _gone(backend, API, "Widget", "w"), what="widget gone")


def _owner_and_dependent(b: Backend, *, hold_dependent: bool = False) -> tuple[Obj, Obj]:
    owner = b.client.create(b.configmap("owner"))
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
        "blockOwnerDeletion": True,
    }
    meta: dict[str, Any] = {"ownerReferences": [ref]}
    if hold_dependent:
        meta["finalizers"] = ["example.com/hold"]
    dependent = b.client.create(b.configmap("dependent", metadata=meta))
    return owner, dependent


def test_background_deletion_collects_the_dependent(backend: Backend) -> None:
    _owner_and_dependent(backend)
    backend.client.delete("v1", "ConfigMap", backend.namespace, "owner", {"propagationPolicy": "Background"})
    assert _gone(backend, "v1", "ConfigMap", "owner")  # the owner goes at once
    backend.eventually(lambda: _gone(backend, "v1", "ConfigMap", "dependent"), what="dependent collected")


def test_default_deletion_is_background(backend: Backend) -> None:
    _owner_and_dependent(backend)
    backend.client.delete("v1", "ConfigMap", backend.namespace, "owner")
    backend.eventually(lambda: _gone(backend, "v1", "ConfigMap", "dependent"), what="dependent collected")


def test_orphan_deletion_keeps_the_dependent_without_owner_reference(backend: Backend) -> None:
    _owner_and_dependent(backend)
    backend.client.delete("v1", "ConfigMap", backend.namespace, "owner", {"propagationPolicy": "Orphan"})
    backend.eventually(lambda: _gone(backend, "v1", "ConfigMap", "owner"), what="owner gone")
    dependent = backend.client.get("v1", "ConfigMap", backend.namespace, "dependent")
    assert not dependent["metadata"].get("ownerReferences")
    assert not dependent["metadata"].get("deletionTimestamp")


def test_foreground_deletion_keeps_the_owner_until_its_blocking_dependent_is_gone(backend: Backend) -> None:
    _owner_and_dependent(backend, hold_dependent=True)
    c, ns = backend.client, backend.namespace
    c.delete("v1", "ConfigMap", ns, "owner", {"propagationPolicy": "Foreground"})
    owner = c.get("v1", "ConfigMap", ns, "owner")
    assert owner["metadata"].get("deletionTimestamp")
    assert "foregroundDeletion" in owner["metadata"]["finalizers"]
    held = backend.eventually(
        lambda: (d := c.get("v1", "ConfigMap", ns, "dependent"))["metadata"].get("deletionTimestamp") and d,
        what="dependent being deleted",
    )
    assert c.get("v1", "ConfigMap", ns, "owner")["metadata"].get("deletionTimestamp")  # still there
    c.update(dict(held, metadata={**held["metadata"], "finalizers": []}))
    backend.eventually(lambda: _gone(backend, "v1", "ConfigMap", "dependent"), what="dependent gone")
    backend.eventually(lambda: _gone(backend, "v1", "ConfigMap", "owner"), what="owner gone")


# -- watch ---------------------------------------------------------------------------


class Events:
    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self._lock = threading.Lock()

    def __call__(self, event: WatchEvent) -> None:
        with self._lock:
            self.events.append(event)

    def seen(self) -> list[tuple[str, str]]:
        with self._lock:
            return [
                (e.type, str(e.obj.get("metadata", {}).get("name", e.obj.get("code", ""))))
                for e in self.events
            ]


def test_watch_resumes_from_a_resource_version(backend: Backend) -> None:
    c, ns = backend.client, backend.namespace
    a = c.create(backend.configmap("a", data={"k": "1"}))
    _, rv = c.list("v1", "ConfigMap", ns)
    c.create(backend.configmap("b"))
    c.update(dict(a, data={"k": "2"}))
    c.delete("v1", "ConfigMap", ns, "b")
    events = Events()
    watch = c.watch("v1", "ConfigMap", events, namespace=ns, resource_version=rv)
    try:
        want = [("ADDED", "b"), ("MODIFIED", "a"), ("DELETED", "b")]
        backend.eventually(lambda: [e for e in events.seen() if e[1] in "ab"] == want, what=f"events {want}")
    finally:
        watch.stop()


def test_what_feeds_a_cache_has_no_managed_fields_and_updates_keep_the_servers(backend: Backend) -> None:
    """Lists, watches and write answers leave managedFields out (the caches' memory,
    issue 16); ``get`` keeps them, and an update that omits them does not reset them."""
    c, ns = backend.client, backend.namespace
    created = c.create(backend.configmap("mf", data={"k": "1"}))
    assert "managedFields" not in created["metadata"]
    managers = {
        e.get("manager") for e in c.get("v1", "ConfigMap", ns, "mf")["metadata"].get("managedFields") or []
    }
    listed = next(o for o in c.list("v1", "ConfigMap", ns)[0] if o["metadata"]["name"] == "mf")
    assert "managedFields" not in listed["metadata"]
    seen: list[Obj] = []
    lock = threading.Lock()

    def handler(event: WatchEvent) -> None:
        with lock:
            seen.append(event.obj)

    watch = c.watch(
        "v1", "ConfigMap", handler, namespace=ns, resource_version=listed["metadata"]["resourceVersion"]
    )
    try:
        updated = c.update(dict(listed, data={"k": "2"}))
        assert "managedFields" not in updated["metadata"]
        backend.eventually(
            lambda: any(o["metadata"].get("name") == "mf" for o in list(seen)), what="MODIFIED mf"
        )
        assert all("managedFields" not in o["metadata"] for o in seen)
    finally:
        watch.stop()
    after = c.get("v1", "ConfigMap", ns, "mf")["metadata"].get("managedFields") or []
    assert {e.get("manager") for e in after} == managers  # the real API server's: still there


def test_watch_from_before_a_kind_was_served_ends_with_410(backend: Backend) -> None:
    """The API server's watch cache of a kind starts when the kind starts being served (a
    CRD's, when the CRD is established): a resourceVersion from before is too old."""
    backend.ensure_crd(WIDGETS)
    events = Events()
    try:
        watch = backend.client.watch(API, "Widget", events, namespace=backend.namespace, resource_version="1")
    except Gone:
        raise AssertionError(
            "a real API server answers 410 as the watch's ERROR event, not the request"
        ) from None
    try:
        backend.eventually(lambda: events.seen() == [("ERROR", "410")], what="ERROR 410")
    finally:
        watch.stop()


def test_informer_relists_after_410(backend: Backend) -> None:
    backend.ensure_crd(WIDGETS)
    c, ns = backend.client, backend.namespace
    c.create(_widget(backend, "a"))
    informer = Informer(c, API, "Widget", namespace=ns)
    informer._resource_version = "1"  # as if the informer had been away for long
    informer._start_watch()
    try:
        c.create(_widget(backend, "b"))
        backend.eventually(
            lambda: {"a", "b"} <= {k[1] for k in informer._store}, what="re-listed and watching"
        )
        # the new watch is started right after the re-list (not in the same instant)
        backend.eventually(lambda: informer._watch is not None, what="watching again")
    finally:
        informer.stop()


# -- discovery, serving, identity ------------------------------------------------------


def test_cluster_scoped_kinds_ignore_the_namespace_and_namespaced_lists_span_namespaces(
    backend: Backend,
) -> None:
    c, ns = backend.client, backend.namespace
    assert c.get("v1", "Namespace", "", ns)["metadata"]["name"] == ns
    c.create(backend.configmap("a"))
    every, _ = c.list("v1", "ConfigMap")
    assert any(o["metadata"]["name"] == "a" and o["metadata"]["namespace"] == ns for o in every)
    with pytest.raises(NotFound):
        c.create(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": f"{ns}-none"}}
        )


def test_a_crd_makes_its_kind_served_and_deleting_it_unserves_it(backend: Backend) -> None:
    c = backend.client
    group = f"g{secrets.token_hex(3)}.{CRD_GROUP}"
    definition = crd("Thing", "things", status=False, group=group)
    with pytest.raises(NotFound):
        c.list(f"{group}/v1", "Thing")
    backend.ensure_crd(definition)
    c.create(
        {
            "apiVersion": f"{group}/v1",
            "kind": "Thing",
            "metadata": {"name": "t", "namespace": backend.namespace},
        }
    )
    assert [o["metadata"]["name"] for o in c.list(f"{group}/v1", "Thing", backend.namespace)[0]] == ["t"]
    c.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", definition["metadata"]["name"])

    def unserved() -> bool:
        try:
            c.list(f"{group}/v1", "Thing")
        except NotFound:
            return True
        return False

    backend.eventually(unserved, what="kind no longer served")


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [("v1", "NoSuchKind"), ("apps/v1", "NoSuchKind"), ("nothing.example.com/v1", "Thing")],
)
def test_a_kind_not_served_is_not_found(backend: Backend, api_version: str, kind: str) -> None:
    c = backend.client
    with pytest.raises(NotFound):
        c.list(api_version, kind)
    with pytest.raises(NotFound):
        c.get(api_version, kind, backend.namespace, "x")
    with pytest.raises(NotFound):
        c.create(
            {
                "apiVersion": api_version,
                "kind": kind,
                "metadata": {"name": "x", "namespace": backend.namespace},
            }
        )


def test_a_restricted_identity_is_forbidden_what_it_may_not_do(backend: Backend) -> None:
    backend.client.create(backend.configmap("a", data={"k": "1"}))
    limited = backend.restricted(backend.namespace, ["get"], "configmaps")
    assert limited.get("v1", "ConfigMap", backend.namespace, "a")["data"] == {"k": "1"}
    with pytest.raises(NotFound):
        limited.get("v1", "ConfigMap", backend.namespace, "missing")
    for call in (
        lambda: limited.list("v1", "ConfigMap", backend.namespace),
        lambda: limited.create(backend.configmap("b")),
        lambda: limited.delete("v1", "ConfigMap", backend.namespace, "a"),
        lambda: limited.get("v1", "Secret", backend.namespace, "a"),
        lambda: limited.get("v1", "ConfigMap", "default", "a"),
    ):
        with pytest.raises(Forbidden) as err:
            call()
        assert err.value.code == 403


@pytest.mark.parametrize(
    ("api_version", "kind", "plural", "namespaced"),
    [
        ("v1", "ConfigMap", "configmaps", True),
        ("v1", "Namespace", "namespaces", False),
        ("apps/v1", "Deployment", "deployments", True),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", False),
        ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", True),
    ],
)
def test_discovery_of_built_in_kinds(
    backend: Backend, api_version: str, kind: str, plural: str, namespaced: bool
) -> None:
    served = backend.client.served(api_version, kind)
    assert (served.plural, served.namespaced) == (plural, namespaced)


def test_discovery_of_a_crd_and_of_kinds_not_served(backend: Backend) -> None:
    backend.ensure_crd(WIDGETS)
    served = backend.client.served(API, "Widget")
    assert (served.plural, served.namespaced) == ("widgets", True)
    cluster_scoped = crd("Site", "sites", status=False, scope="Cluster")
    backend.ensure_crd(cluster_scoped)
    assert backend.client.served(API, "Site").namespaced is False
    for api_version, kind in (("v1", "NoSuchKind"), ("nothing.example.com/v1", "Thing")):
        with pytest.raises(NotFound):
            backend.client.served(api_version, kind)


# -- more of what controllers rely on --------------------------------------------------


def test_create_with_generate_name(backend: Backend) -> None:
    meta = {"generateName": "gen-", "namespace": backend.namespace}
    created = backend.client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})
    name = created["metadata"]["name"]
    assert name.startswith("gen-") and len(name) == len("gen-") + 5


def test_delete_preconditions(backend: Backend) -> None:
    c, ns = backend.client, backend.namespace
    created = c.create(backend.configmap("a"))
    with pytest.raises(Conflict):
        c.delete(
            "v1", "ConfigMap", ns, "a", {"preconditions": {"uid": "00000000-0000-0000-0000-000000000000"}}
        )
    with pytest.raises(Conflict):
        c.delete("v1", "ConfigMap", ns, "a", {"preconditions": {"resourceVersion": "1"}})
    c.delete("v1", "ConfigMap", ns, "a", {"preconditions": {"uid": created["metadata"]["uid"]}})
    assert _gone(backend, "v1", "ConfigMap", "a")
    with pytest.raises(NotFound):
        c.delete("v1", "ConfigMap", ns, "a")


def test_a_label_selector_watch_sees_objects_enter_and_leave(backend: Backend) -> None:
    c, ns = backend.client, backend.namespace
    events = Events()
    _, rv = c.list("v1", "ConfigMap", ns, label_selector="app=web")
    watch = c.watch("v1", "ConfigMap", events, namespace=ns, label_selector="app=web", resource_version=rv)
    try:
        a = c.create(backend.configmap("a"))
        a = c.update(dict(a, metadata={**a["metadata"], "labels": {"app": "web"}}))
        a = c.update(dict(a, data={"k": "1"}))
        c.update(dict(a, metadata={**a["metadata"], "labels": {"app": "db"}}))
        want = [("ADDED", "a"), ("MODIFIED", "a"), ("DELETED", "a")]
        backend.eventually(lambda: events.seen() == want, what=f"events {want}")
    finally:
        watch.stop()


def test_a_terminating_namespace_refuses_new_content_and_goes_once_empty(backend: Backend) -> None:
    c = backend.client
    ns = f"{backend.namespace}-t"
    c.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    held = {"name": "held", "namespace": ns, "finalizers": ["example.com/hold"]}
    c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": held})
    c.delete("v1", "Namespace", "", ns)
    namespace = c.get("v1", "Namespace", "", ns)
    assert namespace["metadata"].get("deletionTimestamp")
    assert namespace["status"]["phase"] == "Terminating"
    with pytest.raises(Forbidden):
        c.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": ns}})
    cm = backend.eventually(
        lambda: (o := c.get("v1", "ConfigMap", ns, "held"))["metadata"].get("deletionTimestamp") and o,
        what="content being deleted",
    )
    c.update(dict(cm, metadata={**cm["metadata"], "finalizers": []}))

    def namespace_gone() -> bool:
        try:
            c.get("v1", "Namespace", "", ns)
        except NotFound:
            return True
        return False

    backend.eventually(namespace_gone, timeout=60, what="namespace gone")


def test_unconditional_update_and_kinds_without_generation(backend: Backend) -> None:
    c = backend.client
    created = c.create(backend.configmap("a", data={"k": "1"}))
    assert "generation" not in created["metadata"]
    meta = {k: v for k, v in created["metadata"].items() if k != "resourceVersion"}
    updated = c.update(dict(created, metadata=meta, data={"k": "2"}))  # no resourceVersion: last write wins
    assert updated["data"] == {"k": "2"}
    assert "generation" not in updated["metadata"]


def test_update_status_ignores_metadata_changes(backend: Backend) -> None:
    backend.ensure_crd(WIDGETS)
    created = backend.client.create(_widget(backend, "w", spec={"size": 1}))
    meta = {**created["metadata"], "labels": {"sneaked": "in"}}
    after = backend.client.update_status(dict(created, metadata=meta, status={"phase": "Ready"}))
    assert not after["metadata"].get("labels")
    assert after["status"] == {"phase": "Ready"}


@pytest.mark.parametrize("name", ["Bad_Name", "UPPER", "-lead"])
def test_an_invalid_name_is_invalid(backend: Backend, name: str) -> None:
    with pytest.raises(Invalid):
        backend.client.create(backend.configmap(name))


def test_a_service_keeps_its_cluster_ip_and_refuses_another(backend: Backend) -> None:
    c = backend.client
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": backend.namespace},
        "spec": {"ports": [{"port": 80}]},
    }
    created = c.create(svc)
    ip = created["spec"]["clusterIP"]
    assert ip and created["spec"]["clusterIPs"] == [ip]
    kept = c.update(dict(created, spec={"ports": [{"port": 81}]}))
    assert kept["spec"]["clusterIP"] == ip
    with pytest.raises(Invalid):
        c.update(dict(kept, spec={**kept["spec"], "clusterIP": "10.0.0.99", "clusterIPs": ["10.0.0.99"]}))
