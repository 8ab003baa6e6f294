"""Prometheus metrics. Names follow ``strata_<component>_<what>_<unit>``; the registry is passed in."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Buckets tuned for in-datacentre services whose budget is a few milliseconds.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


#: methods counted under their own name; anything else is counted as "other" (metric series stay bounded)
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in _KNOWN_METHODS else "other"


def metric_name(component: str, what: str) -> str:
    return f"strata_{component}_{what}"


@dataclass(frozen=True)
class HttpMetrics:
    """Request metrics every service exports; alert rules in ``monitoring/`` rely on these names."""

    requests: Counter
    latency: Histogram
    ready: Gauge
    shed: Counter

    @classmethod
    def create(cls, component: str, registry: CollectorRegistry) -> HttpMetrics:
        return cls(
            requests=Counter(
                metric_name(component, "http_requests_total"),
                "HTTP requests by endpoint and status code.",
                ["endpoint", "method", "status"],
                registry=registry,
            ),
            latency=Histogram(
                metric_name(component, "http_request_duration_seconds"),
                "HTTP request latency by endpoint.",
                ["endpoint"],
                buckets=LATENCY_BUCKETS,
                registry=registry,
            ),
            ready=Gauge(
                metric_name(component, "ready"),
                "1 when the service reports ready, else 0.",
                registry=registry,
                multiprocess_mode="livemax",
            ),
            shed=Counter(
                metric_name(component, "http_shed_total"),
                "Requests answered 503 at once because they waited too long for a worker thread.",
                ["endpoint"],
                registry=registry,
            ),
        )
