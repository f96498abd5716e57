"""Prometheus metrics, one registry per app (no process globals, so tests stay apart)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tabship.monitoring.live import LiveDrift

# Microsecond-scale serving: the default buckets start at 5 ms and would hide everything.
_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class Metrics:
    """The service's Prometheus metrics, in a registry of its own (tests stay apart)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tabship_http_requests",
            "HTTP requests by route template and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tabship_http_request_duration_seconds",
            "Time in the app per request.",
            ["route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter(
            "tabship_predictions",
            "Rows scored, per model, version and alias (shadow scores included).",
            ["model", "version", "alias"],
            registry=self.registry,
        )
        self.prediction_latency = Histogram(
            "tabship_prediction_duration_seconds",
            "Lookup plus scoring time per prediction request.",
            ["model", "version"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "tabship_prediction_errors",
            "Prediction requests refused, per model and error code.",
            ["model", "code"],
            registry=self.registry,
        )
        self.unseen = Counter(
            "tabship_unseen_levels",
            "Text inputs scored with a level the model never saw, per model and input.",
            ["model", "input"],
            registry=self.registry,
        )
        self.loaded = Gauge(
            "tabship_model_versions_loaded",
            "Versions loaded per model.",
            ["model"],
            registry=self.registry,
        )
        self.swaps = Counter(
            "tabship_model_swaps",
            "Alias changes applied, and versions refused at load.",
            ["model", "outcome"],
            registry=self.registry,
        )

        # Label lookups cost microseconds each; the request path reuses the children.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def http(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count and time a request by route template, method and status."""
        self._child(self.requests, route, method, str(status)).inc()
        self._child(self.latency, route).observe(seconds)

    def http_count(self, route: str, method: str, status: int) -> None:
        """Count a request without timing it (predictions have their own histogram)."""
        self._child(self.requests, route, method, str(status)).inc()

    def prediction(self, model: str, version: str, alias: str) -> None:
        """Count a scored row."""
        self._child(self.predictions, model, version, alias).inc()

    def prediction_time(self, model: str, version: str, seconds: float) -> None:
        """Time a prediction request."""
        self._child(self.prediction_latency, model, version).observe(seconds)

    def watch_drift(self, live: LiveDrift) -> None:
        """Export live drift: PSI per loaded version and watched input, read at scrape."""
        self.registry.register(DriftCollector(live))

    def render(self) -> bytes:
        """The metrics in Prometheus' text format."""
        return generate_latest(self.registry)


class DriftCollector(Collector):
    """PSI of each loaded version's last predictions against its training profile.

    Labels are bounded: loaded versions times the inputs each watches (the most important,
    as declared by ``monitoring.live_inputs``) plus the score.
    """

    def __init__(self, live: LiveDrift) -> None:
        self.live = live

    def collect(self) -> Iterator[Metric]:
        """The gauges as of now."""
        psi = GaugeMetricFamily(
            "tabship_drift_psi",
            "PSI of the version's last predictions against its training profile, per input "
            "(input=score: the model's output).",
            labels=["model", "version", "input"],
        )
        rows = GaugeMetricFamily(
            "tabship_drift_window_rows",
            "Predictions in the live drift window, per version.",
            labels=["model", "version"],
        )
        seen: set[tuple[str, str]] = set()
        for r in self.live.readings():
            psi.add_metric([r.model, r.version, r.input], r.psi)
            if (r.model, r.version) not in seen:
                seen.add((r.model, r.version))
                rows.add_metric([r.model, r.version], r.rows)
        yield psi
        yield rows
