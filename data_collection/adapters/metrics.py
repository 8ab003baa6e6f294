"""Prometheus view of the collector: ``strata_data_collection_events_total{topic,outcome}`` and friends."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge

from data_collection.domain.status import BatchResult
from data_collection.ports import BatchObserver
from strata_kernel.metrics import metric_name

COMPONENT = "data_collection"


class PrometheusBatchObserver(BatchObserver):
    def __init__(self, registry: CollectorRegistry) -> None:
        self._events = Counter(
            metric_name(COMPONENT, "events_total"),
            "Events handled by the collector, by topic and outcome: collected (rows appended to the raw table; an "
            "event delivered again in a later batch counts again), quarantined, duplicate (a copy within one batch).",
            ["topic", "outcome"],
            registry=registry,
        )
        self._failures = Counter(
            metric_name(COMPONENT, "failed_batches_total"),
            "Batches that could not be landed in the lake (they are delivered again).",
            ["topic"],
            registry=registry,
        )
        self._last_batch = Gauge(
            metric_name(COMPONENT, "last_batch_timestamp_seconds"),
            "Unix time of the last batch landed in the lake.",
            ["topic"],
            registry=registry,
        )

    def record_batch(self, result: BatchResult) -> None:
        self._events.labels(result.topic, "collected").inc(result.collected)
        self._events.labels(result.topic, "quarantined").inc(result.quarantined)
        self._events.labels(result.topic, "duplicate").inc(result.duplicates)
        self._last_batch.labels(result.topic).set(time.time())

    def record_failure(self, topic: str, reason: str) -> None:
        self._failures.labels(topic).inc()
