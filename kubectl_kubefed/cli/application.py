"""``kubectl kubefed app ...``: FederatedApplications (docs/application.md).

``app render`` shows offline what each cluster gets from an application (its expansion,
replicas planned as the scheduler would with every selected cluster Ready, then the
``render`` machinery); ``app federate`` wraps plain manifests into one application;
``app status`` prints an application's rolled-up status from the host.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

from kubectl_kubefed import manifests
from kubectl_kubefed.api import names
from kubectl_kubefed.api.errors import ClusterError, InputError
from kubectl_kubefed.api.objects import Obj, group_of, kind_of, name_of, namespace_of
from kubectl_kubefed.api.validation import dns1123_label, printable, quote
from kubectl_kubefed.cli.app import (
    RENDER_FORMATS,
    ClusterNamespace,
    Files,
    HostContext,
    Kubeconfig,
    app,
)
from kubectl_kubefed.cli.output import OBJECTS, Format, choose, emit, output_option, print_objects, warn
from kubectl_kubefed.core import application as ap
from kubectl_kubefed.core import placement as pl
from kubectl_kubefed.core import replicas as rs
from kubectl_kubefed.core import typeconfig as tc
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.convert import placement_from_flags

group = typer.Typer(
    name="app",
    help="FederatedApplications: one object for a whole multi-cluster app.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(group, name="app")
STATUS_FORMATS = (Format.table, Format.yaml, Format.json)


# -- render -------------------------------------------------------------------------------


def _scheduled(fed: Obj, rsp: Obj, clusters: Sequence[Cluster]) -> Obj:
    """``fed`` with the replicas its RSP gives the Ready clusters (none running yet)."""
    from kubectl_kubefed.sync.scheduling import apply_schedule

    pref = rs.parse_preference(rsp)
    ready = [c for c in clusters if c.ready]
    candidates = sorted(c.name for c in ready)
    if pref.intersect_with_cluster_selector:
        placement = (fed.get("spec") or {}).get("placement")
        candidates = sorted(pl.selected_names(placement, ready, selector_only=True))
    if not candidates:
        return fed
    result = rs.schedule(pref, candidates, {}, {})
    return apply_schedule(fed, result.replicas) or fed


def expand_documents(
    docs: Sequence[manifests.Document], clusters: Sequence[Cluster], types: Sequence[tc.TypeConfig]
) -> tuple[list[Obj], list[str]]:
    """Each application's federated objects (replicas planned), and the other documents'
    objects unchanged; plus warnings (override conflicts, an unfederated namespace)."""
    out: list[Obj] = []
    warnings: list[str] = []
    fed_namespaces = {name_of(d.obj) for d in docs if kind_of(d.obj) == names.KIND_FEDERATED_NAMESPACE}
    for doc in docs:
        if not (group_of(doc.obj) == ap.GROUP and kind_of(doc.obj) == ap.KIND):
            out.append(doc.obj)
            continue
        try:
            application = ap.parse(doc.obj, [*types, *tc.BUILTIN_TYPES])
            expansion = ap.expand(application, clusters)
            prefs = {name_of(p): p for p in expansion.preferences()}
            for fed in expansion.federated():
                rsp = prefs.get(name_of(fed))
                out.append(_scheduled(fed, rsp, clusters) if rsp is not None else fed)
        except (ap.ApplicationError, rs.PreferenceError, pl.PlacementError) as err:
            raise InputError(f"{doc.where()}: {err}") from None
        where = f"{ap.KIND} {application.namespace}/{application.name}"
        warnings.extend(f"{where}: {c}" for c in expansion.conflicts)
        if application.namespace not in fed_namespaces:
            fed_namespaces.add(application.namespace)
            warnings.append(
                f"{where}: no FederatedNamespace {application.namespace} given; rendered as if one "
                "placed it like the application"
            )
            out.append(
                {
                    "apiVersion": f"{names.TYPES_GROUP}/{names.TYPES_VERSION}",
                    "kind": names.KIND_FEDERATED_NAMESPACE,
                    "metadata": {"name": application.namespace, "namespace": application.namespace},
                    "spec": {"placement": dict(application.placement)},
                }
            )
    return out, warnings


def render_run(
    filenames: list[str], clusters_files: list[str], output: Format, output_dir: str | None
) -> None:
    from kubectl_kubefed.cli import render as rv

    docs = manifests.load_files(filenames, sys.stdin)
    cluster_docs = manifests.load_files(clusters_files, sys.stdin)
    for doc in cluster_docs:
        if (group_of(doc.obj), kind_of(doc.obj)) != (names.CORE_GROUP, names.KIND_KUBEFED_CLUSTER):
            raise InputError(
                f"{doc.where()}: --clusters-file holds KubeFedClusters only, not {kind_of(doc.obj)}"
            )
    others = [d for d in docs if not (group_of(d.obj) == ap.GROUP and kind_of(d.obj) == ap.KIND)]
    if len(others) == len(docs):
        raise InputError(f"no {ap.KIND} in {', '.join(filenames)}")
    _, clusters, types, scope = rv.classify([*others, *cluster_docs])
    if not clusters:
        raise InputError("--clusters-file: no KubeFedCluster (the clusters to render for)")
    objs, warnings = expand_documents(docs, clusters, types)
    expanded = [
        manifests.Document(obj, "<expanded>", i + 1)
        for i, obj in enumerate(objs)
        if (group_of(obj), kind_of(obj)) != (names.CORE_GROUP, names.KIND_KUBEFED_CLUSTER)
    ]
    rendering = rv.render_documents([*expanded, *cluster_docs], scope)
    for line in warnings:
        warn(line)
    if output_dir is not None:
        for path in rv.write_output_dir(rendering, output_dir):
            count = len(rendering.clusters[path.stem])
            print(f"wrote {path} ({count} object{'s' if count != 1 else ''})")
        return
    if output is Format.text:
        sys.stdout.write(rv.format_text(rendering))
    else:
        emit(rendering.as_dict(), output)


@group.command("render")
def render(
    filename: Files,
    clusters_file: Annotated[
        list[str],
        typer.Option("--clusters-file", metavar="FILE", help="KubeFedClusters to render for; repeatable."),
    ],
    output: Annotated[str | None, output_option(RENDER_FORMATS, "A summary (default), or the data.")] = None,
    output_dir: Annotated[
        str | None, typer.Option("--output-dir", metavar="DIR", help="Write DIR/<cluster>.yaml per cluster.")
    ] = None,
) -> None:
    """Show offline what each cluster gets from FederatedApplications."""
    fmt = choose(output, RENDER_FORMATS, Format.text)
    assert fmt is not None
    render_run(filename, clusters_file, fmt, output_dir)


# -- federate -----------------------------------------------------------------------------


def federate_run(
    filenames: list[str],
    name: str,
    namespace: str | None,
    placement: Mapping[str, Any] | None,
    output: Format,
) -> None:
    if (problem := dns1123_label(name)) is not None:
        raise InputError(f"--name {quote(name)} {problem}")
    docs = manifests.load_files(filenames, sys.stdin)
    objs: list[Obj] = []
    for doc in docs:
        manifests.require_kind(doc)
        if kind_of(doc.obj) == "Namespace" and group_of(doc.obj) == "":
            continue  # the application's namespace is not one of its components
        objs.append(doc.obj)
    if not objs:
        raise InputError(f"no objects in {', '.join(filenames)}")
    found = sorted({namespace_of(o) for o in objs if namespace_of(o)})
    if namespace is None:
        if len(found) > 1:
            raise InputError(f"objects in namespaces {', '.join(found)}: give -n NAMESPACE")
        namespace = found[0] if found else "default"
    try:
        wrapped = ap.wrap(objs, name, namespace, placement)
    except ap.ApplicationError as err:
        where = err.args[0]
        raise InputError(f"{', '.join(filenames)}: {where}") from None
    print_objects([wrapped], output)


@group.command("federate")
def federate(
    filename: Files,
    name: Annotated[str, typer.Option("--name", metavar="NAME", help="The application's name.")],
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
    output: Annotated[str | None, output_option(OBJECTS, "yaml (default) or json.")] = None,
) -> None:
    """Wrap plain manifests into one FederatedApplication, offline."""
    fmt = choose(output, OBJECTS, Format.yaml)
    assert fmt is not None
    federate_run(filename, name, namespace, placement_from_flags(clusters, cluster_selector), fmt)


# -- status -------------------------------------------------------------------------------


def _condition(status: Mapping[str, Any], kind: str) -> str:
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == kind:
            return str(cond.get("status") or "Unknown")
    return "Unknown"


def status_table(obj: Mapping[str, Any]) -> str:
    """A heading line (conditions, summary), then one row per cluster as ``kubectl get``."""
    from kubectl_kubefed.cli.status_view import format_table

    status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
    assert isinstance(status, Mapping)
    conds = " ".join(
        f"{c}={_condition(status, c)}" for c in (ap.COND_READY, ap.COND_PROGRESSING, ap.COND_DEGRADED)
    )
    lines = [
        f"{ap.KIND} {namespace_of(obj)}/{name_of(obj)}: {conds}; {status.get('summary') or 'no status yet'}"
    ]
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("message"):
            lines.append(f"  {cond.get('type')}: {cond['message']}")
    for conflict in status.get("conflicts") or []:
        lines.append(f"  conflict: {conflict}")
    body = [
        [
            str(r.get("name")),
            "True" if r.get("ready") else "False",
            f"{r.get('componentsApplied', 0)}/{r.get('components', 0)}",
            f"{r.get('readyReplicas', 0)}/{r.get('desiredReplicas', 0)}",
            ", ".join(r.get("problems") or []) or "-",
        ]
        for r in status.get("clusters") or []
        if isinstance(r, Mapping)
    ]
    text = "\n".join(printable(line) for line in lines) + "\n"
    if body:
        text += format_table(["CLUSTER", "READY", "COMPONENTS", "REPLICAS", "PROBLEMS"], body)
    return text


def status_run(host: Any, name: str, namespace: str, output: Format) -> None:
    from kubectl_kubefed.sync.errors import NotFound

    try:
        obj = host.get(ap.API_VERSION, ap.KIND, namespace, name)
    except NotFound:
        raise ClusterError(f"{ap.KIND} {namespace}/{name} not found") from None
    record = {"namespace": namespace_of(obj), "name": name_of(obj), "status": obj.get("status") or {}}
    emit(record, output, human=lambda _: status_table(obj))


@group.command("status")
def status(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The application.")],
    namespace: ClusterNamespace = None,
    output: Annotated[str | None, output_option(STATUS_FORMATS, "A table (default), or the status.")] = None,
    kubeconfig: Kubeconfig = None,
    host_cluster_context: HostContext = None,
) -> None:
    """An application's rolled-up status: conditions, and per cluster what it holds."""
    from kubectl_kubefed.cli.online import host_client

    fmt = choose(output, STATUS_FORMATS, Format.table)
    assert fmt is not None
    if (problem := dns1123_label(name)) is not None:
        raise InputError(f"NAME {quote(name)} {problem}")
    host, _ = host_client(kubeconfig, host_cluster_context)
    status_run(host, name, namespace or "default", fmt)
