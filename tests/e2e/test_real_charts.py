"""Popular public charts through the post-renderer under Helm 4 and Helm 3.

1. Round trip: every object of ``helm template`` reaches ``kubectl kubefed render``'s
   member output unchanged, but for the differences docs/helm.md documents ("What a member
   gets from a chart"); objects that pass through (hooks, CRDs without ``--federate-crds``)
   are exactly Helm's.
2. GitOps: ``kubectl kubefed federate -f`` of ``helm template``, then ``render``, gives the
   same member objects (kinds ``render`` does not know need no FederatedTypeConfig).
3. Install: cert-manager and a chart with a headless Service (Bitnami postgresql) are
   installed through both Helms on the test bed; the members get the chart's objects, and
   ``helm uninstall`` removes them.

The charts are fetched at run time (tests/charts.py); the adjustments a chart copy needs
to render offline are documented there, the values each one gets are below.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kubectl_kubefed.core.naming import federated_name
from kubectl_kubefed.core.typeconfig import BUILTIN_TYPES
from tests import charts
from tests.conftest import run_cli
from tests.e2e.conftest import REQUIRED, Plane, eventually, kubefed, rejoin
from tests.e2e.test_helm import HELM3, HELM4, docs, helm, helm_env, renderer

__all__ = ["helm_env"]  # the fixture, shared with test_helm
pytestmark = pytest.mark.e2e

RELEASE = "rel"
NS = "charts"
FED_GROUP = "types.kubefed.io"
CLUSTERS = ("member1", "member2")
CLUSTERS_YAML = "".join(
    f"""---
apiVersion: core.kubefed.io/v1beta1
kind: KubeFedCluster
metadata: {{name: {name}, namespace: kube-federation-system}}
spec: {{apiEndpoint: "https://{name}.example.com", secretRef: {{name: {name}}}}}
"""
    for name in CLUSTERS
)
# Kinds of the charts below that are cluster-scoped (a namespaced object without a
# namespace goes into the release namespace when Helm installs it).
CLUSTER_SCOPED = {
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "Namespace",
    "ValidatingWebhookConfiguration",
}
HELM_ANNOTATION_PREFIXES = ("helm.sh/", "meta.helm.sh/")
BUILTIN_API_VERSIONS = {t.kind: t.api_version for t in BUILTIN_TYPES}


@dataclass(frozen=True)
class Case:
    values: tuple[str, ...] = ()
    post_args: tuple[str, ...] = ()


# What each chart needs to render without a cluster, and what makes it show more of itself.
# Generated secrets are pinned: Helm would generate different ones in each run.
CASES: dict[str, Case] = {
    # CRDs (federated), webhooks, RBAC with system: names, a hook Job (startupapicheck).
    "cert-manager": Case(("--set", "crds.enabled=true"), ("--federate-crds",)),
    # RBAC and a ServiceMonitor (a custom resource) when the API is there.
    "kube-state-metrics": Case(
        ("--api-versions", "monitoring.coreos.com/v1", "--set", "prometheus.monitor.enabled=true")
    ),
    "prometheus-node-exporter": Case(),  # a DaemonSet
    # Webhooks, hook Jobs, custom resources (Prometheus, Alertmanager, rules, monitors),
    # two subcharts; grafana is not available (tests/charts.py).
    "kube-prometheus-stack": Case(("--set", "grafana.enabled=false")),
    # StatefulSets behind headless Services, NetworkPolicy, PDBs.
    "redis": Case(("--set", "auth.password=e2e-redis-password")),
    "postgresql": Case(("--set", "auth.postgresPassword=e2e-postgres-password")),
    # A LoadBalancer Service with a chart-set nodePort (dropped), no generated certificate.
    "nginx": Case(("--set", "tls.enabled=false", "--set", "service.nodePorts.http=30080")),
    # An APIService, RBAC named system:metrics-server, a RoleBinding in kube-system.
    "metrics-server": Case(),
    "external-dns": Case(),
}


def _unavailable(message: str) -> None:
    if REQUIRED:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def chart_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The assembled chart copies, by name (skipped without Go, unless KUBEFED_E2E=required)."""
    work = tmp_path_factory.mktemp("charts")
    try:
        return {name: chart.assemble(work) for name, chart in charts.CHARTS.items()}
    except charts.ChartsUnavailable as err:
        _unavailable(str(err))
        raise


def _key(obj: dict[str, Any], release_ns: str = NS) -> tuple[str, str, str, str]:
    """A namespaced object without a namespace goes into the release namespace."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace") or ("" if obj["kind"] in CLUSTER_SCOPED else release_ns)
    return str(obj["apiVersion"]), str(obj["kind"]), str(namespace), str(meta["name"])


def _is_federated(obj: dict[str, Any]) -> bool:
    return str(obj.get("apiVersion", "")).startswith(f"{FED_GROUP}/")


def expected_member(plain: dict[str, Any]) -> dict[str, Any]:
    """What a member gets for an object of the chart: docs/helm.md, "What a member gets"."""
    obj = copy.deepcopy(plain)
    meta = obj["metadata"]
    if obj["kind"] not in CLUSTER_SCOPED:
        meta.setdefault("namespace", NS)  # Helm puts it in the release namespace
    annotations = {
        k: v
        for k, v in (meta.pop("annotations", None) or {}).items()
        if not k.startswith(HELM_ANNOTATION_PREFIXES)
    }
    if annotations:  # with the record of the keys kubefed set (docs/deviations.md)
        meta["annotations"] = {**annotations, "kubefed.io/owned-annotations": ",".join(sorted(annotations))}
    meta["labels"] = {**(meta.get("labels") or {}), "kubefed.io/managed": "true"}
    spec = obj.get("spec")
    if obj["kind"] == "Service" and isinstance(spec, dict):
        if spec.get("clusterIP") != "None":
            spec.pop("clusterIP", None)
        if spec.get("clusterIPs") != ["None"]:
            spec.pop("clusterIPs", None)
        for port in spec.get("ports") or []:
            port.pop("nodePort", None)
    return obj


def _source_of(fed: dict[str, Any]) -> dict[str, Any]:
    """The identity of the object a federated object was made of (enough for ``_key``)."""
    template_meta = fed["spec"]["template"].get("metadata") or {}
    meta = {"name": template_meta.get("name") or fed["metadata"]["name"]}
    if fed["metadata"].get("namespace"):
        meta["namespace"] = fed["metadata"]["namespace"]
    kind = fed["kind"].removeprefix("Federated")
    api_version = fed["spec"]["template"].get("apiVersion") or BUILTIN_API_VERSIONS[kind]
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def _other_namespaces(plain: list[dict[str, Any]]) -> list[str]:
    return sorted({_key(o)[2] for o in plain} - {"", NS})


def _federated_namespaces(names: list[str]) -> str:
    """What the post-renderer's warning asks for: `kubectl kubefed federate namespace X`."""
    return "".join(
        f"---\napiVersion: {FED_GROUP}/v1beta1\nkind: FederatedNamespace\n"
        f"metadata: {{name: {n}, namespace: {n}}}\nspec: {{placement: {{clusterSelector: {{}}}}}}\n"
        for n in names
    )


def _with_release_namespace(feds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Helm installs a namespaced object without a namespace into the release's."""
    out = []
    for fed in feds:
        fed = copy.deepcopy(fed)
        template_kind = fed["kind"].removeprefix("Federated")
        if template_kind not in CLUSTER_SCOPED:
            fed["metadata"].setdefault("namespace", NS)
        out.append(fed)
    return out


def _template(env: dict[str, str], version: int, chart: Path, case: Case, post: bool) -> str:
    exe = HELM4 if version == 4 else HELM3
    args = ["template", RELEASE, str(chart), "-n", NS, *case.values]
    if post:
        args += [
            *renderer(version),
            f"--post-renderer-args=--namespace={NS}",
            "--post-renderer-args=--federate-namespace",
            *(f"--post-renderer-args={a}" for a in case.post_args),
        ]
    return helm(env, exe, *args).stdout


def _assert_members(tmp_path: Path, feds: list[dict[str, Any]], sources: dict[Any, dict[str, Any]]) -> None:
    """``render`` of the federated objects gives each cluster exactly ``sources``, but for
    the documented differences."""
    plain = list(sources.values())
    namespaces = _other_namespaces(plain)
    if not any(f["kind"] == "FederatedNamespace" and f["metadata"]["name"] == NS for f in feds):
        namespaces.append(NS)  # what the post-renderer's --federate-namespace adds
    rendered = tmp_path / "federated.yaml"
    rendered.write_text(
        "".join(f"---\n{json.dumps(o)}\n" for o in _with_release_namespace(feds))
        + _federated_namespaces(namespaces)
    )
    clusters_file = tmp_path / "clusters.yaml"
    clusters_file.write_text(CLUSTERS_YAML)
    res = run_cli("render", "-f", str(clusters_file), "-f", str(rendered), "-o", "json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert [f for f in out["federated"] if f["reason"] or f["errors"]] == []
    want = {k: expected_member(o) for k, o in sources.items()}
    ours = (NS, *_other_namespaces(plain))  # the namespaces federated for the chart
    for cluster in CLUSTERS:
        got = {
            _key(o): o
            for o in out["clusters"][cluster]
            if not (o["kind"] == "Namespace" and o["metadata"]["name"] in ours)
        }
        assert sorted(got) == sorted(want), f"{cluster}: objects differ"
        for key, obj in got.items():
            assert obj == want[key], f"{cluster}: {key} differs"


@pytest.mark.parametrize("name", sorted(CASES))
def test_federate_f_output_of_a_chart_renders(
    helm_env: dict[str, str], chart_dirs: dict[str, Path], tmp_path: Path, name: str
) -> None:
    """The GitOps path: ``kubectl kubefed federate -f`` of ``helm template`` (every object,
    hooks and CRDs too), then ``render``: webhook configurations, APIServices and custom
    resources need no FederatedTypeConfig."""
    plain = docs(_template(helm_env, 4, chart_dirs[name], CASES[name], post=False))
    source = tmp_path / "plain.yaml"
    source.write_text("".join(f"---\n{json.dumps(o)}\n" for o in plain))
    res = run_cli("federate", "-f", str(source), "-o", "json")
    assert res.returncode == 0, res.stderr
    loaded = json.loads(res.stdout)
    feds = loaded["items"] if isinstance(loaded, dict) and loaded.get("kind") == "List" else loaded
    if isinstance(feds, dict):
        feds = [feds]
    assert all(_is_federated(f) for f in feds) and len(feds) == len(plain)
    _assert_members(tmp_path, feds, {_key(o): o for o in plain})


@pytest.mark.parametrize("version", [4, 3])
@pytest.mark.parametrize("name", sorted(CASES))
def test_chart_round_trips_through_render(
    helm_env: dict[str, str], chart_dirs: dict[str, Path], tmp_path: Path, name: str, version: int
) -> None:
    case = CASES[name]
    started = time.monotonic()
    plain = docs(_template(helm_env, version, chart_dirs[name], case, post=False))
    post = docs(_template(helm_env, version, chart_dirs[name], case, post=True))
    by_key = {_key(o): o for o in plain}
    assert len(by_key) == len(plain), "the chart renders one object twice"

    feds = [o for o in post if _is_federated(o)]
    passed = [o for o in post if not _is_federated(o)]
    for obj in passed:  # hooks (Helm 4 sends them; Helm 3 never does), CRDs, Namespaces
        assert obj == by_key[_key(obj)], f"{_key(obj)} passed through changed"
    for fed in feds:  # valid federated objects, Helm's metadata on them
        assert fed["metadata"]["name"] and fed["spec"]["placement"], fed
        if fed["kind"] == "FederatedNamespace":
            continue
        assert fed["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm", fed["metadata"]
        source = by_key[_key(_source_of(fed))]
        helm_annotations = {
            k: v
            for k, v in (source["metadata"].get("annotations") or {}).items()
            if k.startswith(HELM_ANNOTATION_PREFIXES)
        }
        assert helm_annotations.items() <= (fed["metadata"].get("annotations") or {}).items()
    assert len(feds) + len(passed) == len(plain) + 1  # one each, and the release's FederatedNamespace

    passed_keys = {_key(o) for o in passed}
    _assert_members(tmp_path, feds, {k: o for k, o in by_key.items() if k not in passed_keys})
    print(f"{name} (Helm {version}): {len(plain)} objects in {time.monotonic() - started:.1f}s")


# Installs on the test bed. No kubelet runs there, so Pods never start: the members are
# checked for the chart's objects, not for readiness. Hooks are left out (cert-manager's
# startupapicheck Job would wait forever for a Pod); leader election stays in the release
# namespace (the member identity may not write kube-system, docs/security.md); CRDs are
# not kept on uninstall, so both Helms install them in turn.
INSTALLS: dict[str, Case] = {
    "cert-manager": Case(
        (
            "--set",
            "crds.enabled=true",
            "--set",
            "crds.keep=false",
            "--set",
            "startupapicheck.enabled=false",
        ),
        ("--federate-crds",),
    ),
    "postgresql": Case(("--set", "auth.postgresPassword=e2e-postgres-password")),
}
INSTALL_TYPES = (
    "clusterroles.rbac.authorization.k8s.io",
    "clusterrolebindings.rbac.authorization.k8s.io",
    "roles.rbac.authorization.k8s.io",
    "rolebindings.rbac.authorization.k8s.io",
    "customresourcedefinitions",
    "validatingwebhookconfigurations.admissionregistration.k8s.io",
    "mutatingwebhookconfigurations.admissionregistration.k8s.io",
    "statefulsets.apps",
    "networkpolicies.networking.k8s.io",
    "poddisruptionbudgets.policy",
)


@pytest.fixture(scope="module")
def install_types(plane: Plane) -> Iterator[None]:
    """The kinds of both charts enabled, and the members' roles refreshed with the RBAC
    kinds allowed, as docs/helm.md and docs/security.md tell a user to; the default
    (minimal) grant again afterwards."""
    for name in INSTALL_TYPES:
        kubefed(plane.kubeconfig, "enable", name, "--host-cluster-context", plane.host_context)
    rejoin(plane, "--allow-rbac")
    yield
    rejoin(plane)


@pytest.fixture(scope="module")
def admission_granted(plane: Plane, install_types: None) -> None:
    """Webhook configurations are admission configuration, which the member identity gets
    only with KubeFed's wildcard grant (docs/security.md): cert-manager needs it."""
    rejoin(plane, "--allow-rbac", "--rbac", "admin")


def _present(plane: Plane, cluster: str, obj: dict[str, Any], release_ns: str) -> bool:
    _, kind, namespace, name = _key(obj, release_ns)
    return plane.get_or_none(cluster, obj["apiVersion"], kind, namespace, name) is not None


def _all_there(plane: Plane, cluster: str, plain: list[dict[str, Any]], release_ns: str) -> bool:
    """True when the cluster holds every object; else an AssertionError naming the missing
    ones with their federated objects' status (what ``eventually`` reports on a timeout)."""
    missing = [o for o in plain if not _present(plane, cluster, o, release_ns)]
    if not missing:
        return True
    why = []
    for obj in missing[:5]:
        _, kind, namespace, name = _key(obj, release_ns)
        fed = plane.get_or_none(
            "host", f"{FED_GROUP}/v1beta1", f"Federated{kind}", namespace, federated_name(name)
        )
        why.append(f"{kind} {namespace}/{name}: {fed and fed.get('status')}")
    raise AssertionError(f"{len(missing)} missing in {cluster}: {'; '.join(why)}")


def _all_gone(plane: Plane, cluster: str, plain: list[dict[str, Any]], release_ns: str) -> bool:
    """True when none of the objects is left in a member (or, for "host", none of their
    federated objects); else an AssertionError naming what is left."""
    left = []
    for obj in plain:
        api_version, kind, namespace, name = _key(obj, release_ns)
        if cluster == "host":
            api_version, kind, name = f"{FED_GROUP}/v1beta1", f"Federated{kind}", federated_name(name)
        live = plane.get_or_none(cluster, api_version, kind, namespace, name)
        if live is not None:
            meta = live["metadata"]
            left.append(f"{kind} {namespace}/{name} {meta.get('finalizers')} {live.get('status')}")
    if left:
        raise AssertionError(f"{len(left)} left in {cluster}: {'; '.join(left[:5])}")
    return True


@pytest.mark.parametrize("version", [4, 3])
@pytest.mark.parametrize("name", sorted(INSTALLS))
def test_chart_installs_on_members(
    plane: Plane,
    helm_env: dict[str, str],
    chart_dirs: dict[str, Path],
    install_types: None,
    request: pytest.FixtureRequest,
    name: str,
    version: int,
) -> None:
    case = INSTALLS[name]
    if name == "cert-manager":
        request.getfixturevalue("admission_granted")
    exe = HELM4 if version == 4 else HELM3
    release, ns = name, f"{name}-helm{version}"  # one after the other: same cluster-scoped names
    values = (*case.values, "--set", f"global.leaderElection.namespace={ns}")
    common = ["--kubeconfig", plane.kubeconfig, "--kube-context", plane.host_context, "-n", ns]
    plain = docs(helm(helm_env, exe, "template", release, str(chart_dirs[name]), "-n", ns, *values).stdout)
    args = [
        *renderer(version),
        f"--post-renderer-args=--namespace={ns}",
        "--post-renderer-args=--federate-namespace",
        "--post-renderer-args=--clusters=member1,member2",
        *(f"--post-renderer-args={a}" for a in case.post_args),
    ]
    started = time.monotonic()
    helm(
        helm_env,
        exe,
        "install",
        release,
        str(chart_dirs[name]),
        *common,
        "--create-namespace",
        *values,
        *args,
    )
    for member in CLUSTERS:
        eventually(
            lambda m=member: _all_there(plane, m, plain, ns),  # type: ignore[misc]
            180,
            what=f"{name} (Helm {version}) objects in {member}",
        )
    for obj in plain:  # the host holds the federated objects only
        assert not _present(plane, "host", obj, ns), _key(obj, ns)
    headless = [o for o in plain if o["kind"] == "Service" and o["spec"].get("clusterIP") == "None"]
    for obj in headless:
        for member in CLUSTERS:
            live = plane.member(member).get("v1", "Service", ns, obj["metadata"]["name"])
            assert live["spec"]["clusterIP"] == "None", live["spec"]
    if name == "postgresql":
        assert [o["metadata"]["name"] for o in headless] == ["postgresql-hl"]
    if name == "cert-manager":
        roles = [o["metadata"]["name"] for o in plain if o["kind"] == "ClusterRole"]
        assert "cert-manager-controller-issuers" in roles, roles
        assert "cert-manager-controller-approve:cert-manager-io" in roles, roles  # mapped on the host
    installed = time.monotonic() - started
    for crd in (o for o in plain if o["kind"] == "CustomResourceDefinition"):
        # Deleting a CRD whose storage the API server is still setting up can leave it
        # terminating for minutes ("storage is (re)initializing"): wait until it serves.
        api_version = f"{crd['spec']['group']}/{crd['spec']['versions'][0]['name']}"
        for member in CLUSTERS:
            eventually(
                lambda m=member, a=api_version, k=crd["spec"]["names"]["kind"]: (  # type: ignore[misc]
                    plane.member(m).list(a, k) is not None
                ),
                60,
                what=f"{crd['metadata']['name']} served in {member}",
            )
    helm(helm_env, exe, "uninstall", release, *common)
    for member in CLUSTERS:
        eventually(
            lambda m=member: _all_gone(plane, m, plain, ns),  # type: ignore[misc]
            180,
            what=f"uninstall of {name} (Helm {version}) in {member}",
        )
    eventually(lambda: _all_gone(plane, "host", plain, ns), 120, what="the federated objects deleted")
    eventually(
        lambda: plane.get_or_none("host", f"{FED_GROUP}/v1beta1", "FederatedNamespace", ns, ns) is None,
        120,
        what="the release's FederatedNamespace deleted",
    )
    kinds = sorted({o["kind"] for o in plain})
    print(
        f"{name} (Helm {version}): {len(plain)} objects ({', '.join(kinds)}) on the members in {installed:.1f}s"
    )
