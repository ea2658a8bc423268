"""Controller metrics in Prometheus' text format, without a client library.

Counters and histograms are updated by the controllers; gauges are read at scrape time
from callbacks (queue depth, member request counts).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


def _fmt_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels
    )
    return "{" + inner + "}"


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


GaugeSource = Callable[[], Iterable[tuple[Labels, float]]]


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, dict[Labels, float]] = {}
        self._histograms: dict[str, dict[Labels, _Histogram]] = {}
        self._gauges: dict[str, GaugeSource] = {}
        self._help: dict[str, tuple[str, str]] = {}

    def describe(self, name: str, kind: str, text: str) -> None:
        self._help[name] = (kind, text)

    def inc(self, name: str, labels: Labels = (), value: float = 1.0) -> None:
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[labels] = series.get(labels, 0.0) + value

    def observe(self, name: str, value: float, labels: Labels = ()) -> None:
        with self._lock:
            series = self._histograms.setdefault(name, {})
            series.setdefault(labels, _Histogram(LATENCY_BUCKETS)).observe(value)

    def gauge(self, name: str, source: GaugeSource) -> None:
        self._gauges[name] = source

    def render(self) -> str:
        lines: list[str] = []

        def head(name: str, default_kind: str) -> None:
            kind, text = self._help.get(name, (default_kind, name))
            lines.append(f"# HELP {name} {text}")
            lines.append(f"# TYPE {name} {kind}")

        with self._lock:
            counters = {n: dict(s) for n, s in self._counters.items()}
            histograms = {
                n: {
                    k: (list(h.counts) or [0] * len(h.buckets), h.total, h.n, h.buckets) for k, h in s.items()
                }
                for n, s in self._histograms.items()
            }
        for name, series in sorted(counters.items()):
            head(name, "counter")
            for labels, value in sorted(series.items()):
                lines.append(f"{name}{_fmt_labels(labels)} {value:g}")
        for name, source in sorted(self._gauges.items()):
            head(name, "gauge")
            for labels, value in sorted(source()):
                lines.append(f"{name}{_fmt_labels(labels)} {value:g}")
        for name, hseries in sorted(histograms.items()):
            head(name, "histogram")
            for labels, (counts, total, n, buckets) in sorted(hseries.items()):
                for bound, count in zip(buckets, counts, strict=True):
                    lines.append(f"{name}_bucket{_fmt_labels((*labels, ('le', f'{bound:g}')))} {count}")
                lines.append(f"{name}_bucket{_fmt_labels((*labels, ('le', '+Inf')))} {n}")
                lines.append(f"{name}_sum{_fmt_labels(labels)} {total:g}")
                lines.append(f"{name}_count{_fmt_labels(labels)} {n}")
        return "\n".join(lines) + "\n"
