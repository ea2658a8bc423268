"""The Helm post-renderer's cost: issue 16, goal 5, over the real charts and a synthetic one.

Prints one JSON object. CPU seconds (user + sys of the process tree, median of ``--runs``)
rather than wall time: the machine is shared, and CPU is what a user's CI pays.

``charts`` (the public charts of tests/e2e/test_real_charts.py, with its values; fetched
with ``hack/testbin.sh charts``), per chart and as medians:

* ``post_renderer_over_floor``: ``kubefed-post-renderer`` on the chart's ``helm template``
  stream (Helm 3's) against its floor, a fresh Python process that reads the same stream
  with the same kubectl-semantics YAML reader (``manifests.stream_documents``) and writes
  each document back with the same writer (``benchmarks/postrender_floor.py``). For both
  output formats (``yaml``: Helm 3's default, ``json``: Helm 4's). Target: 1.3.
* ``helm3_with_post_renderer_over_template``: ``helm3 template --post-renderer
  kubefed-post-renderer`` against ``helm3 template`` (target: 1.5).
* Helm 4 re-parses and re-serializes every stream itself, so it is reported apart:
  ``helm4_with_post_renderer_over_cat`` (our plugin against a plugin that runs ``cat``),
  and ``helm4_cat_over_template`` (what any post-renderer costs under Helm 4).

``synthetic`` (``--synthetic N``): the former figure, a chart of N ConfigMaps and
Deployments, the post-renderer's added share of ``helm template``'s wall time.

Python runs from bytecode (written on a first run into the work directory), as a
pip-installed copy does, even where PYTHONDONTWRITEBYTECODE is set. Needs .testbin/bin/helm
and helm3, and the charts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HELM = {4: ROOT / ".testbin/bin/helm", 3: ROOT / ".testbin/bin/helm3"}
BIN = Path(sys.executable).parent
RENDERER = str(BIN / "kubefed-post-renderer")
FLOOR = [sys.executable, str(ROOT / "benchmarks/postrender_floor.py")]
CLUSTERS = "--post-renderer-args=--clusters=member1,member2"
RELEASE, NAMESPACE = "rel", "charts"
# Helm 4 runs its plugins with HELM_PLUGIN_NAME set, so the post-renderer writes JSON there.


def make_chart(directory: Path, objects: int) -> Path:
    chart = directory / "big"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: big\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(f"count: {objects // 2}\n")
    (chart / "templates/objects.yaml").write_text("""{{- range $i := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
  labels: {app: big, index: "{{ $i }}"}
data:
  key: value-{{ $i }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{{ $i }}
  labels: {app: big}
spec:
  replicas: 2
  selector: {matchLabels: {app: web-{{ $i }}}}
  template:
    metadata: {labels: {app: web-{{ $i }}}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
{{- end }}
""")
    return chart


def make_cat_plugin(directory: Path) -> Path:
    """A Helm 4 postrenderer/v1 plugin that passes the stream through unchanged."""
    plugin = directory / "catpr"
    plugin.mkdir(parents=True)
    (plugin / "plugin.yaml").write_text(
        "apiVersion: v1\ntype: postrenderer/v1\nname: catpr\nversion: 0.1.0\nruntime: subprocess\n"
        "runtimeConfig:\n  platformCommand:\n    - command: cat\n"
    )
    return plugin


def best_of(args: list[str], env: dict[str, str], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def cpu_median(args: list[str], env: dict[str, str], runs: int, stdin: bytes | None = None) -> float:
    """Median CPU seconds (user + sys, children included) of ``runs`` runs of ``args``."""
    samples = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(args, env=env, check=True, capture_output=True, input=stdin)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        samples.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(samples)


def helm_env(work: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HELM_DATA_HOME": str(work / "data"),
        "HELM_CONFIG_HOME": str(work / "config"),
        "HELM_CACHE_HOME": str(work / "cache"),
        # As installed by pip: Python modules run from their bytecode (a first run writes it).
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
    }
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for plugin in (ROOT, make_cat_plugin(work / "plugins-src")):
        subprocess.run(
            [str(HELM[4]), "plugin", "install", str(plugin)], env=env, check=True, capture_output=True
        )
    return env


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b > 0 else float("nan")


def bench_chart(
    chart: Path, values: list[str], post_args: list[str], env: dict[str, str], runs: int
) -> dict[str, Any]:
    post = [f"--post-renderer-args={a}" for a in post_args]
    cmd = {v: [str(HELM[v]), "template", RELEASE, str(chart), "-n", NAMESPACE, *values] for v in HELM}
    stream = subprocess.run(cmd[3], env=env, check=True, capture_output=True).stdout
    out: dict[str, Any] = {"stream_bytes": len(stream)}
    renderer_args = [CLUSTERS.split("=", 1)[1], *post_args]
    for fmt in ("yaml", "json"):  # the first run of each writes its bytecode
        subprocess.run(
            [RENDERER, *renderer_args, f"--format={fmt}"], env=env, capture_output=True, input=stream
        )
        subprocess.run([*FLOOR, f"--format={fmt}"], env=env, capture_output=True, input=stream)
        mine = cpu_median([RENDERER, *renderer_args, f"--format={fmt}"], env, runs, stream)
        floor = cpu_median([*FLOOR, f"--format={fmt}"], env, runs, stream)
        out[f"post_renderer_{fmt}_cpu_s"] = round(mine, 3)
        out[f"floor_{fmt}_cpu_s"] = round(floor, 3)
        out[f"post_renderer_over_floor_{fmt}"] = _ratio(mine, floor)
    h3 = cpu_median(cmd[3], env, runs)
    h3_post = cpu_median([*cmd[3], "--post-renderer", RENDERER, CLUSTERS, *post], env, runs)
    h4 = cpu_median(cmd[4], env, runs)
    h4_cat = cpu_median([*cmd[4], "--post-renderer", "catpr"], env, runs)
    h4_post = cpu_median([*cmd[4], "--post-renderer", "kubefed", CLUSTERS, *post], env, runs)
    out.update(
        helm3_template_cpu_s=round(h3, 3),
        helm3_with_post_renderer_cpu_s=round(h3_post, 3),
        helm3_with_post_renderer_over_template=_ratio(h3_post, h3),
        helm4_template_cpu_s=round(h4, 3),
        helm4_with_cat_cpu_s=round(h4_cat, 3),
        helm4_with_post_renderer_cpu_s=round(h4_post, 3),
        helm4_cat_over_template=_ratio(h4_cat, h4),
        helm4_with_post_renderer_over_cat=_ratio(h4_post, h4_cat),
        helm4_with_post_renderer_over_template=_ratio(h4_post, h4),
    )
    return out


def bench_charts(work: Path, env: dict[str, str], runs: int, only: list[str]) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests import charts
    from tests.e2e.test_real_charts import CASES

    per_chart: dict[str, Any] = {}
    for name, case in CASES.items():
        if only and name not in only:
            continue
        chart = charts.CHARTS[name].assemble(work)
        per_chart[name] = bench_chart(chart, list(case.values), list(case.post_args), env, runs)
        print(f"bench_helm: {name}: {json.dumps(per_chart[name])}", file=sys.stderr)
    keys = [
        "post_renderer_over_floor_yaml",
        "post_renderer_over_floor_json",
        "helm3_with_post_renderer_over_template",
        "helm4_with_post_renderer_over_cat",
        "helm4_cat_over_template",
        "helm4_with_post_renderer_over_template",
    ]
    largest = max(per_chart, key=lambda n: per_chart[n]["stream_bytes"])
    summary: dict[str, Any] = {
        f"{k}_median": statistics.median(c[k] for c in per_chart.values()) for k in keys
    }
    summary["largest"] = {"chart": largest, **{k: per_chart[largest][k] for k in keys}}
    summary["targets"] = {"post_renderer_over_floor": 1.3, "helm3_with_post_renderer_over_template": 1.5}
    return {"goal5": summary, "charts": per_chart}


def bench_synthetic(work: Path, env: dict[str, str], objects: int) -> dict[str, Any]:
    chart = make_chart(work, objects)
    figures: dict[str, Any] = {"objects": objects}
    for version, exe in HELM.items():
        renderer = "kubefed" if version == 4 else RENDERER
        base = [str(exe), "template", "big", str(chart)]
        plain = best_of(base, env)
        post = best_of([*base, "--post-renderer", renderer, "--post-renderer-args=--clusters=a,b"], env)
        figures[f"helm{version}_template_s"] = round(plain, 3)
        figures[f"helm{version}_template_with_post_renderer_s"] = round(post, 3)
        figures[f"helm{version}_post_renderer_added_share"] = round((post - plain) / plain, 3)
        fast = best_of(
            [
                *base,
                "--post-renderer",
                renderer,
                "--post-renderer-args=--clusters=a,b",
                "--post-renderer-args=--format=json",
            ],
            env,
        )
        figures[f"helm{version}_with_post_renderer_json_output_s"] = round(fast, 3)
        figures[f"helm{version}_post_renderer_json_added_share"] = round((fast - plain) / plain, 3)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--chart", action="append", default=[], help="only this real chart (repeatable)")
    parser.add_argument("--no-charts", action="store_true", help="skip the real charts")
    parser.add_argument("--synthetic", type=int, default=0, metavar="N", help="also the N-object chart")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="helm-postrender-bench-"))
    env = helm_env(work)
    figures: dict[str, Any] = {"runs": args.runs, "load": os.getloadavg()[0]}
    if not args.no_charts:
        figures.update(bench_charts(work, env, args.runs, args.chart))
    if args.synthetic:
        figures["synthetic"] = bench_synthetic(work, env, args.synthetic)
    figures["load_end"] = os.getloadavg()[0]
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
