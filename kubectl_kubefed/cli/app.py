"""The typer application and the options its commands share: ``main`` defines the
offline commands on it, ``online`` the ones that talk to clusters (each imports this,
neither imports the other's module)."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.validation import printable
from kubectl_kubefed.cli.output import Format

app = typer.Typer(
    name="kubectl kubefed",
    help="Federate Kubernetes resources across clusters, on KubeFed's API.",
    no_args_is_help=True,
    add_completion=False,  # `kubectl kubefed completion SHELL` instead: one name for the executable
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
PROG = "kubectl kubefed"
EXECUTABLE = "kubectl-kubefed"
COMPLETE_VAR = "_KUBECTL_KUBEFED_COMPLETE"

Files = Annotated[
    list[str],
    typer.Option("-f", "--filename", metavar="FILE", help="YAML/JSON file, '-' for stdin; repeatable."),
]
FederatedGroup = Annotated[
    str, typer.Option("--federated-group", metavar="GROUP", help="API group of federated types.")
]
Kubeconfig = Annotated[
    str | None,
    typer.Option(
        "--kubeconfig", metavar="FILE", help="Kubeconfig file (else $KUBECONFIG, else ~/.kube/config)."
    ),
]
HostContext = Annotated[
    str | None,
    typer.Option(
        "--context",
        "--host-cluster-context",
        metavar="CONTEXT",
        help="Kubeconfig context of the host cluster (else the current one).",
    ),
]
Namespace = Annotated[
    str, typer.Option("--kubefed-namespace", metavar="NAMESPACE", help="KubeFed system namespace.")
]
DryRun = Annotated[
    str,
    typer.Option(
        "--dry-run",
        metavar="none|client|server",
        help="client: print what would be written, write nothing; server: send the writes with the "
        "API server's dry run (checked by it, never stored); none: write. --dry-run alone: client.",
    ),
]
NS = names.DEFAULT_KUBEFED_NAMESPACE
FederatedVersion = Annotated[
    str, typer.Option("--federated-version", metavar="VERSION", help="API version of federated types.")
]
ClusterNamespace = Annotated[
    str | None, typer.Option("-n", "--namespace", metavar="NAMESPACE", help="Namespace of the object.")
]
DRY_RUN_MODES = ("none", "client", "server")
RENDER_FORMATS = (Format.text, Format.yaml, Format.json)
SIMULATE_FORMATS = (Format.table, Format.yaml, Format.json)


def dry_run_mode(value: str) -> str:
    """``--dry-run``'s value, checked: none, client or server."""
    if value not in DRY_RUN_MODES:
        raise InputError(f"--dry-run must be none, client or server, not {printable(value)}")
    return value
