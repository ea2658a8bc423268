"""``kubectl kubefed plan``: what KubeFed's replica scheduler gives each cluster, offline.

The RSP is read from one file (``-`` for stdin); ``--clusters`` are the available (Ready)
clusters, ``--current`` the replicas they run now, ``--capacity`` their estimated capacity
(KubeFed only knows one for clusters with unschedulable pods). The answer is KubeFed's
planner and merge (``core.replicas``). See docs/scheduling.md.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from kubectl_kubefed import manifests
from kubectl_kubefed.api.errors import InputError
from kubectl_kubefed.api.validation import quote
from kubectl_kubefed.cli.app import app
from kubectl_kubefed.cli.output import Format, choose, emit, output_option
from kubectl_kubefed.cli.status_view import format_table
from kubectl_kubefed.core import replicas as rp
from kubectl_kubefed.core.input_checks import check_cluster_name

PLAN_FORMATS = (Format.table, Format.yaml, Format.json)
_COUNT = re.compile(r"[0-9]+")


def parse_clusters(value: str) -> list[str]:
    """``--clusters a,b,c``: DNS-1123 subdomains, each once, at least one."""
    names = [n.strip() for n in value.split(",")]
    if names == [""]:
        raise InputError("--clusters: give at least one cluster name")
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InputError(f"--clusters {quote(value)}: empty cluster name")
        check_cluster_name(name, "--clusters")
        if name in seen:
            raise InputError(f"--clusters: cluster {quote(name)} given twice")
        seen.add(name)
    return names


def parse_counts(flag: str, value: str | None, clusters: Sequence[str]) -> dict[str, int]:
    """``--current a=2,b=0`` / ``--capacity a=1``: whole numbers >= 0 for clusters of --clusters."""
    if value is None or not value.strip():
        return {}
    counts: dict[str, int] = {}
    for item in value.split(","):
        name, eq, number = (part.strip() for part in item.partition("="))
        if not eq or not name:
            raise InputError(f"{flag}: expected CLUSTER=N, not {quote(item.strip())}")
        if not _COUNT.fullmatch(number):
            raise InputError(f"{flag}: {quote(name)} must be a whole number >= 0, not {quote(number)}")
        if name not in clusters:
            raise InputError(
                f"{flag}: cluster {quote(name)} is not in --clusters (KubeFed only counts available clusters)"
            )
        if name in counts:
            raise InputError(f"{flag}: cluster {quote(name)} given twice")
        if len(number) > 19 or int(number) > rp.INT64_MAX:
            raise InputError(f"{flag}: {quote(name)} must be at most {rp.INT64_MAX}")
        counts[name] = int(number)
    return counts


def read_preference(filename: str) -> rp.Preference:
    """The one ReplicaSchedulingPreference in FILE (``-``: stdin)."""
    docs = manifests.load_files([filename], sys.stdin)
    if len(docs) != 1:
        source = "<stdin>" if filename == "-" else filename
        raise InputError(f"{source}: expected one ReplicaSchedulingPreference, found {len(docs)} documents")
    doc = docs[0]
    try:
        return rp.parse_preference(doc.obj)
    except rp.PreferenceError as err:
        raise InputError(f"{doc.where()}: {err}") from None


def as_dict(result: rp.Schedule) -> dict[str, dict[str, int]]:
    """The ``-o json|yaml`` form: plan and overflow as KubeFed's planner returns them, the
    schedule after its merge; clusters in name order, as Go writes a map."""
    return {
        "plan": dict(sorted(result.plan.items())),
        "overflow": dict(sorted(result.overflow.items())),
        "schedule": dict(sorted(result.replicas.items())),
    }


def format_plan(
    result: rp.Schedule,
    clusters: Sequence[str],
    current: dict[str, int],
    capacity: dict[str, int],
    total: int,
) -> str:
    """One row per cluster, in --clusters order; a last line when replicas found no place."""
    rows = [
        [
            c,
            str(current.get(c, "-")),
            str(capacity.get(c, "-")),
            str(result.plan.get(c, 0)),
            str(result.overflow.get(c, 0)),
            str(result.replicas.get(c, 0)),
        ]
        for c in clusters
    ]
    text = format_table(["CLUSTER", "CURRENT", "CAPACITY", "PLANNED", "OVERFLOW", "REPLICAS"], rows)
    unplaced = total - sum(result.plan.values())
    if unplaced > 0:
        text += f"{unplaced} of {total} replicas planned on no cluster (weights, maxReplicas, capacity)\n"
    return text  # cluster names are DNS-1123 subdomains: nothing to escape


def run(
    filename: str,
    clusters_flag: str,
    current_flag: str | None,
    capacity_flag: str | None,
    output: Format,
) -> None:
    clusters = parse_clusters(clusters_flag)
    current = parse_counts("--current", current_flag, clusters)
    capacity = parse_counts("--capacity", capacity_flag, clusters)
    pref = read_preference(filename)
    try:
        result = rp.schedule(pref, clusters, current, capacity)
    except rp.PreferenceError as err:
        raise InputError(str(err)) from None
    value: Any = as_dict(result)
    emit(
        value,
        output,
        human=lambda _: format_plan(result, clusters, current, capacity, pref.total_replicas),
    )


@app.command()
def plan(
    filename: Annotated[
        str,
        typer.Option("-f", "--filename", metavar="FILE", help="RSP file, '-' for stdin."),
    ],
    clusters: Annotated[
        str, typer.Option("--clusters", metavar="a,b", help="The available (Ready) clusters.")
    ],
    current: Annotated[
        str | None,
        typer.Option("--current", metavar="a=N,b=N", help="Replicas each cluster runs now (default none)."),
    ] = None,
    capacity: Annotated[
        str | None,
        typer.Option("--capacity", metavar="a=N", help="Estimated capacity of clusters (default unbounded)."),
    ] = None,
    output: Annotated[
        str | None, output_option(PLAN_FORMATS, "A table (default), or plan/overflow/schedule.")
    ] = None,
) -> None:
    """Show the replicas KubeFed's scheduler gives each cluster for a ReplicaSchedulingPreference."""
    fmt = choose(output, PLAN_FORMATS, Format.table)
    assert fmt is not None
    run(filename, clusters, current, capacity, fmt)
