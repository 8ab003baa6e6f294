"""MetricsHistory port over HTTP: Prometheus's query API, relayed unchanged (status and body)."""

from __future__ import annotations

from ui.adapters.relay import ServiceRelay
from ui.domain.reply import Reply
from ui.ports import MetricsHistory


class HttpMetricsHistory(ServiceRelay, MetricsHistory):
    service = "prometheus"

    def query_range(self, query: str, start: float, end: float, step: float) -> Reply:
        params = {"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
        return self._relay("GET", "/api/v1/query_range", params=params)

    def alerts(self) -> Reply:
        return self._relay("GET", "/api/v1/alerts")
