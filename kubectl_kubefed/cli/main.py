"""The typer application behind ``kubectl kubefed``.

Verb modules are imported inside each command so that ``--help`` and offline commands
start fast and never load a Kubernetes client. ``main`` turns every failure into one
line: exit code 2 for bad input (files, flags, the command line itself), 1 for a cluster
that failed (unreachable, an API error), 70 for a bug.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kubectl_kubefed import __version__
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import ClusterError, InputError
from kubectl_kubefed.api.validation import printable
from kubectl_kubefed.cli.app import (
    COMPLETE_VAR,
    DRY_RUN_MODES,
    EXECUTABLE,
    NS,
    PROG,
    RENDER_FORMATS,
    SIMULATE_FORMATS,
    ClusterNamespace,
    DryRun,
    FederatedGroup,
    FederatedVersion,
    Files,
    HostContext,
    Kubeconfig,
    Namespace,
    app,
    dry_run_mode,
)
from kubectl_kubefed.cli.output import OBJECTS, Format, choose, output_option

if TYPE_CHECKING:
    from typer._click.core import Command, Context


@app.command()
def federate(
    type_name: Annotated[str | None, typer.Argument(metavar="TYPE", help="Type of a host object.")] = None,
    name: Annotated[str | None, typer.Argument(metavar="NAME", help="Name of the host object.")] = None,
    filename: Annotated[
        list[str] | None,
        typer.Option("-f", "--filename", metavar="FILE", help="Convert files offline ('-' for stdin)."),
    ] = None,
    output: Annotated[str | None, output_option(OBJECTS, "Print instead of creating (default yaml).")] = None,
    namespace: ClusterNamespace = None,
    clusters: Annotated[
        str | None, typer.Option("--clusters", metavar="a,b", help="Place on these clusters.")
    ] = None,
    cluster_selector: Annotated[
        str | None,
        typer.Option(
            "--cluster-selector", metavar="SELECTOR", help="Place by cluster labels: 'k=v,k2 in (x,y)'."
        ),
    ] = None,
    overrides: Annotated[
        str | None, typer.Option("--overrides", metavar="FILE", help="Per-cluster overrides file.")
    ] = None,
    contents: Annotated[
        bool, typer.Option("-c", "--contents", help="A namespace and what it holds.")
    ] = False,
    enable_type: Annotated[bool, typer.Option("-t", "--enable-type", help="Enable the type first.")] = False,
    skip_api_resources: Annotated[
        list[str] | None,
        typer.Option("-s", "--skip-api-resources", metavar="TYPES", help="Skip these types (--contents)."),
    ] = None,
    federated_group: FederatedGroup = names.TYPES_GROUP,
    federated_version: FederatedVersion = names.TYPES_VERSION,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = "none",
) -> None:
    """Convert objects to their federated form: files offline (-f), or TYPE NAME on the host."""
    from kubectl_kubefed.cli import federate as verb

    fmt = choose(output, OBJECTS)
    mode = dry_run_mode(dry_run)
    if filename:
        if type_name or name:
            raise InputError("give either -f FILE or TYPE NAME, not both")
        verb.run(
            filename,
            fmt or Format.yaml,
            clusters,
            cluster_selector,
            overrides,
            federated_group,
            federated_version,
        )
        return
    if not type_name or not name:
        raise InputError("give TYPE NAME (an object on the host) or -f FILE")
    from kubectl_kubefed.cli import online
    from kubectl_kubefed.core.convert import placement_from_flags

    online.federate_online(
        type_name,
        name,
        namespace,
        fmt,
        contents,
        enable_type,
        skip_api_resources or [],
        placement_from_flags(clusters, cluster_selector),
        verb.load_override_rules(overrides),
        federated_group,
        federated_version,
        kubeconfig,
        host_cluster_context,
        kubefed_namespace,
        mode,
    )


@app.command()
def render(
    filename: Files,
    scope: Annotated[
        str | None,
        typer.Option("--scope", metavar="Cluster|Namespaced", help="Control-plane scope."),
    ] = None,
    output: Annotated[str | None, output_option(RENDER_FORMATS, "A summary (default), or the data.")] = None,
    output_dir: Annotated[
        str | None, typer.Option("--output-dir", metavar="DIR", help="Write DIR/<cluster>.yaml per cluster.")
    ] = None,
) -> None:
    """Show exactly what each member cluster would get, without touching a cluster."""
    from kubectl_kubefed.cli import render as verb

    fmt = choose(output, RENDER_FORMATS, Format.text)
    assert fmt is not None
    verb.run(filename, scope, fmt, output_dir)


@app.command()
def enable(
    type_name: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="plural, kind, short name or plural.group")
    ] = None,
    filename: Annotated[
        str | None, typer.Option("-f", "--filename", metavar="FILE", help="CRD or EnableTypeDirective file.")
    ] = None,
    output: Annotated[str | None, output_option(OBJECTS, "Print instead of applying.")] = None,
    version: Annotated[
        str | None, typer.Option("--version", metavar="VERSION", help="Target API version.")
    ] = None,
    federated_group: FederatedGroup = names.TYPES_GROUP,
    federated_version: FederatedVersion = names.TYPES_VERSION,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = "none",
) -> None:
    """Enable federation of a type: its FederatedTypeConfig and federated CRD."""
    from kubectl_kubefed.cli import enable as verb

    fmt = choose(output, OBJECTS)
    mode = dry_run_mode(dry_run)
    if fmt is not None:
        verb.run(type_name, filename, fmt, version, federated_group, federated_version, kubefed_namespace)
        return
    if (type_name is None) == (filename is None):
        raise InputError("give exactly one of TYPE or -f FILE")
    from kubectl_kubefed.cli import online

    online.enable_online(
        type_name,
        filename,
        version,
        federated_group,
        federated_version,
        kubeconfig,
        host_cluster_context,
        kubefed_namespace,
        mode,
    )


@app.command()
def simulate(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help="Scenario file (docs/simulate.md).")],
    output: Annotated[
        str | None, output_option(SIMULATE_FORMATS, "A table (default), or the states.")
    ] = None,
    every_step: Annotated[bool, typer.Option("--every-step", help="yaml/json: one state per step.")] = False,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed for injected faults and uids.")] = 0,
) -> None:
    """Run a scenario on an in-memory fleet: what each cluster gets, and what failures do."""
    from kubectl_kubefed.cli import simulate as verb

    fmt = choose(output, SIMULATE_FORMATS, Format.table)
    assert fmt is not None
    if not verb.run(scenario, fmt, every_step, seed):
        print("warning: some step did not settle within the bound", file=sys.stderr)


@app.command()
def controller(
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Annotated[
        str | None,
        typer.Option(
            "--kubefed-namespace",
            metavar="NAMESPACE",
            help=f"KubeFed system namespace. Default {NS}; in a Pod, the Pod's namespace.",
        ),
    ] = None,
    metrics_bind_address: Annotated[
        str | None,
        typer.Option(
            "--metrics-bind-address",
            metavar="ADDRESS",
            help="Address for /metrics (also /healthz, /readyz); 0: off. "
            "Default :8080 in a Pod, else 127.0.0.1:8080.",
        ),
    ] = None,
    health_probe_bind_address: Annotated[
        str | None,
        typer.Option(
            "--health-probe-bind-address",
            metavar="ADDRESS",
            help="Address for /healthz, /readyz; 0: off. Default :8081 in a Pod, else 127.0.0.1:8081.",
        ),
    ] = None,
    leader_elect: Annotated[bool, typer.Option("--leader-elect/--no-leader-elect")] = True,
    lease_name: Annotated[str, typer.Option("--lease-name", metavar="NAME")] = "kubefed-controller-manager",
    workers: Annotated[
        int | None, typer.Option("--workers", metavar="N", help="Reconcile workers per type.")
    ] = None,
    member_qps: Annotated[
        float | None,
        typer.Option(
            "--member-qps",
            metavar="QPS",
            help="Requests/s to each member; 0: no client-side limit. "
            "Default: none while the member does API Priority and Fairness, else 20.",
        ),
    ] = None,
    member_burst: Annotated[int, typer.Option("--member-burst", metavar="N")] = 30,
    host_qps: Annotated[
        float | None,
        typer.Option(
            "--host-qps",
            metavar="QPS",
            help="Requests/s to the host; 0: no client-side limit. "
            "Default: none while the host does API Priority and Fairness, else 100.",
        ),
    ] = None,
    host_burst: Annotated[int, typer.Option("--host-burst", metavar="N")] = 200,
    events: Annotated[
        str,
        typer.Option(
            "--events",
            metavar="all|changes|warnings",
            help="Events written to the host. changes: all but the creations of a new federated "
            "object's first rollout and the deletions of a deleted one's member objects "
            "(its status says those); all: KubeFed's; warnings: Warnings only.",
        ),
    ] = "changes",
    log_level: Annotated[
        str, typer.Option("--log-level", metavar="LEVEL", help="debug, info, warning, error.")
    ] = "info",
    verbosity: Annotated[
        int, typer.Option("-v", "--v", metavar="N", help="Verbosity: 1 and up debug, 4 and up libraries too.")
    ] = 0,
    log_format: Annotated[str, typer.Option("--log-format", metavar="json|text", help="Log lines.")] = "json",
    identity: Annotated[
        str | None, typer.Option("--identity", metavar="ID", help="Leader election identity.")
    ] = None,
) -> None:
    """Run the propagation, status and cluster health controllers against a host cluster."""
    from kubectl_kubefed.cli import controller as verb

    verb.run(
        kubeconfig=kubeconfig,
        context=host_cluster_context,
        namespace=kubefed_namespace,
        bind=metrics_bind_address,
        leader_elect=leader_elect,
        lease_name=lease_name,
        workers=workers,
        member_qps=member_qps,
        member_burst=member_burst,
        host_qps=host_qps,
        host_burst=host_burst,
        events=events,
        log_level=log_level,
        identity=identity,
        probe_bind=health_probe_bind_address,
        log_format=log_format,
        verbosity=verbosity,
    )


@app.command()
def agent(
    cluster_name: Annotated[
        str, typer.Option("--cluster-name", metavar="NAME", help="The member's name on the host.")
    ],
    kubeconfig: Kubeconfig = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context", metavar="CONTEXT", help="The member's context (in a Pod: its ServiceAccount)."
        ),
    ] = None,
    host_kubeconfig: Annotated[
        str | None,
        typer.Option(
            "--host-kubeconfig",
            metavar="FILE",
            help="The agent's host kubeconfig (default: the member's Secret kubefed-agent-host).",
        ),
    ] = None,
    kubefed_namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            metavar="NAMESPACE",
            help=f"The member's KubeFed namespace (its Secret). Default {NS}; in a Pod, the Pod's.",
        ),
    ] = None,
    workers: Annotated[int, typer.Option("--workers", metavar="N", help="Works applied at once.")] = 4,
    qps: Annotated[
        float | None,
        typer.Option(
            "--qps",
            metavar="QPS",
            help="Requests/s to each API server; 0: no client-side limit. "
            "Default: none while it does API Priority and Fairness, else 50.",
        ),
    ] = None,
    burst: Annotated[int, typer.Option("--burst", metavar="N")] = 100,
    log_level: Annotated[
        str, typer.Option("--log-level", metavar="LEVEL", help="debug, info, warning, error.")
    ] = "info",
    verbosity: Annotated[
        int, typer.Option("-v", "--v", metavar="N", help="Verbosity: 1 and up debug, 4 and up libraries too.")
    ] = 0,
    log_format: Annotated[str, typer.Option("--log-format", metavar="json|text", help="Log lines.")] = "json",
) -> None:
    """Run the pull agent of one member: apply its Works from the host, report back."""
    from kubectl_kubefed.cli import agent as verb

    verb.run(
        cluster=cluster_name,
        kubeconfig=kubeconfig,
        context=context,
        host_kubeconfig=host_kubeconfig,
        namespace=kubefed_namespace,
        workers=workers,
        qps=qps,
        burst=burst,
        log_level=log_level,
        log_format=log_format,
        verbosity=verbosity,
    )


@app.command()
def version() -> None:
    """Print the version."""
    print(f"kubectl-kubefed {__version__}")


SHELLS = ("bash", "zsh", "fish", "powershell")


@app.command()
def completion(
    shell: Annotated[str, typer.Argument(metavar="bash|zsh|fish|powershell", help="The shell.")],
) -> None:
    """Print a completion script for kubectl-kubefed: source <(kubectl-kubefed completion bash)."""
    from typer._completion_shared import get_completion_script

    if shell not in SHELLS:
        raise InputError(f"shell must be bash, zsh, fish or powershell, not {printable(shell)}")
    sys.stdout.write(get_completion_script(prog_name=EXECUTABLE, complete_var=COMPLETE_VAR, shell=shell))


# The commands that talk to clusters, and `plan`, register themselves on ``app``.
from kubectl_kubefed.cli import application as _application  # noqa: E402, F401
from kubectl_kubefed.cli import online as _online  # noqa: E402, F401
from kubectl_kubefed.cli import plan as _plan  # noqa: E402, F401


def command() -> Command:
    """The click command behind ``app``, with help that shows no Python types: an argument
    is ``TYPE  help``, not ``TYPE <str>  help`` (options name their values by metavar)."""
    from typer.core import TyperArgument

    class Argument(TyperArgument):
        def display_type_rich(self, ctx: Context) -> str | None:
            return None

        def _usage_display_name(self) -> str:  # NAME or [NAME], not {NAME}
            return self.display_name_raw if self.required else f"[{self.display_name_raw}]"

    cmd = typer.main.get_command(app)
    subs = list(getattr(cmd, "commands", {}).values())
    while subs:
        sub = subs.pop()
        subs.extend(getattr(sub, "commands", {}).values())  # a group's commands (`app ...`)
        for param in sub.params:
            if type(param) is TyperArgument:
                param.__class__ = Argument
    return cmd


def _parse_error(err: typer.TyperException, args: list[str]) -> str:
    """A parsing mistake (unknown option, missing value, bad value) as one line."""
    message = printable(" ".join(err.format_message().split()))
    if err.exit_code != 2:
        return f"error: {message}"
    ctx: Any = getattr(err, "ctx", None)
    if ctx is not None and ctx.command_path != PROG:
        where = ctx.command_path
    else:  # an option's missing value is found before the command's context exists
        where = PROG + (f" {args[0]}" if args and args[0] in _command_names() else "")
    return f"error: {message} (see '{printable(where)} --help')"


def _command_names() -> set[str]:
    return {c.name or c.callback.__name__.replace("_", "-") for c in app.registered_commands if c.callback}


def bare_dry_run(args: list[str]) -> list[str]:
    """``--dry-run`` without a value means ``--dry-run=client``, as in kubectl."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        following = args[i + 1] if i + 1 < len(args) else None
        out.append("--dry-run=client" if arg == "--dry-run" and following not in DRY_RUN_MODES else arg)
    return out


def main() -> None:
    from kubectl_kubefed.sync.errors import ApiError

    args = bare_dry_run(sys.argv[1:]) or ["--help"]  # as kubectl: no arguments, the help
    try:
        if os.environ.get(COMPLETE_VAR):
            from typer._completion_classes import completion_init

            completion_init()
        code = command().main(args, prog_name=PROG, complete_var=COMPLETE_VAR, standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except typer.TyperException as err:  # click's errors: usage (exit code 2), files
        print(_parse_error(err, args), file=sys.stderr)
        sys.exit(err.exit_code)
    except typer.Abort:
        sys.exit(1)
    except InputError as err:
        print(f"error: {printable(str(err))}", file=sys.stderr)
        sys.exit(2)
    except ClusterError as err:
        print(f"error: {printable(str(err))}", file=sys.stderr)
        sys.exit(1)
    except ApiError as err:
        print(f"error: {printable((str(err).splitlines() or [''])[0])}", file=sys.stderr)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:  # a bug: say so in one line; the traceback only when asked
        if os.environ.get("KUBEFED_DEBUG"):
            raise
        print(
            f"error: internal error ({type(err).__name__}); rerun with KUBEFED_DEBUG=1 for details, "
            "and please report it",
            file=sys.stderr,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
