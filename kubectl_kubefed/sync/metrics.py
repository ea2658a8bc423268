"""Controller metrics, exposed through ``prometheus_client`` (its text format and types).

Counters and histograms are updated by the controllers; callback metrics (queue depth,
member request counts, leadership) are read at scrape time. Every metric has a HELP text
(``HELP`` below, or ``describe``) and its Prometheus type: a ``_total`` name is a counter.
Values are printed by prometheus_client, so a count past a million stays exact.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported when first scraped: the simulator never pays for it (~0.1 s)
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric

Labels = tuple[tuple[str, str], ...]
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"  # prometheus_client's CONTENT_TYPE_PLAIN_0_0_4

# The metrics of the controller and their HELP text (docs/controller.md lists them).
HELP: dict[str, str] = {
    "kubefed_reconciles_total": "Reconciles by type and outcome.",
    "kubefed_reconcile_duration_seconds": "Time one reconcile took, by type.",
    "kubefed_queue_depth": "Keys waiting in the work queue, by type.",
    "kubefed_member_requests_total": "API requests sent to a member cluster, by cluster and verb.",
    "kubefed_propagation_latency_seconds": "From a federated object's new generation to a member write.",
    "kubefed_leader": "Whether this replica leads (holds the lease): 1 or 0.",
}


@dataclass
class _Histogram:
    buckets: tuple[float, ...]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    n: int = 0

    def observe(self, value: float) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
        self.total += value
        self.n += 1


Source = Callable[[], Iterable[tuple[Labels, float]]]
GaugeSource = Source


def _label_names(series: Iterable[Labels]) -> list[str]:
    names: list[str] = []
    for labels in series:
        for key, _ in labels:
            if key not in names:
                names.append(key)
    return names


def _values(labels: Labels, names: list[str]) -> list[str]:
    given = dict(labels)
    return [given.get(n, "") for n in names]


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return self.metrics.collect()


class Metrics:
    """The controller's metrics; ``render`` is the body of ``/metrics``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}
        self._gauges: dict[str, Source] = {}
        self._counter_sources: dict[str, Source] = {}
        self._help: dict[str, str] = dict(HELP)
        self._registry: CollectorRegistry | None = None

    def describe(self, name: str, kind: str = "", text: str = "") -> None:
        """Set the HELP text of a metric (its type follows from how it is recorded)."""
        if text:
            self._help[name] = text

    def inc(self, name: str, labels: Labels = (), value: float = 1.0) -> None:
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[labels] = series.get(labels, 0.0) + value

    def observe(self, name: str, value: float, labels: Labels = ()) -> None:
        with self._lock:
            series = self._histograms.setdefault(name, {})
            series.setdefault(labels, _Histogram(LATENCY_BUCKETS)).observe(value)

    def gauge(self, name: str, source: Source) -> None:
        """A gauge read from ``source`` at scrape time; a ``_total`` name is a counter."""
        if name.endswith("_total"):
            self._counter_sources[name] = source
        else:
            self._gauges[name] = source

    def counter(self, name: str, source: Source) -> None:
        """A counter read from ``source`` (monotonic values kept elsewhere) at scrape time."""
        self._counter_sources[name] = source

    def _text(self, name: str) -> str:
        return self._help.get(name, name.replace("_", " "))

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.metrics_core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        with self._lock:
            counters = {n: dict(s) for n, s in self._counters.items()}
            histograms = {
                n: {
                    k: (list(h.counts) or [0] * len(h.buckets), h.total, h.n, h.buckets)
                    for k, h in hs.items()
                }
                for n, hs in self._histograms.items()
            }
        for name, source in self._counter_sources.items():
            counters[name] = {**counters.get(name, {}), **dict(source())}
        for name, series in sorted(counters.items()):
            names = _label_names(series)
            family = CounterMetricFamily(name, self._text(name), labels=names)
            for labels, value in sorted(series.items()):
                family.add_metric(_values(labels, names), value)
            yield family
        for name, gauge_source in sorted(self._gauges.items()):
            points = sorted(gauge_source())
            names = _label_names(labels for labels, _ in points)
            gauge = GaugeMetricFamily(name, self._text(name), labels=names)
            for labels, value in points:
                gauge.add_metric(_values(labels, names), value)
            yield gauge
        for name, hseries in sorted(histograms.items()):
            names = _label_names(hseries)
            hist = HistogramMetricFamily(name, self._text(name), labels=names)
            for labels, (counts, total, n, buckets) in sorted(hseries.items()):
                cumulative = [(_bound(b), float(c)) for b, c in zip(buckets, counts, strict=True)]
                hist.add_metric(_values(labels, names), [*cumulative, ("+Inf", float(n))], total)
            yield hist

    def render(self) -> str:
        from prometheus_client import CollectorRegistry, generate_latest

        if self._registry is None:
            self._registry = CollectorRegistry(auto_describe=False)
            self._registry.register(_Collector(self))  # duck-typed: a collect() method
        return generate_latest(self._registry).decode()


def _bound(value: float) -> str:
    return repr(float(value))
