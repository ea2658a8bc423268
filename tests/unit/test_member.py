from typing import Any

import pytest

from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.member import desired_object
from kubectl_kubefed.core.overrides import OverridesError

DEPLOY = tc.lookup("deployments")
SERVICE = tc.lookup("svc")
SA = tc.lookup("sa")
NS = tc.lookup("ns")


def fed(template: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "types.kubefed.io/v1beta1",
        "kind": "FederatedX",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"template": template, **spec},
    }


def test_forced_fields_and_managed_label() -> None:
    f = fed(
        {
            "metadata": {"name": "other", "namespace": "elsewhere", "labels": {"a": "b"}},
            "kind": "Nope",
            "spec": {"replicas": 1},
        }
    )
    obj = desired_object(f, DEPLOY, "c1").obj
    assert obj["apiVersion"] == "apps/v1"
    assert obj["kind"] == "Deployment"
    assert obj["metadata"] == {
        "name": "web",
        "namespace": "shop",
        "labels": {"a": "b", "kubefed.io/managed": "true"},
    }


def test_template_api_version_is_kept() -> None:
    obj = desired_object(fed({"apiVersion": "apps/v1beta2"}), DEPLOY, "c1").obj
    assert obj["apiVersion"] == "apps/v1beta2"


def test_namespace_target_has_no_namespace() -> None:
    f = {"metadata": {"name": "shop", "namespace": "shop"}, "spec": {}}
    obj = desired_object(f, NS, "c1").obj
    assert obj["metadata"] == {"name": "shop", "labels": {"kubefed.io/managed": "true"}}
    assert obj["apiVersion"] == "v1"


def test_template_annotations_reach_the_member_finalizers_are_dropped_with_warning() -> None:
    f = fed({"metadata": {"annotations": {"a": "b", "prometheus.io/scrape": "true"}, "finalizers": ["x"]}})
    member = desired_object(f, DEPLOY, "c1")
    assert member.obj["metadata"]["annotations"] == {
        "a": "b",
        "prometheus.io/scrape": "true",
        "kubefed.io/owned-annotations": "a,prometheus.io/scrape",
    }
    assert "finalizers" not in member.obj["metadata"]
    assert [w.split(":")[0] for w in member.warnings] == ["FinalizersNotSupported"]


def test_no_record_without_annotations_to_own() -> None:
    obj = desired_object(fed({"metadata": {"annotations": {}}}), DEPLOY, "c1").obj
    assert "annotations" not in obj["metadata"]
    live = {"metadata": {"annotations": {"m": "1", "kubefed.io/owned-annotations": "gone"}}}
    obj = desired_object(fed({}), DEPLOY, "c1", live).obj
    assert obj["metadata"]["annotations"] == {"m": "1"}  # the record goes with the last key
    live = {"metadata": {"annotations": {"kubefed.io/owned-annotations": "gone", "gone": "x"}}}
    assert "annotations" not in desired_object(fed({}), DEPLOY, "c1", live).obj["metadata"]


def test_a_template_cannot_write_the_record_or_what_member_controllers_write() -> None:
    template = {"kubefed.io/owned-annotations": "m", "a": "1", "deployment.kubernetes.io/revision": "9"}
    live = {"metadata": {"annotations": {"m": "member", "deployment.kubernetes.io/revision": "2"}}}
    assert desired_object(fed({"metadata": {"annotations": template}}), DEPLOY, "c1", live).obj["metadata"][
        "annotations"
    ] == {
        "m": "member",
        "deployment.kubernetes.io/revision": "2",  # the member's deployment controller's, kept
        "a": "1",
        "kubefed.io/owned-annotations": "a",
    }


def test_member_annotations_kept_owned_ones_follow_the_template() -> None:
    live = {
        "metadata": {
            "annotations": {
                "cert-manager.io/inject-ca-from-secret": "old",  # ours, changed below
                "removed": "x",  # ours, gone from the template
                "member.example.com/added": "by a member controller",
                "kubefed.io/owned-annotations": "cert-manager.io/inject-ca-from-secret,removed",
            }
        }
    }
    f = fed({"metadata": {"annotations": {"cert-manager.io/inject-ca-from-secret": "ns/ca"}}})
    assert desired_object(f, DEPLOY, "c1", live).obj["metadata"]["annotations"] == {
        "cert-manager.io/inject-ca-from-secret": "ns/ca",
        "member.example.com/added": "by a member controller",
        "kubefed.io/owned-annotations": "cert-manager.io/inject-ca-from-secret",
    }


def test_adopted_member_keeps_its_annotations_template_keys_win() -> None:
    live = {"metadata": {"annotations": {"a": "member", "b": "member"}}}
    f = fed({"metadata": {"annotations": {"a": "template"}}})
    assert desired_object(f, DEPLOY, "c1", live).obj["metadata"]["annotations"] == {
        "a": "template",
        "b": "member",
        "kubefed.io/owned-annotations": "a",
    }


def test_annotation_keys_set_by_overrides_are_owned_too() -> None:
    ops = [{"op": "add", "path": "/metadata/annotations/o", "value": "1"}]
    f = fed({}, overrides=[{"clusterName": "c1", "clusterOverrides": ops}])
    created = desired_object(f, DEPLOY, "c1").obj
    assert created["metadata"]["annotations"] == {"o": "1", "kubefed.io/owned-annotations": "o"}
    without = desired_object(fed({}), DEPLOY, "c1", created).obj  # the override removed
    assert "annotations" not in without["metadata"]
    # An override replacing the whole map drops the member's keys, as in KubeFed.
    whole: list[dict[str, Any]] = [{"op": "add", "path": "/metadata/annotations", "value": {"x": "1"}}]
    f = fed({}, overrides=[{"clusterName": "c1", "clusterOverrides": whole}])
    live = {"metadata": {"annotations": {"m": "1"}}}
    assert desired_object(f, DEPLOY, "c1", live).obj["metadata"]["annotations"] == {
        "x": "1",
        "kubefed.io/owned-annotations": "x",
    }


def test_managed_label_cannot_be_overridden_away() -> None:
    f = fed(
        {},
        overrides=[
            {
                "clusterName": "c1",
                "clusterOverrides": [{"op": "add", "path": "/metadata/labels", "value": {"x": "y"}}],
            }
        ],
    )
    labels = desired_object(f, DEPLOY, "c1").obj["metadata"]["labels"]
    assert labels == {"x": "y", "kubefed.io/managed": "true"}


def test_overrides_only_for_named_cluster() -> None:
    f = fed(
        {"spec": {"replicas": 1}},
        overrides=[{"clusterName": "c2", "clusterOverrides": [{"path": "/spec/replicas", "value": 5}]}],
    )
    assert desired_object(f, DEPLOY, "c1").obj["spec"]["replicas"] == 1
    assert desired_object(f, DEPLOY, "c2").obj["spec"]["replicas"] == 5


def test_invalid_overrides_raise() -> None:
    f = fed({}, overrides=[{"clusterName": "c1", "clusterOverrides": [{"path": "/kind", "value": "X"}]}])
    with pytest.raises(OverridesError):
        desired_object(f, DEPLOY, "c1")


def test_retention_common_fields() -> None:
    live = {
        "metadata": {
            "resourceVersion": "7",
            "finalizers": ["f"],
            "annotations": {"m": "1"},
            "labels": {"z": "1"},
        }
    }
    obj = desired_object(fed({"metadata": {"labels": {"a": "b"}}}), DEPLOY, "c1", live).obj
    assert obj["metadata"]["resourceVersion"] == "7"
    assert obj["metadata"]["finalizers"] == ["f"]
    assert obj["metadata"]["annotations"] == {"m": "1"}
    assert obj["metadata"]["labels"] == {
        "a": "b",
        "kubefed.io/managed": "true",
    }  # labels not retained


def test_overrides_apply_after_retention() -> None:
    live = {"metadata": {"annotations": {"m": "1"}}}
    f = fed(
        {},
        overrides=[
            {
                "clusterName": "c1",
                "clusterOverrides": [{"op": "add", "path": "/metadata/annotations/extra", "value": "2"}],
            }
        ],
    )
    assert desired_object(f, DEPLOY, "c1", live).obj["metadata"]["annotations"] == {
        "m": "1",
        "extra": "2",
        "kubefed.io/owned-annotations": "extra",
    }


def test_service_retention() -> None:
    live = {
        "metadata": {},
        "spec": {
            "clusterIP": "10.0.0.5",
            "clusterIPs": ["10.0.0.5"],
            "healthCheckNodePort": 31000,
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080},
                {"name": "other", "port": 81, "nodePort": 30081},
            ],
        },
    }
    template = {
        "spec": {
            "type": "NodePort",
            "ports": [{"name": "http", "port": 80}, {"name": "other", "port": 82}],
        }
    }
    spec = desired_object(fed(template), SERVICE, "c1", live).obj["spec"]
    assert spec["clusterIP"] == "10.0.0.5"
    assert spec["clusterIPs"] == ["10.0.0.5"]
    assert spec["healthCheckNodePort"] == 31000
    assert spec["ports"][0]["nodePort"] == 30080  # same name, protocol (TCP default), port
    assert "nodePort" not in spec["ports"][1]  # port differs


def test_service_account_secrets_retained_only_when_unspecified() -> None:
    live = {"metadata": {}, "secrets": [{"name": "tok"}]}
    assert desired_object(fed({}), SA, "c1", live).obj["secrets"] == [{"name": "tok"}]
    assert desired_object(fed({"secrets": [{"name": "mine"}]}), SA, "c1", live).obj["secrets"] == [
        {"name": "mine"}
    ]


def test_retain_replicas() -> None:
    live = {"metadata": {}, "spec": {"replicas": 9}}
    assert desired_object(fed({"spec": {"replicas": 2}}), DEPLOY, "c1", live).obj["spec"]["replicas"] == 2
    f = fed({"spec": {"replicas": 2}}, retainReplicas=True)
    assert desired_object(f, DEPLOY, "c1", live).obj["spec"]["replicas"] == 9
