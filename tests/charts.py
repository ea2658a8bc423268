"""Popular public Helm charts for the real-chart tests, fetched at run time.

The charts live in Go modules (their projects' Git repositories, served by the Go module
proxy), pinned in ``hack/charts.txt`` and downloaded with ``go mod download -json`` into the
Go module cache, as the Go oracles are; ``hack/testbin.sh charts`` fetches them ahead. Nothing
of them is committed (all are Apache-2.0).

A chart whose dependencies sit in another registry (Bitnami's ``common`` in an OCI registry,
kube-prometheus-stack's ``grafana``) is assembled in a temporary copy: each dependency that
exists in the same pinned repositories is copied into its ``charts/``; the adjustments for
the rest are listed on each chart below (``Chart.adjust``) and nothing else is changed.

``python -m tests.charts`` downloads them all (what ``hack/testbin.sh charts`` runs).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINS = ROOT / "hack" / "charts.txt"

CERT_MANAGER = "github.com/cert-manager/cert-manager"
PROMETHEUS = "github.com/prometheus-community/helm-charts"
BITNAMI = "github.com/bitnami/charts"
METRICS_SERVER = "sigs.k8s.io/metrics-server"
EXTERNAL_DNS = "sigs.k8s.io/external-dns"


class ChartsUnavailable(Exception):
    """Go is missing or a module cannot be downloaded."""


def pins() -> dict[str, str]:
    """Module path -> pinned version, from hack/charts.txt."""
    out: dict[str, str] = {}
    for line in PINS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            module, _, version = line.partition("@")
            out[module] = version
    return out


@functools.cache
def module_dir(module: str) -> Path:
    """The unpacked (read-only) tree of a pinned module in the Go module cache."""
    if shutil.which("go") is None:
        raise ChartsUnavailable("the Go toolchain is needed to fetch the public charts (go not on PATH)")
    spec = f"{module}@{pins()[module]}"
    try:
        res = subprocess.run(
            ["go", "mod", "download", "-json", spec],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT / "hack",  # outside any Go module
            env={**os.environ, "GOFLAGS": "-mod=mod"},
        )
    except subprocess.TimeoutExpired:
        raise ChartsUnavailable(f"go mod download {spec} timed out") from None
    try:
        info = json.loads(res.stdout)
    except json.JSONDecodeError:
        raise ChartsUnavailable(f"go mod download {spec} failed: {res.stderr.strip()}") from None
    if info.get("Error") or not info.get("Dir"):
        raise ChartsUnavailable(f"go mod download {spec} failed: {info.get('Error') or res.stderr.strip()}")
    return Path(info["Dir"])


def _copy(src: Path, dest: Path) -> None:
    """A writable copy (the module cache is read-only)."""
    shutil.copytree(src, dest, copy_function=shutil.copyfile)
    for dirpath, _, _ in os.walk(dest):
        os.chmod(dirpath, 0o755)


@dataclass(frozen=True)
class Chart:
    name: str
    module: str
    path: str  # the chart's directory inside the module
    deps: tuple[tuple[str, str], ...] = ()  # (module, path) copied into charts/
    adjust: Callable[[Path], None] | None = None  # what else the copy needs (documented there)

    def source(self) -> Path:
        return module_dir(self.module) / self.path

    def assemble(self, workdir: Path) -> Path:
        """A copy of the chart with its dependencies in ``charts/``, under ``workdir``."""
        dest = workdir / self.name
        if dest.exists():
            return dest
        tmp = workdir / f".{self.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        _copy(self.source(), tmp)
        for module, path in self.deps:
            _copy(module_dir(module) / path, tmp / "charts" / Path(path).name)
        if self.adjust is not None:
            self.adjust(tmp)
        tmp.rename(dest)
        return dest


def _cert_manager(chart: Path) -> None:
    """cert-manager keeps a Chart.template.yaml and its CRDs in deploy/crds; its release
    tooling (make/manifests.mk) writes Chart.yaml with the release's version and
    concatenates the CRDs into templates/crds.yaml (hack/concat-yaml.sh). Done the same way."""
    import yaml

    meta = yaml.safe_load((chart / "Chart.template.yaml").read_text())
    version = pins()[CERT_MANAGER]
    meta["version"] = meta["appVersion"] = version
    meta.setdefault("annotations", {})["artifacthub.io/prerelease"] = "false"
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    crds = sorted((module_dir(CERT_MANAGER) / "deploy" / "crds").glob("*.yaml"))
    (chart / "templates" / "crds.yaml").write_text("\n---\n".join(p.read_text() for p in crds))


def _drop_grafana(chart: Path) -> None:
    """kube-prometheus-stack depends on grafana from grafana-community's own repository,
    which the Go module proxy does not serve: its entry is removed from the copy's
    Chart.yaml (the tests also set grafana.enabled=false, so it would render nothing)."""
    import yaml

    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta["dependencies"] = [d for d in meta["dependencies"] if d["name"] != "grafana"]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))


_COMMON = ((BITNAMI, "bitnami/common"),)
CHARTS: dict[str, Chart] = {
    c.name: c
    for c in (
        Chart("cert-manager", CERT_MANAGER, "deploy/charts/cert-manager", adjust=_cert_manager),
        Chart("kube-state-metrics", PROMETHEUS, "charts/kube-state-metrics"),
        Chart("prometheus-node-exporter", PROMETHEUS, "charts/prometheus-node-exporter"),
        Chart(
            "kube-prometheus-stack",
            PROMETHEUS,
            "charts/kube-prometheus-stack",
            deps=(
                (PROMETHEUS, "charts/kube-state-metrics"),
                (PROMETHEUS, "charts/prometheus-node-exporter"),
                (PROMETHEUS, "charts/prometheus-windows-exporter"),
            ),
            adjust=_drop_grafana,
        ),
        Chart("redis", BITNAMI, "bitnami/redis", deps=_COMMON),
        Chart("postgresql", BITNAMI, "bitnami/postgresql", deps=_COMMON),
        Chart("nginx", BITNAMI, "bitnami/nginx", deps=_COMMON),
        Chart("metrics-server", METRICS_SERVER, "charts/metrics-server"),
        Chart("external-dns", EXTERNAL_DNS, "charts/external-dns"),
    )
}


def main() -> None:
    """Download every pinned module (``hack/testbin.sh charts``)."""
    try:
        for module in pins():
            print(f"charts: {module} in {module_dir(module)}", file=sys.stderr)
    except ChartsUnavailable as err:
        print(f"charts: {err}", file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
