"""``join`` and ``unjoin`` against real clusters (KubeFed semantics §8.1, §8.2, with fixes)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import ClusterError, InputError
from kubectl_kubefed.api.objects import annotations_of, kind_of, labels_of, metadata, name_of, namespace_of
from kubectl_kubefed.core import identity
from kubectl_kubefed.core import memberpolicy as mp
from kubectl_kubefed.core import membership as mb
from kubectl_kubefed.core import pullaccess as pa
from kubectl_kubefed.core import work as wk
from kubectl_kubefed.kube import kubeconfig, memberrbac
from kubectl_kubefed.kube.apply import apply, preview, preview_delete, wait_crd_served
from kubectl_kubefed.kube.client import KubeClusterClient
from kubectl_kubefed.kube.members import client_for_context
from kubectl_kubefed.kube.typeops import enabled_type_configs, require_control_plane
from kubectl_kubefed.sync import identity as member_identity
from kubectl_kubefed.sync.errors import ApiError, Conflict, NotFound, Unavailable

Say = Callable[[str], None]


@dataclass
class JoinOptions:
    cluster: str
    cluster_context: str | None
    host_cluster_name: str | None
    secret_name: str | None
    error_on_existing: bool
    rbac: str  # minimal | admin
    update: bool
    dry_run: bool
    kubeconfig: str | None
    namespace: str
    cluster_id: str | None = None
    clusterset: str = identity.DEFAULT_CLUSTERSET
    allow_rbac: bool = False
    legacy_token: bool = False
    protect_namespaces: tuple[str, ...] = mp.DEFAULT_PROTECTED_NAMESPACES
    token_seconds: int = mp.DEFAULT_TOKEN_SECONDS
    mode: str | None = None  # Push | Pull; None: the joined cluster's mode, else Push
    deploy_agent: bool = False
    agent_image: str = pa.DEFAULT_IMAGE


def _ensure_identity(member: KubeClusterClient, opts: JoinOptions, say: Say) -> str:
    """The member's cluster ID (KEP-2149): read it, or create it (and the CRD) when absent."""
    try:
        member.get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", identity.CRD_NAME)
    except NotFound:
        if opts.dry_run:
            say(f"customresourcedefinition/{identity.CRD_NAME} would be created in the member (dry run)")
            return opts.cluster_id or member_identity.default_cluster_id(member)
        apply(member, identity.crd())
        wait_crd_served(member, identity.API_VERSION, identity.KIND)
        say(f"customresourcedefinition/{identity.CRD_NAME} created in the member")
    try:
        value, created = member_identity.ensure_cluster_id(
            member, opts.cluster_id or "", dry_run=opts.dry_run
        )
        if created:
            say(f"clusterproperty/{identity.ID_PROPERTY} created in the member: {value}")
    except member_identity.IdentityError as err:
        raise InputError(str(err)) from None
    return value


def _ensure_clusterset(member: KubeClusterClient, opts: JoinOptions, say: Say) -> None:
    try:
        if member_identity.ensure_clusterset(member, opts.clusterset, dry_run=opts.dry_run):
            say(f"clusterproperty/{identity.CLUSTERSET_PROPERTY} created in the member: {opts.clusterset}")
    except member_identity.IdentityError as err:
        raise InputError(str(err)) from None


def _member(opts_kubeconfig: str | None, context: str, cluster: str) -> KubeClusterClient:
    member = client_for_context(opts_kubeconfig, context, name=cluster)
    try:
        member.version()
    except (Unavailable, ApiError) as err:
        raise ClusterError(f'cluster "{cluster}" (context {context}) is unreachable: {err}') from None
    return member


def _ref(obj: dict[str, Any]) -> str:
    ns = namespace_of(obj)
    return f"{kind_of(obj).lower()}/{name_of(obj)}" + (f" in namespace {ns}" if ns else "")


def _wait_namespace_gone(member: KubeClusterClient, name: str, say: Say, timeout: float = 90.0) -> None:
    """A namespace left terminating by an earlier unjoin must be gone before we re-create it."""
    deadline = time.monotonic() + timeout
    announced = False
    while time.monotonic() < deadline:
        try:
            ns = member.get("v1", "Namespace", "", name)
        except NotFound:
            return
        if not metadata(ns).get("deletionTimestamp"):
            return
        if not announced:
            say(f"waiting for namespace {name} to finish terminating in the member")
            announced = True
        time.sleep(1)
    raise InputError(f"namespace {name} is still terminating in the member after {timeout:.0f}s")


def _apply_member_object(member: KubeClusterClient, obj: dict[str, Any], say: Say) -> None:
    if kind_of(obj) == "Namespace":
        _wait_namespace_gone(member, name_of(obj), say)
    if kind_of(obj) in ("Namespace", "ServiceAccount", "Secret"):
        try:
            member.get(obj["apiVersion"], kind_of(obj), namespace_of(obj), name_of(obj))
            return
        except NotFound:
            member.create(obj)
            say(f"{_ref(obj)} created in the member")
            return
    if kind_of(obj) in ("RoleBinding", "ClusterRoleBinding"):
        try:
            current = member.get(obj["apiVersion"], kind_of(obj), namespace_of(obj), name_of(obj))
            if current.get("roleRef") != obj["roleRef"]:  # roleRef is immutable: recreate
                member.delete(obj["apiVersion"], kind_of(obj), namespace_of(obj), name_of(obj))
        except NotFound:
            pass
    _, action = apply(member, obj)
    if action != "unchanged":
        say(f"{_ref(obj)} {action} in the member")


def _wait_token(member: KubeClusterClient, namespace: str, sa: str, timeout: float = 30.0) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = member.get("v1", "Secret", namespace, sa).get("data") or {}
        if data.get("token"):
            return dict(data)
        time.sleep(0.5)
    raise InputError(
        f"the member did not issue a token for {namespace}/{sa} within {timeout:.0f}s "
        "(is kube-controller-manager running there?)"
    )


def join(host: KubeClusterClient, host_context: str, opts: JoinOptions, say: Say) -> None:
    config = require_control_plane(host, opts.namespace)
    scope = str((config.get("spec") or {}).get("scope") or names.SCOPE_CLUSTER)
    try:
        host_name = mb.validate_host_cluster_name(opts.host_cluster_name or host_context)
    except ValueError as err:
        raise InputError(str(err)) from None
    context = opts.cluster_context or opts.cluster
    member = _member(opts.kubeconfig, context, opts.cluster)
    member.server_dry_run = host.server_dry_run
    sa = mb.service_account_name(opts.cluster, host_name)
    strict = opts.error_on_existing and not opts.update
    existing: dict[str, Any] | None
    try:
        existing = host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, opts.namespace, opts.cluster)
    except NotFound:
        existing = None
    if existing is not None and strict:
        raise InputError(
            f'cluster "{opts.cluster}" is already joined (use --update to refresh it, '
            "or --error-on-existing=false)"
        )
    mode = opts.mode or str(((existing or {}).get("spec") or {}).get("syncMode") or names.SYNC_MODE_PUSH)
    pull = mode == names.SYNC_MODE_PULL
    if pull and (problem := wk.cluster_namespace_problem(opts.cluster)):
        raise InputError(problem)
    if pull and scope == names.SCOPE_NAMESPACED:
        raise InputError(
            "pull mode needs a control plane of scope Cluster (its Works live in their own namespaces)"
        )
    if opts.deploy_agent and not pull:
        raise InputError("--deploy-agent needs --mode Pull")
    try:
        member.get("v1", "ServiceAccount", opts.namespace, sa)
        if strict:
            raise InputError(f"service account {opts.namespace}/{sa} already exists in the member")
    except NotFound:
        pass
    cluster_id = _ensure_identity(member, opts, say)
    others, _ = host.list(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, opts.namespace)
    holder = identity.holder_of(cluster_id, others, opts.cluster)
    if holder:
        raise InputError(
            f'cluster ID "{cluster_id}" is already used by joined cluster "{holder}"; '
            "is this the same cluster? (--cluster-id sets another ID on a new member)"
        )
    _ensure_clusterset(member, opts, say)
    types = [t for _, t in enabled_type_configs(host, opts.namespace) if t.propagation_enabled]
    legacy = opts.legacy_token and not pull  # a pull member issues no token to the host
    if not legacy and not pull and not memberrbac.serves_token_requests(member):
        say(f"warning: cluster {opts.cluster} does not serve the TokenRequest API: using a legacy token")
        legacy = True
    grant = (
        mp.admin_grant(sa, bound_token=not legacy)
        if opts.rbac == "admin"
        else mp.member_grant(types, scope=scope, sa=sa, allow_rbac=opts.allow_rbac, bound_token=not legacy)
    )
    objs = mb.member_objects(opts.namespace, sa, legacy_token=legacy)
    objs += mp.rbac_objects(opts.namespace, sa, mb.role_name(sa), grant)
    agent_objs = pa.member_agent_objects(opts.namespace, opts.cluster, sa) if pull else []
    policy_objs: list[dict[str, Any]] = []
    if memberrbac.serves_admission_policies(member):
        adopt = str(
            ((config.get("spec") or {}).get("syncController") or {}).get("adoptResources") or "Enabled"
        )
        policy_objs = list(
            mp.admission_policy(
                opts.namespace,
                sa,
                protected_namespaces=opts.protect_namespaces,
                adopt=adopt == "Enabled",
                adopt_namespaces=_is_host(host, member, opts.namespace),
                max_token_seconds=opts.token_seconds,
                agent_secret=pa.HOST_SECRET if pull else "",
            )
        )
    else:
        say(
            f"warning: cluster {opts.cluster} does not serve admissionregistration.k8s.io/v1 "
            "ValidatingAdmissionPolicy (Kubernetes < 1.30): the member identity is confined by RBAC only"
        )
    if opts.rbac != "admin":
        lacking = mp.unwritable(types, allow_rbac=opts.allow_rbac)
        if lacking:
            say(memberrbac.unwritable_warning(opts.cluster, lacking))
        if notice := mp.crd_notice(opts.cluster, types, scope):
            say(notice)
    if opts.dry_run:
        for obj in objs + agent_objs + policy_objs:
            preview(member, obj, _ref(obj), say, " in the member")
        if pull:
            for obj in pa.host_objects(opts.cluster):
                preview(host, obj, _ref(obj), say, " on the host")
        say(
            f"kubefedcluster.core.kubefed.io/{opts.cluster} would be created or updated in namespace "
            f"{opts.namespace} (dry run)"
        )
        return
    for obj in objs:
        _apply_member_object(member, obj, say)
    _remove_stale_rbac(member, opts.namespace, sa, objs, say)
    memberrbac.install_policy(member, policy_objs, say)
    cfg = kubeconfig.configuration(opts.kubeconfig, context)
    ca_b64 = ""
    if cfg.ssl_ca_cert and Path(cfg.ssl_ca_cert).exists():
        ca_b64 = base64.b64encode(Path(cfg.ssl_ca_cert).read_bytes()).decode()
    annotations = {
        identity.ID_ANNOTATION: cluster_id,
        identity.CLUSTERSET_ANNOTATION: opts.clusterset,
        # A changed grant changes the KubeFedCluster: the controller rebuilds the
        # cluster's client, restarts its informers and retries what failed.
        mp.GRANT_ANNOTATION: mp.grant_digest(objs + policy_objs),
    }
    if pull:
        for obj in agent_objs:
            _apply_member_object(member, obj, say)
        _join_pull(host, host_context, member, opts, existing, str(cfg.host), ca_b64, annotations, say)
        return
    if legacy:
        data = _wait_token(member, opts.namespace, sa)
        token_b64 = data["token"]
        ca_b64 = ca_b64 or data.get("ca.crt", "")
    else:
        _delete_legacy_token(member, opts.namespace, sa, say)
        token = memberrbac.request_token(member, opts.namespace, sa, opts.token_seconds)
        token_b64 = base64.b64encode(token.encode()).decode()
        say(f"bound token for {opts.namespace}/{sa} issued by the member (expires in {opts.token_seconds}s)")
        ca_b64 = ca_b64 or _root_ca(member, opts.namespace)
    secret_name = opts.secret_name or (
        str(((existing or {}).get("spec") or {}).get("secretRef", {}).get("name") or "") or None
    )
    secret_obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"namespace": opts.namespace},
        "data": {"token": token_b64},
    }
    if secret_name:
        secret_obj["metadata"]["name"] = secret_name
        try:
            current = host.get("v1", "Secret", opts.namespace, secret_name)
            if strict and opts.secret_name:
                raise InputError(f"secret {opts.namespace}/{secret_name} already exists on the host")
            if (current.get("data") or {}).get("token") != token_b64:
                host.update({**current, "data": {**(current.get("data") or {}), "token": token_b64}})
                say(f"secret/{secret_name} updated in namespace {opts.namespace}")
        except NotFound:
            host.create(secret_obj)
            say(f"secret/{secret_name} created in namespace {opts.namespace}")
    else:
        secret_obj["metadata"]["generateName"] = f"{opts.cluster}-"
        secret_name = name_of(host.create(secret_obj))
        say(f"secret/{secret_name} created in namespace {opts.namespace}")
    kfc = mb.kubefed_cluster(
        opts.cluster,
        opts.namespace,
        str(cfg.host),
        ca_b64,
        secret_name,
        insecure=not cfg.verify_ssl,
        proxy_url=str(cfg.proxy or ""),
        annotations=annotations,
    )
    # A push cluster has no agent: whatever a pull join (finished or not) left goes.
    _remove_pull_host_side(host, opts.cluster, say)
    _remove_agent(member, opts.namespace, say)
    _, action = _write_kubefed_cluster(host, existing, kfc)
    say(f"kubefedcluster.core.kubefed.io/{opts.cluster} {action} in namespace {opts.namespace}")


def pull_cluster(kfc: dict[str, Any]) -> bool:
    return (kfc.get("spec") or {}).get("syncMode") == names.SYNC_MODE_PULL


def _write_kubefed_cluster(
    host: KubeClusterClient, existing: dict[str, Any] | None, kfc: dict[str, Any]
) -> tuple[dict[str, Any], str]:
    """Create, or update with exactly this spec (a mode switch drops the other mode's fields),
    reading it again when the controller wrote its status in between."""
    if existing is None:
        return apply(host, kfc)
    for attempt in range(5):
        updated = {**existing, "spec": kfc["spec"]}
        meta = dict(existing["metadata"])
        meta["annotations"] = {**annotations_of(existing), **(kfc["metadata"].get("annotations") or {})}
        updated["metadata"] = meta
        if updated == existing:
            return existing, "unchanged"
        try:
            return host.update(updated), "configured"
        except Conflict:
            if attempt == 4:
                raise
            existing = host.get(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, *_ns_name(kfc))
    raise AssertionError("unreachable")


def _ns_name(obj: dict[str, Any]) -> tuple[str, str]:
    return namespace_of(obj), name_of(obj)


def _join_pull(
    host: KubeClusterClient,
    host_context: str,
    member: KubeClusterClient,
    opts: JoinOptions,
    existing: dict[str, Any] | None,
    member_endpoint: str,
    member_ca_b64: str,
    annotations: dict[str, str],
    say: Say,
) -> None:
    """The host side of a pull cluster: the agent's namespace, identity and Role, its
    host kubeconfig in the member's Secret, optionally its Deployment, and a KubeFedCluster
    with syncMode Pull and no secretRef (a push secret left from before is deleted)."""
    for obj in pa.host_objects(opts.cluster):
        if kind_of(obj) == "Namespace":
            _wait_namespace_gone(host, name_of(obj), say)
        _, action = apply(host, obj)
        if action != "unchanged":
            say(f"{_ref(obj)} {action} on the host")
    namespace = wk.cluster_namespace(opts.cluster)
    account = pa.agent_account(opts.cluster)
    token = memberrbac.request_token(host, namespace, account, opts.token_seconds)
    say(f"bound token for {namespace}/{account} issued by the host (expires in {opts.token_seconds}s)")
    hcfg = kubeconfig.configuration(opts.kubeconfig, host_context)
    ca_pem = ""
    if hcfg.ssl_ca_cert and Path(hcfg.ssl_ca_cert).exists():
        ca_pem = Path(hcfg.ssl_ca_cert).read_text()
    text = pa.host_kubeconfig(str(hcfg.host), ca_pem, token, insecure=not hcfg.verify_ssl)
    secret = pa.host_secret(opts.namespace, text)
    try:
        current = member.get("v1", "Secret", opts.namespace, pa.HOST_SECRET)
        member.update({**current, "data": secret["data"]})
        say(f"secret/{pa.HOST_SECRET} updated in the member (the agent's host credentials)")
    except NotFound:
        member.create(secret)
        say(f"secret/{pa.HOST_SECRET} created in the member (the agent's host credentials)")
    if opts.deploy_agent:
        sa = mb.service_account_name(opts.cluster, opts.host_cluster_name or host_context)
        deployment = pa.agent_deployment(opts.namespace, opts.cluster, sa, opts.agent_image)
        _, action = apply(member, deployment)
        say(f"{_ref(deployment)} {action} in the member")
    old_secret = str((((existing or {}).get("spec") or {}).get("secretRef") or {}).get("name") or "")
    spec: dict[str, Any] = {"apiEndpoint": member_endpoint, "syncMode": names.SYNC_MODE_PULL}
    if member_ca_b64:
        spec["caBundle"] = member_ca_b64
    kfc = {
        "apiVersion": names.CORE_API_VERSION,
        "kind": names.KIND_KUBEFED_CLUSTER,
        "metadata": {"name": opts.cluster, "namespace": opts.namespace, "annotations": annotations},
        "spec": spec,
    }
    _, action = _write_kubefed_cluster(host, existing, kfc)
    say(f"kubefedcluster.core.kubefed.io/{opts.cluster} {action} in namespace {opts.namespace} (pull mode)")
    if old_secret:
        try:
            host.delete("v1", "Secret", opts.namespace, old_secret)
            say(f"secret/{old_secret} deleted in namespace {opts.namespace} (the host keeps no credential)")
        except NotFound:
            pass


def _remove_pull_host_side(host: KubeClusterClient, cluster: str, say: Say) -> None:
    """The cluster's namespace on the host, after letting its Works go (their finalizers
    wait for an agent that is leaving; the member objects stay where they are)."""
    namespace = wk.cluster_namespace(cluster)
    try:
        host.get("v1", "Namespace", "", namespace)
    except NotFound:
        return  # never pulled (the usual case for a push cluster)
    try:
        works, _ = host.list(names.WORK_API_VERSION, names.KIND_WORK, namespace)
    except NotFound:
        works = []
    for item in works:
        if names.WORK_FINALIZER in (metadata(item).get("finalizers") or []):
            meta = dict(item["metadata"])
            meta["finalizers"] = [f for f in meta["finalizers"] if f != names.WORK_FINALIZER]
            try:
                host.update({**item, "metadata": meta})
            except NotFound:
                continue
    try:
        host.delete("v1", "Namespace", "", namespace)
        say(f"namespace/{namespace} deleted on the host ({len(works)} Works let go)")
    except NotFound:
        pass


def _remove_agent(member: KubeClusterClient, namespace: str, say: Say) -> None:
    for api, kind, name in [
        ("apps/v1", "Deployment", pa.AGENT_DEPLOYMENT),
        ("v1", "Secret", pa.HOST_SECRET),
        (mb.RBAC_API, "RoleBinding", pa.MEMBER_SECRET_ROLE),
        (mb.RBAC_API, "Role", pa.MEMBER_SECRET_ROLE),
    ]:
        try:
            member.delete(api, kind, namespace, name)
            say(f"{kind.lower()}/{name} deleted in the member")
        except NotFound:
            continue


def _rbac_names(namespace: str, sa: str) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of every RBAC object join has ever made for the identity."""
    return [
        ("ClusterRoleBinding", "", mb.role_name(sa)),
        ("ClusterRole", "", mb.role_name(sa)),
        ("ClusterRoleBinding", "", mb.healthcheck_role_name(namespace, sa)),
        ("ClusterRole", "", mb.healthcheck_role_name(namespace, sa)),
        ("RoleBinding", namespace, mb.role_name(sa)),
        ("Role", namespace, mb.role_name(sa)),
    ]


def _remove_stale_rbac(
    member: KubeClusterClient, namespace: str, sa: str, objs: list[dict[str, Any]], say: Say
) -> None:
    """A rejoin with another scope or fewer rights leaves no grant of the old one behind."""
    wanted = {(kind_of(o), namespace_of(o), name_of(o)) for o in objs}
    for kind, ns, name in _rbac_names(namespace, sa):
        if (kind, ns, name) in wanted:
            continue
        try:
            member.delete(mb.RBAC_API, kind, ns, name)
            say(f"{kind.lower()}/{name} deleted in the member (no longer needed)")
        except NotFound:
            continue


def _delete_legacy_token(member: KubeClusterClient, namespace: str, sa: str, say: Say) -> None:
    """Switching to bound tokens revokes the non-expiring one (deleting its Secret does)."""
    try:
        secret = member.get("v1", "Secret", namespace, sa)
    except NotFound:
        return
    if secret.get("type") == mp.SA_TOKEN_TYPE:
        member.delete("v1", "Secret", namespace, sa)
        say(f"secret/{sa} (legacy non-expiring token) deleted in the member")


def _root_ca(member: KubeClusterClient, namespace: str) -> str:
    """The member's CA from the kube-root-ca.crt ConfigMap, when the kubeconfig has none."""
    try:
        data = member.get("v1", "ConfigMap", namespace, "kube-root-ca.crt").get("data") or {}
    except NotFound:
        return ""
    pem = str(data.get("ca.crt") or "")
    return base64.b64encode(pem.encode()).decode() if pem else ""


@dataclass
class UnjoinOptions:
    cluster: str
    cluster_context: str | None
    host_cluster_name: str | None
    force: bool
    remove_resources: bool
    dry_run: bool
    kubeconfig: str | None
    namespace: str


def _is_host(host: KubeClusterClient, member: KubeClusterClient, namespace: str) -> bool:
    try:
        return bool(
            metadata(host.get("v1", "Namespace", "", namespace)).get("uid")
            == metadata(member.get("v1", "Namespace", "", namespace)).get("uid")
        )
    except NotFound:
        return False


def _remove_managed(host: KubeClusterClient, member: KubeClusterClient, namespace: str, say: Say) -> None:
    """Delete what federation manages in the member, and only that. Namespaces are only
    unlabelled: deleting one would delete unmanaged objects inside it. A namespaced control
    plane wrote only in its namespace: what other planes manage elsewhere is left alone."""
    selector = f"{names.MANAGED_LABEL}=true"
    host_ns_uid = metadata(host.get("v1", "Namespace", "", namespace)).get("uid")
    config = require_control_plane(host, namespace)
    limited = (config.get("spec") or {}).get("scope") == names.SCOPE_NAMESPACED
    where = namespace if limited else ""
    for _, t in enabled_type_configs(host, namespace):
        if limited and (not t.namespaced or t.kind == "Namespace"):
            continue
        try:
            items, _ = member.list(t.api_version, t.kind, where, label_selector=selector)
        except NotFound:
            continue
        removed = 0
        for obj in items:
            if labels_of(obj).get(names.MANAGED_LABEL) != "true":
                continue
            try:
                if t.kind == "Namespace" or metadata(obj).get("uid") == host_ns_uid:
                    labels = {k: v for k, v in labels_of(obj).items() if k != names.MANAGED_LABEL}
                    member.update({**obj, "metadata": {**obj["metadata"], "labels": labels}})
                else:
                    member.delete(t.api_version, t.kind, namespace_of(obj), name_of(obj))
                removed += 1
            except NotFound:
                continue
        if removed:
            verb = "unlabelled" if t.kind == "Namespace" else "deleted"
            say(f"{removed} managed {t.plural} {verb} in the member")


def _preview_unjoin(
    host: KubeClusterClient,
    member: KubeClusterClient | None,
    kfc: dict[str, Any] | None,
    sa: str,
    opts: UnjoinOptions,
    say: Say,
) -> None:
    """What unjoin would delete: said (--dry-run=client) or the API server's dry run (server)."""
    if kfc is not None:
        target = (names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, opts.namespace, opts.cluster)
        preview_delete(host, target, f"kubefedcluster.core.kubefed.io/{opts.cluster}", say)
        secret = ((kfc.get("spec") or {}).get("secretRef") or {}).get("name")
        if secret:
            target = ("v1", "Secret", opts.namespace, str(secret))
            preview_delete(host, target, f"secret/{secret}", say, f" in namespace {opts.namespace}")
    if member is None:
        return
    for api, kind, ns, name in [
        *((mb.RBAC_API, kind, ns, name) for kind, ns, name in _rbac_names(opts.namespace, sa)),
        ("v1", "ServiceAccount", opts.namespace, sa),
    ]:
        preview_delete(member, (api, kind, ns, name), f"{kind.lower()}/{name}", say, " in the member")


def unjoin(host: KubeClusterClient, host_context: str, opts: UnjoinOptions, say: Say) -> None:
    require_control_plane(host, opts.namespace)
    try:
        kfc: dict[str, Any] | None = host.get(
            names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, opts.namespace, opts.cluster
        )
    except NotFound:
        if not opts.force:
            raise InputError(
                f'cluster "{opts.cluster}" is not joined (no KubeFedCluster {opts.cluster})'
            ) from None
        kfc = None
    host_name = opts.host_cluster_name or host_context
    sa = mb.service_account_name(opts.cluster, host_name)
    member: KubeClusterClient | None = None
    try:
        member = _member(opts.kubeconfig, opts.cluster_context or opts.cluster, opts.cluster)
    except (ClusterError, InputError) as err:
        if not opts.force:
            raise
        say(f"warning: skipping the member: {err}")
    if member is not None:
        member.server_dry_run = host.server_dry_run
    if opts.dry_run:
        _preview_unjoin(host, member, kfc, sa, opts, say)
        return
    secret = ((kfc or {}).get("spec") or {}).get("secretRef", {}).get("name")
    if kfc is not None:
        host.delete(names.CORE_API_VERSION, names.KIND_KUBEFED_CLUSTER, opts.namespace, opts.cluster)
        say(f"kubefedcluster.core.kubefed.io/{opts.cluster} deleted")
    if kfc is None or pull_cluster(kfc):  # a forced unjoin also clears what a pull join left
        _remove_pull_host_side(host, opts.cluster, say)
    if secret:
        try:
            host.delete("v1", "Secret", opts.namespace, str(secret))
            say(f"secret/{secret} deleted in namespace {opts.namespace}")
        except NotFound:
            pass
    if member is None:
        return
    try:
        ours = (
            annotations_of(kfc).get(identity.CLUSTERSET_ANNOTATION) if kfc is not None else None
        ) or identity.DEFAULT_CLUSTERSET
        try:
            clusterset = member.get(identity.API_VERSION, identity.KIND, "", identity.CLUSTERSET_PROPERTY)
            if identity.property_value(clusterset) == ours:  # only ours: another ClusterSet's stays
                member.delete(identity.API_VERSION, identity.KIND, "", identity.CLUSTERSET_PROPERTY)
                say(f"clusterproperty/{identity.CLUSTERSET_PROPERTY} deleted in the member")
        except NotFound:
            pass
        if opts.remove_resources:
            _remove_managed(host, member, opts.namespace, say)
        _remove_agent(member, opts.namespace, say)
        memberrbac.remove_policy(member, sa, say)
        for api, kind, ns, name in [
            *((mb.RBAC_API, kind, ns, name) for kind, ns, name in _rbac_names(opts.namespace, sa)),
            ("v1", "Secret", opts.namespace, sa),
            ("v1", "ServiceAccount", opts.namespace, sa),
        ]:
            try:
                member.delete(api, kind, ns, name)
                say(f"{kind.lower()}/{name} deleted in the member")
            except NotFound:
                continue
        if not _is_host(host, member, opts.namespace):
            try:
                member.delete("v1", "Namespace", "", opts.namespace)
                say(f"namespace/{opts.namespace} deleted in the member")
            except NotFound:
                pass
    except ApiError as err:
        if not opts.force:
            raise ClusterError(f'cluster "{opts.cluster}": {err}') from None
        say(f"warning: {err}")
