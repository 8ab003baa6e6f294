"""Export probe outcomes as Prometheus metrics on the sidecar's own /metrics."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Gauge

from monitoring.domain.probes import ProbeResult
from monitoring.ports import ProbeRecorder


class PrometheusProbeRecorder(ProbeRecorder):
    """Gauges labelled ``{component, probe}``; the alert rules in monitoring/prometheus/rules read them."""

    def __init__(self, component: str, registry: CollectorRegistry) -> None:
        self._component = component
        labels = ["component", "probe"]
        self._success = Gauge(
            "strata_sidecar_probe_success", "1 if the last probe got HTTP 200, else 0.", labels, registry=registry
        )
        self._duration = Gauge(
            "strata_sidecar_probe_duration_seconds", "How long the last probe took.", labels, registry=registry
        )
        self._last_run = Gauge(
            "strata_sidecar_probe_last_run_timestamp_seconds",
            "Unix time of the last probe (a stuck probe loop shows as an old timestamp).",
            labels,
            registry=registry,
        )

    def record(self, result: ProbeResult) -> None:
        labels = (self._component, result.probe.value)
        self._success.labels(*labels).set(1 if result.success else 0)
        self._duration.labels(*labels).set(result.duration_seconds)
        self._last_run.labels(*labels).set(time.time())
