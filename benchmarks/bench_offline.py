"""Offline throughput: federate and render on a generated stream, and fresh-process start-up.

Prints one JSON object. Figures are for comparing runs on one machine, never assertions.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kubectl_kubefed import manifests
from kubectl_kubefed.core import render as rd
from kubectl_kubefed.core.clusters import Cluster
from kubectl_kubefed.core.convert import federate_documents

BIN = Path(sys.executable).parent


def generate(n: int) -> str:
    objs: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}]
    for i in range(n - 1):
        if i % 2:
            objs.append(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": f"cm-{i}", "namespace": "bench", "labels": {"app": "b"}},
                    "data": {f"k{j}": "v" * 20 for j in range(5)},
                }
            )
        else:
            objs.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": f"d-{i}", "namespace": "bench", "labels": {"app": "b"}},
                    "spec": {
                        "replicas": 2,
                        "selector": {"matchLabels": {"app": "b"}},
                        "template": {
                            "metadata": {"labels": {"app": "b"}},
                            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
                        },
                    },
                }
            )
    return manifests.dump_yaml(objs)


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def fresh_process(args: list[str], stdin: str = "") -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(args, input=stdin, capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    n = int(os.environ.get("BENCH_OBJECTS", "5000"))
    text = generate(n)
    mb = len(text.encode()) / 1e6
    docs, parse_s = timed(lambda: manifests.parse_documents(text, "bench"))
    feds, fed_s = timed(
        lambda: federate_documents(
            docs,
            placement=None,
            rules=[],
            federated_group="types.kubefed.io",
            federated_version="v1beta1",
            on_warning=lambda _m: None,
        )
    )
    _, dump_s = timed(lambda: manifests.dump_yaml(feds))
    clusters = [Cluster(f"c{i}", {"region": str(i % 3)}) for i in range(3)]
    rendering, render_s = timed(lambda: rd.render(feds, clusters))
    one = manifests.dump_yaml([docs[1].obj])
    figures = {
        "objects": n,
        "input_mb": round(mb, 2),
        "c_yaml": manifests.C_YAML,
        "federate_objects_per_s": round(n / (parse_s + fed_s + dump_s)),
        "federate_mb_per_s": round(mb / (parse_s + fed_s + dump_s), 2),
        "federate_parse_s": round(parse_s, 3),
        "federate_convert_s": round(fed_s, 3),
        "federate_dump_s": round(dump_s, 3),
        "render_member_objects": sum(len(v) for v in rendering.clusters.values()),
        "render_objects_per_s": round(n / render_s),
        "help_fresh_process_s": round(fresh_process([str(BIN / "kubectl-kubefed"), "--help"]), 3),
        "federate_one_fresh_process_s": round(
            fresh_process([str(BIN / "kubectl-kubefed"), "federate", "-f", "-"], one), 3
        ),
        "kubernetes_imported": "kubernetes" in sys.modules,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
