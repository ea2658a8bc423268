"""CustomResourceDefinitions are a federable type: enable, federate and render them."""

from __future__ import annotations

import json

from kubectl_kubefed.api import names
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.member import desired_object
from tests.inprocess import kubectl

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions: [{name: v1, served: true, storage: true}]
"""


def test_enable_customresourcedefinitions_is_cluster_scoped() -> None:
    code, out, err = kubectl("enable", "customresourcedefinitions", "-o", "json")
    assert code == 0, err
    ftc, crd = json.loads(out)["items"]
    assert ftc["metadata"]["name"] == "customresourcedefinitions.apiextensions.k8s.io"
    assert ftc["spec"]["targetType"] == {
        "group": "apiextensions.k8s.io",
        "kind": "CustomResourceDefinition",
        "pluralName": "customresourcedefinitions",
        "scope": "Cluster",
        "version": "v1",
    }
    assert ftc["spec"]["federatedType"]["scope"] == "Cluster"
    assert crd["metadata"]["name"] == "federatedcustomresourcedefinitions.types.kubefed.io"
    assert crd["spec"]["scope"] == "Cluster"


def test_a_federated_crd_makes_the_crd_of_every_member() -> None:
    code, out, err = kubectl("federate", "-f", "-", "-o", "json", stdin=CRD)
    assert code == 0, err
    [fed] = json.loads(out)["items"]
    assert fed["kind"] == "FederatedCustomResourceDefinition"
    assert fed["metadata"] == {"name": "widgets.example.com"}  # cluster-scoped: no namespace
    member = desired_object(fed, tc.lookup("crd"), "c1").obj
    assert member["apiVersion"] == "apiextensions.k8s.io/v1"
    assert member["kind"] == "CustomResourceDefinition"
    assert member["metadata"] == {"name": "widgets.example.com", "labels": {names.MANAGED_LABEL: "true"}}
    assert member["spec"]["names"] == {"kind": "Widget", "plural": "widgets"}
