"""The commands that talk to clusters. Kubernetes client code is imported inside each
command, so ``--help`` and the offline commands never load it."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import ClusterError, InputError
from kubectl_kubefed.cli.app import (
    NS,
    ClusterNamespace,
    DryRun,
    HostContext,
    Kubeconfig,
    Namespace,
    app,
    dry_run_mode,
)
from kubectl_kubefed.cli.output import OBJECTS, Format, choose, output_option
from kubectl_kubefed.core.memberpolicy import DEFAULT_PROTECTED_NAMESPACES
from kubectl_kubefed.core.pullaccess import DEFAULT_IMAGE as DEFAULT_AGENT_IMAGE


def say(line: str) -> None:
    print(line, flush=True)


TABLE_FORMATS = (Format.table, Format.json)


def host_client(kubeconfig: str | None, context: str | None, dry_run: str = "none") -> tuple[Any, str]:
    """The host's client (with ``dry_run`` server: every write is the API server's dry run)."""
    from kubectl_kubefed.kube import kubeconfig as kc
    from kubectl_kubefed.kube.members import client_for_context
    from kubectl_kubefed.sync.errors import ApiError

    resolved = kc.resolve_context(kubeconfig, context)
    host = client_for_context(kubeconfig, resolved.name, name="host")
    host.server_dry_run = dry_run == "server"
    try:
        host.version()
    except ApiError as err:
        raise ClusterError(f"cannot reach the host cluster (context {resolved.name}): {err}") from None
    return host, resolved.name


@app.command()
def init(
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    scope: Annotated[
        str, typer.Option("--scope", metavar="Cluster|Namespaced", help="Control-plane scope.")
    ] = names.SCOPE_CLUSTER,
    output: Annotated[str | None, output_option(OBJECTS, "Print instead of applying.")] = None,
    dry_run: DryRun = "none",
) -> None:
    """Install KubeFed's API on the host: namespace, CRDs, KubeFedConfig, default types."""
    if scope not in (names.SCOPE_CLUSTER, names.SCOPE_NAMESPACED):
        raise InputError(f"--scope must be Cluster or Namespaced, not {scope}")
    fmt = choose(output, OBJECTS)
    mode = dry_run_mode(dry_run)
    from kubectl_kubefed.cli.output import print_objects
    from kubectl_kubefed.kube import controlplane

    if fmt is not None:
        print_objects(controlplane.init_objects(kubefed_namespace, scope), fmt)
        return
    host, _ = host_client(kubeconfig, host_cluster_context, mode)
    controlplane.init(host, kubefed_namespace, scope, dry_run=mode != "none", say=say)


# The member a join or unjoin is about, as both commands name it.
MemberName = Annotated[str, typer.Argument(metavar="CLUSTER_NAME", help="Name of the member.")]
MemberContext = Annotated[
    str | None,
    typer.Option(
        "--cluster-context", metavar="CONTEXT", help="Context of the member (default: CLUSTER_NAME)."
    ),
]
HostClusterName = Annotated[
    str | None, typer.Option("--host-cluster-name", metavar="NAME", help="Default: the host context.")
]


@app.command()
def join(
    cluster: MemberName,
    cluster_context: MemberContext = None,
    host_cluster_name: HostClusterName = None,
    secret_name: Annotated[
        str | None, typer.Option("--secret-name", metavar="NAME", help="Name of the host secret.")
    ] = None,
    error_on_existing: Annotated[bool, typer.Option("--error-on-existing/--no-error-on-existing")] = True,
    rbac: Annotated[
        str, typer.Option("--rbac", metavar="minimal|admin", help="admin: KubeFed's wildcard grant.")
    ] = "minimal",
    update: Annotated[
        bool, typer.Option("--update", help="Re-apply RBAC and credentials of a joined cluster.")
    ] = False,
    cluster_id: Annotated[
        str | None,
        typer.Option(
            "--cluster-id", metavar="ID", help="ID for a member without one (default: kube-system UID)."
        ),
    ] = None,
    clusterset: Annotated[
        str, typer.Option("--clusterset", metavar="NAME", help="ClusterSet recorded in the member.")
    ] = "kubefed",
    allow_rbac: Annotated[
        bool,
        typer.Option(
            "--allow-rbac",
            help="Let the member identity write the enabled RBAC types (grants escalate and bind).",
        ),
    ] = False,
    legacy_token: Annotated[
        bool,
        typer.Option("--legacy-token", help="A non-expiring token Secret instead of a bound, renewed token."),
    ] = False,
    protect_namespaces: Annotated[
        str,
        typer.Option(
            "--protect-namespaces",
            metavar="a,b",
            help="Namespaces the member identity may never write.",
        ),
    ] = ",".join(DEFAULT_PROTECTED_NAMESPACES),
    token_expiration: Annotated[
        str,
        typer.Option(
            "--token-expiration", metavar="DURATION", help="Lifetime of the bound token (10m to 24h)."
        ),
    ] = "1h",
    sync_mode: Annotated[
        str | None,
        typer.Option(
            "--mode",
            metavar="Push|Pull",
            help="Pull: an agent in the member fetches its work; the host keeps no credential "
            "(docs/pull.md). Default: Push, or the joined cluster's mode with --update.",
        ),
    ] = None,
    deploy_agent: Annotated[
        bool, typer.Option("--deploy-agent", help="Pull: also create the agent's Deployment in the member.")
    ] = False,
    agent_image: Annotated[
        str, typer.Option("--agent-image", metavar="IMAGE", help="Pull: the agent's image.")
    ] = DEFAULT_AGENT_IMAGE,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = "none",
) -> None:
    """Register a member cluster with the host (least privilege: docs/security.md)."""
    if rbac not in ("minimal", "admin"):
        raise InputError(f"--rbac must be minimal or admin, not {rbac}")
    if sync_mode is not None and sync_mode not in (names.SYNC_MODE_PUSH, names.SYNC_MODE_PULL):
        raise InputError(f"--mode must be Push or Pull, not {sync_mode}")
    mode = dry_run_mode(dry_run)
    from kubectl_kubefed.core import memberpolicy as mp
    from kubectl_kubefed.kube.join import JoinOptions
    from kubectl_kubefed.kube.join import join as do_join
    from kubectl_kubefed.sync.settings import parse_duration

    try:
        protected = mp.parse_protected_namespaces(protect_namespaces, kubefed_namespace)
        seconds = int(parse_duration(token_expiration, mp.DEFAULT_TOKEN_SECONDS))
    except ValueError as err:
        raise InputError(f"{err}") from None
    if not mp.MIN_TOKEN_SECONDS <= seconds <= mp.MAX_TOKEN_SECONDS:
        raise InputError(f"--token-expiration must be between 10m and 24h, not {token_expiration}")

    host, host_context = host_client(kubeconfig, host_cluster_context, mode)
    do_join(
        host,
        host_context,
        JoinOptions(
            cluster,
            cluster_context,
            host_cluster_name,
            secret_name,
            error_on_existing,
            rbac,
            update,
            mode != "none",
            kubeconfig,
            kubefed_namespace,
            cluster_id,
            clusterset,
            allow_rbac=allow_rbac,
            legacy_token=legacy_token,
            protect_namespaces=tuple(protected),
            token_seconds=seconds,
            mode=sync_mode,
            deploy_agent=deploy_agent,
            agent_image=agent_image,
        ),
        say,
    )


@app.command()
def unjoin(
    cluster: MemberName,
    cluster_context: MemberContext = None,
    host_cluster_name: HostClusterName = None,
    force: Annotated[bool, typer.Option("--force", help="Continue past member errors.")] = False,
    remove_resources: Annotated[
        bool, typer.Option("--remove-resources", help="First delete what federation manages in the member.")
    ] = False,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = "none",
) -> None:
    """Remove a member cluster from the host."""
    from kubectl_kubefed.kube.join import UnjoinOptions
    from kubectl_kubefed.kube.join import unjoin as do_unjoin

    mode = dry_run_mode(dry_run)
    host, host_context = host_client(kubeconfig, host_cluster_context, mode)
    do_unjoin(
        host,
        host_context,
        UnjoinOptions(
            cluster,
            cluster_context,
            host_cluster_name,
            force,
            remove_resources,
            mode != "none",
            kubeconfig,
            kubefed_namespace,
        ),
        say,
    )


def enable_online(
    type_name: str | None,
    filename: str | None,
    version: str | None,
    federated_group: str,
    federated_version: str,
    kubeconfig: str | None,
    context: str | None,
    namespace: str,
    mode: str,
) -> None:
    from kubectl_kubefed.cli import enable as offline
    from kubectl_kubefed.kube import discovery, typeops

    dry_run = mode != "none"
    host, _ = host_client(kubeconfig, context, mode)
    if filename is not None:
        t = offline.resolve(None, filename, version, federated_group, federated_version)
    else:
        assert type_name is not None
        try:
            res = discovery.find(discovery.preferred_resources(host, version), type_name)
        except discovery.LookupError_ as err:
            raise InputError(str(err)) from None
        t = typeops.type_config_for(host, res).with_federated(federated_group, federated_version)
    typeops.enable(host, t, namespace, dry_run=dry_run, say=say)
    if not dry_run:
        warn_unwritable(host, namespace, t)


def warn_unwritable(host: Any, namespace: str, t: Any) -> None:
    """One warning line when joined clusters' member identities cannot write the type."""
    from kubectl_kubefed.kube import memberrbac
    from kubectl_kubefed.kube.typeops import require_control_plane

    scope = str((require_control_plane(host, namespace).get("spec") or {}).get("scope") or "Cluster")
    lacking = memberrbac.clusters_lacking(host, namespace, t, scope)
    if lacking:
        say(
            f"warning: the member identity of {', '.join(lacking)} cannot write {t.name} yet: "
            + memberrbac.remedy(lacking, [t])
        )


@app.command()
def disable(
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="The type (its FederatedTypeConfig).")],
    delete_crd: Annotated[bool, typer.Option("--delete-crd", help="Also delete the federated CRD.")] = False,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = "none",
) -> None:
    """Stop federating a type (federated and member objects are left as they are)."""
    from kubectl_kubefed.kube import discovery, typeops

    mode = dry_run_mode(dry_run)
    dry = mode != "none"
    host, _ = host_client(kubeconfig, host_cluster_context, mode)
    ftc_name = type_name
    if "." not in type_name:
        try:
            ftc_name = discovery.find(discovery.preferred_resources(host), type_name).qualified
        except discovery.LookupError_ as err:
            raise InputError(str(err)) from None
    t = _enabled_type(host, ftc_name, kubefed_namespace)
    typeops.disable(host, ftc_name, kubefed_namespace, delete_crd=delete_crd, dry_run=dry, say=say)
    if t is not None and not dry:
        note_still_writable(host, kubefed_namespace, t)


def _enabled_type(host: Any, ftc_name: str, namespace: str) -> Any:
    from kubectl_kubefed.core import typeconfig as tc
    from kubectl_kubefed.sync.errors import ApiError

    try:
        return tc.from_ftc(host.get(names.CORE_API_VERSION, names.KIND_TYPE_CONFIG, namespace, ftc_name))
    except (ApiError, tc.TypeConfigError):
        return None  # disable says what is wrong


def note_still_writable(host: Any, namespace: str, t: Any) -> None:
    """Member roles follow the enabled types only through ``join --update``: say so."""
    from kubectl_kubefed.kube import memberrbac
    from kubectl_kubefed.kube.typeops import require_control_plane

    scope = str((require_control_plane(host, namespace).get("spec") or {}).get("scope") or "Cluster")
    able, _ = memberrbac.clusters_by_right(host, namespace, t, scope)
    if able:
        say(
            f"note: the member identity of {', '.join(able)} may still write {t.name}: "
            + memberrbac.remedy(able, [])
            + " to remove that right"
        )


def federate_online(
    type_name: str,
    name: str,
    namespace: str | None,
    output: Format | None,
    contents: bool,
    enable_type: bool,
    skip: list[str],
    placement: Any,
    rules: Any,
    federated_group: str,
    federated_version: str,
    kubeconfig: str | None,
    context: str | None,
    kubefed_namespace: str,
    mode: str = "none",
) -> None:
    from kubectl_kubefed.cli.output import print_objects
    from kubectl_kubefed.kube import kubeconfig as kc
    from kubectl_kubefed.kube.federate_online import FederateOptions, Federator

    if enable_type and output is not None:
        raise InputError("--enable-type cannot be combined with -o")
    if mode != "none" and output is not None:
        raise InputError("--dry-run cannot be combined with -o (which writes nothing)")
    host, ctx = host_client(kubeconfig, context, mode)
    ns = namespace or kc.resolve_context(kubeconfig, ctx).namespace or "default"
    opts = FederateOptions(
        ns,
        placement,
        rules,
        enable_type,
        output is not None,
        contents,
        {s for item in skip for s in item.split(",") if s},
        federated_group,
        federated_version,
        dry_run=mode != "none",
    )
    federator = Federator(host, kubefed_namespace, opts, say if output is None else lambda _m: None)
    terminal = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if terminal:
            print(
                f"\rfederating {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True
            )

    federator.federate(type_name, name, progress)
    if output is not None:
        print_objects(federator.printed, output)


@app.command("orphaning-deletion")
def orphaning_deletion(
    action: Annotated[str, typer.Argument(metavar="enable|disable|status", help="What to do.")],
    type_name: Annotated[str, typer.Argument(metavar="TYPE", help="Federated type or its target type.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="Name of the federated object.")],
    namespace: ClusterNamespace = None,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = "none",
) -> None:
    """Keep (enable) or delete (disable) member objects when a federated object is deleted."""
    if action not in ("enable", "disable", "status"):
        raise InputError(f"action must be enable, disable or status, not {action}")
    mode = dry_run_mode(dry_run)
    from kubectl_kubefed.core.naming import federated_name
    from kubectl_kubefed.kube import fedobjects
    from kubectl_kubefed.kube import kubeconfig as kc
    from kubectl_kubefed.sync.errors import NotFound

    host, ctx = host_client(kubeconfig, host_cluster_context, mode)
    t = fedobjects.federated_type(host, kubefed_namespace, type_name)
    ns = (
        (namespace or kc.resolve_context(kubeconfig, ctx).namespace or "default")
        if t.federated_namespaced
        else ""
    )
    try:
        # NAME may be the member objects' name (system:x); federated_name maps it.
        obj = host.get(t.federated_api_version, t.federated_kind, ns, federated_name(name))
    except NotFound:
        raise InputError(
            f'{t.federated_kind} "{name}" not found' + (f" in namespace {ns}" if ns else "")
        ) from None
    annotations = dict((obj.get("metadata") or {}).get("annotations") or {})
    enabled = annotations.get(names.ORPHAN_ANNOTATION) == "true"
    if action == "status":
        say("Enabled" if enabled else "Disabled")
        return
    if action == "enable":
        annotations[names.ORPHAN_ANNOTATION] = "true"
    else:
        annotations.pop(names.ORPHAN_ANNOTATION, None)
    obj["metadata"]["annotations"] = annotations
    if mode == "client":
        say(f"orphaning deletion would be {action}d for {t.federated_kind} {name} (dry run)")
        return
    host.update(obj)
    suffix = " (server dry run)" if mode == "server" else ""
    say(f"orphaning deletion {action}d for {t.federated_kind} {name}{suffix}")


@app.command()
def status(
    type_name: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="Federated type or its target type.")
    ] = None,
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="One object.")] = None,
    all_types: Annotated[
        bool, typer.Option("--all", help="Every federated object of every enabled type.")
    ] = False,
    namespace: ClusterNamespace = None,
    output: Annotated[str | None, output_option(TABLE_FORMATS, "A table (default), or records.")] = None,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
) -> None:
    """Propagation status of federated objects: condition and per-cluster codes."""
    from kubectl_kubefed.cli import status_view

    fmt = choose(output, TABLE_FORMATS, Format.table)
    assert fmt is not None
    if not all_types and type_name is None:
        raise InputError("give TYPE [NAME] or --all")
    host, _ = host_client(kubeconfig, host_cluster_context)
    status_view.run(host, kubefed_namespace, type_name, name, namespace, fmt)


@app.command()
def clusters(
    output: Annotated[str | None, output_option(TABLE_FORMATS, "A table (default), or records.")] = None,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
) -> None:
    """Joined clusters: name, cluster ID, ClusterSet, readiness, Kubernetes version, endpoint."""
    fmt = choose(output, TABLE_FORMATS, Format.table)
    assert fmt is not None
    from kubectl_kubefed.cli import clusters_view

    host, _ = host_client(kubeconfig, host_cluster_context)
    clusters_view.run(host, kubefed_namespace, fmt)
