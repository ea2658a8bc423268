"""``helm template`` of a 500-object chart with and without the post-renderer, Helm 4 and 3.

Prints one JSON object; the figure of interest is the post-renderer's added share of
``helm template``'s wall time (target: under 25%). Needs .testbin/bin/helm and helm3.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELM = {4: ROOT / ".testbin/bin/helm", 3: ROOT / ".testbin/bin/helm3"}
BIN = Path(sys.executable).parent


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


def best_of(args: list[str], env: dict[str, str], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    objects = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    work = Path(tempfile.mkdtemp(prefix="kubefed-bench-helm-"))
    chart = make_chart(work, objects)
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "HELM_DATA_HOME": str(work / "data"),
        "HELM_CONFIG_HOME": str(work / "config"),
        "HELM_CACHE_HOME": str(work / "cache"),
    }
    subprocess.run([str(HELM[4]), "plugin", "install", str(ROOT)], env=env, check=True, capture_output=True)
    figures: dict[str, object] = {"objects": objects}
    for version, exe in HELM.items():
        renderer = "kubefed" if version == 4 else str(BIN / "kubefed-post-renderer")
        plain = best_of([str(exe), "template", "big", str(chart)], env)
        post = best_of(
            [
                str(exe),
                "template",
                "big",
                str(chart),
                "--post-renderer",
                renderer,
                "--post-renderer-args=--clusters=a,b",
            ],
            env,
        )
        figures[f"helm{version}_template_s"] = round(plain, 3)
        figures[f"helm{version}_template_with_post_renderer_s"] = round(post, 3)
        figures[f"helm{version}_post_renderer_added_share"] = round((post - plain) / plain, 3)
        fast = best_of(
            [
                str(exe),
                "template",
                "big",
                str(chart),
                "--post-renderer",
                renderer,
                "--post-renderer-args=--clusters=a,b",
                "--post-renderer-args=--format=json",
            ],
            env,
        )
        figures[f"helm{version}_with_post_renderer_json_output_s"] = round(fast, 3)
        figures[f"helm{version}_post_renderer_json_added_share"] = round((fast - plain) / plain, 3)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
