"""Template annotations on member objects: propagated, kept up to date, and the member's
own annotations kept (docs/deviations.md, "Member objects")."""

from __future__ import annotations

from typing import Any

from simulator.fleet import Fleet
from tests.sim.helpers import cm, fed_configmap, fed_deployment, fed_namespace, fleet, namespace, with_app

OWNED = "kubefed.io/owned-annotations"
INJECT = "cert-manager.io/inject-ca-from-secret"
SCRAPE = "prometheus.io/scrape"


def annotated(obj: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
    obj["spec"]["template"].setdefault("metadata", {})["annotations"] = annotations
    return obj


def deployment(f: Fleet, cluster: str) -> dict[str, Any]:
    return f.servers[cluster].get("apps/v1", "Deployment", "shop", "web")


def member_edit(f: Fleet, cluster: str, api_version: str, kind: str, name: str, **added: str) -> None:
    """What a controller in the member does: add annotations of its own."""
    server = f.servers[cluster]
    live = server.get(api_version, kind, "shop", name)
    live["metadata"].setdefault("annotations", {}).update(added)
    server.update(live)


def assert_quiet(f: Fleet) -> None:
    """Settled means settled: ten minutes later nothing was written anywhere."""
    writes = f.write_requests()
    f.advance(600)
    assert f.settle()
    assert f.write_requests() == writes


def test_template_annotations_reach_every_member_with_the_record() -> None:
    f = fleet()
    with_app(f, annotated(fed_deployment(), {INJECT: "shop/ca", SCRAPE: "true"}))
    for c in ("c1", "c2", "c3"):
        assert deployment(f, c)["metadata"]["annotations"] == {
            INJECT: "shop/ca",
            SCRAPE: "true",
            OWNED: f"{INJECT},{SCRAPE}",
        }
    assert_quiet(f)


def test_member_added_annotations_survive_template_updates_and_removals() -> None:
    f = fleet()
    with_app(f, annotated(fed_deployment(), {INJECT: "shop/ca", SCRAPE: "true"}))
    member_edit(f, "c1", "apps/v1", "Deployment", "web", **{"member.example.com/seen": "yes"})
    assert f.settle()
    assert deployment(f, "c1")["metadata"]["annotations"]["member.example.com/seen"] == "yes"
    assert_quiet(f)  # a member's annotation does not make the controller write again

    f.apply([annotated(fed_deployment(replicas=3), {INJECT: "shop/ca2"})])  # scrape removed
    assert f.settle()
    c1 = deployment(f, "c1")
    assert c1["spec"]["replicas"] == 3
    assert c1["metadata"]["annotations"] == {
        INJECT: "shop/ca2",
        "member.example.com/seen": "yes",
        OWNED: INJECT,
    }
    assert deployment(f, "c2")["metadata"]["annotations"] == {INJECT: "shop/ca2", OWNED: INJECT}
    assert_quiet(f)

    f.apply([fed_deployment(replicas=3)])  # no annotations left in the template
    assert f.settle()
    assert deployment(f, "c1")["metadata"]["annotations"] == {"member.example.com/seen": "yes"}
    assert "annotations" not in deployment(f, "c2")["metadata"]
    assert_quiet(f)


def test_an_owned_annotation_changed_in_a_member_is_restored() -> None:
    f = fleet()
    with_app(f, annotated(fed_configmap(), {SCRAPE: "true"}))
    member_edit(f, "c2", "v1", "ConfigMap", "cfg", **{SCRAPE: "false", "other": "x"})
    assert f.settle()
    assert cm(f, "c2")["metadata"]["annotations"] == {  # type: ignore[index]
        SCRAPE: "true",
        "other": "x",
        OWNED: SCRAPE,
    }
    assert_quiet(f)  # resourceVersion kinds: one update after the member's change, then none


def test_an_adopted_object_keeps_the_annotations_it_had() -> None:
    f = fleet()
    f.apply([namespace()], cluster="c1")
    f.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "shop", "annotations": {"mine": "1", SCRAPE: "no"}},
                "data": {"k": "old"},
            }
        ],
        cluster="c1",
    )
    with_app(f, annotated(fed_configmap(), {SCRAPE: "true"}))
    assert cm(f, "c1")["metadata"]["annotations"] == {"mine": "1", SCRAPE: "true", OWNED: SCRAPE}  # type: ignore[index]
    f.apply([fed_configmap()])
    assert f.settle()
    assert cm(f, "c1")["metadata"]["annotations"] == {"mine": "1"}  # type: ignore[index]


def test_federated_namespace_template_annotations_reach_member_namespaces() -> None:
    f = fleet()
    fns = fed_namespace()
    fns["spec"]["template"] = {
        "metadata": {"annotations": {"scheduler.alpha.kubernetes.io/node-selector": "a=b"}}
    }
    with_app(f, fns)
    ns = f.servers["c2"].get("v1", "Namespace", "", "shop")
    assert ns["metadata"]["annotations"] == {
        "scheduler.alpha.kubernetes.io/node-selector": "a=b",
        OWNED: "scheduler.alpha.kubernetes.io/node-selector",
    }
    assert_quiet(f)
