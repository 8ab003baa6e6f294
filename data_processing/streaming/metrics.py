"""Freshness and lag of a streaming worker, exported on its own /metrics (kernel service app, tiny server)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from data_processing.settings import COMPONENT
from strata_kernel.metrics import LATENCY_BUCKETS, metric_name
from strata_kernel.service import ReadinessCheck, create_service_app


@dataclass(frozen=True)
class StreamMetrics:
    feature_age: Gauge
    lag_seconds: Gauge
    events: Counter
    batch_seconds: Histogram
    outbox_rows: Gauge
    offline_failures: Counter
    assigned_partitions: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> StreamMetrics:
        def name(what: str) -> str:
            return metric_name(COMPONENT, what)

        return cls(
            feature_age=Gauge(name("feature_age_seconds"), "Seconds since the newest feature_time of a group "
                              "(streaming: the newest event time applied).", ["group"], registry=registry),
            lag_seconds=Gauge(name("stream_lag_seconds"), "Seconds the worker is behind a topic: now minus the "
                              "event time of the last event it applied (0 when caught up).", ["topic"],
                              registry=registry),
            events=Counter(name("stream_events_total"), "Events consumed by outcome (applied, unchanged, invalid).",
                           ["topic", "outcome"], registry=registry),
            batch_seconds=Histogram(name("stream_batch_seconds"), "Time to apply, persist and publish one batch.",
                                    buckets=LATENCY_BUCKETS, registry=registry),
            outbox_rows=Gauge(name("stream_outbox_rows"), "Feature rows readable online, not yet in the lake.",
                              registry=registry),
            offline_failures=Counter(name("stream_offline_flush_failures_total"), "Failed appends to the lake "
                                     "(rows stay in the outbox and are retried).", registry=registry),
            assigned_partitions=Gauge(name("stream_assigned_partitions"), "Partitions of a topic this worker reads "
                                      "(Kafka: given by its group, 0 while the group rebalances; local log: 1).",
                                      ["topic"], registry=registry),
        )  # fmt: skip

    def track_age(self, group: str, newest: Callable[[], datetime | None], now: Callable[[], datetime]) -> None:
        def age() -> float:
            value = newest()
            return (now() - value).total_seconds() if value is not None else math.nan

        self.feature_age.labels(group).set_function(age)


class MetricsServer:
    """/healthz, /readyz, /metrics of the worker (strata_kernel.service app) on a background thread."""

    def __init__(self, registry: CollectorRegistry, ready: ReadinessCheck, host: str, port: int) -> None:
        from werkzeug.serving import make_server

        app = create_service_app(COMPONENT, title="Strata data_processing stream worker", registry=registry,
                                 readiness_checks=[ready])  # fmt: skip
        self._server: Any = make_server(host, port, app, threaded=True)
        self.port = int(self._server.server_port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="stream-metrics", daemon=True)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
