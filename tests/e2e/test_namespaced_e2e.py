"""A namespaced control plane (``init --scope Namespaced``) on real kube-apiservers, as
KubeFed's CI ran its e2e suite: every read and write of the controller stays in the KubeFed
namespace, and the member identity can do nothing outside it (docs/security.md).

It reuses the session's apiservers: a second plane in the namespace ``kube-federation-ns`` of
the session host, joining member1 and member2 under another host cluster name (so its
ServiceAccount, roles and admission policy in the members are its own). The session's
cluster-scoped controller watches federated objects in every namespace, and member objects
cluster-wide, so it would act on this plane's objects too (KubeFed's would as well): it is
paused for this module and restarted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kubectl_kubefed.api import names
from kubectl_kubefed.core import identity
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import MemberClientFactory
from kubectl_kubefed.sync.errors import Forbidden, NotFound
from tests.e2e import setup
from tests.e2e.conftest import Controller, Plane, eventually, kubefed, update_retrying
from tests.e2e.test_propagation_e2e import FED, deployment_template, federated, propagated_ok

pytestmark = pytest.mark.e2e

NS = "kube-federation-ns"
HOST_NAME = "nshost"  # the member identity is <member>-nshost, apart from the session plane's
MEMBERS = ("member1", "member2")
MANAGED = "kubefed.io/managed"


def _ready(host: KubeClusterClient, namespace: str, cluster: str) -> bool:
    conditions = (
        host.get(names.CORE_API_VERSION, "KubeFedCluster", namespace, cluster).get("status") or {}
    ).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def _clean_up(plane: Plane) -> None:
    """Whatever a failed test left: federated objects in NS (finalizer dropped) and member objects."""
    for kind in ("FederatedConfigMap", "FederatedDeployment"):
        items, _ = plane.host.list(FED, kind, NS)
        for obj in items:
            try:
                update_retrying(
                    plane.host,
                    FED,
                    kind,
                    NS,
                    obj["metadata"]["name"],
                    lambda o: o["metadata"].pop("finalizers", None),
                )
                plane.host.delete(FED, kind, NS, obj["metadata"]["name"])
            except NotFound:
                continue
    for member in plane.members.values():
        for api, kind in (("v1", "ConfigMap"), ("apps/v1", "Deployment")):
            items, _ = member.list(api, kind, NS, f"{MANAGED}=true")
            for obj in items:
                try:
                    member.delete(api, kind, NS, obj["metadata"]["name"])
                except NotFound:
                    continue


@pytest.fixture(scope="module")
def nsplane(plane: Plane, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plane]:
    kubeconfig, context = plane.kubeconfig, plane.host_context
    plane.controller.stop_all()
    controller = Controller(kubeconfig, context, tmp_path_factory.mktemp("ns-controller"), namespace=NS)
    try:
        kubefed(
            kubeconfig,
            "init",
            "--host-cluster-context",
            context,
            "--kubefed-namespace",
            NS,
            "--scope",
            "Namespaced",
        )

        def faster(config: dict[str, object]) -> None:
            spec = config["spec"]
            assert isinstance(spec, dict)
            spec["clusterHealthCheck"]["period"] = "2s"
            spec["controllerDuration"] = {"availableDelay": "2s", "unavailableDelay": "2s"}

        update_retrying(plane.host, names.CORE_API_VERSION, "KubeFedConfig", NS, "kubefed", faster)
        for member in MEMBERS:
            kubefed(
                kubeconfig,
                "join",
                member,
                "--cluster-context",
                member,
                "--host-cluster-context",
                context,
                "--host-cluster-name",
                HOST_NAME,
                "--kubefed-namespace",
                NS,
            )
        controller.start("namespaced")
        yield Plane(plane.host, plane.members, kubeconfig, context, controller, plane.bed)
        _clean_up(plane)
    finally:
        controller.stop_all()
        plane.controller.start()
        eventually(
            lambda: all(_ready(plane.host, setup.NS, c) for c in ("host", *MEMBERS)),
            60,
            what="session plane Ready",
        )


def _member_identity(nsplane: Plane, cluster: str) -> KubeClusterClient:
    """A client with the credentials the namespaced plane stored on the host for ``cluster``."""
    kfc = nsplane.host.get(names.CORE_API_VERSION, "KubeFedCluster", NS, cluster)
    return MemberClientFactory(nsplane.host, NS)(kfc)


def test_members_become_ready(nsplane: Plane) -> None:
    # The probe reads /healthz and the member's cluster ID (the one ClusterProperty granted).
    eventually(lambda: all(_ready(nsplane.host, NS, c) for c in MEMBERS), 60, what="members Ready")
    for cluster in MEMBERS:
        kfc = nsplane.host.get(names.CORE_API_VERSION, "KubeFedCluster", NS, cluster)
        assert identity.recorded_id(kfc)


def test_configmap_and_deployment_propagate_update_and_delete(nsplane: Plane) -> None:
    eventually(lambda: all(_ready(nsplane.host, NS, c) for c in MEMBERS), 60, what="members Ready")
    host = nsplane.host
    # No FederatedNamespace: a namespaced plane uses the object's own placement.
    host.create(federated("ConfigMap", NS, "cfg", {"data": {"k": "v1"}}))
    host.create(federated("Deployment", NS, "web", deployment_template(replicas=1)))
    everywhere = set(MEMBERS)

    def have(check_cm: str, replicas: int) -> bool:
        for cluster in MEMBERS:
            member = nsplane.member(cluster)
            cm = member.get("v1", "ConfigMap", NS, "cfg")
            assert cm["metadata"]["labels"][MANAGED] == "true" and cm["data"] == {"k": check_cm}, cluster
            assert member.get("apps/v1", "Deployment", NS, "web")["spec"]["replicas"] == replicas, cluster
        return propagated_ok(nsplane, "ConfigMap", NS, "cfg", everywhere) and propagated_ok(
            nsplane, "Deployment", NS, "web", everywhere
        )

    eventually(lambda: have("v1", 1), 60, what="propagated to both members")

    def change_cm(obj: dict[str, object]) -> None:
        obj["spec"]["template"]["data"] = {"k": "v2"}  # type: ignore[index]

    def change_deploy(obj: dict[str, object]) -> None:
        obj["spec"]["template"]["spec"]["replicas"] = 2  # type: ignore[index]

    update_retrying(host, FED, "FederatedConfigMap", NS, "cfg", change_cm)
    update_retrying(host, FED, "FederatedDeployment", NS, "web", change_deploy)
    eventually(lambda: have("v2", 2), 60, what="updates in both members")

    host.delete(FED, "FederatedConfigMap", NS, "cfg")
    host.delete(FED, "FederatedDeployment", NS, "web")

    def gone() -> bool:
        for cluster in MEMBERS:
            assert nsplane.get_or_none(cluster, "v1", "ConfigMap", NS, "cfg") is None, cluster
            assert nsplane.get_or_none(cluster, "apps/v1", "Deployment", NS, "web") is None, cluster
        for kind, name in (("FederatedConfigMap", "cfg"), ("FederatedDeployment", "web")):
            assert nsplane.get_or_none("host", FED, kind, NS, name) is None, kind  # finalizer released
        return True

    eventually(gone, 60, what="deleted in both members and on the host")


def test_member_identity_is_confined_to_the_kubefed_namespace(nsplane: Plane) -> None:
    for cluster in MEMBERS:
        member = _member_identity(nsplane, cluster)
        member.list("v1", "ConfigMap", NS)
        member.list("apps/v1", "Deployment", NS)
        for api, kind in (("v1", "ConfigMap"), ("apps/v1", "Deployment"), ("v1", "Secret")):
            with pytest.raises(Forbidden):
                member.list(api, kind, "")
        with pytest.raises(Forbidden):
            member.list("v1", "ConfigMap", "default")
        # The cluster ID, and no other ClusterProperty (docs/cluster-identity.md).
        member.get(identity.API_VERSION, identity.KIND, "", identity.ID_PROPERTY)
        with pytest.raises(Forbidden):
            member.get(identity.API_VERSION, identity.KIND, "", identity.CLUSTERSET_PROPERTY)
