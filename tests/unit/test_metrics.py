"""/metrics: Prometheus' text format as prometheus_client writes and parses it."""

from __future__ import annotations

import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

from kubectl_kubefed.sync.metrics import HELP, Metrics
from tests.conftest import ROOT


def _metrics() -> Metrics:
    m = Metrics()
    m.inc("kubefed_reconciles_total", (("type", "deployments.apps"), ("outcome", "ok")), 1234567)
    m.inc("kubefed_reconciles_total", (("type", "deployments.apps"), ("outcome", "ok")))
    m.observe("kubefed_reconcile_duration_seconds", 0.3, (("type", "deployments.apps"),))
    m.observe("kubefed_propagation_latency_seconds", 2.5, (("type", "deployments.apps"),))
    m.gauge(
        "kubefed_member_requests_total",
        lambda: [((("cluster", "member1"), ("verb", "get")), 123456789.0)],
    )
    m.gauge("kubefed_leader", lambda: [((), 1.0)])
    m.gauge("kubefed_queue_depth", lambda: [((("type", "deployments.apps"),), 3.0)])
    return m


def test_exposition_parses_and_types_are_right() -> None:
    families = {f.name: f for f in text_string_to_metric_families(_metrics().render())}
    # prometheus_client's parser names a counter without its _total suffix
    assert families["kubefed_reconciles"].type == "counter"
    assert families["kubefed_member_requests"].type == "counter"  # was exported as a gauge
    assert families["kubefed_leader"].type == "gauge"
    assert families["kubefed_queue_depth"].type == "gauge"
    assert families["kubefed_reconcile_duration_seconds"].type == "histogram"
    assert families["kubefed_propagation_latency_seconds"].type == "histogram"


def test_every_metric_has_help() -> None:
    text = _metrics().render()
    for family in text_string_to_metric_families(text):
        assert family.documentation and family.documentation != family.name, family.name
    assert "# HELP kubefed_reconcile_duration_seconds Time one reconcile took" in text  # was missing


def test_large_values_are_exact() -> None:
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(_metrics().render())
        for s in f.samples
    }
    assert samples[("kubefed_reconciles_total", (("outcome", "ok"), ("type", "deployments.apps")))] == 1234568
    assert samples[("kubefed_member_requests_total", (("cluster", "member1"), ("verb", "get")))] == 123456789
    assert "1.23457e+06" not in _metrics().render()


def test_names_stay_stable_and_are_documented() -> None:
    text = _metrics().render()
    docs = (ROOT / "docs/controller.md").read_text()
    for name in HELP:
        assert f"# TYPE {name} " in text, name
        assert f"`{name}" in docs, name


def test_histogram_buckets_are_cumulative() -> None:
    m = Metrics()
    for value in (0.005, 0.3, 100.0):
        m.observe("kubefed_reconcile_duration_seconds", value)
    family = next(
        f
        for f in text_string_to_metric_families(m.render())
        if f.name == "kubefed_reconcile_duration_seconds"
    )
    buckets = {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}
    assert buckets["0.01"] == 1 and buckets["0.5"] == 2 and buckets["+Inf"] == 3
    assert next(s.value for s in family.samples if s.name.endswith("_count")) == 3


def test_prometheus_client_is_imported_only_to_render() -> None:
    """The simulator records metrics but never scrapes them: it does not pay the import."""
    code = (
        "import sys\n"
        "from kubectl_kubefed.sync.metrics import Metrics\n"
        "m = Metrics(); m.inc('kubefed_reconciles_total'); m.observe('kubefed_reconcile_duration_seconds', 1.0)\n"
        "assert 'prometheus_client' not in sys.modules\n"
        "m.render()\n"
        "assert 'prometheus_client' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
