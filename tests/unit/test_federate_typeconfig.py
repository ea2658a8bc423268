import pytest

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.federate import federate


def test_federate_strips_metadata_and_status() -> None:
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "shop",
            "labels": {"a": "b"},
            "annotations": {
                "x": "y",
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
                "deployment.kubernetes.io/revision": "3",
                "meta.helm.sh/release-name": "r",
                "helm.sh/resource-policy": "keep",
                "postrenderer.helm.sh/postrender-filename": "t.yaml",
                "kubefed.io/clusters": "c1",
            },
            "uid": "u",
            "resourceVersion": "1",
            "ownerReferences": [],
            "finalizers": ["f"],
        },
        "spec": {"replicas": 2},
        "status": {"replicas": 2},
    }
    result = federate(obj, tc.lookup("deploy"))
    assert result.obj == {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedDeployment",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "template": {
                "metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}},
                "spec": {"replicas": 2},
            },
            "placement": {"clusterSelector": {"matchLabels": {}}},
        },
    }
    assert result.warnings == []  # annotations are federated (kubefedctl warned and dropped them)


def test_type_specific_stripping() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s", "namespace": "n"},
        "spec": {
            "clusterIP": "1.2.3.4",
            "clusterIPs": ["1.2.3.4"],
            "ports": [{"port": 80, "nodePort": 30000}],
        },
    }
    assert federate(svc, tc.lookup("svc")).obj["spec"]["template"] == {"spec": {"ports": [{"port": 80}]}}
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "s", "namespace": "n"},
        "secrets": [{"name": "t"}],
    }
    assert federate(sa, tc.lookup("sa")).obj["spec"]["template"] == {}
    ns = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "shop"},
        "spec": {"finalizers": ["kubernetes"]},
    }
    fed_ns = federate(ns, tc.lookup("ns")).obj
    assert fed_ns["kind"] == "FederatedNamespace"
    assert fed_ns["metadata"] == {"name": "shop", "namespace": "shop"}
    assert fed_ns["spec"]["template"] == {}


def test_federated_group_override() -> None:
    t = tc.lookup("cm").with_federated("fed.example.com", "v1")
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}
    assert federate(obj, t).obj["apiVersion"] == "fed.example.com/v1"


def test_cluster_scoped_has_no_namespace() -> None:
    obj = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "r"},
    }
    assert federate(obj, tc.lookup("clusterroles")).obj["metadata"] == {"name": "r"}


@pytest.mark.parametrize(
    ("kind", "plural"),
    [
        ("Deployment", "deployments"),
        ("Ingress", "ingresses"),
        ("Policy", "policies"),
        ("Box", "boxes"),
        ("Match", "matches"),
        ("Wish", "wishes"),
        ("Quiz", "quizes"),
        ("Potato", "potatoes"),
    ],
)
def test_pluralize(kind: str, plural: str) -> None:
    assert tc.pluralize(kind) == plural


def test_lookup_forms() -> None:
    for name in ("deployments", "deployment", "Deployment", "deploy", "deployments.apps", "DEPLOY"):
        assert tc.lookup(name).kind == "Deployment"
    assert tc.lookup("ns").kind == "Namespace"
    with pytest.raises(tc.TypeConfigError, match="unknown type"):
        tc.lookup("nothing")


def test_lookup_ambiguous() -> None:
    types = [
        tc.TypeConfig("Widget", "a.io", "v1", "widgets", True),
        tc.TypeConfig("Widget", "b.io", "v1", "widgets", True),
    ]
    with pytest.raises(tc.TypeConfigError, match="ambiguous"):
        tc.lookup("widgets", types)
    assert tc.lookup("widgets.b.io", types).group == "b.io"


def test_default_enabled_types_are_builtin() -> None:
    builtin = {t.name for t in tc.BUILTIN_TYPES}
    assert set(tc.DEFAULT_ENABLED) <= builtin


def test_ftc_and_crd_generation() -> None:
    t = tc.lookup("deployments.apps")
    ftc = tc.type_config_object(t)
    assert ftc["metadata"]["name"] == "deployments.apps"
    assert ftc["spec"]["federatedType"] == {
        "group": "types.kubefed.io",
        "kind": "FederatedDeployment",
        "pluralName": "federateddeployments",
        "scope": "Namespaced",
        "version": "v1beta1",
    }
    crd = tc.federated_crd(t)
    assert crd["metadata"]["name"] == "federateddeployments.types.kubefed.io"
    assert crd["spec"]["names"]["shortNames"] == ["fdeploy"]
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    spec_props = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert "retainReplicas" in spec_props
    assert set(spec_props) >= {"template", "placement", "overrides"}
    assert (
        "retainReplicas"
        not in tc.federated_crd(tc.lookup("cm"))["spec"]["versions"][0]["schema"]["openAPIV3Schema"][
            "properties"
        ]["spec"]["properties"]
    )


def test_namespace_type_is_namespaced_federated() -> None:
    t = tc.lookup("namespaces")
    assert tc.type_config_object(t)["spec"]["federatedType"]["scope"] == "Namespaced"
    assert tc.type_config_object(t)["spec"]["targetType"]["scope"] == "Cluster"


def test_from_crd_and_round_trip_ftc() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"kind": "Widget", "plural": "widgets", "shortNames": ["wd"]},
            "versions": [
                {"name": "v1alpha1", "served": True, "storage": False},
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "properties": {"spec": {"properties": {"replicas": {"type": "integer"}}}}
                        }
                    },
                },
            ],
        },
    }
    t = tc.from_crd(crd)
    assert (t.kind, t.group, t.version, t.plural, t.namespaced, t.scalable) == (
        "Widget",
        "example.com",
        "v1",
        "widgets",
        False,
        True,
    )
    assert tc.federated_crd(t)["spec"]["names"]["shortNames"] == ["fwd"]
    again = tc.from_ftc(tc.type_config_object(t))
    assert (again.kind, again.group, again.version, again.plural, again.namespaced) == (
        t.kind,
        t.group,
        t.version,
        t.plural,
        t.namespaced,
    )


def test_ftc_defaults_plural_and_group_from_name() -> None:
    ftc = {
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "targetType": {"kind": "Widget", "version": "v1"},
            "federatedType": {
                "kind": "FederatedWidget",
                "version": "v1beta1",
                "group": "types.kubefed.io",
            },
        },
    }
    t = tc.from_ftc(ftc)
    assert (t.plural, t.group) == ("widgets", "example.com")


@pytest.mark.parametrize(
    ("spec", "kept"),
    [
        ({"clusterIP": "None", "clusterIPs": ["None"]}, {"clusterIP": "None", "clusterIPs": ["None"]}),
        ({"clusterIP": "None"}, {"clusterIP": "None"}),
        ({"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"]}, {}),
        ({"clusterIP": "", "clusterIPs": ["10.0.0.7", "fd00::7"]}, {}),
    ],
)
def test_headless_services_stay_headless(spec: dict[str, object], kept: dict[str, object]) -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "db-headless", "namespace": "shop"},
        "spec": {**spec, "ports": [{"port": 5432}]},
    }
    target = tc.for_kind("v1", "Service", namespaced=True)
    template_spec = federate(svc, target).obj["spec"]["template"]["spec"]
    assert {k: v for k, v in template_spec.items() if k.startswith("clusterIP")} == kept
