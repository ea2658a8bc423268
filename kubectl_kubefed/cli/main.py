"""The typer application behind ``kubectl kubefed``.

Verb modules are imported inside each command so that ``--help`` and offline commands
start fast and never load a Kubernetes client.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from kubectl_kubefed import __version__
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.validation import printable
from kubectl_kubefed.cli.output import Format

app = typer.Typer(
    name="kubectl kubefed",
    help="Federate Kubernetes resources across clusters, on KubeFed's API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

Files = Annotated[
    list[str], typer.Option("-f", "--filename", help="YAML/JSON file, '-' for stdin; repeatable.")
]
Output = Annotated[Format, typer.Option("-o", "--output", help="yaml or json.")]
FederatedGroup = Annotated[str, typer.Option("--federated-group", help="API group of federated types.")]
Kubeconfig = Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file (else $KUBECONFIG).")]
HostContext = Annotated[
    str | None, typer.Option("--host-cluster-context", help="Context of the host cluster (else current).")
]
Namespace = Annotated[str, typer.Option("--kubefed-namespace", help="KubeFed system namespace.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Change nothing; say what would be done.")]
NS = names.DEFAULT_KUBEFED_NAMESPACE
FederatedVersion = Annotated[str, typer.Option("--federated-version", help="API version of federated types.")]


@app.command()
def federate(
    type_name: Annotated[str | None, typer.Argument(metavar="[TYPE]", help="Type of a host object.")] = None,
    name: Annotated[str | None, typer.Argument(metavar="[NAME]", help="Name of the host object.")] = None,
    filename: Annotated[
        list[str] | None, typer.Option("-f", "--filename", help="Convert files offline ('-' for stdin).")
    ] = None,
    output: Annotated[
        Format | None, typer.Option("-o", "--output", help="yaml or json (print only).")
    ] = None,
    namespace: Annotated[str | None, typer.Option("-n", "--namespace")] = None,
    clusters: Annotated[str | None, typer.Option("--clusters", help="Place on these clusters: a,b.")] = None,
    cluster_selector: Annotated[
        str | None, typer.Option("--cluster-selector", help="Place by cluster labels: 'k=v,k2 in (x,y)'.")
    ] = None,
    overrides: Annotated[str | None, typer.Option("--overrides", help="Per-cluster overrides file.")] = None,
    contents: Annotated[
        bool, typer.Option("-c", "--contents", help="A namespace and what it holds.")
    ] = False,
    enable_type: Annotated[bool, typer.Option("-t", "--enable-type", help="Enable the type first.")] = False,
    skip_api_resources: Annotated[
        list[str] | None, typer.Option("-s", "--skip-api-resources", help="Skip these types (--contents).")
    ] = None,
    federated_group: FederatedGroup = names.TYPES_GROUP,
    federated_version: FederatedVersion = names.TYPES_VERSION,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
) -> None:
    """Convert objects to their federated form: files offline (-f), or TYPE NAME on the host."""
    from kubectl_kubefed.cli import federate as verb

    if filename:
        if type_name or name:
            raise InputError("give either -f FILE or TYPE NAME, not both")
        verb.run(
            filename,
            output or Format.yaml,
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
        output,
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
    )


@app.command()
def render(
    filename: Files,
    scope: Annotated[str | None, typer.Option("--scope", help="Cluster or Namespaced control plane.")] = None,
    output: Annotated[str, typer.Option("-o", "--output", help="text, yaml or json.")] = "text",
    output_dir: Annotated[
        str | None, typer.Option("--output-dir", help="Write DIR/<cluster>.yaml per cluster.")
    ] = None,
) -> None:
    """Show exactly what each member cluster would get, without touching a cluster."""
    from kubectl_kubefed.cli import render as verb

    try:
        fmt = verb.RenderFormat(output)
    except ValueError:
        raise InputError(f"-o must be text, yaml or json, not {output}") from None
    verb.run(filename, scope, fmt, output_dir)


@app.command()
def enable(
    type_name: Annotated[
        str | None, typer.Argument(metavar="TYPE", help="plural, kind, short name or plural.group")
    ] = None,
    filename: Annotated[
        str | None, typer.Option("-f", "--filename", help="CRD or EnableTypeDirective file.")
    ] = None,
    output: Annotated[
        Format | None, typer.Option("-o", "--output", help="Print instead of applying.")
    ] = None,
    version: Annotated[str | None, typer.Option("--version", help="Target API version.")] = None,
    federated_group: FederatedGroup = names.TYPES_GROUP,
    federated_version: FederatedVersion = names.TYPES_VERSION,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
    kubefed_namespace: Namespace = NS,
    dry_run: DryRun = False,
) -> None:
    """Enable federation of a type: its FederatedTypeConfig and federated CRD."""
    from kubectl_kubefed.cli import enable as verb

    if output is not None:
        verb.run(type_name, filename, output, version, federated_group, federated_version, kubefed_namespace)
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
        dry_run,
    )


@app.command()
def simulate(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help="Scenario file (docs/simulate.md).")],
    output: Annotated[str, typer.Option("-o", "--output", help="table, yaml or json.")] = "table",
    every_step: Annotated[bool, typer.Option("--every-step", help="yaml/json: one state per step.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed for injected faults and uids.")] = 0,
) -> None:
    """Run a scenario on an in-memory fleet: what each cluster gets, and what failures do."""
    from kubectl_kubefed.cli import simulate as verb

    if not verb.run(scenario, output, every_step, seed):
        print("warning: some step did not settle within the bound", file=sys.stderr)


@app.command()
def controller(
    kubeconfig: Annotated[str | None, typer.Option("--kubeconfig", help="Kubeconfig file.")] = None,
    host_cluster_context: Annotated[
        str | None, typer.Option("--host-cluster-context", "--context", help="Context of the host cluster.")
    ] = None,
    kubefed_namespace: Annotated[str, typer.Option("--kubefed-namespace")] = names.DEFAULT_KUBEFED_NAMESPACE,
    metrics_bind_address: Annotated[
        str, typer.Option("--metrics-bind-address", help="Loopback address for /healthz, /readyz, /metrics.")
    ] = "127.0.0.1:8080",
    leader_elect: Annotated[bool, typer.Option("--leader-elect/--no-leader-elect")] = True,
    lease_name: Annotated[str, typer.Option("--lease-name")] = "kubefed-controller-manager",
    workers: Annotated[int | None, typer.Option("--workers", help="Reconcile workers per type.")] = None,
    member_qps: Annotated[float, typer.Option("--member-qps")] = 20.0,
    member_burst: Annotated[int, typer.Option("--member-burst")] = 30,
    host_qps: Annotated[float, typer.Option("--host-qps", help="0: no client-side limit.")] = 100.0,
    host_burst: Annotated[int, typer.Option("--host-burst")] = 200,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning, error.")] = "info",
    identity: Annotated[str | None, typer.Option("--identity", help="Leader election identity.")] = None,
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
        log_level=log_level,
        identity=identity,
    )


@app.command()
def version() -> None:
    """Print the version."""
    print(f"kubectl-kubefed {__version__}")


# The commands that talk to clusters register themselves on ``app``.
from kubectl_kubefed.cli import online as _online  # noqa: E402, F401


def main() -> None:
    from kubectl_kubefed.sync.errors import ApiError

    try:
        app(prog_name="kubectl kubefed")
    except InputError as err:
        print(f"error: {printable(str(err))}", file=sys.stderr)
        sys.exit(2)
    except ApiError as err:
        print(f"error: {printable((str(err).splitlines() or [''])[0])}", file=sys.stderr)
        sys.exit(2)
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
