"""``kubectl kubefed simulate SCENARIO``: run a scenario on the in-memory fleet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubectl_kubefed.api.validation import printable
from kubectl_kubefed.cli.application import status_table
from kubectl_kubefed.cli.output import Format, emit
from simulator import scenario as sc


def _condition(fed: Mapping[str, Any]) -> str:
    status = fed.get("status") or {}
    cond = next((c for c in status.get("conditions") or [] if c.get("type") == "Propagation"), None)
    if cond is None:
        return "Propagation=Unknown"
    text = f"Propagation={cond.get('status')}"
    if cond.get("reason"):
        text += f" ({cond['reason']})"
    problems = [f"{c['name']}: {c['status']}" for c in status.get("clusters") or [] if c.get("status")]
    if problems:
        text += "  " + ", ".join(problems)
    return text


def _fold_pods(labels: list[str]) -> list[str]:
    """Pods by count (``3 Pods``) after the other objects: a workload's Pods come and go by
    the dozen, their names say little (they are in ``-o json``)."""
    pods = [label for label in labels if label.startswith("Pod ")]
    if len(pods) < 2:
        return labels
    return [label for label in labels if not label.startswith("Pod ")] + [f"{len(pods)} Pods"]


def _application(app: Mapping[str, Any]) -> list[str]:
    """A FederatedApplication as ``kubectl kubefed app status`` shows it, indented."""
    obj = {"metadata": {"namespace": app["namespace"], "name": app["name"]}, "status": app["status"]}
    heading, *rest = status_table(obj).splitlines()
    return ["  " + heading, *("    " + line for line in rest)]


def format_table(results: list[sc.StepResult]) -> str:
    lines: list[str] = []
    previous: dict[str, Any] | None = None
    for index, result in enumerate(results):
        snap = result.snapshot
        title = "initial state" if result.step is None else result.step.describe()
        state = (
            "settled"
            if snap["settled"]
            else (
                "not settled" if result.step is None or result.step.settle else "not settled (settle: false)"
            )
        )
        lines.append(f"step {index}: {title}  [t={snap['virtualSeconds']:g}s, {state}]")
        if result.error:
            lines.append(f"  ! {result.error}")
        for cluster, info in snap["clusters"].items():
            was_ready = previous["clusters"][cluster]["ready"] if previous else True
            if info["ready"] != was_ready:
                lines.append(f"  {cluster}: {'ready again' if info['ready'] else 'NOT READY'}")
        if previous is not None:
            for cluster, changes in sc.member_changes(previous, snap).items():
                for verb in ("created", "updated", "deleted"):
                    if changes[verb]:
                        lines.append(f"  {cluster}: {verb} {', '.join(_fold_pods(changes[verb]))}")
        for fed in snap["federated"]:
            ref = f"{fed['namespace']}/{fed['name']}" if fed["namespace"] else fed["name"]
            lines.append(f"  {fed['kind']} {ref}: {_condition(fed)}")
        for app in snap.get("applications") or []:
            lines.extend(_application(app))
        previous = snap
    final = results[-1].snapshot["requests"]
    lines.append(
        "requests served by members: "
        + "; ".join(
            f"{c} " + " ".join(f"{v}={n}" for v, n in counts.items() if n) for c, counts in final.items()
        )
    )
    return "\n".join(printable(line) for line in lines) + "\n"  # step names are user text


def run(path: str, output: Format, every_step: bool, seed: int) -> bool:
    scenario = sc.load(path)
    results = sc.run(scenario, seed=seed)
    value: Any = [r.snapshot for r in results[1:]] if every_step else results[-1].snapshot
    emit(results if output is Format.table else value, output, human=format_table)
    return all(r.snapshot["settled"] or (r.step is not None and not r.step.settle) for r in results)
