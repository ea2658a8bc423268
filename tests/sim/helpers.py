from __future__ import annotations

from typing import Any

from simulator.fleet import Fleet

CLUSTERS = [
    {"name": "c1", "labels": {"region": "eu"}},
    {"name": "c2", "labels": {"region": "us"}},
    {"name": "c3", "labels": {"region": "asia"}},
]
TYPES = ("namespaces", "configmaps", "deployments.apps", "services", "serviceaccounts")


def fleet(**kwargs: Any) -> Fleet:
    f = Fleet(kwargs.pop("clusters", CLUSTERS), **kwargs)
    for t in TYPES:
        f.enable(t)
    assert f.settle()
    return f


def namespace(name: str = "shop") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def fed_namespace(name: str = "shop", placement: Any = None) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedNamespace",
        "metadata": {"name": name, "namespace": name},
        "spec": {"placement": placement if placement is not None else {"clusterSelector": {}}},
    }


def fed_configmap(
    name: str = "cfg", ns: str = "shop", data: Any = None, placement: Any = None, **spec: Any
) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedConfigMap",
        "metadata": {"name": name, "namespace": ns, **spec.pop("meta", {})},
        "spec": {
            "template": {"data": data if data is not None else {"k": "v"}},
            "placement": placement if placement is not None else {"clusterSelector": {}},
            **spec,
        },
    }


def fed_deployment(name: str = "web", ns: str = "shop", replicas: int = 2, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedDeployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": {"app": name}},
                    "template": {
                        "metadata": {"labels": {"app": name}},
                        "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
                    },
                },
            },
            "placement": spec.pop("placement", {"clusterSelector": {}}),
            **spec,
        },
    }


def with_app(f: Fleet, *objs: dict[str, Any], ns: str = "shop") -> None:
    f.apply([namespace(ns), fed_namespace(ns), *objs])
    assert f.settle()


def fed_status(f: Fleet, kind: str, name: str, ns: str = "shop") -> dict[str, Any]:
    obj = f.host_server.get("types.kubefed.io/v1beta1", kind, ns, name)
    return dict(obj.get("status") or {})


def cluster_statuses(f: Fleet, kind: str, name: str, ns: str = "shop") -> dict[str, str]:
    return {c["name"]: c.get("status", "") for c in fed_status(f, kind, name, ns).get("clusters", [])}


def condition(f: Fleet, kind: str, name: str, ns: str = "shop") -> tuple[str, str]:
    cond = fed_status(f, kind, name, ns)["conditions"][0]
    return cond["status"], cond.get("reason", "")


def cm(f: Fleet, cluster: str, name: str = "cfg", ns: str = "shop") -> dict[str, Any] | None:
    return f.member_object(cluster, "v1", "ConfigMap", ns, name)
